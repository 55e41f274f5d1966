//! Bilevel penalty method: the quadratic problem against the closed forms of `x*` and of the
//! penalty minimiser `x_σ` (so `‖x_σ − x*‖ = O(σ)` is checked on the exact quantities), and the
//! toy with non-unique lower-level solutions converging to `x* = 1`.

mod common;

use common::dist;

use mathprog::problems::bilevel::Bilevel;
use mathprog::problems::bilevel::nonunique::NonUniqueToy;
use mathprog::problems::bilevel::quadratic::QuadraticBilevel;
use mathprog::solvers::bilevel::{BilevelSettings, solve};
use mathprog::solvers::core::{NoObserver, Status};
use proptest::prelude::*;

fn settings(sigma: f64) -> BilevelSettings {
    let mut s = BilevelSettings::default();
    s.sigma = sigma;
    s.tol = 1e-9;
    s.common.max_iter = Some(20_000);
    s
}

proptest! {
    #![proptest_config(common::config(12))]

    /// Random quadratic instances: the computed `x` is the closed-form penalty minimiser
    /// `x_σ`, and `‖x_σ − x*‖` shrinks linearly with σ.
    #[test]
    fn quadratic_matches_the_closed_forms(seed in 0u64..1000, p in 1usize..6, q in 1usize..9) {
        let prob = QuadraticBilevel::generate(p, q, 0.1, seed).unwrap();
        let xs = prob.x_star();
        let mut prev = f64::INFINITY;
        for sigma in [1e-1, 1e-2, 1e-3] {
            let r = solve(&prob, &settings(sigma), &mut NoObserver).unwrap();
            prop_assert_eq!(r.status, Status::Converged);
            let xsig = prob.x_sigma(sigma);
            let scale = 1.0 + xsig.iter().map(|v| v * v).sum::<f64>().sqrt();
            prop_assert!(dist(&r.solution.x, &xsig) <= 1e-6 * scale,
                "sigma {}: |x - x_sigma| = {}", sigma, dist(&r.solution.x, &xsig));
            let e = dist(&xsig, &xs);
            prop_assert!(e <= prev * 0.2 + 1e-12, "sigma {}: |x_sigma - x*| = {} after {}", sigma, e, prev);
            prev = e;
            prop_assert!(r.residuals.ll_gap >= -1e-12);
        }
    }
}

/// The size of the reference test bed (p = 5, q = 8, ρ = 0.1) at σ = 1e-3: the method's
/// error against `x*` is the penalty's own bias `‖x_σ − x*‖` (to 1e-8), which is `O(σ)`.
#[test]
fn quadratic_sigma_1e3_error_is_the_penalty_bias() {
    let prob = QuadraticBilevel::generate(5, 8, 0.1, 0).unwrap();
    let r = solve(&prob, &settings(1e-3), &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    let xs = prob.x_star();
    let bias = dist(&prob.x_sigma(1e-3), &xs);
    let e = dist(&r.solution.x, &xs);
    assert!((e - bias).abs() <= 1e-8, "|x - x*| = {e}, bias {bias}");
    assert!(bias <= 1e-3 * 10.0 * (1.0 + xs.iter().map(|v| v * v).sum::<f64>().sqrt()));
}

/// Non-unique lower level: `x → 1` for every σ (`ψ_σ(x) = ‖x − 1‖²/(2(1 + σ))`), `y₁ → 1`.
#[test]
fn nonunique_toy_converges_to_one() {
    let x0: Vec<f64> = (0..10).map(|i| 3.0 * ((i as f64) * 1.7).sin()).collect();
    for sigma in [1.0, 1e-1, 1e-2] {
        let prob = NonUniqueToy::new(x0.clone()).unwrap();
        let r = solve(&prob, &settings(sigma), &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "sigma {sigma}");
        let ones = vec![1.0; 10];
        assert!(
            dist(&r.solution.x, &ones) <= 1e-7,
            "sigma {sigma}: x = {:?}",
            r.solution.x
        );
        assert!(dist(&r.solution.y[..10], &ones) <= 1e-6);
        assert!(prob.dim_y() == 20);
    }
}

/// Finite-difference checks of the oracles of every built-in problem: `∇f`, `∇g` in `x` and
/// `y`, and the Hessian products `∇²_yy g v` and `∇²_xy g v` where given.
#[test]
fn derivative_checks() {
    use mathprog::problems::bilevel::hyperclean::HyperCleaning;
    use mathprog::problems::bilevel::ridge::RidgeBilevel;
    let (ridge, _, _) = RidgeBilevel::generate(6, 20, 15, 5, 1).unwrap();
    let (hc, _, _) = HyperCleaning::generate(12, 8, 5, 4, 0.3, 2).unwrap();
    let quad = QuadraticBilevel::generate(3, 4, 0.1, 3).unwrap();
    let toy = NonUniqueToy::new(vec![0.5, -1.0]).unwrap();
    let probs: [&dyn Bilevel; 4] = [&ridge, &hc, &quad, &toy];
    for prob in probs {
        let (p, q) = (prob.dim_x(), prob.dim_y());
        let x: Vec<f64> = (0..p).map(|i| 0.3 * ((i as f64) * 1.3).sin()).collect();
        let y: Vec<f64> = (0..q).map(|i| 0.5 * ((i as f64) * 0.7).cos()).collect();
        let v: Vec<f64> = (0..q).map(|i| ((i as f64) * 2.1).sin()).collect();
        let (mut fx, mut fy, mut gx, mut gy) =
            (vec![0.0; p], vec![0.0; q], vec![0.0; p], vec![0.0; q]);
        prob.grad_f(&x, &y, &mut fx, &mut fy);
        prob.grad_g(&x, &y, &mut gx, &mut gy);
        let h = 1e-6;
        let fd = |fun: &dyn Fn(&[f64], &[f64]) -> f64, wrt_x: bool, k: usize| {
            let (mut xp, mut xm, mut yp, mut ym) = (x.clone(), x.clone(), y.clone(), y.clone());
            if wrt_x {
                xp[k] += h;
                xm[k] -= h;
            } else {
                yp[k] += h;
                ym[k] -= h;
            }
            (fun(&xp, &yp) - fun(&xm, &ym)) / (2.0 * h)
        };
        let f = |a: &[f64], b: &[f64]| prob.f(a, b);
        let g = |a: &[f64], b: &[f64]| prob.g(a, b);
        for k in 0..p {
            assert!(
                (fd(&f, true, k) - fx[k]).abs() < 1e-6,
                "{} df/dx{k}",
                prob.name()
            );
            assert!(
                (fd(&g, true, k) - gx[k]).abs() < 1e-6,
                "{} dg/dx{k}",
                prob.name()
            );
        }
        for k in 0..q {
            assert!(
                (fd(&f, false, k) - fy[k]).abs() < 1e-6,
                "{} df/dy{k}",
                prob.name()
            );
            assert!(
                (fd(&g, false, k) - gy[k]).abs() < 1e-6,
                "{} dg/dy{k}",
                prob.name()
            );
        }
        // Hessian products against differences of ∇_y g.
        let mut hv = vec![0.0; q];
        if prob.hvp_yy_g(&x, &y, &v, &mut hv) {
            let (mut g1, mut g2, mut t) = (vec![0.0; q], vec![0.0; q], vec![0.0; p]);
            let yp: Vec<f64> = y.iter().zip(&v).map(|(a, b)| a + h * b).collect();
            let ym: Vec<f64> = y.iter().zip(&v).map(|(a, b)| a - h * b).collect();
            prob.grad_g(&x, &yp, &mut t, &mut g1);
            prob.grad_g(&x, &ym, &mut t, &mut g2);
            for k in 0..q {
                assert!(
                    ((g1[k] - g2[k]) / (2.0 * h) - hv[k]).abs() < 1e-6,
                    "{} Hyy",
                    prob.name()
                );
            }
            let mut hx = vec![0.0; p];
            assert!(prob.hvp_xy_g(&x, &y, &v, &mut hx));
            for k in 0..p {
                let (mut xp, mut xm) = (x.clone(), x.clone());
                xp[k] += h;
                xm[k] -= h;
                let (mut a, mut b, mut t) = (vec![0.0; q], vec![0.0; q], vec![0.0; p]);
                prob.grad_g(&xp, &y, &mut t, &mut a);
                prob.grad_g(&xm, &y, &mut t, &mut b);
                let fdv: f64 = (0..q).map(|i| (a[i] - b[i]) / (2.0 * h) * v[i]).sum();
                assert!((fdv - hx[k]).abs() < 1e-6, "{} Hxy", prob.name());
            }
        }
    }
}

/// Ridge tuning: the penalty method's `u = log λ` approaches the minimiser of the exact
/// validation loss (a fine grid) as σ shrinks; AID reaches it.
#[test]
fn ridge_matches_a_grid_search() {
    use mathprog::problems::bilevel::ridge::RidgeBilevel;
    use mathprog::solvers::bilevel::BilevelMethod;
    let (prob, _, _) = RidgeBilevel::generate(50, 100, 100, 10, 2).unwrap();
    let grid: Vec<f64> = (0..=4000)
        .map(|k| -8.0 + 12.0 * k as f64 / 4000.0)
        .collect();
    let ustar = grid
        .iter()
        .copied()
        .min_by(|a, b| {
            prob.validation_loss(*a)
                .total_cmp(&prob.validation_loss(*b))
        })
        .unwrap();
    assert!(
        ustar > -7.9 && ustar < 3.9,
        "grid optimum at the edge: {ustar}"
    );
    let mut errs = Vec::new();
    for sigma in [1e-1, 1e-2, 1e-3] {
        let mut s = settings(sigma);
        s.tol = 1e-8;
        let r = solve(&prob, &s, &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "sigma {sigma}");
        errs.push((r.solution.x[0] - ustar).abs());
    }
    assert!(errs[2] < 0.05 && errs[2] < errs[0], "|u - u*| = {errs:?}");
    let mut s = settings(1.0);
    s.tol = 1e-8;
    s.method = BilevelMethod::Aid;
    let r = solve(&prob, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    // The grid step is 0.003.
    assert!(
        (r.solution.x[0] - ustar).abs() < 0.004,
        "AID u = {} vs {ustar}",
        r.solution.x[0]
    );
}

/// Hyper-cleaning on the synthetic set (n = 300, 30% flipped, d = 10): the learned weights
/// flag most flipped samples, and the lower-level model beats training on the noisy labels.
#[test]
fn hyperclean_flags_flipped_samples() {
    use mathprog::problems::bilevel::hyperclean::HyperCleaning;
    let (prob, test, bad) = HyperCleaning::generate(300, 100, 2000, 10, 0.3, 5).unwrap();
    let mut s = settings(1e-2);
    s.tol = 1e-6;
    s.common.max_iter = Some(3000);
    let r = solve(&prob, &s, &mut NoObserver).unwrap();
    let flagged = prob.flagged(&r.solution.x);
    let tp = flagged.iter().zip(&bad).filter(|(f, b)| **f && **b).count() as f64;
    let prec = tp / flagged.iter().filter(|f| **f).count().max(1) as f64;
    let rec = tp / bad.iter().filter(|b| **b).count().max(1) as f64;
    let f1 = 2.0 * prec * rec / (prec + rec).max(1e-12);
    assert!(f1 > 0.7, "F1 {f1} (precision {prec}, recall {rec})");
    assert!(
        test.accuracy(&r.solution.y) > 0.9,
        "accuracy {}",
        test.accuracy(&r.solution.y)
    );
}

/// The single-loop method: with exact oracles (no samples) it converges to the penalty
/// minimiser `x_σ` of the quadratic; with minibatches on hyper-cleaning it flags the flipped
/// samples, and a seed reproduces the run exactly.
#[test]
fn stochastic_single_loop() {
    use mathprog::problems::bilevel::hyperclean::HyperCleaning;
    use mathprog::solvers::bilevel::BilevelMethod;
    let prob = QuadraticBilevel::generate(4, 6, 0.1, 7).unwrap();
    let mut s = settings(0.1);
    s.tol = 1e-9;
    s.common.max_iter = Some(2_000_000);
    let r = solve(
        &prob,
        &{
            let mut t = s.clone();
            t.method = BilevelMethod::Stochastic { batch: 8 };
            t
        },
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(r.status, Status::Converged);
    let xs = prob.x_sigma(0.1);
    assert!(
        dist(&r.solution.x, &xs) <= 1e-7,
        "{}",
        dist(&r.solution.x, &xs)
    );

    let (hc, test, bad) = HyperCleaning::generate(300, 100, 2000, 10, 0.3, 5).unwrap();
    let mut s = settings(0.1);
    s.tol = 1e-6;
    s.step0 = Some(100.0);
    s.common.max_iter = Some(20_000);
    let r1 = solve(
        &hc,
        &{
            let mut t = s.clone();
            t.method = BilevelMethod::Stochastic { batch: 16 };
            t
        },
        &mut NoObserver,
    )
    .unwrap();
    let flagged = hc.flagged(&r1.solution.x);
    let tp = flagged.iter().zip(&bad).filter(|(f, b)| **f && **b).count() as f64;
    let prec = tp / flagged.iter().filter(|f| **f).count().max(1) as f64;
    let rec = tp / bad.iter().filter(|b| **b).count().max(1) as f64;
    let f1 = 2.0 * prec * rec / (prec + rec).max(1e-12);
    assert!(f1 > 0.7, "F1 {f1}");
    assert!(test.accuracy(&r1.solution.z) > 0.9);
    let r2 = solve(
        &hc,
        &{
            let mut t = s.clone();
            t.method = BilevelMethod::Stochastic { batch: 16 };
            t
        },
        &mut NoObserver,
    )
    .unwrap();
    assert_eq!(r1.solution.x, r2.solution.x);
}

/// σ continuation (1 → 1e-3 in four stages) ends at the same penalty minimiser `x_σ`.
#[test]
fn sigma_continuation_reaches_the_final_penalty_minimiser() {
    let prob = QuadraticBilevel::generate(5, 8, 0.1, 3).unwrap();
    let mut s = settings(1e-3);
    s.sigma0 = Some(1.0);
    let r = solve(&prob, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    assert_eq!(r.stats.sigma_stages, Some(4));
    assert_eq!(r.stats.sigma, 1e-3);
    // The deprecated alias keeps the key scripts read.
    assert_eq!(r.residuals.deprecated_sigma, 1e-3);
    let xs = prob.x_sigma(1e-3);
    assert!(
        dist(&r.solution.x, &xs) <= 1e-6 * (1.0 + xs.iter().map(|v| v * v).sum::<f64>().sqrt())
    );
}

/// Ridge tuning does not depend on the targets' units: the same data with targets ×1e6 and
/// ×1e-6 gives the same `log λ` (the solver rescales `f`, `g` and `y` internally), with the
/// objective scaled by the square and `y` by the factor.
#[test]
fn ridge_is_scale_invariant() {
    use mathprog::problems::bilevel::ridge::RidgeBilevel;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let (d, n) = (30, 40);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(5);
    let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
    let w: Vec<f64> = (0..d).map(|k| if k % 3 == 0 { g() } else { 0.0 }).collect();
    let mut sample = || {
        let x: Vec<f64> = (0..n * d).map(|_| g()).collect();
        let noise: Vec<f64> = (0..n).map(|_| 2.0 * g()).collect();
        let y: Vec<f64> = (0..n)
            .map(|k| (0..d).map(|j| x[k * d + j] * w[j]).sum::<f64>() + noise[k])
            .collect();
        (x, y)
    };
    let (xtr, ytr) = sample();
    let (xv, yv) = sample();
    let solve_at = |scale: f64| {
        let st: Vec<f64> = ytr.iter().map(|v| v * scale).collect();
        let sv: Vec<f64> = yv.iter().map(|v| v * scale).collect();
        let p = RidgeBilevel::new(d, &xtr, &st, &xv, &sv, 0.0).unwrap();
        let mut s = settings(1e-2);
        s.tol = 1e-8;
        let r = solve(&p, &s, &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "scale {scale}");
        assert!(r.objective.is_finite());
        r
    };
    let base = solve_at(1.0);
    assert!(base.stats.objective_scale.is_none());
    for scale in [1e6, 1e-6] {
        let r = solve_at(scale);
        assert!(r.stats.objective_scale.is_some());
        assert!(
            (r.solution.x[0] - base.solution.x[0]).abs() < 1e-3,
            "scale {scale}: log λ = {} against {}",
            r.solution.x[0],
            base.solution.x[0]
        );
        let rel = (r.objective / (scale * scale) - base.objective).abs() / base.objective;
        assert!(rel < 1e-4, "scale {scale}: objective {}", r.objective);
        assert!(
            (r.solution.y[0] / scale - base.solution.y[0]).abs()
                < 1e-3 * (1.0 + base.solution.y[0].abs())
        );
    }
}
