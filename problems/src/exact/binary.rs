//! Exact minimisation of any [`BinaryObjective`] by Gray-code enumeration.
//!
//! All `2ⁿ` assignments are visited in reflected Gray-code order, so consecutive ones differ in
//! one variable and the energy is updated with the problem's own flip delta. The minimiser is
//! re-evaluated from scratch, so no rounding drift of the running sum leaks out.

use crate::binary::{BinaryObjective, Spin};
use crate::error::ProblemError;

/// Largest `n` accepted by [`binary_brute_force`].
pub const BINARY_BRUTE_FORCE_MAX_N: usize = 24;

/// Minimum energy and one minimiser (the first found in Gray-code order, starting from all
/// `+1`). Errors when `n > BINARY_BRUTE_FORCE_MAX_N`.
pub fn binary_brute_force<P: BinaryObjective>(p: &P) -> Result<(f64, Vec<Spin>), ProblemError> {
    let n = p.num_vars();
    if n > BINARY_BRUTE_FORCE_MAX_N {
        return Err(ProblemError::Invalid(format!(
            "brute force handles n <= {BINARY_BRUTE_FORCE_MAX_N}, got n = {n}"
        )));
    }
    let mut x: Vec<Spin> = vec![1; n];
    let mut st = p.init_state(&x);
    let mut e = p.energy(&x);
    let mut best = e;
    let mut best_x = x.clone();
    for k in 1u64..(1u64 << n) {
        let v = k.trailing_zeros() as usize;
        e += p.flip_delta(&st, &x, v);
        p.flip(&mut st, &mut x, v);
        if e < best - 1e-9 * best.abs().max(1.0) {
            best = e;
            best_x.copy_from_slice(&x);
        }
    }
    Ok((p.energy(&best_x), best_x))
}
