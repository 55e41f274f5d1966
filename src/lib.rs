//! # mathprog
//!
//! A mathematical-programming solver suite: this crate re-exports the problem layer
//! ([`problems`]) and the algorithms ([`solvers`]). The command-line tool is `solve`
//! (crate `mathprog-cli`).
//!
//! ```
//! use mathprog::problems::{graph::Graph, maxcut::MaxCut};
//! use mathprog::solvers::{binary::mcpg, core::NoObserver};
//! let g = Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (3, 0, 1.0)]).unwrap();
//! let p = MaxCut::new(g);
//! let mut s = mcpg::McpgSettings::default();
//! s.common.max_iter = Some(5);
//! let r = mcpg::solve(&p, &s, &mut NoObserver).unwrap();
//! assert_eq!(r.objective, 4.0); // an even cycle is bipartite
//! ```
#![deny(missing_docs)]

pub use mathprog_problems as problems;
pub use mathprog_solvers as solvers;

/// The crates whose types appear in our public signatures (`sprs::CsMat` in
/// [`problems::nlp::EqualityNlp`], `faer::Par`, `num_complex::Complex64` of MIMO symbols, and
/// with the `nalgebra` feature nalgebra's matrices), re-exported so that callers need no extra
/// dependency and get matching versions.
pub mod deps {
    pub use mathprog_problems::{faer, num_complex, sprs};
    #[cfg(feature = "nalgebra")]
    pub use mathprog_problems::{nalgebra, nalgebra_sparse};
}

/// The types every solve touches: the report and its parts, settings' common part, the
/// observer interface, errors and the objective sense.
pub mod prelude {
    pub use mathprog_problems::Sense;
    pub use mathprog_solvers::core::{
        Backend, Common, Control, IterRecord, NoObserver, Observer, Report, SolveError, Status,
        StopToken,
    };
}
