//! The GPU side of MCPG (cargo feature `cuda`): the Metropolis chains of all groups, local
//! fields and energies of sparse Ising problems (MaxCut, QUBO) on the device ([`IsingChains`];
//! kernels in `binary/kernels.cu`). Twins: `mcpg_chains` ↔ `mcpg::metropolis_chain` (the same
//! xoshiro256++ stream, so the end states are identical), `ising_fields` ↔
//! `BinaryObjective::init_state`, `ising_energies` ↔ `BinaryObjective::energy`.

use crate::linalg::cuda::{
    DevCsr, Gpu, GpuError, THREADS, download, ensure, err, grid, launch, upload,
};
use cudarc::driver::{CudaFunction, CudaSlice, CudaStream, LaunchConfig, PushKernelArg};
use std::sync::Arc;

/// The CUDA C source of the MCPG kernels (compiled after [`crate::linalg::cuda::PRELUDE`]).
pub const KERNELS: &str = include_str!("kernels.cu");

/// The binary module's functions.
struct Funcs {
    mcpg_chains: CudaFunction,
    ising_fields: CudaFunction,
    ising_energies: CudaFunction,
}

impl Funcs {
    fn load(gpu: &Gpu) -> Result<Self, GpuError> {
        let f = |k: &str| gpu.function("binary", KERNELS, k);
        Ok(Funcs {
            mcpg_chains: f("mcpg_chains")?,
            ising_fields: f("ising_fields")?,
            ising_energies: f("ising_energies")?,
        })
    }
}

/// Which energy and flip rule a [`IsingChains`] instance uses.
pub use mathprog_problems::binary::IsingKind;

/// The Metropolis chains of MCPG and batched energy evaluation for a sparse Ising problem
/// (MaxCut, QUBO) on the device.
pub struct IsingChains {
    s: Arc<CudaStream>,
    fns: Arc<Funcs>,
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
            fns: Arc::new(Funcs::load(gpu)?),
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
        // Bounds (checked by the launch wrapper's caller): xs, hs hold groups·n values, es groups, rng 4·chains, x_out and h_work
        // chains·n, e_out and acc chains; the CSR is n × n with indices below n; pivot < n.
        launch(
            &s,
            &self.fns.mcpg_chains,
            "mcpg_chains",
            LaunchConfig {
                grid_dim: (chains.div_ceil(64).max(1) as u32, 1, 1),
                block_dim: (64, 1, 1),
                shared_mem_bytes: 0,
            },
            |args| {
                args.arg(&self.kind)
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
                    .arg(&max_steps);
            },
        )?;
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
        // Bounds (checked by the launch wrapper's caller): xs holds batch·n spins and hs batch·n values (checked above); the CSR is
        // n × n with indices below n; field holds n values.
        launch(
            &self.s,
            &self.fns.ising_fields,
            "ising_fields",
            grid(batch * n),
            |args| {
                args.arg(&self.adj.ptr)
                    .arg(&self.adj.idx)
                    .arg(&self.adj.val)
                    .arg(&self.field)
                    .arg(&n64)
                    .arg(&self.xs)
                    .arg(&b64)
                    .arg(&mut self.hs);
            },
        )?;
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
        // Bounds (checked by the launch wrapper's caller): x_out holds batch·n spins, e_out batch values, field n; one block per vector.
        launch(
            &s,
            &self.fns.ising_energies,
            "ising_energies",
            LaunchConfig {
                grid_dim: (batch.max(1) as u32, 1, 1),
                block_dim: (THREADS, 1, 1),
                shared_mem_bytes: 0,
            },
            |args| {
                args.arg(&self.kind)
                    .arg(&self.adj.ptr)
                    .arg(&self.adj.idx)
                    .arg(&self.adj.val)
                    .arg(&self.field)
                    .arg(&self.constant)
                    .arg(&n64)
                    .arg(&self.x_out)
                    .arg(&b64)
                    .arg(&mut self.e_out);
            },
        )?;
        download(&s, &self.e_out, out)
    }
}
