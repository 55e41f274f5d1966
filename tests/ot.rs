//! Entropic OT: Sinkhorn against the shared POT/HiGHS reference values, the exact solver, and
//! the limit reg -> 0.

mod common;

use mathprog::problems::exact::ot_exact;
use mathprog::problems::io::ot::read_ot;
use mathprog::problems::ot::OtProblem;
use mathprog::solvers::core::{NoObserver, Status};
use mathprog::solvers::ot::{OtSettings, evaluate, sinkhorn, sns};
use proptest::prelude::*;

fn reference() -> serde_json::Value {
    let t = std::fs::read_to_string(common::shared_data("ot/reference.json")).unwrap();
    serde_json::from_str(&t).unwrap()
}

fn settings(reg: f64, tol: f64) -> OtSettings {
    let mut s = OtSettings::default();
    s.reg = reg;
    s.tol = tol;
    s.common.threads = Some(2);
    s
}

#[test]
fn shared_instances_reproduce_the_reference_values() {
    let r = reference();
    for (name, inst) in r["instances"].as_object().unwrap() {
        let p = read_ot(common::shared_data(&format!("ot/{name}"))).unwrap();
        let emd = inst["emd_cost"].as_f64().unwrap();
        let (c, plan) = ot_exact(&p).unwrap();
        assert!(
            (c - emd).abs() <= 1e-12,
            "{name}: exact {c} vs reference {emd}"
        );
        assert!(p.marginal_violation(&plan) <= 1e-12);
        for e in inst["entropic"].as_array().unwrap() {
            let reg = e["reg"].as_f64().unwrap();
            let rep = sinkhorn::solve(&p, &settings(reg, 1e-12), &mut NoObserver).unwrap();
            assert_eq!(rep.status, Status::Converged, "{name} reg {reg}");
            let tc = rep.stats["transport_cost"].as_f64().unwrap();
            let want = e["transport_cost"].as_f64().unwrap();
            assert!(
                (tc - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "{name} reg {reg}: <C,P> {tc} vs {want}"
            );
            let obj = e["objective_pot"].as_f64().unwrap();
            assert!(
                (rep.objective - obj).abs() <= 1e-9 * obj.abs().max(1e-3),
                "{name} reg {reg}: objective {} vs {obj}",
                rep.objective
            );
            assert!(rep.residuals["marginal_l1"] <= 1e-12);
            // Weak duality certificate, tight at the optimum.
            let dual = rep.bound.unwrap();
            assert!(dual <= rep.objective + 1e-12 && rep.objective - dual <= 1e-9);
            // The entropic transport cost is above the exact optimum.
            assert!(tc >= emd - 1e-12);
            // SNS reaches the same solution.
            let rs = sns::solve(&p, &settings(reg, 1e-12), &mut NoObserver).unwrap();
            assert_eq!(rs.status, Status::Converged, "sns {name} reg {reg}");
            let tcs = rs.stats["transport_cost"].as_f64().unwrap();
            assert!(
                (tcs - want).abs() <= 1e-9 * want.abs().max(1e-3),
                "sns {name} reg {reg}: {tcs} vs {want}"
            );
            assert!((rs.objective - obj).abs() <= 1e-9 * obj.abs().max(1e-3));
            assert!(rs.residuals["marginal_l1"] <= 1e-12);
        }
    }
}

/// Random small problems: positive weights (some rows zero), costs in [0, 1].
fn arb_problem() -> impl Strategy<Value = OtProblem> {
    (1usize..=7, 1usize..=7).prop_flat_map(|(n, m)| {
        (
            proptest::collection::vec(0.0f64..1.0, n),
            proptest::collection::vec(0.05f64..1.0, m),
            proptest::collection::vec(0.0f64..1.0, n * m),
        )
            .prop_filter_map("positive mass", move |(a, b, c)| {
                let sa: f64 = a.iter().sum();
                if sa < 1e-3 {
                    return None;
                }
                let sb: f64 = b.iter().sum();
                let a = a.iter().map(|x| x / sa).collect();
                let b = b.iter().map(|x| x / sb).collect();
                OtProblem::new(a, b, c).ok()
            })
    })
}

proptest! {
    #![proptest_config(common::config(64))]

    #[test]
    fn sinkhorn_meets_the_tolerance_and_tends_to_the_exact_cost(p in arb_problem()) {
        let (emd, _) = ot_exact(&p).unwrap();
        let mut last_gap = f64::INFINITY;
        for reg in [1e-1, 1e-2, 1e-3] {
            let rep = sinkhorn::solve(&p, &settings(reg, 1e-10), &mut NoObserver).unwrap();
            prop_assert_eq!(rep.status, Status::Converged);
            let v = evaluate(&p, &rep.solution);
            prop_assert!(v.marginal_violation <= 1e-10);
            prop_assert!(v.transport_cost >= emd - 1e-9);
            // |entropic objective − EMD| ≤ reg · (log(nm) + 1) (entropy bounds), shrinking with reg.
            let n = (p.n() * p.m()) as f64;
            let gap = (v.transport_cost - emd).abs();
            prop_assert!(gap <= reg * (n.ln() + 1.0) + 1e-9, "reg {} gap {}", reg, gap);
            prop_assert!(gap <= last_gap + 1e-9);
            last_gap = gap;
        }
    }
}

proptest! {
    #![proptest_config(common::config(64))]

    #[test]
    fn sns_agrees_with_sinkhorn(p in arb_problem(), reg_exp in 1i32..=3) {
        let reg = 10f64.powi(-reg_exp);
        let a = sinkhorn::solve(&p, &settings(reg, 1e-11), &mut NoObserver).unwrap();
        let b = sns::solve(&p, &settings(reg, 1e-11), &mut NoObserver).unwrap();
        prop_assert_eq!(a.status, Status::Converged);
        prop_assert_eq!(b.status, Status::Converged);
        prop_assert!(b.residuals["marginal_l1"] <= 1e-11);
        // Both are near the unique entropic optimum: objectives agree to the accuracy that a
        // 1e-11 marginal error allows.
        prop_assert!((a.objective - b.objective).abs() <= 1e-8, "{} vs {}", a.objective, b.objective);
        let (ta, tb) = (a.stats["transport_cost"].as_f64().unwrap(), b.stats["transport_cost"].as_f64().unwrap());
        prop_assert!((ta - tb).abs() <= 1e-6, "{} vs {}", ta, tb);
    }
}

#[test]
fn small_reg_does_not_overflow() {
    // Costs up to 1 at reg 1e-4: exp(-C/reg) underflows without absorption.
    let n = 30;
    let xs: Vec<f64> = (0..n).map(|i| i as f64 / n as f64).collect();
    let c: Vec<f64> = (0..n * n)
        .map(|k| (xs[k / n] - xs[(k % n + 7) % n]).powi(2))
        .collect();
    let p = OtProblem::new(vec![1.0 / n as f64; n], vec![1.0 / n as f64; n], c).unwrap();
    let rep = sinkhorn::solve(&p, &settings(1e-4, 1e-9), &mut NoObserver).unwrap();
    assert_eq!(rep.status, Status::Converged);
    assert!(rep.objective.is_finite());
    let (emd, _) = ot_exact(&p).unwrap();
    let tc = rep.stats["transport_cost"].as_f64().unwrap();
    assert!(tc >= emd - 1e-9 && tc - emd < 1e-2, "{tc} vs {emd}");
    let rs = sns::solve(&p, &settings(1e-4, 1e-9), &mut NoObserver).unwrap();
    assert_eq!(rs.status, Status::Converged);
    assert!((rs.stats["transport_cost"].as_f64().unwrap() - tc).abs() < 1e-6);
}
