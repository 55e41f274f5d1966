//! Shared numerical kernels.

pub mod vexp;
