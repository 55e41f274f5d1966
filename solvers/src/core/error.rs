//! The error type of every solver: bad input, mismatched dimensions, I/O.

use mathprog_problems::{ProblemError, ReadError};

/// Why a solver could not run at all. Running out of budget is **not** an error (see
/// [`crate::core::Status`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SolveError {
    /// Problem data or settings are invalid (NaN, empty, out of range, ...).
    #[error("invalid input: {0}")]
    InvalidInput(String),
    /// Two sizes that must agree do not.
    #[error("dimension mismatch in {what}: expected {expected}, found {found}")]
    DimensionMismatch {
        /// What was being compared.
        what: String,
        /// The expected size.
        expected: usize,
        /// The size found.
        found: usize,
    },
    /// A file could not be read or parsed.
    #[error(transparent)]
    Read(#[from] ReadError),
    /// Structurally invalid problem data.
    #[error(transparent)]
    Problem(#[from] ProblemError),
    /// Any other I/O failure.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// A requested resource (thread pool, backend) is unavailable.
    #[error("unavailable: {0}")]
    Unavailable(String),
}
