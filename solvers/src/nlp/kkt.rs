//! The Newton–KKT system `K z = b`, `K = [[B, Gᵀ], [G, 0]]` (symmetric, indefinite), and its
//! solvers: a sparse direct LU (faer) and randomized **sketch-and-project** iterations
//! (Gower & Richtárik 2015; as used by Hong, Na, Mahoney & Kolar, ICML 2023):
//!
//! `z ← z − K S (Sᵀ K² S)^† Sᵀ r`, `r = K z − b`,
//!
//! with `S = e_i` (randomized Kaczmarz, rows drawn with probability `∝ ‖K_i‖²`), `S` Gaussian,
//! or `S` a block of rows (drawn `∝ ‖K_i‖²`, the `b × b` system `K_Sᵀ K_S` solved by faer's
//! Cholesky). The iterations project onto one (block of) equation(s) of `K z = b` at a time, so
//! they converge for any consistent system; their rate is governed by `K²`.

use crate::core::uniform01;
use faer::linalg::solvers::Solve;
use faer::sparse::{SparseColMat, Triplet};
use faer::{Mat, Side};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// How the KKT systems are solved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum KktMethod {
    /// Projected CG for problems with a Hessian operator (logistic regression), else direct
    /// (the operator is `EqualityNlp::hessian_operator`).
    Auto,
    /// Projected conjugate gradients on the null space of the Jacobian: matrix-free, one
    /// Hessian-vector product per step.
    Cg,
    /// Sparse LU with partial pivoting (faer): exact up to rounding.
    Direct,
    /// Randomized Kaczmarz (S = e_i, rows drawn in proportion to their squared norms).
    Kaczmarz,
    /// Gaussian sketch (S ~ N(0, I), one column).
    Gaussian,
    /// Block sketch: block_size rows drawn in proportion to their squared norms per step, a
    /// small dense solve (the default sketch).
    #[cfg_attr(feature = "clap", value(name = "sketch"))]
    Block,
}

impl KktMethod {
    /// The name in reports (`"cg"`, `"direct"`, `"block"`, ...; the JSON value).
    pub fn name(self) -> &'static str {
        match self {
            KktMethod::Auto => "auto",
            KktMethod::Cg => "cg",
            KktMethod::Direct => "direct",
            KktMethod::Kaczmarz => "kaczmarz",
            KktMethod::Gaussian => "gaussian",
            KktMethod::Block => "block",
        }
    }
}

/// A square sparse matrix in CSR form (symmetric here, so rows are also columns).
#[derive(Debug, Clone)]
pub struct Csr {
    /// Order.
    pub n: usize,
    /// Row pointers.
    pub ptr: Vec<usize>,
    /// Column indices.
    pub idx: Vec<usize>,
    /// Values.
    pub val: Vec<f64>,
}

impl Csr {
    /// From triplets (duplicates summed, zeros kept).
    pub fn from_triplets(n: usize, t: &[(usize, usize, f64)]) -> Self {
        let mut count = vec![0usize; n + 1];
        for &(i, _, _) in t {
            count[i + 1] += 1;
        }
        for i in 0..n {
            count[i + 1] += count[i];
        }
        let mut fill = count.clone();
        let mut idx = vec![0; t.len()];
        let mut val = vec![0.0; t.len()];
        for &(i, j, v) in t {
            idx[fill[i]] = j;
            val[fill[i]] = v;
            fill[i] += 1;
        }
        // Sort each row by column and merge duplicates.
        let mut ptr = vec![0usize; n + 1];
        let (mut oi, mut ov) = (Vec::with_capacity(t.len()), Vec::with_capacity(t.len()));
        for i in 0..n {
            let mut row: Vec<(usize, f64)> =
                (count[i]..count[i + 1]).map(|k| (idx[k], val[k])).collect();
            row.sort_by_key(|e| e.0);
            for (j, v) in row {
                if oi.len() > ptr[i] && *oi.last().unwrap_or(&usize::MAX) == j {
                    *ov.last_mut().unwrap_or(&mut 0.0) += v;
                } else {
                    oi.push(j);
                    ov.push(v);
                }
            }
            ptr[i + 1] = oi.len();
        }
        Csr {
            n,
            ptr,
            idx: oi,
            val: ov,
        }
    }

    /// `out = K x` (parallel over rows).
    pub fn matvec(&self, x: &[f64], out: &mut [f64]) {
        out.par_iter_mut()
            .enumerate()
            .with_min_len(2048)
            .for_each(|(i, o)| {
                let mut acc = 0.0;
                for k in self.ptr[i]..self.ptr[i + 1] {
                    acc += self.val[k] * x[self.idx[k]];
                }
                *o = acc;
            });
    }

    /// `‖K_i‖²` of every row.
    pub fn row_norms2(&self) -> Vec<f64> {
        (0..self.n)
            .map(|i| {
                self.val[self.ptr[i]..self.ptr[i + 1]]
                    .iter()
                    .map(|v| v * v)
                    .sum()
            })
            .collect()
    }
}

/// Outcome of an iterative solve.
#[derive(Debug, Clone, Copy)]
pub struct InnerResult {
    /// Sketch-and-project steps taken.
    pub steps: usize,
    /// Final `‖K z − b‖`.
    pub residual: f64,
}

/// Draws indices with probability `∝ w_i` (cumulative table, binary search).
struct Sampler {
    cum: Vec<f64>,
}

impl Sampler {
    fn new(w: &[f64]) -> Self {
        let mut acc = 0.0;
        let cum = w
            .iter()
            .map(|v| {
                acc += v;
                acc
            })
            .collect();
        Sampler { cum }
    }
    fn draw(&self, rng: &mut Xoshiro256PlusPlus) -> usize {
        let total = *self.cum.last().unwrap_or(&0.0);
        let u = uniform01(rng) * total;
        self.cum
            .partition_point(|c| *c <= u)
            .min(self.cum.len() - 1)
    }
}

/// Warm start for sketch-and-project: the point of least residual `‖K z − b‖` in the span of
/// earlier Newton steps `p_1, …, p_q` (a small least-squares problem on `K p_i`), written to
/// `z` (zero when no step helps). Near a degenerate solution consecutive Newton steps are
/// nearly parallel and their common direction is the ill-conditioned one that
/// sketch-and-project resolves slowest, so recycling it saves most of the inner steps.
pub fn recycled_start(k: &Csr, b: &[f64], prev: &[Vec<f64>], z: &mut [f64]) {
    z.fill(0.0);
    let q = prev.len();
    if q == 0 {
        return;
    }
    let kp: Vec<Vec<f64>> = prev
        .iter()
        .map(|p| {
            let mut out = vec![0.0; k.n];
            k.matvec(p, &mut out);
            out
        })
        .collect();
    let dot = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(x, y)| x * y).sum::<f64>();
    let mut gram = Mat::<f64>::from_fn(q, q, |i, j| dot(&kp[i], &kp[j]));
    let scale = (0..q).map(|i| gram[(i, i)]).fold(0.0, f64::max);
    if !(scale > 0.0 && scale.is_finite()) {
        return;
    }
    for i in 0..q {
        gram[(i, i)] += 1e-12 * scale;
    }
    let mut rhs = Mat::<f64>::from_fn(q, 1, |i, _| dot(&kp[i], b));
    let Ok(ch) = gram.as_ref().llt(Side::Lower) else {
        return;
    };
    ch.solve_in_place(rhs.as_mut());
    if (0..q).any(|i| !rhs[(i, 0)].is_finite()) {
        return;
    }
    for (i, p) in prev.iter().enumerate() {
        let a = rhs[(i, 0)];
        for (zj, pj) in z.iter_mut().zip(p) {
            *zj += a * pj;
        }
    }
}

/// Solve `K z = b` by sketch-and-project from `z` (updated in place) until
/// `‖K z − b‖ ≤ target` or `max_steps` steps. `block` is the block size of
/// [`KktMethod::Block`].
#[allow(clippy::too_many_arguments)]
pub fn sketch_solve(
    k: &Csr,
    b: &[f64],
    z: &mut [f64],
    method: KktMethod,
    block: usize,
    target: f64,
    max_steps: usize,
    rng: &mut Xoshiro256PlusPlus,
) -> InnerResult {
    let n = k.n;
    let mut r = vec![0.0; n];
    k.matvec(z, &mut r);
    for (ri, bi) in r.iter_mut().zip(b) {
        *ri -= bi;
    }
    let norm = |r: &[f64]| r.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut res = norm(&r);
    let rn2 = k.row_norms2();
    let sampler = Sampler::new(&rn2);
    let mut steps = 0;
    let mut w = vec![0.0; n];
    let mut kw = vec![0.0; n];
    match method {
        KktMethod::Kaczmarz => {
            // Residual checked once per sweep of n steps (its norm is O(n) to compute).
            while res > target && steps < max_steps {
                for _ in 0..n.max(1) {
                    let i = sampler.draw(rng);
                    if rn2[i] == 0.0 {
                        continue;
                    }
                    let alpha = r[i] / rn2[i];
                    // z ← z − α K_iᵀ; r ← r − α K K_iᵀ (K symmetric: K K_iᵀ = Σ_j k_ij K_j).
                    for p in k.ptr[i]..k.ptr[i + 1] {
                        let (j, kij) = (k.idx[p], k.val[p]);
                        z[j] -= alpha * kij;
                        for q in k.ptr[j]..k.ptr[j + 1] {
                            r[k.idx[q]] -= alpha * kij * k.val[q];
                        }
                    }
                    steps += 1;
                }
                res = norm(&r);
            }
        }
        KktMethod::Gaussian => {
            let mut s = vec![0.0; n];
            while res > target && steps < max_steps {
                for si in s.iter_mut() {
                    *si = StandardNormal.sample(rng);
                }
                k.matvec(&s, &mut w);
                let ww: f64 = w.iter().map(|v| v * v).sum();
                if ww > 0.0 {
                    let alpha = s.iter().zip(&r).map(|(a, b)| a * b).sum::<f64>() / ww;
                    k.matvec(&w, &mut kw);
                    for ((zi, wi), (ri, kwi)) in z.iter_mut().zip(&w).zip(r.iter_mut().zip(&kw)) {
                        *zi -= alpha * wi;
                        *ri -= alpha * kwi;
                    }
                }
                steps += 1;
                res = norm(&r);
            }
        }
        KktMethod::Block => {
            let bs = block.clamp(1, n.max(1));
            let mut rows = Vec::with_capacity(bs);
            let mut dense = vec![0.0; n];
            let mut mark = vec![usize::MAX; n];
            // Workspaces of the b × b solve, allocated once.
            let mut gram = Mat::<f64>::zeros(bs, bs);
            let mut rhs = Mat::<f64>::zeros(bs, 1);
            while res > target && steps < max_steps {
                rows.clear();
                let mut tries = 0;
                while rows.len() < bs && tries < 8 * bs {
                    let i = sampler.draw(rng);
                    if mark[i] != steps && rn2[i] > 0.0 {
                        mark[i] = steps;
                        rows.push(i);
                    }
                    tries += 1;
                }
                let nb = rows.len();
                if nb == 0 {
                    break;
                }
                // Gram matrix K_Sᵀ K_S = [⟨K_a, K_b⟩] through a dense scatter of each row.
                let mut gram = gram.as_mut().submatrix_mut(0, 0, nb, nb);
                for (a, &ia) in rows.iter().enumerate() {
                    for p in k.ptr[ia]..k.ptr[ia + 1] {
                        dense[k.idx[p]] = k.val[p];
                    }
                    for (c, &ic) in rows.iter().enumerate().skip(a) {
                        let mut d = 0.0;
                        for p in k.ptr[ic]..k.ptr[ic + 1] {
                            d += dense[k.idx[p]] * k.val[p];
                        }
                        gram[(a, c)] = d;
                        gram[(c, a)] = d;
                    }
                    for p in k.ptr[ia]..k.ptr[ia + 1] {
                        dense[k.idx[p]] = 0.0;
                    }
                }
                let scale = (0..nb).map(|a| gram[(a, a)]).fold(0.0, f64::max);
                for a in 0..nb {
                    gram[(a, a)] += 1e-12 * scale;
                }
                let mut rhs = rhs.as_mut().submatrix_mut(0, 0, nb, 1);
                for (a, &ia) in rows.iter().enumerate() {
                    rhs[(a, 0)] = r[ia];
                }
                match gram.as_ref().llt(Side::Lower) {
                    Ok(ch) => ch.solve_in_place(rhs.as_mut()),
                    Err(_) => {
                        // Dependent rows: fall back to one Kaczmarz step on the first.
                        rhs.fill(0.0);
                        rhs[(0, 0)] = r[rows[0]] / rn2[rows[0]];
                    }
                }
                // w = K_S y (sparse combination of rows), then r ← r − K w, z ← z − w.
                w.fill(0.0);
                for (a, &ia) in rows.iter().enumerate() {
                    let ya = rhs[(a, 0)];
                    for p in k.ptr[ia]..k.ptr[ia + 1] {
                        w[k.idx[p]] += ya * k.val[p];
                    }
                }
                k.matvec(&w, &mut kw);
                for ((zi, wi), (ri, kwi)) in z.iter_mut().zip(&w).zip(r.iter_mut().zip(&kw)) {
                    *zi -= wi;
                    *ri -= kwi;
                }
                steps += 1;
                res = norm(&r);
            }
        }
        KktMethod::Direct | KktMethod::Auto | KktMethod::Cg => {}
    }
    InnerResult {
        steps,
        residual: res,
    }
}

/// Solve `K z = b` exactly by sparse LU (faer, partial pivoting).
pub fn direct_solve(k: &Csr, b: &[f64]) -> Result<Vec<f64>, String> {
    let mut t = Vec::with_capacity(k.val.len());
    for i in 0..k.n {
        for p in k.ptr[i]..k.ptr[i + 1] {
            t.push(Triplet::new(i, k.idx[p], k.val[p]));
        }
    }
    let m = SparseColMat::<usize, f64>::try_new_from_triplets(k.n, k.n, &t)
        .map_err(|e| format!("KKT matrix: {e:?}"))?;
    let lu = m.sp_lu().map_err(|e| format!("KKT factorisation: {e:?}"))?;
    let mut rhs = Mat::<f64>::from_fn(k.n, 1, |i, _| b[i]);
    lu.solve_in_place(rhs.as_mut());
    let z: Vec<f64> = (0..k.n).map(|i| rhs[(i, 0)]).collect();
    if z.iter().any(|v| !v.is_finite()) {
        return Err("singular KKT matrix".into());
    }
    Ok(z)
}
