//! Matrix-free Lanczos for the largest eigenpair of a symmetric operator.
//!
//! Krylov space `K_k(A, q₁) = span{q₁, Aq₁, …, A^(k−1) q₁}` built with full
//! reorthogonalisation (two Gram–Schmidt passes, so the basis stays orthonormal to working
//! precision), tridiagonal `T_k = Q_kᵀ A Q_k`, Ritz pairs from the eigendecomposition of `T_k`
//! (faer). The largest Ritz value `θ` never exceeds `λ_max(A)`; the residual estimate
//! `β_k |s_k|` (last component of the Ritz vector) is checked every few steps, and the run stops
//! when it is below `tol · max(|θ|, scale)`. When the basis is full the run restarts from the
//! Ritz vector (explicit restart), which keeps memory at `max_basis · n` numbers. The returned
//! residual `‖Ax − θx‖` is recomputed explicitly.
//!
//! Certificates: an eigenvalue of `A` lies within `‖Ax − θx‖` of `θ`. With a random start the
//! top Ritz value converges to `λ_max` (Kuczyński–Woźniakowski, SIAM J. Matrix Anal. Appl. 13,
//! 1992: the chance that the start is deficient in the top eigenvector decays exponentially
//! with the number of steps), so `θ + ‖Ax − θx‖` is an upper bound on `λ_max` with overwhelming
//! probability. A warm start is mixed with a random vector of a tenth of its norm, so the same
//! holds for it. The smallest eigenpair is the largest of `−A`.

use faer::{Mat, Side};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Settings of [`largest_eigenpair`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LanczosSettings {
    /// Relative residual tolerance: stop when `‖Ax − θx‖ ≤ tol · max(|θ|, scale)`.
    pub tol: f64,
    /// The scale of the operator (e.g. a norm estimate) used in the tolerance; 0 uses `|θ|`.
    pub scale: f64,
    /// Largest Krylov basis kept before an explicit restart.
    pub max_basis: usize,
    /// Limit on operator applications.
    pub max_matvecs: usize,
    /// Seed of the random start (when none is given).
    pub seed: u64,
}

impl Default for LanczosSettings {
    fn default() -> Self {
        LanczosSettings {
            tol: 1e-8,
            scale: 0.0,
            max_basis: 60,
            max_matvecs: 2000,
            seed: 1,
        }
    }
}

/// An approximate eigenpair.
#[derive(Debug, Clone, PartialEq)]
pub struct EigenPair {
    /// Ritz value `θ` (at most `λ_max`).
    pub value: f64,
    /// Unit Ritz vector `x`.
    pub vector: Vec<f64>,
    /// `‖Ax − θx‖`.
    pub residual: f64,
    /// Operator applications used.
    pub matvecs: usize,
    /// Whether the tolerance was met.
    pub converged: bool,
}

fn norm(x: &[f64]) -> f64 {
    crate::linalg::simd::dot(x, x).sqrt()
}

/// The largest eigenpair of the symmetric `n × n` operator `op` (`op(x, out)` sets
/// `out = A x`), from `start` (any non-zero vector; random Gaussian when `None`).
pub fn largest_eigenpair(
    n: usize,
    mut op: impl FnMut(&[f64], &mut [f64]),
    start: Option<&[f64]>,
    s: &LanczosSettings,
) -> EigenPair {
    assert!(n > 0, "empty operator");
    let kmax = s.max_basis.clamp(2, n.max(2));
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(s.seed);
    let mut x: Vec<f64> = (0..n).map(|_| StandardNormal.sample(&mut rng)).collect();
    if let Some(v) = start.filter(|v| v.len() == n && norm(v) > 0.0) {
        // A warm start keeps a random component (a tenth of its norm): an exact eigenvector
        // of a lower eigenvalue would otherwise span an invariant subspace and "certify" the
        // wrong eigenvalue with a zero residual.
        let (nv, nz) = (norm(v), norm(&x));
        x.iter_mut()
            .zip(v)
            .for_each(|(a, b)| *a = b / nv + 0.1 * *a / nz);
    }
    let nx = norm(&x);
    x.iter_mut().for_each(|v| *v /= nx);
    if n == 1 {
        let mut y = vec![0.0];
        op(&x, &mut y);
        return EigenPair {
            value: y[0] * x[0],
            vector: x,
            residual: 0.0,
            matvecs: 1,
            converged: true,
        };
    }
    let mut basis: Vec<Vec<f64>> = Vec::with_capacity(kmax);
    let mut w = vec![0.0; n];
    let mut matvecs = 0usize;
    loop {
        // One Lanczos cycle from the unit vector x.
        basis.clear();
        basis.push(x.clone());
        let mut alpha: Vec<f64> = Vec::with_capacity(kmax);
        let mut beta: Vec<f64> = Vec::with_capacity(kmax);
        let mut ritz: Option<(f64, Vec<f64>)> = None;
        let mut done = false;
        for j in 0..kmax {
            op(&basis[j], &mut w);
            matvecs += 1;
            let a = crate::linalg::simd::dot(&w, &basis[j]);
            alpha.push(a);
            // Two passes of classical Gram–Schmidt against the whole basis.
            for _ in 0..2 {
                for q in &basis {
                    let c = crate::linalg::simd::dot(&w, q);
                    crate::linalg::simd::axpy(-c, q, &mut w);
                }
            }
            let b = norm(&w);
            let k = j + 1;
            let check = k == kmax || b == 0.0 || k % 5 == 0 || matvecs >= s.max_matvecs;
            if check {
                let t = Mat::<f64>::from_fn(k, k, |r, c| {
                    if r == c {
                        alpha[r]
                    } else if r + 1 == c {
                        beta[r]
                    } else if c + 1 == r {
                        beta[c]
                    } else {
                        0.0
                    }
                });
                if let Ok(evd) = t.self_adjoint_eigen(Side::Lower) {
                    let th = evd.S().column_vector()[k - 1];
                    let sv: Vec<f64> = (0..k).map(|r| evd.U()[(r, k - 1)]).collect();
                    let est = b * sv[k - 1].abs();
                    ritz = Some((th, sv));
                    let scale = if s.scale > 0.0 { s.scale } else { th.abs() };
                    if est <= s.tol * scale.max(f64::MIN_POSITIVE) || b == 0.0 {
                        done = true;
                    }
                }
            }
            if done || k == kmax || matvecs >= s.max_matvecs {
                break;
            }
            beta.push(b);
            let q: Vec<f64> = w.iter().map(|v| v / b).collect();
            basis.push(q);
        }
        // Ritz vector x = Q s.
        if let Some((_, sv)) = &ritz {
            x.fill(0.0);
            for (q, c) in basis.iter().zip(sv) {
                crate::linalg::simd::axpy(*c, q, &mut x);
            }
            let nx = norm(&x);
            x.iter_mut().for_each(|v| *v /= nx);
        }
        if done || matvecs >= s.max_matvecs {
            break;
        }
    }
    op(&x, &mut w);
    matvecs += 1;
    let value = crate::linalg::simd::dot(&x, &w);
    let residual = w
        .iter()
        .zip(&x)
        .map(|(a, b)| (a - value * b) * (a - value * b))
        .sum::<f64>()
        .sqrt();
    let scale = if s.scale > 0.0 { s.scale } else { value.abs() };
    EigenPair {
        value,
        vector: x,
        residual,
        matvecs,
        converged: residual <= s.tol * scale.max(f64::MIN_POSITIVE) * 10.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dense_op(a: &[f64], n: usize) -> impl FnMut(&[f64], &mut [f64]) + '_ {
        move |x, y| {
            for i in 0..n {
                y[i] = (0..n).map(|j| a[i * n + j] * x[j]).sum();
            }
        }
    }

    #[test]
    fn diagonal_and_random_symmetric_matrices() {
        // Diagonal 1..=200: λ_max = 200, a tiny gap (1/200 relative).
        let n = 200;
        let d: Vec<f64> = (1..=n).map(|k| k as f64).collect();
        let op = |x: &[f64], y: &mut [f64]| {
            for i in 0..n {
                y[i] = d[i] * x[i];
            }
        };
        let e = largest_eigenpair(n, op, None, &LanczosSettings::default());
        assert!(e.converged, "{e:?}");
        assert!((e.value - 200.0).abs() < 1e-6, "{}", e.value);
        assert!(e.vector[n - 1].abs() > 1.0 - 1e-6);
        // Random symmetric matrix against faer's dense eigensolver.
        let n = 90;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(5);
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in i..n {
                let v: f64 = StandardNormal.sample(&mut rng);
                a[i * n + j] = v;
                a[j * n + i] = v;
            }
        }
        let m = Mat::<f64>::from_fn(n, n, |i, j| a[i * n + j]);
        let ev = m.self_adjoint_eigenvalues(Side::Lower).unwrap();
        let e = largest_eigenpair(n, dense_op(&a, n), None, &LanczosSettings::default());
        assert!(
            (e.value - ev[n - 1]).abs() < 1e-7 * ev[n - 1].abs(),
            "{} vs {}",
            e.value,
            ev[n - 1]
        );
        assert!(e.value <= ev[n - 1] + 1e-9);
        assert!(e.value + e.residual >= ev[n - 1] - 1e-9);
        // Smallest eigenvalue through −A, with a small basis (restarts).
        let neg: Vec<f64> = a.iter().map(|v| -v).collect();
        let s = LanczosSettings {
            max_basis: 12,
            max_matvecs: 5000,
            ..LanczosSettings::default()
        };
        let e = largest_eigenpair(n, dense_op(&neg, n), None, &s);
        assert!(
            (-e.value - ev[0]).abs() < 1e-6 * ev[0].abs(),
            "{} vs {}",
            -e.value,
            ev[0]
        );
    }

    #[test]
    fn warm_start_and_tiny_operators() {
        let op = |x: &[f64], y: &mut [f64]| {
            y[0] = 2.0 * x[0] + x[1];
            y[1] = x[0] + 2.0 * x[1];
        };
        let e = largest_eigenpair(2, op, Some(&[1.0, 0.9]), &LanczosSettings::default());
        assert!((e.value - 3.0).abs() < 1e-12);
        let e = largest_eigenpair(
            1,
            |x, y| y[0] = -4.0 * x[0],
            None,
            &LanczosSettings::default(),
        );
        assert_eq!(e.value, -4.0);
    }

    /// A warm start that is an exact eigenvector of a lower eigenvalue still finds the top one.
    #[test]
    fn warm_start_at_a_lower_eigenvector() {
        let n = 10;
        let op = |x: &[f64], y: &mut [f64]| {
            for i in 0..x.len() {
                y[i] = (i + 1) as f64 * x[i];
            }
        };
        let mut e1 = vec![0.0; n];
        e1[0] = 1.0;
        let e = largest_eigenpair(n, op, Some(&e1), &LanczosSettings::default());
        assert!((e.value - n as f64).abs() < 1e-8, "{}", e.value);
    }
}
