//! The MaxCut SDP `max ¼⟨L, X⟩ s.t. diag X = 1, X ⪰ 0` with a certified upper bound, and
//! Goemans–Williamson rounding.
//!
//! The method is conic descent (Duchi, Hinder, Naber, Ye, NeurIPS 2020) in factored form,
//! with the memory of a rank-`r` factor `X = VVᵀ` (`n × r`, rows of unit norm, so every iterate
//! is feasible and `¼⟨L, VVᵀ⟩` is a valid lower bound on the SDP optimum):
//!
//! 1. **Greedy step** (CD's step 4, optimisation over the factor): block-coordinate ascent on
//!    the rows, `v_i ← −g_i/‖g_i‖` with `g_i = Σ_j w_ij v_j`, which maximises the objective in
//!    `v_i` exactly (the "mixing method" of Wang, Chang & Kolter 2017); several sweeps per outer
//!    iteration, monotone.
//! 2. **Dual estimate**: `y_i = ¼ (L X)_ii = ¼ (deg_i − ⟨v_i, g_i⟩)`, the multiplier of
//!    `diag X = 1` that makes the complementary slackness `(Diag(y) − L/4) X = 0` hold on the
//!    diagonal. With MOCO's momentum (Li & Giannakis 2023, our reconstruction) the oracle sees
//!    `ȳ_k = (1 − δ_k) ȳ_{k−1} + δ_k y_k`, `δ_k = max(2/(k + 2), δ_min)`.
//! 3. **Eigen-oracle and certificate**: Lanczos gives the top eigenpair `(λ, q)` of
//!    `S(y) = L/4 − Diag(y)` (warm-started from the previous `q`); every feasible `X` has
//!    `tr X = n`, so `Σ y + n · max(0, λ_max(S))` bounds the SDP optimum from above (weak
//!    duality), evaluated with `λ_max ≤ θ + ‖Sq − θq‖` (see [`crate::linalg::lanczos`]). The
//!    run stops when the relative gap between this bound and the primal value is at most
//!    `tol`.
//! 4. **Eigen step** (CD's direction `qqᵀ`): when `λ > 0` the rank-one direction `qqᵀ` still
//!    increases the objective; while the rank is below its cap, `q` joins the factor as a new
//!    column, rows are renormalised, and the greedy step continues from there (at the cap the
//!    greedy step alone continues). This is what escapes the spurious stationary points of a
//!    fixed-rank factorisation.
//!
//! Memory: the factor (`n r`), the Lanczos basis (`n × max_basis`) and `O(n)` vectors, never
//! an `n × n` matrix.

use super::maxcut_newton::{Newton, step as newton_step};
use super::{MaxCutSdpReport, MaxCutSdpResiduals, MaxCutSdpStats};
use crate::core::{Budget, Common, End, IterRecord, Observer, Run, SolveError, Status, stream_rng};
use crate::linalg::lanczos::{LanczosSettings, largest_eigenpair};
use mathprog_problems::binary::{Sense, Spin};
use mathprog_problems::maxcut::MaxCut;
use mathprog_problems::sdp::MaxCutSdp;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MaxCutSdpSettings {
    /// Time, iteration limit (outer iterations), seed, threads, cancellation.
    pub common: Common,
    /// Stop at this certified relative gap `(upper − lower) / max(1, |upper|)`.
    pub tol: f64,
    /// Initial rank of the factor (`None`: `min(⌈√(2n)⌉, 16)`).
    pub rank: Option<usize>,
    /// Largest rank the eigen steps may grow the factor to (`None`: `max(⌈√(2n)⌉, rank)`
    /// capped at 64).
    pub max_rank: Option<usize>,
    /// Greedy sweeps between two eigen-oracle calls.
    pub sweeps: usize,
    /// Smallest momentum weight `δ_min` (1: no momentum, the oracle sees the latest `y`).
    pub momentum_min: f64,
    /// Goemans–Williamson hyperplanes tried (in parallel), each followed by 1-flip local
    /// search; 0 skips rounding.
    pub rounding_trials: usize,
    /// Largest Lanczos basis (memory: `n × lanczos_basis` numbers).
    pub lanczos_basis: usize,
    /// Below this certified gap, when `tol < 1e-5` or once the sweeps stall (the gap has not
    /// halved over 10 oracle calls), the greedy sweeps give way to Riemannian Newton steps on
    /// the factor (`sdp/maxcut_newton.rs`: superlinear where the sweeps are linear and slow);
    /// 0 never (default 1e-3).
    #[serde(default = "default_newton_below")]
    pub newton_below: f64,
    /// Dual preconditioner (MOCO's, our choice of `P`): the oracle and the certificate use
    /// `λ_max(P^{-1/2}(L/4 − Diag(ȳ))P^{-1/2})` with `P = Diag(p)`, `p_i` the absolute degree
    /// over its mean (see [`degree_scaling`]), the bound `Σȳ + Σp · λ⁺`, and the eigen steps the atom
    /// `P^{-1/2}q`.
    #[serde(default)]
    pub precondition: bool,
}

fn default_newton_below() -> f64 {
    1e-3
}

impl Default for MaxCutSdpSettings {
    fn default() -> Self {
        MaxCutSdpSettings {
            common: Common::default(),
            tol: 1e-4,
            rank: None,
            max_rank: None,
            sweeps: 5,
            momentum_min: 1.0,
            rounding_trials: 64,
            lanczos_basis: 40,
            newton_below: default_newton_below(),
            precondition: false,
        }
    }
}

impl MaxCutSdpSettings {
    /// Check every field (tol ≥ 0, sweeps ≥ 1, momentum_min in (0, 1]).
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        let finite_non_negative = |v: f64| v >= 0.0 && v.is_finite();
        let valid = finite_non_negative(self.tol)
            && finite_non_negative(self.newton_below)
            && self.sweeps != 0
            && self.momentum_min > 0.0
            && self.momentum_min <= 1.0;
        if !valid {
            return Err(SolveError::InvalidInput(format!(
                "tol and newton_below must be >= 0, sweeps >= 1 and momentum_min in (0, 1] \
                 (got {}, {}, {}, {})",
                self.tol, self.newton_below, self.sweeps, self.momentum_min
            )));
        }
        Ok(())
    }
}

/// Result of [`solve`]: the factor, the dual vector of the bound, and the rounded cut.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MaxCutSdpSolution {
    /// Rank `r` of the factor.
    pub rank: usize,
    /// The factor `V` (`n × r`, row-major, unit rows): `X = VVᵀ`.
    pub factor: Vec<f64>,
    /// A dual-feasible vector `y` (`L/4 − Diag(y) ⪯ 0` up to the Lanczos certificate) with
    /// `Σ y` = the reported bound: the estimate shifted by `max(0, λ_max)`.
    pub dual: Vec<f64>,
    /// The best Goemans–Williamson cut after local search (empty without rounding).
    pub cut: Vec<Spin>,
    /// Its value.
    pub cut_value: f64,
}

/// `g_i = Σ_j w_ij v_j` for one vertex.
#[inline]
fn neighbour_sum(
    ptr: &[usize],
    idx: &[usize],
    val: &[f64],
    v: &[f64],
    r: usize,
    i: usize,
    g: &mut [f64],
) {
    g.fill(0.0);
    for k in ptr[i]..ptr[i + 1] {
        let w = val[k];
        let vj = &v[idx[k] * r..(idx[k] + 1) * r];
        for (a, b) in g.iter_mut().zip(vj) {
            *a += w * b;
        }
    }
}

/// One sweep of block-coordinate ascent over the rows of `v`.
fn sweep(p: &MaxCutSdp, v: &mut [f64], r: usize, g: &mut [f64]) {
    let (ptr, idx, val) = p.graph().csr();
    for i in 0..p.n() {
        neighbour_sum(ptr, idx, val, v, r, i, g);
        let ng = g.iter().map(|x| x * x).sum::<f64>().sqrt();
        if ng > 0.0 {
            for (a, b) in v[i * r..(i + 1) * r].iter_mut().zip(g.iter()) {
                *a = -b / ng;
            }
        }
    }
}

/// The dual estimate `y_i = ¼(deg_i − ⟨v_i, g_i⟩)` and the primal value `¼⟨L, VVᵀ⟩ = Σ y`.
pub(crate) fn dual_estimate(p: &MaxCutSdp, v: &[f64], r: usize, y: &mut [f64]) -> f64 {
    let (ptr, idx, val) = p.graph().csr();
    let deg = p.degrees();
    y.par_iter_mut().enumerate().for_each_init(
        || vec![0.0; r],
        |g, (i, yi)| {
            neighbour_sum(ptr, idx, val, v, r, i, g);
            let d: f64 = v[i * r..(i + 1) * r]
                .iter()
                .zip(g.iter())
                .map(|(a, b)| a * b)
                .sum();
            *yi = 0.25 * (deg[i] - d);
        },
    );
    y.iter().sum()
}

pub(crate) fn normalise_rows(v: &mut [f64], r: usize) {
    for row in v.chunks_mut(r) {
        let nr = row.iter().map(|x| x * x).sum::<f64>().sqrt();
        if nr > 0.0 {
            row.iter_mut().for_each(|x| *x /= nr);
        } else {
            row[0] = 1.0;
        }
    }
}

/// Append `weight · q` to the factor as a new column, then renormalise the rows.
/// `√p` of the diagonal dual preconditioner `P = Diag(p)`, `p_i = a_i / mean a` with
/// `a_i = Σ_j |w_ij|` the absolute degree (floored at 0.1, for isolated vertices), or all ones
/// when `on` is false. Every feasible `X` has `⟨P, X⟩ = Σp`, so `L/4 − Diag(y) ⪯ λP` bounds
/// the SDP value by `Σy + Σp · max(0, λ)`: the certificate spends its shift where the degrees
/// (and the dual's errors) are large. On regular graphs `P = I`.
pub fn degree_scaling(p: &MaxCutSdp, on: bool) -> Vec<f64> {
    let n = p.n();
    let (ptr, _, val) = p.graph().csr();
    let abs_deg: Vec<f64> = (0..n)
        .map(|i| val[ptr[i]..ptr[i + 1]].iter().map(|w| w.abs()).sum())
        .collect();
    let mean = abs_deg.iter().sum::<f64>() / n.max(1) as f64;
    if !on || mean <= 0.0 {
        return vec![1.0; n];
    }
    abs_deg.iter().map(|d| (d / mean).max(0.1).sqrt()).collect()
}

/// Append the column `weight · P^{-1/2} q` (`sp` = `√p`) to the factor; rows renormalised.
fn append_column(v: &mut Vec<f64>, r: &mut usize, (q, sp): (&[f64], &[f64]), weight: f64) {
    let r0 = *r;
    let mut w = Vec::with_capacity(q.len() * (r0 + 1));
    for ((row, qi), si) in v.chunks(r0).zip(q).zip(sp) {
        w.extend_from_slice(row);
        w.push(weight * qi / si);
    }
    *v = w;
    *r = r0 + 1;
    normalise_rows(v, *r);
}

/// Best of `trials` random hyperplane roundings of the factor, each improved by 1-flip local
/// search; parallel over trials with per-trial random streams, so the result does not depend
/// on the thread count. No trials: an empty cut of value NaN.
pub fn round_cut(
    p: &MaxCutSdp,
    v: &[f64],
    r: usize,
    trials: usize,
    seed: u64,
    budget: &Budget<'_>,
) -> (Vec<Spin>, f64) {
    if trials == 0 {
        return (Vec::new(), f64::NAN);
    }
    let mc = MaxCut::new(p.graph().clone());
    let n = p.n();
    let trial = |t: usize| {
        let mut rng = stream_rng(seed, 0x5D9, t as u64);
        let h: Vec<f64> = (0..r).map(|_| StandardNormal.sample(&mut rng)).collect();
        let mut x: Vec<Spin> = (0..n)
            .map(|i| {
                let s: f64 = v[i * r..(i + 1) * r]
                    .iter()
                    .zip(&h)
                    .map(|(a, b)| a * b)
                    .sum();
                if s >= 0.0 { 1 } else { -1 }
            })
            .collect();
        local_search(&mc, &mut x);
        (mc.cut_value(&x), t, x)
    };
    // The best cut, ties to the earliest trial: the same answer for any chunking.
    let better = |a: (f64, usize, Vec<Spin>), b: (f64, usize, Vec<Spin>)| {
        if b.0 > a.0 || (b.0 == a.0 && b.1 < a.1) {
            b
        } else {
            a
        }
    };
    // Trials in chunks of two per thread, in parallel within a chunk; the budget is checked
    // between chunks (the first chunk always runs), so a spent budget costs at most two trials
    // a thread (each a local search over the whole graph).
    let chunk = 2 * rayon::current_num_threads().max(1);
    let mut best: Option<(f64, usize, Vec<Spin>)> = None;
    let mut start = 0;
    while start < trials {
        let end = trials.min(start.saturating_add(chunk));
        let b = (start..end).into_par_iter().map(trial).reduce_with(better);
        best = match (best, b) {
            (Some(a), Some(b)) => Some(better(a, b)),
            (a, b) => a.or(b),
        };
        start = end;
        if budget.spent() {
            break;
        }
    }
    match best {
        Some((val, _, x)) => (x, val),
        None => (Vec::new(), f64::NAN),
    }
}

/// Flip vertices while some flip increases the cut (first improvement, in index order).
fn local_search(mc: &MaxCut, x: &mut [Spin]) {
    let mut h = mc.local_fields(x);
    let (ptr, idx, val) = mc.graph().csr();
    loop {
        let mut improved = false;
        for v in 0..x.len() {
            if MaxCut::flip_gain(&h, x, v) > 1e-12 {
                let old = f64::from(x[v]);
                x[v] = -x[v];
                for k in ptr[v]..ptr[v + 1] {
                    h[idx[k]] -= 2.0 * old * val[k];
                }
                improved = true;
            }
        }
        if !improved {
            break;
        }
    }
}

/// Solve the MaxCut SDP of `p` (see the module documentation). The report's objective is the
/// primal value `¼⟨L, VVᵀ⟩` of the returned factor (a lower bound on the SDP optimum), its
/// bound the certified upper bound, `residuals.relative_gap` their relative gap; `stats`
/// hold the rounded cut's value (`cut_value`), the rank, sweeps and Lanczos matvecs.
pub fn solve(
    p: &MaxCutSdp,
    s: &MaxCutSdpSettings,
    observer: &mut dyn Observer,
) -> Result<MaxCutSdpReport, SolveError> {
    s.validate()?;
    // The backend first: the GPU's one-time set-up is not part of the solve's time.
    let mut backend = crate::linalg::backend::select(s.common.backend, "cd-sdp")?;
    let n = p.n();
    let pool = s.common.thread_pool()?;
    let mut oracle = backend.setup(s.common.backend, |sel| EigenOperator::new(p, sel))?;
    let natural = ((2.0 * n as f64).sqrt().ceil() as usize).max(1);
    let mut r = s.rank.unwrap_or(natural.min(16)).clamp(1, n.max(1));
    let max_rank = s.max_rank.unwrap_or(natural.max(r).min(64)).max(r);
    let mut run = Run::start(
        &s.common,
        observer,
        "cd-sdp",
        "maxcut-sdp",
        Sense::Maximize,
        n * r,
    );
    let t0 = run.t0();
    if n == 0 {
        return Err(SolveError::InvalidInput("the graph has no vertices".into()));
    }
    let mut rng = stream_rng(s.common.seed, 0x5D7, 0);
    let mut v: Vec<f64> = (0..n * r)
        .map(|_| StandardNormal.sample(&mut rng))
        .collect();
    normalise_rows(&mut v, r);
    let mut g = vec![0.0; max_rank];
    let mut y = vec![0.0; n];
    let mut ybar = vec![0.0; n];
    let mut primal;
    let mut q_prev: Option<Vec<f64>> = None;
    let (mut iters, mut sweeps_done, mut matvecs) = (0u64, 0u64, 0usize);
    let mut lambda;
    let mut eig_residual;
    let maxdeg = p.degrees().iter().fold(0.0f64, |m, d| m.max(d.abs()));
    let mut pace = Pace::default();
    let (mut newton, mut newton_steps) = (Newton::default(), 0u64);
    // Newton steps take over once the gap is below `newton_below` and either the target is
    // tight (below 1e-5, where only they converge in reasonable time) or the sweeps are slow
    // (the gap has not halved over the last 10 oracle calls); then they stay on.
    // (The last 11 gaps, a ring indexed by the iteration count: no growth per iteration.)
    let (mut gaps, mut newton_on) = ([f64::INFINITY; 11], false);
    let sp = degree_scaling(p, s.precondition);
    let mut cert = Certificate::new(n, s.tol, &sp);
    let status = loop {
        let polished = newton_on && {
            let budget = run.clock();
            pool.install(|| newton_step(p, &mut v, r, &mut newton, NEWTON_CG, &budget))
        };
        if polished {
            newton_steps += 1;
        } else {
            for _ in 0..s.sweeps {
                sweep(p, &mut v, r, &mut g[..r]);
            }
            sweeps_done += s.sweeps as u64;
        }
        primal = pool.install(|| dual_estimate(p, &v, r, &mut y));
        let delta = (2.0 / (iters as f64 + 2.0)).max(s.momentum_min);
        for (b, yi) in ybar.iter_mut().zip(&y) {
            *b = (1.0 - delta) * *b + delta * yi;
        }
        // Eigen-oracle on S(ȳ) = L/4 − Diag(ȳ).
        let (mut ls, want_abs) = oracle_settings(s, &ybar, maxdeg, primal, iters);
        // The eigen-oracle is the long step: give it only the operator applications the time
        // left allows. An oracle cut short certifies nothing: its bound is not used and the
        // run ends at its time limit.
        let capped = pace.cap(run.deadline(), &mut ls);
        let t_eig = Instant::now();
        let eig = oracle.largest(p, (&ybar, &sp), q_prev.as_deref(), &ls, &pool)?;
        pace.record(t_eig, eig.matvecs);
        matvecs += eig.matvecs;
        lambda = eig.value;
        eig_residual = eig.residual;
        if capped && eig.matvecs >= ls.max_matvecs {
            break Status::TimeLimit;
        }
        cert.offer(p, &ybar, eig.value + eig.residual, primal, s.tol);
        iters += 1;
        let gap = gap_of(cert.bound, primal);
        // `iters` was just incremented: slot `iters % 11` holds the gap of 11 iterations ago
        // (infinite for the first 10, which never counts as slow).
        let ten_back = gaps[iters as usize % 11];
        gaps[iters as usize % 11] = gap;
        newton_on |= gap <= s.newton_below && (s.tol < 1e-5 || gap > 0.5 * ten_back);
        let ctl = run.report(&IterRecord {
            iteration: iters,
            elapsed: t0.elapsed().as_secs_f64(),
            best: primal,
            current: primal,
            bound: Some(cert.bound),
            residual: Some(gap),
            improved: true,
            extra: &[("rank", r as f64), ("lambda", lambda)],
        });
        if gap <= s.tol {
            break Status::Converged;
        }
        if let Some(st) = run.budget(ctl, iters) {
            break st;
        }
        if eig.value > want_abs && r < max_rank {
            // CD direction hhᵀ, h = P^{-1/2}q: the dual is not yet feasible along it.
            append_column(&mut v, &mut r, (&eig.vector, &sp), 0.3);
            if g.len() < r {
                g.resize(r, 0.0);
            }
        }
        q_prev = Some(eig.vector);
    };
    cert.finish(p);
    let best_bound = cert.bound;
    // (No trials: no cut, value NaN.)
    let budget = run.clock();
    let (cut, cut_value) =
        pool.install(|| round_cut(p, &v, r, s.rounding_trials, s.common.seed, &budget));
    let gap = (best_bound - primal) / best_bound.abs().max(1.0);
    let residuals = MaxCutSdpResiduals {
        relative_gap: gap,
        eigen_residual: eig_residual,
    };
    let stats = MaxCutSdpStats {
        cut_value,
        rank: r,
        sweeps: Some(sweeps_done),
        newton_steps: Some(newton_steps),
        lanczos_matvecs: matvecs,
        lambda_max: Some(lambda),
        upper_bound: best_bound,
        storage: None,
    };
    let solution = MaxCutSdpSolution {
        rank: r,
        factor: v,
        dual: cert.dual,
        cut,
        cut_value,
    };
    Ok(run.finish(
        End::new(status, solution, primal, residuals, stats)
            .bound(Some(best_bound))
            .iterations(iters)
            .backend(backend.report().clone()),
    ))
}

/// The best certified upper bound so far and its dual vector.
struct Certificate {
    /// `Σ dual`, the bound.
    bound: f64,
    /// `ȳ + max(0, λ̄)·1`: dual feasible (`L/4 − Diag(dual) ⪯ 0`) up to the oracle.
    dual: Vec<f64>,
    /// (Graphs up to [`DENSE_CONFIRM`] vertices.) The warm-started gap at which a bound is
    /// confirmed by dense eigenvalues; halved after each confirmation that misses the target.
    confirm_below: f64,
    /// Whether the bound was confirmed.
    confirmed: bool,
    /// `√p` of the preconditioner (all ones without one) and `Σp`.
    sqrt_p: Vec<f64>,
    p_sum: f64,
}

impl Certificate {
    fn new(n: usize, tol: f64, sqrt_p: &[f64]) -> Self {
        Certificate {
            bound: f64::INFINITY,
            dual: vec![0.0; n],
            confirm_below: tol,
            confirmed: false,
            sqrt_p: sqrt_p.to_vec(),
            p_sum: sqrt_p.iter().map(|x| x * x).sum(),
        }
    }

    /// Offer the bound `Σȳ + n·max(0, top)` of the oracle's `top ≥ λ_max(S(ȳ))` (Lanczos's
    /// `θ + ‖Sq − θq‖`). Near the optimum the top eigenvalues cluster (multiplicity = rank X*);
    /// a Ritz vector leaning to a lower member of the cluster (as a warm start aligned with one
    /// gives) under-estimates `λ_max` by up to the cluster's spread. On small graphs a bound
    /// about to meet the target is therefore replaced by the dense eigenvalues' and, once one
    /// is, only such confirmed bounds count.
    fn offer(&mut self, p: &MaxCutSdp, ybar: &[f64], mut top: f64, primal: f64, tol: f64) {
        let n = p.n();
        let (sum_y, trace): (f64, f64) = (ybar.iter().sum(), self.p_sum);
        let dense = n <= DENSE_CONFIRM;
        let confirm = dense && gap_of(sum_y + trace * top.max(0.0), primal) <= self.confirm_below;
        if confirm {
            if let Some(exact) = independent_top(p, ybar, &self.sqrt_p) {
                top = exact;
            }
            if gap_of(sum_y + trace * top.max(0.0), primal) > tol {
                self.confirm_below *= 0.5;
            }
        }
        let bound = sum_y + trace * top.max(0.0);
        let accept = if !dense {
            bound < self.bound
        } else if confirm {
            !self.confirmed || bound < self.bound
        } else {
            !self.confirmed && bound < self.bound
        };
        if accept {
            self.confirmed |= confirm;
            self.bound = bound;
            let shift = top.max(0.0);
            for ((d, yb), si) in self.dual.iter_mut().zip(ybar).zip(&self.sqrt_p) {
                *d = yb + shift * si * si;
            }
        }
    }

    /// A run that stopped before any bound was confirmed (small graphs): confirm the reported
    /// one, lifting it by the dense `λ_max` where positive.
    fn finish(&mut self, p: &MaxCutSdp) {
        if !self.confirmed
            && self.bound.is_finite()
            && let Some(exact) = independent_top(p, &self.dual, &self.sqrt_p)
        {
            let lift = exact.max(0.0);
            self.bound += self.p_sum * lift;
            for (d, si) in self.dual.iter_mut().zip(&self.sqrt_p) {
                *d += lift * si * si;
            }
            self.confirmed = true;
        }
    }
}

/// Largest graph whose confirmation uses dense eigenvalues.
const DENSE_CONFIRM: usize = 500;

/// `λ_max(P^{-1/2}(L/4 − Diag(y))P^{-1/2})` (`sp` = `√p`) from the dense eigenvalues (exact to
/// rounding, plus a margin of `1e-13‖·‖∞`), independent of the warm-started oracle, for graphs
/// of at most [`DENSE_CONFIRM`] vertices; `None` above (or should the dense solver fail): there
/// the warm-started Lanczos bound stands (a random start, tried, gave far looser bounds in the
/// time: the clustered top of `S(y)` near the optimum converges slowly from random vectors).
fn independent_top(p: &MaxCutSdp, y: &[f64], sp: &[f64]) -> Option<f64> {
    let n = p.n();
    if n > DENSE_CONFIRM {
        return None;
    }
    let mut m = faer::Mat::<f64>::zeros(n, n);
    for (u, d) in p.degrees().iter().enumerate() {
        m[(u, u)] = 0.25 * d - y[u];
    }
    for (u, v, w) in p.graph().edges() {
        m[(u, v)] -= 0.25 * w;
        m[(v, u)] -= 0.25 * w;
    }
    for u in 0..n {
        for v in 0..n {
            m[(u, v)] /= sp[u] * sp[v];
        }
    }
    let norm = (0..n)
        .map(|u| (0..n).map(|v| m[(u, v)].abs()).sum::<f64>())
        .fold(0.0, f64::max);
    let ev = m.self_adjoint_eigenvalues(faer::Side::Lower).ok()?;
    Some(ev[n - 1] + 1e-13 * norm)
}

/// The eigen-oracle's Lanczos settings for `S(ȳ)`, and the absolute accuracy wanted of
/// `λ_max` (a `tol`-sized share of the gap over the `n` the bound multiplies it by).
fn oracle_settings(
    s: &MaxCutSdpSettings,
    ybar: &[f64],
    maxdeg: f64,
    primal: f64,
    iters: u64,
) -> (LanczosSettings, f64) {
    let n = ybar.len();
    let scale = maxdeg * 0.5 + ybar.iter().fold(0.0f64, |m, x| m.max(x.abs()));
    let want_abs = (s.tol * primal.abs().max(1.0) / (4.0 * n as f64)).max(1e-14 * scale);
    let ls = LanczosSettings {
        tol: (want_abs / scale.max(f64::MIN_POSITIVE)).clamp(1e-12, 1e-2),
        scale,
        max_basis: s.lanczos_basis.max(4),
        max_matvecs: 50 * s.lanczos_basis.max(4),
        seed: s.common.seed ^ iters,
    };
    (ls, want_abs)
}

/// The relative gap `(upper − lower)/max(1, |upper|)`.
fn gap_of(upper: f64, lower: f64) -> f64 {
    (upper - lower) / upper.abs().max(1.0)
}

/// Conjugate-gradient iterations per Newton step.
const NEWTON_CG: usize = 100;

/// The measured cost of one operator application of the eigen-oracle.
#[derive(Default)]
struct Pace {
    per_matvec: Option<f64>,
}

impl Pace {
    /// Cap `ls.max_matvecs` by what the time left to `deadline` allows at the measured rate;
    /// whether the cap binds.
    fn cap(&self, deadline: Option<Instant>, ls: &mut LanczosSettings) -> bool {
        let Some(cap) = deadline.zip(self.per_matvec).map(|(d, pm)| {
            let left = d.saturating_duration_since(Instant::now()).as_secs_f64();
            ((left / pm) as usize).max(1)
        }) else {
            return false;
        };
        let binds = cap < ls.max_matvecs;
        ls.max_matvecs = ls.max_matvecs.min(cap);
        binds
    }
    /// Record a call started at `t0` that applied the operator `matvecs` times.
    fn record(&mut self, t0: Instant, matvecs: usize) {
        if matvecs > 0 {
            self.per_matvec = Some(t0.elapsed().as_secs_f64() / matvecs as f64);
        }
    }
}

/// The eigen-oracle's operator `L/4 − Diag(ȳ)`: on the CPU (rayon, matrix-free) or, with the
/// `cuda` feature and a GPU backend, as a device SpMV (the Lanczos recurrence stays on the
/// CPU).
enum EigenOperator {
    Cpu,
    #[cfg(feature = "cuda")]
    Gpu(Box<super::gpu::MaxCutOperator>),
}

impl EigenOperator {
    fn new(p: &MaxCutSdp, sel: &crate::linalg::backend::Selected) -> Result<Self, SolveError> {
        #[cfg(feature = "cuda")]
        if let Some(gpu) = sel.gpu() {
            let (ptr, idx, w) = p.graph().csr();
            return super::gpu::MaxCutOperator::new(gpu, ptr, idx, w, p.degrees())
                .map(|o| EigenOperator::Gpu(Box::new(o)))
                .map_err(crate::linalg::cuda::solve_error);
        }
        let _ = (p, sel);
        Ok(EigenOperator::Cpu)
    }

    /// The largest eigenpair of `P^{-1/2}(L/4 − Diag(y))P^{-1/2}` by Lanczos (`sp` = `√p`; all
    /// ones: no preconditioner).
    fn largest(
        &mut self,
        p: &MaxCutSdp,
        (y, sp): (&[f64], &[f64]),
        start: Option<&[f64]>,
        ls: &LanczosSettings,
        pool: &rayon::ThreadPool,
    ) -> Result<crate::linalg::lanczos::EigenPair, SolveError> {
        let n = p.n();
        let scaled = sp.iter().any(|&x| x != 1.0);
        let mut tmp = vec![0.0; if scaled { n } else { 0 }];
        // x ↦ P^{-1/2} A(P^{-1/2} x) for the unscaled operator A.
        let mut wrap = |x: &[f64], out: &mut [f64], a: &mut dyn FnMut(&[f64], &mut [f64])| {
            if !scaled {
                return a(x, out);
            }
            for ((t, xi), si) in tmp.iter_mut().zip(x).zip(sp) {
                *t = xi / si;
            }
            a(&tmp, out);
            for (o, si) in out.iter_mut().zip(sp) {
                *o /= si;
            }
        };
        match self {
            EigenOperator::Cpu => Ok(pool.install(|| {
                largest_eigenpair(
                    n,
                    |x, out| wrap(x, out, &mut |x, out| p.apply_shifted(y, 0.0, x, out)),
                    start,
                    ls,
                )
            })),
            #[cfg(feature = "cuda")]
            EigenOperator::Gpu(op) => {
                let gpu_err = crate::linalg::cuda::solve_error;
                op.set_y(y).map_err(gpu_err)?;
                let mut failed: Option<String> = None;
                let eig = pool.install(|| {
                    largest_eigenpair(
                        n,
                        |x, out| {
                            wrap(x, out, &mut |x, out| {
                                if failed.is_none()
                                    && let Err(e) = op.apply(0.0, x, out)
                                {
                                    failed = Some(e);
                                }
                                if failed.is_some() {
                                    out.fill(0.0);
                                }
                            })
                        },
                        start,
                        ls,
                    )
                });
                match failed {
                    Some(e) => Err(gpu_err(e)),
                    None => Ok(eig),
                }
            }
        }
    }
}
