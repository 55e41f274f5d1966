//! Device memory: buffers that grow, uploads and downloads of the leading entries, CSR
//! matrices, launch grids, and the reproducible dot product (`dot_partials`).

use super::{Gpu, GpuError, err, launch};
use cudarc::driver::{
    CudaFunction, CudaSlice, CudaStream, DeviceRepr, LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use std::sync::Arc;

/// Threads per block of the element-wise kernels (the prelude's reductions assume 256).
pub const THREADS: u32 = 256;
/// Blocks of the fixed-grid reductions (`dot_partials`): the partial sums are added on the
/// host in block order, so a dot product is reproducible run to run.
pub const DOT_BLOCKS: usize = 240;

/// One thread per element, blocks of [`THREADS`].
pub fn grid(len: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (len.div_ceil(THREADS as usize).max(1) as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Device buffer of at least `len` elements (grown, never shrunk).
pub fn ensure<T: DeviceRepr + ValidAsZeroBits>(
    s: &Arc<CudaStream>,
    buf: &mut CudaSlice<T>,
    len: usize,
) -> Result<(), GpuError> {
    if buf.len() < len {
        *buf = s
            .alloc_zeros::<T>(len.max(1))
            .map_err(err("allocating device memory"))?;
    }
    Ok(())
}

/// Copy `src` into the first `src.len()` entries of `dst`.
pub fn upload<T: DeviceRepr>(
    s: &Arc<CudaStream>,
    src: &[T],
    dst: &mut CudaSlice<T>,
) -> Result<(), GpuError> {
    if src.is_empty() {
        return Ok(());
    }
    let mut view = dst.slice_mut(0..src.len());
    s.memcpy_htod(src, &mut view)
        .map_err(err("copying to the device"))
}

/// Copy the first `dst.len()` entries of `src` into `dst`.
pub fn download<T: DeviceRepr>(
    s: &Arc<CudaStream>,
    src: &CudaSlice<T>,
    dst: &mut [T],
) -> Result<(), GpuError> {
    if dst.is_empty() {
        return Ok(());
    }
    let view = src.slice(0..dst.len());
    s.memcpy_dtoh(&view, dst)
        .map_err(err("copying from the device"))
}

/// Row pointers as the kernels take them.
pub fn to_i64(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

/// Column indices as the kernels take them (an error beyond 2^32).
pub fn to_u32(v: &[usize]) -> Result<Vec<u32>, GpuError> {
    v.iter()
        .map(|&x| u32::try_from(x).map_err(|_| "index beyond 2^32 for the GPU kernels".into()))
        .collect()
}

/// A CSR matrix on the device (`i64` row pointers, `u32` column indices).
pub struct DevCsr {
    /// Row pointers.
    pub ptr: CudaSlice<i64>,
    /// Column indices.
    pub idx: CudaSlice<u32>,
    /// Values.
    pub val: CudaSlice<f64>,
}

impl DevCsr {
    /// Upload a CSR matrix.
    pub fn new(
        s: &Arc<CudaStream>,
        ptr: &[usize],
        idx: &[usize],
        val: &[f64],
    ) -> Result<Self, GpuError> {
        Ok(DevCsr {
            ptr: s
                .clone_htod(&to_i64(ptr))
                .map_err(err("uploading a matrix"))?,
            idx: s
                .clone_htod(&to_u32(idx)?)
                .map_err(err("uploading a matrix"))?,
            val: s.clone_htod(val).map_err(err("uploading a matrix"))?,
        })
    }
}

/// `a · b` over the first `len` entries: fixed-grid partial sums on the device, added on the
/// host in block order.
pub fn dot_dev(
    dot_partials: &CudaFunction,
    s: &Arc<CudaStream>,
    a: &CudaSlice<f64>,
    b: &CudaSlice<f64>,
    len: usize,
    partials: &mut CudaSlice<f64>,
    host: &mut [f64],
) -> Result<f64, GpuError> {
    let l = len as i64;
    // Bounds (checked by the launch wrapper's caller): a and b hold at least len values; partials holds DOT_BLOCKS, one per block.
    launch(
        s,
        dot_partials,
        "dot_partials",
        LaunchConfig {
            grid_dim: (DOT_BLOCKS as u32, 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        },
        |args| {
            args.arg(a).arg(b).arg(&l).arg(&mut *partials);
        },
    )?;
    download(s, partials, host)?;
    Ok(host.iter().sum())
}

/// `a · b` of two host vectors on the device (tests and benchmarks of `dot_partials`).
pub fn dot(gpu: &Arc<Gpu>, a: &[f64], b: &[f64]) -> Result<f64, GpuError> {
    assert_eq!(a.len(), b.len(), "dot lengths");
    let s = gpu.stream()?;
    let da = s.clone_htod(a).map_err(err("uploading"))?;
    let db = s.clone_htod(b).map_err(err("uploading"))?;
    let mut partials = s
        .alloc_zeros::<f64>(DOT_BLOCKS)
        .map_err(err("allocating"))?;
    let mut host = vec![0.0; DOT_BLOCKS];
    if a.is_empty() {
        return Ok(0.0);
    }
    let f = gpu.function("linalg", "", "dot_partials")?;
    dot_dev(&f, &s, &da, &db, a.len(), &mut partials, &mut host)
}
