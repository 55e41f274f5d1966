//! Progress observers: called at the start, after every iteration (and may stop the run), and
//! at the end.

use crate::core::{Control, Status};

/// Static facts about a run, given to [`Observer::on_start`].
#[derive(Debug, Clone)]
pub struct RunInfo {
    /// Algorithm name.
    pub algorithm: &'static str,
    /// Problem (class or name, as in the report).
    pub problem: String,
    /// Number of variables.
    pub num_vars: usize,
    /// Time limit in seconds, if any.
    pub time_limit: Option<f64>,
    /// Iteration limit, if any.
    pub max_iter: Option<u64>,
    /// Worker threads.
    pub threads: usize,
    /// Seed.
    pub seed: u64,
}

/// One row of progress: the state after an iteration.
#[derive(Debug, Clone)]
pub struct IterRecord<'a> {
    /// Iteration count so far.
    pub iteration: u64,
    /// Seconds since the start.
    pub elapsed: f64,
    /// Best objective so far, in the problem's own sense (NaN where the method does not
    /// evaluate its objective during the iterations, e.g. Sinkhorn).
    pub best: f64,
    /// Objective of the current iterate (method-specific meaning).
    pub current: f64,
    /// Proven bound, where available.
    pub bound: Option<f64>,
    /// The method's convergence measure (marginal violation, fixed-point residual, KKT norm,
    /// stationarity), where it has one.
    pub residual: Option<f64>,
    /// Whether `best` improved in this iteration.
    pub improved: bool,
    /// Further named quantities (fixed set per algorithm).
    pub extra: &'a [(&'static str, f64)],
}

impl IterRecord<'_> {
    /// A record with `best = current = objective`, no bound, no residual, not improving, no
    /// extra quantities.
    pub fn new(iteration: u64, elapsed: f64, objective: f64) -> Self {
        IterRecord {
            iteration,
            elapsed,
            best: objective,
            current: objective,
            bound: None,
            residual: None,
            improved: false,
            extra: &[],
        }
    }
}

/// Receives progress. All methods have no-op defaults.
pub trait Observer {
    /// Called once before the first iteration.
    fn on_start(&mut self, _info: &RunInfo) {}
    /// Called after every iteration; returning [`Control::Stop`] ends the run with
    /// [`Status::Interrupted`].
    fn on_iter(&mut self, _rec: &IterRecord<'_>) -> Control {
        Control::Continue
    }
    /// Called once with the final status, best objective and elapsed seconds.
    fn on_finish(&mut self, _status: Status, _best: f64, _elapsed: f64) {}
}

/// An observer that ignores everything.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoObserver;

impl Observer for NoObserver {}

impl<O: Observer + ?Sized> Observer for &mut O {
    fn on_start(&mut self, info: &RunInfo) {
        (**self).on_start(info)
    }
    fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
        (**self).on_iter(rec)
    }
    fn on_finish(&mut self, status: Status, best: f64, elapsed: f64) {
        (**self).on_finish(status, best, elapsed)
    }
}
