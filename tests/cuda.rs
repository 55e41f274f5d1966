//! The CPU/GPU backend: `auto` falls back to the CPU and says so, `cuda` fails clearly without a
//! device, and (feature `cuda`, when a GPU is usable) every GPU kernel matches its CPU twin to
//! 1e-10 and the offloaded solvers give the CPU's answers. The GPU tests print why they skip
//! on a machine without a usable device.

mod common;

use mathprog::problems::ot::OtProblem;
use mathprog::solvers::binary::mcpg::{self, McpgSettings};
use mathprog::solvers::core::{NoObserver, SolveError, rng_from_words, rng_words, stream_rng};
use mathprog::solvers::linalg::backend::{Backend, gpu_unavailable_reason, select};
use mathprog::solvers::ot::{OtSettings, sinkhorn};
use rand::Rng;

/// A 60 × 50 transport problem on a line with uneven weights.
fn ot_problem() -> OtProblem {
    let (n, m) = (60, 50);
    let a: Vec<f64> = (0..n).map(|i| 1.0 + (i % 5) as f64).collect();
    let b: Vec<f64> = (0..m).map(|j| 1.0 + (j % 3) as f64).collect();
    let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
    let cost = (0..n * m)
        .map(|k| {
            let d = (k / m) as f64 / n as f64 - (k % m) as f64 / m as f64;
            d * d
        })
        .collect();
    OtProblem::from_row_major(
        a.iter().map(|x| x / sa).collect(),
        b.iter().map(|x| x / sb).collect(),
        cost,
    )
    .unwrap()
}

fn ot_settings(backend: Backend) -> OtSettings {
    let mut s = OtSettings::default();
    s.reg = 0.01;
    s.tol = 1e-10;
    s.common.threads = Some(2);
    s.common.backend = backend;
    s
}

#[test]
fn cpu_backend_never_notes_anything() {
    let r = sinkhorn::solve(&ot_problem(), &ot_settings(Backend::Cpu), &mut NoObserver).unwrap();
    assert_eq!(r.backend.name, "cpu");
    assert_eq!(r.backend.note, None);
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["backend"]["name"], "cpu");
}

#[test]
fn auto_runs_on_the_cpu_and_says_so_without_a_gpu() {
    let p = ot_problem();
    let cpu = sinkhorn::solve(&p, &ot_settings(Backend::Cpu), &mut NoObserver).unwrap();
    let auto = sinkhorn::solve(&p, &ot_settings(Backend::Auto), &mut NoObserver).unwrap();
    match gpu_unavailable_reason() {
        Some(why) => {
            assert_eq!(auto.backend.name, "cpu");
            let note = auto.backend.note.as_deref().expect("a note saying why");
            assert!(
                note.contains("ran on the CPU") && note.contains(&why),
                "{note}"
            );
            // Exactly the CPU run.
            assert_eq!(auto.solution.f, cpu.solution.f);
            assert_eq!(auto.iterations, cpu.iterations);
            // An explicit request fails and says why.
            match sinkhorn::solve(&p, &ot_settings(Backend::Cuda), &mut NoObserver) {
                Err(SolveError::Unavailable(m)) => assert!(m.contains(&why), "{m}"),
                other => panic!("expected an Unavailable error, got {other:?}"),
            }
        }
        None => {
            assert_eq!(auto.backend.name, "cuda");
            assert!(auto.backend.device.is_some());
            assert!((auto.objective - cpu.objective).abs() <= 1e-9 * cpu.objective.abs());
        }
    }
}

#[test]
fn methods_without_gpu_kernels_say_they_ran_on_the_cpu() {
    let sel = select(Backend::Cpu, "x").unwrap();
    assert!(!sel.is_gpu());
    // MCPG on MaxSAT has no GPU chains: the report says so whatever the machine.
    let cnf = "p cnf 3 2\n1 -2 0\n2 3 0\n";
    let f = mathprog::problems::io::dimacs::parse_sat(cnf, std::path::Path::new("t.cnf"))
        .unwrap()
        .into_problem()
        .unwrap();
    let mut s = McpgSettings::default();
    s.common.max_iter = Some(3);
    s.common.backend = Backend::Auto;
    let r = mcpg::solve(&f, &s, &mut NoObserver).unwrap();
    assert_eq!(r.backend.name, "cpu");
    assert!(r.backend.note.is_some(), "{:?}", r.backend);
}

#[test]
fn rng_state_words_round_trip() {
    // The GPU chains continue the CPU streams from their state words.
    let mut a = stream_rng(7, 3, 11);
    for _ in 0..5 {
        a.next_u64();
    }
    let mut b = rng_from_words(&rng_words(&a));
    for _ in 0..100 {
        assert_eq!(a.next_u64(), b.next_u64());
    }
}

/// The GPU tests (feature `cuda`): they skip, printing why, when no GPU is usable.
#[cfg(feature = "cuda")]
mod gpu {
    use super::*;
    use mathprog::problems::generators::{self, Weights};
    use mathprog::problems::maxcut::MaxCut;
    use mathprog::problems::sdp::MaxCutSdp;
    use mathprog::solvers::ot::sns;
    use mathprog::solvers::sdp::maxcut::{self as sdp_maxcut, MaxCutSdpSettings};

    /// The GPU, or `None` with the reason printed (the test then checks nothing more).
    fn gpu_or_skip(test: &str) -> Option<std::sync::Arc<mathprog::solvers::linalg::cuda::Gpu>> {
        match mathprog::solvers::linalg::cuda::Gpu::get() {
            Ok(g) => Some(g),
            Err(why) => {
                // Skip only where there is no device at all; a device whose set-up fails
                // (kernel compilation, say) fails the test.
                assert!(
                    !mathprog::solvers::linalg::cuda::Gpu::device_present(),
                    "{test}: a CUDA device is present but unusable: {why}"
                );
                eprintln!("{test}: skipped, no usable GPU: {why}");
                None
            }
        }
    }

    #[test]
    fn every_gpu_kernel_matches_its_cpu_twin() {
        use mathprog::solvers::gpu_checks::{Scale, check_all};
        let Some(gpu) = gpu_or_skip("every_gpu_kernel_matches_its_cpu_twin") else {
            return;
        };
        let mut common = mathprog::solvers::core::Common::default();
        common.threads = Some(2);
        let pool = common.thread_pool().unwrap();
        for seed in [1, 2, 3] {
            let checks = check_all(&gpu, Scale::Test, seed, 1, &pool).unwrap();
            assert!(checks.len() >= 10);
            for c in &checks {
                eprintln!("{} {}: {:.1e}", c.kernel, c.size, c.rel_err);
                assert!(
                    c.rel_err <= 1e-10,
                    "seed {seed}: {} ({}) differs from its CPU twin by {:.1e}",
                    c.kernel,
                    c.size,
                    c.rel_err
                );
            }
        }
    }

    #[test]
    fn offloaded_solvers_give_the_cpu_answers() {
        let Some(_gpu) = gpu_or_skip("offloaded_solvers_give_the_cpu_answers") else {
            return;
        };
        // Sinkhorn and SNS.
        let p = ot_problem();
        for solver in [sinkhorn::solve, sns::solve] {
            let c = solver(&p, &ot_settings(Backend::Cpu), &mut NoObserver).unwrap();
            let g = solver(&p, &ot_settings(Backend::Cuda), &mut NoObserver).unwrap();
            assert_eq!(g.backend.name, "cuda");
            assert_eq!(g.status, c.status);
            assert!(g.residuals.marginal_l1 <= 1e-10);
            assert!(
                (g.objective - c.objective).abs() <= 1e-9 * c.objective.abs(),
                "{} vs {}",
                g.objective,
                c.objective
            );
        }
        // MCPG on MaxCut: the chains use the CPU's random streams, so the answer is the CPU's.
        let graph = generators::erdos_renyi(60, 0.1, Weights::PlusMinusOne, 5);
        let mc = MaxCut::new(graph.clone());
        let mut s = McpgSettings::default();
        s.common.max_iter = Some(15);
        s.common.seed = 3;
        let c = mcpg::solve(&mc, &s, &mut NoObserver).unwrap();
        s.common.backend = Backend::Cuda;
        let g = mcpg::solve(&mc, &s, &mut NoObserver).unwrap();
        assert_eq!(g.backend.name, "cuda");
        assert_eq!(g.solution, c.solution);
        assert_eq!(g.objective, c.objective);
        assert_eq!(g.stats.accepted_flips, c.stats.accepted_flips);
        // The MaxCut SDP: the same certified bound up to Lanczos rounding.
        let sdp = MaxCutSdp::new(graph);
        let mut ss = MaxCutSdpSettings::default();
        ss.tol = 1e-6;
        let c = sdp_maxcut::solve(&sdp, &ss, &mut NoObserver).unwrap();
        ss.common.backend = Backend::Cuda;
        let g = sdp_maxcut::solve(&sdp, &ss, &mut NoObserver).unwrap();
        assert_eq!(g.backend.name, "cuda");
        let (bc, bg) = (c.bound.unwrap(), g.bound.unwrap());
        assert!((bc - bg).abs() <= 1e-6 * bc.abs(), "{bg} vs {bc}");
        assert!(g.objective <= bg + 1e-9);
    }
}
