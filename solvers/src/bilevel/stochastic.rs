//! The **stochastic single-loop** penalty method (Kwon, Kwon, Wright & Nowak, ICLR 2024, with
//! STORM-type momentum estimators as in F2SA): one step on each of `z`, `y` and `x` per
//! iteration, from minibatch oracles ([`Bilevel::grad_g_batch`], [`Bilevel::grad_f_batch`]):
//!
//! `v_z = ∇_y g_B(x, z)`, `v_y = ∇_y f_B'(x, y) + ∇_y g_B(x, y)/σ`,
//! `v_x = ∇ₓf_B'(x, y) + (∇ₓg_B(x, y) − ∇ₓg_B(x, z))/σ`,
//!
//! each tracked by `h_k = v(p_k; ξ_k) + (1 − a_k)(h_{k−1} − v(p_{k−1}; ξ_k))` (the same batch
//! at the current and the previous point), `a_k = min(1, 1/(k + 1)^{2/3})`; then
//! `z ← Π_Y(z − h_z/L_g)`, `y ← Π_Y(y − h_y/(L_f + L_g/σ))`, `x ← Π_X(x − α h_x)` with the
//! fixed step `α = step0` (default `σ/L_g`). Every `n_g/b` iterations (one pass over the
//! lower-level samples) the exact stationarity of the current point,
//! `‖x − Π_X(x − d)‖` with `d` the penalty hypergradient at the current `y` and `z`, is
//! computed with full oracles (and counted); the run stops when it is at most `tol` and the
//! inner gradient mappings are at most `tol` too. Problems without samples get exact
//! oracles, and the method is then a single-loop deterministic penalty method.

use super::penalty::{
    BilevelReport, BilevelSettings, BilevelStats, Ending, finish, projected_start,
};
use crate::core::{
    BackendReport, IterRecord, Observer, Run, SolveError, Status, stream_rng, uniform01,
};
use mathprog_problems::Sense;
use mathprog_problems::bilevel::Bilevel;

/// Draw `b` distinct indices below `n` (all of them when `b ≥ n`), sorted.
fn draw(
    n: usize,
    b: usize,
    rng: &mut impl rand::Rng,
    out: &mut Vec<usize>,
    mark: &mut [u64],
    stamp: u64,
) {
    out.clear();
    if n == 0 {
        return;
    }
    if b >= n {
        out.extend(0..n);
        return;
    }
    while out.len() < b {
        let i = ((uniform01(rng) * n as f64) as usize).min(n - 1);
        if mark[i] != stamp {
            mark[i] = stamp;
            out.push(i);
        }
    }
    out.sort_unstable();
}

/// The three oracle directions `(v_x, v_y, v_z)` at `(x, y, z)` on the batches.
#[allow(clippy::too_many_arguments)]
fn directions(
    prob: &dyn Bilevel,
    sigma: f64,
    x: &[f64],
    y: &[f64],
    z: &[f64],
    bg: Option<&[usize]>,
    bf: Option<&[usize]>,
    vx: &mut [f64],
    vy: &mut [f64],
    vz: &mut [f64],
    sx: &mut [f64],
    sy: &mut [f64],
) {
    let (p, q) = (x.len(), y.len());
    // z: ∇_y g(x, z); x also needs −∇ₓg(x, z)/σ.
    match bg {
        Some(b) => prob.grad_g_batch(x, z, b, sx, vz),
        None => prob.grad_g(x, z, sx, vz),
    }
    for i in 0..p {
        vx[i] = -sx[i] / sigma;
    }
    match bg {
        Some(b) => prob.grad_g_batch(x, y, b, sx, sy),
        None => prob.grad_g(x, y, sx, sy),
    }
    for i in 0..p {
        vx[i] += sx[i] / sigma;
    }
    for i in 0..q {
        vy[i] = sy[i] / sigma;
    }
    match bf {
        Some(b) => prob.grad_f_batch(x, y, b, sx, sy),
        None => prob.grad_f(x, y, sx, sy),
    }
    for i in 0..p {
        vx[i] += sx[i];
    }
    for i in 0..q {
        vy[i] += sy[i];
    }
}

/// Norm of `u − Π(u − s·g)` divided by `s` (the gradient mapping), with `work` scratch.
fn mapping(u: &[f64], g: &[f64], s: f64, project: &dyn Fn(&mut [f64]), work: &mut [f64]) -> f64 {
    for i in 0..u.len() {
        work[i] = u[i] - s * g[i];
    }
    project(work);
    (0..u.len())
        .map(|i| (u[i] - work[i]).powi(2))
        .sum::<f64>()
        .sqrt()
        / s
}

/// Solve by the stochastic single-loop penalty method with minibatches of `batch` samples
/// (see the module documentation). `max_iter` counts single-loop iterations.
pub(crate) fn solve_stochastic(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    batch: usize,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    s.validate()?;
    if batch == 0 {
        return Err(SolveError::InvalidInput("batch >= 1 needed".into()));
    }
    let (p, q) = (prob.dim_x(), prob.dim_y());
    let (ng, nf) = prob.samples();
    let mut run = Run::start(
        &s.common,
        observer,
        "bilevel-stochastic",
        prob.name(),
        Sense::Minimize,
        p + q,
    );
    let sigma = s.sigma;
    let mut x = projected_start(prob, p)?;
    let (mut y, mut z) = (vec![0.0; q], vec![0.0; q]);
    prob.project_y(&mut y);
    prob.project_y(&mut z);
    let (lf, lg) = prob.smoothness_y(&x);
    let alpha = s.step0.unwrap_or(sigma / lg.max(1e-12));
    let mut rng = stream_rng(s.common.seed, 0xB1E, 0);
    // A batch never holds more samples than there are.
    let (mut bg, mut bf) = (
        Vec::with_capacity(batch.min(ng)),
        Vec::with_capacity(batch.min(nf)),
    );
    let (mut mark_g, mut mark_f) = (vec![u64::MAX; ng], vec![u64::MAX; nf]);
    let (mut hx, mut hy, mut hz) = (vec![0.0; p], vec![0.0; q], vec![0.0; q]);
    let (mut vx, mut vy, mut vz) = (vec![0.0; p], vec![0.0; q], vec![0.0; q]);
    let (mut px, mut py, mut pz) = (x.clone(), y.clone(), z.clone());
    let (mut sx, mut sy) = (vec![0.0; p], vec![0.0; q]);
    let (mut wx, mut wq) = (vec![0.0; p], vec![0.0; q]);
    let check_every = if ng > 0 {
        ng.div_ceil(batch).max(1) as u64
    } else {
        1
    };
    let (mut samples_used, mut full_evals) = (0usize, 0usize);
    let mut stat: f64;
    let mut iters = 0u64;
    let project_x = |v: &mut [f64]| prob.project_x(v);
    let project_y = |v: &mut [f64]| prob.project_y(v);
    let status = loop {
        // Exact check every pass over the data.
        if iters.is_multiple_of(check_every) {
            directions(
                prob, sigma, &x, &y, &z, None, None, &mut vx, &mut vy, &mut vz, &mut sx, &mut sy,
            );
            full_evals += 1;
            stat = mapping(&x, &vx, 1.0, &project_x, &mut wx);
            let inner = mapping(&y, &vy, 1.0 / (lf + lg / sigma), &project_y, &mut wq)
                .max(mapping(&z, &vz, 1.0 / lg, &project_y, &mut wq) / sigma);
            let fval = prob.f(&x, &y);
            let ctl = run.report(&IterRecord {
                iteration: iters,
                elapsed: run.elapsed(),
                best: fval,
                current: fval,
                bound: None,
                residual: Some(stat.max(inner)),
                improved: true,
                extra: &[("stationarity", stat), ("inner", inner)],
            });
            if !stat.is_finite() || !fval.is_finite() {
                break Status::NumericalError;
            }
            if stat <= s.tol && inner <= s.tol {
                break Status::Converged;
            }
            if let Some(st) = run.budget(ctl, iters) {
                break st;
            }
        }
        draw(ng, batch, &mut rng, &mut bg, &mut mark_g, 2 * iters);
        draw(nf, batch, &mut rng, &mut bf, &mut mark_f, 2 * iters + 1);
        let (obg, obf) = (
            (ng > 0).then_some(bg.as_slice()),
            (nf > 0).then_some(bf.as_slice()),
        );
        directions(
            prob, sigma, &x, &y, &z, obg, obf, &mut vx, &mut vy, &mut vz, &mut sx, &mut sy,
        );
        samples_used += bg.len() + bf.len();
        if iters == 0 {
            hx.copy_from_slice(&vx);
            hy.copy_from_slice(&vy);
            hz.copy_from_slice(&vz);
        } else {
            let a = (1.0 / (iters as f64 + 1.0).powf(2.0 / 3.0)).min(1.0);
            for i in 0..p {
                hx[i] = vx[i] + (1.0 - a) * hx[i];
            }
            for i in 0..q {
                hy[i] = vy[i] + (1.0 - a) * hy[i];
                hz[i] = vz[i] + (1.0 - a) * hz[i];
            }
            // Minus (1 − a)·v at the previous point on the same batches.
            directions(
                prob, sigma, &px, &py, &pz, obg, obf, &mut vx, &mut vy, &mut vz, &mut sx, &mut sy,
            );
            samples_used += bg.len() + bf.len();
            for i in 0..p {
                hx[i] -= (1.0 - a) * vx[i];
            }
            for i in 0..q {
                hy[i] -= (1.0 - a) * vy[i];
                hz[i] -= (1.0 - a) * vz[i];
            }
        }
        px.copy_from_slice(&x);
        py.copy_from_slice(&y);
        pz.copy_from_slice(&z);
        let by = 1.0 / (lf + lg / sigma).max(1e-12);
        for i in 0..q {
            z[i] -= hz[i] / lg.max(1e-12);
            y[i] -= by * hy[i];
        }
        prob.project_y(&mut z);
        prob.project_y(&mut y);
        for i in 0..p {
            x[i] -= alpha * hx[i];
        }
        prob.project_x(&mut x);
        iters += 1;
    };
    let stats = BilevelStats {
        samples: Some(samples_used),
        full_evaluations: Some(full_evals),
        ..BilevelStats::base(iters, sigma, alpha)
    };
    let end = Ending {
        status,
        stat,
        backend: BackendReport::cpu_only(s.common.backend, "bilevel-stochastic"),
    };
    Ok(finish(prob, run, end, x, y, z, stats))
}
