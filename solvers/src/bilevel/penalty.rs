//! The deterministic double-loop penalty method (see [`super`]).
//!
//! Outer iteration `k`:
//! 1. `z ← argmin_{z ∈ Y} g(x_k, z)` and `y ← argmin_{y ∈ Y} σf(x_k, y) + g(x_k, y)`
//!    (scaled as `f + g/σ`), both by accelerated projected gradient with gradient restarts
//!    (O'Donoghue & Candès 2015), warm-started from the previous outer iteration, until the
//!    gradient mapping is below `σ·ε_k` for `z` (its error is amplified by `1/σ` in `∇ψ_σ`)
//!    and `ε_k` for `y`, with `ε_k = 0.1·max(tol, 0.1·min(r_{k−1}, 1))` and `r` the
//!    stationarity (a stop is accepted only when `ε_k` also fits `r_k`; else the inner
//!    solves are redone at the same `x`);
//! 2. `d_k = ∇ₓf(x_k, y) + (∇ₓg(x_k, y) − ∇ₓg(x_k, z))/σ`;
//! 3. stationarity `r_k = ‖x_k − Π_X(x_k − d_k)‖`, stop when `r_k ≤ tol`;
//! 4. `x_{k+1} = Π_X(x_k − α_k d_k)`, `α_k` the Barzilai–Borwein length
//!    `‖Δx‖²/⟨Δx, Δd⟩` clipped to `[10⁻⁶α₀, 10⁶α₀]` (`α₀ = step0` or `σ/L_g`), kept at the
//!    previous value when the curvature is not positive.
//!
//! Reported: `x`, `y_σ`, `z*`, `f(x, y_σ)` as objective, and the certificates
//! `residuals.stationarity = r` and `residuals.ll_gap = g(x, y_σ) − g(x, z*) ≥ 0`
//! (how far `y_σ` is from lower-level optimality, `O(σ)`).

use crate::core::{
    BackendReport, Budget, Common, IterRecord, Observer, Report, Run, SolveError, Status,
};
use mathprog_problems::Sense;
use mathprog_problems::bilevel::Bilevel;
use serde::{Deserialize, Serialize};

/// Which bilevel method [`super::solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BilevelMethod {
    /// The value-function penalty, deterministic double loop.
    #[default]
    Penalty,
    /// Approximate implicit differentiation (CG on Hessian-vector products; `sigma` unused).
    Aid,
    /// The stochastic single-loop penalty method with STORM estimators and minibatches of
    /// `batch` samples.
    Stochastic {
        /// Minibatch size.
        batch: usize,
    },
}

/// Certificates of a bilevel solution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BilevelResiduals {
    /// `‖x − Π_X(x − ∇ψ_σ(x))‖`.
    pub stationarity: f64,
    /// `g(x, y_σ) − g(x, z*) ≥ 0`.
    pub ll_gap: f64,
    /// Deprecated: the penalty parameter, which is not a residual; read `stats.sigma`. Printed
    /// for the scripts written against earlier reports.
    #[serde(rename = "sigma", skip_deserializing)]
    pub deprecated_sigma: f64,
}

/// Statistics of a bilevel solve; the method-specific counters are `None` (absent from the
/// JSON) for the other methods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BilevelStats {
    /// Outer iterations.
    pub outer_iterations: u64,
    /// The final penalty parameter σ.
    pub sigma: f64,
    /// The last upper-level step.
    pub step: f64,
    /// Gradients of f (penalty, AID).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grad_f_calls: Option<usize>,
    /// Gradients of g (penalty, AID).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub grad_g_calls: Option<usize>,
    /// Hessian-vector products of g (AID; 0 for the penalty method).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub hessian_products: Option<usize>,
    /// σ continuation stages (penalty, AID).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sigma_stages: Option<u64>,
    /// Samples drawn (stochastic).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub samples: Option<usize>,
    /// Full (exact) evaluations for the checks (stochastic).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub full_evaluations: Option<usize>,
    /// The power of two `c` by which [`super::solve`] divided `f` and `g` for badly scaled
    /// data (absent when 1); the report is in the original units, the tolerance applied to
    /// `f/c`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub objective_scale: Option<f64>,
}

impl BilevelStats {
    /// Counters of a run with every method-specific one absent.
    pub(crate) fn base(outer_iterations: u64, sigma: f64, step: f64) -> Self {
        BilevelStats {
            outer_iterations,
            sigma,
            step,
            grad_f_calls: None,
            grad_g_calls: None,
            hessian_products: None,
            sigma_stages: None,
            samples: None,
            full_evaluations: None,
            objective_scale: None,
        }
    }
}

/// The report of a bilevel solve.
pub type BilevelReport = Report<BilevelSolution, BilevelResiduals, BilevelStats>;

/// Settings of [`super::solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BilevelSettings {
    /// Time limit, outer-iteration limit, seed, threads, cancellation.
    pub common: Common,
    /// Penalty parameter `σ > 0`: the answer is `O(σ)` from the bilevel solution.
    pub sigma: f64,
    /// Stop when the stationarity `‖x − Π_X(x − ∇ψ_σ(x))‖ ≤ tol`.
    pub tol: f64,
    /// Cap on the gradient steps of one inner solve.
    pub max_inner: usize,
    /// First outer step (default `σ/L_g`, a safe scale of `1/L_ψ`).
    pub step0: Option<f64>,
    /// σ continuation for the double loop: start at this `σ₀ > σ` and divide by 10 (down to
    /// `σ`) each time the stationarity at the current value reaches `tol`, warm-starting
    /// `x`, `y` and `z`; `None`: constant σ.
    pub sigma0: Option<f64>,
    /// The method.
    pub method: BilevelMethod,
}

impl Default for BilevelSettings {
    fn default() -> Self {
        BilevelSettings {
            common: Common::default(),
            sigma: 1e-3,
            tol: 1e-6,
            max_inner: 20_000,
            step0: None,
            sigma0: None,
            method: BilevelMethod::Penalty,
        }
    }
}

impl BilevelSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        let ok =
            self.sigma > 0.0 && self.sigma.is_finite() && self.tol >= 0.0 && self.max_inner >= 1;
        let bad_sigma0 = self
            .sigma0
            .is_some_and(|s0| !(s0.is_finite() && s0 >= self.sigma));
        let bad_batch = matches!(self.method, BilevelMethod::Stochastic { batch: 0 });
        if !ok || bad_sigma0 || bad_batch || self.step0.is_some_and(|a| !(a > 0.0 && a.is_finite()))
        {
            return Err(SolveError::InvalidInput(
                "sigma > 0, sigma0 >= sigma, tol >= 0, max_inner >= 1, batch >= 1 and step0 > 0 \
                 needed"
                    .into(),
            ));
        }
        Ok(())
    }
}

/// The upper-level point with its lower-level companions.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BilevelSolution {
    /// Upper-level variable.
    pub x: Vec<f64>,
    /// Penalised lower-level point `y_σ ∈ argmin_y σf(x, y) + g(x, y)`.
    pub y: Vec<f64>,
    /// Lower-level minimiser `z* ∈ argmin_z g(x, z)`.
    pub z: Vec<f64>,
}

/// Accelerated projected gradient on `y ↦ h(y)` with `grad(y, out) = ∇h(y)` and step `1/l`,
/// from `y` (updated in place), until `l·‖y − Π(y − ∇h/l)‖ ≤ tol` or `max` steps. Returns the
/// number of gradient evaluations. `w` is scratch (4 vectors of `y`'s length). Stops early
/// (with the last iterate) when `budget` is spent.
#[allow(clippy::too_many_arguments)]
pub(crate) fn apg(
    y: &mut [f64],
    l: f64,
    tol: f64,
    max: usize,
    project: &dyn Fn(&mut [f64]),
    grad: &mut dyn FnMut(&[f64], &mut [f64]),
    w: &mut [Vec<f64>; 4],
    budget: &Budget<'_>,
) -> usize {
    let [v, g, prev, trial] = w;
    let n = y.len();
    v.copy_from_slice(y);
    prev.copy_from_slice(y);
    let mut t = 1.0f64;
    let mut evals = 0;
    for _ in 0..max {
        if budget.spent() {
            break;
        }
        // Gradient at the extrapolated point v, projected step to `trial`.
        grad(v, g);
        evals += 1;
        for i in 0..n {
            trial[i] = v[i] - g[i] / l;
        }
        project(trial);
        // Gradient mapping at v: l(v − trial).
        let gm = l
            * (0..n)
                .map(|i| (v[i] - trial[i]) * (v[i] - trial[i]))
                .sum::<f64>()
                .sqrt();
        // Restart when the step goes against the last move.
        let against: f64 = (0..n).map(|i| g[i] * (trial[i] - prev[i])).sum();
        prev.copy_from_slice(y);
        y.copy_from_slice(trial);
        if gm <= tol {
            break;
        }
        let t_next = if against > 0.0 {
            1.0
        } else {
            0.5 * (1.0 + (1.0 + 4.0 * t * t).sqrt())
        };
        let beta = if against > 0.0 {
            0.0
        } else {
            (t - 1.0) / t_next
        };
        t = t_next;
        for i in 0..n {
            v[i] = y[i] + beta * (y[i] - prev[i]);
        }
        project(v);
    }
    evals
}

/// A hypergradient oracle for the outer loop: `eval` fills `d` with an estimate of the
/// hyper-objective's gradient at `x`, with inner solves to accuracy `eps`; it keeps its
/// lower-level iterates between calls (warm starts).
pub(crate) trait Hypergradient {
    /// `d ≈ ∇ψ(x)`; `false` if the problem lacks an oracle the method needs.
    fn eval(&mut self, x: &[f64], eps: f64, d: &mut [f64]) -> bool;
    /// The lower-level point reported with `x` (`y_σ`, or `y*` for AID) and a second point
    /// (`z*`, or `y*` again).
    fn points(&self) -> (&[f64], &[f64]);
    /// `(∇f calls, ∇g calls, Hessian-vector products)` so far.
    fn calls(&self) -> (usize, usize, usize);
    /// Change the penalty parameter (continuation); methods without one ignore it.
    fn set_sigma(&mut self, _sigma: f64) {}
}

/// The penalty hypergradient `∇ₓf(x, y_σ) + (∇ₓg(x, y_σ) − ∇ₓg(x, z*))/σ`.
struct PenaltyGrad<'a> {
    prob: &'a dyn Bilevel,
    sigma: f64,
    max_inner: usize,
    y: Vec<f64>,
    z: Vec<f64>,
    w: [Vec<f64>; 4],
    gx: [Vec<f64>; 3],
    fy: Vec<f64>,
    gyy: Vec<f64>,
    f_calls: usize,
    g_calls: usize,
    budget: Budget<'a>,
}

impl Hypergradient for PenaltyGrad<'_> {
    fn eval(&mut self, x: &[f64], eps: f64, d: &mut [f64]) -> bool {
        let prob = self.prob;
        let sigma = self.sigma;
        let (lf, lg) = prob.smoothness_y(x);
        let project_y = |v: &mut [f64]| prob.project_y(v);
        let [gx1, gx2, scratch] = &mut self.gx;
        self.g_calls += apg(
            &mut self.z,
            lg.max(1e-12),
            sigma * eps,
            self.max_inner,
            &project_y,
            &mut |v, out| prob.grad_g(x, v, scratch, out),
            &mut self.w,
            &self.budget,
        );
        let fy = &mut self.fy;
        let n = apg(
            &mut self.y,
            (lf + lg / sigma).max(1e-12),
            eps,
            self.max_inner,
            &project_y,
            &mut |v, out| {
                prob.grad_f(x, v, scratch, fy);
                prob.grad_g(x, v, scratch, out);
                for (o, a) in out.iter_mut().zip(fy.iter()) {
                    *o = a + *o / sigma;
                }
            },
            &mut self.w,
            &self.budget,
        );
        self.f_calls += n + 1;
        self.g_calls += n + 2;
        prob.grad_f(x, &self.y, d, &mut self.gyy);
        prob.grad_g(x, &self.y, gx1, &mut self.gyy);
        prob.grad_g(x, &self.z, gx2, &mut self.gyy);
        for i in 0..d.len() {
            d[i] += (gx1[i] - gx2[i]) / sigma;
        }
        true
    }
    fn points(&self) -> (&[f64], &[f64]) {
        (&self.y, &self.z)
    }
    fn calls(&self) -> (usize, usize, usize) {
        (self.f_calls, self.g_calls, 0)
    }
    fn set_sigma(&mut self, sigma: f64) {
        self.sigma = sigma;
    }
}

/// Solve a bilevel problem by the penalty method (see the module documentation).
pub(crate) fn solve_penalty(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    let (p, q) = (prob.dim_x(), prob.dim_y());
    let mut h = PenaltyGrad {
        prob,
        sigma: s.sigma,
        max_inner: s.max_inner,
        y: vec![0.0; q],
        z: vec![0.0; q],
        w: std::array::from_fn(|_| vec![0.0; q]),
        gx: std::array::from_fn(|_| vec![0.0; p]),
        fy: vec![0.0; q],
        gyy: vec![0.0; q],
        budget: Budget {
            deadline: s.common.deadline(std::time::Instant::now()),
            stop: Some(&s.common.stop),
        },
        f_calls: 0,
        g_calls: 0,
    };
    prob.project_y(&mut h.y);
    prob.project_y(&mut h.z);
    outer(prob, s, observer, "bilevel-penalty", &mut h)
}

/// The outer projected-gradient loop shared by the penalty method and AID (see the module
/// documentation of [`self`]).
pub(crate) fn outer(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
    algorithm: &'static str,
    h: &mut dyn Hypergradient,
) -> Result<BilevelReport, SolveError> {
    s.validate()?;
    let (p, q) = (prob.dim_x(), prob.dim_y());
    let mut sigma = s.sigma0.unwrap_or(s.sigma);
    h.set_sigma(sigma);
    let mut stages = 1u64;
    let mut run = Run::start(
        &s.common,
        observer,
        algorithm,
        prob.name(),
        Sense::Minimize,
        p + q,
    );
    let mut x = projected_start(prob, p)?;
    let (mut d, mut d_prev, mut x_prev, mut trial) =
        (vec![0.0; p], vec![0.0; p], vec![0.0; p], vec![0.0; p]);
    let (_, lg0) = prob.smoothness_y(&x);
    let step0 = |sigma: f64| s.step0.unwrap_or(sigma / lg0.max(1e-12)).max(1e-300);
    let mut alpha0 = step0(sigma);
    let mut alpha = alpha0;
    let mut stat = f64::INFINITY;
    let mut iters = 0u64;
    let mut iters_stage = 0u64;
    let status = loop {
        let eps = 0.1 * s.tol.max(0.1 * stat.min(1.0));
        if !h.eval(&x, eps, &mut d) {
            return Err(SolveError::InvalidInput(format!(
                "{algorithm} needs Hessian-vector products of g, which {} does not provide",
                prob.name()
            )));
        }
        for i in 0..p {
            trial[i] = x[i] - d[i];
        }
        prob.project_x(&mut trial);
        stat = (0..p)
            .map(|i| (x[i] - trial[i]) * (x[i] - trial[i]))
            .sum::<f64>()
            .sqrt();
        iters += 1;
        let fval = prob.f(&x, h.points().0);
        let ctl = run.report(&IterRecord {
            iteration: iters,
            elapsed: run.elapsed(),
            best: fval,
            current: fval,
            bound: None,
            residual: Some(stat),
            improved: true,
            extra: &[("stationarity", stat)],
        });
        if !stat.is_finite() || !fval.is_finite() {
            break Status::NumericalError;
        }
        let stop = run.budget(ctl, iters);
        if stat <= s.tol {
            // Trust the test only if the inner solves were as accurate as this stationarity
            // asks for; otherwise redo them at the same x.
            if eps <= 0.1 * s.tol.max(0.1 * stat.min(1.0)) * (1.0 + 1e-12) {
                if sigma <= s.sigma {
                    break Status::Converged;
                }
                // Next continuation stage: warm start, fresh step.
                sigma = (sigma / 10.0).max(s.sigma);
                h.set_sigma(sigma);
                stages += 1;
                alpha0 = step0(sigma);
                alpha = alpha0;
                iters_stage = 0;
                continue;
            }
            if let Some(st) = stop {
                break st;
            }
            continue;
        }
        if let Some(st) = stop {
            break st;
        }
        // Barzilai–Borwein length from the last two iterates.
        iters_stage += 1;
        if iters_stage > 1 {
            let (mut ss, mut sy) = (0.0, 0.0);
            for i in 0..p {
                let dx = x[i] - x_prev[i];
                ss += dx * dx;
                sy += dx * (d[i] - d_prev[i]);
            }
            if sy > 0.0 && ss > 0.0 {
                alpha = (ss / sy).clamp(1e-6 * alpha0, 1e6 * alpha0);
            }
        }
        x_prev.copy_from_slice(&x);
        d_prev.copy_from_slice(&d);
        for i in 0..p {
            x[i] -= alpha * d[i];
        }
        prob.project_x(&mut x);
    };
    let (y, z) = h.points();
    let (fc, gc, hc) = h.calls();
    let stats = BilevelStats {
        outer_iterations: iters,
        sigma,
        step: alpha,
        grad_f_calls: Some(fc),
        grad_g_calls: Some(gc),
        hessian_products: Some(hc),
        sigma_stages: Some(stages),
        samples: None,
        full_evaluations: None,
        objective_scale: None,
    };
    let backend = BackendReport::cpu_only(s.common.backend, algorithm);
    let end = Ending {
        status,
        stat,
        backend,
    };
    Ok(finish(prob, run, end, x, y.to_vec(), z.to_vec(), stats))
}

/// The problem's starting `x` (checked to have `p` entries), projected onto its feasible set.
pub(crate) fn projected_start(prob: &dyn Bilevel, p: usize) -> Result<Vec<f64>, SolveError> {
    let mut x = prob.start();
    if x.len() != p {
        return Err(SolveError::DimensionMismatch {
            what: "start".into(),
            expected: p,
            found: x.len(),
        });
    }
    prob.project_x(&mut x);
    Ok(x)
}

/// How a run ended, for [`finish`].
pub(crate) struct Ending {
    pub(crate) status: Status,
    pub(crate) stat: f64,
    pub(crate) backend: BackendReport,
}

/// The report of a bilevel run (shared by all methods): objective `f(x, y)`, the
/// stationarity and the lower-level gap `g(x, y) − g(x, z)` as certificates.
pub(crate) fn finish(
    prob: &dyn Bilevel,
    run: Run<'_>,
    end: Ending,
    x: Vec<f64>,
    y: Vec<f64>,
    z: Vec<f64>,
    stats: BilevelStats,
) -> BilevelReport {
    let fval = prob.f(&x, &y);
    let residuals = BilevelResiduals {
        stationarity: end.stat,
        ll_gap: prob.g(&x, &y) - prob.g(&x, &z),
        deprecated_sigma: stats.sigma,
    };
    let iterations = stats.outer_iterations;
    run.finish(
        crate::core::End::new(
            end.status,
            BilevelSolution { x, y, z },
            fval,
            residuals,
            stats,
        )
        .iterations(iterations)
        .backend(end.backend),
    )
}
