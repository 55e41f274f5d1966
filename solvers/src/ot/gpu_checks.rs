//! The OT kernels against their CPU twins (see [`crate::linalg::cuda::check`]): the dense
//! Sinkhorn kernel, the log-domain updates and the plan evaluation, the SNS Newton system.
#![doc(hidden)]

use super::gpu::{DenseKernel, SparseNewton};
use super::{sinkhorn, sns};
use crate::core::{stream_rng, uniform01};
use crate::linalg::cuda::check::{KernelCheck, Scale, best, rel_err, uniform};
use crate::linalg::cuda::{Gpu, GpuError};
use mathprog_problems::ot::OtProblem;
use rand::Rng;
use std::sync::Arc;

/// The dense Sinkhorn kernel: build, `K v`, `Kᵀ u`.
pub fn check_ot(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let (n, m) = match scale {
        Scale::Test => (193, 211),
        Scale::Bench => (4000, 4000),
    };
    let mut rng = stream_rng(seed, 1, 0);
    let cost = uniform(&mut rng, n * m, 0.0, 1.0);
    let a = vec![1.0 / n as f64; n];
    let b = vec![1.0 / m as f64; m];
    let p = OtProblem::from_row_major(a, b, cost).map_err(|e| e.to_string())?;
    let reg = 0.05;
    let f = uniform(&mut rng, n, -0.3, 0.3);
    let mut g = uniform(&mut rng, m, -0.3, 0.3);
    g[0] = f64::NEG_INFINITY; // a zero-weight column: its kernel column is 0 on both
    let size = format!("{n} x {m}");
    let mut dk = DenseKernel::new(gpu, p.cost(), n, m)?;
    let mut k_cpu = vec![0.0; n * m];
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::build_kernel(&p, &f, &g, reg, &mut k_cpu))
    });
    let (t_gpu, r) = best(repeats, || {
        dk.build(&f, &g, reg).and_then(|_| dk.synchronize())
    });
    r?;
    let mut k_gpu = vec![0.0; n * m];
    dk.kernel(&mut k_gpu)?;
    let mut out = vec![KernelCheck::new(
        "ot_build_kernel",
        size.clone(),
        rel_err(&k_gpu, &k_cpu),
        t_cpu,
        t_gpu,
    )];
    let v = uniform(&mut rng, m, 0.5, 2.0);
    let u = uniform(&mut rng, n, 0.5, 2.0);
    let (mut c1, mut g1) = (vec![0.0; n], vec![0.0; n]);
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::matvec(&k_cpu, &v, &mut c1))
    });
    let (t_gpu, r) = best(repeats, || dk.matvec(&v, &mut g1));
    r?;
    out.push(KernelCheck::new(
        "K v (cuBLAS dgemv)",
        size.clone(),
        rel_err(&g1, &c1),
        t_cpu,
        t_gpu,
    ));
    let (mut c2, mut g2) = (vec![0.0; m], vec![0.0; m]);
    let mut partial = vec![0.0; n.div_ceil(sinkhorn::BLOCK) * m];
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::matvec_t(&k_cpu, &u, &mut partial, &mut c2))
    });
    let (t_gpu, r) = best(repeats, || dk.matvec_t(&u, &mut g2));
    r?;
    out.push(KernelCheck::new(
        "K^T u (cuBLAS dgemv)",
        size.clone(),
        rel_err(&g2, &c2),
        t_cpu,
        t_gpu,
    ));
    out.extend(check_half_steps(
        &mut dk,
        &p,
        &k_cpu,
        (&u, &v),
        &size,
        repeats,
        pool,
    )?);
    out.extend(check_log_domain(&mut dk, &p, (&f, &g), reg, repeats, pool)?);
    Ok(out)
}

/// The device-resident half-steps: `K v` (resp. `Kᵀ u`) and the scaling kernel, against
/// `matvec` + `scale_step`. τ = 0.5 makes some scalings "big"; column 0 of K is zero, so the
/// column step's `ok` flag is false on both.
fn check_half_steps(
    dk: &mut DenseKernel,
    p: &OtProblem,
    k_cpu: &[f64],
    (u, v): (&[f64], &[f64]),
    size: &str,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let (n, m) = (p.n(), p.m());
    let mut out = Vec::new();
    let mut partial = vec![0.0; n.div_ceil(sinkhorn::BLOCK) * m];
    // The device-resident half-steps: K v (resp. Kᵀ u) and the scaling kernel, against
    // matvec + scale_step. τ = 0.5 makes some scalings "big"; column 0 of K is zero, so the
    // column step's `ok` flag is false on both.
    let tau = 0.5;
    dk.set_marginals(p.a(), p.b())?;
    let (mut next, mut kv) = (vec![0.0; n], vec![0.0; n]);
    let (t_cpu, rows_cpu) = best(repeats, || {
        pool.install(|| {
            sinkhorn::matvec(k_cpu, v, &mut kv);
            sinkhorn::scale_step(p.a(), &kv, u, &mut next, tau)
        })
    });
    dk.set_scalings(u, v)?;
    let (t_gpu, rows_gpu) = best(repeats, || dk.row_step(tau));
    let rows_gpu = rows_gpu?;
    dk.commit_rows();
    let (mut ug, mut vg) = (vec![0.0; n], vec![0.0; m]);
    dk.scalings(&mut ug, &mut vg)?;
    let flags = |a: &sinkhorn::ScaleStep, b: &sinkhorn::ScaleStep| a.ok == b.ok && a.big == b.big;
    out.push(KernelCheck::new(
        "Sinkhorn row step",
        size,
        if flags(&rows_gpu, &rows_cpu) {
            rel_err(&ug, &next).max(rel_err(&[rows_gpu.violation], &[rows_cpu.violation]))
        } else {
            1.0
        },
        t_cpu,
        t_gpu,
    ));
    let (mut next_m, mut ktu) = (vec![0.0; m], vec![0.0; m]);
    let (t_cpu, cols_cpu) = best(repeats, || {
        pool.install(|| {
            sinkhorn::matvec_t(k_cpu, &next, &mut partial, &mut ktu);
            sinkhorn::scale_step(p.b(), &ktu, v, &mut next_m, tau)
        })
    });
    // Each GPU run starts from the same v (the step overwrites it).
    let (t_gpu, cols_gpu) = best(repeats, || {
        dk.set_scalings(&ug, v).and_then(|_| dk.col_step(tau))
    });
    let cols_gpu = cols_gpu?;
    dk.scalings(&mut ug, &mut vg)?;
    let finite = |x: &[f64]| {
        x.iter()
            .map(|y| if y.is_finite() { *y } else { 0.0 })
            .collect::<Vec<f64>>()
    };
    out.push(KernelCheck::new(
        "Sinkhorn column step",
        size,
        if flags(&cols_gpu, &cols_cpu) && !cols_cpu.ok && vg[0] == next_m[0] {
            rel_err(&finite(&vg), &finite(&next_m))
                .max(rel_err(&[cols_gpu.violation], &[cols_cpu.violation]))
        } else {
            1.0
        },
        t_cpu,
        t_gpu,
    ));
    Ok(out)
}

/// Exact log-domain updates and the evaluation pass (`g_0 = −∞`: a zero-weight column's
/// potential, skipped by both).
fn check_log_domain(
    dk: &mut DenseKernel,
    p: &OtProblem,
    (f, g): (&[f64], &[f64]),
    reg: f64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let (n, m) = (p.n(), p.m());
    let mut out = Vec::new();
    // Exact log-domain updates and the evaluation pass (g_0 = −∞: a zero-weight column's
    // potential, skipped by both).
    let (mut fc, mut fg) = (f.to_vec(), f.to_vec());
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::log_update_rows(p, &mut fc, g, reg))
    });
    let (t_gpu, r) = best(repeats, || dk.log_update_rows(&mut fg, g, reg));
    r?;
    out.push(KernelCheck::new(
        "ot_lse_rows",
        format!("{n} x {m}"),
        rel_err(&fg, &fc),
        t_cpu,
        t_gpu,
    ));
    let (mut gc, mut gg) = (g.to_vec(), g.to_vec());
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::log_update_cols(p, &fc, &mut gc, reg))
    });
    let (t_gpu, r) = best(repeats, || dk.log_update_cols(&fc, &mut gg, reg));
    r?;
    out.push(KernelCheck::new(
        "ot_lse_cols",
        format!("{n} x {m}"),
        rel_err(&gg, &gc),
        t_cpu,
        t_gpu,
    ));
    let sol = super::OtSolution {
        f: fc.clone(),
        g: gc.clone(),
        reg,
    };
    let (t_cpu, vc) = best(repeats, || pool.install(|| super::evaluate(p, &sol)));
    let (t_gpu, vg) = best(repeats, || {
        dk.plan_sums(&sol.f, &sol.g, reg)
            .map(|(rows, cols)| super::values_from_sums(p, &sol, rows, cols))
    });
    let vg = vg?;
    let err = [
        (vg.transport_cost, vc.transport_cost),
        (vg.entropic_objective, vc.entropic_objective),
        (vg.dual_value, vc.dual_value),
        (vg.marginal_violation, vc.marginal_violation),
    ]
    .iter()
    .fold(0.0f64, |e, (a, b)| e.max(rel_err(&[*a], &[*b])));
    out.push(KernelCheck::new(
        "ot_plan_rows/cols (evaluate)",
        format!("{n} x {m}"),
        err,
        t_cpu,
        t_gpu,
    ));
    Ok(out)
}

/// A random sparsified plan: `per_row` entries per row of an `n × m` matrix, both orientations.
fn random_plan(
    rng: &mut impl Rng,
    n: usize,
    m: usize,
    per_row: usize,
) -> (sns::Csr, Vec<f64>, Vec<f64>) {
    let mut s = sns::Csr {
        ptr: vec![0],
        idx: Vec::new(),
        val: Vec::new(),
        tptr: Vec::new(),
        tidx: Vec::new(),
        tval: Vec::new(),
    };
    let mut r = vec![0.0; n];
    let mut c = vec![0.0; m];
    let mut cols: Vec<u32> = Vec::with_capacity(per_row);
    for ri in r.iter_mut() {
        cols.clear();
        for _ in 0..per_row {
            cols.push(((u128::from(rng.next_u64()) * m as u128) >> 64) as u32);
        }
        cols.sort_unstable();
        cols.dedup();
        for &j in &cols {
            let v = 0.1 + uniform01(rng);
            s.idx.push(j);
            s.val.push(v);
            *ri += v;
            c[j as usize] += v;
        }
        s.ptr.push(s.idx.len());
    }
    sns::transpose(m, &mut s);
    (s, r, c)
}

/// The sparsified SNS Hessian product and its PCG (20 iterations, no early stop).
pub fn check_sns(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let (n, m, per_row) = match scale {
        Scale::Test => (300, 257, 7),
        Scale::Bench => (20000, 20000, 20),
    };
    let mut rng = stream_rng(seed, 2, 0);
    let (s, r, c) = random_plan(&mut rng, n, m, per_row);
    let mu = 1e-9;
    let x = uniform(&mut rng, n + m, -1.0, 1.0);
    let size = format!("{n} + {m}, {} kept", s.idx.len());
    let mut dev = SparseNewton::new(gpu, n, m)?;
    dev.load(&s.ptr, &s.idx, &s.val, &s.tptr, &s.tidx, &s.tval, &r, &c)?;
    let (mut yc, mut yg) = (vec![0.0; n + m], vec![0.0; n + m]);
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sns::apply(&s, &r, &c, mu, &x, &mut yc))
    });
    let (t_gpu, res) = best(repeats, || dev.apply(mu, &x, &mut yg));
    res?;
    let mut out = vec![KernelCheck::new(
        "sns_apply",
        size.clone(),
        rel_err(&yg, &yc),
        t_cpu,
        t_gpu,
    )];
    let (t_cpu, dc) = best(repeats, || pool.install(|| sns_dot(&x, &yc)));
    let (t_gpu, dg) = best(repeats, || crate::linalg::cuda::dot(gpu, &x, &yc));
    out.push(KernelCheck::new(
        "dot_partials",
        format!("{}", n + m),
        rel_err(&[dg?], &[dc]),
        t_cpu,
        t_gpu,
    ));
    // CG amplifies rounding by the system's conditioning, so the composite is compared on a
    // well-conditioned shift (its kernels are compared exactly above).
    let iters = 10;
    let mu = 1.0;
    let mut work = [
        vec![0.0; n + m],
        vec![0.0; n + m],
        vec![0.0; n + m],
        vec![0.0; n + m],
    ];
    let (mut xc, mut xg) = (vec![0.0; n + m], vec![0.0; n + m]);
    let (t_cpu, kc) = best(repeats, || {
        pool.install(|| sns::pcg(&s, &r, &c, mu, &x, &mut xc, &mut work, 0.0, iters))
    });
    let (t_gpu, kg) = best(repeats, || dev.pcg(mu, &x, &mut xg, 0.0, iters));
    let kg = kg?;
    out.push(KernelCheck::new(
        format!("SNS PCG ({iters} iterations)"),
        size,
        if kc == kg { rel_err(&xg, &xc) } else { 1.0 },
        t_cpu,
        t_gpu,
    ));
    Ok(out)
}

fn sns_dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}
