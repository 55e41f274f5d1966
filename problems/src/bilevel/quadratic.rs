//! The quadratic bilevel problem with a strongly convex lower level (P1 of the test bed in
//! `../shared/research/bilevel_penalty.md`):
//!
//! `g(x, y) = ½yᵀQy − yᵀBx`, `f(x, y) = ½‖y − y_t‖² + (ρ/2)‖x‖²`, `Q ≻ 0`,
//!
//! so `y*(x) = Q⁻¹Bx = Mx` and the hyper-objective `½‖Mx − y_t‖² + (ρ/2)‖x‖²` has the minimiser
//! `x* = (MᵀM + ρI)⁻¹Mᵀy_t`. The penalty function `ψ_σ(x) = min_y f + (g − g*)/σ` is quadratic
//! too: with `K = (σI + Q)⁻¹`, `y_σ(x) = K(σy_t + Bx)` and
//! `∇ψ_σ(x) = ρx + Bᵀ(Q⁻¹Bx − y_σ(x))/σ = (ρI + BᵀQ⁻¹KB)x − BᵀKy_t` (using
//! `(Q⁻¹ − K)/σ = Q⁻¹K`), whence the closed-form `x_σ` of [`QuadraticBilevel::x_sigma`].

use super::Bilevel;
use crate::error::ProblemError;
use faer::Mat;
use faer::linalg::solvers::Solve;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// `g = ½yᵀQy − yᵀBx`, `f = ½‖y − y_t‖² + (ρ/2)‖x‖²` (`x ∈ ℝ^p`, `y ∈ ℝ^q`).
#[derive(Debug, Clone)]
pub struct QuadraticBilevel {
    p: usize,
    q: usize,
    qm: Mat<f64>,
    b: Mat<f64>,
    yt: Vec<f64>,
    rho: f64,
    lg: f64,
}

fn col(v: &[f64]) -> Mat<f64> {
    Mat::from_fn(v.len(), 1, |i, _| v[i])
}

impl QuadraticBilevel {
    /// From `Q` (`q × q`, symmetric positive definite), `B` (`q × p`), `y_t` and `ρ ≥ 0`
    /// (row-major slices).
    pub fn new(
        p: usize,
        q: usize,
        qm: &[f64],
        b: &[f64],
        yt: &[f64],
        rho: f64,
    ) -> Result<Self, ProblemError> {
        if p == 0 || q == 0 || qm.len() != q * q || b.len() != q * p || yt.len() != q {
            return Err(ProblemError::Invalid(format!(
                "quadratic bilevel: Q must be {q} x {q}, B {q} x {p}, y_t of length {q}"
            )));
        }
        let rho_ok = rho >= 0.0 && rho.is_finite();
        if qm.iter().chain(b).chain(yt).any(|v| !v.is_finite()) || !rho_ok {
            return Err(ProblemError::Invalid(
                "quadratic bilevel: entries must be finite and rho >= 0".into(),
            ));
        }
        let qmat = Mat::<f64>::from_fn(q, q, |i, j| 0.5 * (qm[i * q + j] + qm[j * q + i]));
        let eig = qmat
            .self_adjoint_eigenvalues(faer::Side::Lower)
            .map_err(|e| ProblemError::Invalid(format!("quadratic bilevel: {e:?}")))?;
        let (lo, hi) = eig
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(a, b), v| (a.min(*v), b.max(*v)));
        let positive = lo > 0.0;
        if !positive {
            return Err(ProblemError::Invalid(format!(
                "quadratic bilevel: Q must be positive definite (smallest eigenvalue {lo:e})"
            )));
        }
        Ok(QuadraticBilevel {
            p,
            q,
            qm: qmat,
            b: Mat::from_fn(q, p, |i, j| b[i * p + j]),
            yt: yt.to_vec(),
            rho,
            lg: hi,
        })
    }

    /// A seeded instance as in the reference test bed: `Q = RRᵀ/q + I`, `B`, `y_t` standard
    /// normal.
    pub fn generate(p: usize, q: usize, rho: f64, seed: u64) -> Result<Self, ProblemError> {
        let qq = crate::limits::checked_size("the generated problem", q, q)?;
        let qp = crate::limits::checked_size("the generated problem", q, p)?;
        crate::limits::check_alloc(
            "the generated problem",
            qq.saturating_mul(3).saturating_add(qp),
            8,
        )?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let r: Vec<f64> = (0..q * q).map(|_| g()).collect();
        let mut qm = vec![0.0; q * q];
        for i in 0..q {
            for j in 0..q {
                qm[i * q + j] = (0..q).map(|k| r[i * q + k] * r[j * q + k]).sum::<f64>() / q as f64
                    + if i == j { 1.0 } else { 0.0 };
            }
        }
        let b: Vec<f64> = (0..q * p).map(|_| g()).collect();
        let yt: Vec<f64> = (0..q).map(|_| g()).collect();
        Self::new(p, q, &qm, &b, &yt, rho)
    }

    /// The bilevel solution `x* = (MᵀM + ρI)⁻¹Mᵀy_t`, `M = Q⁻¹B`.
    pub fn x_star(&self) -> Vec<f64> {
        let m = self.qm.partial_piv_lu().solve(&self.b);
        let h = m.transpose() * &m + Mat::<f64>::identity(self.p, self.p) * faer::Scale(self.rho);
        let rhs = m.transpose() * col(&self.yt);
        let x = h.partial_piv_lu().solve(&rhs);
        (0..self.p).map(|i| x[(i, 0)]).collect()
    }

    /// The minimiser of the penalty function `ψ_σ`:
    /// `x_σ = (ρI + BᵀQ⁻¹KB)⁻¹BᵀKy_t`, `K = (σI + Q)⁻¹`.
    pub fn x_sigma(&self, sigma: f64) -> Vec<f64> {
        let (p, q) = (self.p, self.q);
        let shifted = &self.qm + Mat::<f64>::identity(q, q) * faer::Scale(sigma);
        let kb = shifted.partial_piv_lu().solve(&self.b);
        let qikb = self.qm.partial_piv_lu().solve(&kb);
        let h = self.b.transpose() * &qikb + Mat::<f64>::identity(p, p) * faer::Scale(self.rho);
        let kyt = shifted.partial_piv_lu().solve(col(&self.yt));
        let rhs = self.b.transpose() * &kyt;
        let x = h.partial_piv_lu().solve(&rhs);
        (0..p).map(|i| x[(i, 0)]).collect()
    }

    /// `Q_{i,:} y`.
    fn qy_i(&self, i: usize, y: &[f64]) -> f64 {
        (0..self.q).map(|j| self.qm[(i, j)] * y[j]).sum()
    }
    /// `B_{i,:} x`.
    fn bx_i(&self, i: usize, x: &[f64]) -> f64 {
        (0..self.p).map(|j| self.b[(i, j)] * x[j]).sum()
    }
}

impl Bilevel for QuadraticBilevel {
    fn dim_x(&self) -> usize {
        self.p
    }
    fn dim_y(&self) -> usize {
        self.q
    }
    fn f(&self, x: &[f64], y: &[f64]) -> f64 {
        0.5 * y
            .iter()
            .zip(&self.yt)
            .map(|(a, b)| (a - b) * (a - b))
            .sum::<f64>()
            + 0.5 * self.rho * x.iter().map(|v| v * v).sum::<f64>()
    }
    fn g(&self, x: &[f64], y: &[f64]) -> f64 {
        (0..self.q)
            .map(|i| y[i] * (0.5 * self.qy_i(i, y) - self.bx_i(i, x)))
            .sum()
    }
    fn grad_f(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        for (g, v) in gx.iter_mut().zip(x) {
            *g = self.rho * v;
        }
        for ((g, a), b) in gy.iter_mut().zip(y).zip(&self.yt) {
            *g = a - b;
        }
    }
    fn grad_g(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        for (j, g) in gx.iter_mut().enumerate() {
            *g = -(0..self.q).map(|i| self.b[(i, j)] * y[i]).sum::<f64>();
        }
        for (i, g) in gy.iter_mut().enumerate() {
            *g = self.qy_i(i, y) - self.bx_i(i, x);
        }
    }
    /// `∇²_yy g v = Qv`.
    fn hvp_yy_g(&self, _x: &[f64], _y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        for (i, o) in out.iter_mut().enumerate() {
            *o = self.qy_i(i, v);
        }
        true
    }
    /// `∇²_xy g v = −Bᵀv`.
    fn hvp_xy_g(&self, _x: &[f64], _y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        for (j, o) in out.iter_mut().enumerate() {
            *o = -(0..self.q).map(|i| self.b[(i, j)] * v[i]).sum::<f64>();
        }
        true
    }
    fn smoothness_y(&self, _x: &[f64]) -> (f64, f64) {
        (1.0, self.lg)
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0; self.p]
    }
    fn name(&self) -> String {
        format!("quadratic-{}x{}", self.p, self.q)
    }
}
