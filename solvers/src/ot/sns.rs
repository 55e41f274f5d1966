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

use super::{OtSettings, OtSolution, evaluate, ot_report, sinkhorn, weighted_dot};
use crate::core::{Control, IterRecord, NoObserver, Observer, Report, RunInfo, SolveError, Status};
use mathprog_problems::ot::OtProblem;
use rayon::prelude::*;
use std::collections::BTreeMap;
use std::time::Instant;

/// Fill `plan` with `P(f, g)`, the row sums `r` and column sums `c`; returns `Σ P`.
fn plan_pass(
    p: &OtProblem,
    f: &[f64],
    g: &[f64],
    reg: f64,
    plan: &mut [f64],
    r: &mut [f64],
    c: &mut [f64],
) -> f64 {
    let (n, m) = (p.n(), p.m());
    plan.par_chunks_mut(m)
        .zip(r.par_iter_mut())
        .enumerate()
        .for_each(|(i, (row, ri))| {
            let cost = p.cost_row(i);
            let mut s = 0.0;
            for j in 0..m {
                let x = (f[i] + g[j] - cost[j]) / reg;
                let v = super::plan_exp(x);
                row[j] = v;
                s += v;
            }
            *ri = s;
        });
    let pl: &[f64] = plan;
    c.par_chunks_mut(64).enumerate().for_each(|(blk, out)| {
        out.fill(0.0);
        let j0 = blk * 64;
        for i in 0..n {
            let row = &pl[i * m + j0..i * m + j0 + out.len()];
            for (o, v) in out.iter_mut().zip(row) {
                *o += v;
            }
        }
    });
    r.iter().sum()
}

/// Sparse rows of the plan: CSR over rows.
struct Csr {
    ptr: Vec<usize>,
    idx: Vec<usize>,
    val: Vec<f64>,
}

/// Keep in each row the largest entries covering `1 − delta` of the row mass.
///
/// One pass per row sorts the entries into buckets by binary exponent relative to the row's
/// largest entry (bucket `k`: values in `[2^(e_max − k), 2^(e_max − k + 1))`) and adds up their
/// mass; the threshold is the lower edge of the first bucket at which the cumulative mass
/// reaches `(1 − delta) r_i`. This keeps at most the needed entries plus the rest of one
/// factor-of-2 bucket, without sorting.
fn sparsify(plan: &[f64], r: &[f64], m: usize, delta: f64, out: &mut Csr) {
    const NB: usize = 64;
    let exp_bits = |v: f64| ((v.to_bits() >> 52) & 0x7ff) as i64;
    let rows: Vec<Vec<(usize, f64)>> = plan
        .par_chunks(m)
        .zip(r.par_iter())
        .map(|(row, &ri)| {
            if ri <= 0.0 {
                return Vec::new();
            }
            let mx = row.iter().copied().fold(0.0f64, f64::max);
            let emax = exp_bits(mx);
            let mut mass = [0.0f64; NB];
            for &v in row {
                if v > 0.0 {
                    let k = ((emax - exp_bits(v)).max(0) as usize).min(NB - 1);
                    mass[k] += v;
                }
            }
            let target = (1.0 - delta) * ri;
            let mut acc = 0.0;
            let mut kcut = NB - 1;
            for (k, mk) in mass.iter().enumerate() {
                acc += mk;
                if acc >= target {
                    kcut = k;
                    break;
                }
            }
            let thr = if kcut == NB - 1 || emax - (kcut as i64) < 1 {
                0.0
            } else {
                f64::from_bits(((emax - kcut as i64) as u64) << 52)
            };
            row.iter()
                .enumerate()
                .filter(|(_, v)| **v > 0.0 && **v >= thr)
                .map(|(j, v)| (j, *v))
                .collect()
        })
        .collect();
    out.ptr.clear();
    out.idx.clear();
    out.val.clear();
    out.ptr.push(0);
    for row in rows {
        for (j, v) in row {
            out.idx.push(j);
            out.val.push(v);
        }
        out.ptr.push(out.idx.len());
    }
}

/// `y = (M_s + μI) x` with `x = [x_f; x_g]`.
fn apply(s: &Csr, r: &[f64], c: &[f64], mu: f64, x: &[f64], y: &mut [f64]) {
    let n = r.len();
    let (xf, xg) = x.split_at(n);
    let (yf, yg) = y.split_at_mut(n);
    yf.par_iter_mut().enumerate().for_each(|(i, yi)| {
        let mut acc = (r[i] + mu) * xf[i];
        for k in s.ptr[i]..s.ptr[i + 1] {
            acc += s.val[k] * xg[s.idx[k]];
        }
        *yi = acc;
    });
    for (j, yj) in yg.iter_mut().enumerate() {
        *yj = (c[j] + mu) * xg[j];
    }
    for (i, &xi) in xf.iter().enumerate() {
        for k in s.ptr[i]..s.ptr[i + 1] {
            yg[s.idx[k]] += s.val[k] * xi;
        }
    }
}

/// Preconditioned CG for `A x = rhs` (A = M_s + μI, Jacobi preconditioner); returns iterations.
#[allow(clippy::too_many_arguments)]
fn pcg(
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
) -> Result<Report<OtSolution>, SolveError> {
    settings.validate()?;
    let t0 = Instant::now();
    let common = &settings.common;
    let prm = &settings.sns;
    let (n, m) = (p.n(), p.m());
    let reg = settings.reg;
    let tol = settings.tol;
    let threads = common.resolved_threads();
    // Stage 1: Sinkhorn.
    let mut s1 = settings.clone();
    s1.tol = prm.switch_violation.max(tol);
    s1.common.max_iter = Some(
        prm.max_sinkhorn
            .min(common.max_iter.unwrap_or(u64::MAX).max(prm.min_sinkhorn)),
    );
    let first = sinkhorn::run(p, &s1, None, &mut NoObserver, false)?;
    let mut timers = [0.0f64; 4]; // sinkhorn stage, plan passes, sparsify, cg
    let mut sinkhorn_iters = first.iterations;
    let mut sol = first.solution;
    // At least min_sinkhorn iterations.
    if sinkhorn_iters < prm.min_sinkhorn && first.status == Status::Converged {
        let mut s2 = settings.clone();
        s2.tol = f64::MIN_POSITIVE;
        s2.common.max_iter = Some(prm.min_sinkhorn);
        let r2 = sinkhorn::run(p, &s2, None, &mut NoObserver, false)?;
        sinkhorn_iters = r2.iterations;
        sol = r2.solution;
    }
    timers[0] = t0.elapsed().as_secs_f64();
    observer.on_start(&RunInfo {
        algorithm: "sns",
        problem: "ot",
        num_vars: n + m,
        time_limit: common.time_limit,
        max_iter: common.max_iter,
        threads,
        seed: common.seed,
    });
    let pool = common.thread_pool()?;
    let deadline = common
        .time_limit
        .map(|s| t0 + std::time::Duration::from_secs_f64(s));
    // Stage 2: Newton. Buffers allocated once.
    let mut f = sol.f;
    let mut g = sol.g;
    let mut plan = vec![0.0; n * m];
    let mut r = vec![0.0; n];
    let mut c = vec![0.0; m];
    let mut sp = Csr {
        ptr: Vec::with_capacity(n + 1),
        idx: Vec::new(),
        val: Vec::new(),
    };
    let mut rhs = vec![0.0; n + m];
    let mut d = vec![0.0; n + m];
    let mut work = [
        vec![0.0; n + m],
        vec![0.0; n + m],
        vec![0.0; n + m],
        vec![0.0; n + m],
    ];
    let mut ft = vec![0.0; n];
    let mut gt = vec![0.0; m];
    let mut delta = prm.initial_delta;
    let (mut newton, mut cg_total, mut ls_total) = (0u64, 0u64, 0u64);
    let mut kept_total = 0usize;
    let mut mass = pool.install(|| plan_pass(p, &f, &g, reg, &mut plan, &mut r, &mut c));
    let mut viol = violation(p, &r, &c);
    let status = loop {
        if viol <= tol {
            break Status::Converged;
        }
        let ctl = observer.on_iter(&IterRecord {
            iteration: newton,
            elapsed: t0.elapsed().as_secs_f64(),
            best: viol,
            current: viol,
            bound: None,
            improved: false,
            extra: &[("delta", delta)],
        });
        if ctl == Control::Stop || common.stop.is_stopped() {
            break Status::Interrupted;
        }
        if deadline.is_some_and(|t| Instant::now() >= t) {
            break Status::TimeLimit;
        }
        if common.max_iter.is_some_and(|mx| newton >= mx) {
            break Status::IterationLimit;
        }
        let tt = Instant::now();
        pool.install(|| sparsify(&plan, &r, m, delta, &mut sp));
        timers[2] += tt.elapsed().as_secs_f64();
        kept_total += sp.idx.len();
        // Newton system (M_s + μI) d = reg ∇D.
        for i in 0..n {
            rhs[i] = reg * (p.a()[i] - r[i]);
        }
        for j in 0..m {
            rhs[n + j] = reg * (p.b()[j] - c[j]);
        }
        let mu = 1e-12 * mass / (n + m) as f64;
        let cg_tol = (0.1f64).min(viol).max(1e-14);
        let tc = Instant::now();
        cg_total += pool.install(|| {
            pcg(
                &sp,
                &r,
                &c,
                mu,
                &rhs,
                &mut d,
                &mut work,
                cg_tol,
                prm.cg_max_iter,
            )
        }) as u64;
        timers[3] += tc.elapsed().as_secs_f64();
        // Armijo line search on D (ascent), tolerant of rounding-level changes.
        let d0 = weighted_dot(p.a(), &f) + weighted_dot(p.b(), &g) - reg * mass;
        let slope: f64 = rhs.iter().zip(&d).map(|(a, b)| a * b).sum::<f64>() / reg;
        let round = 1e-13 * (d0.abs() + reg * mass + 1e-300);
        let mut alpha = 1.0;
        let mut accepted = false;
        for _ in 0..prm.line_search_steps.max(1) {
            ls_total += 1;
            for i in 0..n {
                ft[i] = f[i] + alpha * d[i];
            }
            for j in 0..m {
                gt[j] = g[j] + alpha * d[n + j];
            }
            let tt = Instant::now();
            let mt = pool.install(|| plan_pass(p, &ft, &gt, reg, &mut plan, &mut r, &mut c));
            timers[1] += tt.elapsed().as_secs_f64();
            let dt = weighted_dot(p.a(), &ft) + weighted_dot(p.b(), &gt) - reg * mt;
            if dt.is_finite() && dt >= d0 + 1e-4 * alpha * slope - round {
                accepted = true;
                mass = mt;
                break;
            }
            alpha *= 0.5;
        }
        newton += 1;
        if !accepted {
            // No progress along this direction: restore the plan, densify and retry.
            mass = pool.install(|| plan_pass(p, &f, &g, reg, &mut plan, &mut r, &mut c));
            if delta <= prm.min_delta {
                break Status::Stalled;
            }
            delta = (delta * 1e-2).max(prm.min_delta);
            continue;
        }
        std::mem::swap(&mut f, &mut ft);
        std::mem::swap(&mut g, &mut gt);
        let new_viol = violation(p, &r, &c);
        if new_viol > 0.1 * viol {
            delta = (delta * 1e-2).max(prm.min_delta);
        }
        viol = new_viol;
    };
    // Newton stalled (degenerate or nearly non-unique plans): finish with Sinkhorn from the
    // current potentials, which always converges, within the remaining budget.
    let mut fallback = 0u64;
    let (f, g, status) = if status == Status::Stalled {
        let mut s3 = settings.clone();
        s3.common.time_limit = common
            .time_limit
            .map(|t| (t - t0.elapsed().as_secs_f64()).max(0.0));
        s3.common.max_iter = None;
        let r3 = sinkhorn::solve_from(p, &s3, Some((&f, &g)), &mut NoObserver)?;
        fallback = r3.iterations;
        (r3.solution.f, r3.solution.g, r3.status)
    } else {
        (f, g, status)
    };
    let sol = OtSolution { f, g, reg };
    let vals = pool.install(|| evaluate(p, &sol));
    let elapsed = t0.elapsed().as_secs_f64();
    let status = if status == Status::Converged && vals.marginal_violation > tol {
        Status::Stalled
    } else {
        status
    };
    observer.on_finish(status, vals.entropic_objective, elapsed);
    let mut stats = BTreeMap::new();
    stats.insert("sinkhorn_iterations".into(), sinkhorn_iters.into());
    stats.insert("newton_steps".into(), newton.into());
    stats.insert("fallback_sinkhorn_iterations".into(), fallback.into());
    stats.insert("cg_iterations".into(), cg_total.into());
    stats.insert("line_search_trials".into(), ls_total.into());
    stats.insert("final_delta".into(), delta.into());
    stats.insert(
        "mean_kept_per_row".into(),
        (kept_total as f64 / (newton.max(1) as f64 * n as f64)).into(),
    );
    for (k, name) in [
        "sinkhorn_seconds",
        "plan_seconds",
        "sparsify_seconds",
        "cg_seconds",
    ]
    .iter()
    .enumerate()
    {
        stats.insert((*name).into(), timers[k].into());
    }
    Ok(ot_report(
        "sns", status, sol, vals, newton, elapsed, common, stats,
    ))
}
