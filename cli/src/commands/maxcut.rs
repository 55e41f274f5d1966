//! `solve maxcut FILE`: best cut of a Gset/rudy graph by MCPG.

use super::mcpg_args::{Defaults, McpgArgs, run_mcpg, summary_tail};
use super::{CliError, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::{gset, partition};
use mathprog_problems::maxcut::MaxCut;
use mathprog_solvers::binary::mcpg::McpgSettings;
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
    #[arg(long, value_name = "V")]
    target: Option<f64>,
    #[command(flatten)]
    mcpg: McpgArgs,
}

/// Run `solve maxcut`.
pub fn run(a: &MaxcutArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let t_read = Instant::now();
    let graph = gset::read_gset(&a.file)?;
    let read_seconds = t_read.elapsed().as_secs_f64();
    let (n, m) = (graph.num_vertices(), graph.num_edges());
    let problem = MaxCut::new(graph);

    let s = a.mcpg.settings(
        &a.common,
        a.target,
        McpgSettings::default(),
        Defaults {
            time_limit: DEFAULT_TIME_LIMIT,
            stall_rounds: Some(DEFAULT_STALL_ROUNDS),
        },
        io,
    )?;
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
    report.stats.insert("file".into(), file.clone().into());
    report.stats.insert("vertices".into(), n.into());
    report.stats.insert("edges".into(), m.into());
    report
        .stats
        .insert("total_weight".into(), problem.total_weight().into());
    report
        .stats
        .insert("read_seconds".into(), read_seconds.into());

    if let Some(path) = &a.common.output {
        partition::write_partition(path, &report.solution)?;
    }
    if a.common.json {
        super::print_json(io.stdout, &report)?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!("maxcut {file} ({n} vertices, {m} edges)"),
        )?;
        kv(out, "cut", crate::progress::fmt_num(report.objective))?;
        summary_tail(out, &report, "partition", a.common.output.as_deref())?;
    }
    io.stdout.flush().map_err(out_err)?;
    Ok(())
}
