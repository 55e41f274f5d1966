//! The memory-efficient storage mode for the MaxCut SDP: conic descent on the trace-scaled
//! problem (a CGAL-type augmented-Lagrangian outer loop, as in SketchyCGAL) that stores only
//! `A(X) = diag X`, the dual vectors and a **Nyström sketch** `S = XΩ` of the iterate, never
//! `X` or a factor of it: `O(m + nR)` numbers besides the graph and the Lanczos basis.
//!
//! Scaled problem (`X̃ = X/n`, `C̃ = −(L/4)/‖L/4‖_F`): `min ⟨C̃, X̃⟩ s.t. diag X̃ = 1/n,
//! tr X̃ = 1, X̃ ⪰ 0`. Iteration `t = 1, 2, …` (Yurtsever, Tropp, Fercoq, Udell, Cevher,
//! SIAM J. Math. Data Sci. 2021, Algorithm 6.1; the ray/line structure of conic descent with
//! the step `η_t = 2/(t + 1)`):
//!
//! 1. `β_t = β₀√(t + 1)`, `v = y + β_t (z − b)` (the gradient of the augmented Lagrangian is
//!    `C̃ + Diag(v)`; MOCO's momentum and ray search are the [`moco`] iteration);
//! 2. eigen-oracle: `u` = smallest eigenvector of `C̃ + Diag(v)` by warm-started Lanczos;
//! 3. rank-one step towards `uuᵀ` (the extreme point of the unit-trace slice):
//!    `z ← (1 − η) z + η u∘u`, `S ← (1 − η) S + η u (uᵀΩ)`, with `η` from CD's exact line
//!    search on the augmented Lagrangian (a quadratic in `η`; [`SketchSettings::line_search`])
//!    or CGAL's `η = 2/(t + 1)` (default: measured on G1 it halves the iterations at the same
//!    time, on G14 it is 3x slower to a gap of 1e-2);
//! 4. dual step `y ← y + γ (z − b)`, `γ = min(β₀, 4 β_{t+1} η² ‖A‖² / ‖z − b‖²)`, `‖A‖ = 1`.
//!
//! **Certificates.** With `y' = ‖L/4‖_F v`, `Σ y' + n · max(0, λ_max(L/4 − Diag(y')))`
//! bounds the SDP value (weak duality, `tr X = n`). The oracle's own Lanczos run is warm
//! started and loose, so the bound is evaluated at checkpoints by a separate run from a random
//! start. Every [`SketchSettings::check_every`] iterations the sketch is turned into a rank-`R`
//! factor `F` (stable Nyström reconstruction, Tropp, Yurtsever, Udell, Cevher, SIAM J. Matrix
//! Anal. Appl. 2017, Algorithm 3: shift `ν`, Cholesky of `Ωᵀ(S + νΩ)`, SVD, `Λ = (Σ² − ν)₊`),
//! whose rows are normalised: `X̂ = FFᵀ` is feasible, so `¼⟨L, X̂⟩` is a proven lower bound;
//! the dual estimate of `X̂` gives a second candidate upper bound. The run stops when the best
//! upper and lower bounds are within `tol` (relative). GW rounding uses the `n × R` factor.

use super::maxcut::{MaxCutSdpSolution, dual_estimate, normalise_rows, round_cut};
use super::{MaxCutSdpReport, MaxCutSdpResiduals, MaxCutSdpStats};
use crate::core::{
    BackendReport, Common, Control, End, IterRecord, Observer, Run, SolveError, Status, stream_rng,
};
use crate::linalg::lanczos::{LanczosSettings, largest_eigenpair};
use faer::{Mat, Side};

pub mod moco;
use mathprog_problems::binary::Sense;
use mathprog_problems::sdp::MaxCutSdp;
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SketchSettings {
    /// Time limit, iteration limit, seed, threads, cancellation.
    pub common: Common,
    /// Stop at this certified relative gap.
    pub tol: f64,
    /// Sketch size `R` (the rank of the reconstructed factor).
    pub sketch_rank: usize,
    /// Penalty scale `β₀`.
    pub beta0: f64,
    /// MOCO's heavy-ball momentum on the gradient the oracle sees ([`SketchAlgorithm::Moco`]
    /// only; measured slower, off by default).
    pub momentum: bool,
    /// Exact line search for the step `η` on the augmented Lagrangian (conic descent's
    /// step 3) instead of CGAL's `2/(t + 1)`.
    pub line_search: bool,
    /// Reconstruct and certify every this many iterations (or every tenth of the iterations
    /// so far, if more).
    pub check_every: u64,
    /// Largest Lanczos basis (memory: `n × lanczos_basis` numbers).
    pub lanczos_basis: usize,
    /// Goemans–Williamson hyperplanes tried at the end (0: none).
    pub rounding_trials: usize,
    /// The iteration: CGAL's trace-constrained augmented Lagrangian (default) or MOCO's
    /// conic descent (ray search, heavy-ball Frank–Wolfe; see [`moco`]).
    #[serde(default)]
    pub algorithm: SketchAlgorithm,
    /// Degree-scaled slice and certificate ([`super::maxcut::degree_scaling`]): the MOCO
    /// oracle and the certificates use `λ_max(P^{-1/2}(L/4 − Diag(y))P^{-1/2})`, the bound
    /// `Σy + Σp · λ⁺` (valid: `⟨P, X⟩ = Σp` on the feasible set); CGAL's oracle keeps its
    /// trace slice.
    #[serde(default)]
    pub precondition: bool,
}

/// The iteration of the memory-efficient mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
#[non_exhaustive]
pub enum SketchAlgorithm {
    /// SketchyCGAL (Yurtsever et al. 2021): trace-constrained, `η = 2/(t + 1)`, growing `β`.
    #[default]
    Cgal,
    /// Momentum conic descent on an augmented Lagrangian with fixed `β` (see [`moco`]).
    Moco,
}

impl Default for SketchSettings {
    fn default() -> Self {
        SketchSettings {
            common: Common::default(),
            tol: 1e-2,
            sketch_rank: 10,
            beta0: 1.0,
            momentum: false,
            line_search: false,
            check_every: 10,
            lanczos_basis: 20,
            rounding_trials: 64,
            algorithm: SketchAlgorithm::Cgal,
            precondition: false,
        }
    }
}

impl SketchSettings {
    /// Check every field (tol ≥ 0, sketch_rank and check_every ≥ 1, beta0 > 0).
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if !(self.tol >= 0.0 && self.tol.is_finite())
            || self.sketch_rank == 0
            || !(self.beta0 > 0.0 && self.beta0.is_finite())
            || self.check_every == 0
            || (self.momentum && self.algorithm == SketchAlgorithm::Cgal)
        {
            return Err(SolveError::InvalidInput(format!(
                "tol must be >= 0, sketch_rank and check_every >= 1, beta0 > 0, and momentum needs \
                 the moco iteration (got {}, {}, {}, {}, momentum {} with {:?})",
                self.tol,
                self.sketch_rank,
                self.check_every,
                self.beta0,
                self.momentum,
                self.algorithm
            )));
        }
        Ok(())
    }
}

/// Rank-`R` factor `F` (row-major `n × R`) with `FFᵀ` the Nyström approximation
/// `S (ΩᵀS)⁺ Sᵀ` of the sketched PSD matrix, computed stably (shift, Cholesky, SVD).
pub fn nystrom_factor(s: &[f64], omega: &[f64], n: usize, r: usize) -> Vec<f64> {
    let norm = s.iter().map(|x| x * x).sum::<f64>().sqrt();
    let mut nu = (n as f64).sqrt() * f64::EPSILON * norm.max(f64::MIN_POSITIVE);
    for _ in 0..20 {
        // B = Ωᵀ(S + νΩ), symmetrised.
        let mut b = Mat::<f64>::zeros(r, r);
        for i in 0..n {
            let (si, oi) = (&s[i * r..(i + 1) * r], &omega[i * r..(i + 1) * r]);
            for a in 0..r {
                for c in 0..r {
                    b[(a, c)] += oi[a] * (si[c] + nu * oi[c]);
                }
            }
        }
        let bs = Mat::<f64>::from_fn(r, r, |a, c| 0.5 * (b[(a, c)] + b[(c, a)]));
        let Ok(ch) = bs.llt(Side::Lower) else {
            nu *= 10.0;
            continue;
        };
        // E = (S + νΩ) L⁻ᵀ (B = L Lᵀ): rows e_i solve L e_iᵀ = (s_i + ν ω_i)ᵀ.
        let l = ch.L();
        let mut e = vec![0.0; n * r];
        e.par_chunks_mut(r).enumerate().for_each(|(i, ei)| {
            for a in 0..r {
                let mut acc = s[i * r + a] + nu * omega[i * r + a];
                for c in 0..a {
                    acc -= l[(a, c)] * ei[c];
                }
                ei[a] = acc / l[(a, a)];
            }
        });
        // SVD through EᵀE = W Σ² Wᵀ: F = E W Σ⁻¹ (Σ² − ν)₊^{1/2}.
        let mut g = Mat::<f64>::zeros(r, r);
        for ei in e.chunks(r) {
            for a in 0..r {
                for c in 0..r {
                    g[(a, c)] += ei[a] * ei[c];
                }
            }
        }
        let Ok(eig) = g.self_adjoint_eigen(Side::Lower) else {
            nu *= 10.0;
            continue;
        };
        let (w, sig2) = (eig.U(), eig.S().column_vector());
        let coef: Vec<f64> = (0..r)
            .map(|k| {
                let s2 = sig2[k];
                if s2 > nu && s2 > 0.0 {
                    ((s2 - nu) / s2).sqrt()
                } else {
                    0.0
                }
            })
            .collect();
        let mut f = vec![0.0; n * r];
        f.par_chunks_mut(r)
            .zip(e.par_chunks(r))
            .for_each(|(fi, ei)| {
                for k in 0..r {
                    let mut acc = 0.0;
                    for a in 0..r {
                        acc += ei[a] * w[(a, k)];
                    }
                    fi[k] = acc * coef[k];
                }
            });
        return f;
    }
    vec![0.0; n * r]
}

/// Solve the MaxCut SDP of `p` in the memory-efficient mode (see the module documentation).
/// The report has the same shape as [`super::maxcut::solve`]'s: objective = the feasible
/// value of the reconstructed factor, bound = the best certified upper bound.
pub fn solve(
    p: &MaxCutSdp,
    s: &SketchSettings,
    observer: &mut dyn Observer,
) -> Result<MaxCutSdpReport, SolveError> {
    s.validate()?;
    let n = p.n();
    if n == 0 {
        return Err(SolveError::InvalidInput("the graph has no vertices".into()));
    }
    let pool = s.common.thread_pool()?;
    let r = s.sketch_rank.min(n);
    let name = match s.algorithm {
        SketchAlgorithm::Cgal => "sketch-cgal-sdp",
        SketchAlgorithm::Moco => "sketch-moco-sdp",
    };
    let mut run = Run::start(
        &s.common,
        observer,
        name,
        "maxcut-sdp",
        Sense::Maximize,
        n * r,
    );
    let mut cg = Cgal::new(p, s, &pool, r);
    let mut next_check = s.check_every;
    // The run ends, with a final certificate, once the time left is twice the longest one so
    // far (their cost varies with the Lanczos iterations they need).
    let mut cert_time = std::time::Duration::ZERO;
    let status = loop {
        let res2 = match s.algorithm {
            SketchAlgorithm::Cgal => cg.iteration(),
            SketchAlgorithm::Moco => cg.moco_iteration(),
        };
        // Certify from the sketch.
        let early = run
            .deadline()
            .map(|d| d.checked_sub(cert_time).unwrap_or(d));
        let stop = s.common.budget_status(Control::Continue, early, cg.iters);
        if cg.iters >= next_check || stop.is_some() {
            next_check = cg.iters + s.check_every.max(cg.iters / 10);
            let t = std::time::Instant::now();
            cg.certify();
            cert_time = cert_time.max(2 * t.elapsed());
        }
        let gap = (cg.best_bound - cg.best_primal) / cg.best_bound.abs().max(1.0);
        let ctl = run.report(&IterRecord {
            iteration: cg.iters,
            elapsed: run.elapsed(),
            best: cg.best_primal,
            current: cg.best_primal,
            bound: Some(cg.best_bound),
            residual: Some(gap),
            improved: true,
            extra: &[("infeasibility", res2.sqrt() * n as f64)],
        });
        if gap <= s.tol {
            break Status::Converged;
        }
        // (`stop`: the budget against the early deadline, after the final certificate.)
        if let Some(st) = stop.or_else(|| run.budget(ctl, cg.iters)) {
            break st;
        }
    };
    let Cgal {
        best_bound,
        best_primal,
        best_factor,
        best_dual,
        eig_residual,
        matvecs,
        iters,
        ..
    } = cg;
    // (No trials, or no factor yet: no cut, value NaN.)
    let trials = if best_primal.is_finite() {
        s.rounding_trials
    } else {
        0
    };
    let budget = run.clock();
    let (cut, cut_value) =
        pool.install(|| round_cut(p, &best_factor, r, trials, s.common.seed, &budget));
    let gap = (best_bound - best_primal) / best_bound.abs().max(1.0);
    let residuals = MaxCutSdpResiduals {
        relative_gap: gap,
        eigen_residual: eig_residual,
    };
    let stats = MaxCutSdpStats {
        cut_value,
        rank: r,
        sweeps: None,
        newton_steps: None,
        lanczos_matvecs: matvecs,
        lambda_max: None,
        upper_bound: best_bound,
        storage: Some("nystrom-sketch".into()),
    };
    let solution = MaxCutSdpSolution {
        rank: r,
        factor: best_factor,
        dual: best_dual,
        cut,
        cut_value,
    };
    Ok(run.finish(
        End::new(status, solution, best_primal, residuals, stats)
            .bound(Some(best_bound))
            .iterations(iters)
            .backend(BackendReport::cpu_only(s.common.backend, name)),
    ))
}

/// CGAL on the MaxCut SDP between two iterations: the implicit primal (diag `z`, the objective
/// and the Nyström sketch), the dual and its smoothed copy, and the certified bests.
struct Cgal<'a> {
    p: &'a MaxCutSdp,
    s: &'a SketchSettings,
    pool: &'a rayon::ThreadPool,
    n: usize,
    r: usize,
    /// `‖L/4‖_F`, the scale of the normalised objective.
    c_norm: f64,
    maxdeg: f64,
    omega: Vec<f64>,
    sk: Vec<f64>,
    z: Vec<f64>,
    y: Vec<f64>,
    v: Vec<f64>,
    w: Vec<f64>,
    y_orig: Vec<f64>,
    yd: Vec<f64>,
    /// `⟨C̃, X̃⟩` of the (implicit) iterate.
    obj: f64,
    u_omega: Vec<f64>,
    q_prev: Option<Vec<f64>>,
    best_bound: f64,
    best_dual: Vec<f64>,
    best_primal: f64,
    best_factor: Vec<f64>,
    iters: u64,
    matvecs: usize,
    eig_residual: f64,
    /// `√p` of the preconditioner `P = Diag(p)` (all ones without one).
    sqrt_p: Vec<f64>,
    /// `Σp` (`n` without a preconditioner): `⟨P, X⟩` on the feasible set.
    p_sum: f64,
    /// MOCO: `X = αV` with `⟨P, V⟩ = 1` (`z` holds `diag V`, `obj` `¼⟨L, V⟩`, `sk` `VΩ`).
    alpha: f64,
    /// MOCO: iterations since the last multiplier update (the momentum restarts there).
    inner: u64,
    /// MOCO: the fixed penalty `β` of the augmented Lagrangian.
    beta: f64,
    /// MOCO: multiplier updates so far.
    outer_updates: u64,
    /// MOCO: the dual infeasibility `Σp · max(0, λ_max)` of the momentum at the last multiplier
    /// update (the next one waits for it to shrink).
    last_infeas: f64,
}

impl<'a> Cgal<'a> {
    fn new(p: &'a MaxCutSdp, s: &'a SketchSettings, pool: &'a rayon::ThreadPool, r: usize) -> Self {
        let n = p.n();
        // ‖L/4‖_F = ¼ √(Σ deg² + Σ_{i≠j} w_ij²).
        let (ptr, _, val) = p.graph().csr();
        let mut fro2: f64 = p.degrees().iter().map(|d| d * d).sum();
        fro2 += val[..ptr[n]].iter().map(|w| w * w).sum::<f64>();
        let mut rng = stream_rng(s.common.seed, 0x5DB, 0);
        let omega: Vec<f64> = (0..n * r)
            .map(|_| StandardNormal.sample(&mut rng))
            .collect();
        let sqrt_p = super::maxcut::degree_scaling(p, s.precondition);
        let p_sum = sqrt_p.iter().map(|x| x * x).sum();
        Cgal {
            p,
            s,
            pool,
            n,
            r,
            c_norm: (0.25 * fro2.sqrt()).max(f64::MIN_POSITIVE),
            maxdeg: p.degrees().iter().fold(0.0f64, |m, d| m.max(d.abs())),
            omega,
            sk: vec![0.0; n * r],
            z: vec![0.0; n],
            y: vec![0.0; n],
            v: vec![0.0; n],
            w: vec![0.0; n],
            y_orig: vec![0.0; n],
            yd: vec![0.0; n],
            obj: 0.0,
            u_omega: vec![0.0; r],
            q_prev: None,
            best_bound: f64::INFINITY,
            best_dual: vec![0.0; n],
            best_primal: f64::NEG_INFINITY,
            best_factor: vec![0.0; n * r],
            iters: 0,
            matvecs: 0,
            eig_residual: f64::NAN,
            sqrt_p,
            p_sum,
            alpha: 0.0,
            inner: 0,
            // β₀ × the RMS row norm of L/4 (≈ mean degree / 4 on unit weights), at least β₀.
            beta: s.beta0 * (0.25 * fro2.sqrt() / (n as f64).sqrt()).max(1.0),
            outer_updates: 0,
            last_infeas: f64::INFINITY,
        }
    }

    /// The certified upper bound of a dual candidate `yd` (original scale): one Lanczos run on
    /// `P^{-1/2}(L/4 − Diag(yd))P^{-1/2}`; returns (bound `Σyd + Σp · max(0, λ̄)`, eigenpair,
    /// `λ̄ = θ + ‖r‖`).
    /// `scaled = false` drops `P` (CGAL's oracle: its slice is `tr X = n`).
    fn bound_of(
        &self,
        yd: &[f64],
        start: Option<&[f64]>,
        (tol, max_matvecs, seed): (f64, usize, u64),
        scaled: bool,
    ) -> (f64, crate::linalg::lanczos::EigenPair, f64) {
        let scaled = scaled && self.s.precondition;
        let pmin = if scaled {
            self.sqrt_p.iter().fold(f64::INFINITY, |m, x| m.min(x * x))
        } else {
            1.0
        };
        let scale = (self.maxdeg * 0.5 + yd.iter().fold(0.0f64, |m, x| m.max(x.abs()))) / pmin;
        let ls = LanczosSettings {
            tol,
            scale,
            max_basis: self.s.lanczos_basis.max(4),
            max_matvecs,
            seed,
        };
        let (p, sp) = (self.p, &self.sqrt_p);
        let mut tmp = vec![0.0; if scaled { self.n } else { 0 }];
        let eig = self.pool.install(|| {
            largest_eigenpair(
                self.n,
                |x, out| {
                    if !scaled {
                        return p.apply_shifted(yd, 0.0, x, out);
                    }
                    for ((t, xi), si) in tmp.iter_mut().zip(x).zip(sp) {
                        *t = xi / si;
                    }
                    p.apply_shifted(yd, 0.0, &tmp, out);
                    for (o, si) in out.iter_mut().zip(sp) {
                        *o /= si;
                    }
                },
                start,
                &ls,
            )
        });
        let lam = eig.value + eig.residual;
        let trace = if scaled { self.p_sum } else { self.n as f64 };
        let bound = yd.iter().sum::<f64>() + trace * lam.max(0.0);
        (bound, eig, lam)
    }

    /// The eigen-oracle on `y_orig`: the CGAL paper's accuracy schedule, `⌈t^{1/4} ln n⌉`
    /// Lanczos steps (a few more for the restarts), warm-started, tolerance 1e-3. Good for the
    /// direction, not trusted for the bound (a warm start can hide the top eigenvector): bounds
    /// come from [`Cgal::certify`]. Returns the eigenpair and `λ̄ = θ + ‖r‖`.
    fn oracle(&mut self, scaled: bool) -> (crate::linalg::lanczos::EigenPair, f64) {
        let t = self.iters as f64 + 1.0;
        let budget = (t.powf(0.25) * (self.n as f64).ln().max(1.0)).ceil() as usize + 8;
        let (_, eig, lam) = self.bound_of(
            &self.y_orig,
            self.q_prev.as_deref(),
            (1e-3, budget, self.s.common.seed ^ self.iters),
            scaled,
        );
        self.matvecs += eig.matvecs;
        (eig, lam)
    }

    /// One CGAL iteration: the eigen-oracle on the (smoothed) dual, the rank-one primal step
    /// with CD's line search, the sketch update and the dual step. Returns `‖z − b‖²`.
    fn iteration(&mut self) -> f64 {
        let s = self.s;
        let nf = self.n as f64;
        let b = 1.0 / nf;
        let t = self.iters as f64 + 1.0;
        let beta = s.beta0 * (t + 1.0).sqrt();
        let eta = 2.0 / (t + 1.0);
        for ((vi, yi), zi) in self.v.iter_mut().zip(&self.y).zip(&self.z) {
            *vi = yi + beta * (zi - b);
        }
        self.w.copy_from_slice(&self.v);
        // Oracle on C̃ + Diag(w) = −(L/4 − Diag(c_norm w))/c_norm: the top eigenvector of
        // L/4 − Diag(y') with y' = c_norm w; its eigenvalue certifies Σy' + n·max(0, λ).
        for (yo, wi) in self.y_orig.iter_mut().zip(&self.w) {
            *yo = self.c_norm * wi;
        }
        let (eig, _) = self.oracle(false);
        let u = &eig.vector;
        let un = u
            .iter()
            .map(|x| x * x)
            .sum::<f64>()
            .sqrt()
            .max(f64::MIN_POSITIVE);
        // CD's line search: the augmented Lagrangian along (1 − η)X̃ + η ûûᵀ is a quadratic
        // in η (z and ⟨C̃, X̃⟩ are affine), minimised in closed form over [0, 1].
        let c_u = -(eig.value
            + self
                .y_orig
                .iter()
                .zip(u)
                .map(|(yo, ui)| yo * (ui / un) * (ui / un))
                .sum::<f64>())
            / self.c_norm;
        let eta = if s.line_search {
            let (mut slope, mut curv) = (c_u - self.obj, 0.0);
            for ((zi, yi), ui) in self.z.iter().zip(&self.y).zip(u) {
                let dz = (ui / un) * (ui / un) - zi;
                slope += (yi + beta * (zi - b)) * dz;
                curv += beta * dz * dz;
            }
            let e = if curv > 0.0 { -slope / curv } else { 0.0 };
            if e > 1e-12 { e.min(1.0) } else { eta }
        } else {
            eta
        };
        self.obj = (1.0 - eta) * self.obj + eta * c_u;
        for (zi, ui) in self.z.iter_mut().zip(u) {
            let uu = ui / un;
            *zi = (1.0 - eta) * *zi + eta * uu * uu;
        }
        // The sketch of the rank-one step: X̃Ω ← (1 − η)X̃Ω + η û(ûᵀΩ).
        let r = self.r;
        self.u_omega.fill(0.0);
        for (ui, oi) in u.iter().zip(self.omega.chunks(r)) {
            for (a, o) in self.u_omega.iter_mut().zip(oi) {
                *a += ui / un * o;
            }
        }
        let u_omega = &self.u_omega;
        self.sk
            .par_chunks_mut(r)
            .zip(u.par_iter())
            .with_min_len(1024)
            .for_each(|(si, ui)| {
                let c = eta * ui / un;
                for (sv, uo) in si.iter_mut().zip(u_omega) {
                    *sv = (1.0 - eta) * *sv + c * uo;
                }
            });
        // Dual step.
        let res2: f64 = self.z.iter().map(|zi| (zi - b) * (zi - b)).sum();
        let beta_next = s.beta0 * (t + 2.0).sqrt();
        let gamma = if res2 > 0.0 {
            s.beta0.min(4.0 * beta_next * eta * eta / res2)
        } else {
            s.beta0
        };
        for (yi, zi) in self.y.iter_mut().zip(&self.z) {
            *yi += gamma * (zi - b);
        }
        self.q_prev = Some(eig.vector);
        self.iters += 1;
        res2
    }

    /// Reconstruct a factor from the sketch (its rounded primal value) and certify two dual
    /// candidates, the oracle's `y'` and the estimate of `X̂`, each by a Lanczos run from a
    /// random start to a tolerance well below the gap (1e-8 relative: a loose run can stop on
    /// a lower eigenvalue whose Ritz residual is already small, and understate `λ_max`).
    fn certify(&mut self) {
        let (n, r, p, s) = (self.n, self.r, self.p, self.s);
        let (sk, omega) = (&self.sk, &self.omega);
        let mut f = self.pool.install(|| nystrom_factor(sk, omega, n, r));
        for row in f.chunks_mut(r) {
            if row.iter().all(|x| *x == 0.0) {
                row[0] = 1.0;
            }
        }
        normalise_rows(&mut f, r);
        let yd = &mut self.yd;
        let primal = self.pool.install(|| dual_estimate(p, &f, r, yd));
        if primal > self.best_primal {
            self.best_primal = primal;
            self.best_factor.copy_from_slice(&f);
        }
        let tol = 1e-8;
        for (use_yd, salt) in [(false, 0xC1u64), (true, 0xC0)] {
            let cap = 50 * s.lanczos_basis.max(4);
            let cand = if use_yd { &self.yd } else { &self.y_orig };
            let (bd, eig2, lam2) = self.bound_of(
                cand,
                None,
                (tol, cap, s.common.seed ^ self.iters ^ salt),
                true,
            );
            self.matvecs += eig2.matvecs;
            self.eig_residual = eig2.residual;
            if bd < self.best_bound {
                self.best_bound = bd;
                let cand = if use_yd { &self.yd } else { &self.y_orig };
                let scaled = s.precondition;
                for ((d, yv), si) in self.best_dual.iter_mut().zip(cand.iter()).zip(&self.sqrt_p) {
                    *d = yv + lam2.max(0.0) * if scaled { si * si } else { 1.0 };
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A PSD matrix of rank k < R is recovered exactly from its sketch.
    #[test]
    fn nystrom_recovers_low_rank_matrices() {
        let (n, k, r) = (40, 4, 7);
        let mut rng = stream_rng(5, 1, 0);
        let mut g = || -> f64 { StandardNormal.sample(&mut rng) };
        let gm: Vec<f64> = (0..n * k).map(|_| g()).collect();
        let omega: Vec<f64> = (0..n * r).map(|_| g()).collect();
        let x = |i: usize, j: usize| -> f64 { (0..k).map(|c| gm[i * k + c] * gm[j * k + c]).sum() };
        let mut s = vec![0.0; n * r];
        for i in 0..n {
            for a in 0..r {
                s[i * r + a] = (0..n).map(|j| x(i, j) * omega[j * r + a]).sum();
            }
        }
        let f = nystrom_factor(&s, &omega, n, r);
        let scale = (0..n).map(|i| x(i, i)).fold(0.0, f64::max);
        for i in 0..n {
            for j in 0..n {
                let fij: f64 = (0..r).map(|c| f[i * r + c] * f[j * r + c]).sum();
                assert!(
                    (fij - x(i, j)).abs() <= 1e-9 * scale,
                    "({i},{j}): {fij} vs {}",
                    x(i, j)
                );
            }
        }
    }
}
