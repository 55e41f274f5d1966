//! The run driver shared by every method: it owns the observer calls (`on_start` and
//! `on_finish` exactly once per run), the clock, the budget test and the assembly of the
//! [`Report`], so that a method writes only its steps (argmin's executor, Clarabel's info).
//!
//! ```
//! use mathprog_solvers::core::{Common, End, IterRecord, NoObserver, NoResiduals, NoStats, Run,
//!     Status};
//! use mathprog_problems::Sense;
//! let mut common = Common::default();
//! common.max_iter = Some(3);
//! let mut obs = NoObserver;
//! let mut run = Run::start(&common, &mut obs, "demo", "toy", Sense::Minimize, 1);
//! let mut x = 1.0f64;
//! let status = loop {
//!     x *= 0.5;
//!     let it = run.iterations() + 1;
//!     if let Some(s) = run.iteration(&IterRecord::new(it, run.elapsed(), x)) {
//!         break s;
//!     }
//! };
//! let report = run.finish(End::new(status, x, x, NoResiduals {}, NoStats {}));
//! assert_eq!(report.status, Status::IterationLimit);
//! assert_eq!(report.iterations, 3);
//! ```

use crate::core::{
    BackendReport, Budget, Common, Control, IterRecord, Observer, Report, RunInfo, Status,
};
use mathprog_problems::Sense;
use std::time::Instant;

/// What a method found, handed to [`Run::finish`].
#[derive(Debug, Clone)]
pub struct End<S, R, X> {
    /// Why the run stopped.
    pub status: Status,
    /// The returned solution.
    pub solution: S,
    /// Its objective value, in the problem's sense.
    pub objective: f64,
    /// A proven bound, where the method has one.
    pub bound: Option<f64>,
    /// Residuals and certificates of the solution.
    pub residuals: R,
    /// Method statistics.
    pub stats: X,
    /// Iterations; `None`: the count of [`Run::iteration`] calls.
    pub iterations: Option<u64>,
    /// When the solution was found; `None`: the last improving record's time, else the end.
    pub time_to_best: Option<f64>,
    /// Where the kernels ran (default: the CPU).
    pub backend: BackendReport,
}

impl<S, R, X> End<S, R, X> {
    /// The end of a run with no bound, iterations counted by the driver, on the CPU.
    pub fn new(status: Status, solution: S, objective: f64, residuals: R, stats: X) -> Self {
        End {
            status,
            solution,
            objective,
            bound: None,
            residuals,
            stats,
            iterations: None,
            time_to_best: None,
            backend: BackendReport::default(),
        }
    }
    /// With a proven bound.
    pub fn bound(mut self, bound: Option<f64>) -> Self {
        self.bound = bound;
        self
    }
    /// With the method's own iteration count.
    pub fn iterations(mut self, iterations: u64) -> Self {
        self.iterations = Some(iterations);
        self
    }
    /// With the time the solution was found.
    pub fn time_to_best(mut self, t: Option<f64>) -> Self {
        self.time_to_best = t;
        self
    }
    /// With the backend report.
    pub fn backend(mut self, backend: BackendReport) -> Self {
        self.backend = backend;
        self
    }
}

/// One run of a method: created by [`Run::start`] (which calls `on_start`), fed one record per
/// iteration by [`Run::iteration`] (which calls `on_iter` and applies the budget), closed by
/// [`Run::finish`] (which calls `on_finish` and builds the [`Report`]).
pub struct Run<'a> {
    common: &'a Common,
    observer: &'a mut dyn Observer,
    algorithm: &'static str,
    problem: String,
    sense: Sense,
    t0: Instant,
    deadline: Option<Instant>,
    threads: usize,
    iterations: u64,
    time_to_best: Option<f64>,
}

impl<'a> Run<'a> {
    /// Start the clock and tell the observer.
    pub fn start(
        common: &'a Common,
        observer: &'a mut dyn Observer,
        algorithm: &'static str,
        problem: impl Into<String>,
        sense: Sense,
        num_vars: usize,
    ) -> Self {
        Self::start_at(
            Instant::now(),
            common,
            observer,
            algorithm,
            problem,
            sense,
            num_vars,
        )
    }

    /// [`Run::start`] with the clock started at `t0` (a set-up before the observer's start
    /// counts in the run's time and against its time limit).
    pub fn start_at(
        t0: Instant,
        common: &'a Common,
        observer: &'a mut dyn Observer,
        algorithm: &'static str,
        problem: impl Into<String>,
        sense: Sense,
        num_vars: usize,
    ) -> Self {
        let threads = common.resolved_threads();
        let problem = problem.into();
        observer.on_start(&RunInfo {
            algorithm,
            problem: problem.clone(),
            num_vars,
            time_limit: common.time_limit,
            max_iter: common.max_iter,
            threads,
            seed: common.seed,
        });
        Run {
            common,
            observer,
            algorithm,
            problem,
            sense,
            t0,
            deadline: common.deadline(t0),
            threads,
            iterations: 0,
            time_to_best: None,
        }
    }

    /// Seconds since the start.
    pub fn elapsed(&self) -> f64 {
        self.t0.elapsed().as_secs_f64()
    }

    /// The start instant.
    pub fn t0(&self) -> Instant {
        self.t0
    }

    /// The wall-clock deadline, if any.
    pub fn deadline(&self) -> Option<Instant> {
        self.deadline
    }

    /// The deadline and the stop token, for inner loops to poll.
    pub fn clock(&self) -> Budget<'a> {
        Budget {
            deadline: self.deadline,
            stop: Some(&self.common.stop),
        }
    }

    /// The settings' common part.
    pub fn common(&self) -> &Common {
        self.common
    }

    /// The iteration of the last record.
    pub fn iterations(&self) -> u64 {
        self.iterations
    }

    /// Report an iteration to the observer (without the budget test); remembers the time of
    /// improving records.
    pub fn report(&mut self, rec: &IterRecord<'_>) -> Control {
        self.iterations = rec.iteration;
        if rec.improved {
            self.time_to_best = Some(rec.elapsed);
        }
        self.observer.on_iter(rec)
    }

    /// The budget test after `iterations` iterations given the observer's answer:
    /// interrupted, time limit or iteration limit, or `None` to go on.
    pub fn budget(&self, ctl: Control, iterations: u64) -> Option<Status> {
        self.common.budget_status(ctl, self.deadline, iterations)
    }

    /// [`Run::report`], then [`Run::budget`]: `Some(status)` when the run must stop.
    pub fn iteration(&mut self, rec: &IterRecord<'_>) -> Option<Status> {
        let ctl = self.report(rec);
        self.budget(ctl, rec.iteration)
    }

    /// Tell the observer and build the report.
    pub fn finish<S, R, X>(self, end: End<S, R, X>) -> Report<S, R, X> {
        let elapsed = self.elapsed();
        self.observer.on_finish(end.status, end.objective, elapsed);
        Report {
            algorithm: self.algorithm.into(),
            problem: self.problem,
            status: end.status,
            solution: end.solution,
            objective: end.objective,
            sense: self.sense,
            bound: end.bound,
            residuals: end.residuals,
            iterations: end.iterations.unwrap_or(self.iterations),
            elapsed,
            time_to_best: Some(end.time_to_best.or(self.time_to_best).unwrap_or(elapsed)),
            seed: self.common.seed,
            threads: self.threads,
            stats: end.stats,
            backend: end.backend,
        }
    }
}
