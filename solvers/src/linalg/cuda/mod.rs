//! CUDA primitives (cargo feature `cuda`), through [cudarc](https://docs.rs/cudarc) with the
//! driver, cuBLAS and NVRTC loaded at run time: the device and its context ([`Gpu`]), kernel
//! modules compiled once per process ([`Gpu::module`]), device memory ([`memory`]), kernel
//! launches ([`launch()`]) and cuBLAS ([`blas`]). Nothing here knows a solver family: each family
//! keeps its GPU types and CUDA C kernels beside its CPU code (its `gpu.rs` and `kernels.cu`),
//! compiled with the shared [`PRELUDE`] (block reductions, the reproducible `dot_partials`).
//!
//! Nothing here is touched unless a solver's [`Backend`](crate::core::Backend) resolves to
//! CUDA; [`Gpu::get`] checks that the driver library can be loaded before any CUDA call
//! (cudarc panics otherwise) and reports why a device is unusable.
//!
//! Unsafe code is confined to this module: library probing, kernel launches and cuBLAS calls.
//! The family wrappers check lengths and buffer sizes before each launch.
#![allow(unsafe_code)]

pub mod blas;
#[cfg(feature = "gpu-checks")]
pub mod check;
mod launch;
pub mod memory;

pub use launch::launch;
pub use memory::{DOT_BLOCKS, DevCsr, THREADS, dot, dot_dev, download, ensure, grid, upload};

use cudarc::driver::{CudaContext, CudaFunction, CudaModule, CudaStream};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// CUDA C shared by every family's kernels: `u64`, `NEG_INF`, 256-thread block reductions in a
/// fixed tree order, and `dot_partials` (reproducible partial dot products).
pub const PRELUDE: &str = include_str!("prelude.cu");

/// A GPU error, as text (driver, cuBLAS and NVRTC errors have different types).
pub type GpuError = String;

/// A GPU failure during a solve, as the solver's error (`Unavailable`, which `--backend auto`
/// answers by falling back to the CPU at set-up). The one conversion every family uses.
pub fn solve_error(e: GpuError) -> crate::core::SolveError {
    crate::core::SolveError::Unavailable(format!("GPU: {e}"))
}

/// Map a driver error to a [`GpuError`] that says what was being done.
pub fn err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> GpuError + '_ {
    move |e| format!("{what}: {e}")
}

/// The device in use: context, device name, and the kernel modules compiled so far.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    name: String,
    init_seconds: f64,
    modules: Mutex<HashMap<&'static str, Arc<CudaModule>>>,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu").field("name", &self.name).finish()
    }
}

static GPU: OnceLock<Result<Arc<Gpu>, GpuError>> = OnceLock::new();

impl Gpu {
    /// The process's GPU (device 0), initialised once: checks that the CUDA driver, cuBLAS and
    /// NVRTC libraries load, creates the context and compiles [`PRELUDE`] (so that a broken
    /// toolchain shows here). `Err` says why no device is usable (no driver, no device, a
    /// library missing, compile error).
    pub fn get() -> Result<Arc<Gpu>, GpuError> {
        GPU.get_or_init(|| Gpu::init().map(Arc::new)).clone()
    }

    fn init() -> Result<Gpu, GpuError> {
        let t0 = std::time::Instant::now();
        // SAFETY: these only try to dlopen the libraries (cudarc panics at the first call into
        // a library that is absent, so this check must come first).
        let (driver, blas, nvrtc) = unsafe {
            (
                cudarc::driver::sys::is_culib_present(),
                cudarc::cublas::sys::is_culib_present(),
                cudarc::nvrtc::sys::is_culib_present(),
            )
        };
        if !driver {
            return Err("no CUDA driver library (libcuda.so) could be loaded".into());
        }
        if !blas {
            return Err("the CUDA driver loads but cuBLAS (libcublas.so) does not".into());
        }
        if !nvrtc {
            return Err("the CUDA driver loads but NVRTC (libnvrtc.so) does not".into());
        }
        let count = CudaContext::device_count().map_err(err("counting CUDA devices"))?;
        if count < 1 {
            return Err("the CUDA driver reports no device".into());
        }
        let ctx = CudaContext::new(0).map_err(err("creating a CUDA context"))?;
        let name = ctx.name().unwrap_or_else(|_| "CUDA device 0".into());
        let gpu = Gpu {
            ctx,
            name,
            init_seconds: 0.0,
            modules: Mutex::new(HashMap::new()),
        };
        gpu.module("linalg", "")?;
        Ok(Gpu {
            init_seconds: t0.elapsed().as_secs_f64(),
            ..gpu
        })
    }

    /// The module `name` compiled from [`PRELUDE`] followed by `source` (NVRTC, `--fmad=false`
    /// so that products and sums round as on the CPU), compiled on first use and cached for the
    /// process.
    pub fn module(&self, name: &'static str, source: &str) -> Result<Arc<CudaModule>, GpuError> {
        let mut cache = self
            .modules
            .lock()
            .map_err(|_| "kernel cache poisoned".to_string())?;
        if let Some(m) = cache.get(name) {
            return Ok(m.clone());
        }
        let opts = cudarc::nvrtc::CompileOptions {
            fmad: Some(false),
            ..Default::default()
        };
        let ptx = cudarc::nvrtc::compile_ptx_with_opts(format!("{PRELUDE}\n{source}"), opts)
            .map_err(|e| format!("compiling the {name} CUDA kernels (NVRTC): {e}"))?;
        let module = self
            .ctx
            .load_module(ptx)
            .map_err(|e| format!("loading the {name} kernels: {e}"))?;
        cache.insert(name, module.clone());
        Ok(module)
    }

    /// Function `kernel` of module `name` ([`Gpu::module`]).
    pub fn function(
        &self,
        name: &'static str,
        source: &str,
        kernel: &str,
    ) -> Result<CudaFunction, GpuError> {
        self.module(name, source)?
            .load_function(kernel)
            .map_err(err(kernel))
    }

    /// Seconds the one-time set-up took (driver, context, NVRTC compilation of [`PRELUDE`]).
    pub fn init_seconds(&self) -> f64 {
        self.init_seconds
    }

    /// Whether a CUDA driver and at least one device are present, whether or not [`Gpu::get`]
    /// succeeds: tests skip without a device but must fail when one is there and the set-up
    /// (e.g. the kernels' compilation) breaks.
    pub fn device_present() -> bool {
        // SAFETY: only tries to dlopen the driver library; no CUDA call is made without it.
        if !unsafe { cudarc::driver::sys::is_culib_present() } {
            return false;
        }
        CudaContext::device_count().is_ok_and(|c| c > 0)
    }

    /// The device's name (e.g. "NVIDIA H100 80GB HBM3").
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A new stream: every offloaded solve uses its own, so concurrent solves do not share
    /// state.
    pub fn stream(&self) -> Result<Arc<CudaStream>, GpuError> {
        self.ctx.new_stream().map_err(err("creating a stream"))
    }
}
