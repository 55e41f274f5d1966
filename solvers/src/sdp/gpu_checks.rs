//! The MaxCut SDP operator against its CPU twin (see [`crate::linalg::cuda::check`]).
#![doc(hidden)]

use super::gpu::MaxCutOperator;
use crate::core::stream_rng;
use crate::linalg::cuda::check::{KernelCheck, Scale, best, rel_err, uniform};
use crate::linalg::cuda::{Gpu, GpuError};
use mathprog_problems::generators::{Weights, erdos_renyi};
use mathprog_problems::sdp::MaxCutSdp;
use std::sync::Arc;

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
