//! Exact reference solvers for small instances, used by the tests of every heuristic.

mod maxcut;

pub use maxcut::{MAXCUT_BRUTE_FORCE_MAX_N, maxcut_brute_force};
