//! Weighted undirected graphs in compressed sparse row (CSR) form.
//!
//! A [`Graph`] stores the symmetric adjacency matrix `W` (both `w_uv` and `w_vu`) as a
//! [`sprs::CsMat`], so the neighbours of `v` with their weights are one contiguous slice.
//! Weights are real and may be negative (Gset has ±1 graphs). Self-loops are rejected: they
//! never change a cut, and silently dropping them would change the reported total weight.
//! Duplicate edges are rejected by [`Graph::from_edges`] and summed by
//! [`Graph::from_edges_summed`].

use crate::error::ProblemError;
use sprs::CsMat;

/// An undirected edge `(u, v, w)` with 0-based ends.
pub type Edge = (usize, usize, f64);

/// A weighted undirected graph on vertices `0..n`, stored as a symmetric CSR matrix.
#[derive(Debug, Clone)]
pub struct Graph {
    adj: CsMat<f64>,
    num_edges: usize,
}

impl Graph {
    /// Build from a list of undirected edges; fails on out-of-range vertices, self-loops,
    /// non-finite weights and repeated vertex pairs (in either orientation).
    ///
    /// ```
    /// use mathprog_problems::graph::Graph;
    /// let g = Graph::from_edges(3, &[(0, 1, 2.0), (1, 2, -1.0)]).unwrap();
    /// assert_eq!(g.num_edges(), 2);
    /// assert!(Graph::from_edges(3, &[(0, 1, 1.0), (1, 0, 1.0)]).is_err());
    /// ```
    pub fn from_edges(n: usize, edges: &[Edge]) -> Result<Self, ProblemError> {
        Self::build(n, edges, false)
    }

    /// Like [`Graph::from_edges`], but a repeated vertex pair is merged into one edge whose
    /// weight is the sum of the repetitions.
    pub fn from_edges_summed(n: usize, edges: &[Edge]) -> Result<Self, ProblemError> {
        Self::build(n, edges, true)
    }

    fn build(n: usize, edges: &[Edge], sum_duplicates: bool) -> Result<Self, ProblemError> {
        // Degrees, row pointers and the solvers' per-vertex vectors: a few words a vertex.
        crate::limits::check_alloc("a graph's vertices", n.saturating_add(1), 32)?;
        for (k, &(u, v, w)) in edges.iter().enumerate() {
            for x in [u, v] {
                if x >= n {
                    return Err(ProblemError::VertexOutOfRange {
                        edge: k,
                        vertex: x,
                        n,
                    });
                }
            }
            if u == v {
                return Err(ProblemError::SelfLoop { edge: k, vertex: u });
            }
            if !w.is_finite() {
                return Err(ProblemError::NonFiniteWeight { edge: k, weight: w });
            }
        }
        // Canonical (min, max) pairs, sorted; equal neighbours are duplicates.
        let mut order: Vec<usize> = (0..edges.len()).collect();
        let key = |k: usize| {
            let (u, v, _) = edges[k];
            (u.min(v), u.max(v))
        };
        order.sort_unstable_by_key(|&k| (key(k), k));
        let mut merged: Vec<Edge> = Vec::with_capacity(edges.len());
        let mut first_of_last = usize::MAX;
        for &k in &order {
            let (a, b) = key(k);
            let w = edges[k].2;
            match merged.last_mut() {
                Some(last) if (last.0, last.1) == (a, b) => {
                    if !sum_duplicates {
                        return Err(ProblemError::DuplicateEdge {
                            edge: k,
                            u: a,
                            v: b,
                            first: first_of_last,
                        });
                    }
                    last.2 += w;
                }
                _ => {
                    merged.push((a, b, w));
                    first_of_last = k;
                }
            }
        }
        let total: f64 = merged.iter().map(|e| e.2.abs()).sum();
        crate::limits::check_magnitude("the edge weights", total)?;
        // CSR of the symmetric matrix. `merged` is sorted by (a, b) with a < b.
        let mut deg = vec![0usize; n + 1];
        for &(a, b, _) in &merged {
            deg[a + 1] += 1;
            deg[b + 1] += 1;
        }
        for i in 0..n {
            deg[i + 1] += deg[i];
        }
        let indptr = deg;
        let mut fill = indptr.clone();
        let nnz = indptr[n];
        let mut indices = vec![0usize; nnz];
        let mut data = vec![0f64; nnz];
        // Row r receives first its lower neighbours (as b of pairs (a, r), a < r) in increasing
        // order, then its upper neighbours; two passes keep each row sorted without a sort.
        for &(a, b, w) in &merged {
            indices[fill[b]] = a;
            data[fill[b]] = w;
            fill[b] += 1;
        }
        for &(a, b, w) in &merged {
            indices[fill[a]] = b;
            data[fill[a]] = w;
            fill[a] += 1;
        }
        let adj = CsMat::try_new((n, n), indptr, indices, data).map_err(|e| {
            ProblemError::Invalid(format!("internal CSR construction failed: {:?}", e.3))
        })?;
        Ok(Graph {
            adj,
            num_edges: merged.len(),
        })
    }

    /// Number of vertices `n`.
    pub fn num_vertices(&self) -> usize {
        self.adj.rows()
    }

    /// Number of undirected edges `m` (after merging duplicates).
    pub fn num_edges(&self) -> usize {
        self.num_edges
    }

    /// The symmetric adjacency matrix `W` in CSR form (each edge stored twice).
    pub fn adjacency(&self) -> &CsMat<f64> {
        &self.adj
    }

    /// Raw CSR arrays `(indptr, indices, weights)`: the neighbours of `v` are
    /// `indices[indptr[v]..indptr[v + 1]]` with weights `weights[..]` at the same positions.
    #[inline]
    pub fn csr(&self) -> (&[usize], &[usize], &[f64]) {
        (
            self.adj.indptr().into_raw_storage(),
            self.adj.indices(),
            self.adj.data(),
        )
    }

    /// Neighbours of `v` with their weights.
    pub fn neighbors(&self, v: usize) -> impl Iterator<Item = (usize, f64)> + '_ {
        let (p, i, w) = self.csr();
        (p[v]..p[v + 1]).map(move |k| (i[k], w[k]))
    }

    /// Each undirected edge once, as `(u, v, w)` with `u < v`, in row order.
    pub fn edges(&self) -> impl Iterator<Item = Edge> + '_ {
        (0..self.num_vertices()).flat_map(move |u| {
            self.neighbors(u)
                .filter(move |&(v, _)| v > u)
                .map(move |(v, w)| (u, v, w))
        })
    }

    /// Weighted degree `d_v = Σ_u w_uv` of every vertex.
    pub fn weighted_degrees(&self) -> Vec<f64> {
        (0..self.num_vertices())
            .map(|v| self.neighbors(v).map(|(_, w)| w).sum())
            .collect()
    }

    /// Sum of all edge weights `Σ_{u<v} w_uv`.
    pub fn total_weight(&self) -> f64 {
        self.adj.data().iter().sum::<f64>() / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_are_summed_or_rejected_and_rows_are_sorted() {
        let edges = [(2, 0, 1.5), (0, 1, 1.0), (0, 2, -0.5), (1, 2, 2.0)];
        let e = Graph::from_edges(3, &edges).unwrap_err();
        assert_eq!(
            e,
            ProblemError::DuplicateEdge {
                edge: 2,
                u: 0,
                v: 2,
                first: 0
            }
        );
        let g = Graph::from_edges_summed(3, &edges).unwrap();
        assert_eq!(g.num_edges(), 3);
        assert_eq!(
            g.edges().collect::<Vec<_>>(),
            vec![(0, 1, 1.0), (0, 2, 1.0), (1, 2, 2.0)]
        );
        assert_eq!(g.neighbors(2).collect::<Vec<_>>(), vec![(0, 1.0), (1, 2.0)]);
        assert_eq!(g.weighted_degrees(), vec![2.0, 3.0, 3.0]);
        assert_eq!(g.total_weight(), 4.0);
        assert!(matches!(
            Graph::from_edges(3, &[(0, 3, 1.0)]),
            Err(ProblemError::VertexOutOfRange { vertex: 3, .. })
        ));
        assert!(matches!(
            Graph::from_edges(3, &[(1, 1, 1.0)]),
            Err(ProblemError::SelfLoop { vertex: 1, .. })
        ));
        assert!(matches!(
            Graph::from_edges(3, &[(0, 1, f64::NAN)]),
            Err(ProblemError::NonFiniteWeight { .. })
        ));
    }
}
