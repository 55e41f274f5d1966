//! MaxSAT: MCPG against brute force on random weighted partial formulas, the shared small
//! instances against their proven optima, and the three file formats against each other.

mod common;

use mathprog::problems::binary::{BinaryObjective, Spin};
use mathprog::problems::exact::binary_brute_force;
use mathprog::problems::io::dimacs::{SatFormat, parse_sat, read_maxsat, read_sat, write_sat};
use mathprog::problems::sat::{Clause, MaxSat};
use mathprog::solvers::binary::local_search::{Filter, is_local_optimum};
use mathprog::solvers::binary::mcpg::{self, McpgSettings};
use mathprog::solvers::core::NoObserver;
use proptest::prelude::*;
use std::path::Path;

/// A random clause of length 1..=3 over n variables.
fn arb_lits(n: usize) -> impl Strategy<Value = Vec<i32>> {
    proptest::collection::vec((1..=n as i32, any::<bool>()), 1..=3).prop_map(|v| {
        v.into_iter()
            .map(|(x, neg)| if neg { -x } else { x })
            .collect()
    })
}

/// Random weighted partial MaxSAT with n <= 12 variables: hard clauses satisfied by a planted
/// assignment (so the hard part is satisfiable), soft clauses with weights 1..=9.
fn arb_formula() -> impl Strategy<Value = (usize, Vec<Clause>)> {
    (1usize..=12).prop_flat_map(|n| {
        (
            Just(n),
            proptest::collection::vec(any::<bool>(), n),
            proptest::collection::vec(arb_lits(n), 0..=2 * n),
            proptest::collection::vec((1u64..=9, arb_lits(n)), 1..=4 * n),
        )
            .prop_map(|(n, plant, hard, soft)| {
                let holds = |l: &i32| plant[l.unsigned_abs() as usize - 1] == (*l > 0);
                let mut clauses: Vec<Clause> = hard
                    .into_iter()
                    .filter(|c| c.iter().any(holds))
                    .map(Clause::hard)
                    .collect();
                clauses.extend(soft.into_iter().map(|(w, c)| Clause::soft(w, c)));
                (n, clauses)
            })
    })
}

fn settings(rounds: u64, seed: u64) -> McpgSettings {
    let mut s = McpgSettings::maxsat();
    s.common.max_iter = Some(rounds);
    s.common.seed = seed;
    s.common.threads = Some(2);
    s
}

/// Exact optimum cost by brute force over all assignments that satisfy the hard clauses.
fn brute_cost(p: &MaxSat) -> Option<u64> {
    let n = p.num_vars();
    (0u32..1 << n)
        .filter_map(|code| {
            let x: Vec<Spin> = (0..n)
                .map(|i| if code >> i & 1 == 1 { 1 } else { -1 })
                .collect();
            let v = p.evaluate(&x);
            v.feasible().then_some(v.cost)
        })
        .min()
}

proptest! {
    #![proptest_config(common::config(64))]

    #[test]
    fn mcpg_finds_the_brute_force_optimum((n, clauses) in arb_formula(), seed in 0u64..1000) {
        let p = MaxSat::new(n, clauses).unwrap();
        let opt = brute_cost(&p).expect("planted hard clauses are satisfiable");
        // The generic Gray-code brute force on the penalised energy agrees.
        let (e, _) = binary_brute_force(&p).unwrap();
        prop_assert_eq!(e, opt as f64);
        let r = mcpg::solve(&p, &settings(20, seed), &mut NoObserver).unwrap();
        let v = p.evaluate(&r.solution);
        prop_assert!(v.feasible());
        prop_assert_eq!(v.cost, opt);
        prop_assert_eq!(r.objective, opt as f64);
        prop_assert!(is_local_optimum(&p, &r.solution));
    }

    #[test]
    fn paper_filter_finds_the_optimum((n, clauses) in arb_formula(), seed in 0u64..1000) {
        let p = MaxSat::new(n, clauses).unwrap();
        let opt = brute_cost(&p).unwrap();
        let mut s = settings(40, seed);
        s.filter = Filter::Greedy { sweeps: 2 };
        s.groups = 16;
        s.copies = 8;
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        prop_assert_eq!(p.evaluate(&r.solution).cost, opt);
    }

    #[test]
    fn flip_deltas_match_recomputation((n, clauses) in arb_formula(), flips in proptest::collection::vec(0usize..12, 1..40)) {
        let p = MaxSat::new(n, clauses).unwrap();
        let mut x: Vec<Spin> = vec![-1; n];
        let mut st = p.init_state(&x);
        for v in flips.into_iter().map(|v| v % n) {
            let e0 = p.energy(&x);
            let d = p.flip_delta(&st, &x, v);
            p.flip(&mut st, &mut x, v);
            prop_assert!((p.energy(&x) - e0 - d).abs() < 1e-9);
            prop_assert_eq!(p.energy(&x), p.energy_of_value(&p.evaluate(&x)));
        }
        prop_assert_eq!(&st, &p.init_state(&x));
    }

    #[test]
    fn old_and_new_wcnf_round_trip_to_the_same_formula((n, clauses) in arb_formula()) {
        let dir = tempfile::tempdir().unwrap();
        let old = dir.path().join("old.wcnf");
        let new = dir.path().join("new.wcnf");
        write_sat(&old, SatFormat::WcnfOld, n, &clauses).unwrap();
        write_sat(&new, SatFormat::WcnfNew, n, &clauses).unwrap();
        let a = read_sat(&old).unwrap();
        let b = read_sat(&new).unwrap();
        prop_assert_eq!(a.format, SatFormat::WcnfOld);
        prop_assert_eq!(b.format, SatFormat::WcnfNew);
        prop_assert_eq!(&a.clauses, &clauses);
        prop_assert_eq!(&b.clauses, &clauses);
        prop_assert_eq!(a.num_vars, n);
        // The new format has no p line: it knows only the variables that occur.
        prop_assert!(b.num_vars <= n);
    }
}

fn optimal(name: &str) -> u64 {
    let text = std::fs::read_to_string(common::suite("maxsat/small/optimal.json")).unwrap();
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v[name].as_u64().unwrap()
}

#[test]
fn shared_small_instances_reach_their_proven_optima() {
    for name in [
        "max2sat_n60_m360.cnf",
        "max3sat_n40_m400.cnf",
        "pmax2sat_n120_h360_s120.wcnf",
        "wpmaxsat_n50_h150_s250.wcnf",
        "new_format/pmax2sat_n120_h360_s120.wcnf",
        "new_format/wpmaxsat_n50_h150_s250.wcnf",
    ] {
        let p = read_maxsat(common::suite(&format!("maxsat/small/{name}"))).unwrap();
        let opt = optimal(name.trim_start_matches("new_format/"));
        let mut s = settings(100, 1);
        s.common.target = Some(opt as f64);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        let v = p.evaluate(&r.solution);
        assert!(v.feasible(), "{name}: hard clauses violated");
        assert_eq!(
            v.cost, opt,
            "{name}: cost {} instead of the proven optimum {opt}",
            v.cost
        );
        // Certificate that the optimum is not below: the heuristic can never beat a proven optimum.
        assert!(v.cost >= opt);
    }
}

#[test]
fn shared_min2sat_reads_identically_in_both_formats() {
    let Some(dir) = common::shared("maxsat", "min2sat in both WCNF formats") else {
        return;
    };
    let old = read_sat(dir.join("clq1-cv160c800l2g1.wcnf")).unwrap();
    let new = read_sat(dir.join("new_format/clq1-cv160c800l2g1.wcnf")).unwrap();
    assert_eq!(old.format, SatFormat::WcnfOld);
    assert_eq!(new.format, SatFormat::WcnfNew);
    let key = |c: &Clause| format!("{:?}", c);
    let mut a: Vec<String> = old.clauses.iter().map(key).collect();
    let mut b: Vec<String> = new.clauses.iter().map(key).collect();
    a.sort();
    b.sort();
    assert_eq!(a, b);
    let p = old.into_problem().unwrap();
    assert_eq!((p.num_vars(), p.num_soft()), (800, 401));
}

#[test]
fn infeasible_hard_clauses_are_reported_not_hidden() {
    // x1 and not x1 both hard: no assignment satisfies them.
    let p = MaxSat::new(
        2,
        vec![
            Clause::hard(vec![1]),
            Clause::hard(vec![-1]),
            Clause::soft(2, vec![2]),
        ],
    )
    .unwrap();
    let r = mcpg::solve(&p, &settings(5, 1), &mut NoObserver).unwrap();
    let v = p.evaluate(&r.solution);
    assert_eq!(v.hard_violated, 1);
    assert_eq!(v.cost, 0);
    assert_eq!(r.objective, p.hard_weight());
}

#[test]
fn parse_errors_are_located() {
    let e = parse_sat("p wcnf 3 1 10\n5 1 4 0\n", Path::new("x.wcnf")).unwrap_err();
    assert_eq!(
        e.to_string(),
        "x.wcnf:2: literal 4: variable 4 is out of range; the p line declares 3 variables"
    );
}

#[test]
fn bundled_instances_reach_their_brute_force_optima() {
    let text = std::fs::read_to_string(common::repo("data/maxsat/optimal.json")).unwrap();
    let optima: std::collections::BTreeMap<String, u64> = serde_json::from_str(&text).unwrap();
    assert_eq!(optima.len(), 3);
    for (name, opt) in optima {
        let p = read_maxsat(common::repo(&format!("data/maxsat/{name}"))).unwrap();
        let r = mcpg::solve(&p, &settings(30, 7), &mut NoObserver).unwrap();
        let v = p.evaluate(&r.solution);
        assert!(v.feasible(), "{name}");
        assert_eq!(v.cost, opt, "{name}");
    }
}
