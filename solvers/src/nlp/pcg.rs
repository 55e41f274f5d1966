//! Matrix-free Newton–KKT steps by **projected conjugate gradients** (Gould, Hribar & Nocedal,
//! SIAM J. Sci. Comput. 23, 2001), for problems whose Hessian is only available as a product
//! `v ↦ B v` (e.g. logistic regression with a dense Hessian).
//!
//! The KKT system `[[B, Gᵀ], [G, 0]] (Δx, Δλ) = −(g, c)` is the optimality system of the
//! equality-constrained quadratic model `min ½ΔxᵀBΔx + gᵀΔx s.t. GΔx = −c`. With the
//! orthogonal projector onto the null space of `G`,
//! `P = I − Gᵀ(GGᵀ)⁻¹G` (the `m × m` Gram matrix factored once by dense Cholesky),
//!
//! 1. `Δx₀ = −Gᵀ(GGᵀ)⁻¹c` satisfies the constraints;
//! 2. CG on the reduced model from `Δx₀`: residual `r = BΔx + g`, projected residual
//!    `P r`, directions in the null space, so `GΔx = −c` holds throughout;
//! 3. `Δλ = −(GGᵀ)⁻¹G r`, which makes the first block residual `BΔx + g + GᵀΔλ = P r`.
//!
//! So the KKT residual is `‖P r‖` and one iteration costs one product with `B`. A direction
//! `p` with `pᵀBp ≤ ξ‖p‖²` reveals that the reduced Hessian is not positive definite; the
//! caller then shifts `B`.

use faer::linalg::solvers::{Llt, Solve};
use faer::{Mat, Side};
use rayon::prelude::*;
use sprs::CsMat;

/// Most constraints for which [`NullSpaceProjector`] forms the dense Gram matrix.
pub const MAX_PROJECTOR_ROWS: usize = 4000;

/// The projector `P = I − Gᵀ(GGᵀ)⁻¹G` of a full-row-rank Jacobian.
pub struct NullSpaceProjector {
    g: CsMat<f64>,
    chol: Llt<f64>,
    ym: Mat<f64>,
}

impl NullSpaceProjector {
    /// Factor `GGᵀ`. Fails when `G` has more than [`MAX_PROJECTOR_ROWS`] rows or is
    /// (numerically) rank-deficient.
    pub fn new(g: &CsMat<f64>) -> Result<Self, String> {
        let (m, n) = (g.rows(), g.cols());
        if m > MAX_PROJECTOR_ROWS {
            return Err(format!(
                "{m} constraints: the projected-CG KKT solver forms the dense m x m Gram \
                 matrix and allows at most {MAX_PROJECTOR_ROWS}; use the direct or a sketch \
                 KKT solver"
            ));
        }
        let g = if g.is_csr() { g.clone() } else { g.to_csr() };
        let gram = if m * n <= 50_000_000 {
            // Dense product (faer's blocked, parallel matmul).
            let mut gd = Mat::<f64>::zeros(m, n);
            for (i, row) in g.outer_iterator().enumerate() {
                for (j, v) in row.iter() {
                    gd[(i, j)] = *v;
                }
            }
            &gd * gd.transpose()
        } else {
            // Upper triangle row by row, in parallel, through a dense scatter of row i.
            let rows: Vec<Vec<f64>> = (0..m)
                .into_par_iter()
                .map_init(
                    || vec![0.0; n],
                    |dense, i| {
                        let ri = g.outer_view(i).unwrap_or_else(|| unreachable!());
                        for (j, v) in ri.iter() {
                            dense[j] = *v;
                        }
                        let out = (i..m)
                            .map(|k| {
                                g.outer_view(k)
                                    .unwrap_or_else(|| unreachable!())
                                    .iter()
                                    .map(|(j, v)| v * dense[j])
                                    .sum::<f64>()
                            })
                            .collect();
                        for (j, _) in ri.iter() {
                            dense[j] = 0.0;
                        }
                        out
                    },
                )
                .collect();
            Mat::<f64>::from_fn(m, m, |i, k| {
                if k >= i {
                    rows[i][k - i]
                } else {
                    rows[k][i - k]
                }
            })
        };
        let scale = (0..m).map(|i| gram[(i, i)]).fold(0.0, f64::max);
        let chol = gram
            .as_ref()
            .llt(Side::Lower)
            .map_err(|_| "the constraint Jacobian is rank-deficient (G Gᵀ is singular)")?;
        // Reject near rank deficiency: the smallest pivot against the largest diagonal.
        let l = chol.L();
        let min_pivot = (0..m)
            .map(|i| l[(i, i)] * l[(i, i)])
            .fold(f64::INFINITY, f64::min);
        let pivot_ok = min_pivot > 1e-14 * scale;
        if m > 0 && !pivot_ok {
            return Err(format!(
                "the constraint Jacobian is numerically rank-deficient (Cholesky pivot \
                 {min_pivot:.1e} against diagonal {scale:.1e})"
            ));
        }
        Ok(NullSpaceProjector {
            g,
            chol,
            ym: Mat::zeros(m, 1),
        })
    }

    /// `y = (GGᵀ)⁻¹ G v` into the internal workspace.
    fn multipliers(&mut self, v: &[f64]) {
        for (i, row) in self.g.outer_iterator().enumerate() {
            self.ym[(i, 0)] = row.iter().map(|(j, a)| a * v[j]).sum();
        }
        self.chol.solve_in_place(self.ym.as_mut());
    }

    /// `out = v − Gᵀ y` with the workspace `y`.
    fn subtract_gt_y(&self, v: &[f64], out: &mut [f64]) {
        out.copy_from_slice(v);
        for (i, row) in self.g.outer_iterator().enumerate() {
            let yi = self.ym[(i, 0)];
            for (j, a) in row.iter() {
                out[j] -= a * yi;
            }
        }
    }

    /// `out = P v = v − Gᵀ(GGᵀ)⁻¹Gv`.
    pub fn project(&mut self, v: &[f64], out: &mut [f64]) {
        self.multipliers(v);
        self.subtract_gt_y(v, out);
    }
}

/// Outcome of [`projected_cg`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PcgResult {
    /// CG iterations (products with `B`, not counting the one for `Δx₀`).
    pub steps: usize,
    /// KKT residual `‖(P r, GΔx + c)‖` of the returned step.
    pub residual: f64,
    /// A direction of curvature `≤ ξ‖p‖²` was met; the step is not usable.
    pub negative_curvature: bool,
}

/// Solve `[[B, Gᵀ], [G, 0]] (Δx, Δλ) = −(g, c)` by projected CG until the KKT residual is at
/// most `target` or `max_steps` iterations. `apply_b(v, out)` sets `out = B v`. On return
/// `z = (Δx, Δλ)` and `bdx = BΔx`. Workspace vectors of length `n` are passed in so the
/// Newton loop does not allocate per iteration.
#[allow(clippy::too_many_arguments)]
pub fn projected_cg(
    apply_b: &mut dyn FnMut(&[f64], &mut [f64]),
    proj: &mut NullSpaceProjector,
    g: &[f64],
    c: &[f64],
    target: f64,
    max_steps: usize,
    xi: f64,
    z: &mut [f64],
    bdx: &mut [f64],
    work: &mut [Vec<f64>; 4],
) -> PcgResult {
    let n = g.len();
    let m = c.len();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let [r, pg, bp, p] = work;
    let (dx, dl) = z.split_at_mut(n);
    // Δx₀ = −Gᵀ(GGᵀ)⁻¹c.
    // A negligible infeasibility (linear constraints after the first step) is left to the
    // residual: its correction would cost a product with B.
    let cn = norm(c);
    if cn > 1e-3 * target && m > 0 {
        for (i, ci) in c.iter().enumerate() {
            proj.ym[(i, 0)] = *ci;
        }
        proj.chol.solve_in_place(proj.ym.as_mut());
        dx.fill(0.0);
        for (i, row) in proj.g.outer_iterator().enumerate() {
            let yi = proj.ym[(i, 0)];
            for (j, a) in row.iter() {
                dx[j] -= a * yi;
            }
        }
        apply_b(dx, bdx);
    } else {
        dx.fill(0.0);
        bdx.fill(0.0);
    }
    // Constraint residual of Δx₀ (zero up to rounding).
    let mut gdx = vec![0.0; m];
    for (i, row) in proj.g.outer_iterator().enumerate() {
        gdx[i] = row.iter().map(|(j, a)| a * dx[j]).sum::<f64>() + c[i];
    }
    let feas = norm(&gdx);
    for ((ri, bi), gi) in r.iter_mut().zip(bdx.iter()).zip(g) {
        *ri = bi + gi;
    }
    proj.project(r, pg);
    let mut gg: f64 = pg.iter().map(|a| a * a).sum();
    for (pj, gj) in p.iter_mut().zip(pg.iter()) {
        *pj = -gj;
    }
    let mut steps = 0;
    let mut negative_curvature = false;
    while (gg + feas * feas).sqrt() > target && steps < max_steps {
        apply_b(p, bp);
        let kappa: f64 = p.iter().zip(bp.iter()).map(|(a, b)| a * b).sum();
        let pp: f64 = p.iter().map(|a| a * a).sum();
        let positive = kappa > xi * pp;
        if !positive {
            negative_curvature = true;
            break;
        }
        let alpha = gg / kappa;
        for j in 0..n {
            dx[j] += alpha * p[j];
            bdx[j] += alpha * bp[j];
            r[j] += alpha * bp[j];
        }
        proj.project(r, pg);
        let gg_new: f64 = pg.iter().map(|a| a * a).sum();
        let beta = gg_new / gg;
        gg = gg_new;
        for (pj, gj) in p.iter_mut().zip(pg.iter()) {
            *pj = -gj + beta * *pj;
        }
        steps += 1;
        if !gg.is_finite() {
            negative_curvature = true;
            break;
        }
    }
    // Δλ = −(GGᵀ)⁻¹G r.
    proj.multipliers(r);
    for (i, d) in dl.iter_mut().enumerate() {
        *d = -proj.ym[(i, 0)];
    }
    PcgResult {
        steps,
        residual: (gg + feas * feas).sqrt(),
        negative_curvature,
    }
}
