//! MIMO detection with 4-QAM symbols.
//!
//! A transmitter with `N_t` antennas sends `x ∈ {±1 ± i}^{N_t}` through a complex channel
//! `H ∈ ℂ^{N_r × N_t}`; the receiver sees `y = Hx + n` with noise `n ~ CN(0, σ² I)` and must
//! recover `x`. Maximum-likelihood detection is
//!
//! `min ‖Hx − y‖²` over `x ∈ {±1 ± i}^{N_t}`,
//!
//! a binary problem in the real form: with `s = [Re x; Im x] ∈ {±1}^{2N_t}`,
//! `H_r = [[Re H, −Im H], [Im H, Re H]]` and `y_r = [Re y; Im y]`,
//! `f(s) = ‖H_r s − y_r‖² = sᵀGs − 2bᵀs + ‖y_r‖²` with the Gram matrix `G = H_rᵀH_r` and
//! `b = H_rᵀy_r` (Chen et al., arXiv 2307.00783, §5.4). With the residual-gradient state
//! `g = Gs − b`, flipping `s_v` changes `f` by `4(G_vv − s_v g_v)` (O(1)) and the flip updates
//! `g` with one row of `G` (O(N_t)).
//!
//! **SNR convention** (the one of the MCPG experiments and their MMSE/HOTML baselines): entries
//! of `H` are i.i.d. `CN(0, 1)`, symbols have `E|x_j|² = 2`, and
//! `SNR = E‖Hx‖² / E‖n‖² = 2N_t / σ²`, i.e. `σ² = 2N_t · 10^(−SNR_dB/10)` (each real noise
//! component has variance `σ²/2`).
//!
//! Each real component of `s` carries one bit (Gray-mapped 4-QAM), so the **bit error rate** is
//! the fraction of components of `s` detected with the wrong sign. The **MMSE** baseline is
//! `sign((G + (σ²/2) I)⁻¹ b)`.

use crate::binary::{BinaryObjective, Spin};
use crate::error::ProblemError;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par, Side};
use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// A MIMO detection instance (4-QAM).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct MimoInstance {
    /// Transmit antennas `N_t`.
    pub nt: usize,
    /// Receive antennas `N_r`.
    pub nr: usize,
    /// Channel `H`, `N_r × N_t`, row-major.
    pub h: Vec<Complex64>,
    /// Received vector `y` (length `N_r`).
    pub y: Vec<Complex64>,
    /// Noise variance per complex entry, `σ² = E|n_i|²`.
    pub noise_var: f64,
    /// Transmitted symbols (each `±1 ± i`), when known (generated instances): enables the BER.
    pub x: Option<Vec<Complex64>>,
    /// SNR in dB, when the instance was generated for one.
    pub snr_db: Option<f64>,
}

/// Box–Muller standard normal.
fn normal<R: Rng>(rng: &mut R) -> f64 {
    loop {
        let u = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
        if u > 0.0 {
            let v = (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64);
            return (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos();
        }
    }
}

impl MimoInstance {
    /// A seeded Rayleigh-fading instance: `H_ij ~ CN(0, 1)`, uniform 4-QAM symbols and
    /// `σ² = 2N_t · 10^(−snr_db/10)` (see the module documentation).
    pub fn generate(nt: usize, nr: usize, snr_db: f64, seed: u64) -> Result<Self, ProblemError> {
        if nt == 0 || nr == 0 {
            return Err(ProblemError::Invalid(format!(
                "antenna counts must be positive, got {nt} x {nr}"
            )));
        }
        if !snr_db.is_finite() {
            return Err(ProblemError::Invalid(format!(
                "SNR {snr_db} dB is not finite"
            )));
        }
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let half = std::f64::consts::FRAC_1_SQRT_2;
        let h: Vec<Complex64> = (0..nr * nt)
            .map(|_| Complex64::new(half * normal(&mut rng), half * normal(&mut rng)))
            .collect();
        let bit = |r: &mut Xoshiro256PlusPlus| if r.next_u64() >> 63 == 1 { 1.0 } else { -1.0 };
        let x: Vec<Complex64> = (0..nt)
            .map(|_| Complex64::new(bit(&mut rng), bit(&mut rng)))
            .collect();
        let noise_var = 2.0 * nt as f64 * 10f64.powf(-snr_db / 10.0);
        let sd = (noise_var / 2.0).sqrt();
        let y: Vec<Complex64> = (0..nr)
            .map(|i| {
                let hx: Complex64 = (0..nt).map(|j| h[i * nt + j] * x[j]).sum();
                hx + Complex64::new(sd * normal(&mut rng), sd * normal(&mut rng))
            })
            .collect();
        Ok(MimoInstance {
            nt,
            nr,
            h,
            y,
            noise_var,
            x: Some(x),
            snr_db: Some(snr_db),
        })
    }

    /// An instance given in real form, as in the MCPG MIMO data set: the real channel
    /// `H_r(i, j)` (`2N_r × 2N_t`, which must have the block structure
    /// `[[Re H, −Im H], [Im H, Re H]]`), the transmitted real vector `x_r ∈ {±1}^{2N_t}` and a
    /// unit real noise vector `v` (length `2N_r`, each component of variance ½), combined as
    /// `y_r = H_r x_r + sqrt(2N_t · 10^(−SNR/10)) v`.
    pub fn from_real_form(
        nr: usize,
        nt: usize,
        hr: impl Fn(usize, usize) -> f64,
        xr: &[f64],
        v: &[f64],
        snr_db: f64,
    ) -> Result<Self, ProblemError> {
        if xr.len() != 2 * nt || v.len() != 2 * nr {
            return Err(ProblemError::Invalid(format!(
                "real form: x has {} entries (expected {}), noise has {} (expected {})",
                xr.len(),
                2 * nt,
                v.len(),
                2 * nr
            )));
        }
        let mut h = Vec::with_capacity(nr * nt);
        for i in 0..nr {
            for j in 0..nt {
                let (a, b, c, d) = (hr(i, j), hr(i, nt + j), hr(nr + i, j), hr(nr + i, nt + j));
                if a != d || b != -c {
                    return Err(ProblemError::Invalid(format!(
                        "real channel is not of the form [[Re H, -Im H], [Im H, Re H]] at ({}, {})",
                        i + 1,
                        j + 1
                    )));
                }
                h.push(Complex64::new(a, c));
            }
        }
        let x: Vec<Complex64> = (0..nt).map(|j| Complex64::new(xr[j], xr[nt + j])).collect();
        let scale = (2.0 * nt as f64 * 10f64.powf(-snr_db / 10.0)).sqrt();
        let y: Vec<Complex64> = (0..nr)
            .map(|i| {
                let hx: Complex64 = (0..nt).map(|j| h[i * nt + j] * x[j]).sum();
                hx + Complex64::new(scale * v[i], scale * v[nr + i])
            })
            .collect();
        let inst = MimoInstance {
            nt,
            nr,
            h,
            y,
            noise_var: 2.0 * nt as f64 * 10f64.powf(-snr_db / 10.0),
            x: Some(x),
            snr_db: Some(snr_db),
        };
        inst.validate()?;
        Ok(inst)
    }

    /// Check dimensions, finiteness and symbols.
    pub fn validate(&self) -> Result<(), ProblemError> {
        let bad = |m: String| Err(ProblemError::Invalid(m));
        if self.nt == 0 || self.nr == 0 {
            return bad(format!(
                "antenna counts must be positive, got {} x {}",
                self.nt, self.nr
            ));
        }
        if self.h.len() != self.nr * self.nt {
            return bad(format!(
                "channel has {} entries, expected N_r x N_t = {} x {}",
                self.h.len(),
                self.nr,
                self.nt
            ));
        }
        if self.y.len() != self.nr {
            return bad(format!(
                "received vector has {} entries, expected N_r = {}",
                self.y.len(),
                self.nr
            ));
        }
        if let Some(k) = self
            .h
            .iter()
            .position(|z| !(z.re.is_finite() && z.im.is_finite()))
        {
            return bad(format!("channel entry {} is not finite", k + 1));
        }
        if let Some(k) = self
            .y
            .iter()
            .position(|z| !(z.re.is_finite() && z.im.is_finite()))
        {
            return bad(format!("received entry {} is not finite", k + 1));
        }
        if !(self.noise_var.is_finite() && self.noise_var >= 0.0) {
            return bad(format!(
                "noise variance must be finite and >= 0, got {}",
                self.noise_var
            ));
        }
        if let Some(x) = &self.x {
            if x.len() != self.nt {
                return bad(format!(
                    "{} transmitted symbols, expected N_t = {}",
                    x.len(),
                    self.nt
                ));
            }
            if let Some(k) = x
                .iter()
                .position(|z| z.re.abs() != 1.0 || z.im.abs() != 1.0)
            {
                return bad(format!(
                    "transmitted symbol {} is {}, expected ±1 ± i",
                    k + 1,
                    x[k]
                ));
            }
        }
        Ok(())
    }

    /// The transmitted symbols in real form `[Re x; Im x]`, when known.
    pub fn true_spins(&self) -> Option<Vec<Spin>> {
        self.x.as_ref().map(|x| {
            x.iter()
                .map(|z| if z.re > 0.0 { 1 } else { -1 })
                .chain(x.iter().map(|z| if z.im > 0.0 { 1 } else { -1 }))
                .collect()
        })
    }

    /// Real-form channel `H_r` (`2N_r × 2N_t`).
    pub fn real_channel(&self) -> Mat<f64> {
        let (nt, nr) = (self.nt, self.nr);
        Mat::from_fn(2 * nr, 2 * nt, |i, j| {
            let z = self.h[(i % nr) * nt + (j % nt)];
            match (i < nr, j < nt) {
                (true, true) | (false, false) => z.re,
                (true, false) => -z.im,
                (false, true) => z.im,
            }
        })
    }

    /// Real-form received vector `[Re y; Im y]`.
    pub fn real_received(&self) -> Vec<f64> {
        self.y
            .iter()
            .map(|z| z.re)
            .chain(self.y.iter().map(|z| z.im))
            .collect()
    }
}

/// Symbols from a real-form spin vector: `x_j = s_j + i s_{N_t + j}`.
pub fn symbols(s: &[Spin]) -> Vec<Complex64> {
    let nt = s.len() / 2;
    (0..nt)
        .map(|j| Complex64::new(f64::from(s[j]), f64::from(s[nt + j])))
        .collect()
}

/// Bit error rate of a detected real-form vector against the truth (fraction of wrong signs).
///
/// # Panics
/// If the lengths differ or are zero.
pub fn bit_error_rate(detected: &[Spin], truth: &[Spin]) -> f64 {
    assert_eq!(detected.len(), truth.len(), "vector lengths");
    assert!(!truth.is_empty(), "empty vectors");
    let wrong = detected.iter().zip(truth).filter(|(a, b)| a != b).count();
    wrong as f64 / truth.len() as f64
}

/// ML detection as a binary objective: `f(s) = ‖H_r s − y_r‖²` on `{±1}^{2N_t}`.
#[derive(Debug, Clone)]
pub struct MimoDetection {
    n: usize,
    /// `G = H_rᵀH_r`, row-major `n × n`.
    gram: Vec<f64>,
    b: Vec<f64>,
    c: f64,
    noise_var: f64,
    scale: f64,
    order: Vec<usize>,
}

impl MimoDetection {
    /// Precompute `G = H_rᵀH_r` (faer matmul on `par` threads: `Par::rayon(0)` for all) and
    /// `b = H_rᵀy_r`.
    pub fn new(inst: &MimoInstance, par: Par) -> Result<Self, ProblemError> {
        inst.validate()?;
        let hr = inst.real_channel();
        let yr = inst.real_received();
        let n = 2 * inst.nt;
        let mut g = Mat::<f64>::zeros(n, n);
        matmul(
            g.as_mut(),
            Accum::Replace,
            hr.transpose(),
            hr.as_ref(),
            1.0,
            par,
        );
        let ycol = Mat::from_fn(yr.len(), 1, |i, _| yr[i]);
        let mut bm = Mat::<f64>::zeros(n, 1);
        matmul(
            bm.as_mut(),
            Accum::Replace,
            hr.transpose(),
            ycol.as_ref(),
            1.0,
            par,
        );
        // Row-major copy, symmetrised exactly so that flip updates can use rows.
        let mut gram = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                gram[i * n + j] = 0.5 * (g[(i, j)] + g[(j, i)]);
            }
        }
        let b: Vec<f64> = (0..n).map(|i| bm[(i, 0)]).collect();
        let c = yr.iter().map(|v| v * v).sum();
        let mean_diag = (0..n).map(|i| gram[i * n + i]).sum::<f64>() / n as f64;
        Ok(MimoDetection {
            n,
            gram,
            b,
            c,
            noise_var: inst.noise_var,
            // A flip moves f by 4(G_vv − s_v g_v); its typical size is the noise level.
            scale: 4.0 * (mean_diag * inst.noise_var / 2.0).sqrt().max(1e-12),
            order: (0..n).collect(),
        })
    }

    /// The MMSE detector `sign((G + (σ²/2) I)⁻¹ b)` (ties to `+1`) and its soft estimate.
    pub fn mmse(&self) -> Result<(Vec<Spin>, Vec<f64>), ProblemError> {
        let n = self.n;
        let reg = self.noise_var / 2.0;
        let a = Mat::from_fn(n, n, |i, j| {
            self.gram[i * n + j] + if i == j { reg } else { 0.0 }
        });
        let llt = a
            .llt(Side::Lower)
            .map_err(|e| ProblemError::Invalid(format!("MMSE: Cholesky failed ({e:?})")))?;
        let rhs = Mat::from_fn(n, 1, |i, _| self.b[i]);
        let sol = faer::linalg::solvers::Solve::solve(&llt, rhs.as_ref());
        let soft: Vec<f64> = (0..n).map(|i| sol[(i, 0)]).collect();
        let hard = soft
            .iter()
            .map(|&v| if v >= 0.0 { 1 } else { -1 })
            .collect();
        Ok((hard, soft))
    }

    /// Gram matrix row `v`.
    #[inline]
    fn row(&self, v: usize) -> &[f64] {
        &self.gram[v * self.n..(v + 1) * self.n]
    }
}

impl BinaryObjective for MimoDetection {
    /// `g = Gs − b`.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "mimo"
    }

    fn num_vars(&self) -> usize {
        self.n
    }

    fn energy(&self, s: &[Spin]) -> f64 {
        let mut e = self.c;
        for v in 0..self.n {
            let sv = f64::from(s[v]);
            let gs: f64 = self
                .row(v)
                .iter()
                .zip(s)
                .map(|(g, &x)| g * f64::from(x))
                .sum();
            e += sv * gs - 2.0 * self.b[v] * sv;
        }
        e
    }

    fn init_state(&self, s: &[Spin]) -> Vec<f64> {
        let mut g = vec![0.0; self.n];
        self.reset_state(&mut g, s);
        g
    }

    fn reset_state(&self, g: &mut Vec<f64>, s: &[Spin]) {
        g.resize(self.n, 0.0);
        for (v, gv) in g.iter_mut().enumerate() {
            *gv = self
                .row(v)
                .iter()
                .zip(s)
                .map(|(a, &x)| a * f64::from(x))
                .sum::<f64>()
                - self.b[v];
        }
    }

    #[inline]
    fn flip_delta(&self, g: &Vec<f64>, s: &[Spin], v: usize) -> f64 {
        4.0 * (self.gram[v * self.n + v] - f64::from(s[v]) * g[v])
    }

    #[inline]
    fn flip(&self, g: &mut Vec<f64>, s: &mut [Spin], v: usize) {
        let d = -2.0 * f64::from(s[v]);
        for (gu, a) in g.iter_mut().zip(self.row(v)) {
            *gu += d * a;
        }
        s[v] = -s[v];
    }

    fn sweep_order(&self) -> Vec<usize> {
        self.order.clone()
    }

    fn delta_scale(&self) -> f64 {
        self.scale
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn energy_is_the_residual_and_deltas_match() {
        let inst = MimoInstance::generate(3, 4, 5.0, 7).unwrap();
        let p = MimoDetection::new(&inst, Par::Seq).unwrap();
        let hr = inst.real_channel();
        let yr = inst.real_received();
        let mut s: Vec<Spin> = vec![1, -1, 1, 1, -1, -1];
        let resid = |s: &[Spin]| -> f64 {
            (0..8)
                .map(|i| {
                    let r: f64 = (0..6).map(|j| hr[(i, j)] * f64::from(s[j])).sum::<f64>() - yr[i];
                    r * r
                })
                .sum()
        };
        assert!((p.energy(&s) - resid(&s)).abs() < 1e-9);
        let mut g = p.init_state(&s);
        for v in [0, 3, 5, 3, 1] {
            let e0 = p.energy(&s);
            let d = p.flip_delta(&g, &s, v);
            p.flip(&mut g, &mut s, v);
            assert!((p.energy(&s) - e0 - d).abs() < 1e-9);
            let fresh = p.init_state(&s);
            assert!(g.iter().zip(&fresh).all(|(a, b)| (a - b).abs() < 1e-9));
        }
        // Complex and real forms agree: ‖Hx − y‖² with x from the spins.
        let x = symbols(&s);
        let direct: f64 = (0..4)
            .map(|i| {
                let hx: Complex64 = (0..3).map(|j| inst.h[i * 3 + j] * x[j]).sum();
                (hx - inst.y[i]).norm_sqr()
            })
            .sum();
        assert!((p.energy(&s) - direct).abs() < 1e-9);
    }

    #[test]
    fn noiseless_detection_is_exact_and_generator_is_seeded() {
        let a = MimoInstance::generate(8, 12, 200.0, 3).unwrap();
        assert_eq!(a, MimoInstance::generate(8, 12, 200.0, 3).unwrap());
        assert_ne!(a, MimoInstance::generate(8, 12, 200.0, 4).unwrap());
        let p = MimoDetection::new(&a, Par::Seq).unwrap();
        let (mmse, _) = p.mmse().unwrap();
        let truth = a.true_spins().unwrap();
        assert_eq!(bit_error_rate(&mmse, &truth), 0.0);
        assert!(p.energy(&truth) < 1e-12 * p.c.max(1.0));
    }

    #[test]
    fn rejects_inconsistent_instances() {
        let mut a = MimoInstance::generate(2, 2, 10.0, 1).unwrap();
        a.y.pop();
        assert!(a.validate().is_err());
        let mut b = MimoInstance::generate(2, 2, 10.0, 1).unwrap();
        b.h[0] = Complex64::new(f64::NAN, 0.0);
        assert!(MimoDetection::new(&b, Par::Seq).is_err());
        let mut c = MimoInstance::generate(2, 2, 10.0, 1).unwrap();
        c.x = Some(vec![Complex64::new(1.0, 0.5); 2]);
        assert!(c.validate().is_err());
        assert!(MimoInstance::generate(0, 2, 1.0, 1).is_err());
    }
}
