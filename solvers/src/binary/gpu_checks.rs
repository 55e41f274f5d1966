//! The MCPG kernels against their CPU twins (see [`crate::linalg::cuda::check`]): chains,
//! local fields and energies on a MaxCut and a QUBO instance.
#![doc(hidden)]

use super::gpu::{ChainsOut, IsingChains};
use super::mcpg::metropolis_chain;
use crate::core::{rng_words, stream_rng, uniform01};
use crate::linalg::cuda::check::{KernelCheck, Scale, best, rel_err, uniform};
use crate::linalg::cuda::{Gpu, GpuError};
use mathprog_problems::binary::{BinaryObjective, Spin};
use mathprog_problems::generators::{Weights, erdos_renyi};
use mathprog_problems::maxcut::MaxCut;
use mathprog_problems::qubo::{Domain, Qubo};
use rand::Rng;
use std::sync::Arc;

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
                        &crate::core::Budget::NONE,
                    );
                    (x, e, acc, rng_words(&r), st)
                })
                .collect()
        })
    };
    let (t_cpu, cpu) = best(repeats, cpu_run);
    let mut res = ChainsOut::default();
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
