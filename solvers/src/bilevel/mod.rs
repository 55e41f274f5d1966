//! **Bilevel optimisation by the value-function penalty** (Kwon, Kwon, Wright & Nowak, "On
//! penalty methods for nonconvex bilevel optimization and first-order stochastic
//! approximation", ICLR 2024, arXiv 2309.01753).
//!
//! For `min_{x ∈ X, y ∈ Y*(x)} f(x, y)`, `Y*(x) = argmin_{y ∈ Y} g(x, y)`, the penalty function
//!
//! `ψ_σ(x) = min_{y ∈ Y} [f(x, y) + (g(x, y) − g*(x))/σ]`, `g*(x) = min_{z ∈ Y} g(x, z)`,
//!
//! is `O(σ)`-close to the hyper-objective even when the lower level has several minimisers,
//! and its gradient needs first derivatives only:
//!
//! `∇ψ_σ(x) = ∇ₓf(x, y_σ) + (∇ₓg(x, y_σ) − ∇ₓg(x, z*))/σ`, `y_σ ∈ argmin_y σf + g`,
//! `z* ∈ Y*(x)`.
//!
//! [`solve`] runs the method of [`BilevelSettings::method`] ([`BilevelMethod`]).
//! [`BilevelMethod::Penalty`] is the deterministic double loop: warm-started accelerated projected
//! gradient solves for `z*` (step `1/L_g`) and `y_σ` (step `1/(L_f + L_g/σ)`) to tolerances
//! tied to the outer stationarity, then a projected gradient step on `x` with a safeguarded
//! Barzilai–Borwein length. [`BilevelMethod::Aid`] (implicit differentiation with CG on
//! Hessian-vector products) is the baseline for strongly convex lower levels, and
//! [`BilevelMethod::Stochastic`] the single-loop method with minibatch oracles.

pub mod aid;
pub mod penalty;
pub mod stochastic;

pub use penalty::{
    BilevelMethod, BilevelReport, BilevelResiduals, BilevelSettings, BilevelSolution, BilevelStats,
};

use crate::core::{Observer, SolveError};
use mathprog_problems::bilevel::Bilevel;

/// Solve a bilevel problem with the method of `s.method`.
///
/// ```
/// use mathprog_problems::bilevel::quadratic::QuadraticBilevel;
/// use mathprog_solvers::bilevel::{BilevelSettings, solve};
/// use mathprog_solvers::core::{NoObserver, Status};
/// let prob = QuadraticBilevel::generate(5, 8, 0.1, 1).unwrap();
/// let r = solve(&prob, &BilevelSettings::default(), &mut NoObserver).unwrap();
/// assert_eq!(r.status, Status::Converged);
/// assert!(r.residuals.stationarity <= 1e-6);
/// ```
pub fn solve(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    s.validate()?;
    match s.method {
        BilevelMethod::Penalty => penalty::solve_penalty(prob, s, observer),
        BilevelMethod::Aid => aid::solve_aid(prob, s, observer),
        BilevelMethod::Stochastic { batch } => {
            stochastic::solve_stochastic(prob, s, batch, observer)
        }
    }
}
