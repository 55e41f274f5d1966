//! The iterations of [`super::Method`] as a state ([`Iterate`]) with one method per step:
//! the deterministic Halpern/extragradient step with its adaptive step size, one outer step
//! of inexact VR-Halpern (Alg. 2), one step of VR-Halpern (Alg. 1), the residual check and the
//! anchor restart.

use super::{Method, MonotoneSettings, STEP_GROWTH};
use crate::core::{RngStream, stream_rng, uniform01};
use mathprog_problems::monotone::{FiniteSumMonotone, residual};

/// Where evaluations run: small operators on the calling thread (a pool hand-off per
/// evaluation would cost more than the evaluation), large ones on the pool.
pub(super) struct Exec {
    pub pool: rayon::ThreadPool,
    small: bool,
}

impl Exec {
    pub fn new(pool: rayon::ThreadPool, op: &dyn FiniteSumMonotone) -> Self {
        let small = op.dim() * op.num_components().max(1) < (1 << 16);
        Exec { pool, small }
    }
    fn run(&self, f: &mut (dyn FnMut() + Send)) {
        if self.small {
            f()
        } else {
            self.pool.install(f)
        }
    }
}

/// The state between iterations; every buffer is allocated once.
pub(super) struct Iterate {
    pub u: Vec<f64>,
    anchor: Vec<f64>,
    /// `F(u)` when `f_valid`.
    pub f: Vec<f64>,
    pub f_valid: bool,
    fv: Vec<f64>,
    v: Vec<f64>,
    work: Vec<f64>,
    /// VR-Halpern: the estimator, the previous point, the batch and its marks.
    est: Vec<f64>,
    u_prev: Vec<f64>,
    batch: Vec<usize>,
    /// Batch size `b = ⌊√n⌋`.
    b: usize,
    mark: Vec<usize>,
    /// Inexact VR-Halpern: inner iterate z, snapshot w with F(w), previous snapshot, direction.
    z: Vec<f64>,
    w: Vec<f64>,
    fw: Vec<f64>,
    w_prev: Vec<f64>,
    g: Vec<f64>,
    rng: RngStream,
    pub eta: f64,
    pub lip: f64,
    pub epochs: f64,
    /// Iterations since the last restart (Halpern's `k`).
    k: u64,
    pub restarts: u64,
    pub steps: u64,
    pub backtracks: u64,
    res_restart: f64,
}

impl Iterate {
    /// The state at `u0` (projected), with the method's first step from `lip`.
    pub fn new(
        op: &dyn FiniteSumMonotone,
        s: &MonotoneSettings,
        mut u0: Vec<f64>,
        lip: f64,
    ) -> Self {
        let d = op.dim();
        let nc = op.num_components().max(1);
        op.project(&mut u0);
        // VR: η = step_scale·√n / L_Q (for games 1/‖A‖_F, the authors' scale); Alg. 2: the
        // resolvent's step η = √n/L_Q (1/‖A‖_F for games), so that the inner problem's RMS
        // component constant is L_Φ = 1 + ηL_Q = 1 + √n; else 1/L.
        let eta = match s.method {
            Method::VrHalpern | Method::VrInexactHalpern => s.step_scale * (nc as f64).sqrt() / lip,
            _ => s.step_scale / lip,
        };
        let inexact = s.method == Method::VrInexactHalpern;
        let alloc = |on: bool| vec![0.0; if on { d } else { 0 }];
        let b = ((nc as f64).sqrt().floor() as usize).max(1);
        Iterate {
            anchor: u0.clone(),
            u: u0,
            f: vec![0.0; d],
            f_valid: false,
            fv: vec![0.0; d],
            v: vec![0.0; d],
            work: vec![0.0; d],
            est: vec![0.0; d],
            u_prev: vec![0.0; d],
            batch: Vec::with_capacity(b),
            b,
            mark: vec![usize::MAX; nc],
            z: alloc(inexact),
            w: alloc(inexact),
            fw: alloc(inexact),
            w_prev: alloc(inexact),
            g: alloc(inexact),
            rng: stream_rng(s.common.seed, 0x4A1, 0),
            eta,
            lip,
            epochs: 0.0,
            k: 0,
            restarts: 0,
            steps: 0,
            backtracks: 0,
            res_restart: f64::INFINITY,
        }
    }

    /// The residual `Res(u)`: one full evaluation unless `F(u)` is at hand (the deterministic
    /// methods evaluate it at every iterate anyway).
    pub fn residual(&mut self, op: &dyn FiniteSumMonotone, exec: &Exec) -> f64 {
        if !self.f_valid {
            let (u, f) = (&self.u, &mut self.f);
            exec.run(&mut || op.full(u, f));
            self.epochs += 1.0;
            self.f_valid = true;
        }
        residual(op, &self.u, &self.f, &mut self.work)
    }

    /// Adaptive restart: reset the anchor to `u` (and `k` to 0) once the residual has fallen
    /// below `factor` times its value at the last restart.
    pub fn maybe_restart(&mut self, res: f64, factor: Option<f64>) {
        let Some(fac) = factor else {
            return;
        };
        if self.res_restart.is_infinite() {
            self.res_restart = res;
        } else if res <= fac * self.res_restart {
            self.anchor.copy_from_slice(&self.u);
            self.k = 0;
            self.restarts += 1;
            self.res_restart = res;
        }
    }

    /// One iteration of the method.
    pub fn step(&mut self, op: &dyn FiniteSumMonotone, s: &MonotoneSettings, exec: &Exec) {
        match s.method {
            Method::Extragradient | Method::Halpern => self.step_extragradient(op, s, exec),
            Method::VrInexactHalpern => self.step_vr_inexact(op, exec),
            Method::VrHalpern => self.step_vr_halpern(op, exec),
        }
        self.k += 1;
        self.steps += 1;
    }

    /// Extrapolation `v = Π(b − ηF(u))`, `b = u + λ(u₀ − u)`, then `u ← Π(b − ηF(v))`
    /// (`λ = 1/(k + 2)` for Halpern, 0 for extragradient); with adaptive steps, backtrack until
    /// `η‖F(v) − F(u)‖ ≤ 0.95‖v − u‖` (a local Lipschitz test), then grow the step by 10%.
    fn step_extragradient(
        &mut self,
        op: &dyn FiniteSumMonotone,
        s: &MonotoneSettings,
        exec: &Exec,
    ) {
        let d = self.u.len();
        let lam = if s.method == Method::Halpern {
            1.0 / (self.k as f64 + 2.0)
        } else {
            0.0
        };
        if !self.f_valid {
            let (u, f) = (&self.u, &mut self.f);
            exec.run(&mut || op.full(u, f));
            self.epochs += 1.0;
        }
        let mut loc;
        loop {
            for j in 0..d {
                self.v[j] = self.u[j] + lam * (self.anchor[j] - self.u[j]) - self.eta * self.f[j];
            }
            op.project(&mut self.v);
            let (v, fv) = (&self.v, &mut self.fv);
            exec.run(&mut || op.full(v, fv));
            self.epochs += 1.0;
            let (mut num, mut den) = (0.0, 0.0);
            for j in 0..d {
                num += (self.fv[j] - self.f[j]) * (self.fv[j] - self.f[j]);
                den += (self.v[j] - self.u[j]) * (self.v[j] - self.u[j]);
            }
            loc = if den > 0.0 { (num / den).sqrt() } else { 0.0 };
            if s.adaptive_step && self.eta * loc > 0.95 && loc.is_finite() {
                self.eta = 0.9 / loc;
                self.backtracks += 1;
                continue;
            }
            break;
        }
        for j in 0..d {
            self.u[j] += lam * (self.anchor[j] - self.u[j]) - self.eta * self.fv[j];
        }
        op.project(&mut self.u);
        let (u, f) = (&self.u, &mut self.f);
        exec.run(&mut || op.full(u, f));
        self.epochs += 1.0;
        self.f_valid = true;
        if s.adaptive_step {
            self.eta *= STEP_GROWTH;
            if loc > 0.0 {
                self.eta = self.eta.min(0.9 / loc);
            }
        }
    }

    /// `ũ_k ≈ J_{η(F+G)}(u_k)`: solve `0 ∈ Φ(z) + N_C(z)`, `Φ(z) = ηF(z) + z − u_k`
    /// (1-strongly monotone), by `M_k` steps of loopless VR-FoRB warm-started at `u_k`:
    /// `z̄ = αz + (1 − α)w`, `z ← Π(z̄ − γ[Φ(w) + Φ_i(z) − Φ_i(w_prev)])`, `w ← z` with
    /// probability `p`; then `u ← λu₀ + (1 − λ)z`.
    fn step_vr_inexact(&mut self, op: &dyn FiniteSumMonotone, exec: &Exec) {
        let d = self.u.len();
        let nc = self.mark.len();
        let nf = nc as f64;
        // p = 1/n (at most ½, so that γ > 0 with a single component).
        let p = (1.0 / nf).min(0.5);
        let alpha = 1.0 - p;
        let (eta, k) = (self.eta, self.k);
        let gamma = 5.0 * (p * (1.0 - p)).sqrt() / (1.0 + eta * self.lip);
        let mk = ((0.05 * nf * (k as f64 + 2.0).ln()).ceil() as usize).max(1);
        self.z.copy_from_slice(&self.u);
        self.w.copy_from_slice(&self.u);
        self.w_prev.copy_from_slice(&self.u);
        if self.f_valid {
            self.fw.copy_from_slice(&self.f);
        } else {
            let (w, fw) = (&self.w, &mut self.fw);
            exec.run(&mut || op.full(w, fw));
            self.epochs += 1.0;
        }
        let mut prev_differs = false;
        for _ in 0..mk {
            let i = ((uniform01(&mut self.rng) * nf) as usize).min(nc - 1);
            for j in 0..d {
                self.g[j] = eta * self.fw[j] + self.w[j] - self.u[j] + self.z[j] - self.w_prev[j];
            }
            op.component_axpy(i, &self.z, eta, &mut self.g);
            op.component_axpy(i, &self.w_prev, -eta, &mut self.g);
            self.epochs += 2.0 / nf;
            for j in 0..d {
                self.v[j] = alpha * self.z[j] + (1.0 - alpha) * self.w[j] - gamma * self.g[j];
            }
            op.project(&mut self.v);
            std::mem::swap(&mut self.z, &mut self.v);
            if prev_differs {
                self.w_prev.copy_from_slice(&self.w);
                prev_differs = false;
            }
            if uniform01(&mut self.rng) < p {
                self.w_prev.copy_from_slice(&self.w);
                self.w.copy_from_slice(&self.z);
                let (w, fw) = (&self.w, &mut self.fw);
                exec.run(&mut || op.full(w, fw));
                self.epochs += 1.0;
                prev_differs = true;
            }
        }
        let lam = 1.0 / (k as f64 + 2.0);
        for j in 0..d {
            self.u[j] = lam * self.anchor[j] + (1.0 - lam) * self.z[j];
        }
        self.f_valid = false;
    }

    /// `u ← Π(λu₀ + (1 − λ)u − ηF̃)`, `λ = 2/(k + 4)`, with the PAGE estimator `F̃`: a full
    /// evaluation with probability `p_k`, else the previous estimate plus the difference of
    /// `b = ⌊√n⌋` components drawn without replacement.
    fn step_vr_halpern(&mut self, op: &dyn FiniteSumMonotone, exec: &Exec) {
        let d = self.u.len();
        let nc = self.mark.len();
        let sqrt_n = (nc as f64).sqrt();
        let b = self.b;
        let k = self.k;
        let p = if (k as f64) <= sqrt_n + 1.0 {
            4.0 / (k as f64 + 4.0)
        } else {
            4.0 / (sqrt_n + 5.0)
        };
        if k == 0 || uniform01(&mut self.rng) < p {
            let (u, est) = (&self.u, &mut self.est);
            exec.run(&mut || op.full(u, est));
            self.epochs += 1.0;
        } else {
            self.batch.clear();
            while self.batch.len() < b.min(nc) {
                let i = ((uniform01(&mut self.rng) * nc as f64) as usize).min(nc - 1);
                if self.mark[i] != self.steps as usize {
                    self.mark[i] = self.steps as usize;
                    self.batch.push(i);
                }
            }
            let w = 1.0 / self.batch.len() as f64;
            for &i in &self.batch {
                op.component_axpy(i, &self.u, w, &mut self.est);
                op.component_axpy(i, &self.u_prev, -w, &mut self.est);
            }
            self.epochs += 2.0 * self.batch.len() as f64 / nc as f64;
        }
        let lam = 2.0 / (k as f64 + 4.0);
        self.f_valid = false;
        self.u_prev.copy_from_slice(&self.u);
        for j in 0..d {
            self.u[j] = lam * self.anchor[j] + (1.0 - lam) * self.u[j] - self.eta * self.est[j];
        }
        op.project(&mut self.u);
    }
}
