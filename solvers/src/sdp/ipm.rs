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
//! **Precision.** The iteration is generic over its scalar: `f64`, or faer's double-double
//! `fx128` (about 32 digits; kernels in `sdp/dd.rs`), as SDPA-DD (Nakata, "A numerical
//! evaluation of highly accurate multiple-precision arithmetic version of semidefinite
//! programming solver: SDPA-GMP, -QD and -DD", IEEE CACSD 2010) does for ill-posed problems. Under
//! [`Precision::Auto`] a double run that stalls is repeated in double-double; the dual value is
//! reported as a bound only when `C − A*(y) ⪰ 0` passes a double-double Cholesky.
//!
//! References: Helmberg, Rendl, Vanderbei, Wolkowicz, SIAM J. Optim. 6 (1996); Fujisawa,
//! Kojima, Nakata, Math. Prog. 79 (1997); Todd, Toh, Tütüncü, SIAM J. Optim. 8 (1998);
//! Mehrotra, SIAM J. Optim. 2 (1992); Borchers, CSDP, Optim. Methods Softw. 11 (1999).

use super::alm::SdpSolution;
use super::dd;
use super::{SdpReport, SdpResiduals, SdpStats};
use crate::core::{BackendReport, Common, End, IterRecord, Observer, Run, SolveError, Status};
use faer::traits::RealField;
use faer::{Mat, Side, fx128};
use mathprog_problems::Sense;
use mathprog_problems::sdp::{Block, SdpProblem};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IpmSettings {
    /// Budget, threads, cancellation; `max_iter` bounds the iterations of each precision's run
    /// (default 100; a double-double rerun starts its own count).
    pub common: Common,
    /// Stop when the relative primal and dual infeasibilities and the relative gap are all
    /// at most this.
    pub tol: f64,
    /// Fraction of the largest step to the boundary (CSDP 0.90–0.97, SDPA 0.9).
    pub step_fraction: f64,
    /// Working precision of the iteration (default [`Precision::Auto`]).
    #[serde(default)]
    pub precision: Precision,
}

/// Working precision of the interior-point iteration. Ill-posed SDPs (no strictly feasible
/// point, unbounded dual faces: SDPLIB's hinf and qap classes) lose the last digits of a
/// double-precision endgame to the conditioning of the Schur complement (`κ ~ 1/μ²`);
/// double-double arithmetic (about 32 digits, as in Nakata's SDPA-DD) carries them through,
/// at roughly ten times the cost per iteration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Precision {
    /// Double precision; when that run stalls or breaks down, rerun in double-double within
    /// the remaining budget and keep the better answer.
    #[default]
    Auto,
    /// Double precision only.
    Double,
    /// Double-double only.
    DoubleDouble,
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
            precision: Precision::Auto,
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
    /// Precision of the returned iterate: `"double"` or `"double-double"`.
    pub precision: String,
    /// Whether a double-double run was made (kept or not).
    pub double_double_tried: bool,
}

/// The working precision of the iteration: `f64`, or faer's double-double [`fx128`]
/// (about 32 significant digits, Dekker/Bailey arithmetic) for the ill-posed problems on
/// which the endgame of a double-precision run stalls. The dense kernels are faer's in `f64`
/// and plain loops in double-double (faer 0.24's matrix product has no `fx128` kernel).
pub(crate) trait Real:
    RealField + Copy + Send + Sync + std::ops::Neg<Output = Self> + From<f64>
{
    /// The nearest `f64`.
    fn to_f(self) -> f64;
    /// `√self`.
    fn root(self) -> Self;
    /// `a b`.
    fn matmul(a: &Mat<Self>, b: &Mat<Self>) -> Mat<Self>;
    /// The lower Cholesky factor `L` of `a = L Lᵀ`, computed in place (`None` unless positive
    /// definite); only its lower triangle is meaningful.
    fn cholesky(a: Mat<Self>) -> Option<Mat<Self>>;
    /// `b ← L⁻¹ b`.
    fn lower_solve(l: &Mat<Self>, b: &mut Mat<Self>);
    /// `b ← L⁻ᵀ b`.
    fn lower_t_solve(l: &Mat<Self>, b: &mut Mat<Self>);
    /// `a·b` (double-double: without qd's software fused multiply-add).
    fn prod(a: Self, b: Self) -> Self;
    /// `y ← y + f·x`.
    fn axpy(y: &mut [Self], x: &[Self], f: Self);
}

impl Real for f64 {
    fn to_f(self) -> f64 {
        self
    }
    fn root(self) -> f64 {
        self.sqrt()
    }
    fn matmul(a: &Mat<f64>, b: &Mat<f64>) -> Mat<f64> {
        a * b
    }
    fn cholesky(mut a: Mat<f64>) -> Option<Mat<f64>> {
        use faer::dyn_stack::{MemBuffer, MemStack};
        use faer::linalg::cholesky::llt::factor;
        let par = faer::get_global_parallelism();
        let req = factor::cholesky_in_place_scratch::<f64>(a.nrows(), par, Default::default());
        let mut buf = MemBuffer::new(req);
        let stack = MemStack::new(&mut buf);
        factor::cholesky_in_place(
            a.as_mut(),
            Default::default(),
            par,
            stack,
            Default::default(),
        )
        .ok()?;
        Some(a)
    }
    fn lower_solve(l: &Mat<f64>, b: &mut Mat<f64>) {
        faer::linalg::triangular_solve::solve_lower_triangular_in_place(
            l.as_ref(),
            b.as_mut(),
            faer::get_global_parallelism(),
        );
    }
    fn lower_t_solve(l: &Mat<f64>, b: &mut Mat<f64>) {
        faer::linalg::triangular_solve::solve_upper_triangular_in_place(
            l.transpose(),
            b.as_mut(),
            faer::get_global_parallelism(),
        );
    }
    fn prod(a: f64, b: f64) -> f64 {
        a * b
    }
    fn axpy(y: &mut [f64], x: &[f64], f: f64) {
        y.iter_mut().zip(x).for_each(|(t, &s)| *t += f * s);
    }
}

impl Real for fx128 {
    fn to_f(self) -> f64 {
        self.0 + self.1
    }
    fn root(self) -> fx128 {
        self.sqrt()
    }
    fn matmul(a: &Mat<fx128>, b: &Mat<fx128>) -> Mat<fx128> {
        let mut c = Mat::<fx128>::zeros(a.nrows(), b.ncols());
        let used: Vec<bool> = (0..a.ncols())
            .map(|k| a.col_as_slice(k).iter().any(|v| v.0 != 0.0))
            .collect();
        for j in 0..b.ncols() {
            for (k, _) in used.iter().enumerate().filter(|(_, u)| **u) {
                let w = b[(k, j)];
                if w.0 != 0.0 {
                    dd::axpy(c.col_as_slice_mut(j), a.col_as_slice(k), w);
                }
            }
        }
        c
    }
    fn cholesky(a: Mat<fx128>) -> Option<Mat<fx128>> {
        // Right-looking, column by column (column-major slices).
        let n = a.nrows();
        let mut l = a;
        for j in 0..n {
            let d = l[(j, j)];
            if d.0.is_nan() || d.0 <= 0.0 {
                return None;
            }
            let r = d.sqrt();
            let col = &mut l.col_as_slice_mut(j)[j..];
            col.iter_mut().for_each(|v| *v /= r);
            for k in j + 1..n {
                let f = -l[(k, j)];
                let (src, dst) = two_cols(&mut l, j, k);
                dd::axpy(&mut dst[k..], &src[k..], f);
            }
        }
        for j in 0..n {
            l.col_as_slice_mut(j)[..j]
                .iter_mut()
                .for_each(|v| *v = zero());
        }
        Some(l)
    }
    fn lower_solve(l: &Mat<fx128>, b: &mut Mat<fx128>) {
        let n = l.nrows();
        for c in 0..b.ncols() {
            let x = b.col_as_slice_mut(c);
            for j in 0..n {
                let v = x[j] / l[(j, j)];
                x[j] = v;
                dd::axpy(&mut x[j + 1..], &l.col_as_slice(j)[j + 1..], -v);
            }
        }
    }
    fn lower_t_solve(l: &Mat<fx128>, b: &mut Mat<fx128>) {
        let n = l.nrows();
        for c in 0..b.ncols() {
            let x = b.col_as_slice_mut(c);
            for j in (0..n).rev() {
                let lj = l.col_as_slice(j);
                let s = x[j] - dd::dot(&lj[j + 1..], &x[j + 1..]);
                x[j] = s / lj[j];
            }
        }
    }
    fn prod(a: fx128, b: fx128) -> fx128 {
        dd::prod(a, b)
    }
    fn axpy(y: &mut [fx128], x: &[fx128], f: fx128) {
        dd::axpy(y, x, f)
    }
}

/// Columns `j < k` of `l`, both as slices (the first is only read).
fn two_cols<T: Real>(l: &mut Mat<T>, j: usize, k: usize) -> (&mut [T], &mut [T]) {
    let (left, right) = l.as_mut().split_at_col_mut(k);
    let src = left
        .col_mut(j)
        .try_as_col_major_mut()
        .expect("contiguous column");
    let dst = right
        .col_mut(0)
        .try_as_col_major_mut()
        .expect("contiguous column");
    (src.as_slice_mut(), dst.as_slice_mut())
}

/// The Cholesky solve `a⁻¹ b` from `a`'s factor.
fn chol_solve<T: Real>(l: &Mat<T>, b: &Mat<T>) -> Mat<T> {
    let mut x = b.clone();
    T::lower_solve(l, &mut x);
    T::lower_t_solve(l, &mut x);
    x
}

fn zero<T: Real>() -> T {
    T::from(0.0)
}

fn mag<T: Real>(v: T) -> T {
    if v < zero() { -v } else { v }
}

/// Expanded symmetric entries `(row, col, value)` of one constraint in one dense block
/// (off-diagonal entries appear twice).
type Entries<T> = Vec<(usize, usize, T)>;

/// The problem in the solver's layout and precision: dense blocks (size ≥ 2) and one LP
/// vector (diagonal blocks and 1 × 1 dense blocks).
struct Data<T> {
    m: usize,
    /// Original block index of each dense block.
    dense: Vec<usize>,
    size: Vec<usize>,
    /// `[dense block][constraint]` entries.
    a: Vec<Vec<Entries<T>>>,
    c: Vec<Mat<T>>,
    /// LP variable `k`: (original block, position).
    lp_at: Vec<(usize, usize)>,
    /// `[constraint]` → (LP variable, value).
    a_lp: Vec<Vec<(usize, T)>>,
    /// `[LP variable]` → (constraint, value).
    lp_rows: Vec<Vec<(usize, T)>>,
    c_lp: Vec<T>,
    b: Vec<T>,
    /// Barrier parameter `n = Σ n_k`.
    nu: f64,
}

impl<T: Real> Data<T> {
    fn new(p: &SdpProblem) -> Data<T> {
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
                let (d, v) = (dense_of[e.block], T::from(e.v));
                if d != usize::MAX {
                    a[d][i].push((e.i, e.j, v));
                    if e.i != e.j {
                        a[d][i].push((e.j, e.i, v));
                    }
                } else {
                    let k = lp_start[e.block] + e.i;
                    a_lp[i].push((k, v));
                    lp_rows[k].push((i, v));
                }
            }
        }
        let mut c: Vec<Mat<T>> = size.iter().map(|&n| Mat::zeros(n, n)).collect();
        let mut c_lp = vec![zero(); lp_at.len()];
        for e in p.c().entries() {
            let (d, v) = (dense_of[e.block], T::from(e.v));
            if d != usize::MAX {
                c[d][(e.i, e.j)] = v;
                c[d][(e.j, e.i)] = v;
            } else {
                c_lp[lp_start[e.block] + e.i] = v;
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
            b: p.b().iter().map(|&v| T::from(v)).collect(),
            nu,
        }
    }

    /// `A(X)`.
    fn apply_a(&self, x: &Pt<T>) -> Vec<T> {
        (0..self.m)
            .map(|i| {
                let mut s = zero::<T>();
                for (d, xd) in x.mats.iter().enumerate() {
                    for &(r, c, v) in &self.a[d][i] {
                        s += T::prod(v, xd[(r, c)]);
                    }
                }
                for &(k, v) in &self.a_lp[i] {
                    s += T::prod(v, x.lp[k]);
                }
                s
            })
            .collect()
    }

    /// `A*(y)`.
    fn apply_at(&self, y: &[T]) -> Pt<T> {
        let mut out = self.zeros();
        for (d, od) in out.mats.iter_mut().enumerate() {
            for (i, &yi) in y.iter().enumerate() {
                for &(r, c, v) in &self.a[d][i] {
                    od[(r, c)] += T::prod(v, yi);
                }
            }
        }
        for (i, &yi) in y.iter().enumerate() {
            for &(k, v) in &self.a_lp[i] {
                out.lp[k] += v * yi;
            }
        }
        out
    }

    fn zeros(&self) -> Pt<T> {
        Pt {
            mats: self.size.iter().map(|&n| Mat::zeros(n, n)).collect(),
            lp: vec![zero(); self.lp_at.len()],
        }
    }

    /// `⟨C, X⟩` (without copying `C`).
    fn c_dot(&self, x: &Pt<T>) -> T {
        block_dot((&self.c, &self.c_lp), (&x.mats, &x.lp))
    }

    fn c_pt(&self) -> Pt<T> {
        Pt {
            mats: self.c.clone(),
            lp: self.c_lp.clone(),
        }
    }

    /// `bᵀy`.
    fn b_dot(&self, y: &[T]) -> T {
        dot(&self.b, y)
    }
}

fn dot<T: Real>(a: &[T], b: &[T]) -> T {
    a.iter().zip(b).fold(zero(), |s, (&x, &y)| s + x * y)
}

/// A block-diagonal point: dense blocks and the LP vector.
#[derive(Clone)]
struct Pt<T> {
    mats: Vec<Mat<T>>,
    lp: Vec<T>,
}

impl<T: Real> Pt<T> {
    fn dot(&self, o: &Pt<T>) -> T {
        block_dot((&self.mats, &self.lp), (&o.mats, &o.lp))
    }
    fn norm(&self) -> T {
        self.dot(self).root()
    }
    /// `self + t·o`.
    fn axpy(&mut self, t: T, o: &Pt<T>) {
        for (a, b) in self.mats.iter_mut().zip(&o.mats) {
            *a += faer::Scale(t) * b;
        }
        for (a, &b) in self.lp.iter_mut().zip(&o.lp) {
            *a += t * b;
        }
    }
    fn scale(&mut self, t: T) {
        self.mats.iter_mut().for_each(|a| *a *= faer::Scale(t));
        self.lp.iter_mut().for_each(|v| *v *= t);
    }
    /// The point in another precision.
    fn to<U: Real>(&self) -> Pt<U> {
        Pt {
            mats: self
                .mats
                .iter()
                .map(|a| Mat::from_fn(a.nrows(), a.ncols(), |i, j| U::from(a[(i, j)].to_f())))
                .collect(),
            lp: self.lp.iter().map(|v| U::from(v.to_f())).collect(),
        }
    }
}

/// `Σ_k ⟨A_k, B_k⟩ + aᵀb` over dense blocks and LP parts.
fn block_dot<T: Real>(a: (&[Mat<T>], &[T]), b: (&[Mat<T>], &[T])) -> T {
    let mut s = dot(a.1, b.1);
    for (x, y) in a.0.iter().zip(b.0) {
        for j in 0..x.ncols() {
            for i in 0..x.nrows() {
                s += x[(i, j)] * y[(i, j)];
            }
        }
    }
    s
}

fn symmetrise<T: Real>(a: &mut Mat<T>) {
    let (n, half) = (a.nrows(), T::from(0.5));
    for i in 0..n {
        for j in 0..i {
            let v = half * (a[(i, j)] + a[(j, i)]);
            a[(i, j)] = v;
            a[(j, i)] = v;
        }
    }
}

/// `Z⁻¹` of every dense block (`None` when one is not positive definite).
fn inverses<T: Real>(z: &Pt<T>) -> Option<Vec<Mat<T>>> {
    z.mats
        .iter()
        .map(|zd| {
            let l = T::cholesky(zd.clone())?;
            let mut inv = chol_solve(&l, &Mat::<T>::identity(zd.nrows(), zd.nrows()));
            symmetrise(&mut inv);
            Some(inv)
        })
        .collect()
}

/// The Schur complement `M_ij = tr(A_i X A_j Z⁻¹) + Σ_k a_ik a_jk x_k/z_k`.
fn schur<T: Real>(data: &Data<T>, x: &Pt<T>, z: &Pt<T>, zinv: &[Mat<T>]) -> Mat<T> {
    let m = data.m;
    let mut mm = Mat::<T>::zeros(m, m);
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
        let cols: Vec<Vec<(usize, T)>> = (0..order.len())
            .into_par_iter()
            .map(|q| {
                let j = order[q];
                let fj = a[j].len() as f64;
                let later = tail[q] as f64;
                let mut out = Vec::with_capacity(order.len() - q);
                if fj * later <= n3 + n as f64 * fj + later {
                    // F3: Σ_{(α,β)∈A_i} Σ_{(γ,δ)∈A_j} v w X_βγ Z⁻¹_δα.
                    for &i in &order[q..] {
                        let mut s = zero::<T>();
                        for &(al, be, v) in &a[i] {
                            for &(ga, de, w) in &a[j] {
                                s += T::prod(T::prod(v, w), T::prod(xd[(be, ga)], zi[(de, al)]));
                            }
                        }
                        out.push((i, s));
                    }
                } else {
                    // F1: T = X A_j Z⁻¹ densely, then ⟨A_i, T⟩.
                    let mut xa = Mat::<T>::zeros(n, n);
                    for &(ga, de, w) in &a[j] {
                        T::axpy(xa.col_as_slice_mut(de), xd.col_as_slice(ga), w);
                    }
                    let t = T::matmul(&xa, zi);
                    for &i in &order[q..] {
                        let s = a[i]
                            .iter()
                            .fold(zero::<T>(), |s, &(al, be, v)| s + T::prod(v, t[(be, al)]));
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
struct Schur<T> {
    m: Mat<T>,
    l: Mat<T>,
}

impl<T: Real> Schur<T> {
    /// `M dy = h`, with two steps of iterative refinement against the unshifted `M` (its
    /// condition grows like `1/μ²` in the endgame).
    fn solve(&self, h: &[T]) -> Vec<T> {
        let n = h.len();
        let rhs = Mat::<T>::from_fn(n, 1, |i, _| h[i]);
        let mut x = chol_solve(&self.l, &rhs);
        for _ in 0..2 {
            let r = &rhs - T::matmul(&self.m, &x);
            let d = chol_solve(&self.l, &r);
            x += &d;
        }
        (0..n).map(|i| x[(i, 0)]).collect()
    }
}

/// The Cholesky factor of `M`, with a growing diagonal shift when `M` is numerically
/// singular (the endgame's conditioning).
fn factor<T: Real>(m: Mat<T>) -> Option<Schur<T>> {
    let size = m.nrows();
    let big = (0..size)
        .map(|i| mag(m[(i, i)]).to_f())
        .fold(0.0, f64::max)
        .max(1e-300);
    let eps = T::epsilon_impl().to_f();
    let mut shift = 0.0;
    for _ in 0..8 {
        let mut mm = m.clone();
        for i in 0..size {
            mm[(i, i)] += T::from(shift);
        }
        if let Some(l) = T::cholesky(mm) {
            return Some(Schur { m, l });
        }
        shift = if shift == 0.0 {
            45.0 * eps * big
        } else {
            shift * 100.0
        };
    }
    None
}

/// A search direction from the right-hand side `E` (per block) and the residuals.
struct Dir<T> {
    dx: Pt<T>,
    dy: Vec<T>,
    dz: Pt<T>,
}

fn direction<T: Real>(
    data: &Data<T>,
    st: &State<T>,
    zinv: &[Mat<T>],
    schur: &Schur<T>,
    e: &Pt<T>,
) -> Dir<T> {
    // G = E − X R_d Z⁻¹; h = r_p − A(G).
    let mut g = e.clone();
    for (d, gd) in g.mats.iter_mut().enumerate() {
        let t = T::matmul(&st.x.mats[d], &st.rd.mats[d]);
        *gd -= T::matmul(&t, &zinv[d]);
    }
    for k in 0..g.lp.len() {
        g.lp[k] -= st.x.lp[k] * st.rd.lp[k] / st.z.lp[k];
    }
    let ag = data.apply_a(&g);
    let h: Vec<T> = (0..data.m).map(|i| st.rp[i] - ag[i]).collect();
    let dy = schur.solve(&h);
    let mut dz = st.rd.clone();
    dz.axpy(T::from(-1.0), &data.apply_at(&dy));
    let mut dx = e.clone();
    for (d, dxd) in dx.mats.iter_mut().enumerate() {
        let t = T::matmul(&st.x.mats[d], &dz.mats[d]);
        *dxd -= T::matmul(&t, &zinv[d]);
        symmetrise(dxd);
    }
    for k in 0..dx.lp.len() {
        dx.lp[k] -= st.x.lp[k] * dz.lp[k] / st.z.lp[k];
    }
    Dir { dx, dy, dz }
}

/// The largest `α` with `x + α dx` positive definite (`f64::INFINITY` when every direction
/// stays inside): `1/max(0, λ_max(−L⁻¹ dX L⁻ᵀ))` per dense block, `−x_k/dx_k` per LP entry.
fn max_step<T: Real>(x: &Pt<T>, dx: &Pt<T>) -> f64 {
    let mut alpha = f64::INFINITY;
    for (k, &v) in dx.lp.iter().enumerate() {
        if v < zero() {
            alpha = alpha.min((-x.lp[k] / v).to_f());
        }
    }
    for (xd, dd) in x.mats.iter().zip(&dx.mats) {
        let Some(l) = T::cholesky(xd.clone()) else {
            return 0.0;
        };
        let mut t = dd.clone();
        T::lower_solve(&l, &mut t);
        let mut w = t.transpose().to_owned();
        T::lower_solve(&l, &mut w);
        // W = L⁻¹ dX L⁻ᵀ is well scaled: its eigenvalues in double precision suffice.
        let lmin = lambda_min(&Pt {
            mats: vec![w],
            lp: Vec::new(),
        });
        if lmin.is_nan() {
            return 0.0;
        }
        if lmin < 0.0 {
            alpha = alpha.min(-1.0 / lmin);
        }
    }
    alpha
}

/// The iterate and its residuals.
#[derive(Clone)]
struct State<T> {
    x: Pt<T>,
    y: Vec<T>,
    z: Pt<T>,
    rp: Vec<T>,
    rd: Pt<T>,
}

impl<T: Real> State<T> {
    fn refresh(&mut self, data: &Data<T>) {
        let ax = data.apply_a(&self.x);
        self.rp = data.b.iter().zip(&ax).map(|(&b, &a)| b - a).collect();
        let mut rd = data.c_pt();
        rd.axpy(T::from(-1.0), &self.z);
        rd.axpy(T::from(-1.0), &data.apply_at(&self.y));
        self.rd = rd;
    }
    fn mu(&self, nu: f64) -> T {
        self.x.dot(&self.z) / T::from(nu)
    }
    /// The iterate in double precision, residuals recomputed there.
    fn to_f64(&self, data: &Data<f64>) -> State<f64> {
        let mut st = State {
            x: self.x.to(),
            y: self.y.iter().map(|v| v.to_f()).collect(),
            z: self.z.to(),
            rp: Vec::new(),
            rd: data.zeros(),
        };
        st.refresh(data);
        st
    }
}

/// CSDP's starting point: `X = ξI`, `Z = ηI` per block, `y = 0`.
fn start<T: Real>(data: &Data<T>, p: &SdpProblem) -> State<T> {
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
        for (row, &bi) in anorm.iter().zip(p.b()) {
            let an = row[k].sqrt();
            xi[k] = xi[k].max(scale * (1.0 + bi.abs()) / (1.0 + an));
            eta[k] = eta[k].max(an);
        }
    }
    let mut x = data.zeros();
    let mut z = data.zeros();
    for (d, &k) in data.dense.iter().enumerate() {
        for i in 0..data.size[d] {
            x.mats[d][(i, i)] = T::from(xi[k]);
            z.mats[d][(i, i)] = T::from(eta[k]);
        }
    }
    for (v, &(k, _)) in data.lp_at.iter().enumerate() {
        x.lp[v] = T::from(xi[k]);
        z.lp[v] = T::from(eta[k]);
    }
    let mut st = State {
        x,
        y: vec![zero(); data.m],
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
    Dual(Pt<f64>, f64),
}

/// `λ_min` over the blocks of a block-diagonal point (dense: eigenvalues; LP: entries).
fn lambda_min<T: Real>(p: &Pt<T>) -> f64 {
    let mut l = p.lp.iter().map(|v| v.to_f()).fold(f64::INFINITY, f64::min);
    for a in &p.mats {
        let mut s = Mat::<f64>::from_fn(a.nrows(), a.ncols(), |i, j| a[(i, j)].to_f());
        symmetrise(&mut s);
        if let Ok(e) = s.self_adjoint_eigen(Side::Lower) {
            for i in 0..s.nrows() {
                l = l.min(e.S().column_vector()[i].to_f());
            }
        } else {
            return f64::NAN;
        }
    }
    l
}

/// The infeasibility tests of the module documentation, verified a posteriori in double
/// precision on the rounded certificate.
fn infeasibility<T: Real>(
    data: &Data<T>,
    d64: &Data<f64>,
    st: &State<T>,
    cnorm: f64,
    bnorm: f64,
) -> Option<Infeasible> {
    let bty = data.b_dot(&st.y).to_f();
    if bty > 1e8 * (1.0 + cnorm) {
        let yh: Vec<f64> = st.y.iter().map(|v| v.to_f() / bty).collect();
        let mut minus = d64.zeros();
        minus.axpy(-1.0, &d64.apply_at(&yh));
        // A*(ŷ) ⪯ 0: λ_min(−A*(ŷ)) ≥ −ε.
        let res = (-lambda_min(&minus)).max(0.0);
        if res <= 1e-6 {
            return Some(Infeasible::Primal(yh, res));
        }
    }
    let ctx = data.c_dot(&st.x).to_f();
    if -ctx > 1e8 * (1.0 + bnorm) {
        let mut xh: Pt<f64> = st.x.to();
        xh.scale(1.0 / -ctx);
        let res = d64.apply_a(&xh).iter().map(|v| v * v).sum::<f64>().sqrt();
        if res <= 1e-6 {
            return Some(Infeasible::Dual(xh, res));
        }
    }
    None
}

/// Solve `p` by the interior-point method (see the module documentation). The report's
/// objective is `⟨C, X⟩`, its bound `bᵀy` when `C − A*(y) ⪰ 0` to working precision; the
/// residuals are measured on the returned `(X, y)` as [`super::alm`] measures them.
///
/// With [`Precision::Auto`] a run that stalls in double precision (or breaks down) is
/// repeated in double-double arithmetic within what is left of the budget, and the better of
/// the two answers is returned; `stats.ipm.precision` says which.
pub fn solve(
    p: &SdpProblem,
    s: &IpmSettings,
    observer: &mut dyn Observer,
) -> Result<SdpReport, SolveError> {
    s.validate()?;
    // Memory: M and its copy (m² each) and about a dozen n_k² matrices per dense block
    // (X, Z, Z⁻¹, the directions, products), before anything is allocated; twice that in
    // double-double.
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
    let bytes = if s.precision == Precision::Double {
        8
    } else {
        16
    };
    mathprog_problems::limits::check_alloc("the interior-point method", words, bytes)
        .map_err(|e| SolveError::InvalidInput(format!("{e} (use the low-rank path)")))?;
    let pool = s.common.thread_pool()?;
    let d64 = Data::<f64>::new(p);
    let mut run = Run::start(
        &s.common,
        observer,
        "ipm-hkm",
        "sdp",
        Sense::Minimize,
        p.dim(),
    );
    let norms = (
        d64.c_pt().norm(),
        d64.b.iter().map(|v| v * v).sum::<f64>().sqrt(),
    );
    let mut ph = if s.precision == Precision::DoubleDouble {
        None
    } else {
        let last = s.precision == Precision::Double;
        Some(iterate(&d64, &d64, s, &pool, &mut run, norms, 0, last, p))
    };
    let retry = match &ph {
        None => true,
        Some(ph) => {
            s.precision == Precision::Auto
                && ph.found.is_none()
                && matches!(ph.status, Status::Stalled | Status::NumericalError)
        }
    };
    if retry {
        let dd = Data::<fx128>::new(p);
        let before = ph.as_ref().map_or(0, |ph| ph.iters);
        let mut second = iterate(&dd, &d64, s, &pool, &mut run, norms, before, true, p);
        second.iters += before;
        second.schur_secs += ph.as_ref().map_or(0.0, |ph| ph.schur_secs);
        let better = match &ph {
            None => true,
            Some(first) => {
                second.found.is_some()
                    || second.status == Status::Converged
                    || second.worst < first.worst
            }
        };
        if better {
            ph = Some(second);
        } else if let Some(first) = &mut ph {
            first.iters = second.iters;
            first.schur_secs = second.schur_secs;
            first.retried = true;
        }
    }
    let ph = ph.expect("one phase ran");
    Ok(finish(p, &d64, ph, run))
}

/// The outcome of one run of the iteration in one precision.
struct Phase {
    status: Status,
    /// The returned iterate (the best one unless converged), in double precision.
    st: State<f64>,
    /// Its largest scaled residual.
    worst: f64,
    found: Option<Infeasible>,
    iters: u64,
    schur_secs: f64,
    /// `"double"` or `"double-double"`.
    precision: &'static str,
    /// Whether a double-double rerun was tried and not kept.
    retried: bool,
}

/// The interior-point iteration in precision `T` from the standard start; `offset` numbers
/// the iterations after an earlier phase.
#[allow(clippy::too_many_arguments)]
fn iterate<T: Real>(
    data: &Data<T>,
    d64: &Data<f64>,
    s: &IpmSettings,
    pool: &rayon::ThreadPool,
    run: &mut Run<'_>,
    (cnorm, bnorm): (f64, f64),
    offset: u64,
    last: bool,
    p: &SdpProblem,
) -> Phase {
    let mut st = start(data, p);
    let (mut iters, mut schur_secs) = (0u64, 0.0f64);
    let mut found = None;
    // The best iterate so far (by its largest residual) is what a run that stalls or breaks
    // down returns: on ill-posed problems (hinf) later iterates can lose accuracy.
    let mut best: Option<(f64, State<T>)> = None;
    let mut since_best = 0u32;
    // In the last phase progress also counts when μ or an infeasibility halves (the gap can
    // rise for a while as the infeasibilities fall on ill-posed problems); a double-precision
    // run with a double-double one to follow gives up on the first stall.
    let mut lows = [f64::INFINITY; 3];
    let status = loop {
        let (pinf, dinf, gap, pobj) = measures(data, &st, cnorm, bnorm);
        let worst = pinf.max(dinf).max(gap);
        let improved = best.as_ref().is_none_or(|(w, _)| worst < *w);
        let mut progress = improved;
        for (low, v) in lows.iter_mut().zip([pinf, dinf, st.mu(data.nu).to_f()]) {
            if v < 0.5 * *low {
                *low = v;
                progress |= last;
            }
        }
        if improved {
            best = Some((worst, st.clone()));
        }
        if progress {
            since_best = 0;
        } else {
            since_best += 1;
        }
        if std::env::var("IPM_TRACE").is_ok() {
            eprintln!(
                "TRACE {iters} pinf {pinf:.2e} dinf {dinf:.2e} gap {gap:.2e} mu {:.2e} ynorm {:.2e} pobj {pobj:.10}",
                st.mu(data.nu).to_f(),
                dot(&st.y, &st.y).root().to_f()
            );
        }
        let ctl = run.report(&IterRecord {
            iteration: offset + iters,
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
                ("mu", st.mu(data.nu).to_f()),
            ],
        });
        if pinf <= s.tol && dinf <= s.tol && gap <= s.tol {
            break Status::Converged;
        }
        if let Some(inf) = infeasibility(data, d64, &st, cnorm, bnorm) {
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
        let mm = pool.install(|| schur(data, &st.x, &st.z, &zinv));
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
        if !step(data, &mut st, &zinv, &schur, s.step_fraction, sigma_min) {
            break failed;
        }
        iters += 1;
    };
    let mut worst = best.as_ref().map_or(f64::INFINITY, |(w, _)| *w);
    if found.is_none()
        && status != Status::Converged
        && let Some((_, b)) = best
    {
        st = b;
    } else {
        let (pinf, dinf, gap, _) = measures(data, &st, cnorm, bnorm);
        worst = pinf.max(dinf).max(gap);
    }
    Phase {
        status,
        st: st.to_f64(d64),
        worst,
        found,
        iters,
        schur_secs,
        precision: if T::epsilon_impl().to_f() < 1e-20 {
            "double-double"
        } else {
            "double"
        },
        retried: false,
    }
}

/// Iterations without a new best residual before the run counts as stalled.
const STALL_ITERATIONS: u32 = 15;

/// One predictor–corrector step; `false` when the steps are too short to make progress.
fn step<T: Real>(
    data: &Data<T>,
    st: &mut State<T>,
    zinv: &[Mat<T>],
    schur: &Schur<T>,
    gamma: f64,
    sigma_min: f64,
) -> bool {
    let mu = st.mu(data.nu);
    // Predictor: E = −X.
    let mut e = st.x.clone();
    e.scale(T::from(-1.0));
    let pred = direction(data, st, zinv, schur, &e);
    let ap = (gamma * max_step(&st.x, &pred.dx)).min(1.0);
    let ad = (gamma * max_step(&st.z, &pred.dz)).min(1.0);
    let mut xa = st.x.clone();
    xa.axpy(T::from(ap), &pred.dx);
    let mut za = st.z.clone();
    za.axpy(T::from(ad), &pred.dz);
    let mu_a = (xa.dot(&za) / T::from(data.nu)).to_f();
    let (a, mu_f) = (ap.min(ad), mu.to_f());
    let expon = if mu_f > 1e-6 && a >= 1.0 / 3f64.sqrt() {
        (3.0 * a * a).max(1.0)
    } else {
        1.0
    };
    let sigma = if mu_a < 0.0 {
        0.8
    } else {
        (mu_a / mu_f).powf(expon).clamp(sigma_min, 1.0)
    };
    let smu = T::from(sigma) * mu;
    // Corrector: E = σμZ⁻¹ − X − dX_a dZ_a Z⁻¹.
    let mut e = st.x.clone();
    for (d, ed) in e.mats.iter_mut().enumerate() {
        let t = T::matmul(&pred.dx.mats[d], &pred.dz.mats[d]);
        let corr = T::matmul(&t, &zinv[d]);
        *ed = faer::Scale(smu) * &zinv[d] - &*ed - corr;
    }
    for k in 0..e.lp.len() {
        e.lp[k] = smu / st.z.lp[k] - st.x.lp[k] - pred.dx.lp[k] * pred.dz.lp[k] / st.z.lp[k];
    }
    let dir = direction(data, st, zinv, schur, &e);
    // SDPT3's adaptive fraction: closer to the boundary only while the steps are long.
    let gamma = gamma.min(0.9 + 0.09 * a);
    let ap = (gamma * max_step(&st.x, &dir.dx)).min(1.0);
    let ad = (gamma * max_step(&st.z, &dir.dz)).min(1.0);
    if std::env::var("IPM_TRACE").is_ok() {
        eprintln!("   step ap {ap:.3e} ad {ad:.3e} sigma {sigma:.3e}");
    }
    if ap < 1e-10 && ad < 1e-10 {
        return false;
    }
    st.x.axpy(T::from(ap), &dir.dx);
    st.z.axpy(T::from(ad), &dir.dz);
    for (y, &d) in st.y.iter_mut().zip(&dir.dy) {
        *y += T::from(ad) * d;
    }
    st.refresh(data);
    true
}

/// `(‖r_p‖/(1+‖b‖), ‖R_d‖_F/(1+‖C‖_F), |⟨C,X⟩ − bᵀy|/(1+|⟨C,X⟩|+|bᵀy|), ⟨C,X⟩)`.
fn measures<T: Real>(
    data: &Data<T>,
    st: &State<T>,
    cnorm: f64,
    bnorm: f64,
) -> (f64, f64, f64, f64) {
    let pinf = dot(&st.rp, &st.rp).root().to_f() / (1.0 + bnorm);
    let dinf = st.rd.norm().to_f() / (1.0 + cnorm);
    let pobj = data.c_dot(&st.x);
    let dobj = data.b_dot(&st.y);
    let gap = mag(pobj - dobj).to_f() / (1.0 + mag(pobj).to_f() + mag(dobj).to_f());
    (pinf, dinf, gap, pobj.to_f())
}

/// The report: `X` as factors (eigen-decomposition of each dense block), residuals measured
/// in double precision on `(X, y)` with `S = C − A*(y)`.
fn finish(p: &SdpProblem, data: &Data<f64>, ph: Phase, run: Run<'_>) -> SdpReport {
    let cnorm = data.c_pt().norm();
    let bnorm = data.b.iter().map(|v| v * v).sum::<f64>().sqrt();
    let mu = ph.st.mu(data.nu);
    let (x, y, cert) = match ph.found {
        Some(Infeasible::Primal(yh, r)) => (ph.st.x, yh, Some(r)),
        Some(Infeasible::Dual(xh, r)) => (xh, ph.st.y, Some(r)),
        None => (ph.st.x, ph.st.y, None),
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
    let verified = smin >= 0.0 && slack_is_psd(p, &y);
    let pobj = data.c_dot(&x);
    let dobj = data.b_dot(&y);
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
            schur_seconds: ph.schur_secs,
            certificate_residual: cert,
            precision: ph.precision.into(),
            double_double_tried: ph.retried || ph.precision == "double-double",
        }),
        choice: None,
    };
    let backend = BackendReport::cpu_only(run.common().backend, "ipm-hkm");
    run.finish(
        End::new(ph.status, solution, pobj, residuals, stats)
            .bound(verified.then_some(dobj))
            .iterations(ph.iters)
            .backend(backend),
    )
}

/// Whether `C − A*(y)` is positive semidefinite, verified by Cholesky factorisations of its
/// blocks computed in double-double arithmetic from the double-precision `y` (rounding errors
/// about `1e-32 n ‖C − A*(y)‖`): then `bᵀy` is a proven bound, even where the eigenvalues of
/// an ill-posed problem's slack sit at the level of double-precision rounding.
fn slack_is_psd(p: &SdpProblem, y: &[f64]) -> bool {
    let dd = Data::<fx128>::new(p);
    let yd: Vec<fx128> = y.iter().map(|&v| fx128::from(v)).collect();
    let mut slack = dd.c_pt();
    slack.axpy(fx128::from(-1.0), &dd.apply_at(&yd));
    slack.lp.iter().all(|v| v.0 >= 0.0)
        && slack.mats.iter().all(|z| {
            // Semidefinite: positive definite after a shift at the rounding level.
            let big = (0..z.nrows())
                .map(|i| z[(i, i)].0.abs())
                .fold(0.0, f64::max);
            let mut zs = z.clone();
            for i in 0..z.nrows() {
                zs[(i, i)] += fx128::from(1e-28 * big.max(1e-300));
            }
            fx128::cholesky(zs).is_some()
        })
}

/// `X` per original block as the factors of [`SdpSolution`]: dense blocks `Q diag(√λ₊)`
/// (rank `n`), diagonal blocks the square roots.
fn factors(p: &SdpProblem, data: &Data<f64>, x: &Pt<f64>) -> Vec<(usize, Vec<f64>)> {
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
