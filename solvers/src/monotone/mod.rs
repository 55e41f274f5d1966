//! Finite-sum monotone inclusions `0 ∈ F(u) + N_C(u)` (matrix games, min-max problems) by
//! **Halpern-type iterations**, with variance reduction, adaptive steps and adaptive restarts.
//!
//! Methods ([`Method`]), all projected onto `C` and stopped on the residual
//! `Res(u) = ‖u − Π_C(u − F(u))‖` (and, for games, on the duality gap):
//!
//! * **VR-Halpern** (Cai, Alacaoglu & Diakonikolas, ICLR 2024, Alg. 1):
//!   `u_{k+1} = Π_C(λ_k u₀ + (1 − λ_k) u_k − η F̃_k)`, `λ_k = 2/(k + 4)`, with the PAGE
//!   estimator `F̃_k = F(u_k)` with probability `p_k` and otherwise
//!   `F̃_k = F̃_{k−1} + (1/b) Σ_{i ∈ S_k} (F_i(u_k) − F_i(u_{k−1}))`, `|S_k| = b = ⌊√n⌋`
//!   drawn without replacement, `p_k = 4/(k + 4)` for `k ≤ √n + 1` and `4/(√n + 5)` after.
//!   The paper's guarantee needs `F` **cocoercive** on average; a bilinear game is only
//!   monotone (`⟨F(u) − F(v), u − v⟩ = 0`), and there it stalls on uniform and Gaussian games
//!   in our runs (it converges on policeman–burglar, as in the authors' experiments). Step
//!   `η = step_scale·√n / L_Q` with `L_Q` the RMS component Lipschitz constant (for games
//!   `L_Q = √n‖A‖_F`, so `η = step_scale/‖A‖_F`; the authors' code uses 5/‖A‖_F).
//! * **Inexact VR-Halpern** (Alg. 2), for `F` monotone and Lipschitz on average:
//!   `u_{k+1} = λ_k u₀ + (1 − λ_k) ũ_k`, `λ_k = 1/(k + 2)`, `ũ_k ≈ J_{η(F+N_C)}(u_k)`, the
//!   resolvent computed by `M_k = ⌈0.05·n·log(k + 2)⌉` steps of loopless **VR-FoRB**
//!   (Alacaoglu & Malitsky, COLT 2022) on the 1-strongly monotone `Φ(z) = ηF(z) + z − u_k`,
//!   warm-started at `u_k`: `z̄ = αz + (1 − α)w`,
//!   `z ← Π_C(z̄ − γ[Φ(w) + Φ_i(z) − Φ_i(w_prev)])`, snapshot `w ← z` with probability
//!   `p = 1/n`, `α = 1 − p`. Steps: `η = step_scale·√n/L_Q` (`1/‖A‖_F` for games) and
//!   `γ = 5√(p(1 − p))/(1 + ηL_Q)`, the authors' constant relative to the inner problem's
//!   RMS Lipschitz constant. (The authors' `η = √n/‖A‖_F` with the same `γ` diverged on
//!   Gaussian games here: the inner step was then √n times too long for `Φ`.)
//! * **Halpern** (anchored extragradient, EAG; Yoon & Ryu 2021), deterministic:
//!   `v = Π_C(u_k + λ_k(u₀ − u_k) − ηF(u_k))`, `u_{k+1} = Π_C(u_k + λ_k(u₀ − u_k) − ηF(v))`,
//!   `λ_k = 1/(k + 2)`.
//! * **Extragradient** (Korpelevich), the unanchored baseline.
//!
//! **Adaptive steps** (Halpern and extragradient, on by default; beyond the paper): `η`
//! starts at `step_scale/L̄` with a cheap upper bound `L̄` of the Lipschitz constant
//! (`‖A‖_F` for games), is cut to `0.9/ℓ` whenever the local estimate
//! `ℓ = ‖F(v) − F(u)‖/‖v − u‖` of the extrapolation exceeds `0.95/η` (the step is then
//! redone), and grows by 10% per iteration otherwise, capped at `0.9/ℓ`. On matrix games the
//! local constant near the solution is far below `‖A‖₂` (policeman–burglar: the step ends
//! about 250 times longer than `1/‖A‖₂`), which is where most of the speed comes from. With
//! `adaptive_step = false` the step is `step_scale/‖A‖₂` (power iteration), under which
//! extragradient's `‖F(u_k)‖` is non-increasing on unconstrained problems.
//!
//! **Adaptive restarts** (beyond the paper, as PDLP does for PDHG): the anchor `u₀` is reset
//! to the current point (and `k` to 0) whenever the residual has fallen below
//! `restart_factor` times its value at the last restart. On sharp problems such as matrix
//! games and LPs this turns the `O(1/k)` rate of Halpern's iteration into a linear one.
//!
//! Cost is counted in **epochs**: one full evaluation of `F`, or `n` component calls. The
//! deterministic methods evaluate `F` at every iterate anyway, so their residual checks are
//! free; the stochastic ones pay one epoch per check (every `check_every` epochs).
//!
//! ```
//! use mathprog_problems::monotone::affine::AffineMonotone;
//! use mathprog_solvers::core::{NoObserver, Status};
//! use mathprog_solvers::monotone::{solve, MonotoneSettings};
//!
//! // min_x max_y ½xᵀHx − hᵀx − ⟨Ax − b, y⟩ (Ouyang & Xu's instance), x* = (1, 2, …, n).
//! let op = AffineMonotone::ouyang_xu(8).unwrap();
//! let mut s = MonotoneSettings::default();
//! s.tol = 1e-8;
//! let r = solve(&op, &s, &mut NoObserver).unwrap();
//! assert_eq!(r.status, Status::Converged);
//! assert!((r.solution[7] - 8.0).abs() < 1e-3);
//! ```

pub mod game;
mod steps;

pub use game::{GameReport, GameSettings, GameSolution, GameStats, solve_game};

use crate::core::{
    BackendReport, Common, End, IterRecord, Observer, Report, Run, SolveError, Status,
};
use mathprog_problems::Sense;
use mathprog_problems::monotone::FiniteSumMonotone;
use serde::{Deserialize, Serialize};

/// Growth factor of the adaptive step per accepted iteration.
const STEP_GROWTH: f64 = 1.1;

/// The iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Method {
    /// Variance-reduced Halpern (Cai, Alacaoglu & Diakonikolas 2024, Alg. 1): needs `F`
    /// cocoercive on average for its guarantee.
    #[cfg_attr(feature = "clap", value(name = "vr-halpern"))]
    VrHalpern,
    /// Inexact Halpern with the VR-FoRB inner solver (Alg. 2 of the same paper): needs `F`
    /// monotone and Lipschitz on average.
    #[cfg_attr(feature = "clap", value(name = "vr-inexact"))]
    VrInexactHalpern,
    /// Deterministic Halpern (anchored extragradient).
    Halpern,
    /// Extragradient.
    #[cfg_attr(feature = "clap", value(name = "eg"))]
    Extragradient,
}

impl Method {
    /// The name in reports (`"halpern"`, `"vr-halpern"`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Method::VrHalpern => "vr-halpern",
            Method::VrInexactHalpern => "vr-inexact-halpern",
            Method::Halpern => "halpern",
            Method::Extragradient => "extragradient",
        }
    }
}

/// Residuals of a monotone-inclusion solve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MonotoneResiduals {
    /// The fixed-point residual `Res(u) = ‖u − Π_C(u − F(u))‖` of the returned point.
    pub residual: f64,
    /// The duality gap, for matrix games ([`solve_game`]).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gap: Option<f64>,
}

/// Statistics of a monotone-inclusion solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonotoneStats {
    /// Epochs: full operator evaluations, or `n` component evaluations.
    pub epochs: f64,
    /// Anchor restarts.
    pub restarts: u64,
    /// Iterations of the method.
    pub steps: u64,
    /// The final step `η`.
    pub step: f64,
    /// Backtracks of the adaptive step.
    pub backtracks: u64,
    /// The Lipschitz constant used (an estimate unless given).
    pub lipschitz: f64,
    /// The method.
    pub method: Method,
}

/// The report of a monotone-inclusion solve.
pub type MonotoneReport = Report<Vec<f64>, MonotoneResiduals, MonotoneStats>;

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MonotoneSettings {
    /// Time limit, epoch limit (`max_iter` counts epochs), seed, threads, cancellation.
    pub common: Common,
    /// The iteration.
    pub method: Method,
    /// Stop when `Res(u) ≤ tol`.
    pub tol: f64,
    /// Step as a multiple of the method's `1/L` (see the module documentation).
    pub step_scale: f64,
    /// Restart the anchor when the residual falls below this factor of its value at the last
    /// restart; `None` disables restarts.
    pub restart_factor: Option<f64>,
    /// Epochs between residual checks (each costs one epoch for the stochastic methods; the
    /// deterministic ones reuse `F(u_k)` and check at every iterate when this is ≤ 2).
    pub check_every: f64,
    /// Adaptive steps for Halpern and extragradient: backtrack when the local Lipschitz
    /// estimate `‖F(v) − F(u)‖/‖v − u‖` of the extrapolation exceeds `0.95/η`, and grow the
    /// step by 10% per iteration otherwise (capped at `0.9/` that estimate). The starting
    /// step is `step_scale / L` with the cheap bound [`FiniteSumMonotone::lipschitz_upper`],
    /// so no power iteration is run.
    pub adaptive_step: bool,
    /// A known Lipschitz constant of the method (`L` of `F`, or the RMS component constant
    /// for VR-Halpern; reported as `stats.lipschitz`), which skips its estimate.
    pub lipschitz: Option<f64>,
    /// Warm start (projected onto `C`) instead of `op.start()`.
    pub start: Option<Vec<f64>>,
}

impl Default for MonotoneSettings {
    fn default() -> Self {
        MonotoneSettings {
            common: Common::default(),
            method: Method::Halpern,
            tol: 1e-6,
            step_scale: 1.0,
            restart_factor: Some(0.5),
            check_every: 1.0,
            adaptive_step: true,
            lipschitz: None,
            start: None,
        }
    }
}

impl MonotoneSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if !(self.tol >= 0.0 && self.step_scale > 0.0 && self.check_every > 0.0)
            || self.restart_factor.is_some_and(|f| !(f > 0.0 && f < 1.0))
            || self.lipschitz.is_some_and(|l| !(l.is_finite() && l >= 0.0))
        {
            return Err(SolveError::InvalidInput(
                "tol >= 0, step_scale > 0, check_every > 0, restart_factor in (0, 1) and a \
                 finite lipschitz >= 0 needed"
                    .into(),
            ));
        }
        if self
            .start
            .as_ref()
            .is_some_and(|u| u.iter().any(|v| !v.is_finite()))
        {
            return Err(SolveError::InvalidInput("the start is not finite".into()));
        }
        Ok(())
    }
}

/// A quantity computed at an iterate `u` from `(u, F(u))`.
pub type PointMeasure<'a> = &'a (dyn Fn(&[f64], &[f64]) -> f64 + Sync);

/// An extra stopping test evaluated at every residual check, e.g. a game's duality gap:
/// returns the measure, and the run stops when it is at most its tolerance. It is given the
/// (feasible) iterate `u` and `F(u)`, already computed for the residual.
pub struct ExtraStop<'a> {
    /// Name in reports (`"gap"`).
    pub name: &'static str,
    /// The measure at `u`, from `(u, F(u))`.
    pub measure: PointMeasure<'a>,
    /// Stop when the measure is at most this.
    pub tol: f64,
    /// The problem's objective at `u` from `(u, F(u))` (a game's value estimate), reported to
    /// observers as the iteration's objective; without it the objective is NaN (a monotone
    /// inclusion has none) and only the residual is reported.
    pub objective: Option<PointMeasure<'a>>,
}

/// Solve `0 ∈ F(u) + N_C(u)` (see the module documentation), from `s.start` when given. The
/// report's solution is the last iterate `u`; `residuals.residual` is `Res(u)`.
pub fn solve(
    op: &dyn FiniteSumMonotone,
    s: &MonotoneSettings,
    observer: &mut dyn Observer,
) -> Result<MonotoneReport, SolveError> {
    s.validate()?;
    let mut run = Run::start(
        &s.common,
        observer,
        s.method.name(),
        "monotone inclusion",
        Sense::Minimize,
        op.dim(),
    );
    let out = iterate(op, s, s.start.as_deref(), None, &mut run, 0.0)?;
    let residuals = MonotoneResiduals {
        residual: out.residual,
        gap: None,
    };
    Ok(run.finish(
        End::new(out.status, out.u, out.residual, residuals, out.stats)
            .iterations(out.steps)
            .backend(BackendReport::cpu_only(s.common.backend, s.method.name())),
    ))
}

/// What [`iterate`] ends with.
pub(crate) struct Outcome {
    pub status: Status,
    pub u: Vec<f64>,
    pub residual: f64,
    /// The extra measure at `u` (∞ without one).
    pub extra: f64,
    pub steps: u64,
    pub stats: MonotoneStats,
}

/// The iterations, inside a run started by the caller (its observer, deadline and epoch limit:
/// `epoch_base` epochs were spent before this call), from `start` (or `op.start()`).
pub(crate) fn iterate(
    op: &dyn FiniteSumMonotone,
    s: &MonotoneSettings,
    start: Option<&[f64]>,
    extra: Option<&ExtraStop<'_>>,
    run_: &mut Run<'_>,
    epoch_base: f64,
) -> Result<Outcome, SolveError> {
    let d = op.dim();
    let t0 = run_.t0();
    let base = run_.iterations();
    let exec = steps::Exec::new(s.common.thread_pool()?, op);
    let lip = s.lipschitz.unwrap_or_else(|| {
        exec.pool.install(|| match s.method {
            Method::VrHalpern | Method::VrInexactHalpern => op.component_lipschitz(),
            _ if s.adaptive_step => op.lipschitz_upper(),
            _ => op.lipschitz(),
        })
    });
    if !(lip.is_finite() && lip >= 0.0) {
        return Err(SolveError::InvalidInput(format!(
            "the operator's Lipschitz constant is {lip}"
        )));
    }
    // A constant F (e.g. a constant game once centred): any step is safe.
    let lip = if lip == 0.0 { 1.0 } else { lip };
    let u0 = match start {
        Some(u0) if u0.len() == d => u0.to_vec(),
        Some(u0) => {
            return Err(SolveError::DimensionMismatch {
                what: "start".into(),
                expected: d,
                found: u0.len(),
            });
        }
        None => op.start(),
    };
    let mut it = steps::Iterate::new(op, s, u0, lip);
    let mut next_check = 0.0f64;
    let mut res: f64;
    let mut extra_val = f64::INFINITY;
    let mut checks = 0u64;
    let status = loop {
        if it.epochs >= next_check {
            res = it.residual(op, &exec);
            checks += 1;
            next_check = it.epochs + s.check_every;
            if let Some(x) = extra {
                extra_val = (x.measure)(&it.u, &it.f);
            }
            let objective = extra
                .and_then(|x| x.objective)
                .map_or(f64::NAN, |obj| obj(&it.u, &it.f));
            let extras = [(extra.map_or("-", |x| x.name), extra_val)];
            let ctl = run_.report(&IterRecord {
                iteration: base + checks,
                elapsed: t0.elapsed().as_secs_f64(),
                best: objective,
                current: objective,
                bound: None,
                residual: Some(res),
                improved: true,
                extra: &extras[..usize::from(extra.is_some())],
            });
            if !res.is_finite() {
                break Status::NumericalError;
            }
            if res <= s.tol || extra.is_some_and(|x| extra_val <= x.tol) {
                break Status::Converged;
            }
            if let Some(st) = run_.budget(ctl, (epoch_base + it.epochs) as u64) {
                break st;
            }
            it.maybe_restart(res, s.restart_factor);
        }
        it.step(op, s, &exec);
    };
    Ok(Outcome {
        status,
        residual: res,
        extra: extra_val,
        steps: it.steps,
        stats: MonotoneStats {
            epochs: it.epochs,
            restarts: it.restarts,
            steps: it.steps,
            step: it.eta,
            backtracks: it.backtracks,
            lipschitz: it.lip,
            method: s.method,
        },
        u: it.u,
    })
}
