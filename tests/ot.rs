//! Entropic OT: Sinkhorn against the shared POT/HiGHS reference values, the exact solver, and
//! the limit reg -> 0.

mod common;

use mathprog::problems::exact::ot_exact;
use mathprog::problems::generators;
use mathprog::problems::io::ot::read_ot;
use mathprog::problems::ot::{GridHistogram, GroundCost, OtProblem};
use mathprog::solvers::core::{NoObserver, Status};
use mathprog::solvers::ot::{OtSettings, evaluate, sinkhorn, sns};
use proptest::prelude::*;

/// The reference values and their folder: the committed instance, plus the shared set when it is
/// beside the repository.
fn references() -> Vec<(std::path::PathBuf, serde_json::Value)> {
    let mut dirs = vec![common::suite("ot")];
    dirs.extend(common::shared(
        "ot",
        "two larger POT/HiGHS reference instances",
    ));
    let mut seen = std::collections::BTreeSet::new();
    dirs.into_iter()
        .map(|d| {
            let t = std::fs::read_to_string(d.join("reference.json")).unwrap();
            let mut v: serde_json::Value = serde_json::from_str(&t).unwrap();
            // An instance committed here is not run again from the shared copy.
            let inst = v["instances"].as_object_mut().unwrap();
            inst.retain(|name, _| seen.insert(name.clone()));
            (d, v)
        })
        .collect()
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
    for (dir, r) in references() {
        for (name, inst) in r["instances"].as_object().unwrap() {
            let p = read_ot(dir.join(name)).unwrap();
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
                let tc = rep.stats.transport_cost;
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
                assert!(rep.residuals.marginal_l1 <= 1e-12);
                // Weak duality certificate, tight at the optimum.
                let dual = rep.bound.unwrap();
                assert!(dual <= rep.objective + 1e-12 && rep.objective - dual <= 1e-9);
                // The entropic transport cost is above the exact optimum.
                assert!(tc >= emd - 1e-12);
                // SNS reaches the same solution.
                let rs = sns::solve(&p, &settings(reg, 1e-12), &mut NoObserver).unwrap();
                assert_eq!(rs.status, Status::Converged, "sns {name} reg {reg}");
                let tcs = rs.stats.transport_cost;
                assert!(
                    (tcs - want).abs() <= 1e-9 * want.abs().max(1e-3),
                    "sns {name} reg {reg}: {tcs} vs {want}"
                );
                assert!((rs.objective - obj).abs() <= 1e-9 * obj.abs().max(1e-3));
                assert!(rs.residuals.marginal_l1 <= 1e-12);
            }
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
                OtProblem::from_row_major(a, b, c).ok()
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
        prop_assert!(b.residuals.marginal_l1 <= 1e-11);
        // Both are near the unique entropic optimum: objectives agree to the accuracy that a
        // 1e-11 marginal error allows.
        prop_assert!((a.objective - b.objective).abs() <= 1e-8, "{} vs {}", a.objective, b.objective);
        let (ta, tb) = (a.stats.transport_cost, b.stats.transport_cost);
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
    let p = OtProblem::from_row_major(vec![1.0 / n as f64; n], vec![1.0 / n as f64; n], c).unwrap();
    let rep = sinkhorn::solve(&p, &settings(1e-4, 1e-9), &mut NoObserver).unwrap();
    assert_eq!(rep.status, Status::Converged);
    assert!(rep.objective.is_finite());
    let (emd, _) = ot_exact(&p).unwrap();
    let tc = rep.stats.transport_cost;
    assert!(tc >= emd - 1e-9 && tc - emd < 1e-2, "{tc} vs {emd}");
    let rs = sns::solve(&p, &settings(1e-4, 1e-9), &mut NoObserver).unwrap();
    assert_eq!(rs.status, Status::Converged);
    assert!((rs.stats.transport_cost - tc).abs() < 1e-6);
}

/// `W₁` between two histograms on the same 1-D grid of cell size `h`: `h Σ_k |F_a(k) − F_b(k)|`
/// (the closed form through the cumulative distributions).
fn w1_by_cdf(a: &[f64], b: &[f64], h: f64) -> f64 {
    let (mut fa, mut fb, mut s) = (0.0, 0.0, 0.0);
    for (x, y) in a.iter().zip(b) {
        fa += x;
        fb += y;
        s += (fa - fb).abs();
    }
    h * s
}

fn arb_hist(len: usize) -> impl Strategy<Value = Vec<f64>> {
    proptest::collection::vec(prop_oneof![Just(0.0), 0.01f64..1.0], len).prop_filter_map(
        "not all zero",
        |w| {
            let s: f64 = w.iter().sum();
            (s > 0.0).then(|| w.iter().map(|x| x / s).collect())
        },
    )
}

proptest! {
    #![proptest_config(common::config(48))]

    /// On 1-D grids with |x − y| the exact solver gives the CDF formula exactly and SNS gets
    /// within the entropic bias, which vanishes as reg → 0.
    #[test]
    fn one_d_grids_give_w1_by_the_cdf_formula(
        (a, b) in (2usize..40).prop_flat_map(|len| (arb_hist(len), arb_hist(len)))
    ) {
        let len = a.len();
        let ga = GridHistogram::new(vec![len], a.clone()).unwrap();
        let gb = GridHistogram::new(vec![len], b.clone()).unwrap();
        let want = w1_by_cdf(&a, &b, 1.0 / len as f64);
        let (p, sup) = OtProblem::from_grids(&ga, &gb, GroundCost::Euclidean).unwrap();
        prop_assert_eq!(sup.rows.len(), a.iter().filter(|x| **x > 0.0).count());
        let (emd, _) = ot_exact(&p).unwrap();
        prop_assert!((emd - want).abs() <= 1e-12, "exact {} vs CDF {}", emd, want);
        let (name, w) = GroundCost::Euclidean.wasserstein(emd);
        prop_assert_eq!(name, "W1");
        prop_assert_eq!(w, emd);
        let reg = 1e-4;
        let rep = sns::solve(&p, &settings(reg, 1e-10), &mut NoObserver).unwrap();
        prop_assert_eq!(rep.status, Status::Converged);
        let tc = rep.stats.transport_cost;
        let nm = (p.n() * p.m()) as f64;
        prop_assert!(tc >= want - 1e-9 && tc <= want + reg * (nm.ln() + 1.0), "SNS {} vs CDF {}", tc, want);
    }
}

#[test]
fn two_d_grids_of_different_resolution_match_the_exact_solver() {
    // Two Gaussian mixtures on 6 x 6 and 9 x 9 grids of the unit square: W2² by SNS at
    // decreasing reg approaches the exact (network-flow) value from above.
    let ga = generators::gaussian_mixture_grid(&[6, 6], 2, 11);
    let gb = generators::gaussian_mixture_grid(&[9, 9], 3, 12);
    let (p, sup) = OtProblem::from_grids(&ga, &gb, GroundCost::SqEuclidean).unwrap();
    assert_eq!((p.n(), p.m()), (36, 81));
    assert_eq!(sup.cols[80], 80);
    // Cost between cell (0,0) of the 6-grid and cell (8,8) of the 9-grid.
    let d = 1.0 / 12.0 - 17.0 / 18.0;
    assert!((p.cost_row(0)[80] - 2.0 * d * d).abs() < 1e-15);
    let (emd, _) = ot_exact(&p).unwrap();
    let mut last = f64::INFINITY;
    for reg in [1e-2, 1e-3, 1e-4] {
        let rep = sns::solve(&p, &settings(reg, 1e-10), &mut NoObserver).unwrap();
        assert_eq!(rep.status, Status::Converged);
        let tc = rep.stats.transport_cost;
        assert!(tc >= emd - 1e-9, "reg {reg}: {tc} < exact {emd}");
        assert!(tc - emd <= last, "reg {reg}: gap grew");
        last = tc - emd;
    }
    assert!(last <= 1e-3 * emd, "gap {last} vs W2² {emd}");
    let (_, w2) = GroundCost::SqEuclidean.wasserstein(emd);
    assert!((w2 * w2 - emd).abs() < 1e-15);
}
