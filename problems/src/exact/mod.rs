//! Exact reference solvers for small instances, used by the tests of every heuristic.

mod binary;
mod game;
mod maxcut;
mod ot;

pub use binary::{BINARY_BRUTE_FORCE_MAX_N, binary_brute_force};
pub use game::{GAME_EXACT_MAX, game_exact};
pub use maxcut::{MAXCUT_BRUTE_FORCE_MAX_N, maxcut_brute_force};
pub use ot::ot_exact;
