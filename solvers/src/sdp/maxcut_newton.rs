//! Riemannian Newton steps for the factored MaxCut SDP: the endgame of [`super::maxcut`].
//!
//! On the factor `V` (`n × r`, unit rows: the oblique manifold) the SDP
//! `max ¼⟨L, VVᵀ⟩` is `min h(V) = ⟨W, VVᵀ⟩` (`W` the weighted adjacency matrix). With
//! `μ_i = ⟨v_i, (WV)_i⟩` the Riemannian gradient and Hessian are (Absil, Mahony, Sepulchre,
//! *Optimization Algorithms on Matrix Manifolds*, 2008, §5.5; Boumal, Voroninski, Bandeira,
//! NeurIPS 2016, for this manifold)
//!
//! `grad h(V)_i = 2((WV)_i − μ_i v_i)`, `Hess h(V)[U]_i = 2 P_i((WU)_i − μ_i u_i)`,
//!
//! with `P_i x = x − ⟨x, v_i⟩ v_i` the projection on the tangent space of row `i`. One step
//! solves `Hess[U] = −grad` by truncated conjugate gradients (Steihaug: stop at negative
//! curvature, or at the residual `min(½, √‖grad‖)·‖grad‖`, the superlinear forcing term of
//! inexact Newton), then retracts `V ← rows of V + tU normalised` with an Armijo backtracking
//! on `t`. The block-coordinate sweeps converge linearly and slowly once the gap is small (the
//! certified gap is linear in `‖V − V*‖`, so a gap of 1e-6 needs `h` to about 1e-12); these
//! steps converge superlinearly there. Each CG iteration costs one product `WU` (`O(nnz·r)`).

use crate::core::Budget;
use mathprog_problems::sdp::MaxCutSdp;
use rayon::prelude::*;

/// Work vectors of [`step`] (`n·r` each), kept between steps: no allocation per step.
#[derive(Default)]
pub(crate) struct Newton {
    wv: Vec<f64>,
    mu: Vec<f64>,
    grad: Vec<f64>,
    x: Vec<f64>,
    res: Vec<f64>,
    d: Vec<f64>,
    hd: Vec<f64>,
    trial: Vec<f64>,
}

/// `out = W m` for `m` of `n × r` (row-major), in parallel over rows.
fn apply_w(p: &MaxCutSdp, m: &[f64], r: usize, out: &mut [f64]) {
    let (ptr, idx, val) = p.graph().csr();
    out.par_chunks_mut(r).enumerate().for_each(|(i, o)| {
        o.fill(0.0);
        for k in ptr[i]..ptr[i + 1] {
            let (w, mj) = (val[k], &m[idx[k] * r..(idx[k] + 1) * r]);
            o.iter_mut().zip(mj).for_each(|(a, b)| *a += w * b);
        }
    });
}

/// `aᵀb`, sequential: the same sum at any thread count.
fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// `h(V) = Σ_i ⟨v_i, (WV)_i⟩`, with `WV` in `wv`.
fn objective(p: &MaxCutSdp, v: &[f64], r: usize, wv: &mut [f64]) -> f64 {
    apply_w(p, v, r, wv);
    dot(v, wv)
}

/// `Hess h(V)[d]` into `ws.hd`.
fn hessian(p: &MaxCutSdp, v: &[f64], r: usize, ws: &mut Newton) {
    apply_w(p, &ws.d, r, &mut ws.hd);
    let (mu, d) = (&ws.mu, &ws.d);
    ws.hd
        .par_chunks_mut(r)
        .zip(v.par_chunks(r))
        .zip(d.par_chunks(r))
        .enumerate()
        .for_each(|(i, ((h, vi), di))| {
            h.iter_mut().zip(di).for_each(|(a, b)| *a -= mu[i] * b);
            let along: f64 = h.iter().zip(vi).map(|(a, b)| a * b).sum();
            h.iter_mut()
                .zip(vi)
                .for_each(|(a, b)| *a = 2.0 * (*a - along * b));
        });
}

/// One Newton step on `v` (`n × r`, unit rows), at most `max_cg` CG iterations (fewer once
/// `budget` is spent: the step so far is used). Returns whether `h` decreased (then `v` holds
/// the new point); `false` leaves `v` unchanged.
pub(crate) fn step(
    p: &MaxCutSdp,
    v: &mut [f64],
    r: usize,
    ws: &mut Newton,
    max_cg: usize,
    budget: &Budget<'_>,
) -> bool {
    let len = v.len();
    for w in [
        &mut ws.wv,
        &mut ws.grad,
        &mut ws.x,
        &mut ws.res,
        &mut ws.d,
        &mut ws.hd,
        &mut ws.trial,
    ] {
        w.resize(len, 0.0);
    }
    ws.mu.resize(len / r.max(1), 0.0);
    let h0 = objective(p, v, r, &mut ws.wv);
    // μ_i and the gradient 2((WV)_i − μ_i v_i).
    let (wv, mu) = (&ws.wv, &mut ws.mu);
    ws.grad
        .par_chunks_mut(r)
        .zip(mu.par_iter_mut())
        .zip(v.par_chunks(r).zip(wv.par_chunks(r)))
        .for_each(|((g, m), (vi, wi))| {
            *m = vi.iter().zip(wi).map(|(a, b)| a * b).sum();
            g.iter_mut()
                .zip(vi.iter().zip(wi))
                .for_each(|(gk, (a, b))| *gk = 2.0 * (b - *m * a));
        });
    let gnorm = dot(&ws.grad, &ws.grad).sqrt();
    if gnorm == 0.0 || !gnorm.is_finite() {
        return false;
    }
    // Truncated CG on Hess[x] = −grad from x = 0.
    ws.x.fill(0.0);
    ws.res.iter_mut().zip(&ws.grad).for_each(|(a, g)| *a = -g);
    ws.d.copy_from_slice(&ws.res);
    let mut rr = gnorm * gnorm;
    let stop = gnorm * gnorm.sqrt().min(0.5);
    for k in 0..max_cg {
        hessian(p, v, r, ws);
        let dhd = dot(&ws.d, &ws.hd);
        if dhd <= 1e-14 * dot(&ws.d, &ws.d) {
            if k == 0 {
                ws.x.copy_from_slice(&ws.d); // steepest descent
            }
            break;
        }
        let alpha = rr / dhd;
        ws.x.par_iter_mut()
            .zip(&ws.d)
            .for_each(|(a, b)| *a += alpha * b);
        ws.res
            .par_iter_mut()
            .zip(&ws.hd)
            .for_each(|(a, b)| *a -= alpha * b);
        let rr_new = dot(&ws.res, &ws.res);
        if rr_new.sqrt() <= stop {
            break;
        }
        if budget.spent() {
            break;
        }
        let beta = rr_new / rr;
        rr = rr_new;
        ws.d.par_iter_mut()
            .zip(&ws.res)
            .for_each(|(a, b)| *a = b + beta * *a);
    }
    // Armijo backtracking along the retraction.
    let slope = dot(&ws.grad, &ws.x);
    if slope >= 0.0 {
        return false;
    }
    let mut t = 1.0;
    for _ in 0..12 {
        ws.trial
            .par_chunks_mut(r)
            .zip(v.par_chunks(r).zip(ws.x.par_chunks(r)))
            .for_each(|(o, (vi, xi))| {
                o.iter_mut()
                    .zip(vi.iter().zip(xi))
                    .for_each(|(a, (b, c))| *a = b + t * c);
                let nr = o.iter().map(|a| a * a).sum::<f64>().sqrt();
                o.iter_mut().for_each(|a| *a /= nr);
            });
        let h = objective(p, &ws.trial, r, &mut ws.wv);
        if h <= h0 + 1e-4 * t * slope {
            v.copy_from_slice(&ws.trial);
            return true;
        }
        t *= 0.5;
    }
    false
}
