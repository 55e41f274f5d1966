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
//! With a GPU backend ([`crate::linalg::backend`]) the kernel, the scalings and both products
//! stay on the device (cuBLAS `dgemv` and the `sinkhorn_scale` kernel, twin of
//! `scale_step`); only the reductions of each half-step come back to the host.
//!
//! After the `v` update the column marginals are exact, so the L1 violation is the row error
//! `Σ_i |u_i (Kv)_i − a_i|`, read off the next product for free. The returned potentials absorb
//! the final scalings and the report's violation is recomputed exactly from them.

use super::{OtReport, OtSettings, OtSolution, OtStats, OtValues, check_start, evaluate, finish};
use crate::core::{Control, IterRecord, Observer, Run, SolveError, Status};
use crate::linalg::simd::{axpy, dot};
use crate::linalg::vexp::exp_above_sum;
use mathprog_problems::Sense;
use mathprog_problems::ot::OtProblem;
use rayon::prelude::*;
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

/// The Gibbs kernel, its two products and the scalings `u`, `v`: on the CPU (rayon), or on
/// the GPU (feature `cuda`), where `u`, `v` and the products stay on the device and only the
/// reductions of [`scale_step`] come back each half-iteration.
enum KernelOps {
    Cpu {
        k: Vec<f64>,
        partial: Vec<f64>,
        /// Scalings, their next values (swapped in), and the two products.
        u: Vec<f64>,
        v: Vec<f64>,
        u_next: Vec<f64>,
        v_next: Vec<f64>,
        kv: Vec<f64>,
        ktu: Vec<f64>,
    },
    #[cfg(feature = "cuda")]
    Gpu(Box<super::gpu::DenseKernel>),
}

#[cfg(feature = "cuda")]
use crate::linalg::cuda::solve_error as gpu_err;

/// What one half-iteration reports: the L1 row (or column) violation of the scaling before
/// the update, whether every new scaling is finite and positive where its weight is, and
/// whether one has left `[e^(−τ), e^τ]` (time to absorb).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScaleStep {
    /// `Σ_i |s_i d_i − w_i|` for the scaling before the update.
    pub violation: f64,
    /// Every new scaling is finite, and positive where its weight is.
    pub ok: bool,
    /// Some new scaling is outside `[e^(−τ), e^τ]`.
    pub big: bool,
}

/// `s_new_i = w_i / d_i` (0 where `w_i = 0`), with the violation `Σ_i |s_i d_i − w_i|` of the
/// old scaling `s` and the flags of [`ScaleStep`]. (The CPU twin of the CUDA kernel
/// `sinkhorn_scale`.)
pub(crate) fn scale_step(
    w: &[f64],
    d: &[f64],
    s: &[f64],
    s_new: &mut [f64],
    tau: f64,
) -> ScaleStep {
    let mut violation = 0.0;
    let mut ok = true;
    let mut big = false;
    for (((sn, &wi), &di), &si) in s_new.iter_mut().zip(w).zip(d).zip(s) {
        violation += (si * di - wi).abs();
        *sn = if wi > 0.0 { wi / di } else { 0.0 };
        ok &= sn.is_finite() && (wi == 0.0 || *sn > 0.0);
        big |= *sn > 0.0 && sn.ln().abs() > tau;
    }
    ScaleStep { violation, ok, big }
}

impl KernelOps {
    fn new(p: &OtProblem, sel: &crate::linalg::backend::Selected) -> Result<Self, SolveError> {
        let (n, m) = (p.n(), p.m());
        #[cfg(feature = "cuda")]
        if let Some(gpu) = sel.gpu() {
            return super::gpu::DenseKernel::new(gpu, p.cost(), n, m)
                .and_then(|mut k| k.set_marginals(p.a(), p.b()).map(|_| k))
                .map(|k| KernelOps::Gpu(Box::new(k)))
                .map_err(gpu_err);
        }
        let _ = sel;
        Ok(KernelOps::Cpu {
            k: vec![0.0; n * m],
            partial: vec![0.0; n.div_ceil(BLOCK) * m],
            u: vec![1.0; n],
            v: vec![1.0; m],
            u_next: vec![0.0; n],
            v_next: vec![0.0; m],
            kv: vec![0.0; n],
            ktu: vec![0.0; m],
        })
    }

    /// Rebuild the kernel from the potentials and reset the scalings to 1.
    fn build(&mut self, p: &OtProblem, f: &[f64], g: &[f64], reg: f64) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { k, u, v, .. } => {
                build_kernel(p, f, g, reg, k);
                u.fill(1.0);
                v.fill(1.0);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d
                .build(f, g, reg)
                .and_then(|_| d.reset_scalings())
                .map_err(gpu_err),
        }
    }

    /// `K v`, then the row step: the row violation of `u` and the candidate `a / (K v)`
    /// (committed by [`KernelOps::commit_rows`]).
    fn row_step(&mut self, a: &[f64], tau: f64) -> Result<ScaleStep, SolveError> {
        match self {
            KernelOps::Cpu {
                k,
                u,
                v,
                u_next,
                kv,
                ..
            } => {
                matvec(k, v, kv);
                Ok(scale_step(a, kv, u, u_next, tau))
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.row_step(tau).map_err(gpu_err),
        }
    }

    /// `u ← a / (K v)` from the last [`KernelOps::row_step`].
    fn commit_rows(&mut self) {
        match self {
            KernelOps::Cpu { u, u_next, .. } => std::mem::swap(u, u_next),
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.commit_rows(),
        }
    }

    /// `Kᵀ u`, then `v ← b / (Kᵀ u)`.
    fn col_step(&mut self, b: &[f64], tau: f64) -> Result<ScaleStep, SolveError> {
        match self {
            KernelOps::Cpu {
                k,
                partial,
                u,
                v,
                v_next,
                ktu,
                ..
            } => {
                matvec_t(k, u, partial, ktu);
                let st = scale_step(b, ktu, v, v_next, tau);
                std::mem::swap(v, v_next);
                Ok(st)
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.col_step(tau).map_err(gpu_err),
        }
    }

    /// The exact log-domain updates of both potentials (rows, then columns).
    fn log_updates(
        &mut self,
        p: &OtProblem,
        f: &mut [f64],
        g: &mut [f64],
        reg: f64,
        pool: &rayon::ThreadPool,
    ) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { .. } => {
                pool.install(|| {
                    log_update_rows(p, f, g, reg);
                    log_update_cols(p, f, g, reg);
                });
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d
                .log_update_rows(f, g, reg)
                .and_then(|_| d.log_update_cols(f, g, reg))
                .map_err(gpu_err),
        }
    }

    /// [`evaluate`] of a solution (its plan's pass on the GPU when there is one).
    fn evaluate(
        &mut self,
        p: &OtProblem,
        sol: &OtSolution,
        pool: &rayon::ThreadPool,
    ) -> Result<super::OtValues, SolveError> {
        match self {
            KernelOps::Cpu { .. } => Ok(pool.install(|| evaluate(p, sol))),
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => {
                let (rows, cols) = d.plan_sums(&sol.f, &sol.g, sol.reg).map_err(gpu_err)?;
                Ok(super::values_from_sums(p, sol, rows, cols))
            }
        }
    }

    /// Copy the scalings out.
    fn scalings(&mut self, uo: &mut [f64], vo: &mut [f64]) -> Result<(), SolveError> {
        match self {
            KernelOps::Cpu { u, v, .. } => {
                uo.copy_from_slice(u);
                vo.copy_from_slice(v);
                Ok(())
            }
            #[cfg(feature = "cuda")]
            KernelOps::Gpu(d) => d.scalings(uo, vo).map_err(gpu_err),
        }
    }
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

/// Run stabilised Sinkhorn on `p` (warm-started from `settings.start` when given).
///
/// Stops with [`Status::Converged`] when the L1 marginal violation is at most `settings.tol`,
/// or at the time/iteration limit or cancellation. The report's `objective` is the entropic
/// objective (POT convention), `residuals.marginal_l1` the exact violation, and `stats` hold
/// `transport_cost`, `dual_value`, `sinkhorn_iterations`, `absorptions`, `setup_seconds`.
pub fn solve(
    p: &OtProblem,
    settings: &OtSettings,
    observer: &mut dyn Observer,
) -> Result<OtReport, SolveError> {
    settings.validate()?;
    check_start(p, settings)?;
    let common = &settings.common;
    // The backend first: the GPU's one-time set-up (context, kernel compilation) is not part
    // of the solve's time.
    let mut backend = crate::linalg::backend::select(common.backend, "sinkhorn")?;
    let mut run = Run::start(
        common,
        observer,
        "sinkhorn",
        "ot",
        Sense::Minimize,
        p.n() + p.m(),
    );
    let start = settings
        .start
        .as_ref()
        .map(|(f, g)| (f.as_slice(), g.as_slice()));
    let st = stage(p, settings, start, &mut run, &mut backend, true, 0)?;
    let stats = OtStats {
        sinkhorn_iterations: st.iterations,
        absorptions: Some(st.absorptions),
        setup_seconds: Some(st.setup_seconds),
        ..Default::default()
    };
    let backend = backend.report().clone();
    Ok(finish(
        run,
        st.status,
        st.solution,
        st.vals,
        st.iterations,
        stats,
        backend,
    ))
}

/// What a Sinkhorn stage ends with.
pub(crate) struct Stage {
    pub status: Status,
    pub solution: OtSolution,
    /// Exact values (NaN when the stage ran with `exact = false`).
    pub vals: OtValues,
    pub iterations: u64,
    pub absorptions: u64,
    pub setup_seconds: f64,
}

/// The Sinkhorn iterations, inside a run started by the caller (whose observer and deadline
/// they use; `settings.common.max_iter` bounds them). With `exact = false` (a warm-up stage for
/// SNS) convergence is judged on the running estimate alone and the values are not evaluated
/// (NaN); it runs at least `min_iter` iterations (unless stopped) even when the tolerance is
/// met earlier.
pub(crate) fn stage(
    p: &OtProblem,
    settings: &OtSettings,
    start: Option<(&[f64], &[f64])>,
    run: &mut Run<'_>,
    backend: &mut crate::linalg::backend::Selected,
    exact: bool,
    min_iter: u64,
) -> Result<Stage, SolveError> {
    let common = &settings.common;
    let pool = common.thread_pool()?;
    let t0 = run.t0();
    let deadline = run.deadline();
    // Rows continue the run's numbering (SNS calls this stage twice).
    let base = run.iterations();
    let (n, m) = (p.n(), p.m());
    let reg = settings.reg;
    let mut f = start.map_or_else(|| vec![0.0; n], |(f0, _)| f0.to_vec());
    let mut g = start.map_or_else(|| vec![0.0; m], |(_, g0)| g0.to_vec());
    let mut ops = backend.setup(common.backend, |sel| KernelOps::new(p, sel))?;
    let mut u = vec![1.0; n];
    let mut v = vec![1.0; m];
    let mut iter = 0u64;
    let mut absorptions = 0u64;
    let mut repairs_in_a_row = 0u32;
    let tol = settings.tol;
    let tau = settings.absorb_threshold;
    // Set-up: buffers (on a GPU: the cost matrix's upload), log-domain start, first kernel.
    let setup_seconds;
    let status = {
        if start.is_none() {
            ops.log_updates(p, &mut f, &mut g, reg, &pool)?;
        }
        pool.install(|| ops.build(p, &f, &g, reg))?;
        setup_seconds = t0.elapsed().as_secs_f64();
        loop {
            // After the v update the column marginals are exact: the row error is the
            // violation, read off the product that the u update needs anyway.
            let rows = pool.install(|| ops.row_step(p.a(), tau))?;
            let viol = rows.violation;
            if iter > 0 && iter >= min_iter && viol <= tol {
                // The estimate takes the columns as exact; confirm on the absorbed potentials
                // (one pass of exps) so that the reported status never overstates accuracy.
                ops.scalings(&mut u, &mut v)?;
                let mut fa = f.clone();
                let mut ga = g.clone();
                let mut ua = u.clone();
                let mut va = v.clone();
                absorb(&mut fa, &mut ua, reg);
                absorb(&mut ga, &mut va, reg);
                let sol = OtSolution { f: fa, g: ga, reg };
                if !exact || ops.evaluate(p, &sol, &pool)?.marginal_violation <= tol {
                    break Status::Converged;
                }
            }
            if iter.is_multiple_of(10) {
                let ctl = run.report(&IterRecord {
                    iteration: base + iter,
                    elapsed: t0.elapsed().as_secs_f64(),
                    best: f64::NAN,
                    current: f64::NAN,
                    bound: None,
                    residual: Some(viol),
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
            ops.commit_rows();
            let cols = pool.install(|| ops.col_step(p.b(), tau))?;
            iter += 1;
            let ok = rows.ok && cols.ok;
            if !ok {
                repairs_in_a_row += 1;
                if repairs_in_a_row > 3 {
                    // A kernel row or column underflows even right after an exact log-domain
                    // step (weights below ~1e−300): give up rather than loop.
                    break Status::NumericalError;
                }
            } else {
                repairs_in_a_row = 0;
            }
            if !ok || rows.big || cols.big {
                absorptions += 1;
                ops.scalings(&mut u, &mut v)?;
                absorb(&mut f, &mut u, reg);
                absorb(&mut g, &mut v, reg);
                if !ok {
                    // A kernel row or column underflowed: an exact log-domain step repairs it.
                    ops.log_updates(p, &mut f, &mut g, reg, &pool)?;
                }
                pool.install(|| ops.build(p, &f, &g, reg))?;
            }
        }
    };
    ops.scalings(&mut u, &mut v)?;
    absorb(&mut f, &mut u, reg);
    absorb(&mut g, &mut v, reg);
    let sol = OtSolution { f, g, reg };
    let vals = if exact {
        ops.evaluate(p, &sol, &pool)?
    } else {
        super::OtValues {
            transport_cost: f64::NAN,
            entropic_objective: f64::NAN,
            dual_value: f64::NAN,
            marginal_violation: f64::NAN,
        }
    };
    Ok(Stage {
        status,
        solution: sol,
        vals,
        iterations: iter,
        absorptions,
        setup_seconds,
    })
}
