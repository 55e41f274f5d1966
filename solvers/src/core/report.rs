//! The one result shape of every solver.

use crate::core::{BackendReport, Status};
use serde::{Deserialize, Serialize};

/// Residuals of a method that has none (serialised as `{}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NoResiduals {}

/// Statistics of a method that has none (serialised as `{}`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct NoStats {}

/// Result of a solver run: the fields every method shares, plus the method's typed residuals
/// `R` (certificates: infeasibilities, gaps, KKT norms) and statistics `X` (iterations by kind,
/// stage timings, final parameters), each a struct of the method's own (e.g.
/// [`crate::ot::OtResiduals`], [`crate::ot::OtStats`]). `S` is the solution type (for binary
/// problems a `Vec<i8>` of ±1).
///
/// In JSON (`serde`), `residuals` and `stats` are objects whose keys are the fields' names, as
/// scripts have read them since the first release.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report<S, R = NoResiduals, X = NoStats> {
    /// Algorithm name, e.g. `"mcpg"`.
    pub algorithm: String,
    /// Problem: the class (`"maxcut"`, `"ot"`) or, where the problem has one, its name.
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
    /// Residuals and certificates of `solution`.
    pub residuals: R,
    /// Iterations (rounds, epochs, Newton steps: the method's outer loop).
    pub iterations: u64,
    /// Wall-clock seconds of the solve.
    pub elapsed: f64,
    /// Seconds from the start to the moment the returned solution was first found (the end of
    /// the run for methods that return their last iterate).
    pub time_to_best: Option<f64>,
    /// Seed of the run.
    pub seed: u64,
    /// Worker threads used.
    pub threads: usize,
    /// Method-specific statistics.
    pub stats: X,
    /// Where the large kernels ran (CPU or GPU), with a note when that is not what was asked.
    #[serde(default)]
    pub backend: BackendReport,
}

impl<S, R, X> Report<S, R, X> {
    /// Relative gap `|bound − objective| / max(1, |bound|)` when a bound exists.
    pub fn relative_gap(&self) -> Option<f64> {
        self.bound
            .map(|b| (b - self.objective).abs() / b.abs().max(1.0))
    }

    /// The same report with its solution mapped (e.g. a sub-problem's solution lifted to the
    /// caller's problem).
    pub fn map_solution<T>(self, f: impl FnOnce(S) -> T) -> Report<T, R, X> {
        self.map(f, |r| r, |x| x)
    }

    /// The same report with solution, residuals and statistics mapped.
    pub fn map<T, R2, X2>(
        self,
        fs: impl FnOnce(S) -> T,
        fr: impl FnOnce(R) -> R2,
        fx: impl FnOnce(X) -> X2,
    ) -> Report<T, R2, X2> {
        Report {
            algorithm: self.algorithm,
            problem: self.problem,
            status: self.status,
            solution: fs(self.solution),
            objective: self.objective,
            sense: self.sense,
            bound: self.bound,
            residuals: fr(self.residuals),
            iterations: self.iterations,
            elapsed: self.elapsed,
            time_to_best: self.time_to_best,
            seed: self.seed,
            threads: self.threads,
            stats: fx(self.stats),
            backend: self.backend,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mathprog_problems::Sense;

    #[test]
    fn relative_gap_uses_the_bound() {
        let mut r: Report<()> = Report {
            algorithm: "x".into(),
            problem: "y".into(),
            status: Status::TimeLimit,
            solution: (),
            objective: 90.0,
            sense: Sense::Maximize,
            bound: None,
            residuals: NoResiduals {},
            iterations: 0,
            elapsed: 0.0,
            time_to_best: None,
            seed: 1,
            threads: 1,
            stats: NoStats {},
            backend: Default::default(),
        };
        assert_eq!(r.relative_gap(), None);
        r.bound = Some(100.0);
        assert!((r.relative_gap().unwrap() - 0.1).abs() < 1e-15);
        r.bound = Some(0.5);
        r.objective = 0.0;
        assert_eq!(r.relative_gap(), Some(0.5));
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["residuals"], serde_json::json!({}));
        assert_eq!(json["stats"], serde_json::json!({}));
    }
}
