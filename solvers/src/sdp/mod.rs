//! Semidefinite programming by conic descent.
//!
//! * [`maxcut`]: the MaxCut SDP with a certified upper bound (factored conic descent with
//!   greedy row updates, a Lanczos eigen-oracle and eigenvector rank steps) and
//!   Goemans–Williamson rounding.

pub mod alm;
pub mod maxcut;
