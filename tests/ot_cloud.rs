//! The on-the-fly point-cloud OT solver against the dense path (plans, costs, duals), the
//! exactness of its certificate, and its memory at n = 10^5.

use mathprog::prelude::{NoObserver, Status};
use mathprog::problems::ot::GroundCost;
use mathprog::problems::ot::cloud::CloudOt;
use mathprog::solvers::ot::{self, OtMethod, OtSettings, OtSolution, cloud};

fn settings(reg: f64, tol: f64, method: OtMethod) -> OtSettings {
    let mut s = OtSettings::default();
    s.reg = reg;
    s.tol = tol;
    s.method = method;
    s.common.max_iter = Some(100_000);
    s
}

/// The dense plan of potentials (entries with exponent at most −60 are 0, as returned).
fn plan(p: &CloudOt, sol: &OtSolution) -> Vec<f64> {
    let mut out = Vec::with_capacity(p.n() * p.m());
    for i in 0..p.n() {
        for j in 0..p.m() {
            let z = (sol.f[i] + sol.g[j] - p.cost(i, j)) / sol.reg;
            out.push(if z > -60.0 { z.exp() } else { 0.0 });
        }
    }
    out
}

#[test]
fn agrees_with_the_dense_path() {
    let cases = [
        (
            "uniform",
            2,
            GroundCost::SqEuclidean,
            0.01,
            OtMethod::Sns,
            400,
            300,
        ),
        (
            "clustered",
            2,
            GroundCost::SqEuclidean,
            1e-3,
            OtMethod::Sns,
            500,
            500,
        ),
        (
            "uniform",
            3,
            GroundCost::Euclidean,
            0.02,
            OtMethod::Sinkhorn,
            300,
            200,
        ),
        (
            "clustered",
            3,
            GroundCost::Lp(1.0),
            0.02,
            OtMethod::Sns,
            250,
            350,
        ),
        (
            "uniform",
            5,
            GroundCost::SqEuclidean,
            0.05,
            OtMethod::Sns,
            200,
            200,
        ),
        (
            "uniform",
            2,
            GroundCost::SqEuclidean,
            0.01,
            OtMethod::Sns,
            2000,
            2000,
        ),
    ];
    for (seed, (kind, d, ground, reg, method, n, m)) in cases.into_iter().enumerate() {
        let p0 = CloudOt::generate(kind, n, m, d, ground, seed as u64).unwrap();
        let scale = p0.max_cost();
        let p = p0.with_cost_scale(scale).unwrap();
        let dense = p.to_dense().unwrap();
        let s = settings(reg, 1e-9, method);
        let rc = cloud::solve(&p, &s, &mut NoObserver).unwrap();
        let rd = ot::solve(&dense, &s, &mut NoObserver).unwrap();
        let what = format!("{kind} d={d} {ground} reg={reg} {method:?}");
        assert_eq!(rc.status, Status::Converged, "{what}: {:?}", rc.stats);
        assert_eq!(rd.status, Status::Converged, "{what}");
        assert!(rc.residuals.marginal_l1 <= 1e-9, "{what}");
        // The certificate is the dense evaluation of the same potentials.
        let ev = ot::evaluate(&dense, &rc.solution);
        assert!(
            (ev.marginal_violation - rc.residuals.marginal_l1).abs() <= 1e-12,
            "{what}"
        );
        assert!(
            (ev.transport_cost - rc.stats.transport_cost).abs() <= 1e-12,
            "{what}"
        );
        assert!(
            (ev.entropic_objective - rc.objective).abs() <= 1e-12,
            "{what}"
        );
        assert!(rc.stats.dual_value <= ev.dual_value + 1e-13, "{what}");
        assert!(
            (ev.dual_value - rc.stats.dual_value).abs() <= 1e-12,
            "{what}"
        );
        // Same optimum: plans, costs and objectives to the tolerance's order.
        let (pc, pd) = (plan(&p, &rc.solution), plan(&p, &rd.solution));
        let diff = pc
            .iter()
            .zip(&pd)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0, f64::max);
        assert!(diff <= 1e-8, "{what}: max plan difference {diff}");
        assert!(
            (rc.objective - rd.objective).abs() <= 1e-8,
            "{what}: {} vs {}",
            rc.objective,
            rd.objective
        );
        assert!(
            (rc.stats.transport_cost - rd.stats.transport_cost).abs() <= 1e-7,
            "{what}"
        );
        // Primal and dual values meet at the optimum (the plan is feasible only to the
        // tolerance, so weak duality holds to its order).
        assert!((rc.stats.dual_value - rc.objective).abs() <= 1e-8, "{what}");
    }
}

#[test]
fn iteration_limit_is_a_status_and_the_certificate_holds() {
    let p = CloudOt::generate("uniform", 300, 300, 2, GroundCost::SqEuclidean, 9).unwrap();
    let p = p.with_cost_scale(2.0).unwrap();
    let mut s = settings(1e-3, 1e-12, OtMethod::Sinkhorn);
    s.common.max_iter = Some(3);
    let r = cloud::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::IterationLimit);
    let ev = ot::evaluate(&p.to_dense().unwrap(), &r.solution);
    assert!((ev.marginal_violation - r.residuals.marginal_l1).abs() <= 1e-12);
    assert!(r.residuals.marginal_l1 > 1e-12);
}

#[test]
fn skips_pairs_and_stays_within_memory_at_1e5_points() {
    // 10^5 x 10^5 pairs: a dense cost would be 80 GB. A small budget: a few Sinkhorn
    // iterations at a regularisation whose plan is sparse, then the certificate.
    let n = 100_000;
    let p = CloudOt::generate("uniform", n, n, 2, GroundCost::SqEuclidean, 1).unwrap();
    let p = p.with_cost_scale(2.0).unwrap();
    let mut s = settings(1e-4, 1e-6, OtMethod::Sinkhorn);
    s.cloud.stage_iterations = 1;
    s.common.max_iter = Some(2);
    let r = cloud::solve(&p, &s, &mut NoObserver).unwrap();
    let st = r.stats.cloud.as_ref().unwrap();
    assert_eq!(r.status, Status::IterationLimit);
    assert!(r.residuals.marginal_l1.is_finite());
    // The certificate computed a small fraction of the 10^10 pairs.
    assert!(st.certificate_pairs < 1_000_000_000, "{st:?}");
    if let Some(peak) = st.peak_memory_bytes {
        assert!(peak < 1 << 30, "peak memory {peak} bytes");
    }
}
