//! Equality-constrained NLP problems: the Hock–Schittkowski set reads, its known solutions are
//! feasible with the listed values, and every built-in derivative matches finite differences.

mod common;

use mathprog::problems::nlp::hs::{ExprNlp, bundled_hs_set, read_hs_set};
use mathprog::problems::nlp::{EqualityNlp, check_derivatives};

#[test]
fn hs_set_reads_and_its_solutions_check_out() {
    let set = read_hs_set(common::suite("nlp/hs_equality.json")).unwrap();
    assert_eq!(set.len(), 19);
    // The set built into the library is the committed file.
    let built_in = bundled_hs_set();
    assert_eq!(built_in.len(), 19);
    for (a, b) in set.iter().zip(&built_in) {
        assert_eq!(
            (a.nlp.name(), a.f_star, &a.x_star),
            (b.nlp.name(), b.f_star, &b.x_star)
        );
    }
    for p in &set {
        let name = p.nlp.name();
        let mut c = vec![0.0; p.nlp.num_constraints()];
        p.nlp.constraints(&p.x_star, &mut c);
        let viol = c.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        // x_star is listed to about 7 digits.
        assert!(viol <= 1e-4, "{name}: |c(x*)| = {viol}");
        let f = p.nlp.objective(&p.x_star);
        assert!(
            (f - p.f_star).abs() <= 1e-5 * p.f_star.abs().max(1.0),
            "{name}: f(x*) = {f} vs {}",
            p.f_star
        );
        let lambda: Vec<f64> = (0..c.len()).map(|i| 0.5 - 0.3 * i as f64).collect();
        for x in [p.nlp.x0(), p.x_star.clone()] {
            let d = check_derivatives(&p.nlp, &x, &lambda, 1e-5);
            assert!(d.max() <= 1e-6, "{name}: {d:?}");
        }
    }
}

#[test]
fn formula_errors_name_the_problem_and_column() {
    let e = ExprNlp::new("t", 2, "x1^2 + x3", &[], vec![0.0, 0.0]).unwrap_err();
    assert!(
        e.to_string()
            .contains("t: objective: column 8: variable x3 outside x1..x2"),
        "{e}"
    );
    let e = ExprNlp::new("t", 2, "x1", &["x1 + * x2"], vec![0.0, 0.0]).unwrap_err();
    assert!(e.to_string().contains("constraint 1: column 6"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("hs.json");
    std::fs::write(&f, "{\"problems\": [\n {\"name\": \"HSX\", \"n\": 1, \"m\": 1, \"objective\": \"x1\",\n \"constraints\": [\"x1 -\"], \"x0\": [0], \"f_star\": 0, \"x_star\": [0]}]}").unwrap();
    let e = read_hs_set(&f).unwrap_err().to_string();
    assert!(
        e.contains("hs.json:2:") && e.contains("HSX: constraint 1"),
        "{e}"
    );
}

use mathprog::solvers::core::{NoObserver, Status};
use mathprog::solvers::nlp::kkt::KktMethod;
use mathprog::solvers::nlp::{NlpSettings, solve};

fn run_hs(method: KktMethod, tol: f64, block: usize) -> Vec<String> {
    let set = read_hs_set(common::suite("nlp/hs_equality.json")).unwrap();
    let mut failures = Vec::new();
    for p in &set {
        let mut s = NlpSettings::default();
        s.kkt = method;
        s.block_size = block;
        s.tol = tol;
        s.common.max_iter = Some(500);
        let r = solve(&p.nlp, &s, &mut NoObserver).unwrap();
        let ok = r.status == Status::Converged
            && (r.objective - p.f_star).abs() <= 1e-6 * p.f_star.abs().max(1.0);
        eprintln!(
            "{:6} {:?} {:?} f {:.10} (f* {:.10}) kkt {:.1e} outer {} inner {}",
            p.nlp.name(),
            method,
            r.status,
            r.objective,
            p.f_star,
            r.residuals.kkt,
            r.iterations,
            r.stats.inner_iterations
        );
        if !ok {
            failures.push(p.nlp.name());
        }
    }
    failures
}

/// Every HS problem reaches its known optimum (1e-6 relative) with KKT ≤ 1e-8 (direct).
#[test]
fn hs_set_direct() {
    let f = run_hs(KktMethod::Direct, 1e-8, 0);
    assert!(f.is_empty(), "{f:?}");
}

/// The sketch solvers with true sketches (blocks of 4 rows, smaller than every KKT system but
/// HS28's, single rows, Gaussian vectors) reach every known optimum to 1e-6 relative with
/// KKT ≤ 1e-6 (the bar of issue 6).
#[test]
fn hs_set_block_sketch() {
    let f = run_hs(KktMethod::Block, 1e-6, 4);
    assert!(f.is_empty(), "{f:?}");
}

/// Randomized Kaczmarz (rows ∝ ‖K_i‖²) on the whole set.
#[test]
fn hs_set_kaczmarz() {
    let f = run_hs(KktMethod::Kaczmarz, 1e-6, 0);
    assert!(f.is_empty(), "{f:?}");
}

/// Gaussian sketches on the whole set.
#[test]
fn hs_set_gaussian() {
    let f = run_hs(KktMethod::Gaussian, 1e-6, 0);
    assert!(f.is_empty(), "{f:?}");
}

/// Projected CG (matrix-free) on the whole set, to the direct solver's tolerance.
#[test]
fn hs_set_projected_cg() {
    let f = run_hs(KktMethod::Cg, 1e-8, 0);
    assert!(f.is_empty(), "{f:?}");
}

use mathprog::problems::nlp::qp::{QuadraticNlp, poisson_control};
use proptest::prelude::*;

/// A random convex QP `min ½xᵀQx + cᵀx s.t. Ax = b` (`Q = MMᵀ + I/10`, `A` random `m × n`) and
/// its closed-form KKT solution from a dense solve of `[[Q, Aᵀ], [A, 0]] (x, λ) = (−c, b)`.
fn random_qp(n: usize, m: usize, seed: u64) -> (QuadraticNlp, Vec<f64>, f64) {
    use faer::Mat;
    use faer::linalg::solvers::Solve;
    use rand::SeedableRng;
    use rand_distr::{Distribution, StandardNormal};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
    let mm = Mat::<f64>::from_fn(n, n, |_, _| g());
    let mut q = &mm * mm.transpose();
    for i in 0..n {
        q[(i, i)] += 0.1;
    }
    let a = Mat::<f64>::from_fn(m, n, |_, _| g());
    let c: Vec<f64> = (0..n).map(|_| g()).collect();
    let b: Vec<f64> = (0..m).map(|_| g()).collect();
    let k = Mat::<f64>::from_fn(n + m, n + m, |i, j| match (i < n, j < n) {
        (true, true) => q[(i, j)],
        (true, false) => a[(j - n, i)],
        (false, true) => a[(i - n, j)],
        _ => 0.0,
    });
    let mut rhs = Mat::<f64>::from_fn(n + m, 1, |i, _| if i < n { -c[i] } else { b[i - n] });
    k.partial_piv_lu().solve_in_place(rhs.as_mut());
    let xs: Vec<f64> = (0..n).map(|i| rhs[(i, 0)]).collect();
    let qt: Vec<_> = (0..n)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, q[(i, j)]))
        .collect();
    let at: Vec<_> = (0..m)
        .flat_map(|i| (0..n).map(move |j| (i, j)))
        .map(|(i, j)| (i, j, a[(i, j)]))
        .collect();
    let p = QuadraticNlp::new("qp", n, &qt, c, 0.0, &at, b, vec![0.0; n]).unwrap();
    let f = p.objective(&xs);
    (p, xs, f)
}

proptest! {
    #![proptest_config(common::config(24))]

    /// Random convex equality QPs: the direct solver hits the closed-form KKT point in one
    /// Newton step, the block sketch and projected CG to their tolerances.
    #[test]
    fn random_qps_match_the_closed_form(n in 2usize..12, mfrac in 0.1f64..0.9, seed in 0u64..1000) {
        let m = ((n as f64 * mfrac) as usize).clamp(1, n - 1);
        let (p, xs, f) = random_qp(n, m, seed);
        let scale = xs.iter().fold(1.0f64, |a, v| a.max(v.abs()));
        for (method, tol, block) in [
            (KktMethod::Direct, 1e-9, 0),
            // Blocks of n + m − 1 rows: a true sketch, fast on any K. Small blocks converge at
            // a rate set by κ(K)², slow on random K; the HS tests cover them.
            (KktMethod::Block, 1e-7, n + m - 1),
            (KktMethod::Cg, 1e-9, 0),
        ] {
            let mut s = NlpSettings::default();
            s.kkt = method;
            s.tol = tol;
            s.block_size = block;
            s.common.max_iter = Some(200);
            let r = solve(&p, &s, &mut NoObserver).unwrap();
            prop_assert_eq!(r.status, Status::Converged, "{:?}", method);
            let err = r.solution.x.iter().zip(&xs).fold(0.0f64, |a, (u, v)| a.max((u - v).abs()));
            prop_assert!(err <= 1e-5 * scale, "{:?}: |x - x*| = {}", method, err);
            prop_assert!((r.objective - f).abs() <= 1e-6 * f.abs().max(1.0));
            if method == KktMethod::Direct {
                prop_assert_eq!(r.iterations, 1);
            }
        }
    }
}

#[test]
fn poisson_control_solves_in_one_newton_step() {
    let p = poisson_control(16, 0.1).unwrap();
    assert_eq!((p.num_vars(), p.num_constraints()), (512, 256));
    let lambda: Vec<f64> = (0..256).map(|i| (i as f64).sin()).collect();
    assert!(check_derivatives(&p, &p.x0(), &lambda, 1e-5).max() <= 1e-6);
    let mut s = NlpSettings::default();
    s.tol = 1e-8;
    let r = solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    assert_eq!(r.iterations, 1);
    assert!(r.residuals.kkt <= 1e-8);
}

use mathprog::problems::io::libsvm::parse_libsvm;
use mathprog::problems::nlp::logreg::LogisticRegressionNlp;

/// Gradient, Jacobian, explicit Hessian and the Hessian operator of the logistic regression
/// against finite differences: dense (generated) and sparse (LIBSVM) features, with and
/// without the sphere constraint.
#[test]
fn logistic_regression_derivatives() {
    let text = "+1 1:0.5 3:-1.2\n-1 2:0.7 4:0.3\n+1 1:-0.2 2:0.1 4:1.5\n-1 3:0.9\n+1 2:-1 3:0.4\n";
    for sphere in [false, true] {
        let dense = LogisticRegressionNlp::generate(9, 3, sphere, 5).unwrap();
        let data = parse_libsvm(text, std::path::Path::new("t.libsvm"), None).unwrap();
        let sparse = LogisticRegressionNlp::from_libsvm("t", data, 2, sphere, 0.01, 3).unwrap();
        for p in [&dense, &sparse] {
            let n = p.num_vars();
            let x: Vec<f64> = (0..n).map(|i| 0.8 * (i as f64 + 0.3).sin()).collect();
            let lambda: Vec<f64> = (0..p.num_constraints())
                .map(|i| 0.4 - 0.3 * i as f64)
                .collect();
            let d = check_derivatives(p, &x, &lambda, 1e-5);
            assert!(d.max() <= 1e-6, "{} sphere {sphere}: {d:?}", p.name());
        }
    }
}

/// Margins large enough to overflow a naive `exp`: values and gradients stay finite and the
/// loss is the hinge limit.
#[test]
fn logistic_regression_is_overflow_safe() {
    let data = parse_libsvm("+1 1:1\n-1 1:-1\n", std::path::Path::new("t"), None).unwrap();
    let p = LogisticRegressionNlp::from_libsvm("t", data, 0, false, 0.0, 1).unwrap();
    for x in [1e4, -1e4] {
        let f = p.objective(&[x]);
        let mut g = [0.0];
        p.gradient(&[x], &mut g);
        assert!(f.is_finite() && g[0].is_finite());
        if x > 0.0 {
            assert!(f < 1e-300 && g[0].abs() < 1e-300);
        } else {
            assert!((f - 1e4).abs() < 1e-9 && (g[0] + 1.0).abs() < 1e-12);
        }
    }
}

proptest! {
    #![proptest_config(common::config(12))]

    /// Random constrained logistic regressions: projected CG (matrix-free) and the direct
    /// solver (explicit Hessian) reach KKT ≤ 1e-9; with linear constraints the problem is
    /// convex, so both must find the same (global) minimiser.
    #[test]
    fn logistic_regression_cg_matches_direct(n in 3usize..25, m in 0usize..3, sphere: bool, seed in 0u64..500) {
        let m = m.min(n - 1);
        let p = LogisticRegressionNlp::generate(n, m, sphere, seed).unwrap();
        let mut xs = Vec::new();
        for method in [KktMethod::Cg, KktMethod::Direct] {
            let mut s = NlpSettings::default();
            s.kkt = method;
            s.tol = 1e-9;
            s.common.max_iter = Some(300);
            let r = solve(&p, &s, &mut NoObserver).unwrap();
            prop_assert_eq!(r.status, Status::Converged, "{:?}", method);
            prop_assert!(r.residuals.kkt <= 1e-9);
            xs.push(r.solution.x);
        }
        if !sphere {
            let err = xs[0].iter().zip(&xs[1]).fold(0.0f64, |a, (u, v)| a.max((u - v).abs()));
            let scale = xs[1].iter().fold(1.0f64, |a, v| a.max(v.abs()));
            prop_assert!(err <= 1e-6 * scale, "|x_cg - x_direct| = {}", err);
        }
    }
}

/// Same seed, same answer at one and two threads (fixed row chunks, ordered sums).
#[test]
fn logistic_regression_is_reproducible_across_threads() {
    let p = LogisticRegressionNlp::generate(300, 5, false, 11).unwrap();
    let run = |threads: usize| {
        let mut s = NlpSettings::default();
        s.tol = 1e-9;
        s.common.threads = Some(threads);
        solve(&p, &s, &mut NoObserver).unwrap()
    };
    let (a, b) = (run(1), run(2));
    assert_eq!(a.status, Status::Converged);
    assert_eq!(a.solution.x, b.solution.x);
    assert_eq!(a.iterations, b.iterations);
    assert_eq!(a.stats.kkt_solver, KktMethod::Cg);
    // One casing for enums in JSON: snake_case.
    assert_eq!(
        serde_json::to_value(&a).unwrap()["stats"]["kkt_solver"],
        "cg"
    );
}
