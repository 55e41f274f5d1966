//! MIMO detection with 4-QAM and 16-QAM symbols.
//!
//! A transmitter with `N_t` antennas sends `x ∈ {±1 ± i}^{N_t}` (4-QAM; 16-QAM:
//! `x_j ∈ {±1, ±3} + i{±1, ±3}`) through a complex channel
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
//! **16-QAM** uses two binary variables per real dimension: `z = 2a + c` with `a, c ∈ {±1}`
//! takes the levels `{−3, −1, 1, 3}`, so `f` stays a quadratic in `4N_t` spins
//! `s = [a; c]`; the state is still `r = Gz − b` and a flip of a variable with coefficient
//! `w ∈ {2, 1}` changes `f` by `4(w² G_jj − w s_v r_j)`.
//!
//! **Bit error rate.** Symbols are Gray-mapped per real dimension: 4-QAM carries one bit (the
//! sign), 16-QAM two (the sign, and whether `|z| = 1`), so neighbouring levels differ in one
//! bit. The BER is the fraction of these bits detected wrongly. The **MMSE** baseline solves
//! `(G + (σ²/2)/E[z²] I) ẑ = b` (`E[z²]` = 1 or 5) and quantises `ẑ` to the nearest levels.
//!
//! The SNR convention generalises as `σ² = N_t E_s 10^(−SNR/10)` with `E_s = E|x_j|²` = 2 or 10.

use crate::binary::{BinaryObjective, Spin};
use crate::error::ProblemError;
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, Par, Side};
use num_complex::Complex64;
use rand::{Rng, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// The symbol alphabet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Modulation {
    /// `{±1 ± i}`: one bit per real dimension.
    #[default]
    Qam4,
    /// `{±1, ±3} + i{±1, ±3}`: two bits per real dimension.
    Qam16,
}

impl Modulation {
    /// Binary variables (and bits) per real dimension.
    pub fn bits_per_dim(self) -> usize {
        match self {
            Modulation::Qam4 => 1,
            Modulation::Qam16 => 2,
        }
    }
    /// Coefficients `w_k` of the binary expansion `z = Σ_k w_k s_k` of a real level.
    pub fn coefficients(self) -> &'static [f64] {
        match self {
            Modulation::Qam4 => &[1.0],
            Modulation::Qam16 => &[2.0, 1.0],
        }
    }
    /// Mean energy of a real level, `E[z²]` (1 or 5); `E_s = 2 E[z²]`.
    pub fn level_energy(self) -> f64 {
        match self {
            Modulation::Qam4 => 1.0,
            Modulation::Qam16 => 5.0,
        }
    }
    /// The real levels of the alphabet, ascending.
    pub fn levels(self) -> &'static [f64] {
        match self {
            Modulation::Qam4 => &[-1.0, 1.0],
            Modulation::Qam16 => &[-3.0, -1.0, 1.0, 3.0],
        }
    }
    fn is_level(self, v: f64) -> bool {
        match self {
            Modulation::Qam4 => v.abs() == 1.0,
            Modulation::Qam16 => v.abs() == 1.0 || v.abs() == 3.0,
        }
    }
    /// Nearest level of a real value.
    fn quantise(self, v: f64) -> f64 {
        match self {
            Modulation::Qam4 => {
                if v >= 0.0 {
                    1.0
                } else {
                    -1.0
                }
            }
            Modulation::Qam16 => {
                let s = if v >= 0.0 { 1.0 } else { -1.0 };
                if v.abs() >= 2.0 { 3.0 * s } else { s }
            }
        }
    }
    /// Gray bits of a real level (4-QAM: the sign; 16-QAM: the sign and `|z| = 1`).
    pub fn gray_bits(self, v: f64) -> [bool; 2] {
        [v > 0.0, v.abs() < 2.0]
    }
}

/// A MIMO detection instance.
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
    /// Symbol alphabet (4-QAM when absent from a file).
    #[serde(default)]
    pub modulation: Modulation,
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
    /// A seeded Rayleigh-fading 4-QAM instance: `H_ij ~ CN(0, 1)`, uniform symbols and
    /// `σ² = 2N_t · 10^(−snr_db/10)` (see the module documentation).
    pub fn generate(nt: usize, nr: usize, snr_db: f64, seed: u64) -> Result<Self, ProblemError> {
        Self::generate_with(nt, nr, Modulation::Qam4, snr_db, seed)
    }

    /// A seeded Rayleigh-fading instance with the given alphabet: `H_ij ~ CN(0, 1)`, uniform
    /// symbols and `σ² = N_t E_s 10^(−snr_db/10)`.
    pub fn generate_with(
        nt: usize,
        nr: usize,
        modulation: Modulation,
        snr_db: f64,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        if nt == 0 || nr == 0 {
            return Err(ProblemError::Invalid(format!(
                "antenna counts must be positive, got {nt} x {nr}"
            )));
        }
        // The real form H_r (2 nr x 2 nt) and the Gram matrix (2 nt x 2 nt), in f64.
        let cells = crate::limits::checked_size("the channel", nt.max(nr), nt.max(nr))?;
        crate::limits::check_alloc("the channel and its Gram matrix", cells, 64)?;
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
        let level = |r: &mut Xoshiro256PlusPlus| match modulation {
            Modulation::Qam4 => bit(r),
            Modulation::Qam16 => 2.0 * bit(r) + bit(r),
        };
        let x: Vec<Complex64> = (0..nt)
            .map(|_| Complex64::new(level(&mut rng), level(&mut rng)))
            .collect();
        let noise_var = 2.0 * modulation.level_energy() * nt as f64 * 10f64.powf(-snr_db / 10.0);
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
            modulation,
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
            modulation: Modulation::Qam4,
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
        if self.nr.checked_mul(self.nt) != Some(self.h.len()) {
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
        // ‖y − Hx‖² ≤ (‖y‖₁ + a_max ‖H‖₁)² (complex entries as |re| + |im|) must stay finite.
        let l1 = |v: &[Complex64]| v.iter().map(|z| z.re.abs() + z.im.abs()).sum::<f64>();
        let bound = 3.0 * l1(&self.h) + l1(&self.y);
        if bound > 1e150 {
            return bad(format!(
                "channel and received entries too large (‖y‖₁ + 3‖H‖₁ = {bound:.1e} above 1e150, \
                 so ‖y − Hx‖² could overflow); rescale y and H (and noise_var by the square)"
            ));
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
            let m = self.modulation;
            if let Some(k) = x
                .iter()
                .position(|z| !(m.is_level(z.re) && m.is_level(z.im)))
            {
                return bad(format!(
                    "transmitted symbol {} is {}, not a {} symbol",
                    k + 1,
                    x[k],
                    match m {
                        Modulation::Qam4 => "4-QAM (±1 ± i)",
                        Modulation::Qam16 => "16-QAM ({±1, ±3} + i{±1, ±3})",
                    }
                ));
            }
        }
        Ok(())
    }

    /// The binary variables of the transmitted symbols, when known: 4-QAM `[Re x; Im x]`;
    /// 16-QAM `[a; c]` with `[Re x; Im x] = 2a + c`.
    pub fn true_spins(&self) -> Option<Vec<Spin>> {
        let x = self.x.as_ref()?;
        let z: Vec<f64> = x
            .iter()
            .map(|v| v.re)
            .chain(x.iter().map(|v| v.im))
            .collect();
        Some(spins_of_levels(self.modulation, &z))
    }

    /// Detected symbols from the binary variables `s` (layout of [`MimoInstance::true_spins`]).
    pub fn symbols_of(&self, s: &[Spin]) -> Vec<Complex64> {
        let z = levels_of_spins(self.modulation, s);
        let nt = z.len() / 2;
        (0..nt).map(|j| Complex64::new(z[j], z[nt + j])).collect()
    }

    /// Bit error rate (Gray mapping) of the binary variables `s` against the transmitted
    /// symbols, when known.
    pub fn bit_error_rate(&self, s: &[Spin]) -> Option<f64> {
        let truth = self.true_spins()?;
        let m = self.modulation;
        let (a, b) = (levels_of_spins(m, s), levels_of_spins(m, &truth));
        let bits = m.bits_per_dim();
        let wrong: usize = a
            .iter()
            .zip(&b)
            .map(|(&u, &v)| {
                let (gu, gv) = (m.gray_bits(u), m.gray_bits(v));
                (0..bits).filter(|&k| gu[k] != gv[k]).count()
            })
            .sum();
        Some(wrong as f64 / (bits * b.len()) as f64)
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

/// Real levels `z = Σ_k w_k s_k` of binary variables laid out as `[s_1; s_2; ...]`.
pub fn levels_of_spins(m: Modulation, s: &[Spin]) -> Vec<f64> {
    let c = m.coefficients();
    let nd = s.len() / c.len();
    (0..nd)
        .map(|j| {
            c.iter()
                .enumerate()
                .map(|(k, w)| w * f64::from(s[k * nd + j]))
                .sum()
        })
        .collect()
}

/// Binary variables of real levels (inverse of [`levels_of_spins`]; levels are quantised).
pub fn spins_of_levels(m: Modulation, z: &[f64]) -> Vec<Spin> {
    let nd = z.len();
    let mut s = vec![1; nd * m.bits_per_dim()];
    for (j, &v) in z.iter().enumerate() {
        let q = m.quantise(v);
        let a: Spin = if q > 0.0 { 1 } else { -1 };
        match m {
            Modulation::Qam4 => s[j] = a,
            Modulation::Qam16 => {
                s[j] = a;
                s[nd + j] = if q - 2.0 * f64::from(a) > 0.0 { 1 } else { -1 };
            }
        }
    }
    s
}

/// Fraction of differing signs between two spin vectors (the bit error rate for 4-QAM; see
/// [`MimoInstance::bit_error_rate`] for the Gray-mapped rate of any alphabet).
///
/// # Panics
/// If the lengths differ or are zero.
pub fn bit_error_rate(detected: &[Spin], truth: &[Spin]) -> f64 {
    assert_eq!(detected.len(), truth.len(), "vector lengths");
    assert!(!truth.is_empty(), "empty vectors");
    let wrong = detected.iter().zip(truth).filter(|(a, b)| a != b).count();
    wrong as f64 / truth.len() as f64
}

/// ML detection as a binary objective: `f(s) = ‖H_r z(s) − y_r‖²` with the real levels
/// `z(s) = Σ_k w_k s_k` (one block of `2N_t` spins per coefficient `w_k`).
#[derive(Debug, Clone)]
pub struct MimoDetection {
    /// Real dimensions `2N_t`.
    nd: usize,
    modulation: Modulation,
    /// `G = H_rᵀH_r`, row-major `nd × nd`.
    gram: Vec<f64>,
    b: Vec<f64>,
    c: f64,
    noise_var: f64,
    scale: f64,
}

/// Incremental state of [`MimoDetection`]: the levels `z` and `r = Gz − b`.
#[derive(Debug, Clone, PartialEq)]
pub struct MimoState {
    z: Vec<f64>,
    r: Vec<f64>,
}

impl MimoDetection {
    /// Precompute `G = H_rᵀH_r` (faer matmul on `par` threads: `Par::rayon(0)` for all) and
    /// `b = H_rᵀy_r`.
    pub fn new(inst: &MimoInstance, par: Par) -> Result<Self, ProblemError> {
        inst.validate()?;
        let hr = inst.real_channel();
        let yr = inst.real_received();
        let nd = 2 * inst.nt;
        let mut g = Mat::<f64>::zeros(nd, nd);
        matmul(
            g.as_mut(),
            Accum::Replace,
            hr.transpose(),
            hr.as_ref(),
            1.0,
            par,
        );
        let ycol = Mat::from_fn(yr.len(), 1, |i, _| yr[i]);
        let mut bm = Mat::<f64>::zeros(nd, 1);
        matmul(
            bm.as_mut(),
            Accum::Replace,
            hr.transpose(),
            ycol.as_ref(),
            1.0,
            par,
        );
        // Row-major copy, symmetrised exactly so that flip updates can use rows.
        let mut gram = vec![0.0; nd * nd];
        for i in 0..nd {
            for j in 0..nd {
                gram[i * nd + j] = 0.5 * (g[(i, j)] + g[(j, i)]);
            }
        }
        let b: Vec<f64> = (0..nd).map(|i| bm[(i, 0)]).collect();
        let c = yr.iter().map(|v| v * v).sum();
        let mean_diag = (0..nd).map(|i| gram[i * nd + i]).sum::<f64>() / nd as f64;
        Ok(MimoDetection {
            nd,
            modulation: inst.modulation,
            gram,
            b,
            c,
            noise_var: inst.noise_var,
            // A flip of a unit-coefficient variable moves f by 4(G_vv − s_v r_v); its typical
            // size is the noise level.
            scale: 4.0 * (mean_diag * inst.noise_var / 2.0).sqrt().max(1e-12),
        })
    }

    /// The MMSE detector: `ẑ = (G + (σ²/2)/E[z²] I)⁻¹ b`, quantised to the nearest levels;
    /// returns the binary variables and `ẑ`.
    pub fn mmse(&self) -> Result<(Vec<Spin>, Vec<f64>), ProblemError> {
        let nd = self.nd;
        let reg = self.noise_var / 2.0 / self.modulation.level_energy();
        let a = Mat::from_fn(nd, nd, |i, j| {
            self.gram[i * nd + j] + if i == j { reg } else { 0.0 }
        });
        // Without noise a rank-deficient channel (a zero column, nr < nt) makes `G` singular:
        // then a ridge at the rounding level of `G` gives the minimum-norm-like estimate.
        let llt = match a.llt(Side::Lower) {
            Ok(f) => f,
            Err(_) => {
                let big = (0..nd).map(|i| self.gram[i * nd + i]).fold(0.0, f64::max);
                let ridge = (1e-10 * big).max(f64::MIN_POSITIVE);
                let a = Mat::from_fn(nd, nd, |i, j| a[(i, j)] + if i == j { ridge } else { 0.0 });
                a.llt(Side::Lower).map_err(|_| {
                    ProblemError::Invalid(
                        "MMSE: the channel's Gram matrix is not positive semidefinite \
                         (rounding); rescale H"
                            .into(),
                    )
                })?
            }
        };
        let rhs = Mat::from_fn(nd, 1, |i, _| self.b[i]);
        let sol = faer::linalg::solvers::Solve::solve(&llt, rhs.as_ref());
        let soft: Vec<f64> = (0..nd).map(|i| sol[(i, 0)]).collect();
        Ok((spins_of_levels(self.modulation, &soft), soft))
    }

    /// The symbol alphabet.
    pub fn modulation(&self) -> Modulation {
        self.modulation
    }

    /// Number of real dimensions `2N_t`.
    pub fn real_dims(&self) -> usize {
        self.nd
    }

    /// Change of `f` when the real level `z_j` is set to `level`:
    /// `2 (level − z_j) r_j + (level − z_j)² G_jj`.
    #[inline]
    pub fn level_delta(&self, st: &MimoState, j: usize, level: f64) -> f64 {
        let d = level - st.z[j];
        2.0 * d * st.r[j] + d * d * self.gram[j * self.nd + j]
    }

    /// Current real level `z_j`.
    #[inline]
    pub fn level(&self, st: &MimoState, j: usize) -> f64 {
        st.z[j]
    }

    /// Set the real level `z_j` to `level` (one of the alphabet's levels), updating the binary
    /// variables of dimension `j` and the state.
    pub fn set_level(&self, st: &mut MimoState, s: &mut [Spin], j: usize, level: f64) {
        let want = spins_of_levels(self.modulation, &[level]);
        for (k, &b) in want.iter().enumerate() {
            let v = k * self.nd + j;
            if s[v] != b {
                self.flip(st, s, v);
            }
        }
    }

    /// Gram matrix row `j`.
    #[inline]
    fn row(&self, j: usize) -> &[f64] {
        &self.gram[j * self.nd..(j + 1) * self.nd]
    }

    /// `f` of real levels `z`.
    fn residual(&self, z: &[f64]) -> f64 {
        let mut e = self.c;
        for (j, &zj) in z.iter().enumerate() {
            let gz: f64 = self.row(j).iter().zip(z).map(|(g, x)| g * x).sum();
            e += zj * gz - 2.0 * self.b[j] * zj;
        }
        e
    }
}

impl BinaryObjective for MimoDetection {
    type State = MimoState;

    fn name(&self) -> &'static str {
        "mimo"
    }

    fn num_vars(&self) -> usize {
        self.nd * self.modulation.bits_per_dim()
    }

    fn energy(&self, s: &[Spin]) -> f64 {
        self.residual(&levels_of_spins(self.modulation, s))
    }

    fn init_state(&self, s: &[Spin]) -> MimoState {
        let mut st = MimoState {
            z: Vec::new(),
            r: Vec::new(),
        };
        self.reset_state(&mut st, s);
        st
    }

    fn reset_state(&self, st: &mut MimoState, s: &[Spin]) {
        let coef = self.modulation.coefficients();
        st.z.clear();
        st.z.extend((0..self.nd).map(|j| {
            coef.iter()
                .enumerate()
                .map(|(k, w)| w * f64::from(s[k * self.nd + j]))
                .sum::<f64>()
        }));
        st.r.resize(self.nd, 0.0);
        for (j, rj) in st.r.iter_mut().enumerate() {
            *rj = self
                .row(j)
                .iter()
                .zip(&st.z)
                .map(|(a, x)| a * x)
                .sum::<f64>()
                - self.b[j];
        }
    }

    #[inline]
    fn flip_delta(&self, st: &MimoState, s: &[Spin], v: usize) -> f64 {
        let (k, j) = (v / self.nd, v % self.nd);
        let w = self.modulation.coefficients()[k];
        4.0 * (w * w * self.gram[j * self.nd + j] - w * f64::from(s[v]) * st.r[j])
    }

    #[inline]
    fn flip(&self, st: &mut MimoState, s: &mut [Spin], v: usize) {
        let (k, j) = (v / self.nd, v % self.nd);
        let w = self.modulation.coefficients()[k];
        let d = -2.0 * w * f64::from(s[v]);
        st.z[j] += d;
        for (ru, a) in st.r.iter_mut().zip(self.row(j)) {
            *ru += d * a;
        }
        s[v] = -s[v];
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
            assert!(g.r.iter().zip(&fresh.r).all(|(a, b)| (a - b).abs() < 1e-9));
        }
        // Complex and real forms agree: ‖Hx − y‖² with x from the spins.
        let x = inst.symbols_of(&s);
        let direct: f64 = (0..4)
            .map(|i| {
                let hx: Complex64 = (0..3).map(|j| inst.h[i * 3 + j] * x[j]).sum();
                (hx - inst.y[i]).norm_sqr()
            })
            .sum();
        assert!((p.energy(&s) - direct).abs() < 1e-9);
    }

    #[test]
    fn qam16_levels_deltas_and_gray_bits() {
        let inst = MimoInstance::generate_with(3, 4, Modulation::Qam16, 8.0, 2).unwrap();
        assert!(inst.validate().is_ok());
        let p = MimoDetection::new(&inst, Par::Seq).unwrap();
        assert_eq!(p.num_vars(), 12);
        let truth = inst.true_spins().unwrap();
        assert_eq!(inst.symbols_of(&truth), inst.x.clone().unwrap());
        assert_eq!(inst.bit_error_rate(&truth), Some(0.0));
        let mut s = truth.clone();
        let mut st = p.init_state(&s);
        for v in [0, 7, 11, 3, 7, 6] {
            let e0 = p.energy(&s);
            let d = p.flip_delta(&st, &s, v);
            p.flip(&mut st, &mut s, v);
            assert!((p.energy(&s) - e0 - d).abs() < 1e-9 * e0.abs().max(1.0));
        }
        let fresh = p.init_state(&s);
        assert!(st.r.iter().zip(&fresh.r).all(|(a, b)| (a - b).abs() < 1e-9));
        // Gray mapping: 3 -> 1 costs one bit, 3 -> -3 costs one bit, 3 -> -1 two.
        let m = Modulation::Qam16;
        let one = |a: f64, b: f64| {
            let (x, y) = (m.gray_bits(a), m.gray_bits(b));
            (x[0] != y[0]) as u8 + (x[1] != y[1]) as u8
        };
        assert_eq!(
            (
                one(3.0, 1.0),
                one(3.0, -3.0),
                one(3.0, -1.0),
                one(1.0, -1.0)
            ),
            (1, 1, 2, 1)
        );
        assert_eq!(
            spins_of_levels(m, &[2.6, -0.4, -7.0]),
            vec![1, -1, -1, 1, 1, -1]
        );
        assert_eq!(
            levels_of_spins(m, &[1, -1, -1, 1, 1, -1]),
            vec![3.0, -1.0, -3.0]
        );
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
        let q = MimoInstance::generate_with(8, 12, Modulation::Qam16, 200.0, 3).unwrap();
        let pq = MimoDetection::new(&q, Par::Seq).unwrap();
        assert_eq!(q.bit_error_rate(&pq.mmse().unwrap().0), Some(0.0));
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
        c.x = Some(vec![Complex64::new(3.0, 1.0); 2]);
        assert!(c.validate().is_err());
        c.modulation = Modulation::Qam16;
        assert!(c.validate().is_ok());
        assert!(MimoInstance::generate(0, 2, 1.0, 1).is_err());
    }
}
