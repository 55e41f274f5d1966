//! Sinkhorn–Newton–Sparse (X. Tang et al., "Accelerating Sinkhorn algorithm with sparse Newton
//! iterations", ICLR 2024, arXiv 2401.12253), with an adaptive sparsification.
//!
//! The dual `D(f, g) = ⟨a, f⟩ + ⟨b, g⟩ − reg Σ_ij P_ij`, `P_ij = exp((f_i + g_j − C_ij)/reg)`,
//! is concave with gradient `(a − P1, b − Pᵀ1)` and Hessian `−(1/reg) M`,
//! `M = [[diag(P1), P], [Pᵀ, diag(Pᵀ1)]]`.
//!
//! 1. **Sinkhorn stage** ([`super::sinkhorn`]) until the L1 violation is below
//!    [`super::SnsParams::switch_violation`] (at least `min_sinkhorn`, at most `max_sinkhorn`
//!    iterations).
//! 2. **Newton stage**: `M` is sparsified by keeping, in every row of `P`, the largest entries
//!    that cover a fraction `1 − δ` of the row's mass (the diagonal keeps the exact sums, so the
//!    sparse matrix stays diagonally dominant); the paper's fixed density (about 3 entries per
//!    row) fails on point clouds, whose rows have many comparable entries. The step solves
//!    `(M_s + μI) d = reg ∇D` by Jacobi-preconditioned CG (`μ` a tiny shift that fixes the
//!    `(1, −1)` kernel), then an Armijo line search on `D` (accepting rounding-level changes).
//!    When a step reduces the violation by less than 10x, `δ` shrinks 100x (denser Hessian).
//!
//! Every pass over the plan is parallel over rows (rayon), with sequential sums per row and
//! per column block, so results do not depend on the thread count. The buffers (dense plan,
//! CG vectors) are allocated once.

use super::{
    OtReport, OtSettings, OtSolution, OtStats, SnsStats, check_start, evaluate, finish, sinkhorn,
    weighted_dot,
};
use crate::core::{IterRecord, Observer, Run, SolveError, Status};
use crate::linalg::vexp::exp_above_sum;
use mathprog_problems::Sense;
use mathprog_problems::ot::OtProblem;
use rayon::prelude::*;
use std::time::Instant;

/// Rows per block of the plan pass (fixed, so that sums do not depend on the thread count).
const BLOCK: usize = 64;

/// Workspace of one block of [`BLOCK`] rows, allocated once and reused by every pass.
struct Block {
    /// Partial column sums of the block's rows.
    col: Vec<f64>,
    /// Candidate entries of the block's rows (CSR over the block's rows).
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
    /// Entries kept by the last [`sparsify`] (CSR over the block's rows).
    kept_ptr: Vec<usize>,
    kept_idx: Vec<u32>,
    kept_val: Vec<f64>,
    /// Row scratch: exponents, then plan entries; compaction buffers.
    xrow: Vec<f64>,
    sidx: Vec<u32>,
    sval: Vec<f64>,
}

impl Block {
    fn new(m: usize) -> Self {
        Block {
            col: vec![0.0; m],
            ptr: Vec::with_capacity(BLOCK + 1),
            idx: Vec::new(),
            val: Vec::new(),
            kept_ptr: Vec::with_capacity(BLOCK + 1),
            kept_idx: Vec::new(),
            kept_val: Vec::new(),
            xrow: vec![0.0; m],
            sidx: vec![0; m],
            sval: vec![0.0; m],
        }
    }
}

/// One pass over the plan `P(f, g)`, never stored: the row sums `r`, the column sums `c`, and
/// per row the *candidates* for sparsification, the entries `P_ij ≥ max_j P_ij · δ_c / (2m)`.
/// The entries left out weigh at most `δ_c r_i / 2` per row, so the candidates contain the
/// entries that any sparsification with `δ ≥ δ_c` keeps. Returns `Σ P`.
#[allow(clippy::too_many_arguments)]
fn plan_pass(
    p: &OtProblem,
    f: &[f64],
    g: &[f64],
    reg: f64,
    cand_delta: f64,
    blocks: &mut [Block],
    r: &mut [f64],
    c: &mut [f64],
) -> f64 {
    let m = p.m();
    let rel = cand_delta / (2.0 * m as f64);
    blocks
        .par_iter_mut()
        .zip(r.par_chunks_mut(BLOCK))
        .enumerate()
        .for_each(|(b, (blk, rb))| {
            blk.col.fill(0.0);
            blk.ptr.clear();
            blk.ptr.push(0);
            blk.idx.clear();
            blk.val.clear();
            for (k, ri) in rb.iter_mut().enumerate() {
                let i = b * BLOCK + k;
                for ((x, gj), cj) in blk.xrow.iter_mut().zip(g).zip(p.cost_row(i)) {
                    *x = (f[i] + gj - cj) / reg;
                }
                let xmax = blk.xrow.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let s = exp_above_sum(&mut blk.xrow, super::PLAN_CUT);
                *ri = s;
                for (cj, v) in blk.col.iter_mut().zip(&blk.xrow) {
                    *cj += v;
                }
                if s > 0.0 {
                    let cut = super::plan_exp(xmax) * rel;
                    // Branch-free compaction of the entries >= cut (positive, as cut > 0).
                    let mut kk = 0;
                    for (j, v) in blk.xrow.iter().enumerate() {
                        blk.sidx[kk] = j as u32;
                        blk.sval[kk] = *v;
                        kk += usize::from(*v >= cut && *v > 0.0);
                    }
                    blk.idx.extend_from_slice(&blk.sidx[..kk]);
                    blk.val.extend_from_slice(&blk.sval[..kk]);
                }
                blk.ptr.push(blk.idx.len());
            }
        });
    c.fill(0.0);
    for blk in blocks.iter() {
        for (cj, v) in c.iter_mut().zip(&blk.col) {
            *cj += v;
        }
    }
    r.iter().sum()
}

/// The sparsified plan in both orientations, for the two halves of the Newton matrix.
pub(crate) struct Csr {
    /// Rows: `ptr`, column indices, values.
    pub(crate) ptr: Vec<usize>,
    pub(crate) idx: Vec<u32>,
    pub(crate) val: Vec<f64>,
    /// Columns (the transpose): `tptr`, row indices, values.
    pub(crate) tptr: Vec<usize>,
    pub(crate) tidx: Vec<u32>,
    pub(crate) tval: Vec<f64>,
}

impl Csr {
    /// Empty, with room for the row and column pointers of an `n × m` matrix.
    pub(crate) fn with_capacity(n: usize, m: usize) -> Self {
        Csr {
            ptr: Vec::with_capacity(n + 1),
            idx: Vec::new(),
            val: Vec::new(),
            tptr: Vec::with_capacity(m + 1),
            tidx: Vec::new(),
            tval: Vec::new(),
        }
    }
}

/// Keep in each row the largest candidates covering `1 − delta` of the row mass `r_i`
/// (`delta` at least the candidates' `δ_c`).
///
/// One pass per row sorts the candidates into buckets by binary exponent relative to the row's
/// largest entry (bucket `k`: values in `[2^(e_max − k), 2^(e_max − k + 1))`) and adds up their
/// mass; the threshold is the lower edge of the first bucket at which the cumulative mass
/// reaches `(1 − delta) r_i`. This keeps at most the needed entries plus the rest of one
/// factor-of-2 bucket, without sorting. Then the rows are concatenated and transposed
/// (counting sort), allocation-free once the buffers have grown.
fn sparsify(blocks: &mut [Block], r: &[f64], m: usize, delta: f64, out: &mut Csr) {
    const NB: usize = 64;
    let exp_bits = |v: f64| ((v.to_bits() >> 52) & 0x7ff) as i64;
    blocks
        .par_iter_mut()
        .zip(r.par_chunks(BLOCK))
        .for_each(|(blk, rb)| {
            blk.kept_ptr.clear();
            blk.kept_ptr.push(0);
            blk.kept_idx.clear();
            blk.kept_val.clear();
            for (k, &ri) in rb.iter().enumerate() {
                let (lo, hi) = (blk.ptr[k], blk.ptr[k + 1]);
                let (ci, cv) = (&blk.idx[lo..hi], &blk.val[lo..hi]);
                if ri > 0.0 && !cv.is_empty() {
                    let mx = cv.iter().copied().fold(0.0f64, f64::max);
                    let emax = exp_bits(mx);
                    let mut mass = [0.0f64; NB];
                    for &v in cv {
                        let b = ((emax - exp_bits(v)).max(0) as usize).min(NB - 1);
                        mass[b] += v;
                    }
                    let target = (1.0 - delta) * ri;
                    let mut acc = 0.0;
                    let mut kcut = NB - 1;
                    for (b, mb) in mass.iter().enumerate() {
                        acc += mb;
                        if acc >= target {
                            kcut = b;
                            break;
                        }
                    }
                    let thr = if kcut == NB - 1 || emax - (kcut as i64) < 1 {
                        0.0
                    } else {
                        f64::from_bits(((emax - kcut as i64) as u64) << 52)
                    };
                    for (j, v) in ci.iter().zip(cv) {
                        if *v >= thr {
                            blk.kept_idx.push(*j);
                            blk.kept_val.push(*v);
                        }
                    }
                }
                blk.kept_ptr.push(blk.kept_idx.len());
            }
        });
    out.ptr.clear();
    out.idx.clear();
    out.val.clear();
    out.ptr.push(0);
    for blk in blocks.iter() {
        let base = out.idx.len();
        out.idx.extend_from_slice(&blk.kept_idx);
        out.val.extend_from_slice(&blk.kept_val);
        out.ptr.extend(blk.kept_ptr[1..].iter().map(|q| base + q));
    }
    transpose(m, out);
}

/// The column-major copy of the kept entries (a counting sort, parallel over ranges of
/// columns). Within a row the entries are in increasing column order, so the part of row `i`
/// in a column range is found by binary search; each range owns a contiguous part of the
/// output, and rows stay in increasing order within every column.
pub(crate) fn transpose(m: usize, out: &mut Csr) {
    const CHUNK: usize = 256;
    let n = out.ptr.len() - 1;
    let (ptr, idx, val) = (&out.ptr, &out.idx, &out.val);
    let part = |i: usize, j0: usize, j1: usize| {
        let row = &idx[ptr[i]..ptr[i + 1]];
        let lo = row.partition_point(|&j| (j as usize) < j0);
        let hi = row.partition_point(|&j| (j as usize) < j1);
        ptr[i] + lo..ptr[i] + hi
    };
    out.tptr.clear();
    out.tptr.resize(m + 1, 0);
    out.tptr[1..]
        .par_chunks_mut(CHUNK)
        .enumerate()
        .for_each(|(ch, counts)| {
            let j0 = ch * CHUNK;
            for i in 0..n {
                for q in part(i, j0, j0 + counts.len()) {
                    counts[idx[q] as usize - j0] += 1;
                }
            }
        });
    for j in 0..m {
        out.tptr[j + 1] += out.tptr[j];
    }
    let nnz = out.tptr[m];
    out.tidx.resize(nnz, 0);
    out.tval.resize(nnz, 0.0);
    // Split the output at the chunk boundaries.
    let mut slices = Vec::with_capacity(m.div_ceil(CHUNK));
    let (mut ti, mut tv) = (&mut out.tidx[..], &mut out.tval[..]);
    for ch in 0..m.div_ceil(CHUNK) {
        let len = out.tptr[((ch + 1) * CHUNK).min(m)] - out.tptr[ch * CHUNK];
        let (a, b) = std::mem::take(&mut ti).split_at_mut(len);
        let (c, d) = std::mem::take(&mut tv).split_at_mut(len);
        slices.push((ch, a, c));
        ti = b;
        tv = d;
    }
    let tptr = &out.tptr;
    slices.into_par_iter().for_each(|(ch, ti, tv)| {
        let j0 = ch * CHUNK;
        let j1 = (j0 + CHUNK).min(m);
        let base = tptr[j0];
        let mut next: Vec<usize> = tptr[j0..j1].iter().map(|t| t - base).collect();
        for i in 0..n {
            for q in part(i, j0, j1) {
                let slot = &mut next[idx[q] as usize - j0];
                ti[*slot] = i as u32;
                tv[*slot] = val[q];
                *slot += 1;
            }
        }
    });
}

/// `y = (M_s + μI) x` with `x = [x_f; x_g]`: two parallel gathers (rows, then columns).
pub(crate) fn apply(s: &Csr, r: &[f64], c: &[f64], mu: f64, x: &[f64], y: &mut [f64]) {
    let n = r.len();
    let (xf, xg) = x.split_at(n);
    let (yf, yg) = y.split_at_mut(n);
    yf.par_iter_mut().enumerate().for_each(|(i, yi)| {
        let mut acc = (r[i] + mu) * xf[i];
        for q in s.ptr[i]..s.ptr[i + 1] {
            acc += s.val[q] * xg[s.idx[q] as usize];
        }
        *yi = acc;
    });
    yg.par_iter_mut().enumerate().for_each(|(j, yj)| {
        let mut acc = (c[j] + mu) * xg[j];
        for q in s.tptr[j]..s.tptr[j + 1] {
            acc += s.tval[q] * xf[s.tidx[q] as usize];
        }
        *yj = acc;
    });
}

/// Preconditioned CG for `A x = rhs` (A = M_s + μI, Jacobi preconditioner); returns iterations.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pcg(
    s: &Csr,
    r: &[f64],
    c: &[f64],
    mu: f64,
    rhs: &[f64],
    x: &mut [f64],
    work: &mut [Vec<f64>; 4],
    rel_tol: f64,
    max_iter: usize,
) -> usize {
    let n = r.len();
    let [res, z, dir, q] = work;
    let diag = |k: usize| if k < n { r[k] + mu } else { c[k - n] + mu };
    x.fill(0.0);
    res.copy_from_slice(rhs);
    for k in 0..res.len() {
        z[k] = res[k] / diag(k);
    }
    dir.copy_from_slice(z);
    let mut rz: f64 = res.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
    let norm0 = rhs.iter().map(|v| v * v).sum::<f64>().sqrt();
    if norm0 == 0.0 {
        return 0;
    }
    for it in 0..max_iter {
        apply(s, r, c, mu, dir, q);
        let dq: f64 = dir.iter().zip(q.iter()).map(|(a, b)| a * b).sum();
        if dq <= 0.0 || !dq.is_finite() {
            return it;
        }
        let alpha = rz / dq;
        for k in 0..x.len() {
            x[k] += alpha * dir[k];
            res[k] -= alpha * q[k];
        }
        let rn = res.iter().map(|v| v * v).sum::<f64>().sqrt();
        if rn <= rel_tol * norm0 {
            return it + 1;
        }
        for k in 0..res.len() {
            z[k] = res[k] / diag(k);
        }
        let rz_new: f64 = res.iter().zip(z.iter()).map(|(a, b)| a * b).sum();
        let beta = rz_new / rz;
        rz = rz_new;
        for k in 0..dir.len() {
            dir[k] = z[k] + beta * dir[k];
        }
    }
    max_iter
}

fn violation(p: &OtProblem, r: &[f64], c: &[f64]) -> f64 {
    r.iter().zip(p.a()).map(|(x, a)| (x - a).abs()).sum::<f64>()
        + c.iter().zip(p.b()).map(|(x, b)| (x - b).abs()).sum::<f64>()
}

/// Run SNS on `p` (see the module documentation).
///
/// The report is shaped as for [`sinkhorn::solve`]; `iterations` counts Newton steps and the
/// statistics add `sinkhorn_iterations`, `newton_steps`, `cg_iterations`, `line_search_trials`,
/// `final_delta`, `mean_kept_per_row` and `fallback_sinkhorn_iterations` (when the Newton stage
/// stalls, Sinkhorn finishes from its potentials).
pub fn solve(
    p: &OtProblem,
    settings: &OtSettings,
    observer: &mut dyn Observer,
) -> Result<OtReport, SolveError> {
    settings.validate()?;
    check_start(p, settings)?;
    // The backend first: the GPU's one-time set-up (context, kernel compilation) is not part
    // of the solve's time.
    #[cfg_attr(not(feature = "cuda"), allow(unused_mut))]
    let mut backend = crate::linalg::backend::select(settings.common.backend, "sns")?;
    let common = &settings.common;
    let prm = &settings.sns;
    let (n, m) = (p.n(), p.m());
    let reg = settings.reg;
    let tol = settings.tol;
    let mut run = Run::start(common, observer, "sns", "ot", Sense::Minimize, n + m);
    let t0 = run.t0();
    // Stage 1: Sinkhorn, in this run (its rows reach the observer).
    let mut s1 = settings.clone();
    s1.tol = prm.switch_violation.max(tol);
    s1.common.max_iter = Some(
        prm.max_sinkhorn
            .min(common.max_iter.unwrap_or(u64::MAX).max(prm.min_sinkhorn)),
    );
    let mut stage_backend = crate::linalg::backend::select(common.backend, "sinkhorn")?;
    let start = settings
        .start
        .as_ref()
        .map(|(f, g)| (f.as_slice(), g.as_slice()));
    let first = sinkhorn::stage(
        p,
        &s1,
        start,
        &mut run,
        &mut stage_backend,
        false,
        prm.min_sinkhorn,
    )?;
    let mut timers = [0.0f64; 4]; // sinkhorn stage, plan passes, sparsify, cg
    let sinkhorn_iters = first.iterations;
    let sol = first.solution;
    timers[0] = t0.elapsed().as_secs_f64();
    let pool = common.thread_pool()?;
    let mut nt = NewtonStage::new(p, settings, &pool, sol.f, sol.g);
    #[cfg(feature = "cuda")]
    {
        nt.gpu = backend.setup(common.backend, |sel| match sel.gpu() {
            Some(gpu) => super::gpu::SparseNewton::new(gpu, n, m)
                .map(Some)
                .map_err(crate::linalg::cuda::solve_error),
            None => Ok(None),
        })?;
    }
    let mut viol = nt.violation();
    let status = loop {
        if viol <= tol {
            break Status::Converged;
        }
        // Rows continue the Sinkhorn stage's numbering; the budget counts Newton steps.
        let ctl = run.report(&IterRecord {
            iteration: sinkhorn_iters + nt.newton,
            elapsed: t0.elapsed().as_secs_f64(),
            best: f64::NAN,
            current: f64::NAN,
            bound: None,
            residual: Some(viol),
            improved: false,
            extra: &[("delta", nt.delta)],
        });
        if let Some(stop) = run.budget(ctl, nt.newton) {
            break stop;
        }
        match nt.step(viol)? {
            Some(v) => viol = v,
            None => break Status::Stalled,
        }
    };
    let NewtonStage {
        f,
        g,
        delta,
        newton,
        cg_total,
        ls_total,
        kept_total,
        timers: nt_timers,
        ..
    } = nt;
    timers[1..].copy_from_slice(&nt_timers[1..]);
    // Newton stalled (degenerate or nearly non-unique plans): finish with Sinkhorn from the
    // current potentials, which always converges, within the remaining budget.
    let mut fallback = 0u64;
    let (f, g, status) = if status == Status::Stalled {
        let mut s3 = settings.clone();
        s3.common.max_iter = None;
        let r3 = sinkhorn::stage(
            p,
            &s3,
            Some((&f, &g)),
            &mut run,
            &mut stage_backend,
            true,
            0,
        )?;
        fallback = r3.iterations;
        (r3.solution.f, r3.solution.g, r3.status)
    } else {
        (f, g, status)
    };
    let sol = OtSolution { f, g, reg };
    let vals = pool.install(|| evaluate(p, &sol));
    let status = if status == Status::Converged && vals.marginal_violation > tol {
        Status::Stalled
    } else {
        status
    };
    let stats = OtStats {
        sinkhorn_iterations: sinkhorn_iters,
        sns: Some(SnsStats {
            newton_steps: newton,
            fallback_sinkhorn_iterations: fallback,
            cg_iterations: cg_total,
            line_search_trials: ls_total,
            final_delta: delta,
            mean_kept_per_row: kept_total as f64 / (newton.max(1) as f64 * n as f64),
            sinkhorn_seconds: timers[0],
            plan_seconds: timers[1],
            sparsify_seconds: timers[2],
            cg_seconds: timers[3],
        }),
        ..Default::default()
    };
    let backend = backend.report().clone();
    Ok(finish(run, status, sol, vals, newton, stats, backend))
}

/// The Newton stage of SNS between two steps: the potentials, the plan's row blocks and its
/// sums, the sparsified Hessian, the system's buffers (all allocated once), the
/// sparsification level `δ` and the counters.
struct NewtonStage<'a> {
    p: &'a OtProblem,
    reg: f64,
    prm: &'a super::SnsParams,
    pool: &'a rayon::ThreadPool,
    f: Vec<f64>,
    g: Vec<f64>,
    ft: Vec<f64>,
    gt: Vec<f64>,
    blocks: Vec<Block>,
    /// Row and column sums of the plan at `(f, g)` (after a rejected trial: at the trial).
    r: Vec<f64>,
    c: Vec<f64>,
    /// `Σ P` at `(f, g)`.
    mass: f64,
    sp: Csr,
    rhs: Vec<f64>,
    d: Vec<f64>,
    work: [Vec<f64>; 4],
    delta: f64,
    newton: u64,
    cg_total: u64,
    ls_total: u64,
    kept_total: usize,
    /// Seconds: (unused here), plan passes, sparsify, CG.
    timers: [f64; 4],
    /// The PCG on the GPU, when the backend has one.
    #[cfg(feature = "cuda")]
    gpu: Option<super::gpu::SparseNewton>,
}

impl<'a> NewtonStage<'a> {
    fn new(
        p: &'a OtProblem,
        settings: &'a OtSettings,
        pool: &'a rayon::ThreadPool,
        f: Vec<f64>,
        g: Vec<f64>,
    ) -> Self {
        let (n, m) = (p.n(), p.m());
        let mut st = NewtonStage {
            p,
            reg: settings.reg,
            prm: &settings.sns,
            pool,
            f,
            g,
            ft: vec![0.0; n],
            gt: vec![0.0; m],
            blocks: (0..n.div_ceil(BLOCK)).map(|_| Block::new(m)).collect(),
            r: vec![0.0; n],
            c: vec![0.0; m],
            mass: 0.0,
            sp: Csr::with_capacity(n, m),
            rhs: vec![0.0; n + m],
            d: vec![0.0; n + m],
            work: std::array::from_fn(|_| vec![0.0; n + m]),
            delta: settings.sns.initial_delta,
            newton: 0,
            cg_total: 0,
            ls_total: 0,
            kept_total: 0,
            timers: [0.0; 4],
            #[cfg(feature = "cuda")]
            gpu: None,
        };
        st.mass = st.plan(false);
        st
    }

    /// The L1 violation of the plan sums at hand.
    fn violation(&self) -> f64 {
        violation(self.p, &self.r, &self.c)
    }

    /// One pass over the plan at `(f, g)` or at the trial `(ft, gt)`: row and column sums and
    /// the candidates of the sparsification (they cover any `δ` the next sparsification may
    /// use: `δ` shrinks at most 100x a step). Returns `Σ P`.
    fn plan(&mut self, trial: bool) -> f64 {
        let (p, reg) = (self.p, self.reg);
        let cand = (self.delta * 1e-2).max(self.prm.min_delta);
        let (f, g) = if trial {
            (&self.ft, &self.gt)
        } else {
            (&self.f, &self.g)
        };
        let (blocks, r, c) = (&mut self.blocks, &mut self.r, &mut self.c);
        self.pool
            .install(|| plan_pass(p, f, g, reg, cand, blocks, r, c))
    }

    /// One Newton step: sparsify, solve the system, line search. `Some(violation)` after an
    /// accepted step; `None` when no step is accepted even at the densest sparsification.
    fn step(&mut self, viol: f64) -> Result<Option<f64>, SolveError> {
        let tt = Instant::now();
        let (blocks, r, m, delta, sp) = (
            &mut self.blocks,
            &self.r,
            self.p.m(),
            self.delta,
            &mut self.sp,
        );
        self.pool.install(|| sparsify(blocks, r, m, delta, sp));
        self.timers[2] += tt.elapsed().as_secs_f64();
        self.kept_total += self.sp.idx.len();
        self.solve_system(viol)?;
        let accepted = self.line_search();
        self.newton += 1;
        let prm = self.prm;
        if !accepted {
            // No progress along this direction: densify, restore the plan and retry.
            if self.delta <= prm.min_delta {
                return Ok(None);
            }
            self.delta = (self.delta * 1e-2).max(prm.min_delta);
            self.mass = self.plan(false);
            return Ok(Some(viol));
        }
        std::mem::swap(&mut self.f, &mut self.ft);
        std::mem::swap(&mut self.g, &mut self.gt);
        let new_viol = self.violation();
        if new_viol > 0.1 * viol {
            self.delta = (self.delta * 1e-2).max(prm.min_delta);
        }
        Ok(Some(new_viol))
    }

    /// The Newton system `(M_s + μI) d = reg ∇D` by Jacobi-preconditioned CG, on the GPU when
    /// the backend has one, else on the CPU.
    fn solve_system(&mut self, viol: f64) -> Result<(), SolveError> {
        let (p, reg) = (self.p, self.reg);
        let (n, m) = (p.n(), p.m());
        for i in 0..n {
            self.rhs[i] = reg * (p.a()[i] - self.r[i]);
        }
        for j in 0..m {
            self.rhs[n + j] = reg * (p.b()[j] - self.c[j]);
        }
        let mu = 1e-12 * self.mass / (n + m) as f64;
        let cg_tol = (0.1f64).min(viol).max(1e-14);
        let max_iter = self.prm.cg_max_iter;
        let tc = Instant::now();
        #[cfg(feature = "cuda")]
        let gpu_iters = match self.gpu.as_mut() {
            Some(cg) => {
                let sp = &self.sp;
                Some(
                    cg.load(
                        &sp.ptr, &sp.idx, &sp.val, &sp.tptr, &sp.tidx, &sp.tval, &self.r, &self.c,
                    )
                    .and_then(|_| cg.pcg(mu, &self.rhs, &mut self.d, cg_tol, max_iter))
                    .map_err(crate::linalg::cuda::solve_error)?,
                )
            }
            None => None,
        };
        #[cfg(not(feature = "cuda"))]
        let gpu_iters: Option<usize> = None;
        let (sp, r, c, rhs, d, work) = (
            &self.sp,
            &self.r,
            &self.c,
            &self.rhs,
            &mut self.d,
            &mut self.work,
        );
        self.cg_total += match gpu_iters {
            Some(k) => k,
            None => self
                .pool
                .install(|| pcg(sp, r, c, mu, rhs, d, work, cg_tol, max_iter)),
        } as u64;
        self.timers[3] += tc.elapsed().as_secs_f64();
        Ok(())
    }

    /// Armijo line search on `D` (ascent) along `d`, tolerant of rounding-level changes; the
    /// accepted trial is left in `(ft, gt)` with its plan sums. The step is capped so that no
    /// log-plan entry moves by more than 50 (`e^50`): a row whose plan underflowed has a
    /// near-zero Hessian diagonal and would get a huge step that only overflows.
    fn line_search(&mut self) -> bool {
        let (p, reg) = (self.p, self.reg);
        let (n, m) = (p.n(), p.m());
        let d0 = weighted_dot(p.a(), &self.f) + weighted_dot(p.b(), &self.g) - reg * self.mass;
        let slope: f64 = self
            .rhs
            .iter()
            .zip(&self.d)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / reg;
        let round = 1e-13 * (d0.abs() + reg * self.mass + 1e-300);
        let dmax = self.d.iter().fold(0.0f64, |mx, v| mx.max(v.abs()));
        let mut alpha = if dmax > 0.0 {
            (25.0 * reg / dmax).min(1.0)
        } else {
            1.0
        };
        for _ in 0..self.prm.line_search_steps.max(1) {
            self.ls_total += 1;
            for i in 0..n {
                self.ft[i] = self.f[i] + alpha * self.d[i];
            }
            for j in 0..m {
                self.gt[j] = self.g[j] + alpha * self.d[n + j];
            }
            let tt = Instant::now();
            let mt = self.plan(true);
            self.timers[1] += tt.elapsed().as_secs_f64();
            let dt = weighted_dot(p.a(), &self.ft) + weighted_dot(p.b(), &self.gt) - reg * mt;
            if dt.is_finite() && dt >= d0 + 1e-4 * alpha * slope - round {
                self.mass = mt;
                return true;
            }
            alpha *= 0.5;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small problem with an uneven plan: 150 × 170, cost `(x_i − y_j)²` on a line.
    fn problem() -> OtProblem {
        let (n, m) = (150, 170);
        let a: Vec<f64> = (0..n).map(|i| 1.0 + (i % 7) as f64).collect();
        let sa: f64 = a.iter().sum();
        let b: Vec<f64> = (0..m).map(|j| 1.0 + (j % 5) as f64).collect();
        let sb: f64 = b.iter().sum();
        let cost = (0..n * m)
            .map(|k| {
                let (i, j) = (k / m, k % m);
                let d = i as f64 / n as f64 - j as f64 / m as f64;
                d * d
            })
            .collect();
        OtProblem::from_row_major(
            a.iter().map(|x| x / sa).collect(),
            b.iter().map(|x| x / sb).collect(),
            cost,
        )
        .unwrap()
    }

    #[test]
    fn sparsified_matrix_is_consistent_in_both_orientations() {
        let p = problem();
        let (n, m, reg) = (p.n(), p.m(), 1e-3);
        let f = vec![0.0; n];
        let g: Vec<f64> = (0..m).map(|j| 1e-3 * (j % 3) as f64).collect();
        let mut blocks: Vec<Block> = (0..n.div_ceil(BLOCK)).map(|_| Block::new(m)).collect();
        let (mut r, mut c) = (vec![0.0; n], vec![0.0; m]);
        let delta = 1e-3;
        let total = plan_pass(&p, &f, &g, reg, delta, &mut blocks, &mut r, &mut c);
        // Row and column sums against the scalar plan.
        let sol = OtSolution {
            f: f.clone(),
            g: g.clone(),
            reg,
        };
        let dense = sol.plan(&p);
        for i in 0..n {
            let want: f64 = dense[i * m..(i + 1) * m].iter().sum();
            assert!((r[i] - want).abs() <= 1e-12 * want.max(1e-300), "row {i}");
        }
        for j in 0..m {
            let want: f64 = (0..n).map(|i| dense[i * m + j]).sum();
            assert!((c[j] - want).abs() <= 1e-12 * want.max(1e-300), "col {j}");
        }
        assert!((total - r.iter().sum::<f64>()).abs() <= 1e-15 * total);
        let mut sp = Csr {
            ptr: vec![],
            idx: vec![],
            val: vec![],
            tptr: vec![],
            tidx: vec![],
            tval: vec![],
        };
        sparsify(&mut blocks, &r, m, delta, &mut sp);
        // Every row keeps at least 1 − δ of its mass, and fewer than all entries overall.
        let mut kept_dense = vec![0.0; n * m];
        for i in 0..n {
            let kept: f64 = sp.val[sp.ptr[i]..sp.ptr[i + 1]].iter().sum();
            assert!(kept >= (1.0 - delta) * r[i], "row {i}: {kept} of {}", r[i]);
            for q in sp.ptr[i]..sp.ptr[i + 1] {
                let j = sp.idx[q] as usize;
                // The vectorised exp agrees with f64::exp to a few ulp.
                assert!((sp.val[q] - dense[i * m + j]).abs() <= 1e-14 * dense[i * m + j]);
                kept_dense[i * m + j] = sp.val[q];
            }
        }
        assert!(sp.idx.len() < n * m / 2);
        // The transpose holds the same entries, rows increasing within each column.
        assert_eq!(sp.tptr[m], sp.idx.len());
        for j in 0..m {
            let rows = &sp.tidx[sp.tptr[j]..sp.tptr[j + 1]];
            assert!(rows.windows(2).all(|w| w[0] < w[1]));
            for (q, &i) in rows.iter().enumerate() {
                assert_eq!(sp.tval[sp.tptr[j] + q], kept_dense[i as usize * m + j]);
            }
        }
        // apply() against the dense sparsified matrix.
        let x: Vec<f64> = (0..n + m).map(|k| ((k * 37) % 11) as f64 - 5.0).collect();
        let mu = 1e-9;
        let mut y = vec![0.0; n + m];
        apply(&sp, &r, &c, mu, &x, &mut y);
        for i in 0..n {
            let want = (r[i] + mu) * x[i]
                + (0..m)
                    .map(|j| kept_dense[i * m + j] * x[n + j])
                    .sum::<f64>();
            assert!((y[i] - want).abs() <= 1e-12 * (1.0 + want.abs()));
        }
        for j in 0..m {
            let want =
                (c[j] + mu) * x[n + j] + (0..n).map(|i| kept_dense[i * m + j] * x[i]).sum::<f64>();
            assert!((y[n + j] - want).abs() <= 1e-12 * (1.0 + want.abs()));
        }
    }
}
