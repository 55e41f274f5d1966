//! Semidefinite programs in standard form, and the MaxCut SDP.
//!
//! `min ⟨C, X⟩  s.t.  ⟨A_i, X⟩ = b_i (i = 1..m),  X ⪰ 0`,
//!
//! where `X` is block diagonal: every block is either a dense symmetric block (`X_k ⪰ 0`) or a
//! diagonal block (`X_k = Diag(x)`, `x ≥ 0`: linear-programming variables), as in the SDPA
//! format ([`crate::io::sdpa`]). The dual is `max bᵀy  s.t.  C − Σ y_i A_i ⪰ 0`.
//!
//! The MaxCut SDP (Goemans–Williamson) of a graph with Laplacian `L` is
//! `max ¼⟨L, X⟩ s.t. diag X = 1, X ⪰ 0`, an upper bound on the maximum cut; [`MaxCutSdp`]
//! evaluates its objective and, for any `y ∈ ℝⁿ`, the certified dual bound
//! `Σ y + n · max(0, λ_max(L/4 − Diag(y)))` (weak duality with `tr X = n`).

use crate::error::ProblemError;
use crate::graph::Graph;

/// The structure of one diagonal block of `X`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Block {
    /// A dense symmetric `n × n` block, constrained PSD.
    Dense(usize),
    /// A diagonal `n × n` block: `n` non-negative scalars.
    Diagonal(usize),
}

impl Block {
    /// Side length.
    pub fn size(self) -> usize {
        match self {
            Block::Dense(n) | Block::Diagonal(n) => n,
        }
    }
}

/// One entry of a block-diagonal symmetric matrix: block `block`, position `(i, j)` with
/// `i ≤ j` (0-based within the block); the entry `(j, i)` has the same value.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Entry {
    /// Block index (0-based).
    pub block: usize,
    /// Row within the block (`i ≤ j`).
    pub i: usize,
    /// Column within the block.
    pub j: usize,
    /// Value.
    pub v: f64,
}

/// A sparse symmetric block-diagonal matrix: upper-triangle entries, sorted by
/// `(block, i, j)`, without duplicates or zeros.
#[derive(Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct SymBlockMatrix {
    entries: Vec<Entry>,
}

impl SymBlockMatrix {
    /// Build from entries (either triangle; duplicates are summed, zeros dropped), checking
    /// them against the block structure. Diagonal blocks accept only diagonal entries.
    pub fn new(blocks: &[Block], raw: Vec<Entry>) -> Result<Self, ProblemError> {
        let mut entries = Vec::with_capacity(raw.len());
        for mut e in raw {
            let Some(b) = blocks.get(e.block) else {
                return Err(ProblemError::Invalid(format!(
                    "entry in block {} but there are {} blocks",
                    e.block + 1,
                    blocks.len()
                )));
            };
            if e.i > e.j {
                std::mem::swap(&mut e.i, &mut e.j);
            }
            if e.j >= b.size() {
                return Err(ProblemError::Invalid(format!(
                    "entry ({}, {}) outside block {} of size {}",
                    e.i + 1,
                    e.j + 1,
                    e.block + 1,
                    b.size()
                )));
            }
            if matches!(b, Block::Diagonal(_)) && e.i != e.j {
                return Err(ProblemError::Invalid(format!(
                    "off-diagonal entry ({}, {}) in diagonal block {}",
                    e.i + 1,
                    e.j + 1,
                    e.block + 1
                )));
            }
            if !e.v.is_finite() {
                return Err(ProblemError::Invalid(format!(
                    "entry ({}, {}) of block {} is {}",
                    e.i + 1,
                    e.j + 1,
                    e.block + 1,
                    e.v
                )));
            }
            entries.push(e);
        }
        entries.sort_by_key(|e| (e.block, e.i, e.j));
        let mut merged: Vec<Entry> = Vec::with_capacity(entries.len());
        for e in entries {
            match merged.last_mut() {
                Some(l) if (l.block, l.i, l.j) == (e.block, e.i, e.j) => l.v += e.v,
                _ => merged.push(e),
            }
        }
        merged.retain(|e| e.v != 0.0);
        Ok(SymBlockMatrix { entries: merged })
    }

    /// The entries (upper triangle, sorted).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// `⟨M, X⟩ = Σ_k tr(M_k X_k)` for `X` given as dense blocks (row-major, full symmetric).
    pub fn dot_dense(&self, x: &[Vec<f64>], blocks: &[Block]) -> f64 {
        self.entries
            .iter()
            .map(|e| {
                let n = blocks[e.block].size();
                let xb = &x[e.block];
                match blocks[e.block] {
                    Block::Diagonal(_) => e.v * xb[e.i],
                    Block::Dense(_) if e.i == e.j => e.v * xb[e.i * n + e.i],
                    Block::Dense(_) => 2.0 * e.v * xb[e.i * n + e.j],
                }
            })
            .sum()
    }
}

/// A standard-form SDP (see the module documentation).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SdpProblem {
    blocks: Vec<Block>,
    c: SymBlockMatrix,
    a: Vec<SymBlockMatrix>,
    b: Vec<f64>,
}

impl SdpProblem {
    /// Build and validate: as many `A_i` as `b_i`, finite `b`, at least one block.
    pub fn new(
        blocks: Vec<Block>,
        c: SymBlockMatrix,
        a: Vec<SymBlockMatrix>,
        b: Vec<f64>,
    ) -> Result<Self, ProblemError> {
        if blocks.is_empty() || blocks.iter().any(|b| b.size() == 0) {
            return Err(ProblemError::Invalid(
                "an SDP needs at least one block, and no empty block".into(),
            ));
        }
        if a.len() != b.len() {
            return Err(ProblemError::Invalid(format!(
                "{} constraint matrices but {} right-hand sides",
                a.len(),
                b.len()
            )));
        }
        if let Some(i) = b.iter().position(|v| !v.is_finite()) {
            return Err(ProblemError::Invalid(format!("b[{}] is {}", i + 1, b[i])));
        }
        let check = |m: &SymBlockMatrix, what: &str| -> Result<(), ProblemError> {
            for e in m.entries() {
                let ok = blocks
                    .get(e.block)
                    .is_some_and(|bl| e.j < bl.size() && e.i <= e.j);
                if !ok {
                    return Err(ProblemError::Invalid(format!(
                        "{what}: entry ({}, {}) of block {} does not fit the block structure",
                        e.i + 1,
                        e.j + 1,
                        e.block + 1
                    )));
                }
            }
            Ok(())
        };
        check(&c, "C")?;
        for (i, ai) in a.iter().enumerate() {
            check(ai, &format!("A_{}", i + 1))?;
        }
        Ok(SdpProblem { blocks, c, a, b })
    }

    /// The block structure.
    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }
    /// The objective matrix `C`.
    pub fn c(&self) -> &SymBlockMatrix {
        &self.c
    }
    /// The constraint matrices `A_i`.
    pub fn a(&self) -> &[SymBlockMatrix] {
        &self.a
    }
    /// The right-hand side `b`.
    pub fn b(&self) -> &[f64] {
        &self.b
    }
    /// Number of constraints `m`.
    pub fn num_constraints(&self) -> usize {
        self.b.len()
    }
    /// Total side length `Σ_k n_k` of `X`.
    pub fn dim(&self) -> usize {
        self.blocks.iter().map(|b| b.size()).sum()
    }
}

/// The MaxCut SDP of a weighted graph: `max ¼⟨L, X⟩ s.t. diag X = 1, X ⪰ 0`.
///
/// Its optimum is an upper bound on the maximum cut (`¼⟨L, xxᵀ⟩` is the cut of `x ∈ {±1}ⁿ`).
/// The dual is `min Σ y s.t. Diag(y) − L/4 ⪰ 0`; for any `y`,
/// `Σ y + n · max(0, λ_max(L/4 − Diag(y)))` is a valid upper bound, since every feasible `X`
/// has `tr X = n`.
#[derive(Debug, Clone)]
pub struct MaxCutSdp {
    graph: Graph,
    degrees: Vec<f64>,
}

impl MaxCutSdp {
    /// The SDP of `graph`.
    pub fn new(graph: Graph) -> Self {
        let degrees = graph.weighted_degrees();
        MaxCutSdp { graph, degrees }
    }
    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }
    /// Number of vertices `n`.
    pub fn n(&self) -> usize {
        self.graph.num_vertices()
    }
    /// Weighted degrees (`L = Diag(deg) − W`).
    pub fn degrees(&self) -> &[f64] {
        &self.degrees
    }

    /// `out = (L/4 − Diag(y)) x + shift · x`, the operator whose top eigenvalue certifies
    /// the bound (matrix-free: one pass over the adjacency, parallel over rows).
    pub fn apply_shifted(&self, y: &[f64], shift: f64, x: &[f64], out: &mut [f64]) {
        use rayon::prelude::*;
        let (ptr, idx, val) = self.graph.csr();
        out.par_iter_mut()
            .enumerate()
            .with_min_len(1024)
            .for_each(|(v, o)| {
                let mut acc = 0.0;
                for k in ptr[v]..ptr[v + 1] {
                    acc += val[k] * x[idx[k]];
                }
                *o = 0.25 * (self.degrees[v] * x[v] - acc) - y[v] * x[v] + shift * x[v];
            });
    }

    /// `¼⟨L, VVᵀ⟩` for a factor `V` (`n × r`, row-major): the SDP objective of `X = VVᵀ`.
    pub fn objective_of_factor(&self, v: &[f64], r: usize) -> f64 {
        let (ptr, idx, val) = self.graph.csr();
        let mut s = 0.0;
        for a in 0..self.n() {
            let va = &v[a * r..(a + 1) * r];
            let mut sq = 0.0;
            for x in va {
                sq += x * x;
            }
            s += self.degrees[a] * sq;
            for k in ptr[a]..ptr[a + 1] {
                let vb = &v[idx[k] * r..(idx[k] + 1) * r];
                let d: f64 = va.iter().zip(vb).map(|(p, q)| p * q).sum();
                s -= val[k] * d;
            }
        }
        0.25 * s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrices_are_normalised_and_checked() {
        let blocks = [Block::Dense(2), Block::Diagonal(3)];
        let e = |block, i, j, v| Entry { block, i, j, v };
        let m = SymBlockMatrix::new(
            &blocks,
            vec![
                e(0, 1, 0, 2.0),
                e(0, 0, 1, 1.0),
                e(1, 2, 2, 4.0),
                e(0, 1, 1, 0.0),
            ],
        )
        .unwrap();
        assert_eq!(m.entries(), &[e(0, 0, 1, 3.0), e(1, 2, 2, 4.0)]);
        // <M, X> with X = [[1, 5], [5, 1]], diag(7, 8, 9).
        let x = vec![vec![1.0, 5.0, 5.0, 1.0], vec![7.0, 8.0, 9.0]];
        assert_eq!(m.dot_dense(&x, &blocks), 2.0 * 3.0 * 5.0 + 4.0 * 9.0);
        assert!(SymBlockMatrix::new(&blocks, vec![e(1, 0, 1, 1.0)]).is_err());
        assert!(SymBlockMatrix::new(&blocks, vec![e(0, 0, 2, 1.0)]).is_err());
        assert!(SymBlockMatrix::new(&blocks, vec![e(2, 0, 0, 1.0)]).is_err());
        assert!(SymBlockMatrix::new(&blocks, vec![e(0, 0, 0, f64::NAN)]).is_err());
        assert!(SdpProblem::new(blocks.to_vec(), m.clone(), vec![m.clone()], vec![]).is_err());
        assert!(SdpProblem::new(vec![], m.clone(), vec![], vec![]).is_err());
        let p = SdpProblem::new(blocks.to_vec(), m.clone(), vec![m], vec![1.0]).unwrap();
        assert_eq!((p.num_constraints(), p.dim()), (1, 5));
    }

    #[test]
    fn maxcut_sdp_operator_and_objective() {
        // Triangle with unit weights: the max cut is 2, the SDP value 9/4 (X = 1.5 I − 0.5 J).
        let g = Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]).unwrap();
        let s = MaxCutSdp::new(g);
        // Factor of X = 1.5 I − 0.5 J: rows are unit vectors at 120 degrees.
        let r3 = 3f64.sqrt() / 2.0;
        let v = [1.0, 0.0, -0.5, r3, -0.5, -r3];
        assert!((s.objective_of_factor(&v, 2) - 2.25).abs() < 1e-12);
        // With y = 3/4 · 1, L/4 − Diag(y) = −J/4 has λ_max = 0: the bound is Σy = 9/4.
        let y = [0.75; 3];
        let mut out = [0.0; 3];
        s.apply_shifted(&y, 0.0, &[1.0, 1.0, 1.0], &mut out);
        assert!(out.iter().all(|o| (o + 0.75).abs() < 1e-12));
        s.apply_shifted(&y, 1.0, &[1.0, -1.0, 0.0], &mut out);
        assert!((out[0] - 1.0).abs() < 1e-12 && (out[1] + 1.0).abs() < 1e-12);
    }
}
