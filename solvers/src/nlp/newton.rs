//! One iteration of the exact augmented Lagrangian method, as a state ([`Newton`]) with one
//! method per step: the KKT direction (projected CG on the null space, or an assembled KKT
//! matrix solved directly or by sketch-and-project), the descent test on the merit with the
//! penalty updates, and the Armijo line search.

use super::{Eval, KktMethod, NlpSettings, evaluate, inner_target, kkt, merit, norm2, pcg};
use super::{spmv, spmv_t};
use crate::core::{RngStream, Status, stream_rng};
use kkt::Csr;
use mathprog_problems::nlp::{EqualityNlp, HessianOperator};
use sprs::CsMat;

/// A trial point with its evaluation.
type Trial = (Vec<f64>, Vec<f64>, Eval);

/// The method between two iterations. Buffers are allocated once.
pub(super) struct Newton<'a> {
    p: &'a dyn EqualityNlp,
    s: &'a NlpSettings,
    pub method: KktMethod,
    rng: RngStream,
    pub x: Vec<f64>,
    pub lambda: Vec<f64>,
    pub e: Eval,
    pub mu: f64,
    pub nu: f64,
    delta: f64,
    /// Levenberg–Marquardt damping left by short steps, decaying by 3 per iteration.
    damping: f64,
    pub kkt_norm: f64,
    pub inner_total: usize,
    pub shifts: usize,
    /// The last Newton steps, recycled as warm starts of the sketch solvers.
    prev_steps: Vec<Vec<f64>>,
    /// The null-space projector of projected CG and the Jacobian it was built for.
    proj_cache: Option<(CsMat<f64>, pcg::NullSpaceProjector)>,
    hdx: Vec<f64>,
    cg_work: [Vec<f64>; 4],
    ggl: Vec<f64>,
    gtc: Vec<f64>,
    pub failure: Option<String>,
}

/// A KKT direction `z = (Δx, Δλ)` with the merit's slope along it, the Hessian shift used,
/// and a full step already accepted by the watchdog.
struct Direction {
    z: Vec<f64>,
    slope: f64,
    tau: f64,
    full_step: Option<Trial>,
}

/// What one inner solve asks for next.
enum Inner {
    /// A step in `z`; `missed`: the inner target was not met.
    Solved { missed: bool },
    /// Shift the Hessian and solve again.
    Shift,
    /// The KKT matrix is singular beyond repair.
    Failed(String),
}

/// The Hessian at the current point: an operator (projected CG) or a sparse matrix.
struct Hessian<'h> {
    op: Option<Box<dyn HessianOperator + 'h>>,
    mat: Option<CsMat<f64>>,
}

impl<'a> Newton<'a> {
    /// The state at `x0` with `λ = 0` and the initial penalties.
    pub fn new(p: &'a dyn EqualityNlp, s: &'a NlpSettings, x0: Vec<f64>) -> Self {
        let (n, m) = (p.num_vars(), p.num_constraints());
        let lambda = vec![0.0; m];
        let e = evaluate(p, &x0, &lambda);
        let method = match s.kkt {
            KktMethod::Auto if p.hessian_operator(&x0, &lambda).is_some() => KktMethod::Cg,
            KktMethod::Auto => KktMethod::Direct,
            k => k,
        };
        let kkt_norm = (norm2(&e.gl) + norm2(&e.c)).sqrt();
        Newton {
            p,
            s,
            method,
            rng: stream_rng(s.common.seed, 0x41C, 0),
            x: x0,
            lambda,
            e,
            mu: s.mu0,
            nu: s.nu0,
            delta: s.delta0,
            damping: 0.0,
            kkt_norm,
            inner_total: 0,
            shifts: 0,
            prev_steps: Vec::new(),
            proj_cache: None,
            hdx: vec![0.0; n],
            cg_work: [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]],
            ggl: vec![0.0; m],
            gtc: vec![0.0; n],
            failure: None,
        }
    }

    /// One iteration: direction, then line search. `Err(status)` ends the run (a numerical
    /// failure, or no acceptable step: stalled).
    pub fn iterate(&mut self, pool: &rayon::ThreadPool) -> Result<(), Status> {
        let d = self.direction(pool)?;
        self.line_search(d)
    }

    /// The Hessian in the form the KKT solver takes.
    fn hessian(&self) -> Hessian<'a> {
        let op = if self.method == KktMethod::Cg {
            self.p.hessian_operator(&self.x, &self.lambda)
        } else {
            None
        };
        let mat = op.is_none().then(|| self.p.hessian(&self.x, &self.lambda));
        Hessian { op, mat }
    }

    /// Rebuild the null-space projector when the Jacobian changed (it is kept for linear
    /// constraints: its Gram factorisation is the costly part).
    fn refresh_projector(&mut self) -> Result<(), Status> {
        let jac = &self.e.jac;
        let same = self.proj_cache.as_ref().is_some_and(|(g, _)| {
            g.indptr().raw_storage() == jac.indptr().raw_storage()
                && g.indices() == jac.indices()
                && g.data() == jac.data()
        });
        if !same {
            match pcg::NullSpaceProjector::new(jac) {
                Ok(pr) => self.proj_cache = Some((jac.clone(), pr)),
                Err(msg) => {
                    self.failure = Some(msg);
                    return Err(Status::NumericalError);
                }
            }
        }
        Ok(())
    }

    /// The KKT direction, shifting the Hessian and raising the penalties until it is a
    /// descent direction of the merit (or a full step halves the KKT residual).
    fn direction(&mut self, pool: &rayon::ThreadPool) -> Result<Direction, Status> {
        let (n, m) = (self.x.len(), self.lambda.len());
        let hess = self.hessian();
        spmv(&self.e.jac, &self.e.gl, &mut self.ggl);
        spmv_t(&self.e.jac, &self.e.c, &mut self.gtc);
        let rhs: Vec<f64> = self.e.gl.iter().chain(&self.e.c).map(|v| -v).collect();
        let theta = if self.s.superlinear {
            self.kkt_norm.min(1.0)
        } else {
            1.0
        };
        if self.method == KktMethod::Cg {
            self.refresh_projector()?;
        }
        self.damping = if self.damping > 1e-12 {
            self.damping / 3.0
        } else {
            0.0
        };
        let mut tau = self.damping;
        let mut z = vec![0.0; n + m];
        let (mut first_attempt, mut relaxed, mut tried_full_step) = (true, false, false);
        loop {
            let inner = if self.proj_cache.is_some() {
                self.solve_projected(&hess, tau, theta, &mut z, pool)
            } else {
                let theta = if relaxed { 1.0 } else { theta };
                let first = std::mem::replace(&mut first_attempt, false);
                self.solve_assembled(&hess, tau, theta, &rhs, first, &mut z, pool)
            };
            let missed = match inner {
                Inner::Solved { missed } => missed,
                Inner::Shift => {
                    tau = (10.0 * tau).max(1e-4);
                    self.shifts += 1;
                    continue;
                }
                Inner::Failed(msg) => {
                    self.failure = Some(msg);
                    return Err(Status::NumericalError);
                }
            };
            let (dx, dl) = z.split_at(n);
            // Curvature along the step.
            let curv: f64 =
                dx.iter().zip(&self.hdx).map(|(a, b)| a * b).sum::<f64>() + tau * norm2(dx);
            if curv < self.s.xi_b * norm2(dx) && tau < 1e12 {
                tau = (10.0 * tau).max(1e-4);
                self.shifts += 1;
                continue;
            }
            let slope = self.slope(dx, dl);
            let (mu, nu, kn) = (self.mu, self.nu, self.kkt_norm);
            if slope <= -0.5 * nu * kn * kn || mu > 1e8 || nu < 1e-8 {
                return Ok(Direction {
                    z,
                    slope,
                    tau,
                    full_step: None,
                });
            }
            if missed && !relaxed {
                // Still above the superlinear target: fall back to the linear-rate accuracy
                // (θ_k = 1) for this iteration, which the current z usually meets already.
                relaxed = true;
                continue;
            }
            if !tried_full_step {
                tried_full_step = true;
                if let Some(t) = self.watchdog(&z) {
                    return Ok(Direction {
                        z,
                        slope: 0.0,
                        tau,
                        full_step: Some(t),
                    });
                }
            }
            let vt = self.s.vartheta;
            self.mu *= vt * vt;
            self.nu /= vt;
            // δ_k = max(1e-6, …) as in the paper: the inner accuracy never goes below 1e-6.
            self.delta = (self.delta / vt.powi(4)).max(1e-6);
        }
    }

    /// `∇L_{μ,ν}ᵀ z`, with `(H ∇ₓL)ᵀΔx = ∇ₓLᵀ(H Δx)` (H symmetric): no extra product.
    fn slope(&self, dx: &[f64], dl: &[f64]) -> f64 {
        let (e, mu, nu) = (&self.e, self.mu, self.nu);
        let gx: f64 = (0..dx.len())
            .map(|j| (e.gl[j] + mu * self.gtc[j]) * dx[j] + nu * e.gl[j] * self.hdx[j])
            .sum();
        let gl: f64 = (0..dl.len())
            .map(|i| (e.c[i] + nu * self.ggl[i]) * dl[i])
            .sum();
        gx + gl
    }

    /// Near a solution the descent test can fail on rounding alone, and raising the penalties
    /// then only degrades the merit's control of λ. A full step that halves the KKT residual is
    /// accepted as it is (a watchdog, as in SQP codes).
    fn watchdog(&self, z: &[f64]) -> Option<Trial> {
        let (dx, dl) = z.split_at(self.x.len());
        let xt: Vec<f64> = self.x.iter().zip(dx).map(|(a, d)| a + d).collect();
        let lt: Vec<f64> = self.lambda.iter().zip(dl).map(|(a, d)| a + d).collect();
        let et = evaluate(self.p, &xt, &lt);
        let kt = (norm2(&et.gl) + norm2(&et.c)).sqrt();
        (kt <= 0.5 * self.kkt_norm && et.f.is_finite()).then_some((xt, lt, et))
    }

    /// Matrix-free: projected CG with `B v = H v + τ v`; leaves `H Δx` in `hdx`.
    fn solve_projected(
        &mut self,
        hess: &Hessian<'_>,
        tau: f64,
        theta: f64,
        z: &mut [f64],
        pool: &rayon::ThreadPool,
    ) -> Inner {
        let n = self.x.len();
        let Some((_, proj)) = self.proj_cache.as_mut() else {
            return Inner::Failed("no null-space projector".into());
        };
        let mut apply_b = |v: &[f64], out: &mut [f64]| {
            match (&hess.op, &hess.mat) {
                (Some(op), _) => op.apply(v, out),
                (None, Some(h)) => spmv(h, v, out),
                (None, None) => out.fill(0.0),
            }
            for (o, vi) in out.iter_mut().zip(v) {
                *o += tau * vi;
            }
        };
        let target = inner_target(theta * self.delta * self.kkt_norm, self.s.tol);
        let (e, hdx, work) = (&self.e, &mut self.hdx, &mut self.cg_work);
        let r = pool.install(|| {
            pcg::projected_cg(
                &mut apply_b,
                proj,
                &e.gl,
                &e.c,
                target,
                self.s.max_inner,
                self.s.xi_b,
                z,
                hdx,
                work,
            )
        });
        self.inner_total += r.steps;
        if r.negative_curvature && tau < 1e12 {
            return Inner::Shift;
        }
        // hdx = B Δx; keep H Δx.
        for (hv, dxv) in self.hdx.iter_mut().zip(&z[..n]) {
            *hv -= tau * dxv;
        }
        Inner::Solved { missed: false }
    }

    /// The assembled KKT matrix `[[H + τI, Gᵀ], [G, 0]]`, solved directly (sparse LU) or by
    /// sketch-and-project (warm-started from earlier steps on the first attempt, from the last
    /// solution after a penalty update or a shift); leaves `H Δx` in `hdx`.
    #[allow(clippy::too_many_arguments)]
    fn solve_assembled(
        &mut self,
        hess: &Hessian<'_>,
        tau: f64,
        theta: f64,
        rhs: &[f64],
        first_attempt: bool,
        z: &mut Vec<f64>,
        pool: &rayon::ThreadPool,
    ) -> Inner {
        let (n, m) = (self.x.len(), self.lambda.len());
        let Some(h) = hess.mat.as_ref() else {
            return Inner::Failed("no Hessian matrix".into());
        };
        let mut t = Vec::with_capacity(h.nnz() + 2 * self.e.jac.nnz() + n);
        for (v, (i, j)) in h.iter() {
            t.push((i, j, *v));
        }
        for i in 0..n {
            t.push((i, i, tau));
        }
        for (v, (i, j)) in self.e.jac.iter() {
            t.push((n + i, j, *v));
            t.push((j, n + i, *v));
        }
        let k = Csr::from_triplets(n + m, &t);
        // Shifts for a stalled sketch stop at ten times the Hessian's scale: beyond it the
        // system only gets worse conditioned again (τI against the Jacobian).
        let shift_cap = 10.0
            * h.iter()
                .filter(|(_, (i, j))| i == j)
                .fold(1.0f64, |a, (v, _)| a.max(v.abs()));
        let mut missed = false;
        match self.method {
            KktMethod::Direct => match pool.install(|| kkt::direct_solve(&k, rhs)) {
                Ok(sol) => *z = sol,
                // Singular KKT matrix (e.g. a zero Hessian at the start): regularise the
                // Hessian block; a singular Jacobian stays singular and ends the run.
                Err(_) if tau < 1e12 => return Inner::Shift,
                Err(msg) => return Inner::Failed(msg),
            },
            method => {
                let target = inner_target(theta * self.delta * self.kkt_norm, self.s.tol);
                if first_attempt {
                    kkt::recycled_start(&k, rhs, &self.prev_steps, z);
                }
                let (s, rng) = (self.s, &mut self.rng);
                let r = pool.install(|| {
                    kkt::sketch_solve(&k, rhs, z, method, s.block_size, target, s.max_inner, rng)
                });
                self.inner_total += r.steps;
                missed = r.residual > target;
                if r.residual > 0.5 * self.kkt_norm && tau < shift_cap {
                    // Not even one halving of the residual: the KKT matrix is too
                    // ill-conditioned for the sketch (a nearly singular reduced Hessian).
                    return Inner::Shift;
                }
            }
        }
        spmv(h, &z[..n], &mut self.hdx);
        Inner::Solved { missed }
    }

    /// Armijo backtracking on the merit (with a rounding slack: near a solution the predicted
    /// decrease is below the precision of the merit value itself), then the move.
    fn line_search(&mut self, d: Direction) -> Result<(), Status> {
        let n = self.x.len();
        let m0 = merit(&self.e, &self.lambda, self.mu, self.nu);
        let slack = 100.0 * f64::EPSILON * m0.abs().max(1.0);
        let mut alpha = 1.0;
        let (dx, dl) = d.z.split_at(n);
        let mut accepted = d.full_step;
        for _ in 0..if accepted.is_some() { 0 } else { 40 } {
            let xt: Vec<f64> = self.x.iter().zip(dx).map(|(a, d)| a + alpha * d).collect();
            let lt: Vec<f64> = self
                .lambda
                .iter()
                .zip(dl)
                .map(|(a, d)| a + alpha * d)
                .collect();
            let et = evaluate(self.p, &xt, &lt);
            let mt = merit(&et, &lt, self.mu, self.nu);
            if mt.is_finite() && mt <= m0 + alpha * self.s.armijo * d.slope.min(0.0) + slack {
                accepted = Some((xt, lt, et));
                break;
            }
            alpha *= 0.5;
        }
        let Some((xt, lt, et)) = accepted else {
            return Err(Status::Stalled);
        };
        if alpha < 0.1 {
            // The line search cut the step by more than 10: the quadratic model was far off
            // (typically a nearly singular Hessian and a huge step). Damp the next steps as
            // Levenberg–Marquardt would, with a shift scaled by the cut.
            self.damping = (d.tau.max(1e-4) / alpha).min(1e8);
        }
        if self.prev_steps.len() == 2 {
            self.prev_steps.remove(0);
        }
        self.prev_steps.push(d.z);
        self.x = xt;
        self.lambda = lt;
        self.e = et;
        self.kkt_norm = (norm2(&self.e.gl) + norm2(&self.e.c)).sqrt();
        Ok(())
    }
}
