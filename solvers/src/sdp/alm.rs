//! General standard-form SDPs `min ⟨C, X⟩ s.t. A(X) = b, X ⪰ 0` (block diagonal, with
//! diagonal blocks) by an augmented-Lagrangian outer loop around factored conic descent.
//!
//! **Why an augmented Lagrangian.** Conic descent (Duchi et al. 2020) minimises a smooth `F`
//! over the PSD cone; linear constraints enter through
//! `L_σ(X; y) = ⟨C, X⟩ − yᵀ(A(X) − b) + (σ/2)‖A(X) − b‖²`, minimised over `X ⪰ 0` for fixed
//! `(y, σ)`, followed by the multiplier update `y ← y − σ(A(X) − b)` (method of multipliers;
//! a CGAL-type outer loop as in the research notes). It keeps the iterates PSD, needs only
//! products with `C` and the `A_i`, and reaches the accuracy SDPLIB asks for, where a pure
//! penalty would not.
//!
//! **Inner problem.** As in [`super::maxcut`], `X` is kept factored: each dense block as
//! `V_k V_kᵀ` (`n_k × r_k`), each diagonal block as `u ∘ u`, so `X ⪰ 0` always holds. The inner
//! minimisation is the greedy step of conic descent done by L-BFGS on the factors with an
//! *exact* line search: along a direction `D`, `X(α) = X + α(VDᵀ + DVᵀ) + α² DDᵀ` is quadratic
//! in `α`, so `L_σ` is a quartic whose minimiser comes from the roots of a cubic.
//!
//! **Eigen step and certificate.** After each inner solve, the dual slack
//! `S(y) = C − Σ y_i A_i` is checked block by block (dense eigenvalues via faer up to
//! [`AlmSettings::dense_eig_max`], Lanczos beyond). A negative eigenvalue with eigenvector `q`
//! is CD's descent direction `qqᵀ`: `q` joins the factor as a new column (rank increase). The
//! run stops when the scaled primal infeasibility `‖A(X) − b‖/(1 + ‖b‖)`, the dual
//! infeasibility `max(0, −λ_min(S))/(1 + ‖C‖)` and the relative duality gap
//! `|⟨C, X⟩ − bᵀy| / (1 + |⟨C, X⟩| + |bᵀy|)` are all below `tol`. The dual value `bᵀy` is a
//! proven lower bound when `S(y) ⪰ 0`.
//!
//! **Penalty schedule.** `σ` grows by [`AlmSettings::sigma_growth`] when the infeasibility
//! did not fall below a quarter, but only after an inner solve that reached its gradient
//! tolerance: the inner problem's conditioning grows with `σ`, and growing it after an
//! unfinished solve only makes the multiplier step noisier (on SDPLIB this turned `truss2/5`,
//! `qap5`, `qpG11` and `thetaG11` from time-limited into converged).
//!
//! **Facial reduction.** Constraints `⟨aaᵀ, X⟩ = 0` (the `gpp*` equipartition
//! `⟨J, X⟩ = 0`) are degenerate in factored form; they are replaced by `Vᵀa = 0`, kept
//! exactly by projection, and the slack is certified on the face `a^⊥` (see
//! `facial_reduction`). Their multipliers are reported as 0: the unreduced dual has no
//! Slater point and need not attain them.

use super::{AlmStats, SdpReport, SdpResiduals, SdpStats};
use crate::core::{
    BackendReport, Budget, Common, End, IterRecord, Observer, Run, SolveError, Status, stream_rng,
};
use crate::linalg::lanczos::{LanczosSettings, largest_eigenpair};
use crate::linalg::simd::{axpy, dot};
use faer::{Mat, Side};
use mathprog_problems::binary::Sense;
use mathprog_problems::sdp::{Block, SdpProblem};
use rand_distr::{Distribution, StandardNormal};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct AlmSettings {
    /// Time limit, outer-iteration limit, seed, threads, cancellation.
    pub common: Common,
    /// Tolerance on the scaled primal and dual infeasibilities and the relative gap.
    pub tol: f64,
    /// Initial rank of every dense block (`None`: `min(n_k, ⌈√(2m)⌉ + 1, 64)`).
    pub rank: Option<usize>,
    /// Initial penalty `σ` (on the normalised problem).
    pub sigma0: f64,
    /// Factor by which `σ` grows when the infeasibility does not fall below a quarter.
    pub sigma_growth: f64,
    /// L-BFGS iterations per inner solve.
    pub inner_max_iter: usize,
    /// L-BFGS memory.
    pub lbfgs_memory: usize,
    /// Blocks up to this size get dense eigenvalues (faer); larger ones Lanczos.
    pub dense_eig_max: usize,
    /// How [`super::solve`] treats the problem (MaxCut-type SDPs by the MaxCut solver, or
    /// always the augmented Lagrangian); [`solve`] here ignores it.
    pub method: super::SdpMethod,
    /// Working precision of the interior-point path (see [`super::ipm::Precision`]).
    #[serde(default)]
    pub ipm_precision: super::ipm::Precision,
}

impl Default for AlmSettings {
    fn default() -> Self {
        AlmSettings {
            common: Common::default(),
            tol: 1e-6,
            rank: None,
            sigma0: 10.0,
            sigma_growth: 4.0,
            inner_max_iter: 500,
            lbfgs_memory: 8,
            dense_eig_max: 400,
            method: super::SdpMethod::Auto,
            ipm_precision: super::ipm::Precision::Auto,
        }
    }
}

impl AlmSettings {
    /// Check every field (tol and sigma0 positive, sigma_growth above 1).
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if !(self.tol > 0.0 && self.sigma0 > 0.0 && self.sigma_growth > 1.0) {
            return Err(SolveError::InvalidInput(
                "tol and sigma0 must be positive, sigma_growth above 1".into(),
            ));
        }
        Ok(())
    }
}

/// The solution: the factors and the multipliers.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SdpSolution {
    /// Per block: rank `r_k` (1 for diagonal blocks) and the factor, row-major `n_k × r_k`
    /// (the square roots `u` for diagonal blocks, `x = u ∘ u`).
    pub factors: Vec<(usize, Vec<f64>)>,
    /// Multipliers `y` of the constraints (the dual solution).
    pub y: Vec<f64>,
}

impl SdpSolution {
    /// Block `k` of `X` as a dense row-major matrix (diagonal blocks: the diagonal).
    pub fn block(&self, p: &SdpProblem, k: usize) -> Vec<f64> {
        let (r, v) = &self.factors[k];
        match p.blocks()[k] {
            Block::Diagonal(_) => v.iter().map(|u| u * u).collect(),
            Block::Dense(n) => {
                let mut x = vec![0.0; n * n];
                for i in 0..n {
                    for j in 0..n {
                        x[i * n + j] = (0..*r).map(|c| v[i * r + c] * v[j * r + c]).sum();
                    }
                }
                x
            }
        }
    }
}

/// A position `(block, i, j)`, `i ≤ j`, of the union of the sparsity patterns.
#[derive(Debug, Clone, Copy)]
struct Pos {
    block: usize,
    i: usize,
    j: usize,
}

/// The problem in pattern form: every `⟨M, X⟩` is `Σ_p coef_p X_p` over the positions.
struct Pattern {
    pos: Vec<Pos>,
    c: Vec<(usize, f64)>,
    a: Vec<Vec<(usize, f64)>>,
}

fn pattern(p: &SdpProblem, c_scale: f64, row_scale: &[f64], removed: &[bool]) -> Pattern {
    let mut index: HashMap<(usize, usize, usize), usize> = HashMap::new();
    let mut pos = Vec::new();
    let mut coef = |e: &mathprog_problems::sdp::Entry, s: f64, pos: &mut Vec<Pos>| {
        let key = (e.block, e.i, e.j);
        let k = *index.entry(key).or_insert_with(|| {
            pos.push(Pos {
                block: e.block,
                i: e.i,
                j: e.j,
            });
            pos.len() - 1
        });
        let mult = if e.i == e.j { 1.0 } else { 2.0 };
        (k, mult * e.v * s)
    };
    let c = p
        .c()
        .entries()
        .iter()
        .map(|e| coef(e, c_scale, &mut pos))
        .collect();
    let a = p
        .a()
        .iter()
        .zip(row_scale)
        .zip(removed)
        .map(|((ai, s), gone)| {
            if *gone {
                Vec::new()
            } else {
                ai.entries().iter().map(|e| coef(e, *s, &mut pos)).collect()
            }
        })
        .collect();
    Pattern { pos, c, a }
}

/// Where each block's factor lives in the flat variable vector.
#[derive(Debug, Clone)]
struct Layout {
    ranks: Vec<usize>,
    offsets: Vec<usize>,
    len: usize,
}

impl Layout {
    fn new(blocks: &[Block], ranks: Vec<usize>) -> Self {
        let mut offsets = Vec::with_capacity(blocks.len());
        let mut len = 0;
        for (b, r) in blocks.iter().zip(&ranks) {
            offsets.push(len);
            len += b.size() * r;
        }
        Layout {
            ranks,
            offsets,
            len,
        }
    }
    #[inline]
    fn row(&self, block: usize, i: usize) -> std::ops::Range<usize> {
        let r = self.ranks[block];
        let o = self.offsets[block] + i * r;
        o..o + r
    }
}

/// `X_p = ⟨V_i, V_j⟩` (dense blocks) or `u_i²` (diagonal blocks) for every position.
fn positions(pat: &Pattern, lay: &Layout, z: &[f64], x: &mut [f64]) {
    for (xp, ps) in x.iter_mut().zip(&pat.pos) {
        let (a, b) = (lay.row(ps.block, ps.i), lay.row(ps.block, ps.j));
        *xp = z[a].iter().zip(&z[b]).map(|(p, q)| p * q).sum();
    }
}

/// `⟨V_i, D_j⟩ + ⟨D_i, V_j⟩` and `⟨D_i, D_j⟩` per position (the line-search coefficients).
fn positions_dir(
    pat: &Pattern,
    lay: &Layout,
    z: &[f64],
    d: &[f64],
    x1: &mut [f64],
    x2: &mut [f64],
) {
    for ((p1, p2), ps) in x1.iter_mut().zip(x2.iter_mut()).zip(&pat.pos) {
        let (a, b) = (lay.row(ps.block, ps.i), lay.row(ps.block, ps.j));
        let (va, vb, da, db) = (&z[a.clone()], &z[b.clone()], &d[a], &d[b]);
        let mut s1 = 0.0;
        let mut s2 = 0.0;
        for c in 0..va.len() {
            s1 += va[c] * db[c] + da[c] * vb[c];
            s2 += da[c] * db[c];
        }
        *p1 = s1;
        *p2 = s2;
    }
}

fn apply_rows(rows: &[(usize, f64)], x: &[f64]) -> f64 {
    rows.iter().map(|(p, c)| c * x[*p]).sum()
}

/// Augmented-Lagrangian value at position values `x`; fills the residual `res = A(X) − b`.
fn lagrangian(pat: &Pattern, b: &[f64], y: &[f64], sigma: f64, x: &[f64], res: &mut [f64]) -> f64 {
    let mut l = apply_rows(&pat.c, x);
    for (i, ri) in res.iter_mut().enumerate() {
        *ri = apply_rows(&pat.a[i], x) - b[i];
        l += -y[i] * *ri + 0.5 * sigma * *ri * *ri;
    }
    l
}

#[allow(clippy::too_many_arguments)]
/// Gradient of `L_σ` with respect to the factors: `∂L/∂X_p = s_p` with
/// `s = c − Σ_i (y_i − σ res_i) a_i`, then the chain rule through `X_p = ⟨V_i, V_j⟩`.
fn gradient(
    pat: &Pattern,
    lay: &Layout,
    z: &[f64],
    y: &[f64],
    sigma: f64,
    res: &[f64],
    s: &mut [f64],
    grad: &mut [f64],
) {
    s.fill(0.0);
    for (p, c) in &pat.c {
        s[*p] += c;
    }
    for (i, rows) in pat.a.iter().enumerate() {
        let lam = y[i] - sigma * res[i];
        for (p, c) in rows {
            s[*p] -= lam * c;
        }
    }
    grad.fill(0.0);
    for (sp, ps) in s.iter().zip(&pat.pos) {
        if *sp == 0.0 {
            continue;
        }
        let (a, b) = (lay.row(ps.block, ps.i), lay.row(ps.block, ps.j));
        if ps.i == ps.j {
            for k in a {
                grad[k] += 2.0 * sp * z[k];
            }
        } else {
            let r = a.len();
            for c in 0..r {
                grad[a.start + c] += sp * z[b.start + c];
                grad[b.start + c] += sp * z[a.start + c];
            }
        }
    }
}

/// L-BFGS workspace: a ring of the last `(s_k, y_k, 1/⟨s_k, y_k⟩)` pairs and the direction,
/// allocated once (Nocedal & Wright, Algorithm 7.4, two-loop recursion).
struct Lbfgs {
    s: Vec<Vec<f64>>,
    y: Vec<Vec<f64>>,
    rho: Vec<f64>,
    alpha: Vec<f64>,
    /// Newest pair's slot and the number of pairs held.
    head: usize,
    len: usize,
    grad: Vec<f64>,
    old_grad: Vec<f64>,
    d: Vec<f64>,
}

impl Lbfgs {
    fn new(n: usize, mem: usize) -> Self {
        Lbfgs {
            s: vec![vec![0.0; n]; mem],
            y: vec![vec![0.0; n]; mem],
            rho: vec![0.0; mem],
            alpha: vec![0.0; mem],
            head: 0,
            len: 0,
            grad: vec![0.0; n],
            old_grad: vec![0.0; n],
            d: vec![0.0; n],
        }
    }

    /// Resize for `n` variables (after a rank increase the history is dropped).
    fn resize(&mut self, n: usize) {
        if self.d.len() != n {
            for v in self.s.iter_mut().chain(self.y.iter_mut()) {
                v.resize(n, 0.0);
            }
            self.grad.resize(n, 0.0);
            self.old_grad.resize(n, 0.0);
            self.d.resize(n, 0.0);
            self.len = 0;
        }
    }

    /// `d = −H ∇` by the two-loop recursion; steepest descent if that is not a descent
    /// direction.
    fn direction(&mut self) {
        let mem = self.s.len();
        for (di, g) in self.d.iter_mut().zip(&self.grad) {
            *di = -g;
        }
        for k in 0..self.len {
            let slot = (self.head + mem - k) % mem;
            let a = self.rho[slot] * dot(&self.s[slot], &self.d);
            axpy(-a, &self.y[slot], &mut self.d);
            self.alpha[slot] = a;
        }
        if self.len > 0 {
            let h = self.head;
            let yy = dot(&self.y[h], &self.y[h]);
            if yy > 0.0 {
                let gamma = 1.0 / (self.rho[h] * yy);
                self.d.iter_mut().for_each(|v| *v *= gamma);
            }
        }
        for k in (0..self.len).rev() {
            let slot = (self.head + mem - k) % mem;
            let bb = self.rho[slot] * dot(&self.y[slot], &self.d);
            axpy(self.alpha[slot] - bb, &self.s[slot], &mut self.d);
        }
        if dot(&self.d, &self.grad) >= 0.0 {
            self.len = 0;
            for (di, g) in self.d.iter_mut().zip(&self.grad) {
                *di = -g;
            }
        }
    }

    /// Record the step `α d` and the gradient change (skipped unless `⟨s, y⟩ > 0`).
    fn push(&mut self, alpha: f64, mem_limit: usize) {
        let mem = self.s.len().min(mem_limit.max(1));
        let slot = if self.len == 0 {
            0
        } else {
            (self.head + 1) % mem
        };
        let (sv, yv) = (&mut self.s[slot], &mut self.y[slot]);
        for ((si, yi), ((di, g), og)) in sv
            .iter_mut()
            .zip(yv.iter_mut())
            .zip(self.d.iter().zip(&self.grad).zip(&self.old_grad))
        {
            *si = alpha * di;
            *yi = g - og;
        }
        let sy = dot(sv, yv);
        if sy > 1e-16 {
            self.rho[slot] = 1.0 / sy;
            self.head = slot;
            self.len = (self.len + 1).min(mem);
        } else if self.len == mem {
            // The slot held the oldest pair, now overwritten: drop it.
            self.len -= 1;
        }
    }
}

/// Real roots of `a t³ + b t² + c t + d` (a ≠ 0 or lower degree).
fn cubic_roots(a: f64, b: f64, c: f64, d: f64) -> Vec<f64> {
    let scale = a.abs().max(b.abs()).max(c.abs()).max(d.abs());
    if scale == 0.0 {
        return vec![];
    }
    if a.abs() <= 1e-14 * scale {
        if b.abs() <= 1e-14 * scale {
            return if c != 0.0 { vec![-d / c] } else { vec![] };
        }
        let disc = c * c - 4.0 * b * d;
        if disc < 0.0 {
            return vec![];
        }
        let sq = disc.sqrt();
        return vec![(-c + sq) / (2.0 * b), (-c - sq) / (2.0 * b)];
    }
    let (b, c, d) = (b / a, c / a, d / a);
    let q = (3.0 * c - b * b) / 9.0;
    let r = (9.0 * b * c - 27.0 * d - 2.0 * b * b * b) / 54.0;
    let disc = q * q * q + r * r;
    let shift = -b / 3.0;
    if disc > 0.0 {
        let sq = disc.sqrt();
        let s = (r + sq).cbrt();
        let t = (r - sq).cbrt();
        vec![shift + s + t]
    } else {
        let th = if q == 0.0 {
            0.0
        } else {
            (r / (-q * q * q).sqrt()).clamp(-1.0, 1.0).acos()
        };
        let m = 2.0 * (-q).max(0.0).sqrt();
        (0..3)
            .map(|k| shift + m * ((th + 2.0 * std::f64::consts::PI * k as f64) / 3.0).cos())
            .collect()
    }
}

/// Exact minimiser over `α ≥ 0` of the quartic `L_σ(X(α))` along `d`; `None` if it does not
/// decrease.
#[allow(clippy::too_many_arguments)]
fn exact_step(
    pat: &Pattern,
    b: &[f64],
    y: &[f64],
    sigma: f64,
    x0: &[f64],
    x1: &[f64],
    x2: &[f64],
) -> Option<f64> {
    // L(α) = Σ_k coefficients of α^k.
    let mut poly = [0.0f64; 5];
    let quad = |rows: &[(usize, f64)]| -> [f64; 3] {
        let mut q = [0.0; 3];
        for (p, c) in rows {
            q[0] += c * x0[*p];
            q[1] += c * x1[*p];
            q[2] += c * x2[*p];
        }
        q
    };
    let qc = quad(&pat.c);
    for k in 0..3 {
        poly[k] += qc[k];
    }
    for (i, rows) in pat.a.iter().enumerate() {
        let mut q = quad(rows);
        q[0] -= b[i];
        for k in 0..3 {
            poly[k] -= y[i] * q[k];
        }
        // (σ/2)(q0 + q1 α + q2 α²)²
        let h = 0.5 * sigma;
        poly[0] += h * q[0] * q[0];
        poly[1] += h * 2.0 * q[0] * q[1];
        poly[2] += h * (q[1] * q[1] + 2.0 * q[0] * q[2]);
        poly[3] += h * 2.0 * q[1] * q[2];
        poly[4] += h * q[2] * q[2];
    }
    // The change L(α) − L(0), without the (large) constant term.
    let change = |t: f64| t * (poly[1] + t * (poly[2] + t * (poly[3] + t * poly[4])));
    let roots = cubic_roots(4.0 * poly[4], 3.0 * poly[3], 2.0 * poly[2], poly[1]);
    let mut best: Option<(f64, f64)> = None;
    for t in roots {
        if t > 0.0 && t.is_finite() {
            let v = change(t);
            if v < 0.0 && best.is_none_or(|(_, bv)| v < bv) {
                best = Some((t, v));
            }
        }
    }
    best.map(|(t, _)| t)
}

/// Constraints `⟨a aᵀ, X⟩ = 0` (rank-one PSD, right-hand side zero) in one dense block:
/// with `X ⪰ 0` they say exactly `X a = 0`, i.e. `Vᵀa = 0` for `X = VVᵀ`. Such a
/// constraint is degenerate for the factored Lagrangian (its gradient vanishes on the
/// feasible set, so the penalty is quartic and the method of multipliers crawls, as on the
/// `gpp*` equipartition constraint `⟨J, X⟩ = 0`). It is removed by **facial reduction**
/// (Borwein & Wolkowicz 1981): the factors are kept in `{V : Vᵀa = 0}` by projection, and the
/// slack is certified on that face, `Qᵀ S(y) Q ⪰ 0` with `Q` an orthonormal basis of `a^⊥`.
/// Returns, per block, an orthonormal basis of the span of the `a`s, and the flags of the
/// removed constraints.
fn facial_reduction(p: &SdpProblem) -> (Vec<Vec<Vec<f64>>>, Vec<bool>) {
    let mut basis: Vec<Vec<Vec<f64>>> = vec![Vec::new(); p.blocks().len()];
    let mut removed = vec![false; p.num_constraints()];
    for (idx, (ai, bi)) in p.a().iter().zip(p.b()).enumerate() {
        if *bi != 0.0 {
            continue;
        }
        let e = ai.entries();
        let Some(first) = e.first() else { continue };
        let k = first.block;
        let Block::Dense(n) = p.blocks()[k] else {
            continue;
        };
        if e.iter().any(|x| x.block != k) {
            continue;
        }
        let mut a = vec![0.0; n];
        let mut support = 0usize;
        for x in e.iter().filter(|x| x.i == x.j) {
            if x.v <= 0.0 {
                support = usize::MAX;
                break;
            }
            a[x.i] = x.v.sqrt();
            support += 1;
        }
        if support == 0 || support == usize::MAX || e.len() != support * (support + 1) / 2 {
            continue;
        }
        // Signs from the row of the first support index, then every entry must be a_i a_j.
        let j0 = a.iter().position(|v| *v > 0.0).unwrap_or(0);
        for x in e.iter().filter(|x| x.i != x.j && (x.i == j0 || x.j == j0)) {
            let other = if x.i == j0 { x.j } else { x.i };
            if x.v < 0.0 {
                a[other] = -a[other];
            }
        }
        let scale = e.iter().map(|x| x.v.abs()).fold(0.0, f64::max);
        let rank_one = e
            .iter()
            .all(|x| (x.v - a[x.i] * a[x.j]).abs() <= 1e-12 * scale);
        if !rank_one {
            continue;
        }
        // Gram–Schmidt against the vectors already in this block's basis.
        for w in &basis[k] {
            let c = dot(w, &a);
            axpy(-c, w, &mut a);
        }
        let norm = dot(&a, &a).sqrt();
        let a_norm = (e.iter().filter(|x| x.i == x.j).map(|x| x.v).sum::<f64>()).sqrt();
        removed[idx] = true;
        if norm > 1e-10 * a_norm {
            a.iter_mut().for_each(|v| *v /= norm);
            basis[k].push(a);
        }
    }
    (basis, removed)
}

/// `⟨A_i, X⟩` straight from the entries of `A_i` and the factors.
fn constraint_value(p: &SdpProblem, i: usize, lay: &Layout, z: &[f64]) -> f64 {
    p.a()[i]
        .entries()
        .iter()
        .map(|e| {
            let xv = dot(&z[lay.row(e.block, e.i)], &z[lay.row(e.block, e.j)]);
            if e.i == e.j { e.v * xv } else { 2.0 * e.v * xv }
        })
        .sum()
}

/// `V ← (I − W Wᵀ) V` for every block with a reduced face (`z` holds the factors or a
/// direction in the same layout).
fn project_face(basis: &[Vec<Vec<f64>>], lay: &Layout, z: &mut [f64], wv: &mut Vec<f64>) {
    for (k, ws) in basis.iter().enumerate() {
        let r = lay.ranks[k];
        for w in ws {
            let o = lay.offsets[k];
            let v = &mut z[o..o + w.len() * r];
            wv.clear();
            wv.resize(r, 0.0);
            for (i, wi) in w.iter().enumerate() {
                axpy(*wi, &v[i * r..(i + 1) * r], wv);
            }
            for (i, wi) in w.iter().enumerate() {
                axpy(-wi, wv, &mut v[i * r..(i + 1) * r]);
            }
        }
    }
}

/// Smallest eigenpair of a symmetric block `M` of `S`, as (value, vector); with a reduced
/// face (orthonormal `W`), of `P M P + τ W Wᵀ`, `P = I − W Wᵀ`, `τ > ‖M‖`: its spectrum is
/// that of `Qᵀ M Q` plus `τ`, so the result is the face's smallest eigenpair exactly.
fn min_eig_block(
    n: usize,
    entries: &[(usize, usize, f64)],
    face: &[Vec<f64>],
    dense_max: usize,
    seed: u64,
) -> (f64, Vec<f64>) {
    let norm_bound = 2.0 * entries.iter().map(|e| e.2 * e.2).sum::<f64>().sqrt() + 1.0;
    if n <= dense_max {
        let mut m = Mat::<f64>::zeros(n, n);
        for &(i, j, v) in entries {
            m[(i, j)] += v;
            if i != j {
                m[(j, i)] += v;
            }
        }
        for w in face {
            // (I − wwᵀ) M (I − wwᵀ) = M − w uᵀ − u wᵀ + (wᵀu) wwᵀ, u = M w; then + τ wwᵀ.
            let u: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| m[(i, j)] * w[j]).sum())
                .collect();
            let alpha = dot(w, &u);
            for i in 0..n {
                for j in 0..n {
                    m[(i, j)] += -w[i] * u[j] - u[i] * w[j] + (alpha + norm_bound) * w[i] * w[j];
                }
            }
        }
        match m.self_adjoint_eigen(Side::Lower) {
            Ok(e) => {
                let q = (0..n).map(|i| e.U()[(i, 0)]).collect();
                (e.S().column_vector()[0], q)
            }
            Err(_) => (f64::NAN, vec![0.0; n]),
        }
    } else {
        let mut xp = vec![0.0; n];
        let mut coef = vec![0.0; face.len()];
        let op = |x: &[f64], out: &mut [f64]| {
            xp.copy_from_slice(x);
            for (w, cw) in face.iter().zip(coef.iter_mut()) {
                let c = dot(w, &xp);
                axpy(-c, w, &mut xp);
                *cw = dot(w, x);
            }
            out.fill(0.0);
            for &(i, j, v) in entries {
                out[i] -= v * xp[j];
                if i != j {
                    out[j] -= v * xp[i];
                }
            }
            for (w, c) in face.iter().zip(&coef) {
                let d = dot(w, out);
                axpy(-d, w, out);
                axpy(-norm_bound * c, w, out);
            }
        };
        let scale = entries.iter().map(|e| e.2.abs()).fold(0.0, f64::max) * 2.0 + norm_bound;
        let s = LanczosSettings {
            tol: 1e-8,
            scale,
            max_basis: 60,
            max_matvecs: 3000,
            seed,
        };
        let e = largest_eigenpair(n, op, None, &s);
        (-(e.value + e.residual), e.vector)
    }
}

/// Solve `p` (see the module documentation). The report's objective is `⟨C, X⟩` of the
/// returned (PSD) `X`; `bound` is `bᵀy` when the slack `S(y)` is PSD to working precision;
/// residuals `primal_infeasibility`, `dual_infeasibility`, `relative_gap`.
pub fn solve(
    p: &SdpProblem,
    s: &AlmSettings,
    observer: &mut dyn Observer,
) -> Result<SdpReport, SolveError> {
    s.validate()?;
    let mut alm = Alm::new(p, s);
    let mut run = Run::start(
        &s.common,
        observer,
        "alm-cd",
        "sdp",
        Sense::Minimize,
        alm.lay.len,
    );
    let mut outer = 0u64;
    let (mut meas, mut min_eig_all);
    // The inner solve stops early enough to leave time for the certificate (as long as the
    // last one took), so that the run ends at its deadline with a certified point.
    let mut last_certify = std::time::Duration::ZERO;
    let status = loop {
        let clock = run.clock();
        let inner_budget = Budget {
            deadline: clock
                .deadline
                .map(|d| d.checked_sub(last_certify).unwrap_or(d)),
            stop: clock.stop,
        };
        let inner_converged = alm.inner(&inner_budget);
        alm.update_multipliers(inner_converged);
        outer += 1;
        let t_cert = std::time::Instant::now();
        min_eig_all = alm.certify(outer);
        last_certify = t_cert.elapsed();
        meas = alm.measures(min_eig_all);
        let ctl = run.report(&IterRecord {
            iteration: outer,
            elapsed: run.elapsed(),
            best: meas.primal,
            current: meas.primal,
            bound: Some(meas.dual),
            residual: Some(meas.pinf.max(meas.dinf).max(meas.gap)),
            improved: true,
            extra: &[
                ("pinf", meas.pinf),
                ("dinf", meas.dinf),
                ("gap", meas.gap),
                ("sigma", alm.sigma),
            ],
        });
        if meas.pinf <= s.tol && meas.dinf <= s.tol && meas.gap <= s.tol {
            break Status::Converged;
        }
        if let Some(st) = run.budget(ctl, outer) {
            break st;
        }
        if !alm.sigma.is_finite() || alm.sigma > 1e14 {
            break Status::Stalled;
        }
    };
    positions(&alm.pat, &alm.lay, &alm.z, &mut alm.x);
    let primal_obj = apply_rows(&alm.pat.c, &alm.x) / alm.c_scale;
    let y_orig = alm.y_orig();
    let dual_obj: f64 = p.b().iter().zip(&y_orig).map(|(b, y)| b * y).sum();
    let factors = (0..p.blocks().len())
        .map(|k| {
            let r = alm.lay.ranks[k];
            let o = alm.lay.offsets[k];
            (r, alm.z[o..o + p.blocks()[k].size() * r].to_vec())
        })
        .collect();
    let residuals = SdpResiduals {
        primal_infeasibility: meas.pinf,
        dual_infeasibility: meas.dinf,
        relative_gap: meas.gap,
    };
    let stats = SdpStats {
        method: "alm-cd".into(),
        dual_value: dual_obj,
        alm: Some(AlmStats {
            min_slack_eigenvalue: min_eig_all,
            inner_iterations: alm.inner_total,
            sigma: alm.sigma,
            facially_reduced: alm.removed.iter().filter(|r| **r).count(),
            ranks: alm.lay.ranks.clone(),
        }),
        maxcut: None,
        ipm: None,
        choice: None,
    };
    Ok(run.finish(
        End::new(
            status,
            SdpSolution { factors, y: y_orig },
            primal_obj,
            residuals,
            stats,
        )
        .bound((min_eig_all >= 0.0).then_some(dual_obj))
        .iterations(outer)
        .backend(BackendReport::cpu_only(s.common.backend, "alm-cd")),
    ))
}

/// The original-scale measures of an outer iteration.
struct Measures {
    primal: f64,
    dual: f64,
    pinf: f64,
    dinf: f64,
    gap: f64,
}

/// The augmented Lagrangian method between two outer iterations: the normalised problem,
/// the factors' layout and values, the multipliers and penalty, and the buffers.
struct Alm<'a> {
    p: &'a SdpProblem,
    s: &'a AlmSettings,
    c_norm: f64,
    c_scale: f64,
    row_scale: Vec<f64>,
    /// The normalised right-hand side.
    b: Vec<f64>,
    b_norm_orig: f64,
    face: Vec<Vec<Vec<f64>>>,
    removed: Vec<bool>,
    pat: Pattern,
    lay: Layout,
    z: Vec<f64>,
    scratch: Vec<f64>,
    x: Vec<f64>,
    x1: Vec<f64>,
    x2: Vec<f64>,
    sv: Vec<f64>,
    res: Vec<f64>,
    y: Vec<f64>,
    sigma: f64,
    last_res_norm: f64,
    inner_total: u64,
    lb: Lbfgs,
    /// The multipliers in the original scale at the last certificate.
    y_cert: Vec<f64>,
}

impl<'a> Alm<'a> {
    /// Normalise (C by its Frobenius norm, each constraint `(A_i, b_i)` by `‖A_i‖`), reduce the
    /// faces, and start from a small random factor of the natural rank.
    fn new(p: &'a SdpProblem, s: &'a AlmSettings) -> Self {
        let m = p.num_constraints();
        let fro = |e: &[mathprog_problems::sdp::Entry]| {
            e.iter()
                .map(|x| {
                    if x.i == x.j {
                        x.v * x.v
                    } else {
                        2.0 * x.v * x.v
                    }
                })
                .sum::<f64>()
                .sqrt()
        };
        let c_norm = fro(p.c().entries());
        let c_scale = if c_norm > 0.0 { 1.0 / c_norm } else { 1.0 };
        let row_scale: Vec<f64> = p
            .a()
            .iter()
            .map(|a| {
                let f = fro(a.entries());
                if f > 0.0 { 1.0 / f } else { 1.0 }
            })
            .collect();
        let b: Vec<f64> = p.b().iter().zip(&row_scale).map(|(b, s)| b * s).collect();
        let b_norm_orig = p.b().iter().map(|v| v * v).sum::<f64>().sqrt();
        let (face, removed) = facial_reduction(p);
        let pat = pattern(p, c_scale, &row_scale, &removed);
        let mut scratch = Vec::new();
        let natural = ((2.0 * m as f64).sqrt().ceil() as usize + 1).min(64);
        let ranks: Vec<usize> = p
            .blocks()
            .iter()
            .map(|bl| match bl {
                Block::Dense(n) => s.rank.unwrap_or(natural).clamp(1, *n),
                Block::Diagonal(_) => 1,
            })
            .collect();
        let lay = Layout::new(p.blocks(), ranks);
        let mut rng = stream_rng(s.common.seed, 0x5DA, 0);
        let mut z: Vec<f64> = (0..lay.len)
            .map(|_| 0.1 * Distribution::<f64>::sample(&StandardNormal, &mut rng))
            .collect::<Vec<f64>>();
        project_face(&face, &lay, &mut z, &mut scratch);
        let np = pat.pos.len();
        let lb = Lbfgs::new(lay.len, s.lbfgs_memory.max(1));
        Alm {
            p,
            s,
            c_norm,
            c_scale,
            row_scale,
            b,
            b_norm_orig,
            face,
            removed,
            pat,
            lay,
            z,
            scratch,
            x: vec![0.0; np],
            x1: vec![0.0; np],
            x2: vec![0.0; np],
            sv: vec![0.0; np],
            res: vec![0.0; m],
            y: vec![0.0; m],
            sigma: s.sigma0,
            last_res_norm: f64::INFINITY,
            inner_total: 0,
            lb,
            y_cert: Vec::new(),
        }
    }

    /// `∇L_σ(z; y)` into `lb.grad` at the current `z` (positions, residuals, gradient,
    /// projected onto the faces).
    fn refresh_gradient(&mut self) {
        positions(&self.pat, &self.lay, &self.z, &mut self.x);
        lagrangian(
            &self.pat,
            &self.b,
            &self.y,
            self.sigma,
            &self.x,
            &mut self.res,
        );
        gradient(
            &self.pat,
            &self.lay,
            &self.z,
            &self.y,
            self.sigma,
            &self.res,
            &mut self.sv,
            &mut self.lb.grad,
        );
        project_face(&self.face, &self.lay, &mut self.lb.grad, &mut self.scratch);
    }

    /// Inner: L-BFGS with exact line search on `L_σ(·; y)` to a gradient norm tied to the
    /// infeasibility; buffers reused across iterations (they only grow when an eigen step adds
    /// a column). Returns whether it converged.
    fn inner(&mut self, budget: &Budget<'_>) -> bool {
        self.lb.resize(self.lay.len);
        self.refresh_gradient();
        let res_norm = self.res.iter().map(|r| r * r).sum::<f64>().sqrt();
        let gtol = (0.1 * res_norm).max(0.1 * self.s.tol).min(1e-1);
        for _ in 0..self.s.inner_max_iter {
            let gnorm = self.lb.grad.iter().map(|g| g * g).sum::<f64>().sqrt();
            if gnorm <= gtol {
                return true;
            }
            if budget.spent() {
                return false;
            }
            self.lb.direction();
            positions_dir(
                &self.pat,
                &self.lay,
                &self.z,
                &self.lb.d,
                &mut self.x1,
                &mut self.x2,
            );
            let Some(alpha) = exact_step(
                &self.pat, &self.b, &self.y, self.sigma, &self.x, &self.x1, &self.x2,
            ) else {
                if self.lb.len == 0 {
                    return false;
                }
                self.lb.len = 0;
                continue;
            };
            for (zi, di) in self.z.iter_mut().zip(&self.lb.d) {
                *zi += alpha * di;
            }
            self.lb.old_grad.copy_from_slice(&self.lb.grad);
            self.refresh_gradient();
            self.inner_total += 1;
            self.lb.push(alpha, self.s.lbfgs_memory);
        }
        false
    }

    /// `y ← y − σ res`; σ grows when the infeasibility stalls, unless it is already far below
    /// the tolerance (a large σ then only amplifies rounding noise in the multiplier update),
    /// and not after an inner solve that ran out of iterations (its conditioning grows with σ).
    fn update_multipliers(&mut self, inner_converged: bool) {
        let res_norm = self.res.iter().map(|r| r * r).sum::<f64>().sqrt();
        for (yi, ri) in self.y.iter_mut().zip(&self.res) {
            *yi -= self.sigma * ri;
        }
        let b_scaled_norm = self.b.iter().map(|v| v * v).sum::<f64>().sqrt();
        if inner_converged
            && res_norm > 0.25 * self.last_res_norm
            && res_norm > 0.1 * self.s.tol * (1.0 + b_scaled_norm)
        {
            self.sigma *= self.s.sigma_growth;
        }
        self.last_res_norm = res_norm;
    }

    /// The multipliers in the original scale.
    fn y_orig(&self) -> Vec<f64> {
        self.y
            .iter()
            .zip(&self.row_scale)
            .map(|(v, s)| v * s / self.c_scale)
            .collect()
    }

    /// Certificate: the smallest eigenvalue of `S(y) = C − Σ y_i A_i` over the blocks (original
    /// scale); a dense block whose slack has a clearly negative eigenvalue gets one more column
    /// along its eigenvector (the conic-descent direction `qqᵀ`).
    fn certify(&mut self, outer: u64) -> f64 {
        let (p, s) = (self.p, self.s);
        self.y_cert = self.y_orig();
        let y_orig = &self.y_cert;
        let mut blocks_s: Vec<Vec<(usize, usize, f64)>> = vec![Vec::new(); p.blocks().len()];
        for e in p.c().entries() {
            blocks_s[e.block].push((e.i, e.j, e.v));
        }
        for ((ai, yi), gone) in p.a().iter().zip(y_orig).zip(&self.removed) {
            if *gone {
                continue;
            }
            for e in ai.entries() {
                blocks_s[e.block].push((e.i, e.j, -yi * e.v));
            }
        }
        let mut min_eig = f64::INFINITY;
        for (k, bl) in p.blocks().iter().enumerate() {
            match bl {
                Block::Diagonal(n) => {
                    let mut d = vec![0.0; *n];
                    for &(i, _, v) in &blocks_s[k] {
                        d[i] += v;
                    }
                    min_eig = min_eig.min(d.iter().copied().fold(f64::INFINITY, f64::min));
                }
                Block::Dense(n) => {
                    let (lam, q) = min_eig_block(
                        *n,
                        &blocks_s[k],
                        &self.face[k],
                        s.dense_eig_max,
                        s.common.seed ^ outer,
                    );
                    min_eig = min_eig.min(lam);
                    if lam < -s.tol * (1.0 + self.c_norm) && self.lay.ranks[k] < *n {
                        self.grow_rank(k, &q);
                    }
                }
            }
        }
        min_eig
    }

    /// One more column in block `k`'s factor, `1e-3 q`.
    fn grow_rank(&mut self, k: usize, q: &[f64]) {
        let blocks = self.p.blocks();
        let mut nr = self.lay.ranks.clone();
        nr[k] += 1;
        let new = Layout::new(blocks, nr);
        let mut nz = vec![0.0; new.len];
        for (kk, blk) in blocks.iter().enumerate() {
            for i in 0..blk.size() {
                let (src, dst) = (self.lay.row(kk, i), new.row(kk, i));
                nz[dst.start..dst.start + src.len()].copy_from_slice(&self.z[src]);
                if kk == k {
                    nz[dst.end - 1] = 1e-3 * q.get(i).copied().unwrap_or(0.0);
                }
            }
        }
        self.lay = new;
        self.z = nz;
        project_face(&self.face, &self.lay, &mut self.z, &mut self.scratch);
    }

    /// The original-scale measures at the current factors, with the slack's smallest
    /// eigenvalue `min_eig`.
    fn measures(&mut self, min_eig: f64) -> Measures {
        let p = self.p;
        positions(&self.pat, &self.lay, &self.z, &mut self.x);
        let mut res_orig = 0.0;
        for (i, rows) in self.pat.a.iter().enumerate() {
            let ri = if self.removed[i] {
                // Removed by facial reduction: evaluated directly (zero up to rounding).
                constraint_value(p, i, &self.lay, &self.z)
            } else {
                (apply_rows(rows, &self.x) - self.b[i]) / self.row_scale[i]
            };
            res_orig += ri * ri;
        }
        let primal = apply_rows(&self.pat.c, &self.x) / self.c_scale;
        // The dual value of the multipliers the certificate used (y has not changed since).
        let dual: f64 = p.b().iter().zip(&self.y_cert).map(|(b, y)| b * y).sum();
        Measures {
            primal,
            dual,
            pinf: res_orig.sqrt() / (1.0 + self.b_norm_orig),
            dinf: (-min_eig).max(0.0) / (1.0 + self.c_norm),
            gap: (primal - dual).abs() / (1.0 + primal.abs() + dual.abs()),
        }
    }
}
