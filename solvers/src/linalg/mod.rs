//! Shared numerical kernels: run-time SIMD dispatch, vectorised `exp`, matrix-free Lanczos.

pub mod lanczos;
pub mod simd;
pub mod vexp;
