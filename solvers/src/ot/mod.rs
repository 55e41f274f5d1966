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
//! * [`sinkhorn`]: stabilised Sinkhorn (scalings on a kernel whose large factors are absorbed
//!   into log-domain potentials), the baseline.
//! * [`sns`]: Sinkhorn–Newton–Sparse (Tang et al., ICLR 2024): a Sinkhorn stage, then Newton
//!   steps on the dual with an adaptively sparsified Hessian, solved by preconditioned CG.

#[cfg(feature = "cuda")]
pub mod gpu;
#[cfg(feature = "cuda")]
pub mod gpu_checks;
pub mod sinkhorn;
pub mod sns;

use crate::core::{Common, SolveError};
use mathprog_problems::ot::OtProblem;
use serde::{Deserialize, Serialize};

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
    /// Newton stage of SNS.
    pub sns: SnsParams,
}

impl Default for OtSettings {
    /// `reg = 1e-2`, `tol = 1e-8`, absorption at `|log u| > 30`.
    fn default() -> Self {
        OtSettings {
            common: Common::default(),
            reg: 1e-2,
            tol: 1e-8,
            absorb_threshold: 30.0,
            sns: SnsParams::default(),
        }
    }
}

impl OtSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.common.validate()?;
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
    /// Row potentials (`−∞` for rows of zero weight).
    pub f: Vec<f64>,
    /// Column potentials (`−∞` for columns of zero weight).
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

/// The report shared by the OT solvers: objective = entropic objective, bound = dual value,
/// residual `marginal_l1`, and the statistics `transport_cost`, `dual_value`, `reg` plus the
/// solver's own `stats`.
#[allow(clippy::too_many_arguments)]
pub(crate) fn ot_report(
    algorithm: &str,
    status: crate::core::Status,
    solution: OtSolution,
    vals: OtValues,
    iterations: u64,
    elapsed: f64,
    common: &Common,
    mut stats: std::collections::BTreeMap<String, serde_json::Value>,
    backend: crate::linalg::backend::BackendReport,
) -> crate::core::Report<OtSolution> {
    let mut residuals = std::collections::BTreeMap::new();
    residuals.insert("marginal_l1".into(), vals.marginal_violation);
    stats.insert("transport_cost".into(), vals.transport_cost.into());
    stats.insert("dual_value".into(), vals.dual_value.into());
    stats.insert("reg".into(), solution.reg.into());
    crate::core::Report {
        algorithm: algorithm.into(),
        problem: "ot".into(),
        status,
        objective: vals.entropic_objective,
        sense: mathprog_problems::binary::Sense::Minimize,
        bound: Some(vals.dual_value),
        solution,
        residuals,
        iterations,
        elapsed,
        time_to_best: Some(elapsed),
        seed: common.seed,
        threads: common.resolved_threads(),
        stats,
        backend,
    }
}
