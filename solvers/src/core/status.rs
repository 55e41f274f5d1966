//! Why a solver stopped.

use serde::{Deserialize, Serialize};

/// Termination status carried by every [`crate::core::Report`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Status {
    /// Proven optimal (e.g. a bound certificate closes the gap).
    Optimal,
    /// The method's convergence test passed (tolerance reached).
    Converged,
    /// A user-given target objective value was reached.
    TargetReached,
    /// The time limit was reached.
    TimeLimit,
    /// The iteration limit was reached.
    IterationLimit,
    /// No improvement for the configured number of iterations.
    Stalled,
    /// Cancelled through a [`crate::core::StopToken`] or an observer.
    Interrupted,
    /// The method broke down numerically.
    NumericalError,
    /// The primal problem has no feasible point; the report carries a certificate (for an
    /// SDP `min ⟨C, X⟩ s.t. A(X) = b, X ⪰ 0`: `y` with `A*(y) ⪯ 0`, `bᵀy = 1`).
    PrimalInfeasible,
    /// The dual problem has no feasible point; the report carries a certificate (for an SDP:
    /// `X ⪰ 0` with `A(X) = 0`, `⟨C, X⟩ = −1`, so the primal is unbounded if feasible).
    DualInfeasible,
}

impl Status {
    /// Short human-readable name (`"time limit"`, ...).
    pub fn describe(self) -> &'static str {
        match self {
            Status::Optimal => "optimal",
            Status::Converged => "converged",
            Status::TargetReached => "target reached",
            Status::TimeLimit => "time limit",
            Status::IterationLimit => "iteration limit",
            Status::Stalled => "stalled",
            Status::Interrupted => "interrupted",
            Status::NumericalError => "numerical error",
            Status::PrimalInfeasible => "primal infeasible",
            Status::DualInfeasible => "dual infeasible",
        }
    }
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}
