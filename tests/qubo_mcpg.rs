//! QUBO: MCPG against brute force in both domains and senses, and the file formats.

mod common;

use mathprog::problems::binary::{BinaryObjective, Sense, Spin};
use mathprog::problems::exact::binary_brute_force;
use mathprog::problems::io::qubo::{read_qubo, write_bq};
use mathprog::problems::qubo::{Domain, Entry, Qubo};
use mathprog::solvers::binary::local_search::{Filter, is_local_optimum};
use mathprog::solvers::binary::mcpg::{self, McpgSettings};
use mathprog::solvers::core::NoObserver;
use proptest::prelude::*;

/// Random symmetric Q (upper triangle), n <= 14, integer values in [-9, 9].
fn arb_entries() -> impl Strategy<Value = (usize, Vec<Entry>)> {
    (1usize..=14, 0.2f64..1.0).prop_flat_map(|(n, density)| {
        let pairs: Vec<(usize, usize)> = (0..n).flat_map(|i| (i..n).map(move |j| (i, j))).collect();
        let np = pairs.len();
        proptest::collection::vec((0.0f64..1.0, -9i32..=9), np).prop_map(move |d| {
            let e: Vec<Entry> = pairs
                .iter()
                .zip(d)
                .filter(|(_, (r, q))| *r < density && *q != 0)
                .map(|(&(i, j), (_, q))| (i, j, f64::from(q)))
                .collect();
            (n, e)
        })
    })
}

fn arb_form() -> impl Strategy<Value = (Domain, Sense)> {
    (any::<bool>(), any::<bool>()).prop_map(|(a, b)| {
        (
            if a { Domain::ZeroOne } else { Domain::Spin },
            if b { Sense::Minimize } else { Sense::Maximize },
        )
    })
}

/// Best user objective by enumerating the domain directly from the entries.
fn brute(p: &Qubo) -> f64 {
    let n = p.num_vars();
    let vals = (0u32..1 << n).map(|code| {
        let s: Vec<Spin> = (0..n)
            .map(|i| if code >> i & 1 == 1 { 1 } else { -1 })
            .collect();
        p.value(&s)
    });
    match p.sense() {
        Sense::Minimize => vals.fold(f64::INFINITY, f64::min),
        Sense::Maximize => vals.fold(f64::NEG_INFINITY, f64::max),
    }
}

proptest! {
    #![proptest_config(common::config(64))]

    #[test]
    fn mcpg_finds_the_brute_force_optimum((n, e) in arb_entries(), (domain, sense) in arb_form(), seed in 0u64..1000) {
        let p = Qubo::new(n, e, domain, sense).unwrap();
        let opt = brute(&p);
        let (emin, _) = binary_brute_force(&p).unwrap();
        prop_assert!((p.objective(emin) - opt).abs() < 1e-9, "Ising transformation is exact");
        let mut s = McpgSettings::default();
        s.common.max_iter = Some(20);
        s.common.seed = seed;
        s.common.threads = Some(2);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        prop_assert!((r.objective - opt).abs() < 1e-9);
        prop_assert!((p.value(&r.solution) - opt).abs() < 1e-9);
        prop_assert!(is_local_optimum(&p, &r.solution));
    }

    #[test]
    fn paper_filter_finds_the_optimum((n, e) in arb_entries(), (domain, sense) in arb_form()) {
        let p = Qubo::new(n, e, domain, sense).unwrap();
        let opt = brute(&p);
        let mut s = McpgSettings::paper();
        s.groups = 16;
        s.copies = 8;
        s.filter = Filter::Greedy { sweeps: 3 };
        s.common.max_iter = Some(40);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        prop_assert!((p.value(&r.solution) - opt).abs() < 1e-9);
    }

    #[test]
    fn biq_mac_text_round_trips((n, e) in arb_entries()) {
        let p = Qubo::new(n, e, Domain::ZeroOne, Sense::Minimize).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("q.bq");
        write_bq(&f, &p).unwrap();
        let back = read_qubo(&f, Domain::ZeroOne, Sense::Minimize).unwrap();
        prop_assert_eq!(back.num_vars(), n);
        prop_assert_eq!(back.entries(), p.entries());
    }
}

#[test]
fn shared_npy_matrix_reads_and_matches_its_text_form() {
    let Some(path) = common::shared("qubo/nbiq_500.npy", "the 500x500 .npy QUBO") else {
        return;
    };
    let p = read_qubo(path, Domain::ZeroOne, Sense::Minimize).unwrap();
    assert_eq!(p.num_vars(), 500);
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("nbiq.bq");
    write_bq(&f, &p).unwrap();
    let q = read_qubo(&f, Domain::ZeroOne, Sense::Minimize).unwrap();
    let x: Vec<Spin> = (0..500).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
    assert_eq!(p.value(&x), q.value(&x));
    assert_eq!(p.energy(&x), p.value(&x));
}

#[test]
fn bundled_instance_reaches_its_brute_force_optimum() {
    let text = std::fs::read_to_string(common::repo("data/qubo/optimal.json")).unwrap();
    let optima: std::collections::BTreeMap<String, f64> = serde_json::from_str(&text).unwrap();
    for (name, opt) in optima {
        let p = read_qubo(
            common::repo(&format!("data/qubo/{name}")),
            Domain::ZeroOne,
            Sense::Minimize,
        )
        .unwrap();
        let mut s = McpgSettings::default();
        s.common.max_iter = Some(30);
        let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
        assert_eq!(r.objective, opt, "{name}");
    }
}
