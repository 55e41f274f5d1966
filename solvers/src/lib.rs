//! # mathprog-solvers
//!
//! The algorithms of `mathprog`, one module per family, sharing the [`core`] types: every
//! solver has the shape
//!
//! `solve(&problem, &settings, &mut observer) -> Result<Report<_>, SolveError>`.
//!
//! Running out of time or iterations, reaching a target, or being cancelled through a
//! [`core::StopToken`] is a [`core::Status`] in the report, never an error; errors are for bad
//! input. One `seed` makes every run reproducible, independently of the number of threads.
//!
//! ```
//! use mathprog_problems::{generators, maxcut::MaxCut};
//! use mathprog_solvers::binary::mcpg::{self, McpgSettings};
//! use mathprog_solvers::core::NoObserver;
//!
//! let g = generators::erdos_renyi(14, 0.4, generators::Weights::PlusMinusOne, 3);
//! let problem = MaxCut::new(g);
//! let mut settings = McpgSettings::default();
//! settings.common.max_iter = Some(30);
//! settings.common.seed = 7;
//! let report = mcpg::solve(&problem, &settings, &mut NoObserver).unwrap();
//! let exact = mathprog_problems::exact::maxcut_brute_force(&problem).unwrap().0;
//! assert_eq!(report.objective, exact);
//! assert_eq!(problem.cut_value(&report.solution), report.objective);
//! ```
#![deny(missing_docs)]

pub mod bilevel;
pub mod binary;
pub mod core;
#[cfg(feature = "gpu-checks")]
pub mod gpu_checks;
pub mod linalg;
pub mod monotone;
pub mod nlp;
pub mod ot;
pub mod sdp;
