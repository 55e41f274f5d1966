//! The Newton stage of SNS on a point-cloud problem: the dual's Hessian
//! `−(1/ε) [[diag(r), P], [Pᵀ, diag(c)]]` with the exact sums `r = P1`, `c = Pᵀ1` on the
//! diagonal and, off it, the largest entries of each row of `P` (at least `rel` times the row's
//! largest, at most `cap` of them: memory `O(n·cap)` instead of the dense path's candidate
//! lists), solved by Jacobi-preconditioned CG (the dense path's [`crate::ot::sns::pcg`]), then
//! an Armijo line search on the dual whose trial passes also collect the next sparsification.
//! A step that cuts the violation by less than 10x makes the sparsification 100x denser.

use super::pass::{Geometry, Keep, PlanSums, plan_pass};
use crate::core::Budget;
use crate::ot::sns::{Csr, pcg, transpose};
use crate::ot::weighted_dot;

/// The stage's state between steps (sorted orders).
pub(crate) struct Newton<'a> {
    geo: &'a Geometry<'a>,
    pool: &'a rayon::ThreadPool,
    /// The run's deadline and stop token: a step past them ends at once (the caller's next
    /// budget check reports why).
    budget: Budget<'a>,
    reg: f64,
    /// The exponent cut of the work passes.
    pub cut: f64,
    pub f: Vec<f64>,
    pub g: Vec<f64>,
    ft: Vec<f64>,
    gt: Vec<f64>,
    /// Sums at `(f, g)`, and at the last trial.
    pub sums: PlanSums,
    trial: PlanSums,
    sp: Csr,
    rhs: Vec<f64>,
    d: Vec<f64>,
    work: [Vec<f64>; 4],
    pub keep: Keep,
    pub steps: u64,
    pub cg_total: u64,
    pub ls_total: u64,
    pub kept_total: u64,
    pub passes: u64,
    pub pairs: super::pass::PairCount,
    /// Seconds in plan passes, in the transpose and in CG.
    pub timers: [f64; 3],
}

fn empty_sums(n: usize, m: usize) -> PlanSums {
    PlanSums {
        r: vec![0.0; n],
        c: vec![0.0; m],
        mass: 0.0,
        cost: 0.0,
        entropy: 0.0,
        count: Default::default(),
    }
}

impl<'a> Newton<'a> {
    /// Start at `(f, g)` (one plan pass).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        geo: &'a Geometry<'a>,
        pool: &'a rayon::ThreadPool,
        budget: Budget<'a>,
        reg: f64,
        cut: f64,
        keep: Keep,
        f: Vec<f64>,
        g: Vec<f64>,
    ) -> Self {
        let (n, m) = (geo.rows.len(), geo.cols.len());
        let mut nt = Newton {
            geo,
            pool,
            budget,
            reg,
            cut,
            f,
            g,
            ft: vec![0.0; n],
            gt: vec![0.0; m],
            sums: empty_sums(n, m),
            trial: empty_sums(n, m),
            sp: Csr::with_capacity(n, m),
            rhs: vec![0.0; n + m],
            d: vec![0.0; n + m],
            work: std::array::from_fn(|_| vec![0.0; n + m]),
            keep,
            steps: 0,
            cg_total: 0,
            ls_total: 0,
            kept_total: 0,
            passes: 0,
            pairs: Default::default(),
            timers: [0.0; 3],
        };
        nt.refresh();
        nt
    }

    /// A plan pass at `(f, g)` with the sparsification (after a failed line search, or at
    /// the start).
    pub fn refresh(&mut self) {
        let (geo, f, g, reg, cut, keep) =
            (self.geo, &self.f, &self.g, self.reg, self.cut, &self.keep);
        let (sums, sp) = (&mut self.sums, &mut self.sp);
        let t = std::time::Instant::now();
        self.pool
            .install(|| plan_pass(geo, f, g, reg, cut, Some(keep), sums, sp));
        self.timers[0] += t.elapsed().as_secs_f64();
        self.passes += 1;
        self.pairs += self.sums.count;
    }

    /// The L1 marginal violation at `(f, g)`.
    pub fn violation(&self) -> f64 {
        let (rows, cols) = (self.geo.rows, self.geo.cols);
        self.sums
            .r
            .iter()
            .zip(&rows.w)
            .map(|(r, a)| (r - a).abs())
            .sum::<f64>()
            + self
                .sums
                .c
                .iter()
                .zip(&cols.w)
                .map(|(c, b)| (c - b).abs())
                .sum::<f64>()
    }

    fn dual(&self, f: &[f64], g: &[f64], mass: f64) -> f64 {
        weighted_dot(&self.geo.rows.w, f) + weighted_dot(&self.geo.cols.w, g) - self.reg * mass
    }

    /// One step: `Some(violation)` after it (the sparsification densified when it did not
    /// help), `None` when no step is accepted at the densest sparsification.
    pub fn step(&mut self, viol: f64, min_rel: f64) -> Option<f64> {
        if self.budget.spent() {
            return Some(viol);
        }
        let (n, m, reg) = (self.geo.rows.len(), self.geo.cols.len(), self.reg);
        let sp = &mut self.sp;
        let t = std::time::Instant::now();
        self.pool.install(|| transpose(m, sp));
        self.timers[1] += t.elapsed().as_secs_f64();
        self.kept_total += self.sp.idx.len() as u64;
        for i in 0..n {
            self.rhs[i] = reg * (self.geo.rows.w[i] - self.sums.r[i]);
        }
        for j in 0..m {
            self.rhs[n + j] = reg * (self.geo.cols.w[j] - self.sums.c[j]);
        }
        let mu = 1e-12 * self.sums.mass / (n + m) as f64;
        let cg_tol = 0.1f64.min(viol).max(1e-14);
        let (sp, r, c) = (&self.sp, &self.sums.r, &self.sums.c);
        let (rhs, d, work) = (&self.rhs, &mut self.d, &mut self.work);
        self.cg_total +=
            self.pool
                .install(|| pcg(sp, r, c, mu, rhs, d, work, cg_tol, 500)) as u64;
        self.timers[2] += t.elapsed().as_secs_f64();
        self.steps += 1;
        let accepted = self.line_search();
        if !accepted && self.budget.spent() {
            // (The sums at (f, g) are intact: the trials wrote theirs elsewhere.)
            return Some(viol);
        }
        if !accepted {
            if !self.keep.densify(min_rel) {
                return None;
            }
            self.refresh();
            return Some(viol);
        }
        std::mem::swap(&mut self.f, &mut self.ft);
        std::mem::swap(&mut self.g, &mut self.gt);
        std::mem::swap(&mut self.sums, &mut self.trial);
        let new = self.violation();
        if new > 0.1 * viol && self.keep.densify(min_rel) {
            // The next step's matrix must be the denser one: the accepted trial's pass kept
            // the old sparsification.
            self.refresh();
        }
        Some(new)
    }

    /// Armijo backtracking on the dual along `d` (halving from 1, capped so that no exponent
    /// moves by more than 50); the accepted trial's sums are in `trial` and its
    /// sparsification in `sp`.
    fn line_search(&mut self) -> bool {
        let (n, reg) = (self.geo.rows.len(), self.reg);
        let d0 = self.dual(&self.f, &self.g, self.sums.mass);
        let slope: f64 = self
            .rhs
            .iter()
            .zip(&self.d)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / reg;
        if !(slope > 0.0 && slope.is_finite()) {
            return false;
        }
        let dmax = self.d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let mut t = if dmax / reg > 25.0 {
            25.0 * reg / dmax
        } else {
            1.0
        };
        let slack = 100.0 * f64::EPSILON * d0.abs().max(reg * self.sums.mass);
        for _ in 0..30 {
            if self.budget.spent() {
                return false;
            }
            self.ls_total += 1;
            for (k, v) in self.ft.iter_mut().enumerate() {
                *v = self.f[k] + t * self.d[k];
            }
            for (k, v) in self.gt.iter_mut().enumerate() {
                *v = self.g[k] + t * self.d[n + k];
            }
            let (geo, ft, gt, cut, keep) = (self.geo, &self.ft, &self.gt, self.cut, &self.keep);
            let (trial, sp) = (&mut self.trial, &mut self.sp);
            let clock = std::time::Instant::now();
            self.pool
                .install(|| plan_pass(geo, ft, gt, reg, cut, Some(keep), trial, sp));
            self.timers[0] += clock.elapsed().as_secs_f64();
            self.passes += 1;
            self.pairs += self.trial.count;
            let dt = self.dual(&self.ft, &self.gt, self.trial.mass);
            if dt.is_finite() && dt >= d0 + 1e-4 * t * slope - slack {
                return true;
            }
            t *= 0.5;
        }
        false
    }
}
