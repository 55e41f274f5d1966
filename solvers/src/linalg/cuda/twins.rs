//! Every GPU kernel against its CPU twin on seeded random inputs: the error and the time of
//! both (the `solve bench-gpu` command and the `cuda` tests run these).
//!
//! The error is normwise, `‖gpu − cpu‖∞ / ‖cpu‖∞`, except for the MCPG chains, whose end
//! states, accepted-flip counts and random-stream states must be identical (any mismatch is
//! reported as an error of 1) and whose energies are compared normwise. Times are the best of
//! `repeats` runs: the CPU twin on the given rayon pool, the GPU call as the solvers make it
//! (vector transfers included; matrices uploaded once, outside the timing).

use super::{DenseKernel, Gpu, GpuError, IsingChains, MaxCutOperator, SparseNewton};
use crate::binary::mcpg::metropolis_chain;
use crate::core::{rng_words, stream_rng, uniform01};
use crate::ot::{sinkhorn, sns};
use mathprog_problems::binary::{BinaryObjective, Spin};
use mathprog_problems::generators::{Weights, erdos_renyi};
use mathprog_problems::maxcut::MaxCut;
use mathprog_problems::ot::OtProblem;
use mathprog_problems::qubo::{Domain, Qubo};
use mathprog_problems::sdp::MaxCutSdp;
use rand::Rng;
use serde::Serialize;
use std::sync::Arc;
use std::time::Instant;

/// Sizes of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Small inputs (tests: seconds on any GPU).
    Test,
    /// Benchmark sizes (OT 4000 × 4000, sparse systems and graphs of 20,000 rows, the paper's
    /// 130 × 120 MCPG chains on an 800-vertex graph).
    Bench,
}

/// One kernel against its CPU twin.
#[derive(Debug, Clone, Serialize)]
pub struct KernelCheck {
    /// Kernel name.
    pub kernel: String,
    /// Input size, in words.
    pub size: String,
    /// `‖gpu − cpu‖∞ / ‖cpu‖∞` (1 for a discrete mismatch).
    pub rel_err: f64,
    /// Best CPU time (s).
    pub cpu_seconds: f64,
    /// Best GPU time (s), transfers included.
    pub gpu_seconds: f64,
}

impl KernelCheck {
    fn new(
        kernel: impl Into<String>,
        size: impl Into<String>,
        rel_err: f64,
        cpu: f64,
        gpu: f64,
    ) -> Self {
        KernelCheck {
            kernel: kernel.into(),
            size: size.into(),
            rel_err,
            cpu_seconds: cpu,
            gpu_seconds: gpu,
        }
    }
}

fn rel_err(gpu: &[f64], cpu: &[f64]) -> f64 {
    let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = gpu
        .iter()
        .zip(cpu)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    if gpu.len() != cpu.len() || diff.is_nan() {
        return f64::INFINITY;
    }
    if scale == 0.0 { diff } else { diff / scale }
}

/// Best time of `repeats` runs after one untimed warm-up run (lazy library initialisation,
/// caches).
fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let _ = f();
    let mut t_best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let r = f();
        t_best = t_best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (t_best, out.expect("at least one run"))
}

fn uniform(rng: &mut impl Rng, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|_| lo + (hi - lo) * uniform01(rng)).collect()
}

/// Run every check at `scale` (inputs from `seed`), `repeats` timed runs each.
pub fn check_all(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let mut out = Vec::new();
    out.extend(check_ot(gpu, scale, seed, repeats, pool)?);
    out.extend(check_sns(gpu, scale, seed, repeats, pool)?);
    out.push(check_sdp(gpu, scale, seed, repeats, pool)?);
    out.extend(check_binary(gpu, scale, seed, repeats, pool)?);
    Ok(out)
}

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
    let p = OtProblem::new(a, b, cost).map_err(|e| e.to_string())?;
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
    // The device-resident half-steps: K v (resp. Kᵀ u) and the scaling kernel, against
    // matvec + scale_step. τ = 0.5 makes some scalings "big"; column 0 of K is zero, so the
    // column step's `ok` flag is false on both.
    let tau = 0.5;
    dk.set_marginals(p.a(), p.b())?;
    let (mut next, mut kv) = (vec![0.0; n], vec![0.0; n]);
    let (t_cpu, rows_cpu) = best(repeats, || {
        pool.install(|| {
            sinkhorn::matvec(&k_cpu, &v, &mut kv);
            sinkhorn::scale_step(p.a(), &kv, &u, &mut next, tau)
        })
    });
    dk.set_scalings(&u, &v)?;
    let (t_gpu, rows_gpu) = best(repeats, || dk.row_step(tau));
    let rows_gpu = rows_gpu?;
    dk.commit_rows();
    let (mut ug, mut vg) = (vec![0.0; n], vec![0.0; m]);
    dk.scalings(&mut ug, &mut vg)?;
    let flags = |a: &sinkhorn::ScaleStep, b: &sinkhorn::ScaleStep| a.ok == b.ok && a.big == b.big;
    out.push(KernelCheck::new(
        "Sinkhorn row step",
        size.clone(),
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
            sinkhorn::matvec_t(&k_cpu, &next, &mut partial, &mut ktu);
            sinkhorn::scale_step(p.b(), &ktu, &v, &mut next_m, tau)
        })
    });
    // Each GPU run starts from the same v (the step overwrites it).
    let (t_gpu, cols_gpu) = best(repeats, || {
        dk.set_scalings(&ug, &v).and_then(|_| dk.col_step(tau))
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
    // Exact log-domain updates and the evaluation pass (g_0 = −∞: a zero-weight column's
    // potential, skipped by both).
    let (mut fc, mut fg) = (f.clone(), f.clone());
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::log_update_rows(&p, &mut fc, &g, reg))
    });
    let (t_gpu, r) = best(repeats, || dk.log_update_rows(&mut fg, &g, reg));
    r?;
    out.push(KernelCheck::new(
        "ot_lse_rows",
        format!("{n} x {m}"),
        rel_err(&fg, &fc),
        t_cpu,
        t_gpu,
    ));
    let (mut gc, mut gg) = (g.clone(), g.clone());
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| sinkhorn::log_update_cols(&p, &fc, &mut gc, reg))
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
    let sol = crate::ot::OtSolution {
        f: fc.clone(),
        g: gc.clone(),
        reg,
    };
    let (t_cpu, vc) = best(repeats, || pool.install(|| crate::ot::evaluate(&p, &sol)));
    let (t_gpu, vg) = best(repeats, || {
        dk.plan_sums(&sol.f, &sol.g, reg)
            .map(|(rows, cols)| crate::ot::values_from_sums(&p, &sol, rows, cols))
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
    let (t_gpu, dg) = best(repeats, || super::dot(gpu, &x, &yc));
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

/// The MaxCut SDP eigen-oracle operator.
pub fn check_sdp(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<KernelCheck, GpuError> {
    let (n, deg) = match scale {
        Scale::Test => (400, 8.0),
        Scale::Bench => (20000, 20.0),
    };
    let graph = erdos_renyi(n, deg / n as f64, Weights::PlusMinusOne, seed);
    let p = MaxCutSdp::new(graph);
    let mut rng = stream_rng(seed, 3, 0);
    let y = uniform(&mut rng, n, -2.0, 2.0);
    let x = uniform(&mut rng, n, -1.0, 1.0);
    let (ptr, idx, w) = p.graph().csr();
    let mut op = MaxCutOperator::new(gpu, ptr, idx, w, p.degrees())?;
    op.set_y(&y)?;
    let (mut oc, mut og) = (vec![0.0; n], vec![0.0; n]);
    let (t_cpu, ()) = best(repeats, || {
        pool.install(|| p.apply_shifted(&y, 0.5, &x, &mut oc))
    });
    let (t_gpu, r) = best(repeats, || op.apply(0.5, &x, &mut og));
    r?;
    Ok(KernelCheck::new(
        "maxcut_sdp_apply",
        format!("n = {n}, {} arcs", idx.len()),
        rel_err(&og, &oc),
        t_cpu,
        t_gpu,
    ))
}

/// MCPG chains and batched energies on a MaxCut and a QUBO instance.
pub fn check_binary(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let (n, deg, groups, copies) = match scale {
        Scale::Test => (120, 6.0, 5, 7),
        Scale::Bench => (800, 48.0, 130, 120),
    };
    let maxcut = MaxCut::new(erdos_renyi(n, deg / n as f64, Weights::PlusMinusOne, seed));
    let qubo = random_qubo(n, deg, seed ^ 0x9b);
    let mut out = Vec::new();
    out.extend(check_problem(
        gpu, "maxcut", &maxcut, groups, copies, seed, repeats, pool,
    )?);
    out.extend(check_problem(
        gpu, "qubo", &qubo, groups, copies, seed, repeats, pool,
    )?);
    Ok(out)
}

/// A sparse random QUBO (`n` variables, about `deg` couplings per row, fields and diagonal).
fn random_qubo(n: usize, deg: f64, seed: u64) -> Qubo {
    let mut rng = stream_rng(seed, 4, 0);
    let mut entries = Vec::new();
    for i in 0..n {
        entries.push((i, i, (uniform01(&mut rng) - 0.5) * 4.0));
        for j in i + 1..n {
            if uniform01(&mut rng) < deg / n as f64 {
                entries.push((i, j, (uniform01(&mut rng) - 0.5) * 2.0));
            }
        }
    }
    Qubo::new(
        n,
        entries,
        Domain::ZeroOne,
        mathprog_problems::binary::Sense::Minimize,
    )
    .expect("valid random QUBO")
}

#[allow(clippy::too_many_arguments)]
fn check_problem<P: BinaryObjective<State = Vec<f64>>>(
    gpu: &Arc<Gpu>,
    name: &str,
    p: &P,
    groups: usize,
    copies: usize,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    use rayon::prelude::*;
    let n = p.num_vars();
    let view = p.ising().ok_or("the problem has no Ising view")?;
    let mut dev = IsingChains::new(gpu, &view)?;
    let mut rng = stream_rng(seed, 5, 0);
    let mu = uniform(&mut rng, n, 0.2, 0.8);
    let starts: Vec<Spin> = (0..groups * n)
        .map(|_| if rng.next_u64() & 1 == 1 { 1 } else { -1 })
        .collect();
    let starts_e: Vec<f64> = starts.chunks(n).map(|x| p.energy(x)).collect();
    let chains = groups * copies;
    let rngs: Vec<u64> = (0..chains)
        .flat_map(|k| rng_words(&stream_rng(seed, 6, k as u64)))
        .collect();
    let (accept_target, max_steps) = (
        (n as u64).div_ceil(10).max(3),
        (n as u64).div_ceil(2).max(3),
    );
    let pivot = Some(0);
    // CPU twin: every chain from its group's start, in parallel over chains.
    type ChainEnd = (Vec<Spin>, f64, u64, [u64; 4], Vec<f64>);
    let cpu_run = || -> Vec<ChainEnd> {
        pool.install(|| {
            (0..chains)
                .into_par_iter()
                .map(|k| {
                    let g = k / copies;
                    let mut x = starts[g * n..(g + 1) * n].to_vec();
                    let mut st = p.init_state(&x);
                    let mut e = starts_e[g];
                    let mut r = stream_rng(seed, 6, k as u64);
                    let acc = metropolis_chain(
                        p,
                        &mut x,
                        &mut st,
                        &mut e,
                        &mu,
                        pivot,
                        accept_target,
                        max_steps,
                        &mut r,
                    );
                    (x, e, acc, rng_words(&r), st)
                })
                .collect()
        })
    };
    let (t_cpu, cpu) = best(repeats, cpu_run);
    let mut res = super::ChainsOut::default();
    let (t_gpu, r) = best(repeats, || {
        dev.run(
            &mu,
            pivot,
            &starts,
            &starts_e,
            copies,
            &rngs,
            accept_target,
            max_steps,
            &mut res,
        )
    });
    r?;
    let mut discrete_ok = true;
    let mut e_cpu = Vec::with_capacity(chains);
    let mut h_err = 0.0f64;
    for (k, (x, e, acc, w, h)) in cpu.iter().enumerate() {
        discrete_ok &= res.x[k * n..(k + 1) * n] == x[..]
            && res.accepted[k] == *acc
            && res.rng[4 * k..4 * k + 4] == w[..];
        e_cpu.push(*e);
        h_err = h_err.max(rel_err(&res.h[k * n..(k + 1) * n], h));
    }
    let mut out = vec![KernelCheck::new(
        format!("mcpg_chains ({name})"),
        format!("n = {n}, {groups} x {copies} chains"),
        if discrete_ok {
            rel_err(&res.e, &e_cpu).max(h_err)
        } else {
            1.0
        },
        t_cpu,
        t_gpu,
    )];
    // Local fields and energies of the chains' end states.
    let xs = res.x.clone();
    let (t_cpu, hc) = best(repeats, || {
        pool.install(|| {
            xs.par_chunks(n)
                .flat_map_iter(|x| p.init_state(x))
                .collect::<Vec<f64>>()
        })
    });
    let mut hg = Vec::new();
    let (t_gpu, r) = best(repeats, || dev.fields(&xs, &mut hg));
    r?;
    out.push(KernelCheck::new(
        format!("ising_fields ({name})"),
        format!("n = {n}, {chains} vectors"),
        rel_err(&hg, &hc),
        t_cpu,
        t_gpu,
    ));
    let (t_cpu, ec) = best(repeats, || {
        pool.install(|| xs.par_chunks(n).map(|x| p.energy(x)).collect::<Vec<f64>>())
    });
    let mut eg = vec![0.0; chains];
    let (t_gpu, r) = best(repeats, || dev.energies(&xs, &mut eg));
    r?;
    out.push(KernelCheck::new(
        format!("ising_energies ({name})"),
        format!("n = {n}, {chains} vectors"),
        rel_err(&eg, &ec),
        t_cpu,
        t_gpu,
    ));
    Ok(out)
}
