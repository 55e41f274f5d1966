//! **AID** (approximate implicit differentiation), the baseline for strongly convex lower
//! levels: with `y*(x) = argmin_y g(x, y)` unique and `∇²_yy g ≻ 0`,
//!
//! `∇ψ(x) = ∇ₓf(x, y*) − ∇²_xy g(x, y*) v`, `∇²_yy g(x, y*) v = ∇_y f(x, y*)`.
//!
//! Each outer iteration solves for `y*` by warm-started accelerated gradient (step `1/L_g`),
//! then for `v` by conjugate gradients on Hessian-vector products (warm-started from the
//! previous `v`), both to the accuracy the outer loop asks for; the outer loop is that of
//! [`super::penalty`]. `σ` is not used. It needs [`Bilevel::hvp_yy_g`] and
//! [`Bilevel::hvp_xy_g`], and a nonsingular `∇²_yy g` (it is undefined on the non-unique toy).

use super::penalty::{BilevelReport, BilevelSettings, Hypergradient, apg, outer};
use crate::core::{Budget, Observer, SolveError};
use mathprog_problems::bilevel::Bilevel;

struct AidGrad<'a> {
    prob: &'a dyn Bilevel,
    max_inner: usize,
    y: Vec<f64>,
    v: Vec<f64>,
    w: [Vec<f64>; 4],
    /// CG vectors: residual, direction, H·direction; and ∇_y f.
    r: Vec<f64>,
    pdir: Vec<f64>,
    hp: Vec<f64>,
    fy: Vec<f64>,
    gx: Vec<f64>,
    f_calls: usize,
    g_calls: usize,
    hvps: usize,
    budget: Budget<'a>,
}

impl Hypergradient for AidGrad<'_> {
    fn eval(&mut self, x: &[f64], eps: f64, d: &mut [f64]) -> bool {
        let prob = self.prob;
        let (_, lg) = prob.smoothness_y(x);
        let project_y = |v: &mut [f64]| prob.project_y(v);
        let gx = &mut self.gx;
        self.g_calls += apg(
            &mut self.y,
            lg.max(1e-12),
            0.1 * eps,
            self.max_inner,
            &project_y,
            &mut |v, out| prob.grad_g(x, v, gx, out),
            &mut self.w,
            &self.budget,
        );
        // CG on H v = ∇_y f(x, y*), from the previous v.
        prob.grad_f(x, &self.y, d, &mut self.fy);
        self.f_calls += 1;
        let q = self.y.len();
        if !prob.hvp_yy_g(x, &self.y, &self.v, &mut self.hp) {
            return false;
        }
        self.hvps += 1;
        for i in 0..q {
            self.r[i] = self.fy[i] - self.hp[i];
        }
        self.pdir.copy_from_slice(&self.r);
        let mut rr: f64 = self.r.iter().map(|a| a * a).sum();
        for _ in 0..self.max_inner.min(10 * q + 10) {
            if rr.sqrt() <= 0.1 * eps {
                break;
            }
            prob.hvp_yy_g(x, &self.y, &self.pdir, &mut self.hp);
            self.hvps += 1;
            let php: f64 = self.pdir.iter().zip(&self.hp).map(|(a, b)| a * b).sum();
            if php <= 0.0 {
                break;
            }
            let a = rr / php;
            for i in 0..q {
                self.v[i] += a * self.pdir[i];
                self.r[i] -= a * self.hp[i];
            }
            let rr_new: f64 = self.r.iter().map(|a| a * a).sum();
            let beta = rr_new / rr;
            rr = rr_new;
            for i in 0..q {
                self.pdir[i] = self.r[i] + beta * self.pdir[i];
            }
        }
        // d = ∇ₓf − ∇²_xy g v.
        if !prob.hvp_xy_g(x, &self.y, &self.v, &mut self.gx) {
            return false;
        }
        self.hvps += 1;
        for (di, c) in d.iter_mut().zip(&self.gx) {
            *di -= c;
        }
        true
    }
    fn points(&self) -> (&[f64], &[f64]) {
        (&self.y, &self.y)
    }
    fn calls(&self) -> (usize, usize, usize) {
        (self.f_calls, self.g_calls, self.hvps)
    }
}

/// Solve a bilevel problem with a strongly convex lower level by AID (see the module
/// documentation); `settings.sigma` is ignored.
pub(crate) fn solve_aid(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    let (p, q) = (prob.dim_x(), prob.dim_y());
    let mut h = AidGrad {
        prob,
        max_inner: s.max_inner,
        y: vec![0.0; q],
        v: vec![0.0; q],
        w: std::array::from_fn(|_| vec![0.0; q]),
        r: vec![0.0; q],
        pdir: vec![0.0; q],
        hp: vec![0.0; q],
        fy: vec![0.0; q],
        gx: vec![0.0; p],
        f_calls: 0,
        g_calls: 0,
        hvps: 0,
        budget: Budget {
            deadline: s.common.deadline(std::time::Instant::now()),
            stop: Some(&s.common.stop),
        },
    };
    prob.project_y(&mut h.y);
    outer(prob, s, observer, "bilevel-aid", &mut h)
}
