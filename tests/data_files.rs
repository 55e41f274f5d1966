//! The committed instances under `data/` are exactly what our seeded generators write, and each
//! folder's `optimal.json` holds their brute-force optima.
//!
//! Regenerate with `MATHPROG_REGENERATE_DATA=1 cargo test --test data_files`.

mod common;

use mathprog::problems::binary::Sense;
use mathprog::problems::exact::ot_exact;
use mathprog::problems::exact::{binary_brute_force, maxcut_brute_force};
use mathprog::problems::generators;
use mathprog::problems::io::dimacs::{SatFormat, read_maxsat, write_sat_to};
use mathprog::problems::io::gset::{read_gset, write_gset_to};
use mathprog::problems::io::ot::{read_grid, write_grid};
use mathprog::problems::io::qubo::read_qubo;
use mathprog::problems::maxcut::MaxCut;
use mathprog::problems::ot::{GroundCost, OtProblem};
use mathprog::problems::qubo::{Domain, Qubo};
use std::collections::BTreeMap;
use std::path::Path;

fn regenerate() -> bool {
    std::env::var_os("MATHPROG_REGENERATE_DATA").is_some()
}

/// Write (when regenerating) and compare the committed bytes.
fn check_bytes(path: &Path, bytes: &[u8]) {
    if regenerate() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let committed = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!(
        committed,
        bytes,
        "{} differs from its generator",
        path.display()
    );
}

fn check_optima<T: serde::Serialize + serde::de::DeserializeOwned + PartialEq + std::fmt::Debug>(
    json: &Path,
    optima: &BTreeMap<String, T>,
) {
    if regenerate() {
        std::fs::write(json, serde_json::to_string_pretty(optima).unwrap() + "\n").unwrap();
    }
    let stored: BTreeMap<String, T> =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    assert_eq!(&stored, optima);
}

#[test]
fn bundled_maxcut_instances_match_generators_and_optima() {
    let dir = common::repo("data/maxcut");
    let mut optima = BTreeMap::new();
    for (name, graph) in common::bundled_maxcut() {
        let mut bytes = Vec::new();
        write_gset_to(&mut bytes, &graph).unwrap();
        let path = dir.join(name);
        check_bytes(&path, &bytes);
        let p = MaxCut::new(read_gset(&path).unwrap());
        let (opt, x) = maxcut_brute_force(&p).unwrap();
        assert_eq!(p.cut_value(&x), opt);
        optima.insert(name.trim_end_matches(".txt").to_string(), opt);
    }
    check_optima(&dir.join("optimal.json"), &optima);
}

#[test]
fn bundled_maxsat_instances_match_generators_and_optima() {
    let dir = common::repo("data/maxsat");
    let mut optima = BTreeMap::new();
    for (name, format, n, clauses) in common::bundled_maxsat() {
        let mut bytes = Vec::new();
        write_sat_to(&mut bytes, format, n, &clauses).unwrap();
        let path = dir.join(name);
        check_bytes(&path, &bytes);
        let p = read_maxsat(&path).unwrap();
        let (e, x) = binary_brute_force(&p).unwrap();
        let v = p.evaluate(&x);
        assert!(v.feasible(), "{name}: planted hard clauses are satisfiable");
        assert_eq!(e, v.cost as f64);
        optima.insert(name.to_string(), v.cost);
    }
    assert!(
        common::bundled_maxsat()
            .iter()
            .any(|b| b.1 == SatFormat::Cnf)
    );
    check_optima(&dir.join("optimal.json"), &optima);
}

#[test]
fn bundled_qubo_instances_match_generators_and_optima() {
    let dir = common::repo("data/qubo");
    let mut optima = BTreeMap::new();
    for (name, n, entries) in common::bundled_qubo() {
        let q = Qubo::new(n, entries, Domain::ZeroOne, Sense::Minimize).unwrap();
        let path = dir.join(name);
        let mut bytes = Vec::new();
        mathprog::problems::io::qubo::write_bq_to(&mut bytes, &q).unwrap();
        check_bytes(&path, &bytes);
        let p = read_qubo(&path, Domain::ZeroOne, Sense::Minimize).unwrap();
        let (e, x) = binary_brute_force(&p).unwrap();
        assert_eq!(e, p.value(&x));
        optima.insert(name.to_string(), e);
    }
    check_optima(&dir.join("optimal.json"), &optima);
}

#[test]
fn bundled_ot_grids_match_generators_and_exact_w2() {
    let dir = common::repo("data/ot");
    let mut grids = Vec::new();
    for (name, shape, components, seed) in [
        ("mix_12x12_k2_s1.txt", [12usize, 12], 2usize, 1u64),
        ("mix_16x16_k3_s2.txt", [16, 16], 3, 2),
    ] {
        let g = generators::gaussian_mixture_grid(&shape, components, seed);
        let path = dir.join(name);
        if regenerate() {
            write_grid(&path, &g).unwrap();
        }
        // Compared by value: the weights go through the platform's exp, which may differ in
        // the last bit between C libraries.
        let back = read_grid(&path).unwrap();
        assert_eq!(back.shape(), g.shape());
        assert_eq!(back.spacing(), g.spacing());
        for (x, y) in back.weights().iter().zip(g.weights()) {
            assert!((x - y).abs() <= 1e-14 * y, "{name}: {x} vs {y}");
        }
        grids.push(back);
    }
    let (p, _) = OtProblem::from_grids(&grids[0], &grids[1], GroundCost::SqEuclidean).unwrap();
    let (emd, _) = ot_exact(&p).unwrap();
    let mut optima = BTreeMap::new();
    optima.insert(
        "mix_12x12_k2_s1.txt -> mix_16x16_k3_s2.txt, sqeuclidean (W2^2)".to_string(),
        emd,
    );
    check_optima(&dir.join("optimal.json"), &optima);
}
