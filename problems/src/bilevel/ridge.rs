//! **Ridge-regression hyper-parameter tuning** as a bilevel problem (P3 of the test bed in
//! `../shared/research/bilevel_penalty.md`): with `u = log λ`,
//!
//! `g(u, w) = ‖X_tr w − y_tr‖²/(2n_tr) + e^u‖w‖²/2`, `f(u, w) = ‖X_v w − y_v‖²/(2n_v)`,
//!
//! the lower level is the ridge fit on the training set and the upper level its validation
//! loss. Both are kept as Gram matrices (`H = XᵀX/n`, `b = Xᵀy/n`), so every oracle costs
//! `O(d²)`. [`RidgeBilevel::validation_loss`] evaluates the hyper-objective exactly (one
//! solve), which the tests compare with a fine grid.

use super::Bilevel;
use crate::error::ProblemError;
use crate::io::libsvm::LibsvmData;
use faer::Mat;
use faer::linalg::solvers::Solve;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Least squares in Gram form: `½wᵀHw − bᵀw + c`.
#[derive(Debug, Clone)]
struct Gram {
    h: Vec<f64>,
    b: Vec<f64>,
    c: f64,
    lmax: f64,
}

impl Gram {
    /// From row-major `X` (`n × d`) and `y`, scaled by `1/n`.
    fn new(x: &[f64], y: &[f64], n: usize, d: usize) -> Self {
        let mut h = vec![0.0; d * d];
        let mut b = vec![0.0; d];
        for k in 0..n {
            let row = &x[k * d..(k + 1) * d];
            for i in 0..d {
                b[i] += row[i] * y[k] / n as f64;
                for j in 0..d {
                    h[i * d + j] += row[i] * row[j] / n as f64;
                }
            }
        }
        let c = y.iter().map(|v| v * v).sum::<f64>() / (2.0 * n as f64);
        // λ_max by power iteration (an upper bound: the Rayleigh quotient times 1.01 + 1e-12).
        let mut v = vec![1.0; d];
        let mut lmax = 0.0;
        for _ in 0..200 {
            let nv = v.iter().map(|a| a * a).sum::<f64>().sqrt();
            if nv == 0.0 {
                break;
            }
            let hv: Vec<f64> = (0..d)
                .map(|i| (0..d).map(|j| h[i * d + j] * v[j] / nv).sum())
                .collect();
            lmax = hv.iter().map(|a| a * a).sum::<f64>().sqrt();
            v = hv;
        }
        Gram {
            h,
            b,
            c,
            lmax: 1.01 * lmax + 1e-12,
        }
    }
    fn hv(&self, w: &[f64], out: &mut [f64]) {
        let d = self.b.len();
        for (i, o) in out.iter_mut().enumerate() {
            *o = crate::dense::dot(&self.h[i * d..(i + 1) * d], w);
        }
    }
    fn value(&self, w: &[f64]) -> f64 {
        let d = self.b.len();
        let quad: f64 = (0..d)
            .map(|i| w[i] * crate::dense::dot(&self.h[i * d..(i + 1) * d], w))
            .sum();
        0.5 * quad - crate::dense::dot(&self.b, w) + self.c
    }
}

/// Ridge tuning: `x = (log λ)`, `y = w ∈ ℝ^d`.
#[derive(Debug, Clone)]
pub struct RidgeBilevel {
    d: usize,
    train: Gram,
    val: Gram,
    u0: f64,
}

impl RidgeBilevel {
    /// From dense row-major training and validation sets (`n_tr × d`, `n_v × d`) and the
    /// starting `u₀ = log λ₀`.
    pub fn new(
        d: usize,
        xtr: &[f64],
        ytr: &[f64],
        xv: &[f64],
        yv: &[f64],
        u0: f64,
    ) -> Result<Self, ProblemError> {
        let (ntr, nv) = (ytr.len(), yv.len());
        if d == 0 || ntr == 0 || nv == 0 || xtr.len() != ntr * d || xv.len() != nv * d {
            return Err(ProblemError::Invalid(format!(
                "ridge bilevel: training and validation sets with d = {d} features needed"
            )));
        }
        if xtr
            .iter()
            .chain(ytr)
            .chain(xv)
            .chain(yv)
            .any(|v| !v.is_finite())
            || !u0.is_finite()
        {
            return Err(ProblemError::Invalid(
                "ridge bilevel: non-finite data".into(),
            ));
        }
        Ok(RidgeBilevel {
            d,
            train: Gram::new(xtr, ytr, ntr, d),
            val: Gram::new(xv, yv, nv, d),
            u0,
        })
    }

    /// From LIBSVM training and validation files' data (labels are the regression targets;
    /// the dimension is the larger of the two).
    pub fn from_libsvm(
        train: &LibsvmData,
        val: &LibsvmData,
        u0: f64,
    ) -> Result<Self, ProblemError> {
        let d = train.dim().max(val.dim());
        Self::new(
            d,
            &train.to_dense(d)?,
            &train.labels,
            &val.to_dense(d)?,
            &val.labels,
            u0,
        )
    }

    /// The reference test bed's synthetic set: `w_t` with 30% nonzero N(0, 1) entries,
    /// Gaussian features, noise 1; returns the problem and a test set `(X_te, y_te)` of
    /// `n_test` samples.
    pub fn generate(
        d: usize,
        ntr: usize,
        nv: usize,
        ntest: usize,
        seed: u64,
    ) -> Result<(Self, Vec<f64>, Vec<f64>), ProblemError> {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let wt: Vec<f64> = (0..d)
            .map(|_| {
                let v = g();
                if g() < -0.5244 { v } else { 0.0 } // P(N(0,1) < −0.5244) ≈ 0.3
            })
            .collect();
        let mut sample = |n: usize| {
            let x: Vec<f64> = (0..n * d).map(|_| g()).collect();
            let y: Vec<f64> = (0..n)
                .map(|k| crate::dense::dot(&x[k * d..(k + 1) * d], &wt) + g())
                .collect();
            (x, y)
        };
        let (xtr, ytr) = sample(ntr);
        let (xv, yv) = sample(nv);
        let (xte, yte) = sample(ntest);
        Ok((Self::new(d, &xtr, &ytr, &xv, &yv, 0.0)?, xte, yte))
    }

    /// The ridge solution `w(u) = (H_tr + e^u I)⁻¹ b_tr`.
    pub fn ridge_solution(&self, u: f64) -> Vec<f64> {
        let d = self.d;
        let lam = u.exp();
        let h = Mat::<f64>::from_fn(d, d, |i, j| {
            self.train.h[i * d + j] + if i == j { lam } else { 0.0 }
        });
        let w = h
            .partial_piv_lu()
            .solve(Mat::<f64>::from_fn(d, 1, |i, _| self.train.b[i]));
        (0..d).map(|i| w[(i, 0)]).collect()
    }

    /// The hyper-objective: validation loss of the ridge solution at `u = log λ`.
    pub fn validation_loss(&self, u: f64) -> f64 {
        self.val.value(&self.ridge_solution(u))
    }
}

impl Bilevel for RidgeBilevel {
    fn dim_x(&self) -> usize {
        1
    }
    fn dim_y(&self) -> usize {
        self.d
    }
    fn f(&self, _x: &[f64], y: &[f64]) -> f64 {
        self.val.value(y)
    }
    fn g(&self, x: &[f64], y: &[f64]) -> f64 {
        self.train.value(y) + 0.5 * x[0].exp() * crate::dense::dot(y, y)
    }
    fn grad_f(&self, _x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        gx[0] = 0.0;
        self.val.hv(y, gy);
        for (g, b) in gy.iter_mut().zip(&self.val.b) {
            *g -= b;
        }
    }
    fn grad_g(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        let lam = x[0].exp();
        gx[0] = 0.5 * lam * crate::dense::dot(y, y);
        self.train.hv(y, gy);
        for ((g, b), w) in gy.iter_mut().zip(&self.train.b).zip(y) {
            *g += lam * w - b;
        }
    }
    fn hvp_yy_g(&self, x: &[f64], _y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let lam = x[0].exp();
        self.train.hv(v, out);
        for (o, a) in out.iter_mut().zip(v) {
            *o += lam * a;
        }
        true
    }
    fn hvp_xy_g(&self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        out[0] = x[0].exp() * crate::dense::dot(y, v);
        true
    }
    fn smoothness_y(&self, x: &[f64]) -> (f64, f64) {
        (self.val.lmax, self.train.lmax + x[0].exp())
    }
    fn start(&self) -> Vec<f64> {
        vec![self.u0]
    }
    fn name(&self) -> String {
        format!("ridge-{}", self.d)
    }
}
