//! Semidefinite programming by conic descent.
//!
//! * [`maxcut`]: the MaxCut SDP with a certified upper bound (factored conic descent with
//!   greedy row updates, a Lanczos eigen-oracle and eigenvector rank steps) and
//!   Goemans–Williamson rounding.
//! * [`alm`]: general block SDPs by an augmented-Lagrangian outer loop around factored conic
//!   descent.
//! * [`sketchy`]: the MaxCut SDP in `O(n R)` memory (CGAL-type conic descent on a Nyström
//!   sketch).
//! * [`solve`]: standard-form SDPs, the method from [`alm::AlmSettings::method`]
//!   ([`SdpMethod`]; by default MaxCut-type SDPs go to [`maxcut`]).

pub mod alm;
mod dd;
#[cfg(feature = "cuda")]
pub mod gpu;
#[cfg(feature = "gpu-checks")]
pub mod gpu_checks;
pub mod ipm;
pub mod maxcut;
mod maxcut_newton;
pub mod sketchy;

use crate::core::{Observer, Report, SolveError};
use crate::linalg::lanczos::{LanczosSettings, largest_eigenpair};
use mathprog_problems::graph::Graph;
use mathprog_problems::sdp::{Block, MaxCutSdp, SdpProblem};
use serde::{Deserialize, Serialize};

/// How [`solve`] treats a standard-form SDP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[non_exhaustive]
pub enum SdpMethod {
    /// MaxCut-type SDPs (`X_ii = 1` only, one dense block) by [`maxcut`] with its certified
    /// bound; others by [`ipm`] when small or medium ([`auto_choice`]), else by [`alm`].
    #[default]
    Auto,
    /// Always the low-rank augmented Lagrangian ([`alm`]).
    #[cfg_attr(feature = "clap", value(name = "low-rank"))]
    Alm,
    /// Always the primal–dual interior-point method ([`ipm`]).
    Ipm,
}

/// The automatic choice for a standard-form SDP that is not MaxCut-type. The low-rank path
/// when the problem is large (`m` above [`IPM_MAX_M`] or a dense block above
/// [`IPM_MAX_BLOCK`]), or is one dense block whose solutions have low rank by the
/// Barvinok–Pataki bound (`√(2m) < n/4`, `n ≥ 100`: gpp-type); otherwise the interior-point
/// method, whose `O(m³ + m Σ n_k³)` iterations are cheap there and which copes with the small,
/// ill-conditioned classes (control, hinf, qap, arch, truss) where first-order methods stall.
/// Returns the choice and its reason.
pub fn auto_choice(p: &SdpProblem) -> (SdpMethod, String) {
    let m = p.num_constraints();
    let dense: Vec<usize> = p
        .blocks()
        .iter()
        .filter_map(|b| match b {
            Block::Dense(n) => Some(*n),
            Block::Diagonal(_) => None,
        })
        .collect();
    let dense_max = dense.iter().copied().max().unwrap_or(0);
    let single = p.blocks().len() == 1 && dense.len() == 1;
    let rank_bound = (2.0 * m as f64).sqrt();
    if m > IPM_MAX_M || dense_max > IPM_MAX_BLOCK {
        let why = format!(
            "auto: m = {m}, largest dense block {dense_max} (above {IPM_MAX_M} or \
             {IPM_MAX_BLOCK}): low-rank augmented Lagrangian"
        );
        return (SdpMethod::Alm, why);
    }
    if single && dense_max >= 100 && rank_bound < dense_max as f64 / 4.0 {
        let why = format!(
            "auto: one dense block of {dense_max} with m = {m} (solutions of rank <= \
             {rank_bound:.0}): low-rank augmented Lagrangian"
        );
        return (SdpMethod::Alm, why);
    }
    (
        SdpMethod::Ipm,
        format!("auto: m = {m}, largest dense block {dense_max}: interior point"),
    )
}

/// Largest `m` the automatic choice gives the interior-point method.
pub const IPM_MAX_M: usize = 2000;
/// Largest dense block the automatic choice gives the interior-point method.
pub const IPM_MAX_BLOCK: usize = 500;

/// Residuals of a MaxCut SDP solve ([`maxcut`], [`sketchy`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct MaxCutSdpResiduals {
    /// Certified relative gap `(upper − lower) / max(1, |upper|)`.
    pub relative_gap: f64,
    /// Residual `‖S q − λ q‖` of the last eigen-oracle call.
    pub eigen_residual: f64,
}

/// Statistics of a MaxCut SDP solve; `sweeps` and `lambda_max` are [`maxcut`]'s, `storage`
/// [`sketchy`]'s (absent from the JSON when `None`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MaxCutSdpStats {
    /// Value of the Goemans–Williamson cut (NaN without rounding).
    pub cut_value: f64,
    /// Rank of the returned factor.
    pub rank: usize,
    /// Greedy coordinate sweeps.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub sweeps: Option<u64>,
    /// Riemannian Newton steps of the endgame (factored mode).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub newton_steps: Option<u64>,
    /// Lanczos matrix-vector products.
    pub lanczos_matvecs: usize,
    /// Last eigen-oracle value `λ_max(L/4 − Diag(ȳ))`.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub lambda_max: Option<f64>,
    /// The certified upper bound (the report's bound).
    pub upper_bound: f64,
    /// What the primal storage is (`"nystrom-sketch"`).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub storage: Option<String>,
}

/// The report of a MaxCut SDP solve.
pub type MaxCutSdpReport = Report<maxcut::MaxCutSdpSolution, MaxCutSdpResiduals, MaxCutSdpStats>;

/// Residuals of a standard-form SDP solve, scaled as in SDPLIB's DIMACS measures.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SdpResiduals {
    /// `‖A(X) − b‖₂ / (1 + ‖b‖₂)`.
    pub primal_infeasibility: f64,
    /// `max(0, −λ_min(C − Aᵀy)) / (1 + ‖C‖_F)`.
    pub dual_infeasibility: f64,
    /// `|⟨C, X⟩ − bᵀy| / (1 + |⟨C, X⟩| + |bᵀy|)`.
    pub relative_gap: f64,
}

/// Statistics of a standard-form SDP solve: the method used, the dual value, and the method's
/// own counters (flattened into the JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SdpStats {
    /// `"alm-cd"` or `"maxcut-cd"`.
    pub method: String,
    /// `bᵀy`.
    pub dual_value: f64,
    /// The augmented Lagrangian's counters.
    #[serde(flatten, default)]
    pub alm: Option<AlmStats>,
    /// The MaxCut solver's counters (MaxCut-type SDPs).
    #[serde(flatten, default)]
    pub maxcut: Option<MaxCutSdpStats>,
    /// The interior-point method's counters.
    #[serde(flatten, default)]
    pub ipm: Option<ipm::IpmStats>,
    /// Which path [`solve`] took and why.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub choice: Option<String>,
}

/// Counters of [`alm`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlmStats {
    /// Smallest eigenvalue of the dual slack over all blocks.
    pub min_slack_eigenvalue: f64,
    /// Inner (L-BFGS) iterations.
    pub inner_iterations: u64,
    /// The final penalty parameter σ.
    pub sigma: f64,
    /// Constraints removed by facial reduction.
    pub facially_reduced: usize,
    /// Final rank of each block's factor.
    pub ranks: Vec<usize>,
}

/// The report of a standard-form SDP solve.
pub type SdpReport = Report<alm::SdpSolution, SdpResiduals, SdpStats>;

/// An SDP recognised as a MaxCut SDP: `min ⟨C, X⟩ s.t. X_ii = 1` on one dense block.
struct MaxCutForm {
    /// The graph with `w_ij = 4 C_ij` (`i ≠ j`).
    sdp: MaxCutSdp,
    /// `K = ¼ Σ deg + Σ C_ii`: `min ⟨C, X⟩ = K − max ¼⟨L_w, X⟩`.
    offset: f64,
    /// `c_i + deg_i / 4` (the dual map `y_i = (c_i + deg_i/4 − y^mc_i) / v_i`).
    shift: Vec<f64>,
    /// The scale `v_i` of constraint `i` (`A_i = v_i e_i e_iᵀ`, `b_i = v_i`), in vertex order.
    scale: Vec<f64>,
    /// Vertex of constraint `i`.
    vertex: Vec<usize>,
}

/// Recognise `min ⟨C, X⟩ s.t. X_ii = 1 (i = 1..n), X ⪰ 0` on a single dense block, with each
/// constraint given as `v_i X_ii = v_i` in any order (SDPLIB's `mcp*` and `maxG*`).
fn maxcut_form(p: &SdpProblem) -> Option<MaxCutForm> {
    let [Block::Dense(n)] = p.blocks() else {
        return None;
    };
    let n = *n;
    if p.num_constraints() != n {
        return None;
    }
    let mut seen = vec![false; n];
    let mut scale = vec![0.0; n];
    let mut vertex = vec![0; n];
    for (k, (a, b)) in p.a().iter().zip(p.b()).enumerate() {
        let [e] = a.entries() else {
            return None;
        };
        if e.i != e.j || seen[e.i] || e.v == 0.0 || (b / e.v - 1.0).abs() > 1e-14 {
            return None;
        }
        seen[e.i] = true;
        scale[e.i] = e.v;
        vertex[k] = e.i;
    }
    let mut diag = vec![0.0; n];
    let mut edges = Vec::new();
    for e in p.c().entries() {
        if e.i == e.j {
            diag[e.i] += e.v;
        } else {
            edges.push((e.i, e.j, 4.0 * e.v));
        }
    }
    let g = Graph::from_edges(n, &edges).ok()?;
    let sdp = MaxCutSdp::new(g);
    let deg = sdp.degrees();
    let offset = 0.25 * deg.iter().sum::<f64>() + diag.iter().sum::<f64>();
    let shift = diag.iter().zip(deg).map(|(c, d)| c + 0.25 * d).collect();
    Some(MaxCutForm {
        sdp,
        offset,
        shift,
        scale,
        vertex,
    })
}

/// Solve a standard-form SDP with the method of `s.method`: under [`SdpMethod::Auto`]
/// MaxCut-type SDPs (`X_ii = 1` constraints only, one dense block) go to [`maxcut::solve`]
/// with its certified bound, the others to [`ipm::solve`] or [`alm::solve`] by
/// [`auto_choice`]. The report has the shape of [`alm::solve`]'s (for a MaxCut-type SDP with
/// the real infeasibilities of the mapped primal and dual); `stats.method` names the method
/// used and `stats.choice` why.
///
/// ```
/// use mathprog_problems::sdp::{Block, Entry, SdpProblem, SymBlockMatrix};
/// use mathprog_solvers::core::{NoObserver, Status};
/// use mathprog_solvers::sdp::{alm::AlmSettings, solve};
/// // min X_11 + 2 X_22 s.t. X_11 + X_22 = 1, X ⪰ 0: the optimum is 1 (X = e1 e1ᵀ).
/// let blocks = vec![Block::Dense(2)];
/// let e = |i, j, v| Entry { block: 0, i, j, v };
/// let c = SymBlockMatrix::new(&blocks, vec![e(0, 0, 1.0), e(1, 1, 2.0)]).unwrap();
/// let a = SymBlockMatrix::new(&blocks, vec![e(0, 0, 1.0), e(1, 1, 1.0)]).unwrap();
/// let p = SdpProblem::new(blocks, c, vec![a], vec![1.0]).unwrap();
/// let r = solve(&p, &AlmSettings::default(), &mut NoObserver).unwrap();
/// assert_eq!(r.status, Status::Converged);
/// assert!((r.objective - 1.0).abs() < 1e-5);
/// assert!(r.residuals.primal_infeasibility <= 1e-6);
/// assert_eq!(r.stats.method, "ipm-hkm"); // small: the interior-point method
/// ```
pub fn solve(
    p: &SdpProblem,
    s: &alm::AlmSettings,
    observer: &mut dyn Observer,
) -> Result<SdpReport, SolveError> {
    let form = match s.method {
        SdpMethod::Auto => maxcut_form(p),
        _ => None,
    };
    let Some(mc) = form else {
        let (method, why) = match s.method {
            SdpMethod::Auto => auto_choice(p),
            m => (m, "requested".to_string()),
        };
        let mut r = if method == SdpMethod::Ipm {
            // (The reported dual infeasibility, from λ_min(C − A*(y)), is at most the IPM's
            // ‖R_d‖ measure: the same tolerance suffices.)
            let mut is = ipm::IpmSettings {
                common: s.common.clone(),
                tol: s.tol,
                precision: s.ipm_precision,
                ..Default::default()
            };
            is.common.max_iter = s.common.max_iter.or(Some(100));
            ipm::solve(p, &is, observer)?
        } else {
            alm::solve(p, s, observer)?
        };
        r.stats.choice = Some(why);
        return Ok(r);
    };
    let ms = maxcut::MaxCutSdpSettings {
        common: s.common.clone(),
        tol: s.tol,
        rank: s.rank,
        rounding_trials: 0,
        ..Default::default()
    };
    let r = maxcut::solve(&mc.sdp, &ms, observer)?;
    Ok(lift_maxcut(p, &mc, r))
}

/// A MaxCut-form solve mapped back to the standard form `min ⟨C, X⟩ = K − (MaxCut SDP value)`,
/// with the primal and dual infeasibilities of the mapped pair measured as [`alm`] measures
/// them.
fn lift_maxcut(p: &SdpProblem, mc: &MaxCutForm, r: MaxCutSdpReport) -> SdpReport {
    let objective = mc.offset - r.objective;
    let lower = r.bound.map(|u| mc.offset - u);
    let n = mc.sdp.n();
    let rank = r.solution.rank;
    let factor = &r.solution.factor;
    // Primal: A_i(X) − b_i = v_i (‖row_i‖² − 1).
    let pres: f64 = (0..n)
        .map(|v| {
            let row = &factor[v * rank..(v + 1) * rank];
            let d = mc.scale[v] * (row.iter().map(|x| x * x).sum::<f64>() - 1.0);
            d * d
        })
        .sum();
    let b_norm = p.b().iter().map(|b| b * b).sum::<f64>().sqrt();
    // Dual: the slack C − Aᵀy is −(L/4 − Diag(y_mc)), so its smallest eigenvalue is
    // −λ_max(L/4 − Diag(y_mc)), measured once more on the returned dual.
    let dual = &r.solution.dual;
    let ls = LanczosSettings {
        tol: 1e-10,
        scale: 1.0
            + mc.sdp.degrees().iter().fold(0.0f64, |m, d| m.max(d.abs()))
            + dual.iter().fold(0.0f64, |m, d| m.max(d.abs())),
        max_basis: 64,
        max_matvecs: 3000,
        seed: r.seed,
    };
    let eig = largest_eigenpair(
        n,
        |x, out| mc.sdp.apply_shifted(dual, 0.0, x, out),
        None,
        &ls,
    );
    let c_norm = p
        .c()
        .entries()
        .iter()
        .map(|e| {
            if e.i == e.j {
                e.v * e.v
            } else {
                2.0 * e.v * e.v
            }
        })
        .sum::<f64>()
        .sqrt();
    let residuals = SdpResiduals {
        primal_infeasibility: pres.sqrt() / (1.0 + b_norm),
        dual_infeasibility: eig.value.max(0.0) / (1.0 + c_norm),
        relative_gap: r.residuals.relative_gap,
    };
    let y: Vec<f64> = mc
        .vertex
        .iter()
        .map(|&v| (mc.shift[v] - dual[v]) / mc.scale[v])
        .collect();
    let mut out = r.map(
        |sol| alm::SdpSolution {
            factors: vec![(sol.rank, sol.factor)],
            y,
        },
        |_| residuals,
        |x| SdpStats {
            method: "maxcut-cd".into(),
            dual_value: lower.unwrap_or(f64::NAN),
            alm: None,
            maxcut: Some(x),
            ipm: None,
            choice: Some("auto: MaxCut-type (X_ii = 1 only, one dense block)".into()),
        },
    );
    out.algorithm = "maxcut-cd".into();
    out.problem = "sdp".into();
    out.sense = mathprog_problems::Sense::Minimize;
    out.objective = objective;
    out.bound = lower;
    out
}
