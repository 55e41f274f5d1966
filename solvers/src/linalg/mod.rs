//! Shared numerical kernels: run-time SIMD dispatch, vectorised `exp`, matrix-free Lanczos,
//! and the CPU/GPU backend selection (the CUDA kernels behind the `cuda` feature).

pub mod backend;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod gauss;
pub mod lanczos;
pub mod simd;
pub mod vexp;
