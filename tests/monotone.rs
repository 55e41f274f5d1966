//! Finite-sum monotone inclusions beyond games: the bilinear-quadratic instance of Ouyang & Xu
//! against its closed-form solution, distributionally robust logistic regression against its
//! explicit inner maximum, the residual's monotone decrease under extragradient, and the
//! variance-reduced methods on small games against the exact simplex.

mod common;

use common::dist;

use mathprog::problems::exact::game_exact;
use mathprog::problems::game::MatrixGame;
use mathprog::problems::monotone::FiniteSumMonotone;
use mathprog::problems::monotone::affine::AffineMonotone;
use mathprog::problems::monotone::dro::DroLogistic;
use mathprog::solvers::core::{Control, IterRecord, NoObserver, Observer, Status};
use mathprog::solvers::monotone::{GameSettings, Method, MonotoneSettings, solve, solve_game};
use proptest::prelude::*;

fn settings(method: Method, tol: f64) -> MonotoneSettings {
    let mut s = MonotoneSettings::default();
    s.method = method;
    s.tol = tol;
    s.common.max_iter = Some(400_000);
    s
}

/// Every method reaches the closed-form saddle point of the Ouyang–Xu instance; the
/// certificate (‖F(u)‖) bounds the distance through `‖u − u*‖ ≤ ‖M⁻¹‖ ‖F(u)‖`.
#[test]
fn ouyang_xu_all_methods() {
    let op = AffineMonotone::ouyang_xu(16).unwrap();
    let star = op.solution().unwrap();
    for method in [
        Method::Halpern,
        Method::Extragradient,
        Method::VrInexactHalpern,
    ] {
        let r = solve(&op, &settings(method, 1e-7), &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "{method:?}");
        let mut f = vec![0.0; op.dim()];
        op.full(&r.solution, &mut f);
        let fnorm = f.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(fnorm <= 1e-7, "{method:?}: ‖F‖ = {fnorm}");
        // x* = (1, 2, …, 16): the residual 1e-7 puts u within 1e-3 of it (‖M⁻¹‖ ≲ 1e4 here).
        let e = dist(&r.solution, &star);
        assert!(
            e <= 1e-3 * (1.0 + star.iter().map(|v| v * v).sum::<f64>().sqrt()),
            "{method:?}: error {e}"
        );
    }
}

/// Records the residual at every check (a monotone inclusion has no objective: `best` is NaN).
struct Trace(Vec<f64>);
impl Observer for Trace {
    fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
        assert!(rec.best.is_nan());
        self.0
            .push(rec.residual.expect("the residual of every check"));
        Control::Continue
    }
}

proptest! {
    #![proptest_config(common::config(12))]

    /// Extragradient with a fixed step `η ≤ 1/L` on an unconstrained monotone affine operator:
    /// `‖F(u_k)‖` never increases (Gorbunov, Loizou & Gidel, AISTATS 2022). Random monotone
    /// `M = S + K` (S ⪰ 0, K skew).
    #[test]
    fn extragradient_residual_is_monotone(d in 2usize..10, seed in 0u64..1000, skew in 0.0f64..3.0) {
        use rand::SeedableRng;
        use rand_distr::{Distribution, StandardNormal};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let b: Vec<f64> = (0..d * d).map(|_| g()).collect();
        let k: Vec<f64> = (0..d * d).map(|_| g()).collect();
        let mut m = vec![0.0; d * d];
        for i in 0..d {
            for j in 0..d {
                let s: f64 = (0..d).map(|l| b[l * d + i] * b[l * d + j]).sum::<f64>() / d as f64;
                m[i * d + j] = s + skew * (k[i * d + j] - k[j * d + i]);
            }
        }
        let c: Vec<f64> = (0..d).map(|_| g()).collect();
        let op = AffineMonotone::new(d, m, c).unwrap();
        let mut s = settings(Method::Extragradient, 1e-9);
        s.adaptive_step = false;
        s.restart_factor = None;
        s.common.max_iter = Some(4000);
        let mut trace = Trace(Vec::new());
        solve(&op, &s, &mut trace).unwrap();
        prop_assert!(trace.0.len() > 1);
        for w in trace.0.windows(2) {
            prop_assert!(w[1] <= w[0] * (1.0 + 1e-12) + 1e-15, "{} then {}", w[0], w[1]);
        }
    }

    /// Inexact VR-Halpern (Alg. 2) on small games reaches a duality gap of 1e-4 whose value
    /// bounds enclose the exact value.
    #[test]
    fn vr_inexact_small_games(m in 1usize..6, n in 1usize..6, seed in 0u64..1000) {
        let g = MatrixGame::gaussian(m, n, seed).unwrap();
        let (v, _, _) = game_exact(&g).unwrap();
        let mut s = GameSettings::default();
        s.monotone = settings(Method::VrInexactHalpern, 0.0);
        s.monotone.common.max_iter = Some(2_000_000);
        s.gap_tol = Some(1e-4);
        s.refine_below = None;
        let r = solve_game(&g, &s, &mut NoObserver).unwrap();
        prop_assert_eq!(r.status, Status::Converged);
        let sol = &r.solution;
        prop_assert!(sol.lower <= v + 1e-9 && v <= sol.upper + 1e-9, "{} not in [{}, {}]", v, sol.lower, sol.upper);
    }
}

/// DRO logistic regression: the solvers' `x` is a stationary point of the robust loss
/// `φ(x) = max_q f(x, q)` (computed independently through the explicit best response), and
/// `q` is that best response.
#[test]
fn dro_logistic_matches_the_robust_loss() {
    let d = DroLogistic::generate(60, 5, 0.05, 2.0, 11).unwrap();
    for method in [Method::Halpern, Method::Extragradient] {
        let r = solve(&d, &settings(method, 1e-9), &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "{method:?}");
        let (x, q) = r.solution.split_at(5);
        let grad = d.robust_gradient(x);
        let gn = grad.iter().map(|v| v * v).sum::<f64>().sqrt();
        assert!(gn <= 1e-7, "{method:?}: ‖∇φ(x)‖ = {gn}");
        let qs = d.best_response(x);
        assert!(
            dist(q, &qs) <= 1e-7,
            "{method:?}: q is not the best response"
        );
        // The adversary moves weight: q is not uniform.
        assert!(q.iter().any(|v| (v - 1.0 / 60.0).abs() > 1e-3));
    }
}
