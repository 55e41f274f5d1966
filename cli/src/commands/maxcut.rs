//! `solve maxcut FILE`: best cut of a Gset/rudy graph by MCPG, optionally with the certified
//! SDP upper bound (`--bound`) and a Goemans-Williamson warm start (`--init sdp`).

use super::mcpg_args::{Defaults, McpgArgs, run_mcpg, summary_tail};
use super::{CliError, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::{gset, partition};
use mathprog_problems::maxcut::MaxCut;
use mathprog_problems::sdp::MaxCutSdp;
use mathprog_solvers::binary::mcpg::McpgSettings;
use mathprog_solvers::core::NoObserver;
use mathprog_solvers::sdp::maxcut::{self as sdp_maxcut, MaxCutSdpSettings};
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Default wall-clock limit when neither `--time-limit` nor `--max-rounds` is given.
pub const DEFAULT_TIME_LIMIT: f64 = 10.0;
/// Default number of rounds without improvement after which the run stops.
pub const DEFAULT_STALL_ROUNDS: u64 = 2000;

/// Arguments of `solve maxcut`.
#[derive(Args, Debug)]
pub struct MaxcutArgs {
    /// Graph in Gset/rudy format: `n m`, then `i j w` per edge (1-based).
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Stop as soon as a cut of at least this value is found.
    #[arg(long, value_name = "V", value_parser = crate::values::finite, allow_hyphen_values = true)]
    target: Option<f64>,
    #[command(flatten)]
    mcpg: McpgArgs,
    /// Also solve the MaxCut SDP and report its certified upper bound on the cut and the
    /// gap of the cut to it.
    #[arg(long)]
    bound: bool,
    /// Initial cut of MCPG: `random` (default) or `sdp` (the best Goemans-Williamson
    /// rounding of the SDP solution, after local search).
    #[arg(long, value_enum, default_value = "random")]
    init: Init,
    /// Certified relative gap at which the SDP stops (with --bound or --init sdp).
    #[arg(long, value_name = "T", default_value_t = 1e-4, value_parser = crate::values::positive)]
    sdp_tol: f64,
    /// Goemans-Williamson hyperplanes tried on the SDP solution.
    #[arg(long, value_name = "K", default_value_t = 64)]
    gw_trials: usize,
}

/// Initial cut of MCPG.
#[derive(Copy, Clone, Debug, PartialEq, Eq, clap::ValueEnum)]
enum Init {
    /// Random assignments.
    Random,
    /// The rounded SDP solution.
    Sdp,
}

/// Run `solve maxcut`.
pub fn run(a: &MaxcutArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let t_read = Instant::now();
    let graph = gset::read_gset(&a.file)?;
    let read_seconds = t_read.elapsed().as_secs_f64();
    let (n, m) = (graph.num_vertices(), graph.num_edges());
    let problem = MaxCut::new(graph);

    // The SDP first (its bound and, with --init sdp, its rounded cut as the warm start).
    let sdp = if a.bound || a.init == Init::Sdp {
        let mut ss = MaxCutSdpSettings::default();
        ss.common = common_settings(&a.common, io.stop.clone())?;
        ss.common.max_iter = None;
        // One time limit for the whole command: the SDP gets at most half, MCPG the rest
        // (`common_settings` below takes what the SDP used off MCPG's share).
        ss.common.time_limit = ss.common.time_limit.map(|t| 0.5 * t);
        ss.tol = a.sdp_tol;
        ss.rounding_trials = a.gw_trials.max(usize::from(a.init == Init::Sdp));
        let p = MaxCutSdp::new(problem.graph().clone());
        Some(
            sdp_maxcut::solve(&p, &ss, &mut NoObserver)
                .map_err(|e| CliError::Failed(e.to_string()))?,
        )
    } else {
        None
    };
    let mut s = a.mcpg.settings(
        &a.common,
        a.target,
        McpgSettings::default(),
        Defaults {
            time_limit: DEFAULT_TIME_LIMIT,
            stall_rounds: Some(DEFAULT_STALL_ROUNDS),
        },
        io,
    )?;
    if let Some(r) = &sdp
        && a.init == Init::Sdp
    {
        s.initial = Some(r.solution.cut.clone());
    }
    let mut report = run_mcpg(&problem, &s, &a.common, io)?;
    // Independent check: the reported cut is the cut of the returned partition.
    let cut = problem.cut_value(&report.solution);
    if cut != report.objective {
        return Err(CliError::Failed(format!(
            "internal error: reported cut {} but partition cuts {cut}",
            report.objective
        )));
    }
    let file = a.file.display().to_string();
    let mut facts = MaxcutFacts {
        file: file.clone(),
        vertices: n,
        edges: m,
        total_weight: problem.total_weight(),
        read_seconds,
        sdp: None,
    };
    let mut gaps = None;
    if let Some(r) = &sdp {
        let upper = r.bound.unwrap_or(f64::INFINITY);
        report.bound = Some(upper);
        facts.sdp = Some(SdpFacts {
            sdp_value: r.objective,
            sdp_status: r.status.describe(),
            sdp_seconds: r.elapsed,
            sdp_rank: r.solution.rank,
            gw_cut: r.solution.cut_value,
        });
        gaps = Some(SdpGaps {
            sdp_relative_gap: r.residuals.relative_gap,
            cut_gap_to_bound: (upper - report.objective) / upper.abs().max(1.0),
        });
    }
    if let Some(path) = &a.common.output {
        partition::write_partition(path, &report.solution)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &gaps)?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!("maxcut {file} ({n} vertices, {m} edges)"),
        )?;
        kv(out, "cut", crate::progress::fmt_num(report.objective))?;
        if let Some(r) = &sdp {
            let upper = r.bound.unwrap_or(f64::NAN);
            kv(
                out,
                "SDP bound",
                format!(
                    "{upper:.4} (certified; SDP value >= {:.4}, {}, {:.2} s)",
                    r.objective, r.status, r.elapsed
                ),
            )?;
            kv(
                out,
                "gap",
                format!(
                    "{:.3e} (cut vs bound, relative)",
                    (upper - report.objective) / upper.abs().max(1.0)
                ),
            )?;
            kv(
                out,
                "GW cut",
                crate::progress::fmt_num(r.solution.cut_value),
            )?;
        }
        summary_tail(out, &report, "partition", a.common.output.as_deref())?;
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// What `solve maxcut` adds to the report's `stats`.
#[derive(Serialize)]
struct MaxcutFacts {
    file: String,
    vertices: usize,
    edges: usize,
    total_weight: f64,
    read_seconds: f64,
    #[serde(flatten)]
    sdp: Option<SdpFacts>,
}

/// The SDP bound's facts (with `--bound` or `--init sdp`).
#[derive(Serialize)]
struct SdpFacts {
    sdp_value: f64,
    sdp_status: &'static str,
    sdp_seconds: f64,
    sdp_rank: usize,
    gw_cut: f64,
}

/// What the SDP bound adds to the report's `residuals`.
#[derive(Serialize)]
struct SdpGaps {
    sdp_relative_gap: f64,
    cut_gap_to_bound: f64,
}
