//! Helpers shared by the integration tests.
#![allow(dead_code)]

use mathprog::problems::generators::{self, Weights};
use mathprog::problems::graph::Graph;
use proptest::test_runner::{Config, RngSeed};
use std::path::PathBuf;

/// Deterministic proptest configuration (fixed seed, no persistence files).
pub fn config(cases: u32) -> Config {
    Config {
        cases,
        rng_seed: RngSeed::Fixed(20261123),
        failure_persistence: None,
        ..Config::default()
    }
}

/// Euclidean distance of two vectors (over the common length).
pub fn dist(a: &[f64], b: &[f64]) -> f64 {
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y) * (x - y))
        .sum::<f64>()
        .sqrt()
}

/// Path of a file under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// A file committed under `data/`.
pub fn data(rel: &str) -> PathBuf {
    repo("data").join(rel)
}

/// A file of the standard suites committed under `data/suites/` (the same layout as
/// `../shared/data`; sources and licences in `data/suites/README.md`).
pub fn suite(rel: &str) -> PathBuf {
    repo("data/suites").join(rel)
}

/// A file of the shared benchmark suites (`../shared/data`, beside the repository), or `None`
/// after printing one line that says what is skipped, when that folder is absent (a fresh clone).
/// Use: `let Some(path) = common::shared("gset/G22.txt", "the G22 run") else { return };`
pub fn shared(rel: &str, what: &str) -> Option<PathBuf> {
    let root = repo("../shared/data");
    if root.is_dir() {
        Some(root.join(rel))
    } else {
        // Straight to stderr, past the test harness's capture, so a skip is always visible.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr(),
            "skipped: {what} (needs ../shared/data/{rel}; the shared suites are not beside this clone)"
        );
        None
    }
}

/// Instances committed under `data/maxcut/`: (file name, generator).
pub fn bundled_maxcut() -> Vec<(&'static str, Graph)> {
    vec![
        (
            "er_n20_p50_pm1_s1.txt",
            generators::erdos_renyi(20, 0.5, Weights::PlusMinusOne, 1),
        ),
        (
            "er_n24_p30_unit_s3.txt",
            generators::erdos_renyi(24, 0.3, Weights::Unit, 3),
        ),
        (
            "torus_4x6_pm1_s2.txt",
            generators::torus_2d(4, 6, Weights::PlusMinusOne, 2),
        ),
    ]
}

/// Instances committed under `data/maxsat/`: (file name, format, variables, clauses).
pub fn bundled_maxsat() -> Vec<(
    &'static str,
    mathprog::problems::io::dimacs::SatFormat,
    usize,
    Vec<mathprog::problems::sat::Clause>,
)> {
    use mathprog::problems::io::dimacs::SatFormat;
    use mathprog::problems::sat::{Clause, Weight};
    // Unweighted MaxSAT (CNF): the soft part of a planted formula with unit weights.
    let cnf: Vec<Clause> = generators::planted_maxsat(20, 0, 120, 3, 1, 5)
        .into_iter()
        .filter(|c| c.weight != Weight::Hard)
        .collect();
    vec![
        (
            "wpms_n20_h40_s80_s1.wcnf",
            SatFormat::WcnfOld,
            20,
            generators::planted_maxsat(20, 40, 80, 3, 9, 1),
        ),
        (
            "pms_n20_h50_s60_s2.wcnf",
            SatFormat::WcnfNew,
            20,
            generators::planted_maxsat(20, 50, 60, 2, 1, 2),
        ),
        ("ms_n20_m120_s5.cnf", SatFormat::Cnf, 20, cnf),
    ]
}

/// Instances committed under `data/qubo/`: (file name, n, entries).
pub fn bundled_qubo() -> Vec<(&'static str, usize, Vec<mathprog::problems::qubo::Entry>)> {
    vec![(
        "rand_n20_d50_s1.bq",
        20,
        generators::random_qubo(20, 0.5, 100, 1),
    )]
}
