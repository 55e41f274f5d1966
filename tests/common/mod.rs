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

/// Path of a file under the repository root.
pub fn repo(rel: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// The shared benchmark data folder (`../shared/data`).
pub fn shared_data(rel: &str) -> PathBuf {
    repo("../shared/data").join(rel)
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
