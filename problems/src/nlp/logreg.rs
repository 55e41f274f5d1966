//! Equality-constrained logistic regression (the learning benchmark of Hong, Na, Mahoney &
//! Kolar, ICML 2023):
//!
//! `min_x (1/N) Σ_k log(1 + exp(−y_k a_kᵀx)) + (ρ/2)‖x‖²  s.t.  C x = d  [and ‖x‖² = 1]`
//!
//! with samples `a_k ∈ ℝⁿ` (rows of the `N × n` feature matrix `A`, dense or sparse), labels
//! `y_k = ±1`, ridge `ρ ≥ 0`, `C ∈ ℝ^{m×n}` and the optional unit-sphere constraint.
//!
//! With margins `z_k = y_k a_kᵀx` and `σ(t) = 1/(1 + e^{−t})`:
//! `∇f = −(1/N) Σ_k y_k σ(−z_k) a_k + ρx`,
//! `∇²ₓL = (1/N) Σ_k σ(z_k)σ(−z_k) a_k a_kᵀ + (ρ + 2λ_s) I` (`λ_s` the sphere multiplier).
//!
//! The Hessian is dense (`n²` entries), so the problem offers it as a **Hessian-vector
//! product** ([`EqualityNlp::hessian_operator`]): one pass over `A` per product, each row read
//! once for both `a_kᵀv` and the update `+= w_k (a_kᵀv) a_k`. The passes run in parallel over a
//! fixed number of row chunks summed in order, so results do not depend on the thread count.
//! The margins of the last gradient are cached, so `objective` and the Hessian operator at the
//! same point cost no extra pass.

use super::{EqualityNlp, HessianOperator, csr_from_triplets};
use crate::dense::dot;
use crate::error::ProblemError;
use crate::error::ReadError;
use crate::io::libsvm::LibsvmData;
use rand::{RngExt, SeedableRng};
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use sprs::CsMat;
use std::path::Path;
use std::sync::Mutex;

/// The feature matrix `A` (`N × n`, one sample per row).
#[derive(Debug, Clone)]
pub enum Features {
    /// Dense, row-major: entry `(k, j)` at `data[k·n + j]`.
    DenseRowMajor {
        /// Number of samples `N`.
        rows: usize,
        /// Number of features `n`.
        cols: usize,
        /// The entries.
        data: Vec<f64>,
    },
    /// Sparse rows (CSR), as read from LIBSVM files.
    Sparse(CsMat<f64>),
}

impl Features {
    fn rows(&self) -> usize {
        match self {
            Features::DenseRowMajor { rows, .. } => *rows,
            Features::Sparse(m) => m.rows(),
        }
    }
    fn cols(&self) -> usize {
        match self {
            Features::DenseRowMajor { cols, .. } => *cols,
            Features::Sparse(m) => m.cols(),
        }
    }
    fn row(&self, k: usize) -> Row<'_> {
        match self {
            Features::DenseRowMajor { cols, data, .. } => {
                Row::Dense(&data[k * cols..(k + 1) * cols])
            }
            Features::Sparse(m) => {
                let range = m.indptr().outer_inds_sz(k);
                Row::Sparse(&m.indices()[range.clone()], &m.data()[range])
            }
        }
    }
}

/// One sample.
enum Row<'a> {
    Dense(&'a [f64]),
    Sparse(&'a [usize], &'a [f64]),
}

/// `aᵀb` in SIMD registers of the dispatched width (four accumulators).
#[inline(always)]
fn simd_dot<S: pulp::Simd>(simd: S, a: &[f64], b: &[f64]) -> f64 {
    let (ah, at) = S::as_simd_f64s(a);
    let (bh, bt) = S::as_simd_f64s(b);
    let zero = simd.splat_f64s(0.0);
    let mut acc = [zero; 4];
    let (ca, cb) = (ah.chunks_exact(4), bh.chunks_exact(4));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..4 {
            acc[i] = simd.mul_add_f64s(x[i], y[i], acc[i]);
        }
    }
    for (x, y) in ra.iter().zip(rb) {
        acc[0] = simd.mul_add_f64s(*x, *y, acc[0]);
    }
    let s = simd.add_f64s(simd.add_f64s(acc[0], acc[1]), simd.add_f64s(acc[2], acc[3]));
    simd.reduce_sum_f64s(s) + at.iter().zip(bt).map(|(x, y)| x * y).sum::<f64>()
}

/// `out += s·a` in SIMD registers.
#[inline(always)]
fn simd_axpy<S: pulp::Simd>(simd: S, s: f64, a: &[f64], out: &mut [f64]) {
    let (oh, ot) = S::as_mut_simd_f64s(out);
    let (ah, at) = S::as_simd_f64s(a);
    let sv = simd.splat_f64s(s);
    for (o, x) in oh.iter_mut().zip(ah) {
        *o = simd.mul_add_f64s(sv, *x, *o);
    }
    for (o, x) in ot.iter_mut().zip(at) {
        *o += s * x;
    }
}

/// Dot products of four rows with `v` (each load of `v` shared by the four rows).
#[inline(always)]
fn simd_dot4<S: pulp::Simd>(simd: S, a: [&[f64]; 4], v: &[f64]) -> [f64; 4] {
    let (vh, vt) = S::as_simd_f64s(v);
    let rows = a.map(|r| S::as_simd_f64s(r));
    let zero = simd.splat_f64s(0.0);
    let mut acc = [[zero; 2]; 4];
    let pairs = vh.len() / 2;
    for p in 0..pairs {
        let (v0, v1) = (vh[2 * p], vh[2 * p + 1]);
        for r in 0..4 {
            let h = rows[r].0;
            acc[r][0] = simd.mul_add_f64s(h[2 * p], v0, acc[r][0]);
            acc[r][1] = simd.mul_add_f64s(h[2 * p + 1], v1, acc[r][1]);
        }
    }
    let mut out = [0.0; 4];
    for r in 0..4 {
        if vh.len() % 2 == 1 {
            let last = vh.len() - 1;
            acc[r][0] = simd.mul_add_f64s(rows[r].0[last], vh[last], acc[r][0]);
        }
        out[r] = simd.reduce_sum_f64s(simd.add_f64s(acc[r][0], acc[r][1]))
            + rows[r].1.iter().zip(vt).map(|(x, y)| x * y).sum::<f64>();
    }
    out
}

/// `out += Σ_r s_r a_r` for four rows (each load and store of `out` shared).
#[inline(always)]
fn simd_axpy4<S: pulp::Simd>(simd: S, s: [f64; 4], a: [&[f64]; 4], out: &mut [f64]) {
    let (oh, ot) = S::as_mut_simd_f64s(out);
    let rows = a.map(|r| S::as_simd_f64s(r));
    let sv = s.map(|x| simd.splat_f64s(x));
    for (j, o) in oh.iter_mut().enumerate() {
        let mut t = *o;
        for r in 0..4 {
            t = simd.mul_add_f64s(sv[r], rows[r].0[j], t);
        }
        *o = t;
    }
    for (j, o) in ot.iter_mut().enumerate() {
        for r in 0..4 {
            *o += s[r] * rows[r].1[j];
        }
    }
}

/// One chunk of rows of a fused pass (see `LogisticRegressionNlp::pass`).
struct FusedChunk<'a> {
    a: &'a Features,
    first: usize,
    v: &'a [f64],
    dots: &'a mut [f64],
    w: &'a (dyn Fn(usize, f64) -> f64 + Sync),
    buf: &'a mut [f64],
}

impl pulp::WithSimd for FusedChunk<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        self.buf.fill(0.0);
        let mut start = 0;
        // Dense rows four at a time: four dots, then one combined update of `buf`.
        if let Features::DenseRowMajor { cols, data, .. } = self.a {
            let len = self.dots.len();
            while start + 4 <= len {
                let k0 = self.first + start;
                let rows: [&[f64]; 4] =
                    std::array::from_fn(|r| &data[(k0 + r) * cols..(k0 + r + 1) * cols]);
                let d = simd_dot4(simd, rows, self.v);
                let mut s = [0.0; 4];
                for r in 0..4 {
                    self.dots[start + r] = d[r];
                    s[r] = (self.w)(k0 + r, d[r]);
                }
                simd_axpy4(simd, s, rows, self.buf);
                start += 4;
            }
        }
        for (i, dk) in self.dots.iter_mut().enumerate().skip(start) {
            let k = self.first + i;
            match self.a.row(k) {
                Row::Dense(a) => {
                    *dk = simd_dot(simd, a, self.v);
                    let s = (self.w)(k, *dk);
                    if s != 0.0 {
                        simd_axpy(simd, s, a, self.buf);
                    }
                }
                row => {
                    *dk = row.dot(self.v);
                    let s = (self.w)(k, *dk);
                    if s != 0.0 {
                        row.axpy(s, self.buf);
                    }
                }
            }
        }
    }
}

/// Dot products of a chunk of rows with `v`.
struct DotChunk<'a> {
    a: &'a Features,
    first: usize,
    v: &'a [f64],
    out: &'a mut [f64],
}

impl pulp::WithSimd for DotChunk<'_> {
    type Output = ();
    #[inline(always)]
    fn with_simd<S: pulp::Simd>(self, simd: S) {
        for (i, o) in self.out.iter_mut().enumerate() {
            *o = match self.a.row(self.first + i) {
                Row::Dense(a) => simd_dot(simd, a, self.v),
                row => row.dot(self.v),
            };
        }
    }
}

impl Row<'_> {
    #[inline(always)]
    fn dot(&self, v: &[f64]) -> f64 {
        match self {
            Row::Dense(a) => dot(a, v),
            Row::Sparse(idx, val) => idx.iter().zip(*val).map(|(j, a)| a * v[*j]).sum(),
        }
    }
    #[inline(always)]
    fn axpy(&self, s: f64, out: &mut [f64]) {
        match self {
            Row::Dense(a) => {
                for (o, x) in out.iter_mut().zip(*a) {
                    *o += s * x;
                }
            }
            Row::Sparse(idx, val) => {
                for (j, a) in idx.iter().zip(*val) {
                    out[*j] += s * a;
                }
            }
        }
    }
}

/// `log(1 + e^{−t})` without overflow.
fn softplus_neg(t: f64) -> f64 {
    if t > 0.0 {
        (-t).exp().ln_1p()
    } else {
        -t + t.exp().ln_1p()
    }
}

/// `σ(t) = 1/(1 + e^{−t})` without overflow.
fn sigmoid(t: f64) -> f64 {
    if t >= 0.0 {
        1.0 / (1.0 + (-t).exp())
    } else {
        let e = t.exp();
        e / (1.0 + e)
    }
}

/// Scratch space of the passes, and the margins cache.
#[derive(Debug, Default)]
struct Work {
    /// Point of the cached margins (empty: none).
    x: Vec<f64>,
    /// `z_k = y_k a_kᵀx` at `x`.
    margins: Vec<f64>,
    /// One `n`-vector per row chunk.
    bufs: Vec<f64>,
}

/// Row chunks of a pass (fixed, so sums do not depend on the thread count).
const CHUNKS: usize = 32;

/// Equality-constrained logistic regression (see the module documentation).
#[derive(Debug)]
pub struct LogisticRegressionNlp {
    name: String,
    a: Features,
    y: Vec<f64>,
    ridge: f64,
    c: CsMat<f64>,
    d: Vec<f64>,
    sphere: bool,
    x0: Vec<f64>,
    work: Mutex<Work>,
}

fn gaussian(rng: &mut Xoshiro256PlusPlus) -> f64 {
    StandardNormal.sample(rng)
}

/// A Gaussian `m × n` constraint matrix, and `d = C w₀` for a random `w₀` (unit norm when
/// `unit`, else entries `N(0, 1/n)`), so the constraints are consistent.
fn gaussian_constraints(
    m: usize,
    n: usize,
    unit: bool,
    rng: &mut Xoshiro256PlusPlus,
) -> (CsMat<f64>, Vec<f64>) {
    let mut w0: Vec<f64> = (0..n).map(|_| gaussian(rng) / (n as f64).sqrt()).collect();
    if unit {
        let s = w0.iter().map(|v| v * v).sum::<f64>().sqrt();
        w0.iter_mut().for_each(|v| *v /= s);
    }
    let mut t = Vec::with_capacity(m * n);
    let mut d = vec![0.0; m];
    for (i, di) in d.iter_mut().enumerate() {
        for (j, w) in w0.iter().enumerate() {
            let v = gaussian(rng);
            t.push((i, j, v));
            *di += v * w;
        }
    }
    (csr_from_triplets(m, n, &t), d)
}

impl LogisticRegressionNlp {
    /// A problem from its data; checks shapes, labels `±1` and finiteness. `sphere` adds the
    /// constraint `‖x‖² = 1`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        features: Features,
        labels: Vec<f64>,
        ridge: f64,
        c: CsMat<f64>,
        d: Vec<f64>,
        sphere: bool,
        x0: Vec<f64>,
    ) -> Result<Self, ProblemError> {
        let (rows, n) = (features.rows(), features.cols());
        let bad = |msg: String| Err(ProblemError::Invalid(format!("{name}: {msg}")));
        if rows == 0 || n == 0 {
            return bad("no samples or no features".into());
        }
        if let Features::DenseRowMajor { data, .. } = &features
            && data.len() != rows * n
        {
            return bad(format!("dense features need {rows} x {n} entries"));
        }
        if labels.len() != rows {
            return bad(format!("{} labels for {rows} samples", labels.len()));
        }
        if labels.iter().any(|l| *l != 1.0 && *l != -1.0) {
            return bad("labels must be +1 or -1".into());
        }
        if c.cols() != n || c.rows() != d.len() || x0.len() != n {
            return bad(format!(
                "C is {} x {}, d has {}, x0 has {} entries; n = {n}",
                c.rows(),
                c.cols(),
                d.len(),
                x0.len()
            ));
        }
        let m_all = c.rows() + usize::from(sphere);
        if m_all > n {
            return bad(format!(
                "{m_all} constraints on {n} features: at most {n} can be independent (fewer \
                 constraints: --constraints on the command line)"
            ));
        }
        let finite = match &features {
            Features::DenseRowMajor { data, .. } => data.iter().all(|v| v.is_finite()),
            Features::Sparse(m) => m.data().iter().all(|v| v.is_finite()),
        };
        let ridge_ok = ridge >= 0.0 && ridge.is_finite();
        if !(finite && ridge_ok) || c.data().iter().chain(&d).chain(&x0).any(|v| !v.is_finite()) {
            return bad("data not finite (or ridge negative)".into());
        }
        Ok(LogisticRegressionNlp {
            name: name.to_string(),
            a: features,
            y: labels,
            ridge,
            c,
            d,
            sphere,
            x0,
            work: Mutex::new(Work::default()),
        })
    }

    /// The synthetic instance of `bench/nlp_ipopt.py`: `N = n` samples with entries
    /// `N(0, 1/n)`, labels `sign(a_kᵀw_t)` with 10 % flipped, Gaussian `C` (`m × n`),
    /// `d = C w₀`. Without the sphere: ridge `10⁻⁴`, `x₀ = 0`; with it: no ridge, `‖w₀‖ = 1`
    /// and `x₀ = 1/√n`. Rows are drawn from per-row streams of `seed` (in parallel).
    pub fn generate(n: usize, m: usize, sphere: bool, seed: u64) -> Result<Self, ProblemError> {
        if n == 0 {
            return Err(ProblemError::Invalid(
                "logistic regression needs n >= 1".into(),
            ));
        }
        let nn = crate::limits::checked_size("the generated data", n, n)?;
        let cm = crate::limits::checked_size("the constraints", m, n)?;
        crate::limits::check_alloc("the generated data", nn.saturating_add(cm), 8)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let wt: Vec<f64> = (0..n).map(|_| gaussian(&mut rng)).collect();
        let scale = 1.0 / (n as f64).sqrt();
        let mut data = vec![0.0; nn];
        let mut y = vec![0.0; n];
        data.par_chunks_mut(n)
            .zip(y.par_iter_mut())
            .enumerate()
            .for_each(|(k, (row, yk))| {
                let mut r = Xoshiro256PlusPlus::seed_from_u64(
                    seed ^ (k as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                );
                for v in row.iter_mut() {
                    *v = gaussian(&mut r) * scale;
                }
                let s = if dot(row, &wt) >= 0.0 { 1.0 } else { -1.0 };
                let flip = r.random::<f64>() < 0.1;
                *yk = if flip { -s } else { s };
            });
        let (c, d) = gaussian_constraints(m, n, sphere, &mut rng);
        let (ridge, x0) = if sphere {
            (0.0, vec![scale; n])
        } else {
            (1e-4, vec![0.0; n])
        };
        Self::new(
            &format!("logreg-n{n}-m{m}{}", if sphere { "-sphere" } else { "" }),
            Features::DenseRowMajor {
                rows: n,
                cols: n,
                data,
            },
            y,
            ridge,
            c,
            d,
            sphere,
            x0,
        )
    }

    /// An instance on LIBSVM data (binary labels): `m` Gaussian constraint rows drawn from
    /// `seed`, `d = C w₀` (`‖w₀‖ = 1` with the sphere), start `x₀ = 1/√n` with the sphere (on
    /// it) and `x₀ = 0` without.
    pub fn from_libsvm(
        name: &str,
        data: LibsvmData,
        m: usize,
        sphere: bool,
        ridge: f64,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        let y = data
            .binary_labels()
            .map_err(|e| ProblemError::Invalid(format!("{name}: {e}")))?;
        let n = data.dim();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let (c, d) = gaussian_constraints(m, n, sphere, &mut rng);
        let x0 = if sphere {
            vec![1.0 / (n.max(1) as f64).sqrt(); n]
        } else {
            vec![0.0; n]
        };
        Self::new(
            name,
            Features::Sparse(data.features),
            y,
            ridge,
            c,
            d,
            sphere,
            x0,
        )
    }

    /// The same problem with ridge `ρ` (finite, `≥ 0`).
    pub fn with_ridge(mut self, ridge: f64) -> Result<Self, ProblemError> {
        if !(ridge >= 0.0 && ridge.is_finite()) {
            return Err(ProblemError::Invalid(format!(
                "{}: ridge must be finite and >= 0",
                self.name
            )));
        }
        self.ridge = ridge;
        Ok(self)
    }

    /// Write the instance for other tools: `A.npy` (`N × n`, dense), `y.npy`, `C.npy`
    /// (`m × n`, the linear rows), `d.npy`, `x0.npy` and `instance.json` (ridge, sphere, name),
    /// each file written atomically.
    pub fn export_npy(&self, dir: &Path) -> Result<(), ReadError> {
        use crate::io::npy::write_npy;
        let (rows, n) = (self.a.rows(), self.a.cols());
        std::fs::create_dir_all(dir).map_err(|e| ReadError::io(dir, e))?;
        match &self.a {
            Features::DenseRowMajor { data, .. } => {
                write_npy(&dir.join("A.npy"), &[rows, n], data)?
            }
            Features::Sparse(m) => {
                let mut dense = vec![0.0; rows * n];
                for (v, (i, j)) in m.iter() {
                    dense[i * n + j] += v;
                }
                write_npy(&dir.join("A.npy"), &[rows, n], &dense)?
            }
        }
        write_npy(&dir.join("y.npy"), &[rows], &self.y)?;
        let mlin = self.d.len();
        let mut c = vec![0.0; mlin * n];
        for (v, (i, j)) in self.c.iter() {
            c[i * n + j] += v;
        }
        write_npy(&dir.join("C.npy"), &[mlin, n], &c)?;
        write_npy(&dir.join("d.npy"), &[mlin], &self.d)?;
        write_npy(&dir.join("x0.npy"), &[n], &self.x0)?;
        let meta = serde_json::json!({
            "name": self.name,
            "ridge": self.ridge,
            "sphere": self.sphere,
            "objective": "mean(log(1 + exp(-y * (A @ x)))) + ridge/2 |x|^2",
            "constraints": "C @ x = d (and |x|^2 = 1 when sphere)",
        });
        crate::io::write_atomic(&dir.join("instance.json"), |w| {
            w.write_all(meta.to_string().as_bytes())
        })
    }

    /// Number of samples `N`.
    pub fn num_samples(&self) -> usize {
        self.y.len()
    }

    /// One parallel pass: `out = Σ_k w(k, a_kᵀv) a_k`, also storing `a_kᵀv` in `dots`.
    fn pass(
        &self,
        work: &mut Work,
        v: &[f64],
        dots: &mut [f64],
        w: &(dyn Fn(usize, f64) -> f64 + Sync),
        out: &mut [f64],
    ) {
        let (rows, n) = (self.a.rows(), self.a.cols());
        let per = rows.div_ceil(CHUNKS);
        let chunks = rows.div_ceil(per);
        work.bufs.resize(chunks * n, 0.0);
        work.bufs
            .par_chunks_mut(n)
            .zip(dots.par_chunks_mut(per))
            .enumerate()
            .for_each(|(ch, (buf, dch))| {
                // Compiled for the widest SIMD the CPU has (pulp's runtime dispatch).
                pulp::Arch::new().dispatch(FusedChunk {
                    a: &self.a,
                    first: ch * per,
                    v,
                    dots: dch,
                    w,
                    buf,
                })
            });
        out.fill(0.0);
        for buf in work.bufs.chunks(n) {
            for (o, b) in out.iter_mut().zip(buf) {
                *o += b;
            }
        }
    }

    /// The margins `z_k = y_k a_kᵀx`, from the cache when `x` is the cached point.
    fn margins<'w>(&self, work: &'w mut Work, x: &[f64]) -> &'w [f64] {
        if work.x != x {
            let mut z = std::mem::take(&mut work.margins);
            z.resize(self.y.len(), 0.0);
            let per = self.y.len().div_ceil(CHUNKS);
            z.par_chunks_mut(per).enumerate().for_each(|(ch, out)| {
                pulp::Arch::new().dispatch(DotChunk {
                    a: &self.a,
                    first: ch * per,
                    v: x,
                    out,
                });
            });
            for (zk, yk) in z.iter_mut().zip(&self.y) {
                *zk *= yk;
            }
            work.margins = z;
            work.x.clear();
            work.x.extend_from_slice(x);
        }
        &work.margins
    }
}

/// `v ↦ (1/N) Σ_k σ(z_k)σ(−z_k) a_k a_kᵀ v + s v`.
struct LogRegHessian<'a> {
    p: &'a LogisticRegressionNlp,
    /// `σ(z_k)σ(−z_k)/N`.
    weights: Vec<f64>,
    /// `ρ + 2λ_s`.
    shift: f64,
    dots: Mutex<Vec<f64>>,
}

impl HessianOperator for LogRegHessian<'_> {
    fn apply(&self, v: &[f64], out: &mut [f64]) {
        let mut work = self.p.work.lock().unwrap_or_else(|e| e.into_inner());
        let mut dots = self.dots.lock().unwrap_or_else(|e| e.into_inner());
        let wts = &self.weights;
        self.p
            .pass(&mut work, v, &mut dots, &|k, t| wts[k] * t, out);
        for (o, vi) in out.iter_mut().zip(v) {
            *o += self.shift * vi;
        }
    }
}

impl EqualityNlp for LogisticRegressionNlp {
    fn num_vars(&self) -> usize {
        self.a.cols()
    }
    fn num_constraints(&self) -> usize {
        self.d.len() + usize::from(self.sphere)
    }
    fn x0(&self) -> Vec<f64> {
        self.x0.clone()
    }
    fn objective(&self, x: &[f64]) -> f64 {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let z = self.margins(&mut work, x);
        let loss: f64 = z.iter().map(|t| softplus_neg(*t)).sum::<f64>() / z.len() as f64;
        loss + 0.5 * self.ridge * x.iter().map(|v| v * v).sum::<f64>()
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let mut dots = std::mem::take(&mut work.margins);
        dots.resize(self.y.len(), 0.0);
        let (y, inv_n) = (&self.y, 1.0 / self.y.len() as f64);
        self.pass(
            &mut work,
            x,
            &mut dots,
            &|k, t| -y[k] * sigmoid(-y[k] * t) * inv_n,
            g,
        );
        for (zk, yk) in dots.iter_mut().zip(y) {
            *zk *= yk;
        }
        work.margins = dots;
        work.x.clear();
        work.x.extend_from_slice(x);
        for (gi, xi) in g.iter_mut().zip(x) {
            *gi += self.ridge * xi;
        }
    }
    fn constraints(&self, x: &[f64], out: &mut [f64]) {
        let m = self.d.len();
        for (i, row) in self.c.outer_iterator().enumerate() {
            out[i] = row.iter().map(|(j, v)| v * x[j]).sum::<f64>() - self.d[i];
        }
        if self.sphere {
            out[m] = x.iter().map(|v| v * v).sum::<f64>() - 1.0;
        }
    }
    fn jacobian(&self, x: &[f64]) -> CsMat<f64> {
        if !self.sphere {
            return self.c.clone();
        }
        let n = x.len();
        let (mut ptr, mut idx, mut val) = self.c.clone().into_raw_storage();
        idx.extend(0..n);
        val.extend(x.iter().map(|v| 2.0 * v));
        ptr.push(idx.len());
        CsMat::new((self.d.len() + 1, n), ptr, idx, val)
    }
    /// The dense Hessian as a sparse matrix (`n²` entries, `O(N n²)` work): for derivative
    /// checks on small instances; the solver uses [`EqualityNlp::hessian_operator`].
    fn hessian(&self, x: &[f64], lambda: &[f64]) -> CsMat<f64> {
        let n = x.len();
        let op = self.operator(x, lambda);
        let mut t = Vec::with_capacity(n * n);
        let (mut e, mut col) = (vec![0.0; n], vec![0.0; n]);
        for j in 0..n {
            e[j] = 1.0;
            op.apply(&e, &mut col);
            e[j] = 0.0;
            t.extend(col.iter().enumerate().map(|(i, v)| (i, j, *v)));
        }
        csr_from_triplets(n, n, &t)
    }
    fn hessian_operator(&self, x: &[f64], lambda: &[f64]) -> Option<Box<dyn HessianOperator + '_>> {
        Some(Box::new(self.operator(x, lambda)))
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

impl LogisticRegressionNlp {
    fn operator(&self, x: &[f64], lambda: &[f64]) -> LogRegHessian<'_> {
        let mut work = self.work.lock().unwrap_or_else(|e| e.into_inner());
        let inv_n = 1.0 / self.y.len() as f64;
        let weights = self
            .margins(&mut work, x)
            .iter()
            .map(|z| sigmoid(*z) * sigmoid(-z) * inv_n)
            .collect();
        let shift = self.ridge
            + if self.sphere {
                2.0 * lambda[self.d.len()]
            } else {
                0.0
            };
        LogRegHessian {
            p: self,
            weights,
            shift,
            dots: Mutex::new(vec![0.0; self.y.len()]),
        }
    }
}
