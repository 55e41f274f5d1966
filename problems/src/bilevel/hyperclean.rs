//! **Data hyper-cleaning** (P4 of `../shared/research/bilevel_penalty.md`): learn one weight
//! per training sample so that logistic regression trained on the weighted (noisy) set does
//! well on a clean validation set. With `s = sigmoid(u)`, `u ∈ ℝ^n`,
//!
//! `g(u, w) = (1/n) Σ_i s_i ℓ(b_i a_iᵀw) + (c/2)‖w‖²`,
//! `f(u, w) = (1/n_v) Σ_j ℓ(b'_j a'_jᵀw)`, `ℓ(t) = log(1 + e^{−t})`;
//!
//! `∇_{u_i} g = s_i(1 − s_i) ℓ(b_i a_iᵀw)/n`. Samples whose weight ends below ½ are flagged
//! as corrupted ([`HyperCleaning::flagged`]).

use super::Bilevel;
use crate::dense::{dot, sigmoid, softplus};
use crate::error::ProblemError;
use crate::io::libsvm::LibsvmData;
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A labelled dense data set (row-major `n × d`, labels `±1`).
#[derive(Debug, Clone)]
pub struct Labelled {
    /// Features, row-major.
    pub x: Vec<f64>,
    /// Labels `±1`.
    pub y: Vec<f64>,
    /// Number of features.
    pub d: usize,
}

impl Labelled {
    /// Number of samples.
    pub fn len(&self) -> usize {
        self.y.len()
    }
    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }
    fn row(&self, k: usize) -> &[f64] {
        &self.x[k * self.d..(k + 1) * self.d]
    }
    /// From LIBSVM data with binary labels (larger label → +1), padded to `d` features.
    pub fn from_libsvm(data: &LibsvmData, d: usize) -> Result<Self, ProblemError> {
        let y = data.binary_labels().map_err(ProblemError::Invalid)?;
        let d = d.max(data.dim());
        let x = data.to_dense(d)?;
        Ok(Labelled { x, y, d })
    }
    /// Fraction of samples with `sign(a_kᵀw) = y_k`.
    pub fn accuracy(&self, w: &[f64]) -> f64 {
        let ok = (0..self.len())
            .filter(|&k| (dot(self.row(k), w) >= 0.0) == (self.y[k] > 0.0))
            .count();
        ok as f64 / self.len().max(1) as f64
    }
}

/// Hyper-cleaning: `x = u ∈ ℝ^n` (sample logits), `y = w ∈ ℝ^d`.
#[derive(Debug, Clone)]
pub struct HyperCleaning {
    train: Labelled,
    val: Labelled,
    c: f64,
    lg: f64,
    lf: f64,
}

/// `λ_max(AᵀA)/n` bound by the mean squared row norm (the trace).
fn mean_sq_norm(data: &Labelled) -> f64 {
    (0..data.len())
        .map(|k| dot(data.row(k), data.row(k)))
        .sum::<f64>()
        / data.len().max(1) as f64
}

impl HyperCleaning {
    /// From a (noisy) training set and a clean validation set with the same number of
    /// features, and the ridge `c > 0` of the lower level.
    pub fn new(train: Labelled, val: Labelled, c: f64) -> Result<Self, ProblemError> {
        if train.is_empty() || val.is_empty() || train.d != val.d || train.d == 0 {
            return Err(ProblemError::Invalid(
                "hyper-cleaning: non-empty training and validation sets with equal dimension needed"
                    .into(),
            ));
        }
        let ok = |l: &Labelled| {
            l.x.len() == l.len() * l.d
                && l.x.iter().all(|v| v.is_finite())
                && l.y.iter().all(|v| *v == 1.0 || *v == -1.0)
        };
        let valid = ok(&train) && ok(&val) && c > 0.0 && c.is_finite();
        if !valid {
            return Err(ProblemError::Invalid(
                "hyper-cleaning: finite features, labels +-1 and c > 0 needed".into(),
            ));
        }
        let lg = mean_sq_norm(&train) / 4.0 + c;
        let lf = mean_sq_norm(&val) / 4.0;
        Ok(HyperCleaning {
            train,
            val,
            c,
            lg,
            lf,
        })
    }

    /// The reference test bed's synthetic set: `w_t ~ N(0, I_d)`, features `N(0, I_d)`, labels
    /// `sign(a_kᵀw_t + 0.3ε)`; a fraction `flip` of the training labels flipped. Returns the
    /// problem (ridge `c = 1e-3`), a clean test set of `ntest` samples and the flipped mask.
    pub fn generate(
        n: usize,
        nval: usize,
        ntest: usize,
        d: usize,
        flip: f64,
        seed: u64,
    ) -> Result<(Self, Labelled, Vec<bool>), ProblemError> {
        let samples = n.saturating_add(nval).saturating_add(ntest);
        let cells = crate::limits::checked_size("the generated data", samples, d)?;
        crate::limits::check_alloc("the generated data", cells, 8)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let wt: Vec<f64> = (0..d).map(|_| StandardNormal.sample(&mut rng)).collect();
        let sample = |m: usize, rng: &mut Xoshiro256PlusPlus| {
            let x: Vec<f64> = (0..m * d)
                .map(|_| StandardNormal.sample(&mut *rng))
                .collect();
            let y: Vec<f64> = (0..m)
                .map(|k| {
                    let e: f64 = StandardNormal.sample(&mut *rng);
                    if dot(&x[k * d..(k + 1) * d], &wt) + 0.3 * e >= 0.0 {
                        1.0
                    } else {
                        -1.0
                    }
                })
                .collect();
            Labelled { x, y, d }
        };
        let mut train = sample(n, &mut rng);
        let val = sample(nval, &mut rng);
        let test = sample(ntest, &mut rng);
        let mut bad = vec![false; n];
        for (b, y) in bad.iter_mut().zip(train.y.iter_mut()) {
            if rand::RngExt::random::<f64>(&mut rng) < flip {
                *b = true;
                *y = -*y;
            }
        }
        Ok((Self::new(train, val, 1e-3)?, test, bad))
    }

    /// Samples flagged as corrupted: weight `sigmoid(u_i) < ½`.
    pub fn flagged(&self, u: &[f64]) -> Vec<bool> {
        u.iter().map(|v| *v < 0.0).collect()
    }

    /// The training set.
    pub fn train(&self) -> &Labelled {
        &self.train
    }
}

impl Bilevel for HyperCleaning {
    fn dim_x(&self) -> usize {
        self.train.len()
    }
    fn dim_y(&self) -> usize {
        self.train.d
    }
    fn f(&self, _x: &[f64], w: &[f64]) -> f64 {
        let v = &self.val;
        (0..v.len())
            .map(|k| softplus(-v.y[k] * dot(v.row(k), w)))
            .sum::<f64>()
            / v.len() as f64
    }
    fn g(&self, u: &[f64], w: &[f64]) -> f64 {
        let t = &self.train;
        (0..t.len())
            .map(|k| sigmoid(u[k]) * softplus(-t.y[k] * dot(t.row(k), w)))
            .sum::<f64>()
            / t.len() as f64
            + 0.5 * self.c * dot(w, w)
    }
    fn grad_f(&self, _x: &[f64], w: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        gx.iter_mut().for_each(|g| *g = 0.0);
        gy.iter_mut().for_each(|g| *g = 0.0);
        let v = &self.val;
        let inv = 1.0 / v.len() as f64;
        for k in 0..v.len() {
            let c = -v.y[k] * sigmoid(-v.y[k] * dot(v.row(k), w)) * inv;
            for (g, a) in gy.iter_mut().zip(v.row(k)) {
                *g += c * a;
            }
        }
    }
    fn grad_g(&self, u: &[f64], w: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        let t = &self.train;
        let inv = 1.0 / t.len() as f64;
        for (g, wv) in gy.iter_mut().zip(w) {
            *g = self.c * wv;
        }
        for (k, (gk, uk)) in gx.iter_mut().zip(u).enumerate() {
            let m = -t.y[k] * dot(t.row(k), w);
            let s = sigmoid(*uk);
            *gk = s * (1.0 - s) * softplus(m) * inv;
            let c = -s * t.y[k] * sigmoid(m) * inv;
            for (g, a) in gy.iter_mut().zip(t.row(k)) {
                *g += c * a;
            }
        }
    }
    fn samples(&self) -> (usize, usize) {
        (self.train.len(), self.val.len())
    }
    /// `(1/|B|) Σ_{i∈B}` of the per-sample terms (`∇_{u_i}` nonzero only on the batch).
    fn grad_g_batch(&self, u: &[f64], w: &[f64], batch: &[usize], gx: &mut [f64], gy: &mut [f64]) {
        let t = &self.train;
        let inv = 1.0 / batch.len().max(1) as f64;
        gx.iter_mut().for_each(|g| *g = 0.0);
        for (g, wv) in gy.iter_mut().zip(w) {
            *g = self.c * wv;
        }
        for &k in batch {
            let m = -t.y[k] * dot(t.row(k), w);
            let s = sigmoid(u[k]);
            gx[k] = s * (1.0 - s) * softplus(m) * inv;
            let c = -s * t.y[k] * sigmoid(m) * inv;
            for (g, a) in gy.iter_mut().zip(t.row(k)) {
                *g += c * a;
            }
        }
    }
    fn grad_f_batch(&self, _u: &[f64], w: &[f64], batch: &[usize], gx: &mut [f64], gy: &mut [f64]) {
        let v = &self.val;
        let inv = 1.0 / batch.len().max(1) as f64;
        gx.iter_mut().for_each(|g| *g = 0.0);
        gy.iter_mut().for_each(|g| *g = 0.0);
        for &k in batch {
            let c = -v.y[k] * sigmoid(-v.y[k] * dot(v.row(k), w)) * inv;
            for (g, a) in gy.iter_mut().zip(v.row(k)) {
                *g += c * a;
            }
        }
    }
    fn hvp_yy_g(&self, u: &[f64], w: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let t = &self.train;
        let inv = 1.0 / t.len() as f64;
        for (o, a) in out.iter_mut().zip(v) {
            *o = self.c * a;
        }
        for (k, uk) in u.iter().enumerate().take(t.len()) {
            let row = t.row(k);
            let p = sigmoid(t.y[k] * dot(row, w));
            let c = sigmoid(*uk) * p * (1.0 - p) * dot(row, v) * inv;
            for (o, a) in out.iter_mut().zip(row) {
                *o += c * a;
            }
        }
        true
    }
    fn hvp_xy_g(&self, u: &[f64], w: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        let t = &self.train;
        let inv = 1.0 / t.len() as f64;
        for (k, o) in out.iter_mut().enumerate() {
            let row = t.row(k);
            let m = -t.y[k] * dot(row, w);
            let s = sigmoid(u[k]);
            *o = -s * (1.0 - s) * t.y[k] * sigmoid(m) * dot(row, v) * inv;
        }
        true
    }
    fn smoothness_y(&self, _x: &[f64]) -> (f64, f64) {
        (self.lf, self.lg)
    }
    fn start(&self) -> Vec<f64> {
        vec![0.0; self.train.len()]
    }
    fn name(&self) -> String {
        format!("hyperclean-{}x{}", self.train.len(), self.train.d)
    }
}
