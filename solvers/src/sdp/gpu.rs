//! The GPU side of the MaxCut SDP (cargo feature `cuda`): the eigen-oracle's operator
//! `(L/4 − Diag(y)) x + shift·x` on the device ([`MaxCutOperator`]; kernel `maxcut_sdp_apply`
//! in `sdp/kernels.cu`, CPU twin `MaxCutSdp::apply_shifted`).

use crate::linalg::cuda::{DevCsr, Gpu, GpuError, download, err, grid, launch, upload};
use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, PushKernelArg};
use std::sync::Arc;

/// The CUDA C source of the SDP kernel (compiled after [`crate::linalg::cuda::PRELUDE`]).
pub const KERNELS: &str = include_str!("kernels.cu");

/// The MaxCut SDP operator `(L/4 − Diag(y)) x + shift·x` on the device (graph uploaded once,
/// `y` per oracle call, `x` and the result per product).
pub struct MaxCutOperator {
    s: Arc<CudaStream>,
    fns: Arc<CudaFunction>,
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
            fns: Arc::new(gpu.function("sdp", KERNELS, "maxcut_sdp_apply")?),
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
        // Bounds (checked by the launch wrapper's caller): the CSR is n × n with indices below n; deg, y, x, out hold n values.
        launch(
            &self.s,
            &self.fns,
            "maxcut_sdp_apply",
            grid(self.n),
            |args| {
                args.arg(&self.adj.ptr)
                    .arg(&self.adj.idx)
                    .arg(&self.adj.val)
                    .arg(&self.deg)
                    .arg(&self.y)
                    .arg(&shift)
                    .arg(&self.x)
                    .arg(&mut self.out)
                    .arg(&n);
            },
        )?;
        download(&self.s, &self.out, out)
    }
}
