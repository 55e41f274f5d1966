//! Cancellation: a cloneable flag polled by solvers once per iteration.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

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
