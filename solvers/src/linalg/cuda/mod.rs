//! CUDA offload of the large kernels (cargo feature `cuda`), through
//! [cudarc](https://docs.rs/cudarc) with the driver, cuBLAS and NVRTC loaded at run time.
//!
//! The dense Sinkhorn products `K v` and `Kᵀ u` are cuBLAS `dgemv` calls; the other kernels
//! ([`KERNELS`], CUDA C compiled once per process by NVRTC with `--fmad=false`) are small and
//! each has a CPU twin that the tests compare it with ([`twins`]):
//!
//! | GPU | CPU twin |
//! |---|---|
//! | `ot_build_kernel` | `ot::sinkhorn::build_kernel` |
//! | cuBLAS `dgemv` (N, T) | `ot::sinkhorn::{matvec, matvec_t}` |
//! | `sinkhorn_scale` (with the products: a Sinkhorn iteration stays on the device) | `ot::sinkhorn::scale_step` |
//! | `ot_lse_rows`, `ot_lse_cols` | `ot::sinkhorn::{log_update_rows, log_update_cols}` |
//! | `ot_plan_rows`, `ot_plan_cols` | `ot::evaluate` |
//! | `sns_apply` + `dot_partials`, `pcg_*` | `ot::sns::{apply, pcg}` |
//! | `maxcut_sdp_apply` | `MaxCutSdp::apply_shifted` |
//! | `mcpg_chains` | `binary::mcpg::metropolis_chain` (same xoshiro256++ stream) |
//! | `ising_fields` | `BinaryObjective::init_state` of MaxCut and QUBO |
//! | `ising_energies` | `BinaryObjective::energy` of MaxCut and QUBO |
//!
//! cuSPARSE is not used: the sparse products are fused with diagonal terms (the SNS matrix in
//! both orientations, `L/4 − Diag(y)`), and one thread per row in the CPU twin's order makes
//! them match the CPU bit for bit; cudarc exposes cuSPARSE only as raw bindings.
//!
//! Nothing here is touched unless a solver's [`Backend`](super::backend::Backend) resolves to
//! CUDA; [`Gpu::get`] checks that the driver library can be loaded before any CUDA call
//! (cudarc panics otherwise) and reports why a device is unusable.
//!
//! Unsafe code is confined to this module: kernel launches and cuBLAS calls, whose arguments
//! (lengths, buffer sizes) are checked by the safe wrappers below before each launch.
#![allow(unsafe_code)]

pub mod twins;

use cudarc::cublas::{CudaBlas, Gemv, GemvConfig, sys::cublasOperation_t};
use cudarc::driver::{
    CudaContext, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr, LaunchConfig,
    PushKernelArg, ValidAsZeroBits,
};
use std::sync::{Arc, OnceLock};

/// The CUDA C source of the custom kernels.
pub const KERNELS: &str = include_str!("kernels.cu");

/// Threads per block of the element-wise kernels.
const THREADS: u32 = 256;
/// Blocks of the fixed-grid reductions (`dot_partials`): the partial sums are added on the
/// host in block order, so a dot product is reproducible run to run.
const DOT_BLOCKS: usize = 240;

/// A GPU error, as text (driver, cuBLAS and NVRTC errors have different types).
pub type GpuError = String;

fn err(what: &str) -> impl Fn(cudarc::driver::DriverError) -> GpuError + '_ {
    move |e| format!("{what}: {e}")
}

/// The device in use: context, module of custom kernels, device name.
pub struct Gpu {
    ctx: Arc<CudaContext>,
    _module: Arc<CudaModule>,
    name: String,
    init_seconds: f64,
    f: Funcs,
}

struct Funcs {
    build_kernel: CudaFunction,
    lse_rows: CudaFunction,
    lse_cols: CudaFunction,
    plan_rows: CudaFunction,
    plan_cols: CudaFunction,
    sinkhorn_scale: CudaFunction,
    sns_apply: CudaFunction,
    dot_partials: CudaFunction,
    pcg_precondition: CudaFunction,
    pcg_step: CudaFunction,
    pcg_direction: CudaFunction,
    maxcut_sdp_apply: CudaFunction,
    mcpg_chains: CudaFunction,
    ising_fields: CudaFunction,
    ising_energies: CudaFunction,
}

impl std::fmt::Debug for Gpu {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gpu").field("name", &self.name).finish()
    }
}

static GPU: OnceLock<Result<Arc<Gpu>, GpuError>> = OnceLock::new();

impl Gpu {
    /// The process's GPU (device 0), initialised once: checks that the CUDA driver, cuBLAS and
    /// NVRTC libraries load, creates the context and compiles [`KERNELS`]. `Err` says why no
    /// device is usable (no driver, no device, a library missing, compile error).
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
        let opts = cudarc::nvrtc::CompileOptions {
            fmad: Some(false),
            ..Default::default()
        };
        let ptx = cudarc::nvrtc::compile_ptx_with_opts(KERNELS, opts)
            .map_err(|e| format!("compiling the CUDA kernels (NVRTC): {e}"))?;
        let module = ctx.load_module(ptx).map_err(err("loading the kernels"))?;
        let load = |n: &str| module.load_function(n).map_err(err(n));
        let f = Funcs {
            build_kernel: load("ot_build_kernel")?,
            lse_rows: load("ot_lse_rows")?,
            lse_cols: load("ot_lse_cols")?,
            plan_rows: load("ot_plan_rows")?,
            plan_cols: load("ot_plan_cols")?,
            sinkhorn_scale: load("sinkhorn_scale")?,
            sns_apply: load("sns_apply")?,
            dot_partials: load("dot_partials")?,
            pcg_precondition: load("pcg_precondition")?,
            pcg_step: load("pcg_step")?,
            pcg_direction: load("pcg_direction")?,
            maxcut_sdp_apply: load("maxcut_sdp_apply")?,
            mcpg_chains: load("mcpg_chains")?,
            ising_fields: load("ising_fields")?,
            ising_energies: load("ising_energies")?,
        };
        Ok(Gpu {
            ctx,
            _module: module,
            name,
            init_seconds: t0.elapsed().as_secs_f64(),
            f,
        })
    }

    /// Seconds the one-time set-up took (driver, context, NVRTC compilation of [`KERNELS`]).
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
    fn stream(&self) -> Result<Arc<CudaStream>, GpuError> {
        self.ctx.new_stream().map_err(err("creating a stream"))
    }
}

fn grid(len: usize) -> LaunchConfig {
    LaunchConfig {
        grid_dim: (len.div_ceil(THREADS as usize).max(1) as u32, 1, 1),
        block_dim: (THREADS, 1, 1),
        shared_mem_bytes: 0,
    }
}

/// Device buffer of at least `len` elements (grown, never shrunk).
fn ensure<T: DeviceRepr + ValidAsZeroBits>(
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

fn upload<T: DeviceRepr>(
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

fn download<T: DeviceRepr>(
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

fn to_i64(v: &[usize]) -> Vec<i64> {
    v.iter().map(|&x| x as i64).collect()
}

fn to_u32(v: &[usize]) -> Result<Vec<u32>, GpuError> {
    v.iter()
        .map(|&x| u32::try_from(x).map_err(|_| "index beyond 2^32 for the GPU kernels".into()))
        .collect()
}

/// A CSR matrix on the device (`i64` row pointers, `u32` column indices).
struct DevCsr {
    ptr: CudaSlice<i64>,
    idx: CudaSlice<u32>,
    val: CudaSlice<f64>,
}

impl DevCsr {
    fn new(
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

// ------------------------------------------------------------------------------------------
// Optimal transport: the dense Gibbs kernel.

/// The dense Sinkhorn kernel `K = exp((f ⊕ g − C)/reg)` on the device, with the cost matrix
/// uploaded once: [`DenseKernel::build`] (custom kernel) and the products `K v`, `Kᵀ u`
/// (cuBLAS `dgemv`; the row-major `n × m` matrix is the column-major `m × n` matrix `Kᵀ`).
pub struct DenseKernel {
    s: Arc<CudaStream>,
    blas: CudaBlas,
    gpu: Arc<Gpu>,
    n: usize,
    m: usize,
    cost: CudaSlice<f64>,
    k: CudaSlice<f64>,
    f: CudaSlice<f64>,
    g: CudaSlice<f64>,
    xn: CudaSlice<f64>,
    xm: CudaSlice<f64>,
    /// Marginals, scalings and their next values (Sinkhorn on the device).
    a: CudaSlice<f64>,
    b: CudaSlice<f64>,
    u: CudaSlice<f64>,
    v: CudaSlice<f64>,
    u_next: CudaSlice<f64>,
    v_next: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    host_partials: Vec<f64>,
    /// Row sums, row transport costs and entropies, column sums of the plan (evaluation).
    rs: CudaSlice<f64>,
    tc: CudaSlice<f64>,
    ent: CudaSlice<f64>,
    cs: CudaSlice<f64>,
    host_rows: Vec<f64>,
    host_cols: Vec<f64>,
    /// `max(n, m)` ones, the scalings after an absorption.
    ones: Vec<f64>,
}

/// The reductions of one Sinkhorn half-step on the device (see `ot::sinkhorn::scale_step`).
pub use crate::ot::sinkhorn::ScaleStep;

impl DenseKernel {
    /// Upload the row-major `n × m` cost matrix.
    pub fn new(gpu: &Arc<Gpu>, cost: &[f64], n: usize, m: usize) -> Result<Self, GpuError> {
        assert_eq!(cost.len(), n * m, "cost matrix size");
        if n > i32::MAX as usize || m > i32::MAX as usize {
            return Err("matrix dimension beyond 2^31 for cuBLAS".into());
        }
        let s = gpu.stream()?;
        let blas = CudaBlas::new(s.clone()).map_err(|e| format!("cuBLAS: {e}"))?;
        Ok(DenseKernel {
            cost: s
                .clone_htod(cost)
                .map_err(err("uploading the cost matrix"))?,
            k: s.alloc_zeros(n * m).map_err(err("allocating the kernel"))?,
            f: s.alloc_zeros(n).map_err(err("allocating"))?,
            g: s.alloc_zeros(m).map_err(err("allocating"))?,
            xn: s.alloc_zeros(n).map_err(err("allocating"))?,
            xm: s.alloc_zeros(m).map_err(err("allocating"))?,
            a: s.alloc_zeros(n).map_err(err("allocating"))?,
            b: s.alloc_zeros(m).map_err(err("allocating"))?,
            u: s.clone_htod(&vec![1.0; n]).map_err(err("allocating"))?,
            v: s.clone_htod(&vec![1.0; m]).map_err(err("allocating"))?,
            u_next: s.alloc_zeros(n).map_err(err("allocating"))?,
            v_next: s.alloc_zeros(m).map_err(err("allocating"))?,
            partials: s.alloc_zeros(3 * DOT_BLOCKS).map_err(err("allocating"))?,
            host_partials: vec![0.0; 3 * DOT_BLOCKS],
            rs: s.alloc_zeros(n).map_err(err("allocating"))?,
            tc: s.alloc_zeros(n).map_err(err("allocating"))?,
            ent: s.alloc_zeros(n).map_err(err("allocating"))?,
            cs: s.alloc_zeros(m).map_err(err("allocating"))?,
            host_rows: vec![0.0; 3 * n],
            host_cols: vec![0.0; m],
            ones: vec![1.0; n.max(m)],
            s,
            blas,
            gpu: gpu.clone(),
            n,
            m,
        })
    }

    /// `K_ij = exp((f_i + g_j − C_ij)/reg)` (0 where the exponent is NaN).
    pub fn build(&mut self, f: &[f64], g: &[f64], reg: f64) -> Result<(), GpuError> {
        assert!(f.len() == self.n && g.len() == self.m, "potential lengths");
        upload(&self.s, f, &mut self.f)?;
        upload(&self.s, g, &mut self.g)?;
        let (n, m) = (self.n as i64, self.m as i64);
        let total = self.n * self.m;
        let cfg = LaunchConfig {
            grid_dim: (
                total.div_ceil(THREADS as usize).clamp(1, 1 << 16) as u32,
                1,
                1,
            ),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        };
        // SAFETY: k and cost hold n·m values, f n and g m (allocated above); the kernel stays
        // within those bounds (grid-stride loop over n·m).
        unsafe {
            self.s
                .launch_builder(&self.gpu.f.build_kernel)
                .arg(&mut self.k)
                .arg(&self.cost)
                .arg(&self.f)
                .arg(&self.g)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .launch(cfg)
        }
        .map_err(err("ot_build_kernel"))?;
        Ok(())
    }

    /// `out = K v` (`v` of length m, `out` of length n).
    pub fn matvec(&mut self, v: &[f64], out: &mut [f64]) -> Result<(), GpuError> {
        assert!(v.len() == self.m && out.len() == self.n, "matvec lengths");
        upload(&self.s, v, &mut self.xm)?;
        gemv(
            &self.blas,
            &self.k,
            self.n,
            self.m,
            false,
            &self.xm,
            &mut self.xn,
        )?;
        download(&self.s, &self.xn, out)
    }

    /// `out = Kᵀ u` (`u` of length n, `out` of length m).
    pub fn matvec_t(&mut self, u: &[f64], out: &mut [f64]) -> Result<(), GpuError> {
        assert!(u.len() == self.n && out.len() == self.m, "matvec_t lengths");
        upload(&self.s, u, &mut self.xn)?;
        gemv(
            &self.blas,
            &self.k,
            self.n,
            self.m,
            true,
            &self.xn,
            &mut self.xm,
        )?;
        download(&self.s, &self.xm, out)
    }

    fn rows_cfg(&self) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (self.n.clamp(1, 1 << 16) as u32, 1, 1),
            block_dim: (THREADS, 1, 1),
            shared_mem_bytes: 0,
        }
    }

    /// Exact log-domain row update `f_i = reg log a_i − reg LSE_j((g_j − C_ij)/reg)` (`−∞`
    /// where `a_i = 0`); needs [`DenseKernel::set_marginals`].
    pub fn log_update_rows(&mut self, f: &mut [f64], g: &[f64], reg: f64) -> Result<(), GpuError> {
        assert!(f.len() == self.n && g.len() == self.m, "potential lengths");
        upload(&self.s.clone(), g, &mut self.g)?;
        let (n, m) = (self.n as i64, self.m as i64);
        let cfg = self.rows_cfg();
        // SAFETY: cost holds n·m values, g m, a and f n; one block per row (grid-stride).
        unsafe {
            self.s
                .launch_builder(&self.gpu.f.lse_rows)
                .arg(&self.cost)
                .arg(&self.g)
                .arg(&self.a)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.f)
                .launch(cfg)
        }
        .map_err(err("ot_lse_rows"))?;
        download(&self.s, &self.f, f)
    }

    /// Exact log-domain column update `g_j = reg log b_j − reg LSE_i((f_i − C_ij)/reg)`;
    /// needs [`DenseKernel::set_marginals`].
    pub fn log_update_cols(&mut self, f: &[f64], g: &mut [f64], reg: f64) -> Result<(), GpuError> {
        assert!(f.len() == self.n && g.len() == self.m, "potential lengths");
        upload(&self.s.clone(), f, &mut self.f)?;
        let (n, m) = (self.n as i64, self.m as i64);
        // SAFETY: cost holds n·m values, f and a n, b and g m; one thread per column.
        unsafe {
            self.s
                .launch_builder(&self.gpu.f.lse_cols)
                .arg(&self.cost)
                .arg(&self.f)
                .arg(&self.b)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.g)
                .launch(grid(self.m))
        }
        .map_err(err("ot_lse_cols"))?;
        download(&self.s, &self.g, g)
    }

    /// The plan's reductions for [`crate::ot::evaluate`]: per row `(Σ_j P_ij, Σ_j C_ij P_ij,
    /// Σ_j P_ij (log P_ij − 1))` into `rows` (three blocks of n) and the column sums into
    /// `cols`, with `P = exp((f ⊕ g − C)/reg)` (entries below `e^−60` taken as 0).
    pub fn plan_sums(
        &mut self,
        f: &[f64],
        g: &[f64],
        reg: f64,
    ) -> Result<(&[f64], &[f64]), GpuError> {
        assert!(f.len() == self.n && g.len() == self.m, "potential lengths");
        let s = self.s.clone();
        upload(&s, f, &mut self.f)?;
        upload(&s, g, &mut self.g)?;
        let (n, m) = (self.n as i64, self.m as i64);
        let cfg = self.rows_cfg();
        // SAFETY: cost holds n·m values, f, rs, tc, ent n, g and cs m; one block per row,
        // one thread per column.
        unsafe {
            s.launch_builder(&self.gpu.f.plan_rows)
                .arg(&self.cost)
                .arg(&self.f)
                .arg(&self.g)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.rs)
                .arg(&mut self.tc)
                .arg(&mut self.ent)
                .launch(cfg)
        }
        .map_err(err("ot_plan_rows"))?;
        // SAFETY: as above.
        unsafe {
            s.launch_builder(&self.gpu.f.plan_cols)
                .arg(&self.cost)
                .arg(&self.f)
                .arg(&self.g)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.cs)
                .launch(grid(self.m))
        }
        .map_err(err("ot_plan_cols"))?;
        let nn = self.n;
        download(&s, &self.rs, &mut self.host_rows[..nn])?;
        download(&s, &self.tc, &mut self.host_rows[nn..2 * nn])?;
        download(&s, &self.ent, &mut self.host_rows[2 * nn..])?;
        download(&s, &self.cs, &mut self.host_cols)?;
        Ok((&self.host_rows, &self.host_cols))
    }

    /// Upload the marginals `a` (length n) and `b` (length m) for the device-resident
    /// Sinkhorn steps.
    pub fn set_marginals(&mut self, a: &[f64], b: &[f64]) -> Result<(), GpuError> {
        assert!(a.len() == self.n && b.len() == self.m, "marginal lengths");
        upload(&self.s.clone(), a, &mut self.a)?;
        upload(&self.s.clone(), b, &mut self.b)
    }

    /// Set both scalings to 1.
    pub fn reset_scalings(&mut self) -> Result<(), GpuError> {
        let (n, m) = (self.n, self.m);
        upload(&self.s, &self.ones[..n], &mut self.u)?;
        upload(&self.s, &self.ones[..m], &mut self.v)
    }

    /// Copy the scalings `u`, `v` to the host.
    pub fn scalings(&mut self, u: &mut [f64], v: &mut [f64]) -> Result<(), GpuError> {
        download(&self.s, &self.u, u)?;
        download(&self.s, &self.v, v)
    }

    /// Set the scalings (tests).
    pub fn set_scalings(&mut self, u: &[f64], v: &[f64]) -> Result<(), GpuError> {
        let s = self.s.clone();
        upload(&s, u, &mut self.u)?;
        upload(&s, v, &mut self.v)
    }

    #[allow(clippy::too_many_arguments)]
    fn scale_dev(
        gpu: &Gpu,
        s: &Arc<CudaStream>,
        w: &CudaSlice<f64>,
        d: &CudaSlice<f64>,
        old: &CudaSlice<f64>,
        new: &mut CudaSlice<f64>,
        len: usize,
        tau: f64,
        partials: &mut CudaSlice<f64>,
        host: &mut [f64],
    ) -> Result<ScaleStep, GpuError> {
        let l = len as i64;
        // SAFETY: w, d, old, new hold len values; partials 3·DOT_BLOCKS (three per block).
        unsafe {
            s.launch_builder(&gpu.f.sinkhorn_scale)
                .arg(w)
                .arg(d)
                .arg(old)
                .arg(new)
                .arg(&l)
                .arg(&tau)
                .arg(&mut *partials)
                .launch(LaunchConfig {
                    grid_dim: (DOT_BLOCKS as u32, 1, 1),
                    block_dim: (THREADS, 1, 1),
                    shared_mem_bytes: 0,
                })
        }
        .map_err(err("sinkhorn_scale"))?;
        download(s, partials, host)?;
        let sum = |k: usize| {
            host[k * DOT_BLOCKS..(k + 1) * DOT_BLOCKS]
                .iter()
                .sum::<f64>()
        };
        Ok(ScaleStep {
            violation: sum(0),
            ok: sum(1) == 0.0,
            big: sum(2) > 0.0,
        })
    }

    /// `K v` on the device, then the row half-step: the violation of `u` and the candidate
    /// `a / (K v)`, committed by [`DenseKernel::commit_rows`].
    pub fn row_step(&mut self, tau: f64) -> Result<ScaleStep, GpuError> {
        gemv(
            &self.blas,
            &self.k,
            self.n,
            self.m,
            false,
            &self.v,
            &mut self.xn,
        )?;
        let n = self.n;
        Self::scale_dev(
            &self.gpu,
            &self.s,
            &self.a,
            &self.xn,
            &self.u,
            &mut self.u_next,
            n,
            tau,
            &mut self.partials,
            &mut self.host_partials,
        )
    }

    /// `u ← a / (K v)` from the last [`DenseKernel::row_step`].
    pub fn commit_rows(&mut self) {
        std::mem::swap(&mut self.u, &mut self.u_next);
    }

    /// `Kᵀ u` on the device, then `v ← b / (Kᵀ u)`.
    pub fn col_step(&mut self, tau: f64) -> Result<ScaleStep, GpuError> {
        gemv(
            &self.blas,
            &self.k,
            self.n,
            self.m,
            true,
            &self.u,
            &mut self.xm,
        )?;
        let m = self.m;
        let st = Self::scale_dev(
            &self.gpu,
            &self.s,
            &self.b,
            &self.xm,
            &self.v,
            &mut self.v_next,
            m,
            tau,
            &mut self.partials,
            &mut self.host_partials,
        )?;
        std::mem::swap(&mut self.v, &mut self.v_next);
        Ok(st)
    }

    /// Copy the kernel to the host (tests).
    pub fn kernel(&self, out: &mut [f64]) -> Result<(), GpuError> {
        download(&self.s, &self.k, out)
    }

    /// Wait for the queued work (timing).
    pub fn synchronize(&self) -> Result<(), GpuError> {
        self.s.synchronize().map_err(err("synchronize"))
    }
}

/// `y = K x` (`transposed`: `y = Kᵀ x`) for the row-major `n × m` matrix `k`, which cuBLAS
/// sees as the column-major `m × n` matrix `Kᵀ` (lda = m).
fn gemv(
    blas: &CudaBlas,
    k: &CudaSlice<f64>,
    n: usize,
    m: usize,
    transposed: bool,
    x: &CudaSlice<f64>,
    y: &mut CudaSlice<f64>,
) -> Result<(), GpuError> {
    let cfg = GemvConfig {
        trans: if transposed {
            cublasOperation_t::CUBLAS_OP_N
        } else {
            cublasOperation_t::CUBLAS_OP_T
        },
        m: m as i32,
        n: n as i32,
        alpha: 1.0,
        lda: m as i32,
        incx: 1,
        beta: 0.0,
        incy: 1,
    };
    let (xl, yl) = if transposed { (n, m) } else { (m, n) };
    assert!(
        k.len() >= n * m && x.len() >= xl && y.len() >= yl,
        "gemv sizes"
    );
    // SAFETY: k holds n·m values (column-major m × n, lda = m), x and y the lengths the
    // operation reads and writes (checked above).
    unsafe { blas.gemv(cfg, k, x, y) }.map_err(|e| format!("cuBLAS dgemv: {e}"))
}

// ------------------------------------------------------------------------------------------
// SNS: the sparsified Newton system.

/// Jacobi-preconditioned CG for the sparsified SNS Newton system `(M_s + μI) d = rhs` on the
/// device; the CSR in both orientations is uploaded once per Newton step ([`SparseNewton::load`]).
pub struct SparseNewton {
    s: Arc<CudaStream>,
    gpu: Arc<Gpu>,
    n: usize,
    m: usize,
    rows: DevCsr,
    cols: DevCsr,
    r: CudaSlice<f64>,
    c: CudaSlice<f64>,
    x: CudaSlice<f64>,
    res: CudaSlice<f64>,
    z: CudaSlice<f64>,
    p: CudaSlice<f64>,
    q: CudaSlice<f64>,
    partials: CudaSlice<f64>,
    host_partials: Vec<f64>,
    /// Scratch for the row-pointer conversion (reused across loads).
    ptr64: Vec<i64>,
}

impl SparseNewton {
    /// Buffers for an `n × m` transport problem.
    pub fn new(gpu: &Arc<Gpu>, n: usize, m: usize) -> Result<Self, GpuError> {
        let s = gpu.stream()?;
        let z = |len: usize| s.alloc_zeros::<f64>(len.max(1)).map_err(err("allocating"));
        let empty = || -> Result<DevCsr, GpuError> {
            Ok(DevCsr {
                ptr: s.alloc_zeros(1).map_err(err("allocating"))?,
                idx: s.alloc_zeros(1).map_err(err("allocating"))?,
                val: s.alloc_zeros(1).map_err(err("allocating"))?,
            })
        };
        Ok(SparseNewton {
            rows: empty()?,
            cols: empty()?,
            r: z(n)?,
            c: z(m)?,
            x: z(n + m)?,
            res: z(n + m)?,
            z: z(n + m)?,
            p: z(n + m)?,
            q: z(n + m)?,
            partials: z(DOT_BLOCKS)?,
            host_partials: vec![0.0; DOT_BLOCKS],
            ptr64: Vec::new(),
            s,
            gpu: gpu.clone(),
            n,
            m,
        })
    }

    fn load_csr(
        &mut self,
        cols: bool,
        ptr: &[usize],
        idx: &[u32],
        val: &[f64],
    ) -> Result<(), GpuError> {
        self.ptr64.clear();
        self.ptr64.extend(ptr.iter().map(|&p| p as i64));
        let s = self.s.clone();
        let d = if cols { &mut self.cols } else { &mut self.rows };
        ensure(&s, &mut d.ptr, ptr.len())?;
        ensure(&s, &mut d.idx, idx.len())?;
        ensure(&s, &mut d.val, val.len())?;
        upload(&s, &self.ptr64, &mut d.ptr)?;
        upload(&s, idx, &mut d.idx)?;
        upload(&s, val, &mut d.val)
    }

    /// Upload the kept plan entries (rows: `ptr, idx, val`; columns: `tptr, tidx, tval`) and
    /// the exact row and column sums `r`, `c`.
    #[allow(clippy::too_many_arguments)]
    pub fn load(
        &mut self,
        ptr: &[usize],
        idx: &[u32],
        val: &[f64],
        tptr: &[usize],
        tidx: &[u32],
        tval: &[f64],
        r: &[f64],
        c: &[f64],
    ) -> Result<(), GpuError> {
        assert!(
            ptr.len() == self.n + 1 && tptr.len() == self.m + 1,
            "CSR shape"
        );
        assert!(r.len() == self.n && c.len() == self.m, "row/column sums");
        self.load_csr(false, ptr, idx, val)?;
        self.load_csr(true, tptr, tidx, tval)?;
        upload(&self.s.clone(), r, &mut self.r)?;
        upload(&self.s.clone(), c, &mut self.c)
    }

    /// `y = (M_s + μI) x` with the loaded matrix (tests and benchmarks).
    pub fn apply(&mut self, mu: f64, x: &[f64], y: &mut [f64]) -> Result<(), GpuError> {
        let s = self.s.clone();
        upload(&s, x, &mut self.x)?;
        let (n, m) = (self.n, self.m);
        sns_apply(
            &self.gpu,
            &s,
            &self.rows,
            &self.cols,
            &self.r,
            &self.c,
            mu,
            &self.x,
            &mut self.q,
            n,
            m,
        )?;
        download(&s, &self.q, y)
    }

    /// Solve `(M_s + μI) x = rhs` by Jacobi-preconditioned CG from `x = 0`, stopping when
    /// `‖res‖ ≤ rel_tol ‖rhs‖` or after `max_iter` iterations (the CPU `pcg`'s rules); returns
    /// the iterations.
    pub fn pcg(
        &mut self,
        mu: f64,
        rhs: &[f64],
        out: &mut [f64],
        rel_tol: f64,
        max_iter: usize,
    ) -> Result<usize, GpuError> {
        let SparseNewton {
            s,
            gpu,
            n,
            m,
            rows,
            cols,
            r,
            c,
            x,
            res,
            z,
            p,
            q,
            partials,
            host_partials,
            ..
        } = self;
        let (n, m) = (*n, *m);
        let len = n + m;
        assert!(rhs.len() == len && out.len() == len, "pcg lengths");
        let (n64, m64, l) = (n as i64, m as i64, len as i64);
        let f = &gpu.f;
        let mut dot = |a: &CudaSlice<f64>, b: &CudaSlice<f64>| -> Result<f64, GpuError> {
            dot_dev(gpu, s, a, b, len, partials, host_partials)
        };
        s.memset_zeros(x).map_err(err("memset"))?;
        upload(s, rhs, res)?;
        let precondition = |res: &CudaSlice<f64>, z: &mut CudaSlice<f64>| -> Result<(), GpuError> {
            // SAFETY: res, z hold n + m values, r n and c m.
            unsafe {
                s.launch_builder(&f.pcg_precondition)
                    .arg(res)
                    .arg(&*r)
                    .arg(&*c)
                    .arg(&mu)
                    .arg(z)
                    .arg(&n64)
                    .arg(&m64)
                    .launch(grid(len))
            }
            .map_err(err("pcg_precondition"))?;
            Ok(())
        };
        precondition(res, z)?;
        s.memcpy_dtod(&*z, p).map_err(err("copy"))?;
        let mut rz = dot(res, z)?;
        let norm0 = rhs.iter().map(|v| v * v).sum::<f64>().sqrt();
        if norm0 == 0.0 {
            out.fill(0.0);
            return Ok(0);
        }
        let mut iters = max_iter;
        for it in 0..max_iter {
            sns_apply(gpu, s, rows, cols, r, c, mu, p, q, n, m)?;
            let dq = dot(p, q)?;
            if dq <= 0.0 || !dq.is_finite() {
                iters = it;
                break;
            }
            let alpha = rz / dq;
            // SAFETY: x, res, p, q hold n + m values.
            unsafe {
                s.launch_builder(&f.pcg_step)
                    .arg(&mut *x)
                    .arg(&mut *res)
                    .arg(&*p)
                    .arg(&*q)
                    .arg(&alpha)
                    .arg(&l)
                    .launch(grid(len))
            }
            .map_err(err("pcg_step"))?;
            let rn = dot(res, res)?.sqrt();
            if rn <= rel_tol * norm0 {
                iters = it + 1;
                break;
            }
            precondition(res, z)?;
            let rz_new = dot(res, z)?;
            let beta = rz_new / rz;
            rz = rz_new;
            // SAFETY: p, z hold n + m values.
            unsafe {
                s.launch_builder(&f.pcg_direction)
                    .arg(&mut *p)
                    .arg(&*z)
                    .arg(&beta)
                    .arg(&l)
                    .launch(grid(len))
            }
            .map_err(err("pcg_direction"))?;
        }
        download(s, x, out)?;
        Ok(iters)
    }
}

/// `q = (M_s + μI) src` on the device.
#[allow(clippy::too_many_arguments)]
fn sns_apply(
    gpu: &Gpu,
    s: &Arc<CudaStream>,
    rows: &DevCsr,
    cols: &DevCsr,
    r: &CudaSlice<f64>,
    c: &CudaSlice<f64>,
    mu: f64,
    src: &CudaSlice<f64>,
    q: &mut CudaSlice<f64>,
    n: usize,
    m: usize,
) -> Result<(), GpuError> {
    let (n64, m64) = (n as i64, m as i64);
    // SAFETY: the CSR buffers hold the loaded matrix (row pointers n + 1 and m + 1, indices
    // below m and n), r n values, c m values, src and q n + m values.
    unsafe {
        s.launch_builder(&gpu.f.sns_apply)
            .arg(&rows.ptr)
            .arg(&rows.idx)
            .arg(&rows.val)
            .arg(&cols.ptr)
            .arg(&cols.idx)
            .arg(&cols.val)
            .arg(r)
            .arg(c)
            .arg(&mu)
            .arg(src)
            .arg(q)
            .arg(&n64)
            .arg(&m64)
            .launch(grid(n + m))
    }
    .map_err(err("sns_apply"))?;
    Ok(())
}

/// `a · b` over the first `len` entries: fixed-grid partial sums on the device, added on the
/// host in block order.
fn dot_dev(
    gpu: &Gpu,
    s: &Arc<CudaStream>,
    a: &CudaSlice<f64>,
    b: &CudaSlice<f64>,
    len: usize,
    partials: &mut CudaSlice<f64>,
    host: &mut [f64],
) -> Result<f64, GpuError> {
    let l = len as i64;
    // SAFETY: a and b hold at least len values; partials holds DOT_BLOCKS, one per block.
    unsafe {
        s.launch_builder(&gpu.f.dot_partials)
            .arg(a)
            .arg(b)
            .arg(&l)
            .arg(&mut *partials)
            .launch(LaunchConfig {
                grid_dim: (DOT_BLOCKS as u32, 1, 1),
                block_dim: (THREADS, 1, 1),
                shared_mem_bytes: 0,
            })
    }
    .map_err(err("dot_partials"))?;
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
    dot_dev(gpu, &s, &da, &db, a.len(), &mut partials, &mut host)
}

// ------------------------------------------------------------------------------------------
// SDP: the MaxCut eigen-oracle operator.

/// The MaxCut SDP operator `(L/4 − Diag(y)) x + shift·x` on the device (graph uploaded once,
/// `y` per oracle call, `x` and the result per product).
pub struct MaxCutOperator {
    s: Arc<CudaStream>,
    gpu: Arc<Gpu>,
    n: usize,
    adj: DevCsr,
    deg: CudaSlice<f64>,
    y: CudaSlice<f64>,
    x: CudaSlice<f64>,
    out: CudaSlice<f64>,
}

impl MaxCutOperator {
    /// Upload the adjacency (CSR) and the weighted degrees.
    pub fn new(
        gpu: &Arc<Gpu>,
        ptr: &[usize],
        idx: &[usize],
        w: &[f64],
        degrees: &[f64],
    ) -> Result<Self, GpuError> {
        let s = gpu.stream()?;
        let n = degrees.len();
        assert_eq!(ptr.len(), n + 1, "CSR shape");
        Ok(MaxCutOperator {
            adj: DevCsr::new(&s, ptr, idx, w)?,
            deg: s.clone_htod(degrees).map_err(err("uploading"))?,
            y: s.alloc_zeros(n.max(1)).map_err(err("allocating"))?,
            x: s.alloc_zeros(n.max(1)).map_err(err("allocating"))?,
            out: s.alloc_zeros(n.max(1)).map_err(err("allocating"))?,
            s,
            gpu: gpu.clone(),
            n,
        })
    }

    /// Set the dual vector `y`.
    pub fn set_y(&mut self, y: &[f64]) -> Result<(), GpuError> {
        assert_eq!(y.len(), self.n, "y length");
        upload(&self.s.clone(), y, &mut self.y)
    }

    /// `out = (L/4 − Diag(y)) x + shift·x`.
    pub fn apply(&mut self, shift: f64, x: &[f64], out: &mut [f64]) -> Result<(), GpuError> {
        assert!(x.len() == self.n && out.len() == self.n, "operator lengths");
        upload(&self.s.clone(), x, &mut self.x)?;
        let n = self.n as i64;
        // SAFETY: the CSR is n × n with indices below n; deg, y, x, out hold n values.
        unsafe {
            self.s
                .launch_builder(&self.gpu.f.maxcut_sdp_apply)
                .arg(&self.adj.ptr)
                .arg(&self.adj.idx)
                .arg(&self.adj.val)
                .arg(&self.deg)
                .arg(&self.y)
                .arg(&shift)
                .arg(&self.x)
                .arg(&mut self.out)
                .arg(&n)
                .launch(grid(self.n))
        }
        .map_err(err("maxcut_sdp_apply"))?;
        download(&self.s, &self.out, out)
    }
}

// ------------------------------------------------------------------------------------------
// Binary: MCPG chains and energies.

/// Which energy and flip rule a [`IsingChains`] instance uses.
pub use mathprog_problems::binary::IsingKind;

/// The Metropolis chains of MCPG and batched energy evaluation for a sparse Ising problem
/// (MaxCut, QUBO) on the device.
pub struct IsingChains {
    s: Arc<CudaStream>,
    gpu: Arc<Gpu>,
    kind: i32,
    n: usize,
    adj: DevCsr,
    field: CudaSlice<f64>,
    constant: f64,
    mu: CudaSlice<f64>,
    xs: CudaSlice<i8>,
    hs: CudaSlice<f64>,
    es: CudaSlice<f64>,
    rng: CudaSlice<u64>,
    x_out: CudaSlice<i8>,
    h_work: CudaSlice<f64>,
    e_out: CudaSlice<f64>,
    acc: CudaSlice<u64>,
}

/// Output of [`IsingChains::run`] for `chains` chains (row-major, `n` spins per chain).
#[derive(Debug, Clone, Default)]
pub struct ChainsOut {
    /// End states.
    pub x: Vec<i8>,
    /// Energies of the end states (start energy plus the accepted flips' changes).
    pub e: Vec<f64>,
    /// Accepted flips per chain.
    pub accepted: Vec<u64>,
    /// The chains' xoshiro256++ states after the chain (4 words each).
    pub rng: Vec<u64>,
    /// Local fields of the end states (`n` per chain), updated flip by flip.
    pub h: Vec<f64>,
}

impl IsingChains {
    /// Upload the problem's couplings (see [`mathprog_problems::binary::IsingView`]).
    pub fn new(
        gpu: &Arc<Gpu>,
        view: &mathprog_problems::binary::IsingView<'_>,
    ) -> Result<Self, GpuError> {
        let s = gpu.stream()?;
        let n = view.ptr.len() - 1;
        let field: Vec<f64> = if view.field.is_empty() {
            vec![0.0; n]
        } else {
            view.field.to_vec()
        };
        let a = |len: usize| s.alloc_zeros::<f64>(len.max(1)).map_err(err("allocating"));
        Ok(IsingChains {
            kind: match view.kind {
                IsingKind::MaxCut => 0,
                IsingKind::Ising => 1,
            },
            adj: DevCsr::new(&s, view.ptr, view.idx, view.w)?,
            field: s.clone_htod(&field).map_err(err("uploading"))?,
            constant: view.constant,
            mu: a(n)?,
            xs: s.alloc_zeros(1).map_err(err("allocating"))?,
            hs: a(1)?,
            es: a(1)?,
            rng: s.alloc_zeros(1).map_err(err("allocating"))?,
            x_out: s.alloc_zeros(1).map_err(err("allocating"))?,
            h_work: a(1)?,
            e_out: a(1)?,
            acc: s.alloc_zeros(1).map_err(err("allocating"))?,
            s,
            gpu: gpu.clone(),
            n,
        })
    }

    /// Allocate the device buffers for `groups` starts and `chains` chains (all rounds reuse
    /// them).
    pub fn reserve(&mut self, groups: usize, chains: usize) -> Result<(), GpuError> {
        let (s, n) = (self.s.clone(), self.n);
        ensure(&s, &mut self.xs, groups.max(chains) * n)?;
        ensure(&s, &mut self.hs, groups.max(chains) * n)?;
        ensure(&s, &mut self.es, groups)?;
        ensure(&s, &mut self.rng, 4 * chains)?;
        ensure(&s, &mut self.x_out, chains * n)?;
        ensure(&s, &mut self.h_work, chains * n)?;
        ensure(&s, &mut self.e_out, chains)?;
        ensure(&s, &mut self.acc, chains)
    }

    /// Run `starts_e.len() · copies` chains: chain `c` starts from group `c / copies`
    /// (spins `starts_x`, energy `starts_e`; the local fields are computed on the device) with
    /// the xoshiro256++
    /// state `rng[4c..4c + 4]`, on the policy `mu` (pivot frame as in MCPG), until
    /// `accept_target` flips are accepted or `max_steps` proposals are made.
    #[allow(clippy::too_many_arguments)]
    pub fn run(
        &mut self,
        mu: &[f64],
        pivot: Option<usize>,
        starts_x: &[i8],
        starts_e: &[f64],
        copies: usize,
        rng: &[u64],
        accept_target: u64,
        max_steps: u64,
        out: &mut ChainsOut,
    ) -> Result<(), GpuError> {
        let n = self.n;
        let groups = starts_e.len();
        let chains = groups * copies;
        assert!(
            mu.len() == n && starts_x.len() == groups * n,
            "chain starts"
        );
        assert_eq!(rng.len(), 4 * chains, "rng states");
        let s = self.s.clone();
        ensure(&s, &mut self.xs, groups * n)?;
        ensure(&s, &mut self.hs, groups * n)?;
        ensure(&s, &mut self.es, groups)?;
        ensure(&s, &mut self.rng, 4 * chains)?;
        ensure(&s, &mut self.x_out, chains * n)?;
        ensure(&s, &mut self.h_work, chains * n)?;
        ensure(&s, &mut self.e_out, chains)?;
        ensure(&s, &mut self.acc, chains)?;
        upload(&s, mu, &mut self.mu)?;
        upload(&s, starts_x, &mut self.xs)?;
        upload(&s, starts_e, &mut self.es)?;
        self.fields_dev(groups)?;
        upload(&s, rng, &mut self.rng)?;
        let (n64, pv, cp, ch) = (
            n as i64,
            pivot.map_or(-1i64, |p| p as i64),
            copies as i64,
            chains as i64,
        );
        // SAFETY: xs, hs hold groups·n values, es groups, rng 4·chains, x_out and h_work
        // chains·n, e_out and acc chains; the CSR is n × n with indices below n; pivot < n.
        unsafe {
            s.launch_builder(&self.gpu.f.mcpg_chains)
                .arg(&self.kind)
                .arg(&self.adj.ptr)
                .arg(&self.adj.idx)
                .arg(&self.adj.val)
                .arg(&n64)
                .arg(&self.mu)
                .arg(&pv)
                .arg(&self.xs)
                .arg(&self.hs)
                .arg(&self.es)
                .arg(&cp)
                .arg(&ch)
                .arg(&mut self.rng)
                .arg(&mut self.x_out)
                .arg(&mut self.h_work)
                .arg(&mut self.e_out)
                .arg(&mut self.acc)
                .arg(&accept_target)
                .arg(&max_steps)
                .launch(LaunchConfig {
                    grid_dim: (chains.div_ceil(64).max(1) as u32, 1, 1),
                    block_dim: (64, 1, 1),
                    shared_mem_bytes: 0,
                })
        }
        .map_err(err("mcpg_chains"))?;
        out.x.resize(chains * n, 0);
        out.e.resize(chains, 0.0);
        out.accepted.resize(chains, 0);
        out.rng.resize(4 * chains, 0);
        out.h.resize(chains * n, 0.0);
        download(&s, &self.h_work, &mut out.h)?;
        download(&s, &self.x_out, &mut out.x)?;
        download(&s, &self.e_out, &mut out.e)?;
        download(&s, &self.acc, &mut out.accepted)?;
        download(&s, &self.rng, &mut out.rng)
    }

    /// `hs = fields of the first `batch` spin vectors in `xs`` on the device.
    fn fields_dev(&mut self, batch: usize) -> Result<(), GpuError> {
        let n = self.n;
        assert!(
            self.xs.len() >= batch * n && self.hs.len() >= batch * n,
            "batch size"
        );
        let (n64, b64) = (n as i64, batch as i64);
        // SAFETY: xs holds batch·n spins and hs batch·n values (checked above); the CSR is
        // n × n with indices below n; field holds n values.
        unsafe {
            self.s
                .launch_builder(&self.gpu.f.ising_fields)
                .arg(&self.adj.ptr)
                .arg(&self.adj.idx)
                .arg(&self.adj.val)
                .arg(&self.field)
                .arg(&n64)
                .arg(&self.xs)
                .arg(&b64)
                .arg(&mut self.hs)
                .launch(grid(batch * n))
        }
        .map_err(err("ising_fields"))?;
        Ok(())
    }

    /// Local fields of `xs.len() / n` spin vectors (row-major) into `h`.
    pub fn fields(&mut self, xs: &[i8], h: &mut Vec<f64>) -> Result<(), GpuError> {
        let n = self.n;
        let batch = xs.len() / n.max(1);
        let s = self.s.clone();
        ensure(&s, &mut self.xs, batch * n)?;
        ensure(&s, &mut self.hs, batch * n)?;
        upload(&s, xs, &mut self.xs)?;
        self.fields_dev(batch)?;
        h.resize(batch * n, 0.0);
        download(&s, &self.hs, h)
    }

    /// Energies of `xs.len() / n` spin vectors (row-major).
    pub fn energies(&mut self, xs: &[i8], out: &mut [f64]) -> Result<(), GpuError> {
        let n = self.n;
        let batch = out.len();
        assert_eq!(xs.len(), batch * n, "batch shape");
        let s = self.s.clone();
        ensure(&s, &mut self.x_out, batch * n)?;
        ensure(&s, &mut self.e_out, batch)?;
        upload(&s, xs, &mut self.x_out)?;
        let (n64, b64) = (n as i64, batch as i64);
        // SAFETY: x_out holds batch·n spins, e_out batch values, field n; one block per vector.
        unsafe {
            s.launch_builder(&self.gpu.f.ising_energies)
                .arg(&self.kind)
                .arg(&self.adj.ptr)
                .arg(&self.adj.idx)
                .arg(&self.adj.val)
                .arg(&self.field)
                .arg(&self.constant)
                .arg(&n64)
                .arg(&self.x_out)
                .arg(&b64)
                .arg(&mut self.e_out)
                .launch(LaunchConfig {
                    grid_dim: (batch.max(1) as u32, 1, 1),
                    block_dim: (THREADS, 1, 1),
                    shared_mem_bytes: 0,
                })
        }
        .map_err(err("ising_energies"))?;
        download(&s, &self.e_out, out)
    }
}
