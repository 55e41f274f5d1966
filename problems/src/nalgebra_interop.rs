//! Constructors from [nalgebra](https://docs.rs/nalgebra) and
//! [nalgebra-sparse](https://docs.rs/nalgebra-sparse) types (cargo feature `nalgebra`).
//!
//! nalgebra stores matrices **column-major**; the raw-slice constructors of this crate take
//! row-major data and say so in their names (`from_row_major`). Passing a `DMatrix`'s
//! `as_slice()` to them would give the transposed problem: these constructors convert by
//! index instead, so either storage order is right, and they check the dimensions against
//! each other.
//!
//! ```
//! use nalgebra::{DMatrix, DVector};
//! use mathprog_problems::game::MatrixGame;
//! use mathprog_problems::ot::OtProblem;
//! // A 2 x 3 game: entry (i, j) of the DMatrix is A_ij, whatever the storage.
//! let a = DMatrix::from_row_slice(2, 3, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let g = MatrixGame::from_nalgebra("demo", &a).unwrap();
//! assert_eq!((g.rows(), g.cols(), g.entry(0, 2)), (2, 3, 3.0));
//! // OT with marginals as vectors and the cost as an n x m matrix.
//! let p = OtProblem::from_nalgebra(
//!     &DVector::from_vec(vec![0.5, 0.5]),
//!     &DVector::from_vec(vec![0.25, 0.25, 0.5]),
//!     &a,
//! )
//! .unwrap();
//! assert_eq!(p.cost()[2], 3.0); // row-major inside
//! ```

use crate::Sense;
use crate::error::ProblemError;
use crate::game::MatrixGame;
use crate::graph::Graph;
use crate::nlp::logreg::Features;
use crate::ot::OtProblem;
use crate::qubo::{Domain, Qubo};
use nalgebra::{DMatrix, DVector};
use nalgebra_sparse::CsrMatrix;

/// The entries of `m` in row-major order.
fn row_major(m: &DMatrix<f64>) -> Vec<f64> {
    let (r, c) = m.shape();
    (0..r * c).map(|k| m[(k / c, k % c)]).collect()
}

impl OtProblem {
    /// An OT problem from nalgebra types: marginals `a` (n) and `b` (m), cost `n × m`.
    pub fn from_nalgebra(
        a: &DVector<f64>,
        b: &DVector<f64>,
        cost: &DMatrix<f64>,
    ) -> Result<Self, ProblemError> {
        if cost.shape() != (a.len(), b.len()) {
            return Err(ProblemError::Invalid(format!(
                "the cost matrix is {} x {} but the marginals have {} and {} entries",
                cost.nrows(),
                cost.ncols(),
                a.len(),
                b.len()
            )));
        }
        OtProblem::from_row_major(
            a.as_slice().to_vec(),
            b.as_slice().to_vec(),
            row_major(cost),
        )
    }
}

impl MatrixGame {
    /// The game `min_x max_y xᵀAy` with `A` a nalgebra matrix (rows: the minimising player).
    pub fn from_nalgebra(name: &str, a: &DMatrix<f64>) -> Result<Self, ProblemError> {
        MatrixGame::from_row_major(name, a.nrows(), a.ncols(), row_major(a))
    }
}

impl Qubo {
    /// `xᵀQx` with `Q` a symmetric nalgebra matrix (checked, as [`Qubo::from_dense`] does).
    pub fn from_nalgebra(
        q: &DMatrix<f64>,
        domain: Domain,
        sense: Sense,
    ) -> Result<Self, ProblemError> {
        if !q.is_square() {
            return Err(ProblemError::Invalid(format!(
                "a QUBO matrix must be square, got {} x {}",
                q.nrows(),
                q.ncols()
            )));
        }
        Qubo::from_dense(q.nrows(), &row_major(q), domain, sense)
    }
}

impl Graph {
    /// A graph from a symmetric sparse adjacency matrix (`w_ij = A_ij`, zero diagonal); each
    /// edge is read from the upper triangle and must be matched by an equal entry below it.
    ///
    /// ```
    /// use nalgebra_sparse::{CooMatrix, CsrMatrix};
    /// use mathprog_problems::graph::Graph;
    /// let mut coo = CooMatrix::new(3, 3);
    /// for (i, j) in [(0, 1), (1, 2)] {
    ///     coo.push(i, j, 1.0);
    ///     coo.push(j, i, 1.0);
    /// }
    /// let g = Graph::from_nalgebra_sparse(&CsrMatrix::from(&coo)).unwrap();
    /// assert_eq!((g.num_vertices(), g.num_edges()), (3, 2));
    /// ```
    pub fn from_nalgebra_sparse(a: &CsrMatrix<f64>) -> Result<Self, ProblemError> {
        let n = a.nrows();
        if a.ncols() != n {
            return Err(ProblemError::Invalid(format!(
                "an adjacency matrix must be square, got {n} x {}",
                a.ncols()
            )));
        }
        let entry =
            |i: usize, j: usize| -> f64 { a.get_entry(i, j).map_or(0.0, |e| e.into_value()) };
        let mut edges = Vec::new();
        for (i, j, &w) in a.triplet_iter() {
            if i == j && w != 0.0 {
                return Err(ProblemError::Invalid(format!(
                    "adjacency entry ({i}, {i}) = {w}: self-loops are not edges"
                )));
            }
            if i < j && w != 0.0 {
                if entry(j, i) != w {
                    return Err(ProblemError::Invalid(format!(
                        "the adjacency matrix is not symmetric: A[{i}, {j}] = {w}, A[{j}, {i}] = {}",
                        entry(j, i)
                    )));
                }
                edges.push((i, j, w));
            }
            if i > j && w != 0.0 && entry(j, i) == 0.0 {
                return Err(ProblemError::Invalid(format!(
                    "the adjacency matrix is not symmetric: A[{i}, {j}] = {w}, A[{j}, {i}] = 0"
                )));
            }
        }
        Graph::from_edges(n, &edges)
    }
}

impl Features {
    /// Dense features from a nalgebra matrix: one sample per row.
    pub fn from_nalgebra(x: &DMatrix<f64>) -> Self {
        Features::DenseRowMajor {
            rows: x.nrows(),
            cols: x.ncols(),
            data: row_major(x),
        }
    }
}
