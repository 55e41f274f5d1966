//! Shared numerical kernels.

pub mod simd;
pub mod vexp;
