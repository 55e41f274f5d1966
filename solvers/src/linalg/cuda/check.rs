//! The harness of the GPU checks: each family compares its kernels with their CPU twins on
//! seeded random inputs (its `gpu_checks` module, run by the `cuda` tests and
//! `solve bench-gpu`) and reports the error and the time of both.
//!
//! The error is normwise, `‖gpu − cpu‖∞ / ‖cpu‖∞`, except for discrete results (random chains),
//! whose mismatch is reported as an error of 1. Times are the best of `repeats` runs: the CPU twin
//! on the given rayon pool, the GPU call as the solvers make it (vector transfers included;
//! matrices uploaded once, outside the timing).

use crate::core::uniform01;
use rand::Rng;
use serde::Serialize;
use std::time::Instant;

/// Sizes of the inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Small inputs (tests: seconds on any GPU).
    Test,
    /// Benchmark sizes (each family's `gpu_checks` gives them: dense matrices of 4000 × 4000,
    /// sparse systems and graphs of 20,000 rows, 130 × 120 chains on an 800-vertex graph).
    Bench,
}

/// One kernel against its CPU twin.
#[derive(Debug, Clone, Serialize)]
pub struct KernelCheck {
    /// Kernel name.
    pub kernel: String,
    /// Input size, in words.
    pub size: String,
    /// `‖gpu − cpu‖∞ / ‖cpu‖∞` (1 for a discrete mismatch).
    pub rel_err: f64,
    /// Best CPU time (s).
    pub cpu_seconds: f64,
    /// Best GPU time (s), transfers included.
    pub gpu_seconds: f64,
}

impl KernelCheck {
    /// A check of `kernel` on inputs of `size`.
    pub fn new(
        kernel: impl Into<String>,
        size: impl Into<String>,
        rel_err: f64,
        cpu: f64,
        gpu: f64,
    ) -> Self {
        KernelCheck {
            kernel: kernel.into(),
            size: size.into(),
            rel_err,
            cpu_seconds: cpu,
            gpu_seconds: gpu,
        }
    }
}

/// `‖gpu − cpu‖∞ / ‖cpu‖∞` (∞ when the lengths differ or a NaN appears).
pub fn rel_err(gpu: &[f64], cpu: &[f64]) -> f64 {
    let scale = cpu.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    let diff = gpu
        .iter()
        .zip(cpu)
        .fold(0.0f64, |m, (a, b)| m.max((a - b).abs()));
    if gpu.len() != cpu.len() || diff.is_nan() {
        return f64::INFINITY;
    }
    if scale == 0.0 { diff } else { diff / scale }
}

/// Best time of `repeats` runs after one untimed warm-up run (lazy library initialisation,
/// caches).
pub fn best<T>(repeats: usize, mut f: impl FnMut() -> T) -> (f64, T) {
    let _ = f();
    let mut t_best = f64::INFINITY;
    let mut out = None;
    for _ in 0..repeats.max(1) {
        let t = Instant::now();
        let r = f();
        t_best = t_best.min(t.elapsed().as_secs_f64());
        out = Some(r);
    }
    (t_best, out.expect("at least one run"))
}

/// `len` draws uniform in `[lo, hi)`.
pub fn uniform(rng: &mut impl Rng, len: usize, lo: f64, hi: f64) -> Vec<f64> {
    (0..len).map(|_| lo + (hi - lo) * uniform01(rng)).collect()
}
