//! Momentum conic descent (MOCO; Li & Giannakis, "Conic descent redux for memory-efficient
//! optimization", arXiv 2308.07343, 2023) on the MaxCut SDP, in the sketched storage of
//! [`super`].
//!
//! What we could recover of the paper (its abstract and secondary summaries; the full text was
//! not available): conic descent (Duchi, Hinder, Naber, Ye 2020) re-derived from the dual by
//! writing `X = αV` with `V` on a slice of the cone, alternating a one-dimensional ray
//! minimisation in `α` with a Frank–Wolfe step for `V` over the slice; heavy-ball momentum on
//! the gradient that the Frank–Wolfe oracle sees (the momentum is the dual iterate, with
//! `O(1/k)` rates in primal and dual); a stopping rule from the dual iterate's feasibility; a
//! preconditioner for the dual; a sketched, memory-efficient SDP variant. The step constants and
//! the preconditioner are ours (see the README and `../shared/research/sdp_moco.md`).
//!
//! Objective (the constraint `diag X = 1` by a method-of-multipliers augmented Lagrangian with
//! a fixed `β`): `F(X) = −¼⟨L, X⟩ + ⟨λ, diag X − 1⟩ + (β/2)‖diag X − 1‖²` over `X ⪰ 0`, whose
//! gradient is `−(L/4 − Diag(g))` with `g = λ + β(diag X − 1)`. State: `X = αV` with
//! `⟨P, V⟩ = 1` (`P = Diag(p)`, the identity without the preconditioner), stored as `diag V`,
//! `¼⟨L, V⟩` and the sketch `VΩ`. Iteration `k` (counted from the last multiplier update):
//!
//! 1. **Momentum** (heavy ball): `w ← (1 − δ_k) w + δ_k g`, `δ_k = 2/(k + 2)`; `w` is the dual
//!    iterate, `L/4 − Diag(w) ⪯ λ P` gives the bound `Σw + Σp · λ⁺` on the SDP value.
//! 2. **Frank–Wolfe oracle on the slice**: `q` = top eigenvector of
//!    `P^{-1/2}(L/4 − Diag(w))P^{-1/2}` (warm-started Lanczos, CGAL's accuracy schedule), the
//!    atom `H = hhᵀ`, `h = P^{-1/2}q` (`⟨P, H⟩ = 1`).
//! 3. **Ray and line search in one**: `F(aV + bH)` is a quadratic in `(a, b)`; its minimum over
//!    `a, b ≥ 0` (closed form: the interior solution or one of the two rays) gives `α = a + b`
//!    and the new `V = (aV + bH)/α` — CD's line step and ray step, solved jointly and exactly.
//! 4. **Multipliers**: `λ ← λ + β(diag X − 1)` once the dual infeasibility of the momentum,
//!    `Σp · λ⁺`, is below `β ‖diag X − 1‖₁` (the inner problem solved as far as the violation
//!    warrants) and below 0.7 times its value at the previous update (inexact augmented
//!    Lagrangian with shrinking inner tolerances), or after 50 + 10·(updates so far) inner
//!    iterations; the momentum restarts. `β = β₀ · max(1, ‖L/4‖_F/√n)` (about the mean degree
//!    over 4 on unit weights).
//!
//! Measured (`bench/results/sdp_moco_2026-12-07.md`): to a gap of 1e-2 the ray search needs
//! half CGAL's iterations on G1 (542 against 1158; 1.5 s against 1.7 s) and reaches G22 in
//! 2.7 s (CGAL 4.0 s); with the degree preconditioner G14 takes 18 s (CGAL 60 s, plain MOCO
//! not within 60 s). The heavy-ball momentum with `δ_k = 2/(k + 2)` slows every graph we
//! tried. Like every Frank–Wolfe method it is sublinear: gaps below ~4e-3 are out of reach in
//! minutes, where the factored mode reaches 1e-4 in under a second.

use super::Cgal;
use rayon::prelude::*;

impl Cgal<'_> {
    /// One MOCO iteration (module documentation). Returns `‖diag X − 1‖² / n²` (the scale of
    /// CGAL's residual in the trace-one variable).
    pub(super) fn moco_iteration(&mut self) -> f64 {
        let s = self.s;
        let (n, beta) = (self.n, self.beta);
        let nf = n as f64;
        for ((vi, yi), zi) in self.v.iter_mut().zip(&self.y).zip(&self.z) {
            *vi = yi + beta * (self.alpha * zi - 1.0);
        }
        if s.momentum && self.inner > 0 {
            let delta = 2.0 / (self.inner as f64 + 2.0);
            for (wi, vi) in self.w.iter_mut().zip(&self.v) {
                *wi = (1.0 - delta) * *wi + delta * vi;
            }
        } else {
            self.w.copy_from_slice(&self.v);
        }
        self.y_orig.copy_from_slice(&self.w);
        let (eig, lam) = self.oracle(true);
        let q = &eig.vector;
        let qn = q.iter().map(|x| x * x).sum::<f64>().sqrt();
        let qn = qn.max(f64::MIN_POSITIVE);
        // e = h∘h in the scratch `yd` (the certificate overwrites it before reading).
        let sp = &self.sqrt_p;
        for ((ei, qi), si) in self.yd.iter_mut().zip(q).zip(sp) {
            let h = qi / (qn * si);
            *ei = h * h;
        }
        let e = &self.yd;
        // ¼hᵀLh = hᵀ(L/4 − Diag(w))h + Σ w_i h_i², the first term the Ritz value.
        let c_h = eig.value + self.w.iter().zip(e).map(|(w, e)| w * e).sum::<f64>();
        let (a, b) = self.ray_line_search(c_h);
        let tot = a + b;
        if tot > 0.0 {
            let om = b / tot;
            self.obj = (1.0 - om) * self.obj + om * c_h;
            for (zi, ei) in self.z.iter_mut().zip(e) {
                *zi = (1.0 - om) * *zi + om * ei;
            }
            self.sketch_step(q, qn, om);
        }
        self.alpha = tot;
        self.q_prev = Some(eig.vector);
        self.iters += 1;
        self.inner += 1;
        let (mut res2, mut res1) = (0.0, 0.0);
        for zi in &self.z {
            let d = self.alpha * zi - 1.0;
            res2 += d * d;
            res1 += d.abs();
        }
        let infeas = self.p_sum * lam.max(0.0);
        let cap = 50 + 10 * self.outer_updates;
        let solved = infeas <= beta * res1 && infeas <= 0.7 * self.last_infeas;
        if self.inner >= 2 && (solved || self.inner >= cap) {
            self.last_infeas = infeas;
            for (yi, zi) in self.y.iter_mut().zip(&self.z) {
                *yi += beta * (self.alpha * zi - 1.0);
            }
            self.inner = 0;
            self.outer_updates += 1;
        }
        res2 / (nf * nf)
    }

    /// `argmin_{a, b ≥ 0} F(aV + bH)` for the atom `H` with `diag H = e` (in `self.yd`) and
    /// `¼⟨L, H⟩ = c_h`: a quadratic in `(a, b)` with Hessian `β [[d·d, d·e], [d·e, e·e]]`.
    fn ray_line_search(&self, c_h: f64) -> (f64, f64) {
        let (beta, z, e, lam) = (self.beta, &self.z, &self.yd, &self.y);
        let (mut dd, mut de, mut ee, mut ld, mut le, mut sd, mut se) =
            (0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0);
        for ((zi, ei), li) in z.iter().zip(e).zip(lam) {
            dd += zi * zi;
            de += zi * ei;
            ee += ei * ei;
            ld += li * zi;
            le += li * ei;
            sd += zi;
            se += ei;
        }
        let la = -self.obj + ld - beta * sd;
        let lb = -c_h + le - beta * se;
        let f = |a: f64, b: f64| {
            la * a + lb * b + 0.5 * beta * (a * a * dd + 2.0 * a * b * de + b * b * ee)
        };
        let mut cands = [(0.0, (-lb / (beta * ee)).max(0.0)), (0.0, 0.0), (0.0, 0.0)];
        if self.alpha > 0.0 && dd > 0.0 {
            cands[1] = ((-la / (beta * dd)).max(0.0), 0.0);
            let det = dd * ee - de * de;
            if det > 1e-14 * dd * ee {
                let a = -(ee * la - de * lb) / (beta * det);
                let b = -(dd * lb - de * la) / (beta * det);
                if a >= 0.0 && b >= 0.0 {
                    cands[2] = (a, b);
                }
            }
        }
        cands
            .into_iter()
            .filter(|(a, b)| a.is_finite() && b.is_finite())
            .min_by(|x, y| f(x.0, x.1).total_cmp(&f(y.0, y.1)))
            .unwrap_or((0.0, 0.0))
    }

    /// `VΩ ← (1 − ω)VΩ + ω h(hᵀΩ)` with `h = P^{-1/2} q / ‖q‖`.
    fn sketch_step(&mut self, q: &[f64], qn: f64, om: f64) {
        let r = self.r;
        self.u_omega.fill(0.0);
        for ((qi, si), oi) in q.iter().zip(&self.sqrt_p).zip(self.omega.chunks(r)) {
            let h = qi / (qn * si);
            for (a, o) in self.u_omega.iter_mut().zip(oi) {
                *a += h * o;
            }
        }
        let u_omega = &self.u_omega;
        self.sk
            .par_chunks_mut(r)
            .zip(q.par_iter().zip(self.sqrt_p.par_iter()))
            .with_min_len(1024)
            .for_each(|(si, (qi, spi))| {
                let c = om * qi / (qn * spi);
                for (sv, uo) in si.iter_mut().zip(u_omega) {
                    *sv = (1.0 - om) * *sv + c * uo;
                }
            });
    }
}
