//! Equality-constrained NLP `min f(x) s.t. c(x) = 0` by inexact Newton–KKT steps globalised
//! with the **exact augmented Lagrangian** merit, the KKT systems solved by randomized
//! sketch-and-project or a sparse direct LU (Hong, Na, Mahoney, Kolar, "Constrained
//! optimization via exact augmented Lagrangian and randomized iterative sketching", ICML 2023).
//!
//! Iteration `k` at `(x, λ)`, with `∇L = (∇ₓL, c)`, `∇ₓL = ∇f + Gᵀλ`, `H = ∇²ₓL`:
//!
//! 1. **Newton–KKT system** `[[B, Gᵀ], [G, 0]] (Δx, Δλ) = −∇L` with `B = H + τI`, solved by
//!    [`kkt::sketch_solve`] until `‖r‖ ≤ θ_k δ ‖∇L‖` (adaptive accuracy; `θ_k = min(1, ‖∇L‖)`
//!    for the superlinear variant, never below `tol/10`), by [`pcg::projected_cg`]
//!    (matrix-free, for problems with a Hessian operator) or by [`kkt::direct_solve`]. The
//!    sketches start from the least-residual combination of the last two Newton steps
//!    ([`kkt::recycled_start`]); a sketch that misses the superlinear target falls back to
//!    `θ_k = 1` for that iteration.
//! 2. **Hessian modification**: if the step has curvature `Δxᵀ B Δx < ξ_B ‖Δx‖²`, the
//!    reduced Hessian is not positive definite along it: `τ ← max(10⁻⁴, 10 τ)` and the
//!    system is solved again (an inertia-free test, as in Curtis, Nocedal & Wächter 2009; the
//!    paper shifts by `ξ_B + ‖H‖` at once, which turns Newton into a gradient method on
//!    problems with degenerate minima). A singular KKT matrix, negative curvature met by CG,
//!    or a sketch that cannot halve its residual (a nearly singular reduced Hessian) get the
//!    same shift. After a line search that cut the step below `α = 0.1`, the next
//!    iterations start from a Levenberg–Marquardt damping `τ/α`, divided by 3 per iteration.
//! 3. **Merit** `L_{μ,ν}(x, λ) = f + λᵀc + (μ/2)‖c‖² + (ν/2)‖∇ₓL‖²`, with gradient
//!    `(∇ₓL + ν H ∇ₓL + μ Gᵀc, c + ν G ∇ₓL)` (the Lagrangian Hessian, not `∇²f`; the term
//!    `(H∇ₓL)ᵀΔx` is computed as `∇ₓLᵀ(HΔx)`, so no extra Hessian product).
//!    **Descent test** `∇L_{μ,ν}ᵀ z ≤ −(ν/2)‖∇L‖²`; if it fails, a full step that halves
//!    `‖∇L‖` is taken as it is (a watchdog for failures caused by rounding near a
//!    solution), else `μ ← ϑ²μ`, `ν ← ν/ϑ`, `δ ← δ/ϑ⁴` and the system is solved again.
//! 4. **Armijo backtracking** on `L_{μ,ν}` from `α = 1` (halving, `β = 0.1`), with a slack
//!    of 100 ulps of the merit value so that steps are not rejected on rounding.
//!
//! The run stops when `‖∇L‖ ≤ tol`. Reported: KKT residual, stationarity, constraint
//! violation, multipliers, outer and inner iterations.

pub mod kkt;
pub mod pcg;

use crate::core::{
    BackendReport, Common, End, IterRecord, Observer, Report, Run, SolveError, Status, stream_rng,
};
use kkt::{Csr, KktMethod};
use mathprog_problems::binary::Sense;
use mathprog_problems::nlp::EqualityNlp;
use serde::{Deserialize, Serialize};
use sprs::CsMat;

/// Residuals of an NLP solve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NlpResiduals {
    /// `‖(∇ₓL, c)‖₂`, the stopping measure.
    pub kkt: f64,
    /// `‖∇ₓL‖₂`.
    pub stationarity: f64,
    /// `‖c‖∞`.
    pub constraint_violation: f64,
}

/// Statistics of an NLP solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NlpStats {
    /// Inner (KKT solver) iterations, all Newton steps.
    pub inner_iterations: usize,
    /// Hessian shifts (stalled sketches, negative curvature).
    pub hessian_shifts: usize,
    /// Final merit penalty `μ`.
    pub mu: f64,
    /// Final merit penalty `ν`.
    pub nu: f64,
    /// The KKT solver used (`auto` resolved).
    pub kkt_solver: KktMethod,
    /// Why the run stopped early, when it broke down.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub failure: Option<String>,
}

/// The report of an NLP solve.
pub type NlpReport = Report<NlpSolution, NlpResiduals, NlpStats>;

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct NlpSettings {
    /// Time limit, outer-iteration limit, seed (for the sketches), threads, cancellation.
    pub common: Common,
    /// Stop when `‖(∇ₓL, c)‖ ≤ tol`.
    pub tol: f64,
    /// KKT solver.
    pub kkt: KktMethod,
    /// Rows per step of [`KktMethod::Block`].
    pub block_size: usize,
    /// Initial merit penalties `μ₀`, `ν₀` and inner accuracy `δ₀`.
    pub mu0: f64,
    /// See `mu0`.
    pub nu0: f64,
    /// See `mu0`.
    pub delta0: f64,
    /// Curvature threshold `ξ_B` of the Hessian modification (relative to `‖Δx‖²`).
    pub xi_b: f64,
    /// Armijo constant `β`.
    pub armijo: f64,
    /// Penalty factor `ϑ > 1`.
    pub vartheta: f64,
    /// `θ_k = min(1, ‖∇L_k‖)` (superlinear local rate) instead of `θ_k = 1` (linear).
    pub superlinear: bool,
    /// Sketch-and-project steps per KKT solve at most.
    pub max_inner: usize,
}

impl Default for NlpSettings {
    fn default() -> Self {
        NlpSettings {
            common: Common::default(),
            tol: 1e-8,
            kkt: KktMethod::Auto,
            block_size: 32,
            mu0: 1.0,
            nu0: 0.1,
            delta0: 0.1,
            xi_b: 1e-8,
            armijo: 0.1,
            vartheta: 1.5,
            superlinear: true,
            max_inner: 100_000,
        }
    }
}

/// Primal-dual solution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NlpSolution {
    /// The point `x`.
    pub x: Vec<f64>,
    /// The multipliers `λ` (`∇f + Gᵀλ = 0` at a KKT point).
    pub lambda: Vec<f64>,
}

/// Values at a point.
struct Eval {
    f: f64,
    c: Vec<f64>,
    /// `∇ₓL = ∇f + Gᵀλ`.
    gl: Vec<f64>,
    jac: CsMat<f64>,
}

fn evaluate(p: &dyn EqualityNlp, x: &[f64], lambda: &[f64]) -> Eval {
    let (n, m) = (p.num_vars(), p.num_constraints());
    let mut gl = vec![0.0; n];
    p.gradient(x, &mut gl);
    let mut c = vec![0.0; m];
    p.constraints(x, &mut c);
    let jac = p.jacobian(x);
    for (v, (i, j)) in jac.iter() {
        gl[j] += lambda[i] * v;
    }
    Eval {
        f: p.objective(x),
        c,
        gl,
        jac,
    }
}

fn norm2(v: &[f64]) -> f64 {
    v.iter().map(|x| x * x).sum::<f64>()
}

/// `out = M v` for a CSR matrix.
fn spmv(mat: &CsMat<f64>, v: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (val, (i, j)) in mat.iter() {
        out[i] += val * v[j];
    }
}

/// `out = Mᵀ v`.
fn spmv_t(mat: &CsMat<f64>, v: &[f64], out: &mut [f64]) {
    out.fill(0.0);
    for (val, (i, j)) in mat.iter() {
        out[j] += val * v[i];
    }
}

/// The exact augmented Lagrangian `f + λᵀc + (μ/2)‖c‖² + (ν/2)‖∇ₓL‖²` of an evaluation.
fn merit(e: &Eval, lambda: &[f64], mu: f64, nu: f64) -> f64 {
    e.f + lambda.iter().zip(&e.c).map(|(l, c)| l * c).sum::<f64>()
        + 0.5 * mu * norm2(&e.c)
        + 0.5 * nu * norm2(&e.gl)
}

/// The inner accuracy: the adaptive target, but never below `tol/10` (a linear residual below
/// that is not needed to reach `‖∇L‖ ≤ tol`).
fn inner_target(adaptive: f64, tol: f64) -> f64 {
    adaptive.max(0.1 * tol)
}

/// Solve `p` (see the module documentation).
pub fn solve(
    p: &dyn EqualityNlp,
    s: &NlpSettings,
    observer: &mut dyn Observer,
) -> Result<NlpReport, SolveError> {
    s.common.validate()?;
    if !(s.tol > 0.0 && s.vartheta > 1.0 && s.mu0 > 0.0 && s.nu0 > 0.0 && s.delta0 > 0.0) {
        return Err(SolveError::InvalidInput(
            "tol, mu0, nu0, delta0 must be positive and vartheta above 1".into(),
        ));
    }
    let (n, m) = (p.num_vars(), p.num_constraints());
    let mut x = p.x0();
    if x.len() != n {
        return Err(SolveError::DimensionMismatch {
            what: "x0".into(),
            expected: n,
            found: x.len(),
        });
    }
    if x.iter().any(|v| !v.is_finite()) {
        return Err(SolveError::InvalidInput("x0 is not finite".into()));
    }
    let pool = s.common.thread_pool()?;
    let mut run = Run::start(
        &s.common,
        observer,
        "exact-al-sketch",
        p.name(),
        Sense::Minimize,
        n,
    );
    let t0 = run.t0();
    let mut rng = stream_rng(s.common.seed, 0x41C, 0);
    let mut lambda = vec![0.0; m];
    let (mut mu, mut nu, mut delta) = (s.mu0, s.nu0, s.delta0);
    let (mut outer, mut inner_total, mut shifts) = (0u64, 0usize, 0usize);
    let mut e = evaluate(p, &x, &lambda);
    let method = match s.kkt {
        KktMethod::Auto => {
            if p.hessian_operator(&x, &lambda).is_some() {
                KktMethod::Cg
            } else {
                KktMethod::Direct
            }
        }
        k => k,
    };
    let mut failure: Option<String> = None;
    let mut damping = 0.0f64;
    // The last Newton steps, recycled as warm starts of the sketch solvers.
    let mut prev_steps: Vec<Vec<f64>> = Vec::new();
    let mut proj_cache: Option<(CsMat<f64>, pcg::NullSpaceProjector)> = None;
    let mut hdx = vec![0.0; n];
    let mut cg_work = [vec![0.0; n], vec![0.0; n], vec![0.0; n], vec![0.0; n]];
    let mut ggl = vec![0.0; m];
    let mut gtc = vec![0.0; n];
    let mut kkt_norm = (norm2(&e.gl) + norm2(&e.c)).sqrt();
    let status = loop {
        if !(kkt_norm.is_finite() && e.f.is_finite()) {
            break Status::NumericalError;
        }
        let ctl = run.report(&IterRecord {
            iteration: outer,
            elapsed: t0.elapsed().as_secs_f64(),
            best: e.f,
            current: e.f,
            bound: None,
            residual: Some(kkt_norm),
            improved: true,
            extra: &[
                ("kkt", kkt_norm),
                ("infeasibility", norm2(&e.c).sqrt()),
                ("mu", mu),
                ("nu", nu),
            ],
        });
        if kkt_norm <= s.tol {
            break Status::Converged;
        }
        if let Some(st) = run.budget(ctl, outer) {
            break st;
        }
        // The Hessian: an operator for projected CG when the problem offers one, else the
        // sparse matrix.
        let op = if method == KktMethod::Cg {
            p.hessian_operator(&x, &lambda)
        } else {
            None
        };
        let h = if op.is_none() {
            Some(p.hessian(&x, &lambda))
        } else {
            None
        };
        spmv(&e.jac, &e.gl, &mut ggl);
        spmv_t(&e.jac, &e.c, &mut gtc);
        let rhs: Vec<f64> = e.gl.iter().chain(&e.c).map(|v| -v).collect();
        let theta = if s.superlinear {
            kkt_norm.min(1.0)
        } else {
            1.0
        };
        // The null-space projector of projected CG, kept while the Jacobian does not change
        // (linear constraints): its Gram factorisation is the costly part.
        if method == KktMethod::Cg {
            let same = proj_cache.as_ref().is_some_and(|(g, _)| {
                g.indptr().raw_storage() == e.jac.indptr().raw_storage()
                    && g.indices() == e.jac.indices()
                    && g.data() == e.jac.data()
            });
            if !same {
                match pcg::NullSpaceProjector::new(&e.jac) {
                    Ok(pr) => proj_cache = Some((e.jac.clone(), pr)),
                    Err(msg) => {
                        failure = Some(msg);
                        break Status::NumericalError;
                    }
                }
            }
        }
        let mut projector = proj_cache.as_mut().map(|(_, pr)| pr);
        // Start from the Levenberg–Marquardt damping left by earlier short steps (see the
        // line search below), decaying by 3 per iteration.
        damping = if damping > 1e-12 { damping / 3.0 } else { 0.0 };
        let mut tau = damping;
        let mut z = vec![0.0; n + m];
        let mut failed = None;
        let (mut first_attempt, mut relaxed) = (true, false);
        let (mut tried_full_step, mut full_step) = (false, None);
        let slope = loop {
            let mut inner_missed = false;
            if let Some(proj) = projector.as_deref_mut() {
                // Matrix-free: B v = H v + τ v.
                let mut apply_b = |v: &[f64], out: &mut [f64]| {
                    match (&op, &h) {
                        (Some(op), _) => op.apply(v, out),
                        (None, Some(h)) => spmv(h, v, out),
                        (None, None) => out.fill(0.0),
                    }
                    for (o, vi) in out.iter_mut().zip(v) {
                        *o += tau * vi;
                    }
                };
                let target = inner_target(theta * delta * kkt_norm, s.tol);
                let r = pool.install(|| {
                    pcg::projected_cg(
                        &mut apply_b,
                        proj,
                        &e.gl,
                        &e.c,
                        target,
                        s.max_inner,
                        s.xi_b,
                        &mut z,
                        &mut hdx,
                        &mut cg_work,
                    )
                });
                inner_total += r.steps;
                if r.negative_curvature && tau < 1e12 {
                    tau = (10.0 * tau).max(1e-4);
                    shifts += 1;
                    continue;
                }
                // hdx = B Δx; keep H Δx.
                for (hv, dxv) in hdx.iter_mut().zip(&z[..n]) {
                    *hv -= tau * dxv;
                }
            } else {
                let h = h.as_ref().unwrap_or_else(|| unreachable!());
                // K = [[H + τI, Gᵀ], [G, 0]].
                let mut t = Vec::with_capacity(h.nnz() + 2 * e.jac.nnz() + n);
                for (v, (i, j)) in h.iter() {
                    t.push((i, j, *v));
                }
                for i in 0..n {
                    t.push((i, i, tau));
                }
                for (v, (i, j)) in e.jac.iter() {
                    t.push((n + i, j, *v));
                    t.push((j, n + i, *v));
                }
                let k = Csr::from_triplets(n + m, &t);
                // Shifts for a stalled sketch stop at ten times the Hessian's scale: beyond it
                // the system only gets worse conditioned again (τI against the Jacobian).
                let shift_cap = 10.0
                    * h.iter()
                        .filter(|(_, (i, j))| i == j)
                        .fold(1.0f64, |a, (v, _)| a.max(v.abs()));
                match method {
                    KktMethod::Direct => match pool.install(|| kkt::direct_solve(&k, &rhs)) {
                        Ok(sol) => z = sol,
                        Err(msg) => {
                            // Singular KKT matrix (e.g. a zero Hessian at the start):
                            // regularise the Hessian block; a singular Jacobian stays singular
                            // and ends the run with a numerical-error status.
                            if tau < 1e12 {
                                tau = (10.0 * tau).max(1e-4);
                                shifts += 1;
                                continue;
                            }
                            failed = Some(msg);
                            break 0.0;
                        }
                    },
                    method => {
                        let theta = if relaxed { 1.0 } else { theta };
                        let target = inner_target(theta * delta * kkt_norm, s.tol);
                        // First attempt: recycle earlier steps; later attempts (after a
                        // penalty update or a shift) continue from the last solution, since
                        // K and the right-hand side do not depend on the penalties.
                        if first_attempt {
                            kkt::recycled_start(&k, &rhs, &prev_steps, &mut z);
                        }
                        first_attempt = false;
                        let r = pool.install(|| {
                            kkt::sketch_solve(
                                &k,
                                &rhs,
                                &mut z,
                                method,
                                s.block_size,
                                target,
                                s.max_inner,
                                &mut rng,
                            )
                        });
                        inner_total += r.steps;
                        inner_missed = r.residual > target;
                        if r.residual > 0.5 * kkt_norm && tau < shift_cap {
                            // Not even one halving of the residual: the KKT matrix is too
                            // ill-conditioned for the sketch (a nearly singular reduced
                            // Hessian); shift the Hessian.
                            tau = (10.0 * tau).max(1e-4);
                            shifts += 1;
                            continue;
                        }
                    }
                }
                spmv(h, &z[..n], &mut hdx);
            }
            let (dx, dl) = z.split_at(n);
            // Curvature along the step.
            let curv: f64 = dx.iter().zip(&hdx).map(|(a, b)| a * b).sum::<f64>() + tau * norm2(dx);
            if curv < s.xi_b * norm2(dx) && tau < 1e12 {
                tau = (10.0 * tau).max(1e-4);
                shifts += 1;
                continue;
            }
            // ∇L_{μ,ν}ᵀ z, with (H ∇ₓL)ᵀΔx = ∇ₓLᵀ(H Δx) (H symmetric): no extra product.
            let gx: f64 = (0..n)
                .map(|j| (e.gl[j] + mu * gtc[j]) * dx[j] + nu * e.gl[j] * hdx[j])
                .sum();
            let gl_: f64 = (0..m).map(|i| (e.c[i] + nu * ggl[i]) * dl[i]).sum();
            let slope = gx + gl_;
            if slope <= -0.5 * nu * kkt_norm * kkt_norm || mu > 1e8 || nu < 1e-8 {
                break slope;
            }
            if inner_missed && !relaxed {
                // Still above the superlinear target: fall back to the linear-rate accuracy
                // (θ_k = 1) for this iteration, which the current z usually meets already.
                relaxed = true;
                continue;
            }
            if !tried_full_step {
                // Near a solution the descent test can fail on rounding alone, and raising
                // the penalties then only degrades the merit's control of λ. A full step that
                // halves the KKT residual is accepted as it is (a watchdog, as in SQP codes).
                tried_full_step = true;
                let (dx, dl) = z.split_at(n);
                let xt: Vec<f64> = x.iter().zip(dx).map(|(a, d)| a + d).collect();
                let lt: Vec<f64> = lambda.iter().zip(dl).map(|(a, d)| a + d).collect();
                let et = evaluate(p, &xt, &lt);
                let kt = (norm2(&et.gl) + norm2(&et.c)).sqrt();
                if kt <= 0.5 * kkt_norm && et.f.is_finite() {
                    full_step = Some((xt, lt, et));
                    break 0.0;
                }
            }
            mu *= s.vartheta * s.vartheta;
            nu /= s.vartheta;
            // δ_k = max(1e-6, …) as in the paper: the inner accuracy is never pushed below 1e-6.
            delta = (delta / s.vartheta.powi(4)).max(1e-6);
        };
        if let Some(msg) = failed {
            failure = Some(msg);
            break Status::NumericalError;
        }
        // Armijo backtracking on the merit.
        let m0 = merit(&e, &lambda, mu, nu);
        // Rounding slack: near a solution the predicted decrease is below the precision of
        // the merit value itself, and comparing in that noise would reject every step.
        let slack = 100.0 * f64::EPSILON * m0.abs().max(1.0);
        let mut alpha = 1.0;
        let (dx, dl) = z.split_at(n);
        let mut accepted = full_step;
        for _ in 0..if accepted.is_some() { 0 } else { 40 } {
            let xt: Vec<f64> = x.iter().zip(dx).map(|(a, d)| a + alpha * d).collect();
            let lt: Vec<f64> = lambda.iter().zip(dl).map(|(a, d)| a + alpha * d).collect();
            let et = evaluate(p, &xt, &lt);
            let mt = merit(&et, &lt, mu, nu);
            if mt.is_finite() && mt <= m0 + alpha * s.armijo * slope.min(0.0) + slack {
                accepted = Some((xt, lt, et));
                break;
            }
            alpha *= 0.5;
        }
        outer += 1;
        match accepted {
            Some((xt, lt, et)) => {
                if alpha < 0.1 {
                    // The line search cut the step by more than 10: the quadratic model was
                    // far off (typically a nearly singular Hessian and a huge step). Damp the
                    // next steps as Levenberg–Marquardt would, with a shift scaled by the cut;
                    // it decays by 3 per iteration once full steps are accepted.
                    damping = (tau.max(1e-4) / alpha).min(1e8);
                }
                if prev_steps.len() == 2 {
                    prev_steps.remove(0);
                }
                prev_steps.push(z.clone());
                x = xt;
                lambda = lt;
                e = et;
                kkt_norm = (norm2(&e.gl) + norm2(&e.c)).sqrt();
            }
            None => break Status::Stalled,
        }
    };
    let residuals = NlpResiduals {
        kkt: kkt_norm,
        stationarity: norm2(&e.gl).sqrt(),
        constraint_violation: e.c.iter().fold(0.0f64, |a, v| a.max(v.abs())),
    };
    let stats = NlpStats {
        inner_iterations: inner_total,
        hessian_shifts: shifts,
        mu,
        nu,
        kkt_solver: method,
        failure,
    };
    let objective = e.f;
    Ok(run.finish(
        End::new(
            status,
            NlpSolution { x, lambda },
            objective,
            residuals,
            stats,
        )
        .iterations(outer)
        .backend(BackendReport::cpu_only(s.common.backend, "exact-al-sketch")),
    ))
}
