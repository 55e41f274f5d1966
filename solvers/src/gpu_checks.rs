//! Every GPU kernel against its CPU twin (cargo feature `cuda`): the families' checks in one
//! list, for `solve bench-gpu` and `tests/cuda.rs`. The harness is
//! [`crate::linalg::cuda::check`]; each family's checks live beside its kernels.
#![doc(hidden)]

pub use crate::linalg::cuda::check::{KernelCheck, Scale};
use crate::linalg::cuda::{Gpu, GpuError};
use std::sync::Arc;

/// Run every check at `scale` (inputs from `seed`), `repeats` timed runs each.
pub fn check_all(
    gpu: &Arc<Gpu>,
    scale: Scale,
    seed: u64,
    repeats: usize,
    pool: &rayon::ThreadPool,
) -> Result<Vec<KernelCheck>, GpuError> {
    let mut out = Vec::new();
    out.extend(crate::ot::gpu_checks::check_ot(
        gpu, scale, seed, repeats, pool,
    )?);
    out.extend(crate::ot::gpu_checks::check_sns(
        gpu, scale, seed, repeats, pool,
    )?);
    out.push(crate::sdp::gpu_checks::check_sdp(
        gpu, scale, seed, repeats, pool,
    )?);
    out.extend(crate::binary::gpu_checks::check_binary(
        gpu, scale, seed, repeats, pool,
    )?);
    Ok(out)
}
