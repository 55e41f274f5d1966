//! MCPG on MaxCut against exact answers, plus determinism, stopping and certificates.

mod common;

use mathprog::problems::exact::maxcut_brute_force;
use mathprog::problems::graph::{Edge, Graph};
use mathprog::problems::io::{gset::read_gset, partition::read_partition};
use mathprog::problems::maxcut::MaxCut;
use mathprog::solvers::binary::local_search::{Filter, is_local_optimum};
use mathprog::solvers::binary::mcpg::{self, McpgSettings, Sampler};
use mathprog::solvers::core::{Control, IterRecord, NoObserver, Observer, Status};
use proptest::prelude::*;

/// Random graphs with n <= 16 and mixed-sign integer weights in [-3, 3].
fn arb_graph() -> impl Strategy<Value = Graph> {
    (2usize..=16, 0.15f64..0.9).prop_flat_map(|(n, p)| {
        let pairs: Vec<(usize, usize)> = (0..n)
            .flat_map(|u| (u + 1..n).map(move |v| (u, v)))
            .collect();
        let np = pairs.len();
        proptest::collection::vec((0.0f64..1.0, -3i32..=3), np).prop_map(move |draws| {
            let edges: Vec<Edge> = pairs
                .iter()
                .zip(draws)
                .filter(|(_, (r, w))| *r < p && *w != 0)
                .map(|(&(u, v), (_, w))| (u, v, f64::from(w)))
                .collect();
            Graph::from_edges(n, &edges).unwrap()
        })
    })
}

fn settings(rounds: u64, seed: u64) -> McpgSettings {
    let mut s = McpgSettings::default();
    s.common.max_iter = Some(rounds);
    s.common.seed = seed;
    s.common.threads = Some(2);
    s
}

fn check_report(p: &MaxCut, r: &mathprog::solvers::binary::mcpg::McpgReport) {
    assert_eq!(r.solution.len(), p.graph().num_vertices());
    assert!(r.solution.iter().all(|&s| s == 1 || s == -1));
    assert_eq!(
        p.cut_value(&r.solution),
        r.objective,
        "reported cut must be the partition's cut"
    );
    assert!(
        is_local_optimum(p, &r.solution),
        "answers are polished to 1-flip local optima"
    );
}

proptest! {
    #![proptest_config(common::config(48))]

    #[test]
    fn default_mcpg_finds_the_brute_force_optimum(g in arb_graph(), seed in 0u64..1000) {
        let p = MaxCut::new(g);
        let (opt, _) = maxcut_brute_force(&p).unwrap();
        let r = mcpg::solve(&p, &settings(40, seed), &mut NoObserver).unwrap();
        check_report(&p, &r);
        prop_assert_eq!(r.objective, opt);
    }

    #[test]
    fn every_filter_finds_the_optimum(g in arb_graph(), which in 0usize..3) {
        let p = MaxCut::new(g);
        let (opt, _) = maxcut_brute_force(&p).unwrap();
        let mut s = McpgSettings::paper();
        s.groups = 16;
        s.copies = 8;
        s.common.max_iter = Some(60);
        s.filter = [
            Filter::Greedy { sweeps: 3 },
            Filter::LocalOpt { max_sweeps: 100 },
            Filter::Tabu { moves: 200, patience: 50, tenure: 3 },
        ][which];
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        check_report(&p, &r);
        prop_assert_eq!(r.objective, opt, "filter {:?}", s.filter);
    }

    #[test]
    fn target_stops_with_a_cut_at_least_the_target(g in arb_graph()) {
        let p = MaxCut::new(g);
        let (opt, _) = maxcut_brute_force(&p).unwrap();
        let mut s = settings(1000, 3);
        s.common.target = Some(opt);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        check_report(&p, &r);
        prop_assert_eq!(r.status, Status::TargetReached);
        prop_assert!(r.objective >= opt);
        prop_assert!(r.iterations < 1000);
    }
}

#[test]
fn bundled_and_shared_small_instances_reach_their_proven_optima() {
    let bundled: std::collections::BTreeMap<String, f64> = serde_json::from_str(
        &std::fs::read_to_string(common::repo("data/maxcut/optimal.json")).unwrap(),
    )
    .unwrap();
    let mut cases: Vec<(std::path::PathBuf, f64)> = bundled
        .iter()
        .map(|(k, v)| (common::data(&format!("maxcut/{k}.txt")), *v))
        .collect();
    // The suite's graphs committed here, then the rest of the shared set when it is beside us.
    let mut dirs = vec![common::suite("maxcut_small")];
    dirs.extend(common::shared(
        "maxcut_small",
        "three more small graphs with proven optima",
    ));
    let mut seen = std::collections::BTreeSet::new();
    for dir in dirs {
        let optima: std::collections::BTreeMap<String, f64> =
            serde_json::from_str(&std::fs::read_to_string(dir.join("optimal.json")).unwrap())
                .unwrap();
        for (k, v) in optima {
            if seen.insert(k.clone()) {
                cases.push((dir.join(format!("{k}.txt")), v));
            }
        }
    }
    for (path, opt) in cases {
        let p = MaxCut::new(read_gset(&path).unwrap());
        let r = mcpg::solve(&p, &settings(60, 1), &mut NoObserver).unwrap();
        check_report(&p, &r);
        assert_eq!(r.objective, opt, "{}", path.display());
    }
}

#[test]
fn same_seed_gives_the_same_answer_with_one_and_two_threads() {
    let p = MaxCut::new(read_gset(common::suite("gset/G14.txt")).unwrap());
    let mut runs = Vec::new();
    for threads in [1, 2, 2] {
        let mut s = settings(6, 42);
        s.common.threads = Some(threads);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        check_report(&p, &r);
        runs.push((r.objective, r.solution, r.stats.samples));
    }
    assert_eq!(runs[0], runs[1]);
    assert_eq!(runs[1], runs[2]);
    let mut s = settings(6, 43);
    s.common.threads = Some(2);
    let other = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_ne!(
        other.solution, runs[0].1,
        "a different seed explores differently"
    );
}

#[test]
fn policy_beats_random_restarts_at_equal_samples() {
    // The ablation of the benchmark, in miniature: same filter, same number of samples.
    let p = MaxCut::new(read_gset(common::suite("gset/G14.txt")).unwrap());
    let mut s = McpgSettings::paper();
    s.groups = 16;
    s.copies = 8;
    s.common.max_iter = Some(25);
    let mcpg = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    s.sampler = Sampler::RandomRestarts;
    let restarts = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(mcpg.stats.samples, restarts.stats.samples);
    assert!(
        mcpg.objective > restarts.objective,
        "mcpg {} vs restarts {}",
        mcpg.objective,
        restarts.objective
    );
}

#[test]
fn published_mcpg_partitions_evaluate_to_their_cuts() {
    let Some(dir) = common::shared("gset", "the published MCPG partitions of G14 and G15") else {
        return;
    };
    for (g, cut) in [("G14", 3064.0), ("G15", 3050.0)] {
        let p = MaxCut::new(read_gset(dir.join(format!("{g}.txt"))).unwrap());
        let x = read_partition(dir.join(format!("mcpg_solutions/{g}_{cut}.txt")), 800).unwrap();
        assert_eq!(p.cut_value(&x), cut);
    }
}

struct StopAfter(u64, Vec<f64>);
impl Observer for StopAfter {
    fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
        self.1.push(rec.best);
        if rec.iteration >= self.0 {
            Control::Stop
        } else {
            Control::Continue
        }
    }
}

#[test]
fn observer_and_stop_token_interrupt_with_the_best_solution() {
    let p = MaxCut::new(read_gset(common::suite("gset/G14.txt")).unwrap());
    let mut obs = StopAfter(3, Vec::new());
    let r = mcpg::solve(&p, &settings(1000, 1), &mut obs).unwrap();
    assert_eq!(r.status, Status::Interrupted);
    assert_eq!(r.iterations, 3);
    check_report(&p, &r);
    assert!(
        obs.1.windows(2).all(|w| w[1] >= w[0]),
        "best never decreases: {:?}",
        obs.1
    );
    assert!(r.objective >= *obs.1.last().unwrap());

    let s = settings(1000, 1);
    s.common.stop.stop();
    let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::Interrupted);
    check_report(&p, &r);
}

#[test]
fn time_limit_is_a_status_not_an_error() {
    // Only the status and the report's consistency: no quality is asserted after a wall-clock
    // limit (a loaded machine may get through few rounds).
    let p = MaxCut::new(read_gset(common::suite("gset/G14.txt")).unwrap());
    let mut s = McpgSettings::default();
    s.common.time_limit = Some(0.05);
    let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.status, Status::TimeLimit);
    check_report(&p, &r);
    assert!(r.elapsed >= 0.05);
}

#[test]
fn invalid_settings_are_errors() {
    let p = MaxCut::new(Graph::from_edges(3, &[(0, 1, 1.0)]).unwrap());
    let mut s = settings(5, 1);
    s.initial = Some(vec![1, -1]);
    assert!(
        mcpg::solve(&p, &s, &mut NoObserver)
            .unwrap_err()
            .to_string()
            .contains("dimension mismatch")
    );
    s.initial = Some(vec![1, 0, 1]);
    assert!(mcpg::solve(&p, &s, &mut NoObserver).is_err());
    let mut s = settings(5, 1);
    s.common.time_limit = Some(f64::NAN);
    assert!(mcpg::solve(&p, &s, &mut NoObserver).is_err());
    let mut s = settings(5, 1);
    s.groups = 0;
    assert!(mcpg::solve(&p, &s, &mut NoObserver).is_err());
}

#[test]
fn warm_start_is_never_lost_and_edge_cases_work() {
    let p = MaxCut::new(read_gset(common::repo("data/maxcut/er_n24_p30_unit_s3.txt")).unwrap());
    let (opt, x) = maxcut_brute_force(&p).unwrap();
    let mut s = settings(1, 9);
    s.initial = Some(x);
    let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.objective, opt);
    // No vertices, and no edges.
    for n in [0, 1, 5] {
        let p = MaxCut::new(Graph::from_edges(n, &[]).unwrap());
        let r = mcpg::solve(&p, &settings(3, 1), &mut NoObserver).unwrap();
        assert_eq!(r.objective, 0.0);
        assert_eq!(r.solution.len(), n);
    }
}

#[test]
fn restarts_keep_the_overall_best() {
    let p = MaxCut::new(read_gset(common::repo("data/maxcut/er_n24_p30_unit_s3.txt")).unwrap());
    let (opt, _) = maxcut_brute_force(&p).unwrap();
    let mut s = settings(40, 4);
    s.restart_after = Some(1);
    let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    check_report(&p, &r);
    assert!(r.stats.restarts > 3, "{:?}", r.stats);
    assert_eq!(r.objective, opt);
    s.restart_after = None;
    let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
    assert_eq!(r.stats.restarts, 0);
}

/// Real weights: incrementally updated energies drift in their last digits, which must not
/// count as progress. The best is compared on exact energies, so a stall is detected and the
/// round of the best is the round its cut was first reached.
#[test]
fn real_weights_stall_and_report_the_round_of_the_best() {
    use rand::SeedableRng;
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
    let n = 120;
    let mut edges: Vec<Edge> = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    while edges.len() < 600 {
        let (a, b) = (rng.random_range(0..n), rng.random_range(0..n));
        if a != b && seen.insert((a.min(b), a.max(b))) {
            edges.push((a.min(b), a.max(b), 0.1 + 0.9 * rng.random::<f64>()));
        }
    }
    let p = MaxCut::new(Graph::from_edges(n, &edges).unwrap());
    let mut s = McpgSettings::default();
    s.common.max_iter = Some(3000);
    s.common.threads = Some(2);
    s.stall_rounds = Some(30);
    struct Best(Vec<(u64, f64, bool)>);
    impl Observer for Best {
        fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
            self.0.push((rec.iteration, rec.best, rec.improved));
            Control::Continue
        }
    }
    let mut obs = Best(Vec::new());
    let r = mcpg::solve(&p, &s, &mut obs).unwrap();
    assert_eq!(r.status, Status::Stalled, "{} rounds", r.iterations);
    assert!(r.iterations < 3000);
    // Every round marked as improving raised the best; the stall ends the run 30 rounds after
    // the last one (records count rounds from 1).
    let improving: Vec<_> = obs.0.iter().filter(|x| x.2).collect();
    assert!(improving.windows(2).all(|w| w[1].1 > w[0].1));
    assert_eq!(improving.last().unwrap().0 + 30, r.iterations);
    assert_eq!(r.objective, p.cut_value(&r.solution));
}
