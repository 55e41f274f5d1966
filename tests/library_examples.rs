//! The README's library examples, one per family, on generated or committed instances: they
//! compile against the facade crate and their reports carry what the README reads.

mod common;

use mathprog::problems::generators::{self, Weights};
use mathprog::problems::maxcut::MaxCut;
use mathprog::solvers::core::{NoObserver, Status};

#[test]
fn binary_maxcut_and_mimo() {
    use mathprog::solvers::binary::mcpg::{self, McpgSettings};
    let problem = MaxCut::new(generators::erdos_renyi(24, 0.3, Weights::Unit, 3));
    let mut s = McpgSettings::default();
    s.common.max_iter = Some(30);
    s.common.seed = 42;
    let r = mcpg::solve(&problem, &s, &mut NoObserver).unwrap();
    assert_eq!(r.objective, problem.cut_value(&r.solution));
    assert!(r.stats.samples > 0);

    use mathprog::problems::mimo::MimoInstance;
    use mathprog::solvers::binary::mimo::{self, MimoSettings};
    let inst = MimoInstance::generate(16, 16, 20.0, 1).unwrap();
    let r = mimo::solve(&inst, &MimoSettings::default(), &mut NoObserver).unwrap();
    assert!(r.stats.ber.unwrap() <= r.stats.mmse_ber.unwrap());
}

#[test]
fn optimal_transport() {
    use mathprog::problems::io::ot::read_ot;
    use mathprog::solvers::ot::{self, OtMethod, OtSettings};
    let p = read_ot(common::suite("ot/pc2d_sqeuclid_n50.txt")).unwrap();
    for method in [OtMethod::Sns, OtMethod::Sinkhorn] {
        let mut s = OtSettings::default();
        s.reg = 1e-2;
        s.method = method;
        let r = ot::solve(&p, &s, &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "{method:?}");
        assert!(r.residuals.marginal_l1 <= s.tol);
        assert_eq!(r.stats.sns.is_some(), method == OtMethod::Sns);
    }
}

#[test]
fn semidefinite_programming() {
    use mathprog::problems::io::sdpa::read_sdpa;
    use mathprog::solvers::sdp::{self, alm::AlmSettings};
    let p = read_sdpa(common::suite("sdplib/theta1.dat-s")).unwrap();
    // The automatic choice (here the interior-point method), and the low-rank path.
    for (method, name) in [
        (sdp::SdpMethod::Auto, "ipm-hkm"),
        (sdp::SdpMethod::Alm, "alm-cd"),
    ] {
        let mut s = AlmSettings::default();
        s.method = method;
        let r = sdp::solve(&p, &s, &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged);
        assert_eq!(r.stats.method, name);
        assert!(r.stats.choice.is_some());
        assert!((-r.objective - 23.0).abs() < 1e-4 * 23.0);
        assert!(r.residuals.relative_gap <= 1e-6);
    }
}

#[test]
fn nonlinear_programming() {
    use mathprog::problems::nlp::hs::ExprNlp;
    use mathprog::solvers::nlp::{self, NlpSettings, kkt::KktMethod};
    let p = ExprNlp::new(
        "demo",
        3,
        "(x1 - 1)^2 + (x2 - x3)^4",
        &["x1 + x2^2 + x3 - 3"],
        vec![2.0, 0.5, 0.5],
    )
    .unwrap();
    let mut s = NlpSettings::default();
    s.kkt = KktMethod::Kaczmarz;
    s.tol = 1e-6;
    let r = nlp::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    assert!(r.residuals.kkt <= 1e-6);
    assert_eq!(r.stats.kkt_solver, KktMethod::Kaczmarz);
}

#[test]
fn matrix_games() {
    use mathprog::problems::game::MatrixGame;
    use mathprog::solvers::monotone::{GameSettings, solve_game};
    let g = MatrixGame::uniform(30, 30, 1).unwrap();
    let r = solve_game(&g, &GameSettings::default(), &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Converged);
    assert!(r.residuals.gap.unwrap() <= 1e-6);
    assert!(r.solution.lower <= r.solution.upper);
}

#[test]
fn bilevel_problems() {
    use mathprog::problems::bilevel::quadratic::QuadraticBilevel;
    use mathprog::solvers::bilevel::{self, BilevelMethod, BilevelSettings};
    let p = QuadraticBilevel::generate(5, 8, 0.1, 1).unwrap();
    for method in [
        BilevelMethod::Penalty,
        BilevelMethod::Aid,
        BilevelMethod::Stochastic { batch: 32 },
    ] {
        let mut s = BilevelSettings::default();
        s.method = method;
        let r = bilevel::solve(&p, &s, &mut NoObserver).unwrap();
        assert_eq!(r.status, Status::Converged, "{method:?}");
        assert!(r.residuals.stationarity <= s.tol);
    }
}

/// The observer contract: one start and one finish per run, iterations never going back, also
/// for the runs made of several stages (SNS's Sinkhorn stage, a game's refinement rounds).
#[test]
fn observers_see_one_run() {
    use mathprog::solvers::core::{Control, IterRecord, Observer, RunInfo};
    #[derive(Default)]
    struct Count {
        starts: usize,
        finishes: usize,
        iters: Vec<u64>,
        best: Vec<f64>,
        residual: Vec<Option<f64>>,
        gap: Vec<f64>,
    }
    impl Observer for Count {
        fn on_start(&mut self, _: &RunInfo) {
            self.starts += 1;
        }
        fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
            self.iters.push(rec.iteration);
            self.best.push(rec.best);
            self.residual.push(rec.residual);
            if let Some((_, g)) = rec.extra.iter().find(|(name, _)| *name == "gap") {
                self.gap.push(*g);
            }
            Control::Continue
        }
        fn on_finish(&mut self, _: Status, _: f64, _: f64) {
            self.finishes += 1;
        }
    }
    let check = |c: &Count, what: &str| {
        assert_eq!((c.starts, c.finishes), (1, 1), "{what}");
        assert!(!c.iters.is_empty(), "{what}");
        assert!(
            c.iters.windows(2).all(|w| w[0] <= w[1]),
            "{what}: {:?}",
            c.iters
        );
    };
    use mathprog::problems::game::MatrixGame;
    use mathprog::solvers::monotone::{GameSettings, solve_game};
    let mut c = Count::default();
    let g = MatrixGame::policeman_burglar(30, 1).unwrap();
    let r = solve_game(&g, &GameSettings::default(), &mut c).unwrap();
    assert!(r.stats.refinements >= 1, "the refinement rounds ran");
    check(&c, "game");
    // `best` is the game's value estimate (the midpoint of the bounds, so within half the
    // gap of the exact value), the residual has its own field.
    assert!(c.residual.iter().all(|x| x.is_some_and(f64::is_finite)));
    let (v, _, _) = mathprog::problems::exact::game_exact(&g).unwrap();
    assert_eq!(c.gap.len(), c.best.len());
    for (b, gap) in c.best.iter().zip(&c.gap) {
        assert!((b - v).abs() <= 0.5 * gap + 1e-9, "{b} vs {v} (gap {gap})");
    }
    use mathprog::problems::io::ot::read_ot;
    use mathprog::solvers::ot::{self, OtSettings};
    let mut c = Count::default();
    let p = read_ot(common::suite("ot/pc2d_sqeuclid_n50.txt")).unwrap();
    ot::solve(&p, &OtSettings::default(), &mut c).unwrap();
    check(&c, "sns");
    // Sinkhorn and SNS do not evaluate the objective while iterating: NaN, and the marginal
    // violation as the residual.
    assert!(c.best.iter().all(|b| b.is_nan()));
    assert!(c.residual.iter().all(Option::is_some));
}
