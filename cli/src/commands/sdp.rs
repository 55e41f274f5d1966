//! `solve sdp FILE.dat-s`: a semidefinite program in SDPA sparse format; `solve sdp --maxcut
//! GRAPH`: the MaxCut SDP of a graph with a certified bound.

use super::{CliError, backend_line, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::sdpa::read_sdpa;
use mathprog_solvers::core::Status;
use mathprog_solvers::sdp::alm::AlmSettings;
use mathprog_solvers::sdp::ipm;
use mathprog_solvers::sdp::{SdpMethod, solve};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `solve sdp`.
#[derive(Args, Debug)]
pub struct SdpArgs {
    /// Problem in SDPA sparse format (SDPLIB's `.dat-s`): m, the block structure (negative
    /// sizes: diagonal blocks), c, then `matno blkno i j value` entries of F_0 .. F_m.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Stop when the scaled primal and dual infeasibilities and the relative gap are below T
    /// (default 1e-6; with --maxcut: the certified relative gap, default 1e-4).
    #[arg(long, value_name = "T", value_parser = crate::values::positive)]
    tol: Option<f64>,
    /// Initial rank of the factor of every dense block (default min(n, sqrt(2m) + 1, 64);
    /// eigen steps grow it when the dual slack is not PSD).
    #[arg(long, value_name = "R", value_parser = crate::values::count)]
    rank: Option<usize>,
    /// Memory-efficient mode. With --maxcut: store only diag X, the dual vectors and a
    /// Nystrom sketch of X (O(n R) numbers; CGAL-type conic descent, default --tol 1e-2),
    /// reconstructing a rank-R factor to certify and round. For SDPA files: Lanczos instead
    /// of dense eigendecompositions for the dual certificate, and a shorter L-BFGS memory.
    #[arg(long)]
    memory_efficient: bool,
    /// Sketch size R of --memory-efficient --maxcut.
    #[arg(
        long,
        value_name = "R",
        default_value_t = 10,
        requires = "memory_efficient"
    )]
    sketch_rank: usize,
    /// --maxcut: heavy-ball momentum (MOCO's, delta_k = 2/(k + 2)) on the eigen-oracle's dual
    /// vector (factored mode, or --memory-efficient --sketch-method moco); measured slower,
    /// so off by default.
    #[arg(long, requires = "maxcut")]
    momentum: bool,
    /// --memory-efficient --maxcut: the iteration, cgal (SketchyCGAL) or moco (conic descent
    /// with ray search on an augmented Lagrangian; add --momentum for MOCO's heavy ball).
    #[arg(
        long,
        value_enum,
        default_value = "cgal",
        requires = "memory_efficient"
    )]
    sketch_method: SketchMethodArg,
    /// --maxcut: the dual preconditioner P = Diag(sum_j |w_ij| / mean): eigen-oracle and
    /// certificate on P^-1/2 (L/4 - Diag(y)) P^-1/2, bound sum(y) + sum(p) max(0, lambda).
    #[arg(long, requires = "maxcut")]
    precondition: bool,
    /// Which path solves an SDPA file: auto (MaxCut-type problems by the MaxCut solver,
    /// small and medium ones by the interior-point method, large ones by the low-rank
    /// augmented Lagrangian; the report says which and why), ipm, or low-rank.
    #[arg(long, value_enum, default_value = "auto", conflicts_with = "maxcut")]
    method: mathprog_solvers::sdp::SdpMethod,
    /// Working precision of the interior-point path: auto (double; a run that stalls is
    /// repeated in double-double arithmetic within the remaining time, as SDPA-DD does for
    /// ill-posed problems such as SDPLIB's hinf), double, or double-double.
    #[arg(long, value_enum, default_value = "auto")]
    precision: ipm::Precision,
    /// Limit on outer (multiplier) iterations.
    #[arg(long, value_name = "N")]
    max_iter: Option<u64>,
    /// FILE is a graph (Gset/rudy format): solve its MaxCut SDP `max L/4 . X, diag X = 1`
    /// with a certified upper bound and Goemans-Williamson rounding (default --tol 1e-4).
    #[arg(long)]
    maxcut: bool,
    /// MaxCut: Goemans-Williamson hyperplanes tried.
    #[arg(long, value_name = "K", default_value_t = 64, requires = "maxcut")]
    gw_trials: usize,
}

/// The iteration of `--memory-efficient --maxcut`.
#[derive(clap::ValueEnum, Clone, Copy, Debug)]
enum SketchMethodArg {
    /// SketchyCGAL.
    Cgal,
    /// Conic descent with ray search (MOCO with --momentum).
    Moco,
}

/// `solve sdp --maxcut GRAPH`.
fn run_maxcut(a: &SdpArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    use mathprog_problems::io::gset::read_gset;
    use mathprog_problems::sdp::MaxCutSdp;
    use mathprog_solvers::sdp::maxcut::{self, MaxCutSdpSettings};
    use mathprog_solvers::sdp::sketchy::{self, SketchSettings};
    let g = read_gset(&a.file)?;
    let (n, m) = (g.num_vertices(), g.num_edges());
    let p = MaxCutSdp::new(g);
    let report = if a.memory_efficient {
        let mut s = SketchSettings::default();
        s.common = common_settings(&a.common, io.stop.clone())?;
        s.common.max_iter = a.max_iter;
        s.tol = a.tol.unwrap_or(1e-2);
        s.sketch_rank = a.sketch_rank;
        s.momentum = a.momentum;
        s.precondition = a.precondition;
        s.algorithm = match a.sketch_method {
            SketchMethodArg::Cgal => sketchy::SketchAlgorithm::Cgal,
            SketchMethodArg::Moco => sketchy::SketchAlgorithm::Moco,
        };
        s.rounding_trials = a.gw_trials;
        super::with_observer(io, &a.common, |obs| sketchy::solve(&p, &s, obs))?
    } else {
        let mut s = MaxCutSdpSettings::default();
        s.common = common_settings(&a.common, io.stop.clone())?;
        s.common.max_iter = a.max_iter;
        s.tol = a.tol.unwrap_or(1e-4);
        s.rank = a.rank;
        s.precondition = a.precondition;
        if a.momentum {
            // δ_k = max(2/(k + 2), δ_min) with δ_min → 0: MOCO's schedule.
            s.momentum_min = f64::MIN_POSITIVE;
        }
        s.rounding_trials = a.gw_trials;
        super::with_observer(io, &a.common, |obs| maxcut::solve(&p, &s, obs))?
    };
    let file = a.file.display().to_string();
    let facts = GraphFacts {
        file: file.clone(),
        vertices: n,
        edges: m,
    };
    if let Some(path) = &a.common.output {
        mathprog_problems::io::partition::write_partition(path, &report.solution.cut)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!("maxcut sdp {file} ({n} vertices, {m} edges)"),
        )?;
        kv(
            out,
            "SDP value",
            format!("{:.6} (feasible X = VV^T)", report.objective),
        )?;
        kv(
            out,
            "upper bound",
            format!(
                "{:.6} (certified), relative gap {:.2e}",
                report.bound.unwrap_or(f64::NAN),
                report.residuals.relative_gap
            ),
        )?;
        kv(
            out,
            "GW cut",
            crate::progress::fmt_num(report.solution.cut_value),
        )?;
        kv(out, "status", report.status)?;
        backend_line(out, &report.backend)?;
        kv(
            out,
            "iterations",
            format!("{} (rank {})", report.iterations, report.solution.rank),
        )?;
        kv(out, "time", format!("{:.3} s", report.elapsed))?;
        if let Some(path) = &a.common.output {
            kv(out, "partition", path.display())?;
        }
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// Run `solve sdp`.
pub fn run(a: &SdpArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    if a.maxcut {
        return run_maxcut(a, io);
    }
    let p = read_sdpa(&a.file)?;
    let mut s = AlmSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = a.max_iter;
    s.tol = a.tol.unwrap_or(1e-6);
    s.rank = a.rank;
    s.ipm_precision = a.precision;
    // The memory-efficient mode is a mode of the low-rank path.
    s.method = match a.method {
        SdpMethod::Auto if a.memory_efficient => SdpMethod::Alm,
        m => m,
    };
    if a.memory_efficient {
        s.dense_eig_max = 0;
        s.lbfgs_memory = 4;
    }
    let mut report = super::with_observer(io, &a.common, |obs| solve(&p, &s, obs))?;
    // Statuses in SDPA's naming, as SDPLIB's infp/infd: SDPA's primal is the y-problem
    // `min cᵀx s.t. Σ x_i F_i − F_0 ⪰ 0` (the library's dual).
    report.status = match report.status {
        Status::PrimalInfeasible => Status::DualInfeasible,
        Status::DualInfeasible => Status::PrimalInfeasible,
        st => st,
    };
    let file = a.file.display().to_string();
    let facts = SdpaFacts {
        file: file.clone(),
        sdpa_primal_value: -report.objective,
    };
    // The solution: each block's factor (X = V Vᵀ) and the multipliers y, as JSON.
    if let Some(path) = &a.common.output {
        super::write_json_file(path, &report.solution)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
    } else {
        let out = &mut *io.stdout;
        let st = &report.stats;
        kv(
            out,
            "problem",
            format!(
                "sdp {file} (m = {}, blocks {:?})",
                p.num_constraints(),
                p.blocks()
            ),
        )?;
        if matches!(
            report.status,
            Status::PrimalInfeasible | Status::DualInfeasible
        ) {
            // The returned point is the certificate, not a solution: no values to show.
            kv(
                out,
                "value",
                "none: infeasible (the solution holds the certificate)",
            )?;
        } else {
            kv(
                out,
                "value",
                format!(
                    "{:.9e} (SDPA / SDPLIB convention: max <F0,Y>)",
                    -report.objective
                ),
            )?;
            kv(
                out,
                "dual",
                format!(
                    "{:.9e} (SDPA convention; {})",
                    -st.dual_value,
                    if report.bound.is_some() {
                        "slack PSD: a proven bound"
                    } else {
                        "slack not PSD to working precision"
                    }
                ),
            )?;
        }
        kv(
            out,
            "residuals",
            format!(
                "primal {:.2e}, dual {:.2e}, gap {:.2e} (tol {:e})",
                report.residuals.primal_infeasibility,
                report.residuals.dual_infeasibility,
                report.residuals.relative_gap,
                s.tol
            ),
        )?;
        kv(out, "status", report.status)?;
        if let Some(r) = st.ipm.as_ref().and_then(|i| i.certificate_residual) {
            kv(
                out,
                "certificate",
                format!("residual {r:.2e} (checked a posteriori)"),
            )?;
        }
        if let Some(why) = &st.choice {
            kv(out, "method", why)?;
        }
        backend_line(out, &report.backend)?;
        kv(
            out,
            "iterations",
            match (&st.alm, &st.maxcut) {
                (Some(alm), _) => format!(
                    "{} outer, {} L-BFGS",
                    report.iterations, alm.inner_iterations
                ),
                (None, _) => match &st.ipm {
                    Some(i) if i.precision == "double-double" => {
                        format!("{} ({}, double-double)", report.iterations, st.method)
                    }
                    Some(i) if i.double_double_tried => format!(
                        "{} ({}, double; a double-double rerun did no better)",
                        report.iterations, st.method
                    ),
                    _ => format!("{} ({})", report.iterations, st.method),
                },
            },
        )?;
        let ranks = match (&st.alm, &st.maxcut) {
            (Some(alm), _) => Some(format!("{:?}", alm.ranks)),
            (None, Some(mc)) => Some(format!("[{}]", mc.rank)),
            (None, None) => None,
        };
        if let Some(r) = ranks {
            kv(out, "ranks", r.replace(' ', ""))?;
        }
        kv(out, "time", format!("{:.3} s", report.elapsed))?;
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// What `solve sdp --maxcut` adds to the report's `stats`.
#[derive(Serialize)]
struct GraphFacts {
    file: String,
    vertices: usize,
    edges: usize,
}

/// What `solve sdp FILE` adds to the report's `stats`: the value in SDPA's sign convention.
#[derive(Serialize)]
struct SdpaFacts {
    file: String,
    sdpa_primal_value: f64,
}
