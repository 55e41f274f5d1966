//! The memory policy of every reader, generator and constructor: declared sizes are checked
//! with checked arithmetic against a budget **before** anything is allocated, so a header
//! that announces more than the machine can hold is an error, not an abort.
//!
//! The budget is what [`set_memory_budget`] sets, else the environment variable
//! `MATHPROG_MAX_MEMORY` (bytes, or with a `K`, `M`, `G` or `T` suffix), else the machine's
//! available memory (`MemAvailable` of `/proc/meminfo`; 2^40 bytes where that is unknown).
//!
//! ```
//! use mathprog_problems::limits::check_alloc;
//! assert!(check_alloc("a small vector", 1000, 8).is_ok());
//! assert!(check_alloc("a vector", usize::MAX, 8).is_err());      // would overflow
//! assert!(check_alloc("a vector", 1 << 62, 1).is_err());         // 4.6e18 bytes
//! ```

use crate::error::ProblemError;
use std::sync::atomic::{AtomicU64, Ordering};

/// 0: not set (use the available memory).
static BUDGET: AtomicU64 = AtomicU64::new(0);

/// Set the memory budget in bytes for the rest of the process (0: back to the available
/// memory).
pub fn set_memory_budget(bytes: u64) {
    BUDGET.store(bytes, Ordering::Relaxed);
}

/// The budget in bytes (see the module documentation).
pub fn memory_budget() -> u64 {
    match BUDGET.load(Ordering::Relaxed) {
        0 => std::env::var("MATHPROG_MAX_MEMORY")
            .ok()
            .and_then(|v| parse_bytes(&v))
            .or_else(available_memory)
            .unwrap_or(1 << 40),
        b => b,
    }
}

/// `123`, `64K`, `512M`, `2G`, `1T` (binary units) as bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let t = text.trim();
    let (num, shift) = match t.chars().last()? {
        'k' | 'K' => (&t[..t.len() - 1], 10),
        'm' | 'M' => (&t[..t.len() - 1], 20),
        'g' | 'G' => (&t[..t.len() - 1], 30),
        't' | 'T' => (&t[..t.len() - 1], 40),
        _ => (t, 0),
    };
    num.trim().parse::<u64>().ok()?.checked_mul(1u64 << shift)
}

/// `MemAvailable` from `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kb.checked_mul(1024)
}

/// Check that `count` items of `size` bytes (for `what`, named in the error) fit the budget.
pub fn check_alloc(what: &str, count: usize, size: usize) -> Result<(), ProblemError> {
    let bytes = (count as u128) * (size as u128);
    let budget = memory_budget();
    if bytes > u128::from(budget) {
        return Err(ProblemError::Invalid(format!(
            "{what} needs {} of memory ({count} items), more than the {} available (set \
             another budget with --max-memory or MATHPROG_MAX_MEMORY, e.g. 64G)",
            human(bytes),
            human(u128::from(budget))
        )));
    }
    Ok(())
}

/// How many items to reserve for `declared` items that the body of a file is still to supply:
/// never more than 65,536, so a header that announces more than the file holds reserves
/// nothing large (the vector grows geometrically as the items come, which costs a few copies
/// at most).
pub fn capped(declared: usize) -> usize {
    declared.min(1 << 16)
}

/// `a · b` for sizes, or an error naming `what` when it overflows.
pub fn checked_size(what: &str, a: usize, b: usize) -> Result<usize, ProblemError> {
    a.checked_mul(b).ok_or_else(|| {
        ProblemError::Invalid(format!("{what}: {a} x {b} is beyond the address space"))
    })
}

/// Bytes in binary units.
fn human(bytes: u128) -> String {
    let units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < units.len() {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", units[u])
}

/// The largest total magnitude (sum of absolute values) of a problem's data that the solvers
/// accept: objectives, fields and flip deltas are sums of these numbers, so a larger total
/// could overflow `f64` (about 1.8e308) and return `inf` or NaN as an answer.
pub const MAX_MAGNITUDE: f64 = 1e300;

/// An error unless `total` (a sum of absolute values; `inf` when that sum overflowed) is at
/// most [`MAX_MAGNITUDE`].
///
/// ```
/// use mathprog_problems::limits::check_magnitude;
/// assert!(check_magnitude("the edge weights", 1e12).is_ok());
/// assert!(check_magnitude("the edge weights", f64::INFINITY).is_err());
/// ```
pub fn check_magnitude(what: &str, total: f64) -> Result<(), ProblemError> {
    if total <= MAX_MAGNITUDE {
        return Ok(());
    }
    let size = if total.is_finite() {
        format!("{total:e}")
    } else {
        "more than 1.8e308".to_string()
    };
    Err(ProblemError::Invalid(format!(
        "{what} sum to {size} in absolute value, beyond the {MAX_MAGNITUDE:e} that keeps \
         objectives finite; rescale them"
    )))
}
