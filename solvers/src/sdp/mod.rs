//! Semidefinite programming by conic descent.
//!
//! * [`maxcut`]: the MaxCut SDP with a certified upper bound (factored conic descent with
//!   greedy row updates, a Lanczos eigen-oracle and eigenvector rank steps) and
//!   Goemans–Williamson rounding.
//! * [`alm`]: general block SDPs by an augmented-Lagrangian outer loop around factored conic
//!   descent.
//! * [`solve`]: picks the method from the structure (MaxCut-type SDPs go to [`maxcut`]).

pub mod alm;
#[cfg(feature = "cuda")]
pub mod gpu;
#[cfg(feature = "cuda")]
pub mod gpu_checks;
pub mod maxcut;
pub mod sketchy;

use crate::core::{Observer, Report, SolveError};
use mathprog_problems::graph::Graph;
use mathprog_problems::sdp::{Block, MaxCutSdp, SdpProblem};

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

/// Solve a standard-form SDP with the best method for its structure: MaxCut-type SDPs
/// (`X_ii = 1` constraints only, one dense block) go to [`maxcut::solve`] with its certified
/// bound, everything else to [`alm::solve`]. The report has the shape of [`alm::solve`]'s;
/// `stats["method"]` names the method used.
pub fn solve(
    p: &SdpProblem,
    s: &alm::AlmSettings,
    observer: &mut dyn Observer,
) -> Result<Report<alm::SdpSolution>, SolveError> {
    let Some(mc) = maxcut_form(p) else {
        let mut r = alm::solve(p, s, observer)?;
        r.stats.insert("method".into(), "alm-cd".into());
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
    // Back to the standard form: min ⟨C, X⟩ = K − (MaxCut SDP value).
    let objective = mc.offset - r.objective;
    let lower = r.bound.map(|u| mc.offset - u);
    let y: Vec<f64> = mc
        .vertex
        .iter()
        .map(|&v| (mc.shift[v] - r.solution.dual[v]) / mc.scale[v])
        .collect();
    let mut stats = r.stats.clone();
    stats.insert("method".into(), "maxcut-cd".into());
    if let Some(l) = lower {
        stats.insert("dual_value".into(), l.into());
    }
    let mut residuals = std::collections::BTreeMap::new();
    residuals.insert("primal_infeasibility".into(), 0.0);
    residuals.insert("dual_infeasibility".into(), 0.0);
    residuals.insert("relative_gap".into(), r.residuals["relative_gap"]);
    Ok(Report {
        algorithm: "maxcut-cd".into(),
        problem: "sdp".into(),
        status: r.status,
        solution: alm::SdpSolution {
            factors: vec![(r.solution.rank, r.solution.factor)],
            y,
        },
        objective,
        sense: mathprog_problems::binary::Sense::Minimize,
        bound: lower,
        residuals,
        iterations: r.iterations,
        elapsed: r.elapsed,
        time_to_best: r.time_to_best,
        seed: r.seed,
        threads: r.threads,
        stats,
        backend: r.backend,
    })
}
