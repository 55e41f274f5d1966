//! Stabilised Sinkhorn for entropic OT (Cuturi 2013; absorption as in Schmitzer 2019,
//! "Stabilized sparse scaling algorithms for entropy regularized transport problems").
//!
//! The plan is kept as `P = diag(u) K diag(v)` with the kernel
//! `K_ij = exp((f_i + g_j − C_ij)/reg)` built from log-domain potentials `(f, g)`. One
//! iteration is two matrix–vector products, `u ← a / (Kv)` and `v ← b / (Kᵀu)`, each streaming
//! the row-major K once, in parallel over rows (`Kᵀu` over blocks of 64 rows whose partial
//! sums are added in block order), so results do not depend on the thread count. When a scaling leaves
//! `[e^(−τ), e^τ]` it is absorbed into the potentials (`f += reg log u`, ...) and the kernel is
//! rebuilt, so nothing overflows or underflows at small `reg`. The potentials start from one
//! exact log-domain half-step each (`f_i = reg log a_i − reg LSE_j((g_j − C_ij)/reg)`), which
//! also repairs a kernel row that underflowed entirely.
//!
//! After the `v` update the column marginals are exact, so the L1 violation is the row error
//! `Σ_i |u_i (Kv)_i − a_i|`, read off the next product for free. The returned potentials absorb
//! the final scalings and the report's violation is recomputed exactly from them.

use super::{OtSettings, OtSolution, evaluate, ot_report};
use crate::core::{Control, IterRecord, Observer, Report, RunInfo, SolveError, Status};
use crate::linalg::simd::{axpy, dot};
use crate::linalg::vexp::exp_above_sum;
use mathprog_problems::ot::OtProblem;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// `reg · log Σ_k exp(x_k / reg)` over the finite entries of `xs` (−∞ when there are none);
/// `xs` is overwritten.
fn reg_lse(xs: &mut [f64], reg: f64) -> f64 {
    let mx = xs.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if mx == f64::NEG_INFINITY {
        return mx;
    }
    for x in xs.iter_mut() {
        *x = (*x - mx) / reg;
    }
    mx + reg * exp_above_sum(xs, f64::NEG_INFINITY).ln()
}

/// Exact log-domain update of the row potentials: `f_i = reg log a_i − reg LSE_j((g_j − C_ij)/reg)`.
pub(crate) fn log_update_rows(p: &OtProblem, f: &mut [f64], g: &[f64], reg: f64) {
    let m = p.m();
    f.par_iter_mut().enumerate().for_each_init(
        || vec![0.0; m],
        |buf, (i, fi)| {
            let a = p.a()[i];
            *fi = if a > 0.0 {
                for ((x, gj), cj) in buf.iter_mut().zip(g).zip(p.cost_row(i)) {
                    *x = gj - cj;
                }
                reg * a.ln() - reg_lse(buf, reg)
            } else {
                f64::NEG_INFINITY
            };
        },
    );
}

/// Exact log-domain update of the column potentials,
/// `g_j = reg log b_j − reg LSE_i((f_i − C_ij)/reg)`, streaming the cost matrix by rows (two
/// passes: column maxima, then shifted sums) in fixed 64-row blocks reduced in block order.
pub(crate) fn log_update_cols(p: &OtProblem, f: &[f64], g: &mut [f64], reg: f64) {
    const BLOCK: usize = 64;
    let (n, m) = (p.n(), p.m());
    let blocks = n.div_ceil(BLOCK);
    let fold = |init: f64, op: &(dyn Fn(&mut [f64], usize) + Sync)| -> Vec<Vec<f64>> {
        (0..blocks)
            .into_par_iter()
            .map(|blk| {
                let mut acc = vec![init; m];
                for i in blk * BLOCK..((blk + 1) * BLOCK).min(n) {
                    op(&mut acc, i);
                }
                acc
            })
            .collect()
    };
    let maxes = fold(f64::NEG_INFINITY, &|acc, i| {
        if f[i] == f64::NEG_INFINITY {
            return;
        }
        for (x, c) in acc.iter_mut().zip(p.cost_row(i)) {
            *x = x.max(f[i] - c);
        }
    });
    let mut mx = vec![f64::NEG_INFINITY; m];
    for part in &maxes {
        for (x, y) in mx.iter_mut().zip(part) {
            *x = x.max(*y);
        }
    }
    let mxr = &mx;
    let sums: Vec<Vec<f64>> = (0..blocks)
        .into_par_iter()
        .map(|blk| {
            let mut acc = vec![0.0; m];
            let mut buf = vec![0.0; m];
            let i0 = blk * BLOCK;
            for (i, &fi) in f.iter().enumerate().take((i0 + BLOCK).min(n)).skip(i0) {
                if fi == f64::NEG_INFINITY {
                    continue;
                }
                for ((x, c), m0) in buf.iter_mut().zip(p.cost_row(i)).zip(mxr) {
                    *x = (fi - c - m0) / reg;
                }
                exp_above_sum(&mut buf, f64::NEG_INFINITY);
                for (a, x) in acc.iter_mut().zip(&buf) {
                    *a += x;
                }
            }
            acc
        })
        .collect();
    let mut tot = vec![0.0; m];
    for part in &sums {
        for (x, y) in tot.iter_mut().zip(part) {
            *x += y;
        }
    }
    for j in 0..m {
        let b = p.b()[j];
        g[j] = if b > 0.0 && mx[j] > f64::NEG_INFINITY {
            reg * b.ln() - (mx[j] + reg * tot[j].ln())
        } else {
            f64::NEG_INFINITY
        };
    }
}

/// `K_ij = exp((f_i + g_j − C_ij)/reg)`, row-major.
pub(crate) fn build_kernel(p: &OtProblem, f: &[f64], g: &[f64], reg: f64, k: &mut [f64]) {
    let m = p.m();
    k.par_chunks_mut(m).enumerate().for_each(|(i, row)| {
        let c = p.cost_row(i);
        for ((out, gj), cj) in row.iter_mut().zip(g).zip(c) {
            *out = (f[i] + gj - cj) / reg;
        }
        // NaN (from −∞ + ∞) and −∞ give 0.
        exp_above_sum(row, f64::NEG_INFINITY);
    });
}

/// Rows per block of the transposed product.
pub(crate) const BLOCK: usize = 64;

/// `out = Kᵀ u` streaming the row-major `K` once: each block of 64 rows accumulates a partial
/// vector, and the partials are added in block order (thread-count independent).
pub(crate) fn matvec_t(k: &[f64], u: &[f64], partial: &mut [f64], out: &mut [f64]) {
    let (n, m) = (u.len(), out.len());
    partial
        .par_chunks_mut(m)
        .enumerate()
        .for_each(|(blk, acc)| {
            acc.fill(0.0);
            for i in blk * BLOCK..((blk + 1) * BLOCK).min(n) {
                let ui = u[i];
                if ui == 0.0 {
                    continue;
                }
                axpy(ui, &k[i * m..(i + 1) * m], acc);
            }
        });
    out.fill(0.0);
    for acc in partial.chunks(m) {
        for (o, a) in out.iter_mut().zip(acc) {
            *o += a;
        }
    }
}

/// `out = M x` for a row-major matrix with rows of length `x.len()`.
pub(crate) fn matvec(mat: &[f64], x: &[f64], out: &mut [f64]) {
    let w = x.len();
    out.par_iter_mut()
        .zip(mat.par_chunks(w))
        .with_min_len(16)
        .for_each(|(o, row)| {
            *o = dot(row, x);
        });
}

/// The Gibbs kernel and its two products, on the CPU (rayon) or the GPU (feature `cuda`).
enum KernelOps {
    Cpu {
        k: Vec<f64>,
        partial: Vec<f64>,
    },
    #[cfg(feature = "cuda")]
    Gpu(Box<crate::linalg::cuda::DenseKernel>),
}

#[cfg(feature = "cuda")]
fn gpu_err(e: String) -> SolveError {
    SolveError::Unavailable(format!("GPU: {e}"))
}

impl KernelOps {
    fn new(p: &OtProblem, sel: &crate::linalg::backend::Selected) -> Result<Self, SolveError> {
        let (n, m) = (p.n(), p.m());
        #[cfg(feature = "cuda")]
        if let Some(gpu) = sel.gpu() {
            return crate::linalg::cuda::DenseKernel::new(gpu, p.cost(), n, m)
                .map(|k| KernelOps::Gpu(Box::new(k)))
                .map_err(gpu_err);
        }
        let _ = sel;
        Ok(KernelOps::Cpu {
            k: vec![0.0; n * m],
            partial: vec![0.0; n.div_ceil(BLOCK) * m],
        })
    }

    fn build(&mut self, p: &OtProblem, f: &[f64], g: &[f64], reg: f64) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { k, .. } => {
                build_kernel(p, f, g, reg, k);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.build(f, g, reg).map_err(gpu_err),
        }
    }

    fn matvec(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { k, .. } => {
                matvec(k, v, out);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.matvec(v, out).map_err(gpu_err),
        }
    }

    fn matvec_t(&mut self, u: &[f64], out: &mut [f64]) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { k, partial } => {
                matvec_t(k, u, partial, out);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.matvec_t(u, out).map_err(gpu_err),
        }
    }
}

/// Scalings `s_i = w_i / d_i` (0 where the weight is 0). Returns whether all are finite.
fn scale(w: &[f64], d: &[f64], s: &mut [f64]) -> bool {
    let mut ok = true;
    for ((si, &wi), &di) in s.iter_mut().zip(w).zip(d) {
        *si = if wi > 0.0 { wi / di } else { 0.0 };
        ok &= si.is_finite() && (wi == 0.0 || *si > 0.0);
    }
    ok
}

/// Absorb scalings into potentials: `f += reg log u` (`f = −∞` where `u = 0`: zero weight).
fn absorb(f: &mut [f64], u: &mut [f64], reg: f64) {
    for (fi, ui) in f.iter_mut().zip(u.iter_mut()) {
        if *ui == 0.0 {
            *fi = f64::NEG_INFINITY;
        } else if ui.is_finite() {
            *fi += reg * ui.ln();
        }
        *ui = 1.0;
    }
}

/// Run stabilised Sinkhorn on `p`.
///
/// Stops with [`Status::Converged`] when the L1 marginal violation is at most `settings.tol`,
/// or at the time/iteration limit or cancellation. The report's `objective` is the entropic
/// objective (POT convention), `residuals["marginal_l1"]` the exact violation, and `stats` hold
/// `transport_cost`, `dual_value`, `sinkhorn_iterations`, `absorptions`.
pub fn solve(
    p: &OtProblem,
    settings: &OtSettings,
    observer: &mut dyn Observer,
) -> Result<Report<OtSolution>, SolveError> {
    solve_from(p, settings, None, observer)
}

/// [`solve`] warm-started from the potentials `(f, g)` of `start` (which must have the
/// problem's dimensions).
pub fn solve_from(
    p: &OtProblem,
    settings: &OtSettings,
    start: Option<(&[f64], &[f64])>,
    observer: &mut dyn Observer,
) -> Result<Report<OtSolution>, SolveError> {
    run(p, settings, start, observer, true, 0)
}

/// The solver. With `exact = false` (a warm-up stage for SNS) convergence is judged on the
/// running estimate alone and the report's values are not evaluated (they are NaN); it runs at
/// least `min_iter` iterations (unless stopped) even when the tolerance is met earlier.
pub(crate) fn run(
    p: &OtProblem,
    settings: &OtSettings,
    start: Option<(&[f64], &[f64])>,
    observer: &mut dyn Observer,
    exact: bool,
    min_iter: u64,
) -> Result<Report<OtSolution>, SolveError> {
    settings.validate()?;
    if let Some((f0, g0)) = start
        && (f0.len() != p.n() || g0.len() != p.m())
    {
        return Err(SolveError::DimensionMismatch {
            what: "warm-start potentials".into(),
            expected: p.n() + p.m(),
            found: f0.len() + g0.len(),
        });
    }
    let common = &settings.common;
    let pool = common.thread_pool()?;
    let threads = common.resolved_threads();
    let backend = crate::linalg::backend::select(common.backend, "sinkhorn")?;
    let t0 = Instant::now();
    let deadline = common
        .time_limit
        .map(|s| t0 + std::time::Duration::from_secs_f64(s));
    let (n, m) = (p.n(), p.m());
    let reg = settings.reg;
    observer.on_start(&RunInfo {
        algorithm: "sinkhorn",
        problem: "ot",
        num_vars: n + m,
        time_limit: common.time_limit,
        max_iter: common.max_iter,
        threads,
        seed: common.seed,
    });
    let mut f = start.map_or_else(|| vec![0.0; n], |(f0, _)| f0.to_vec());
    let mut g = start.map_or_else(|| vec![0.0; m], |(_, g0)| g0.to_vec());
    let mut ops = KernelOps::new(p, &backend)?;
    let mut u = vec![1.0; n];
    let mut v = vec![1.0; m];
    let mut kv = vec![0.0; n];
    let mut ktu = vec![0.0; m];
    let mut iter = 0u64;
    let mut absorptions = 0u64;
    let mut repairs_in_a_row = 0u32;
    let tol = settings.tol;
    let tau = settings.absorb_threshold;
    let status = {
        pool.install(|| {
            if start.is_none() {
                log_update_rows(p, &mut f, &g, reg);
                log_update_cols(p, &f, &mut g, reg);
            }
            ops.build(p, &f, &g, reg)
        })?;
        loop {
            pool.install(|| ops.matvec(&v, &mut kv))?;
            let viol: f64 = u
                .iter()
                .zip(&kv)
                .zip(p.a())
                .map(|((ui, kvi), ai)| (ui * kvi - ai).abs())
                .sum();
            if iter > 0 && iter >= min_iter && viol <= tol {
                // The estimate takes the columns as exact; confirm on the absorbed potentials
                // (one pass of exps) so that the reported status never overstates accuracy.
                let mut fa = f.clone();
                let mut ga = g.clone();
                let mut ua = u.clone();
                let mut va = v.clone();
                absorb(&mut fa, &mut ua, reg);
                absorb(&mut ga, &mut va, reg);
                let sol = OtSolution { f: fa, g: ga, reg };
                if !exact || pool.install(|| evaluate(p, &sol)).marginal_violation <= tol {
                    break Status::Converged;
                }
            }
            if iter.is_multiple_of(10) {
                let ctl = observer.on_iter(&IterRecord {
                    iteration: iter,
                    elapsed: t0.elapsed().as_secs_f64(),
                    best: viol,
                    current: viol,
                    bound: None,
                    improved: false,
                    extra: &[],
                });
                if ctl == Control::Stop {
                    break Status::Interrupted;
                }
            }
            if common.stop.is_stopped() {
                break Status::Interrupted;
            }
            if deadline.is_some_and(|d| Instant::now() >= d) {
                break Status::TimeLimit;
            }
            if common.max_iter.is_some_and(|mx| iter >= mx) {
                break Status::IterationLimit;
            }
            let ok_u = scale(p.a(), &kv, &mut u);
            pool.install(|| ops.matvec_t(&u, &mut ktu))?;
            let ok_v = scale(p.b(), &ktu, &mut v);
            iter += 1;
            let big = |s: &[f64]| s.iter().any(|x| *x > 0.0 && x.ln().abs() > tau);
            if !(ok_u && ok_v) {
                repairs_in_a_row += 1;
                if repairs_in_a_row > 3 {
                    // A kernel row or column underflows even right after an exact log-domain
                    // step (weights below ~1e−300): give up rather than loop.
                    break Status::NumericalError;
                }
            } else {
                repairs_in_a_row = 0;
            }
            if !(ok_u && ok_v) || big(&u) || big(&v) {
                absorptions += 1;
                absorb(&mut f, &mut u, reg);
                absorb(&mut g, &mut v, reg);
                pool.install(|| {
                    if !(ok_u && ok_v) {
                        // A kernel row or column underflowed: an exact log-domain step repairs it.
                        log_update_rows(p, &mut f, &g, reg);
                        log_update_cols(p, &f, &mut g, reg);
                    }
                    ops.build(p, &f, &g, reg)
                })?;
            }
        }
    };
    absorb(&mut f, &mut u, reg);
    absorb(&mut g, &mut v, reg);
    let sol = OtSolution { f, g, reg };
    let vals = if exact {
        pool.install(|| evaluate(p, &sol))
    } else {
        super::OtValues {
            transport_cost: f64::NAN,
            entropic_objective: f64::NAN,
            dual_value: f64::NAN,
            marginal_violation: f64::NAN,
        }
    };
    let elapsed = t0.elapsed().as_secs_f64();
    observer.on_finish(status, vals.entropic_objective, elapsed);
    let mut stats = BTreeMap::new();
    stats.insert("sinkhorn_iterations".into(), iter.into());
    stats.insert("absorptions".into(), absorptions.into());
    Ok(ot_report(
        "sinkhorn",
        status,
        sol,
        vals,
        iter,
        elapsed,
        common,
        stats,
        backend.report().clone(),
    ))
}
