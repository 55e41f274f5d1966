//! The GPU side of optimal transport (cargo feature `cuda`): the dense Gibbs kernel with the
//! whole Sinkhorn iteration on the device ([`DenseKernel`]) and the SNS Newton system's PCG
//! ([`SparseNewton`]). The CUDA C is in `ot/kernels.cu`; every kernel has a CPU twin in this
//! family, which the `cuda` tests and `solve bench-gpu` compare it with ([`super::gpu_checks`]):
//!
//! | GPU | CPU twin |
//! |---|---|
//! | `ot_build_kernel` | `sinkhorn::build_kernel` |
//! | cuBLAS `dgemv` (N, T) | `sinkhorn::{matvec, matvec_t}` |
//! | `sinkhorn_scale` (with the products: a Sinkhorn iteration stays on the device) | `sinkhorn::scale_step` |
//! | `ot_lse_rows`, `ot_lse_cols` | `sinkhorn::{log_update_rows, log_update_cols}` |
//! | `ot_plan_rows`, `ot_plan_cols` | `ot::evaluate` |
//! | `sns_apply` + `dot_partials`, `pcg_*` | `sns::{apply, pcg}` |
//!
//! cuSPARSE is not used: the SNS matrix is applied in both orientations fused with its diagonal,
//! one thread per row in the CPU twin's order, which matches the CPU bit for bit.

use super::sinkhorn::ScaleStep;
use crate::linalg::cuda::blas::{CudaBlas, gemv};
use crate::linalg::cuda::{
    DOT_BLOCKS, DevCsr, Gpu, GpuError, THREADS, dot_dev, download, ensure, err, grid, launch,
    upload,
};
use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use std::sync::Arc;

/// The CUDA C source of the OT kernels (compiled after [`crate::linalg::cuda::PRELUDE`]).
pub const KERNELS: &str = include_str!("kernels.cu");

/// The OT module's functions.
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
}

impl Funcs {
    fn load(gpu: &Gpu) -> Result<Self, GpuError> {
        let f = |k: &str| gpu.function("ot", KERNELS, k);
        Ok(Funcs {
            build_kernel: f("ot_build_kernel")?,
            lse_rows: f("ot_lse_rows")?,
            lse_cols: f("ot_lse_cols")?,
            plan_rows: f("ot_plan_rows")?,
            plan_cols: f("ot_plan_cols")?,
            sinkhorn_scale: f("sinkhorn_scale")?,
            sns_apply: f("sns_apply")?,
            dot_partials: f("dot_partials")?,
            pcg_precondition: f("pcg_precondition")?,
            pcg_step: f("pcg_step")?,
            pcg_direction: f("pcg_direction")?,
        })
    }
}

/// The dense Sinkhorn kernel `K = exp((f ⊕ g − C)/reg)` on the device, with the cost matrix
/// uploaded once: [`DenseKernel::build`] (custom kernel) and the products `K v`, `Kᵀ u`
/// (cuBLAS `dgemv`; the row-major `n × m` matrix is the column-major `m × n` matrix `Kᵀ`).
pub struct DenseKernel {
    s: Arc<CudaStream>,
    blas: CudaBlas,
    fns: Arc<Funcs>,
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
            fns: Arc::new(Funcs::load(gpu)?),
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
        // Bounds (checked by the launch wrapper's caller): k and cost hold n·m values, f n and g m (allocated above); the kernel stays
        // within those bounds (grid-stride loop over n·m).
        launch(
            &self.s,
            &self.fns.build_kernel,
            "ot_build_kernel",
            cfg,
            |args| {
                args.arg(&mut self.k)
                    .arg(&self.cost)
                    .arg(&self.f)
                    .arg(&self.g)
                    .arg(&reg)
                    .arg(&n)
                    .arg(&m);
            },
        )?;
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
        // Bounds (checked by the launch wrapper's caller): cost holds n·m values, g m, a and f n; one block per row (grid-stride).
        launch(&self.s, &self.fns.lse_rows, "ot_lse_rows", cfg, |args| {
            args.arg(&self.cost)
                .arg(&self.g)
                .arg(&self.a)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.f);
        })?;
        download(&self.s, &self.f, f)
    }

    /// Exact log-domain column update `g_j = reg log b_j − reg LSE_i((f_i − C_ij)/reg)`;
    /// needs [`DenseKernel::set_marginals`].
    pub fn log_update_cols(&mut self, f: &[f64], g: &mut [f64], reg: f64) -> Result<(), GpuError> {
        assert!(f.len() == self.n && g.len() == self.m, "potential lengths");
        upload(&self.s.clone(), f, &mut self.f)?;
        let (n, m) = (self.n as i64, self.m as i64);
        // Bounds (checked by the launch wrapper's caller): cost holds n·m values, f and a n, b and g m; one thread per column.
        launch(
            &self.s,
            &self.fns.lse_cols,
            "ot_lse_cols",
            grid(self.m),
            |args| {
                args.arg(&self.cost)
                    .arg(&self.f)
                    .arg(&self.b)
                    .arg(&reg)
                    .arg(&n)
                    .arg(&m)
                    .arg(&mut self.g);
            },
        )?;
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
        // Bounds (checked by the launch wrapper's caller): cost holds n·m values, f, rs, tc, ent n, g and cs m; one block per row,
        // one thread per column.
        launch(&s, &self.fns.plan_rows, "ot_plan_rows", cfg, |args| {
            args.arg(&self.cost)
                .arg(&self.f)
                .arg(&self.g)
                .arg(&reg)
                .arg(&n)
                .arg(&m)
                .arg(&mut self.rs)
                .arg(&mut self.tc)
                .arg(&mut self.ent);
        })?;
        // Bounds (checked by the launch wrapper's caller): as above.
        launch(
            &s,
            &self.fns.plan_cols,
            "ot_plan_cols",
            grid(self.m),
            |args| {
                args.arg(&self.cost)
                    .arg(&self.f)
                    .arg(&self.g)
                    .arg(&reg)
                    .arg(&n)
                    .arg(&m)
                    .arg(&mut self.cs);
            },
        )?;
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
        fns: &Funcs,
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
        // Bounds (checked by the launch wrapper's caller): w, d, old, new hold len values; partials 3·DOT_BLOCKS (three per block).
        launch(
            s,
            &fns.sinkhorn_scale,
            "sinkhorn_scale",
            LaunchConfig {
                grid_dim: (DOT_BLOCKS as u32, 1, 1),
                block_dim: (THREADS, 1, 1),
                shared_mem_bytes: 0,
            },
            |args| {
                args.arg(w)
                    .arg(d)
                    .arg(old)
                    .arg(new)
                    .arg(&l)
                    .arg(&tau)
                    .arg(&mut *partials);
            },
        )?;
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
            &self.fns,
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
            &self.fns,
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

/// Jacobi-preconditioned CG for the sparsified SNS Newton system `(M_s + μI) d = rhs` on the
/// device; the CSR in both orientations is uploaded once per Newton step ([`SparseNewton::load`]).
pub struct SparseNewton {
    s: Arc<CudaStream>,
    fns: Arc<Funcs>,
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
            fns: Arc::new(Funcs::load(gpu)?),
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
            &self.fns,
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
            fns,
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
        let f: &Funcs = fns;
        let mut dot = |a: &CudaSlice<f64>, b: &CudaSlice<f64>| -> Result<f64, GpuError> {
            dot_dev(&f.dot_partials, s, a, b, len, partials, host_partials)
        };
        s.memset_zeros(x).map_err(err("memset"))?;
        upload(s, rhs, res)?;
        let precondition = |res: &CudaSlice<f64>, z: &mut CudaSlice<f64>| -> Result<(), GpuError> {
            // Bounds (checked by the launch wrapper's caller): res, z hold n + m values, r n and c m.
            launch(
                s,
                &f.pcg_precondition,
                "pcg_precondition",
                grid(len),
                |args| {
                    args.arg(res)
                        .arg(&*r)
                        .arg(&*c)
                        .arg(&mu)
                        .arg(z)
                        .arg(&n64)
                        .arg(&m64);
                },
            )?;
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
            sns_apply(f, s, rows, cols, r, c, mu, p, q, n, m)?;
            let dq = dot(p, q)?;
            if dq <= 0.0 || !dq.is_finite() {
                iters = it;
                break;
            }
            let alpha = rz / dq;
            // Bounds (checked by the launch wrapper's caller): x, res, p, q hold n + m values.
            launch(s, &f.pcg_step, "pcg_step", grid(len), |args| {
                args.arg(&mut *x)
                    .arg(&mut *res)
                    .arg(&*p)
                    .arg(&*q)
                    .arg(&alpha)
                    .arg(&l);
            })?;
            let rn = dot(res, res)?.sqrt();
            if rn <= rel_tol * norm0 {
                iters = it + 1;
                break;
            }
            precondition(res, z)?;
            let rz_new = dot(res, z)?;
            let beta = rz_new / rz;
            rz = rz_new;
            // Bounds (checked by the launch wrapper's caller): p, z hold n + m values.
            launch(s, &f.pcg_direction, "pcg_direction", grid(len), |args| {
                args.arg(&mut *p).arg(&*z).arg(&beta).arg(&l);
            })?;
        }
        download(s, x, out)?;
        Ok(iters)
    }
}

/// `q = (M_s + μI) src` on the device.
#[allow(clippy::too_many_arguments)]
fn sns_apply(
    fns: &Funcs,
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
    // Bounds (checked by the launch wrapper's caller): the CSR buffers hold the loaded matrix (row pointers n + 1 and m + 1, indices
    // below m and n), r n values, c m values, src and q n + m values.
    launch(s, &fns.sns_apply, "sns_apply", grid(n + m), |args| {
        args.arg(&rows.ptr)
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
            .arg(&m64);
    })?;
    Ok(())
}
