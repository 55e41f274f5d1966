//! Cancellation: a cloneable flag polled by solvers once per iteration.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

/// The wall-clock deadline and the stop token of a run, polled inside long inner loops
/// (chains, sweeps, tabu moves, rounding trials) so that `--time-limit` and Ctrl-C are met
/// whatever the flags ask of one loop. With neither, nothing is ever cut.
#[derive(Debug, Clone, Copy, Default)]
pub struct Budget<'a> {
    /// The deadline, if any.
    pub deadline: Option<Instant>,
    /// The run's stop token, if any.
    pub stop: Option<&'a StopToken>,
}

impl Budget<'_> {
    /// No deadline, no token.
    pub const NONE: Budget<'static> = Budget {
        deadline: None,
        stop: None,
    };

    /// Whether the run must stop now.
    pub fn spent(&self) -> bool {
        self.stop.is_some_and(StopToken::is_stopped)
            || self.deadline.is_some_and(|d| Instant::now() >= d)
    }
}

/// What an observer wants after an iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Control {
    /// Go on.
    Continue,
    /// Stop now; the solver returns its best point with [`crate::core::Status::Interrupted`].
    Stop,
}

/// A cloneable cancellation token (`Arc<AtomicBool>`). The library never installs signal
/// handlers: an application (the CLI does this for Ctrl-C) calls [`StopToken::stop`] from its
/// handler, and the solver finishes its current iteration and returns the best solution found
/// with status `Interrupted`.
#[derive(Debug, Clone, Default)]
pub struct StopToken(Arc<AtomicBool>);

impl StopToken {
    /// A fresh token, not stopped.
    pub fn new() -> Self {
        Self::default()
    }
    /// Ask every solver holding a clone of this token to stop.
    pub fn stop(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// Whether [`StopToken::stop`] was called.
    pub fn is_stopped(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
    /// Clear the flag so the token can be reused.
    pub fn reset(&self) {
        self.0.store(false, Ordering::Relaxed);
    }
}
