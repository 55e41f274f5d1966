//! # mathprog-problems
//!
//! Problem types, capability traits, file readers/writers, seeded instance generators and exact
//! reference solvers (for small instances) of the `mathprog` suite.
//!
//! Everything here is data: the algorithms live in `mathprog-solvers`, which depends on this
//! crate through capability traits such as [`binary::BinaryObjective`].
//!
//! ```
//! use mathprog_problems::{graph::Graph, maxcut::MaxCut};
//! // A triangle: the best cut separates one vertex and cuts 2 edges.
//! let g = Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]).unwrap();
//! let p = MaxCut::new(g);
//! assert_eq!(p.cut_value(&[1, -1, -1]), 2.0);
//! let (best, _x) = mathprog_problems::exact::maxcut_brute_force(&p).unwrap();
//! assert_eq!(best, 2.0);
//! ```
#![deny(missing_docs)]

pub mod bilevel;
pub mod binary;
mod dense;
pub mod error;
pub mod exact;
pub mod game;
pub mod generators;
pub mod graph;
pub mod io;
pub mod limits;
pub mod maxcut;
pub mod mimo;
pub mod monotone;
#[cfg(feature = "nalgebra")]
pub mod nalgebra_interop;
pub mod nlp;
pub mod ot;
pub mod qubo;
pub mod sat;
pub mod sdp;
mod sense;

pub use error::{ProblemError, ReadError};
pub use sense::Sense;

// Crates whose types appear in public signatures, so that users need no extra dependency (and
// get the same versions): sparse matrices of the NLP trait (`sprs::CsMat`), faer's parallelism
// and matrices, complex MIMO symbols, and with the `nalgebra` feature nalgebra's matrices.
pub use faer;
#[cfg(feature = "nalgebra")]
pub use nalgebra;
#[cfg(feature = "nalgebra")]
pub use nalgebra_sparse;
pub use num_complex;
pub use sprs;
