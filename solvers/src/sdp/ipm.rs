//! **Primal–dual interior-point method** for block SDPs (dense PSD blocks and diagonal LP
//! blocks), in the style of CSDP and SDPT3: the HKM direction (Helmberg–Rendl–Vanderbei–
//! Wolkowicz 1996; Kojima–Shindoh–Hara 1997; Monteiro 1997) with Mehrotra's
//! predictor–corrector, an infeasible start, and separate primal and dual step lengths.
//!
//! For `min ⟨C, X⟩ s.t. A(X) = b, X ⪰ 0` and its dual `max bᵀy s.t. A*(y) + Z = C, Z ⪰ 0`,
//! with residuals `r_p = b − A(X)`, `R_d = C − Z − A*(y)` and `μ = ⟨X, Z⟩/n`, one iteration
//! solves the Newton system of `XZ = σμI` linearised the HKM way:
//!
//! `dZ = R_d − A*(dy)`, `dX = E − X dZ Z⁻¹` (symmetrised), `M dy = r_p − A(E − X R_d Z⁻¹)`,
//!
//! with the Schur complement `M_ij = tr(A_i X A_j Z⁻¹)` (plus `Σ_k a_ik a_jk x_k/z_k` over the LP
//! variables), built from the sparse `A_i` by the cheaper of the Fujisawa–Kojima–Nakata
//! formulas F1 (a dense product per constraint) and F3 (sums over pairs of nonzeros), and
//! factored once per iteration by dense Cholesky. The predictor uses `E = −X`, the corrector
//! `E = σμZ⁻¹ − X − dX_a dZ_a Z⁻¹` with `σ = (μ_a/μ)^e` (SDPT3's exponent rule). Steps are
//! `γ` times the largest step keeping `X` and `Z` positive definite, from the eigenvalues of
//! `L⁻¹ dX L⁻ᵀ` (`X = LLᵀ`).
//!
//! **Infeasibility.** When the dual objective grows without bound (`bᵀy > 1e8 (1 + ‖C‖_F)`), the
//! normalised `ŷ = y/bᵀy` is checked as a Farkas certificate that `A(X) = b, X ⪰ 0` has no
//! solution (`A*(ŷ) ⪯ 0`, `bᵀŷ = 1`); when the primal objective decreases without bound,
//! `X̂ = X/(−⟨C, X⟩)` is checked as a certificate that the dual has no feasible point
//! (`X̂ ⪰ 0`, `A(X̂) = 0`, `⟨C, X̂⟩ = −1`). Each claim is verified a posteriori (eigenvalues,
//! residual norm) and reported with its residual (`stats.certificate_residual`).
//!
//! References: Helmberg, Rendl, Vanderbei, Wolkowicz, SIAM J. Optim. 6 (1996); Fujisawa,
//! Kojima, Nakata, Math. Prog. 79 (1997); Todd, Toh, Tütüncü, SIAM J. Optim. 8 (1998);
//! Mehrotra, SIAM J. Optim. 2 (1992); Borchers, CSDP, Optim. Methods Softw. 11 (1999).

use super::alm::SdpSolution;
use super::{SdpReport, SdpResiduals, SdpStats};
use crate::core::{BackendReport, Common, End, IterRecord, Observer, Run, SolveError, Status};
use faer::linalg::solvers::Solve;
use faer::{Mat, Side};
use mathprog_problems::Sense;
use mathprog_problems::sdp::{Block, SdpProblem};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IpmSettings {
    /// Budget, threads, cancellation; `max_iter` bounds the iterations (default 100).
    pub common: Common,
    /// Stop when the relative primal and dual infeasibilities and the relative gap are all
    /// at most this.
    pub tol: f64,
    /// Fraction of the largest step to the boundary (CSDP 0.90–0.97, SDPA 0.9).
    pub step_fraction: f64,
}

impl Default for IpmSettings {
    /// `tol = 1e-7`, 100 iterations, steps at 0.95 of the boundary.
    fn default() -> Self {
        IpmSettings {
            common: Common {
                max_iter: Some(100),
                ..Common::default()
            },
            tol: 1e-7,
            step_fraction: 0.95,
        }
    }
}

impl IpmSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if !(self.tol.is_finite() && self.tol > 0.0) {
            return Err(SolveError::InvalidInput(format!(
                "tol must be a positive number, got {}",
                self.tol
            )));
        }
        if !(self.step_fraction > 0.0 && self.step_fraction < 1.0) {
            return Err(SolveError::InvalidInput(format!(
                "step_fraction must be in (0, 1), got {}",
                self.step_fraction
            )));
        }
        Ok(())
    }
}

/// Counters of [`solve`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IpmStats {
    /// `μ = ⟨X, Z⟩/n` at the end.
    pub mu: f64,
    /// Seconds spent forming and factoring the Schur complement.
    pub schur_seconds: f64,
    /// Residual of the infeasibility certificate, when one was found: `max(0, λ_max(A*(ŷ)))`
    /// for a primal one, `‖A(X̂)‖₂` for a dual one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub certificate_residual: Option<f64>,
}

/// Expanded symmetric entries `(row, col, value)` of one constraint in one dense block
/// (off-diagonal entries appear twice).
type Entries = Vec<(usize, usize, f64)>;

/// The problem in the solver's layout: dense blocks (size ≥ 2) and one LP vector (diagonal
/// blocks and 1 × 1 dense blocks).
struct Data {
    m: usize,
    /// Original block index of each dense block.
    dense: Vec<usize>,
    size: Vec<usize>,
    /// `[dense block][constraint]` entries.
    a: Vec<Vec<Entries>>,
    c: Vec<Mat<f64>>,
    /// LP variable `k`: (original block, position).
    lp_at: Vec<(usize, usize)>,
    /// `[constraint]` → (LP variable, value).
    a_lp: Vec<Vec<(usize, f64)>>,
    /// `[LP variable]` → (constraint, value).
    lp_rows: Vec<Vec<(usize, f64)>>,
    c_lp: Vec<f64>,
    b: Vec<f64>,
    /// Barrier parameter `n = Σ n_k`.
    nu: f64,
}

impl Data {
    fn new(p: &SdpProblem) -> Data {
        let blocks = p.blocks();
        let mut dense = Vec::new();
        let mut dense_of = vec![usize::MAX; blocks.len()];
        let mut lp_start = vec![usize::MAX; blocks.len()];
        let mut lp_at = Vec::new();
        for (k, b) in blocks.iter().enumerate() {
            match *b {
                Block::Dense(n) if n >= 2 => {
                    dense_of[k] = dense.len();
                    dense.push(k);
                }
                b => {
                    lp_start[k] = lp_at.len();
                    lp_at.extend((0..b.size()).map(|i| (k, i)));
                }
            }
        }
        let size: Vec<usize> = dense.iter().map(|&k| blocks[k].size()).collect();
        let m = p.num_constraints();
        let mut a = vec![vec![Entries::new(); m]; dense.len()];
        let mut a_lp = vec![Vec::new(); m];
        let mut lp_rows = vec![Vec::new(); lp_at.len()];
        for (i, ai) in p.a().iter().enumerate() {
            for e in ai.entries() {
                let d = dense_of[e.block];
                if d != usize::MAX {
                    a[d][i].push((e.i, e.j, e.v));
                    if e.i != e.j {
                        a[d][i].push((e.j, e.i, e.v));
                    }
                } else {
                    let k = lp_start[e.block] + e.i;
                    a_lp[i].push((k, e.v));
                    lp_rows[k].push((i, e.v));
                }
            }
        }
        let mut c: Vec<Mat<f64>> = size.iter().map(|&n| Mat::zeros(n, n)).collect();
        let mut c_lp = vec![0.0; lp_at.len()];
        for e in p.c().entries() {
            let d = dense_of[e.block];
            if d != usize::MAX {
                c[d][(e.i, e.j)] = e.v;
                c[d][(e.j, e.i)] = e.v;
            } else {
                c_lp[lp_start[e.block] + e.i] = e.v;
            }
        }
        let nu = (size.iter().sum::<usize>() + lp_at.len()).max(1) as f64;
        Data {
            m,
            dense,
            size,
            a,
            c,
            lp_at,
            a_lp,
            lp_rows,
            c_lp,
            b: p.b().to_vec(),
            nu,
        }
    }

    /// `A(X)`.
    fn apply_a(&self, x: &Pt) -> Vec<f64> {
        (0..self.m)
            .map(|i| {
                let mut s = 0.0;
                for (d, xd) in x.mats.iter().enumerate() {
                    for &(r, c, v) in &self.a[d][i] {
                        s += v * xd[(r, c)];
                    }
                }
                for &(k, v) in &self.a_lp[i] {
                    s += v * x.lp[k];
                }
                s
            })
            .collect()
    }

    /// `A*(y)`.
    fn apply_at(&self, y: &[f64]) -> Pt {
        let mut out = self.zeros();
        for (d, od) in out.mats.iter_mut().enumerate() {
            for (i, yi) in y.iter().enumerate() {
                for &(r, c, v) in &self.a[d][i] {
                    od[(r, c)] += v * yi;
                }
            }
        }
        for (i, yi) in y.iter().enumerate() {
            for &(k, v) in &self.a_lp[i] {
                out.lp[k] += v * yi;
            }
        }
        out
    }

    fn zeros(&self) -> Pt {
        Pt {
            mats: self.size.iter().map(|&n| Mat::zeros(n, n)).collect(),
            lp: vec![0.0; self.lp_at.len()],
        }
    }

    /// `⟨C, X⟩` (without copying `C`).
    fn c_dot(&self, x: &Pt) -> f64 {
        block_dot((&self.c, &self.c_lp), (&x.mats, &x.lp))
    }

    fn c_pt(&self) -> Pt {
        Pt {
            mats: self.c.clone(),
            lp: self.c_lp.clone(),
        }
    }
}

/// A block-diagonal point: dense blocks and the LP vector.
#[derive(Clone)]
struct Pt {
    mats: Vec<Mat<f64>>,
    lp: Vec<f64>,
}

impl Pt {
    fn dot(&self, o: &Pt) -> f64 {
        block_dot((&self.mats, &self.lp), (&o.mats, &o.lp))
    }
    fn norm(&self) -> f64 {
        self.dot(self).sqrt()
    }
    /// `self + t·o`.
    fn axpy(&mut self, t: f64, o: &Pt) {
        for (a, b) in self.mats.iter_mut().zip(&o.mats) {
            *a += faer::Scale(t) * b;
        }
        for (a, b) in self.lp.iter_mut().zip(&o.lp) {
            *a += t * b;
        }
    }
}

/// `Σ_k ⟨A_k, B_k⟩ + aᵀb` over dense blocks and LP parts.
fn block_dot(a: (&[Mat<f64>], &[f64]), b: (&[Mat<f64>], &[f64])) -> f64 {
    let mut s: f64 = a.1.iter().zip(b.1).map(|(x, y)| x * y).sum();
    for (x, y) in a.0.iter().zip(b.0) {
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                s += x[(i, j)] * y[(i, j)];
            }
        }
    }
    s
}

fn symmetrise(a: &mut Mat<f64>) {
    let n = a.nrows();
    for i in 0..n {
        for j in 0..i {
            let v = 0.5 * (a[(i, j)] + a[(j, i)]);
            a[(i, j)] = v;
            a[(j, i)] = v;
        }
    }
}

/// `Z⁻¹` of every dense block (`None` when one is not positive definite).
fn inverses(z: &Pt) -> Option<Vec<Mat<f64>>> {
    z.mats
        .iter()
        .map(|zd| {
            let llt = zd.llt(Side::Lower).ok()?;
            let mut inv = llt.solve(Mat::<f64>::identity(zd.nrows(), zd.nrows()));
            symmetrise(&mut inv);
            Some(inv)
        })
        .collect()
}

/// The Schur complement `M_ij = tr(A_i X A_j Z⁻¹) + Σ_k a_ik a_jk x_k/z_k`.
fn schur(data: &Data, x: &Pt, z: &Pt, zinv: &[Mat<f64>]) -> Mat<f64> {
    let m = data.m;
    let mut mm = Mat::<f64>::zeros(m, m);
    for (d, n) in data.size.iter().copied().enumerate() {
        let a = &data.a[d];
        let (xd, zi) = (&x.mats[d], &zinv[d]);
        // Constraints with entries here, densest first; row j is filled for the later ones.
        let mut order: Vec<usize> = (0..m).filter(|&i| !a[i].is_empty()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(a[i].len()));
        let mut tail = vec![0usize; order.len() + 1];
        for q in (0..order.len()).rev() {
            tail[q] = tail[q + 1] + a[order[q]].len();
        }
        let n3 = (n * n * n) as f64;
        let cols: Vec<Vec<(usize, f64)>> = (0..order.len())
            .into_par_iter()
            .map(|q| {
                let j = order[q];
                let fj = a[j].len() as f64;
                let later = tail[q] as f64;
                let mut out = Vec::with_capacity(order.len() - q);
                if fj * later <= n3 + n as f64 * fj + later {
                    // F3: Σ_{(α,β)∈A_i} Σ_{(γ,δ)∈A_j} v w X_βγ Z⁻¹_δα.
                    for &i in &order[q..] {
                        let mut s = 0.0;
                        for &(al, be, v) in &a[i] {
                            for &(ga, de, w) in &a[j] {
                                s += v * w * xd[(be, ga)] * zi[(de, al)];
                            }
                        }
                        out.push((i, s));
                    }
                } else {
                    // F1: T = X A_j Z⁻¹ densely, then ⟨A_i, T⟩.
                    let mut xa = Mat::<f64>::zeros(n, n);
                    for &(ga, de, w) in &a[j] {
                        for r in 0..n {
                            xa[(r, de)] += w * xd[(r, ga)];
                        }
                    }
                    let t = &xa * zi;
                    for &i in &order[q..] {
                        let s: f64 = a[i].iter().map(|&(al, be, v)| v * t[(be, al)]).sum();
                        out.push((i, s));
                    }
                }
                out
            })
            .collect();
        for (q, col) in cols.iter().enumerate() {
            let j = order[q];
            for &(i, s) in col {
                mm[(i, j)] += s;
                if i != j {
                    mm[(j, i)] += s;
                }
            }
        }
    }
    for (k, row) in data.lp_rows.iter().enumerate() {
        let w = x.lp[k] / z.lp[k];
        for &(i, vi) in row {
            for &(j, vj) in row {
                mm[(i, j)] += vi * vj * w;
            }
        }
    }
    mm
}

/// The Schur complement and its Cholesky factor.
struct Schur {
    m: Mat<f64>,
    llt: faer::linalg::solvers::Llt<f64>,
}

impl Schur {
    /// `M dy = h`, with two steps of iterative refinement against the unshifted `M` (its
    /// condition grows like `1/μ²` in the endgame).
    fn solve(&self, h: &[f64]) -> Vec<f64> {
        let n = h.len();
        let rhs = Mat::<f64>::from_fn(n, 1, |i, _| h[i]);
        let mut x = self.llt.solve(&rhs);
        for _ in 0..2 {
            let r = &rhs - &self.m * &x;
            let d = self.llt.solve(&r);
            x += &d;
        }
        (0..n).map(|i| x[(i, 0)]).collect()
    }
}

/// The Cholesky factor of `M`, with a growing diagonal shift when `M` is numerically
/// singular (the endgame's conditioning).
fn factor(m: Mat<f64>) -> Option<Schur> {
    let mut mm = m.clone();
    let size = mm.nrows();
    let big = (0..size)
        .map(|i| mm[(i, i)].abs())
        .fold(0.0, f64::max)
        .max(1e-300);
    let mut shift = 0.0;
    for _ in 0..8 {
        if let Ok(llt) = mm.llt(Side::Lower) {
            return Some(Schur { m, llt });
        }
        let add = if shift == 0.0 {
            1e-14 * big
        } else {
            shift * 100.0
        };
        for i in 0..size {
            mm[(i, i)] += add - shift;
        }
        shift = add;
    }
    None
}

/// A search direction from the right-hand side `E` (per block) and the residuals.
struct Dir {
    dx: Pt,
    dy: Vec<f64>,
    dz: Pt,
}

fn direction(data: &Data, st: &State, zinv: &[Mat<f64>], schur: &Schur, e: &Pt) -> Dir {
    // G = E − X R_d Z⁻¹; h = r_p − A(G).
    let mut g = e.clone();
    for (d, gd) in g.mats.iter_mut().enumerate() {
        let t = &st.x.mats[d] * &st.rd.mats[d];
        *gd -= &t * &zinv[d];
    }
    for k in 0..g.lp.len() {
        g.lp[k] -= st.x.lp[k] * st.rd.lp[k] / st.z.lp[k];
    }
    let ag = data.apply_a(&g);
    let h: Vec<f64> = (0..data.m).map(|i| st.rp[i] - ag[i]).collect();
    let dy = schur.solve(&h);
    let mut dz = st.rd.clone();
    dz.axpy(-1.0, &data.apply_at(&dy));
    let mut dx = e.clone();
    for (d, dxd) in dx.mats.iter_mut().enumerate() {
        let t = &st.x.mats[d] * &dz.mats[d];
        *dxd -= &t * &zinv[d];
        symmetrise(dxd);
    }
    for k in 0..dx.lp.len() {
        dx.lp[k] -= st.x.lp[k] * dz.lp[k] / st.z.lp[k];
    }
    Dir { dx, dy, dz }
}

/// The largest `α` with `x + α dx` positive definite (`f64::INFINITY` when every direction
/// stays inside): `1/max(0, λ_max(−L⁻¹ dX L⁻ᵀ))` per dense block, `−x_k/dx_k` per LP entry.
fn max_step(x: &Pt, dx: &Pt) -> f64 {
    let mut alpha = f64::INFINITY;
    for (k, &v) in dx.lp.iter().enumerate() {
        if v < 0.0 {
            alpha = alpha.min(-x.lp[k] / v);
        }
    }
    for (xd, dd) in x.mats.iter().zip(&dx.mats) {
        let n = xd.nrows();
        let Ok(llt) = xd.llt(Side::Lower) else {
            return 0.0;
        };
        let l = llt.L();
        let mut t = dd.clone();
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            l,
            t.as_mut(),
            faer::Par::Seq,
        );
        let mut w = t.transpose().to_owned();
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            l,
            w.as_mut(),
            faer::Par::Seq,
        );
        symmetrise(&mut w);
        let Ok(eig) = w.self_adjoint_eigen(Side::Lower) else {
            return 0.0;
        };
        let lmin = (0..n)
            .map(|i| eig.S().column_vector()[i])
            .fold(f64::INFINITY, f64::min);
        if lmin < 0.0 {
            alpha = alpha.min(-1.0 / lmin);
        }
    }
    alpha
}

/// The iterate and its residuals.
#[derive(Clone)]
struct State {
    x: Pt,
    y: Vec<f64>,
    z: Pt,
    rp: Vec<f64>,
    rd: Pt,
}

impl State {
    fn refresh(&mut self, data: &Data) {
        let ax = data.apply_a(&self.x);
        self.rp = data.b.iter().zip(&ax).map(|(b, a)| b - a).collect();
        let mut rd = data.c_pt();
        rd.axpy(-1.0, &self.z);
        rd.axpy(-1.0, &data.apply_at(&self.y));
        self.rd = rd;
    }
    fn mu(&self, nu: f64) -> f64 {
        self.x.dot(&self.z) / nu
    }
}

/// CSDP's starting point: `X = ξI`, `Z = ηI` per block, `y = 0`.
fn start(data: &Data, p: &SdpProblem) -> State {
    let blocks = p.blocks();
    let mut xi = vec![10.0f64; blocks.len()];
    let mut eta = vec![10.0f64; blocks.len()];
    // ‖A_i^k‖_F and ‖C^k‖_F per original block.
    let mut anorm = vec![vec![0.0f64; blocks.len()]; data.m];
    for (i, ai) in p.a().iter().enumerate() {
        for e in ai.entries() {
            anorm[i][e.block] += if e.i == e.j { 1.0 } else { 2.0 } * e.v * e.v;
        }
    }
    let mut cnorm = vec![0.0f64; blocks.len()];
    for e in p.c().entries() {
        cnorm[e.block] += if e.i == e.j { 1.0 } else { 2.0 } * e.v * e.v;
    }
    for (k, b) in blocks.iter().enumerate() {
        let n = b.size() as f64;
        let scale = match b {
            Block::Dense(_) => n,
            Block::Diagonal(_) => n.sqrt(),
        };
        xi[k] = xi[k].max(n.sqrt());
        eta[k] = eta[k].max(n.sqrt()).max(cnorm[k].sqrt());
        for (row, bi) in anorm.iter().zip(&data.b) {
            let an = row[k].sqrt();
            xi[k] = xi[k].max(scale * (1.0 + bi.abs()) / (1.0 + an));
            eta[k] = eta[k].max(an);
        }
    }
    let mut x = data.zeros();
    let mut z = data.zeros();
    for (d, &k) in data.dense.iter().enumerate() {
        for i in 0..data.size[d] {
            x.mats[d][(i, i)] = xi[k];
            z.mats[d][(i, i)] = eta[k];
        }
    }
    for (v, &(k, _)) in data.lp_at.iter().enumerate() {
        x.lp[v] = xi[k];
        z.lp[v] = eta[k];
    }
    let mut st = State {
        x,
        y: vec![0.0; data.m],
        z,
        rp: Vec::new(),
        rd: data.zeros(),
    };
    st.refresh(data);
    st
}

/// What ended the run besides convergence and the budget.
enum Infeasible {
    /// `A(X) = b, X ⪰ 0` has no solution: `ŷ` with `A*(ŷ) ⪯ 0`, `bᵀŷ = 1`.
    Primal(Vec<f64>, f64),
    /// The dual has no feasible point: `X̂ ⪰ 0`, `A(X̂) ≈ 0`, `⟨C, X̂⟩ = −1`.
    Dual(Pt, f64),
}

/// `λ_min` over the blocks of a block-diagonal point (dense: eigenvalues; LP: entries).
fn lambda_min(p: &Pt) -> f64 {
    let mut l = p.lp.iter().copied().fold(f64::INFINITY, f64::min);
    for a in &p.mats {
        let mut s = a.clone();
        symmetrise(&mut s);
        if let Ok(e) = s.self_adjoint_eigen(Side::Lower) {
            for i in 0..s.nrows() {
                l = l.min(e.S().column_vector()[i]);
            }
        } else {
            return f64::NAN;
        }
    }
    l
}

/// The infeasibility tests of the module documentation, verified a posteriori.
fn infeasibility(data: &Data, st: &State, cnorm: f64, bnorm: f64) -> Option<Infeasible> {
    let bty: f64 = data.b.iter().zip(&st.y).map(|(b, y)| b * y).sum();
    if bty > 1e8 * (1.0 + cnorm) {
        let yh: Vec<f64> = st.y.iter().map(|v| v / bty).collect();
        let neg = data.apply_at(&yh);
        // A*(ŷ) ⪯ 0: λ_min(−A*(ŷ)) ≥ −ε.
        let mut minus = data.zeros();
        minus.axpy(-1.0, &neg);
        let res = (-lambda_min(&minus)).max(0.0);
        if res <= 1e-6 {
            return Some(Infeasible::Primal(yh, res));
        }
    }
    let ctx = data.c_dot(&st.x);
    if -ctx > 1e8 * (1.0 + bnorm) {
        let mut xh = st.x.clone();
        for a in &mut xh.mats {
            *a *= faer::Scale(1.0 / -ctx);
        }
        xh.lp.iter_mut().for_each(|v| *v /= -ctx);
        let res = data.apply_a(&xh).iter().map(|v| v * v).sum::<f64>().sqrt();
        if res <= 1e-6 {
            return Some(Infeasible::Dual(xh, res));
        }
    }
    None
}

/// Solve `p` by the interior-point method (see the module documentation). The report's
/// objective is `⟨C, X⟩`, its bound `bᵀy` when `C − A*(y) ⪰ 0` to working precision; the
/// residuals are measured on the returned `(X, y)` as [`super::alm`] measures them.
pub fn solve(
    p: &SdpProblem,
    s: &IpmSettings,
    observer: &mut dyn Observer,
) -> Result<SdpReport, SolveError> {
    s.validate()?;
    // Memory: M and its copy (m² each) and about a dozen n_k² matrices per dense block
    // (X, Z, Z⁻¹, the directions, products), before anything is allocated.
    let m = p.num_constraints();
    let dense: usize = p
        .blocks()
        .iter()
        .map(|b| match b {
            Block::Dense(n) => n.saturating_mul(*n),
            Block::Diagonal(n) => *n,
        })
        .fold(0usize, usize::saturating_add);
    let words = m
        .saturating_mul(m)
        .saturating_mul(3)
        .saturating_add(dense.saturating_mul(12));
    mathprog_problems::limits::check_alloc("the interior-point method", words, 8)
        .map_err(|e| SolveError::InvalidInput(format!("{e} (use the low-rank path)")))?;
    let pool = s.common.thread_pool()?;
    let data = Data::new(p);
    let mut run = Run::start(
        &s.common,
        observer,
        "ipm-hkm",
        "sdp",
        Sense::Minimize,
        p.dim(),
    );
    let cnorm = data.c_pt().norm();
    let bnorm = data.b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mut st = start(&data, p);
    let (mut iters, mut schur_secs) = (0u64, 0.0f64);
    let mut found = None;
    // The best iterate so far (by its largest residual) is what a run that stalls or breaks
    // down returns: on ill-posed problems (hinf) later iterates can lose accuracy.
    let mut best: Option<(f64, State)> = None;
    let mut since_best = 0u32;
    let status = loop {
        let (pinf, dinf, gap, pobj) = measures(&data, &st, cnorm, bnorm);
        let worst = pinf.max(dinf).max(gap);
        let improved = best.as_ref().is_none_or(|(w, _)| worst < *w);
        if improved {
            best = Some((worst, st.clone()));
            since_best = 0;
        } else {
            since_best += 1;
        }
        let ctl = run.report(&IterRecord {
            iteration: iters,
            elapsed: run.elapsed(),
            best: pobj,
            current: pobj,
            bound: None,
            residual: Some(worst),
            improved,
            extra: &[
                ("pinf", pinf),
                ("dinf", dinf),
                ("gap", gap),
                ("mu", st.mu(data.nu)),
            ],
        });
        if pinf <= s.tol && dinf <= s.tol && gap <= s.tol {
            break Status::Converged;
        }
        if let Some(inf) = infeasibility(&data, &st, cnorm, bnorm) {
            found = Some(inf);
            break match found {
                Some(Infeasible::Primal(..)) => Status::PrimalInfeasible,
                _ => Status::DualInfeasible,
            };
        }
        if let Some(stop) = run.budget(ctl, iters) {
            break stop;
        }
        if since_best >= STALL_ITERATIONS {
            break Status::Stalled;
        }
        let t = std::time::Instant::now();
        let failed = if iters == 0 {
            Status::NumericalError
        } else {
            Status::Stalled
        };
        let Some(zinv) = inverses(&st.z) else {
            break failed;
        };
        let mm = pool.install(|| schur(&data, &st.x, &st.z, &zinv));
        let Some(schur) = factor(mm) else {
            break failed;
        };
        schur_secs += t.elapsed().as_secs_f64();
        // While the infeasibilities lag behind the gap, keep centring (SDPA's β̄ = 0.2): μ
        // falling faster than the residuals leaves the iterates stuck near the boundary.
        let sigma_min = if pinf.max(dinf) > gap.max(s.tol) {
            0.2
        } else {
            0.0
        };
        if !step(&data, &mut st, &zinv, &schur, s.step_fraction, sigma_min) {
            break failed;
        }
        iters += 1;
    };
    if found.is_none()
        && status != Status::Converged
        && let Some((_, b)) = best
    {
        st = b;
    }
    Ok(finish(p, &data, st, found, status, iters, schur_secs, run))
}

/// Iterations without a new best residual before the run counts as stalled.
const STALL_ITERATIONS: u32 = 15;

/// One predictor–corrector step; `false` when the steps are too short to make progress.
fn step(
    data: &Data,
    st: &mut State,
    zinv: &[Mat<f64>],
    schur: &Schur,
    gamma: f64,
    sigma_min: f64,
) -> bool {
    let mu = st.mu(data.nu);
    // Predictor: E = −X.
    let mut e = st.x.clone();
    e.mats.iter_mut().for_each(|a| *a *= faer::Scale(-1.0));
    e.lp.iter_mut().for_each(|v| *v = -*v);
    let pred = direction(data, st, zinv, schur, &e);
    let ap = (gamma * max_step(&st.x, &pred.dx)).min(1.0);
    let ad = (gamma * max_step(&st.z, &pred.dz)).min(1.0);
    let mut xa = st.x.clone();
    xa.axpy(ap, &pred.dx);
    let mut za = st.z.clone();
    za.axpy(ad, &pred.dz);
    let mu_a = xa.dot(&za) / data.nu;
    let a = ap.min(ad);
    let expon = if mu > 1e-6 && a >= 1.0 / 3f64.sqrt() {
        (3.0 * a * a).max(1.0)
    } else {
        1.0
    };
    let sigma = if mu_a < 0.0 {
        0.8
    } else {
        (mu_a / mu).powf(expon).clamp(sigma_min, 1.0)
    };
    // Corrector: E = σμZ⁻¹ − X − dX_a dZ_a Z⁻¹.
    let mut e = st.x.clone();
    for (d, ed) in e.mats.iter_mut().enumerate() {
        let t = &pred.dx.mats[d] * &pred.dz.mats[d];
        let corr = &t * &zinv[d];
        *ed = faer::Scale(sigma * mu) * &zinv[d] - &*ed - corr;
    }
    for k in 0..e.lp.len() {
        e.lp[k] = sigma * mu / st.z.lp[k] - st.x.lp[k] - pred.dx.lp[k] * pred.dz.lp[k] / st.z.lp[k];
    }
    let dir = direction(data, st, zinv, schur, &e);
    // SDPT3's adaptive fraction: closer to the boundary only while the steps are long.
    let gamma = gamma.min(0.9 + 0.09 * a);
    let ap = (gamma * max_step(&st.x, &dir.dx)).min(1.0);
    let ad = (gamma * max_step(&st.z, &dir.dz)).min(1.0);
    if ap < 1e-10 && ad < 1e-10 {
        return false;
    }
    st.x.axpy(ap, &dir.dx);
    st.z.axpy(ad, &dir.dz);
    for (y, d) in st.y.iter_mut().zip(&dir.dy) {
        *y += ad * d;
    }
    st.refresh(data);
    true
}

/// `(‖r_p‖/(1+‖b‖), ‖R_d‖_F/(1+‖C‖_F), |⟨C,X⟩ − bᵀy|/(1+|⟨C,X⟩|+|bᵀy|), ⟨C,X⟩)`.
fn measures(data: &Data, st: &State, cnorm: f64, bnorm: f64) -> (f64, f64, f64, f64) {
    let pinf = st.rp.iter().map(|v| v * v).sum::<f64>().sqrt() / (1.0 + bnorm);
    let dinf = st.rd.norm() / (1.0 + cnorm);
    let pobj = data.c_dot(&st.x);
    let dobj: f64 = data.b.iter().zip(&st.y).map(|(b, y)| b * y).sum();
    let gap = (pobj - dobj).abs() / (1.0 + pobj.abs() + dobj.abs());
    (pinf, dinf, gap, pobj)
}

/// The report: `X` as factors (eigen-decomposition of each dense block), residuals measured
/// on `(X, y)` with `S = C − A*(y)`.
#[allow(clippy::too_many_arguments)]
fn finish(
    p: &SdpProblem,
    data: &Data,
    st: State,
    found: Option<Infeasible>,
    status: Status,
    iters: u64,
    schur_seconds: f64,
    run: Run<'_>,
) -> SdpReport {
    let cnorm = data.c_pt().norm();
    let bnorm = data.b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mu = st.mu(data.nu);
    let (x, y, cert) = match found {
        Some(Infeasible::Primal(yh, r)) => (st.x, yh, Some(r)),
        Some(Infeasible::Dual(xh, r)) => (xh, st.y, Some(r)),
        None => (st.x, st.y, None),
    };
    let ax = data.apply_a(&x);
    let pres = data
        .b
        .iter()
        .zip(&ax)
        .map(|(b, a)| (b - a) * (b - a))
        .sum::<f64>()
        .sqrt();
    let mut slack = data.c_pt();
    slack.axpy(-1.0, &data.apply_at(&y));
    let smin = lambda_min(&slack);
    let pobj = data.c_dot(&x);
    let dobj: f64 = data.b.iter().zip(&y).map(|(b, v)| b * v).sum();
    let residuals = SdpResiduals {
        primal_infeasibility: pres / (1.0 + bnorm),
        dual_infeasibility: (-smin).max(0.0) / (1.0 + cnorm),
        relative_gap: (pobj - dobj).abs() / (1.0 + pobj.abs() + dobj.abs()),
    };
    let solution = SdpSolution {
        factors: factors(p, data, &x),
        y,
    };
    let stats = SdpStats {
        method: "ipm-hkm".into(),
        dual_value: dobj,
        alm: None,
        maxcut: None,
        ipm: Some(IpmStats {
            mu,
            schur_seconds,
            certificate_residual: cert,
        }),
        choice: None,
    };
    let backend = BackendReport::cpu_only(run.common().backend, "ipm-hkm");
    run.finish(
        End::new(status, solution, pobj, residuals, stats)
            .bound((smin >= 0.0).then_some(dobj))
            .iterations(iters)
            .backend(backend),
    )
}

/// `X` per original block as the factors of [`SdpSolution`]: dense blocks `Q diag(√λ₊)`
/// (rank `n`), diagonal blocks the square roots.
fn factors(p: &SdpProblem, data: &Data, x: &Pt) -> Vec<(usize, Vec<f64>)> {
    let mut out: Vec<(usize, Vec<f64>)> = p
        .blocks()
        .iter()
        .map(|b| match b {
            Block::Diagonal(n) => (1, vec![0.0; *n]),
            Block::Dense(n) => (*n, vec![0.0; n * n]),
        })
        .collect();
    for (d, &k) in data.dense.iter().enumerate() {
        let n = data.size[d];
        let mut s = x.mats[d].clone();
        symmetrise(&mut s);
        if let Ok(e) = s.self_adjoint_eigen(Side::Lower) {
            let f = &mut out[k].1;
            for c in 0..n {
                let w = e.S().column_vector()[c].max(0.0).sqrt();
                for r in 0..n {
                    f[r * n + c] = e.U()[(r, c)] * w;
                }
            }
        }
    }
    for (v, &(k, i)) in data.lp_at.iter().enumerate() {
        out[k].1[i] = x.lp[v].max(0.0).sqrt();
    }
    out
}
