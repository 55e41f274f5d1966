//! Entropic optimal transport.
//!
//! For weights `a, b` and costs `C`, solve (POT's convention)
//!
//! `min_P ⟨C, P⟩ + reg · Σ_ij P_ij (log P_ij − 1)  s.t.  P1 = a, Pᵀ1 = b`.
//!
//! Its dual is `max_{f,g} ⟨a, f⟩ + ⟨b, g⟩ − reg Σ_ij exp((f_i + g_j − C_ij)/reg)`, and the
//! optimal plan is `P_ij = exp((f_i + g_j − C_ij)/reg)`. Every solver here returns the dual
//! potentials `(f, g)` ([`OtSolution`]); the report carries the entropic objective, the
//! transport cost `⟨C, P⟩`, the dual value and the L1 marginal violation
//! `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of the returned plan.
//!
//! The method is [`OtSettings::method`] ([`OtMethod`]), and [`solve`] is the one entry point:
//!
//! * [`OtMethod::Sinkhorn`] ([`sinkhorn`]): stabilised Sinkhorn (scalings on a kernel whose
//!   large factors are absorbed into log-domain potentials), the baseline.
//! * [`OtMethod::Sns`] ([`sns`], the default): Sinkhorn–Newton–Sparse (Tang et al., ICLR 2024):
//!   a Sinkhorn stage, then Newton steps on the dual with an adaptively sparsified Hessian,
//!   solved by preconditioned CG.
//!
//! ```
//! use mathprog_problems::ot::OtProblem;
//! use mathprog_solvers::core::{NoObserver, Status};
//! use mathprog_solvers::ot::{OtMethod, OtSettings, solve};
//! // Two points each side, costs |i - j|.
//! let p = OtProblem::from_row_major(vec![0.5, 0.5], vec![0.5, 0.5], vec![0.0, 1.0, 1.0, 0.0]).unwrap();
//! let mut s = OtSettings::default();
//! s.reg = 0.05;
//! s.method = OtMethod::Sinkhorn;
//! let r = solve(&p, &s, &mut NoObserver).unwrap();
//! assert_eq!(r.status, Status::Converged);
//! assert!(r.residuals.marginal_l1 <= s.tol);
//! assert!(r.stats.transport_cost < 0.01); // the plan sits on the diagonal
//! ```

pub mod cloud;
#[cfg(feature = "cuda")]
pub mod gpu;
#[cfg(feature = "gpu-checks")]
pub mod gpu_checks;
pub mod sinkhorn;
pub mod sns;

use crate::core::{BackendReport, Common, End, Observer, Report, Run, SolveError, Status};
use mathprog_problems::ot::OtProblem;
use serde::{Deserialize, Serialize};

/// Which OT method [`solve`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum OtMethod {
    /// Sinkhorn–Newton–Sparse: a Sinkhorn stage, then sparse Newton steps.
    #[default]
    Sns,
    /// Stabilised Sinkhorn only.
    Sinkhorn,
}

impl std::str::FromStr for OtMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sns" => Ok(OtMethod::Sns),
            "sinkhorn" => Ok(OtMethod::Sinkhorn),
            _ => Err(format!(
                "unknown OT method '{s}' (expected sns or sinkhorn)"
            )),
        }
    }
}

/// Residuals of an OT solution.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OtResiduals {
    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of the returned plan, recomputed exactly.
    pub marginal_l1: f64,
}

/// Statistics of an OT solve. The SNS-only fields are `None` (and absent from the JSON) for
/// Sinkhorn, the Sinkhorn-only ones for SNS.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct OtStats {
    /// `⟨C, P⟩`.
    pub transport_cost: f64,
    /// The dual value `⟨a, f⟩ + ⟨b, g⟩ − reg Σ P` (the report's bound).
    pub dual_value: f64,
    /// The regularisation.
    pub reg: f64,
    /// Sinkhorn iterations (for SNS: of its first stage).
    pub sinkhorn_iterations: u64,
    /// Absorptions of the scalings into the potentials (Sinkhorn).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub absorptions: Option<u64>,
    /// Seconds of set-up: buffers (a GPU upload), log-domain start, first kernel (Sinkhorn).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub setup_seconds: Option<f64>,
    /// The Newton stage's counters and timers (SNS).
    #[serde(flatten, default)]
    pub sns: Option<SnsStats>,
    /// The point-cloud solver's counters, timers and peak memory ([`cloud`]).
    #[serde(flatten, default)]
    pub cloud: Option<cloud::CloudStats>,
}

/// The Newton stage of SNS, flattened into [`OtStats`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct SnsStats {
    /// Newton steps.
    pub newton_steps: u64,
    /// Sinkhorn iterations after a stalled Newton stage.
    pub fallback_sinkhorn_iterations: u64,
    /// CG iterations, all steps.
    pub cg_iterations: u64,
    /// Line-search trials, all steps.
    pub line_search_trials: u64,
    /// The sparsification's last `δ`.
    pub final_delta: f64,
    /// Mean entries kept per row of the sparsified plan.
    pub mean_kept_per_row: f64,
    /// Seconds in the Sinkhorn stage.
    pub sinkhorn_seconds: f64,
    /// Seconds in passes over the plan.
    pub plan_seconds: f64,
    /// Seconds sparsifying.
    pub sparsify_seconds: f64,
    /// Seconds in CG.
    pub cg_seconds: f64,
}

/// The report of an OT solve.
pub type OtReport = Report<OtSolution, OtResiduals, OtStats>;

/// Solve the entropic OT problem `p` with the method of `settings` (warm-started from
/// `settings.start` when given).
pub fn solve(
    p: &OtProblem,
    settings: &OtSettings,
    observer: &mut dyn Observer,
) -> Result<OtReport, SolveError> {
    settings.validate()?;
    check_scale(p, settings.reg)?;
    let mut report = match settings.method {
        OtMethod::Sinkhorn => sinkhorn::solve(p, settings, observer),
        OtMethod::Sns => sns::solve(p, settings, observer),
    }?;
    finite_potentials(p, &mut report.solution);
    Ok(report)
}

/// Refuse data whose objective cannot be represented: the mass `M = Σa`, `M·max|C|` (the
/// transport cost), `max|C|/reg` (the exponents) and `reg·M·(1 + ln nm)` (the entropy term)
/// must stay below `1e300`.
fn check_scale(p: &OtProblem, reg: f64) -> Result<(), SolveError> {
    const MAX: f64 = mathprog_problems::limits::MAX_MAGNITUDE;
    let mass = p.a().iter().sum::<f64>().max(p.b().iter().sum::<f64>());
    let cmax = p.cost().iter().fold(0.0f64, |m, c| m.max(c.abs()));
    let entropy = reg * mass * (1.0 + ((p.n() as f64) * (p.m() as f64)).ln());
    let bad = |what: String| Err(SolveError::InvalidInput(what));
    // (NaN is outside too.)
    let within = |v: f64| v <= MAX;
    if !within(mass) {
        return bad(format!(
            "the total mass {mass:e} is above {MAX:e}; rescale the weights"
        ));
    }
    if !within(cmax * mass) {
        return bad(format!(
            "mass x largest |cost| = {:e} is above {MAX:e}; rescale the costs or the weights",
            cmax * mass
        ));
    }
    if !within(cmax / reg) {
        return bad(format!(
            "largest |cost| / reg = {:e} is above {MAX:e}; raise reg or rescale the costs",
            cmax / reg
        ));
    }
    if !within(entropy) {
        return bad(format!(
            "reg = {reg:e} makes the entropy term ({entropy:e}) overflow; lower reg"
        ));
    }
    Ok(())
}

/// Replace the `−∞` potentials of zero-weight points by finite ones that keep their plan
/// rows and columns at zero: `f_i = min_j (C_ij − g_j) − 100 reg` (so every
/// `(f_i + g_j − C_ij)/reg ≤ −100`), then the columns likewise against the finite `f`.
/// The dual value is unchanged (those points have weight 0).
fn finite_potentials(p: &OtProblem, sol: &mut OtSolution) {
    let (n, m, c, reg) = (p.n(), p.m(), p.cost(), sol.reg);
    for i in 0..n {
        if sol.f[i].is_finite() {
            continue;
        }
        let low = (0..m)
            .filter(|&j| sol.g[j].is_finite())
            .map(|j| c[i * m + j] - sol.g[j])
            .fold(f64::INFINITY, f64::min);
        sol.f[i] = if low.is_finite() {
            low - 100.0 * reg
        } else {
            0.0
        };
    }
    for j in 0..m {
        if sol.g[j].is_finite() {
            continue;
        }
        let low = (0..n)
            .map(|i| c[i * m + j] - sol.f[i])
            .fold(f64::INFINITY, f64::min);
        sol.g[j] = if low.is_finite() {
            low - 100.0 * reg
        } else {
            0.0
        };
    }
}

/// Parameters of the Newton stage of [`sns`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SnsParams {
    /// Switch from Sinkhorn to Newton once the L1 violation is below this ...
    pub switch_violation: f64,
    /// ... but not before this many Sinkhorn iterations (the paper's N1 = 20) ...
    pub min_sinkhorn: u64,
    /// ... and at the latest after this many.
    pub max_sinkhorn: u64,
    /// Initial sparsification: each row of the plan keeps its largest entries until they
    /// cover a fraction `1 − δ` of the row's mass.
    pub initial_delta: f64,
    /// Smallest `δ` (densest sparsification) the adaptation may reach.
    pub min_delta: f64,
    /// Conjugate-gradient iterations per Newton step.
    pub cg_max_iter: usize,
    /// Backtracking steps of the line search.
    pub line_search_steps: usize,
}

impl Default for SnsParams {
    fn default() -> Self {
        SnsParams {
            switch_violation: 1e-1,
            min_sinkhorn: 20,
            max_sinkhorn: 2000,
            initial_delta: 1e-2,
            min_delta: 1e-9,
            cg_max_iter: 500,
            line_search_steps: 30,
        }
    }
}

/// Settings of the OT solvers.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OtSettings {
    /// Budget, threads, cancellation; `max_iter` bounds the Sinkhorn iterations.
    pub common: Common,
    /// Entropic regularisation `reg > 0` (in the units of the costs).
    pub reg: f64,
    /// Stop when the L1 marginal violation is at most this.
    pub tol: f64,
    /// Absorb the scalings into the potentials when `|log u|` or `|log v|` exceeds this.
    pub absorb_threshold: f64,
    /// The method [`solve`] runs.
    pub method: OtMethod,
    /// Newton stage of SNS.
    pub sns: SnsParams,
    /// The point-cloud solver ([`cloud::solve`]).
    pub cloud: cloud::CloudParams,
    /// Warm start: potentials `(f, g)` of the problem's dimensions (Sinkhorn starts from them;
    /// SNS starts its Sinkhorn stage from them).
    #[serde(skip)]
    pub start: Option<(Vec<f64>, Vec<f64>)>,
}

impl Default for OtSettings {
    /// `reg = 1e-2`, `tol = 1e-8`, absorption at `|log u| > 30`.
    fn default() -> Self {
        OtSettings {
            common: Common::default(),
            reg: 1e-2,
            tol: 1e-8,
            absorb_threshold: 30.0,
            method: OtMethod::default(),
            sns: SnsParams::default(),
            cloud: cloud::CloudParams::default(),
            start: None,
        }
    }
}

impl OtSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
        if let Some((f, g)) = &self.start
            && f.iter().chain(g).any(|v| v.is_nan() || *v == f64::INFINITY)
        {
            return Err(SolveError::InvalidInput(
                "warm-start potentials must not be NaN or +inf".into(),
            ));
        }
        for (name, v) in [
            ("reg", self.reg),
            ("tol", self.tol),
            ("absorb_threshold", self.absorb_threshold),
        ] {
            if !(v.is_finite() && v > 0.0) {
                return Err(SolveError::InvalidInput(format!(
                    "{name} must be a positive number, got {v}"
                )));
            }
        }
        Ok(())
    }
}

/// Dual potentials of an entropic OT solution; the plan is `P_ij = exp((f_i + g_j − C_ij)/reg)`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtSolution {
    /// Row potentials (from [`solve`], a row of zero weight gets a finite potential at least
    /// `100 reg` below every `C_ij − g_j`, so its plan row is below `e^−100`; the exact
    /// potential is `−∞`).
    pub f: Vec<f64>,
    /// Column potentials (zero-weight columns as for `f`).
    pub g: Vec<f64>,
    /// The regularisation.
    pub reg: f64,
}

impl OtSolution {
    /// Plan entry `(i, j)`.
    #[inline]
    pub fn plan_entry(&self, p: &OtProblem, i: usize, j: usize) -> f64 {
        let v = (self.f[i] + self.g[j] - p.cost()[i * p.m() + j]) / self.reg;
        plan_exp(v)
    }

    /// The dense plan, row-major.
    pub fn plan(&self, p: &OtProblem) -> Vec<f64> {
        let m = p.m();
        (0..p.n() * m)
            .map(|k| self.plan_entry(p, k / m, k % m))
            .collect()
    }

    /// The plan entries above `threshold`, as `(row, column, value)` (0-based).
    pub fn plan_sparse(&self, p: &OtProblem, threshold: f64) -> Vec<(usize, usize, f64)> {
        let m = p.m();
        (0..p.n())
            .flat_map(|i| (0..m).map(move |j| (i, j)))
            .filter_map(|(i, j)| {
                let v = self.plan_entry(p, i, j);
                (v > threshold).then_some((i, j, v))
            })
            .collect()
    }
}

/// `exp(x)` for plan and kernel entries: 0 below `x = −60` (`e^−60 ≈ 9e−27`; even 10⁸ such
/// entries change no marginal by more than 1e−18), NaN (from `−∞ + ∞`) as 0. At small `reg`
/// almost every entry of a point-cloud plan is below the cut, so this skips most `exp` calls.
#[inline(always)]
pub(crate) fn plan_exp(x: f64) -> f64 {
    if x > PLAN_CUT { x.exp() } else { 0.0 }
}

/// The cut of [`plan_exp`]; the dense passes use the vectorised
/// [`crate::linalg::vexp::exp_above_sum`] with it.
pub(crate) const PLAN_CUT: f64 = -60.0;

/// Objective values of a solution, computed in one pass over the plan.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OtValues {
    /// `⟨C, P⟩`.
    pub transport_cost: f64,
    /// `⟨C, P⟩ + reg Σ P (log P − 1)` (POT's convention).
    pub entropic_objective: f64,
    /// `⟨a, f⟩ + ⟨b, g⟩ − reg Σ P`; equals the entropic objective at the optimum.
    pub dual_value: f64,
    /// `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁`.
    pub marginal_violation: f64,
}

/// Evaluate a solution exactly: one parallel pass over the plan (never stored), in fixed
/// blocks of 64 rows whose partial sums are added in block order, so the values do not depend
/// on the thread count.
pub fn evaluate(p: &OtProblem, s: &OtSolution) -> OtValues {
    use rayon::prelude::*;
    const BLOCK: usize = 64;
    let (n, m) = (p.n(), p.m());
    struct Part {
        col: Vec<f64>,
        tc: f64,
        ent: f64,
        mass: f64,
        row_viol: f64,
    }
    let parts: Vec<Part> = (0..n.div_ceil(BLOCK))
        .into_par_iter()
        .map(|blk| {
            let mut part = Part {
                col: vec![0.0; m],
                tc: 0.0,
                ent: 0.0,
                mass: 0.0,
                row_viol: 0.0,
            };
            let mut lp = vec![0.0; m];
            let mut pv = vec![0.0; m];
            for i in blk * BLOCK..((blk + 1) * BLOCK).min(n) {
                let c = p.cost_row(i);
                for ((x, gj), cj) in lp.iter_mut().zip(&s.g).zip(c) {
                    *x = (s.f[i] + gj - cj) / s.reg;
                }
                pv.copy_from_slice(&lp);
                let rs = crate::linalg::vexp::exp_above_sum(&mut pv, PLAN_CUT);
                let mut tc = [0.0f64; 4];
                let mut ent = [0.0f64; 4];
                for (k, ((v, l), cj)) in pv.iter().zip(&lp).zip(c).enumerate() {
                    tc[k % 4] += cj * v;
                    ent[k % 4] += if *v > 0.0 { v * (l - 1.0) } else { 0.0 };
                }
                for (colj, v) in part.col.iter_mut().zip(&pv) {
                    *colj += v;
                }
                part.tc += (tc[0] + tc[2]) + (tc[1] + tc[3]);
                part.ent += (ent[0] + ent[2]) + (ent[1] + ent[3]);
                part.mass += rs;
                part.row_viol += (rs - p.a()[i]).abs();
            }
            part
        })
        .collect();
    let mut col = vec![0.0; m];
    let (mut tc, mut ent, mut mass, mut row_viol) = (0.0, 0.0, 0.0, 0.0);
    for part in &parts {
        for (c, v) in col.iter_mut().zip(&part.col) {
            *c += v;
        }
        tc += part.tc;
        ent += part.ent;
        mass += part.mass;
        row_viol += part.row_viol;
    }
    let col_viol: f64 = col.iter().zip(p.b()).map(|(c, b)| (c - b).abs()).sum();
    OtValues {
        transport_cost: tc,
        entropic_objective: tc + s.reg * ent,
        dual_value: weighted_dot(p.a(), &s.f) + weighted_dot(p.b(), &s.g) - s.reg * mass,
        marginal_violation: row_viol + col_viol,
    }
}

/// [`OtValues`] from the plan's reductions computed elsewhere (the GPU): per row `rows =
/// [Σ_j P_ij; Σ_j C_ij P_ij; Σ_j P_ij (log P_ij − 1)]` (three blocks of n) and the column sums
/// `cols`, added here in index order.
#[cfg(feature = "cuda")]
pub(crate) fn values_from_sums(
    p: &OtProblem,
    s: &OtSolution,
    rows: &[f64],
    cols: &[f64],
) -> OtValues {
    let n = p.n();
    let (rs, rest) = rows.split_at(n);
    let (tcs, ents) = rest.split_at(n);
    let tc: f64 = tcs.iter().sum();
    let ent: f64 = ents.iter().sum();
    let mass: f64 = rs.iter().sum();
    let row_viol: f64 = rs.iter().zip(p.a()).map(|(r, a)| (r - a).abs()).sum();
    let col_viol: f64 = cols.iter().zip(p.b()).map(|(c, b)| (c - b).abs()).sum();
    OtValues {
        transport_cost: tc,
        entropic_objective: tc + s.reg * ent,
        dual_value: weighted_dot(p.a(), &s.f) + weighted_dot(p.b(), &s.g) - s.reg * mass,
        marginal_violation: row_viol + col_viol,
    }
}

/// `Σ_i w_i x_i` over the positive weights (potentials of zero-weight rows are `−∞`).
pub(crate) fn weighted_dot(w: &[f64], x: &[f64]) -> f64 {
    w.iter()
        .zip(x)
        .filter(|(wi, _)| **wi > 0.0)
        .map(|(wi, xi)| wi * xi)
        .sum()
}

/// Check that warm-start potentials have the problem's dimensions.
pub(crate) fn check_start(p: &OtProblem, settings: &OtSettings) -> Result<(), SolveError> {
    if let Some((f0, g0)) = &settings.start
        && (f0.len() != p.n() || g0.len() != p.m())
    {
        return Err(SolveError::DimensionMismatch {
            what: "warm-start potentials".into(),
            expected: p.n() + p.m(),
            found: f0.len() + g0.len(),
        });
    }
    Ok(())
}

/// Close an OT run: objective = entropic objective, bound = dual value, residual
/// `marginal_l1`; `stats` gets the transport cost, the dual value and `reg`.
pub(crate) fn finish(
    run: Run<'_>,
    status: Status,
    solution: OtSolution,
    vals: OtValues,
    iterations: u64,
    mut stats: OtStats,
    backend: BackendReport,
) -> OtReport {
    stats.transport_cost = vals.transport_cost;
    stats.dual_value = vals.dual_value;
    stats.reg = solution.reg;
    let residuals = OtResiduals {
        marginal_l1: vals.marginal_violation,
    };
    run.finish(
        End::new(status, solution, vals.entropic_objective, residuals, stats)
            .bound(Some(vals.dual_value))
            .iterations(iterations)
            .backend(backend),
    )
}
