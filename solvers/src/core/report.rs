//! The one result shape of every solver.

use crate::core::Status;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Result of a solver run. `S` is the solution type (for binary problems a `Vec<i8>` of ±1).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report<S> {
    /// Algorithm name, e.g. `"mcpg"`.
    pub algorithm: String,
    /// Problem class, e.g. `"maxcut"`.
    pub problem: String,
    /// Why the run stopped.
    pub status: Status,
    /// Best solution found.
    pub solution: S,
    /// Objective value of `solution`, recomputed from scratch, in the problem's own sense.
    pub objective: f64,
    /// `"minimize"` or `"maximize"`.
    pub sense: mathprog_problems::Sense,
    /// A proven bound on the optimal value, where the method has one.
    pub bound: Option<f64>,
    /// Named residuals / certificates (e.g. `"kkt"`, `"marginal_l1"`).
    pub residuals: BTreeMap<String, f64>,
    /// Iterations (rounds, epochs, Newton steps: the method's outer loop).
    pub iterations: u64,
    /// Wall-clock seconds of the solve.
    pub elapsed: f64,
    /// Seconds from the start to the moment the returned solution was first found.
    pub time_to_best: Option<f64>,
    /// Seed of the run.
    pub seed: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Algorithm-specific statistics.
    pub stats: BTreeMap<String, serde_json::Value>,
    /// Where the large kernels ran (CPU or GPU), with a note when that is not what was asked.
    #[serde(default)]
    pub backend: crate::core::BackendReport,
}

impl<S> Report<S> {
    /// Relative gap `|bound − objective| / max(1, |bound|)` when a bound exists.
    pub fn relative_gap(&self) -> Option<f64> {
        self.bound
            .map(|b| (b - self.objective).abs() / b.abs().max(1.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mathprog_problems::Sense;

    #[test]
    fn relative_gap_uses_the_bound() {
        let mut r = Report {
            algorithm: "x".into(),
            problem: "y".into(),
            status: Status::TimeLimit,
            solution: (),
            objective: 90.0,
            sense: Sense::Maximize,
            bound: None,
            residuals: BTreeMap::new(),
            iterations: 0,
            elapsed: 0.0,
            time_to_best: None,
            seed: 1,
            threads: 1,
            stats: BTreeMap::new(),
            backend: Default::default(),
        };
        assert_eq!(r.relative_gap(), None);
        r.bound = Some(100.0);
        assert!((r.relative_gap().unwrap() - 0.1).abs() < 1e-15);
        r.bound = Some(0.5);
        r.objective = 0.0;
        assert_eq!(r.relative_gap(), Some(0.5));
    }
}
