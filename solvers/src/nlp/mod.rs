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
mod newton;
pub mod pcg;

use crate::core::{
    BackendReport, Common, End, IterRecord, Observer, Report, Run, SolveError, Status,
};
use kkt::KktMethod;
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

impl NlpSettings {
    /// Check every field (tol, mu0, nu0, delta0 positive, vartheta above 1).
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if !(self.tol > 0.0
            && self.vartheta > 1.0
            && self.mu0 > 0.0
            && self.nu0 > 0.0
            && self.delta0 > 0.0)
        {
            return Err(SolveError::InvalidInput(
                "tol, mu0, nu0, delta0 must be positive and vartheta above 1".into(),
            ));
        }
        Ok(())
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
    s.validate()?;
    let n = p.num_vars();
    let x = p.x0();
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
    let mut nt = newton::Newton::new(p, s, x);
    let mut outer = 0u64;
    let mut last_step = std::time::Duration::ZERO;
    let status = loop {
        if !(nt.kkt_norm.is_finite() && nt.e.f.is_finite()) {
            break Status::NumericalError;
        }
        let ctl = run.report(&IterRecord {
            iteration: outer,
            elapsed: run.elapsed(),
            best: nt.e.f,
            current: nt.e.f,
            bound: None,
            residual: Some(nt.kkt_norm),
            improved: true,
            extra: &[
                ("kkt", nt.kkt_norm),
                ("infeasibility", norm2(&nt.e.c).sqrt()),
                ("mu", nt.mu),
                ("nu", nt.nu),
            ],
        });
        if nt.kkt_norm <= s.tol {
            break Status::Converged;
        }
        if let Some(st) = run.budget(ctl, outer) {
            break st;
        }
        // One Newton step (a sparse factorisation) cannot be interrupted: do not start one
        // that the last one says would end past the deadline.
        if let Some(d) = run.deadline()
            && std::time::Instant::now() + last_step > d
        {
            break Status::TimeLimit;
        }
        let t_step = std::time::Instant::now();
        let step = nt.iterate(&pool);
        last_step = t_step.elapsed();
        // A direction that failed ends the run before counting an iteration.
        if let Err(Status::NumericalError) = step {
            break Status::NumericalError;
        }
        outer += 1;
        if let Err(st) = step {
            break st;
        }
    };
    let e = &nt.e;
    let kkt_norm = nt.kkt_norm;
    let (inner_total, shifts, mu, nu, method) =
        (nt.inner_total, nt.shifts, nt.mu, nt.nu, nt.method);
    let failure = nt.failure.take();
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
    let (x, lambda) = (nt.x, nt.lambda);
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
