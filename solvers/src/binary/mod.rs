//! Binary optimisation `min f(x)` over `x ∈ {−1, 1}ⁿ` for any
//! [`mathprog_problems::binary::BinaryObjective`]: Monte Carlo policy gradient ([`mcpg`]) and the
//! local-search operators it uses as filters ([`local_search`]).

#[cfg(feature = "cuda")]
pub mod gpu;
#[cfg(feature = "gpu-checks")]
pub mod gpu_checks;
pub mod local_search;
pub mod mcpg;
pub mod mimo;
pub mod tabu;
