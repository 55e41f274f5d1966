//! Exact value and optimal strategies of a small matrix game by the simplex method.
//!
//! With `c = 1 − min A` the shifted game `A' = A + c` has a positive value `v'`, and
//! `p = x / v'` turns the row player's problem `min_x max_j (A'ᵀx)_j` into the LP
//! `max 1ᵀp s.t. A'ᵀp ≤ 1, p ≥ 0` (`1ᵀp = 1/v'`), whose slack basis is feasible: no phase 1.
//! The dual `min 1ᵀq s.t. A'q ≥ 1, q ≥ 0` gives the column player `y = q v'`, read off the
//! reduced costs of the slacks. Dense tableau, Bland's rule (no cycling); exact up to rounding.

use crate::error::ProblemError;
use crate::game::MatrixGame;

/// Largest `m + n` accepted by [`game_exact`] (a dense tableau).
pub const GAME_EXACT_MAX: usize = 400;

/// Value and optimal strategies of a matrix game: `(value, x, y)` with `x` the minimising row
/// player's and `y` the maximising column player's mixed strategy.
pub fn game_exact(g: &MatrixGame) -> Result<(f64, Vec<f64>, Vec<f64>), ProblemError> {
    let (m, n) = (g.rows(), g.cols());
    if m + n > GAME_EXACT_MAX {
        return Err(ProblemError::Invalid(format!(
            "game_exact: m + n = {} is above {GAME_EXACT_MAX}",
            m + n
        )));
    }
    let amin = (0..m)
        .flat_map(|i| g.row(i).iter().copied())
        .fold(f64::INFINITY, f64::min);
    let shift = 1.0 - amin;
    // Tableau: n constraint rows over columns [p (m) | s (n) | rhs], objective row last.
    let w = m + n + 1;
    let mut t = vec![0.0; (n + 1) * w];
    for j in 0..n {
        for i in 0..m {
            t[j * w + i] = g.entry(i, j) + shift;
        }
        t[j * w + m + j] = 1.0;
        t[j * w + m + n] = 1.0;
    }
    for i in 0..m {
        t[n * w + i] = -1.0;
    }
    let mut basis: Vec<usize> = (m..m + n).collect();
    let eps = 1e-12;
    for _ in 0..100_000 {
        // Bland: the first column with a negative reduced cost enters.
        let Some(e) = (0..m + n).find(|&c| t[n * w + c] < -eps) else {
            break;
        };
        // Ratio test; ties to the smallest basic index.
        let mut leave: Option<(usize, f64)> = None;
        for r in 0..n {
            let a = t[r * w + e];
            if a > eps {
                let ratio = t[r * w + m + n] / a;
                let better = match leave {
                    None => true,
                    Some((lr, lratio)) => {
                        ratio < lratio - 1e-15 || (ratio <= lratio + 1e-15 && basis[r] < basis[lr])
                    }
                };
                if better {
                    leave = Some((r, ratio));
                }
            }
        }
        let Some((r, _)) = leave else {
            return Err(ProblemError::Invalid(
                "game_exact: unbounded LP (cannot happen for a shifted game)".into(),
            ));
        };
        let piv = t[r * w + e];
        for c in 0..w {
            t[r * w + c] /= piv;
        }
        for rr in 0..=n {
            if rr != r {
                let f = t[rr * w + e];
                if f != 0.0 {
                    for c in 0..w {
                        t[rr * w + c] -= f * t[r * w + c];
                    }
                }
            }
        }
        basis[r] = e;
    }
    let z = t[n * w + m + n];
    let vprime = 1.0 / z;
    let mut x = vec![0.0; m];
    for (r, &b) in basis.iter().enumerate() {
        if b < m {
            x[b] = t[r * w + m + n] * vprime;
        }
    }
    let y: Vec<f64> = (0..n).map(|j| t[n * w + m + j] * vprime).collect();
    // The value from the strategies' own bounds (more accurate than 1/z − shift).
    let (_, hi, lo) = g.gap(&x, &y);
    Ok((0.5 * (hi + lo), x, y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_games() {
        // Rock-paper-scissors: value 0, uniform strategies.
        let rps =
            MatrixGame::from_row_major("rps", 3, 3, vec![0., -1., 1., 1., 0., -1., -1., 1., 0.])
                .unwrap();
        let (v, x, y) = game_exact(&rps).unwrap();
        assert!(v.abs() < 1e-12);
        for p in x.iter().chain(&y) {
            assert!((p - 1.0 / 3.0).abs() < 1e-12);
        }
        // Matching pennies with a bias: [[2, -1], [-1, 1]] (row minimises): value 1/5.
        let g = MatrixGame::from_row_major("mp", 2, 2, vec![2., -1., -1., 1.]).unwrap();
        let (v, x, y) = game_exact(&g).unwrap();
        assert!((v - 0.2).abs() < 1e-12, "{v}");
        assert!(
            (x[0] - 0.4).abs() < 1e-12 && (y[0] - 0.4).abs() < 1e-12,
            "{x:?} {y:?}"
        );
        // A saddle point in pure strategies.
        let g = MatrixGame::from_row_major("pure", 2, 3, vec![3., 1., 4., 5., 2., 6.]).unwrap();
        let (v, x, y) = game_exact(&g).unwrap();
        assert!((v - 4.0).abs() < 1e-12, "{v} {x:?} {y:?}");
        let (gap, _, _) = g.gap(&x, &y);
        assert!(gap.abs() < 1e-12);
    }
}
