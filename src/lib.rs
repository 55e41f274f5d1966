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
