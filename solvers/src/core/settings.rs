//! Settings shared by every solver.

use crate::core::{Control, SolveError, Status, StopToken};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// `t0 + seconds`, or `None` when that is beyond the clock's range (or not a valid duration).
pub fn deadline_after(t0: Instant, seconds: f64) -> Option<Instant> {
    Duration::try_from_secs_f64(seconds)
        .ok()
        .and_then(|d| t0.checked_add(d))
}

/// Budget, seed, parallelism and cancellation, embedded in every solver's settings.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Common {
    /// Wall-clock limit in seconds (`None`: no limit).
    pub time_limit: Option<f64>,
    /// Limit on outer iterations (`None`: no limit).
    pub max_iter: Option<u64>,
    /// Seed of all randomness; the same seed gives the same result at any thread count.
    pub seed: u64,
    /// Worker threads (`None` or `Some(0)`: all cores).
    pub threads: Option<usize>,
    /// Stop as soon as the best objective is at least this good (in the problem's sense).
    pub target: Option<f64>,
    /// Where the large kernels run (CPU, CUDA GPU, or auto); see
    /// `linalg::backend`. Methods without GPU kernels run on the CPU and say so.
    #[serde(default)]
    pub backend: crate::core::Backend,
    /// Cancellation token (not serialised).
    #[serde(skip)]
    pub stop: StopToken,
}

impl Default for Common {
    fn default() -> Self {
        Common {
            time_limit: None,
            max_iter: None,
            seed: 1,
            threads: None,
            target: None,
            backend: crate::core::Backend::Cpu,
            stop: StopToken::new(),
        }
    }
}

impl Common {
    /// Check the values (finite, positive time limit).
    pub fn validate(&self) -> Result<(), SolveError> {
        if let Some(t) = self.time_limit
            && !(t.is_finite() && t >= 0.0)
        {
            return Err(SolveError::InvalidInput(format!(
                "time limit must be a non-negative number of seconds, got {t}"
            )));
        }
        if let Some(t) = self.target
            && !t.is_finite()
        {
            return Err(SolveError::InvalidInput(format!(
                "target must be finite, got {t}"
            )));
        }
        Ok(())
    }

    /// Number of worker threads this run will use.
    ///
    /// A request above four threads a core (and above 64) is clamped there: more threads only
    /// oversubscribe the cores, while each reserves a stack (100,000 of them exhaust the
    /// address space). Answers do not depend on the thread count.
    pub fn resolved_threads(&self) -> usize {
        let cores = std::thread::available_parallelism()
            .map(|n| n.get())
            .unwrap_or(1);
        match self.threads {
            Some(t) if t > 0 => t.min((4 * cores).max(64)),
            _ => cores,
        }
    }

    /// The wall-clock deadline of a run started at `t0` (`None` without a time limit, and for a
    /// limit beyond what the clock can represent, centuries away: no limit in practice).
    pub fn deadline(&self, t0: Instant) -> Option<Instant> {
        self.time_limit.and_then(|l| deadline_after(t0, l))
    }

    /// Whether a run must stop after `iterations` iterations, given the observer's answer
    /// `ctl`: [`Status::Interrupted`] (observer or [`StopToken`]), [`Status::TimeLimit`]
    /// (past `deadline`) or [`Status::IterationLimit`], in that order; `None` to go on.
    pub fn budget_status(
        &self,
        ctl: Control,
        deadline: Option<Instant>,
        iterations: u64,
    ) -> Option<Status> {
        if ctl == Control::Stop || self.stop.is_stopped() {
            Some(Status::Interrupted)
        } else if deadline.is_some_and(|d| Instant::now() >= d) {
            Some(Status::TimeLimit)
        } else if self.max_iter.is_some_and(|m| iterations >= m) {
            Some(Status::IterationLimit)
        } else {
            None
        }
    }

    /// A rayon pool with [`Common::resolved_threads`] threads.
    pub fn thread_pool(&self) -> Result<rayon::ThreadPool, SolveError> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(self.resolved_threads())
            .build()
            .map_err(|e| SolveError::Unavailable(format!("thread pool: {e}")))
    }
}
