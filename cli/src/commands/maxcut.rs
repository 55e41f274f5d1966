//! `solve maxcut FILE`: best cut of a Gset/rudy graph by MCPG.

use super::{CliError, common_settings, kv, out_err};
use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use clap::{Args, ValueEnum};
use mathprog_problems::io::{gset, partition};
use mathprog_problems::maxcut::MaxCut;
use mathprog_solvers::binary::local_search::Filter;
use mathprog_solvers::binary::mcpg::{self, McpgSettings, Sampler};
use std::path::PathBuf;
use std::time::Instant;

/// Default wall-clock limit when neither `--time-limit` nor `--max-rounds` is given.
pub const DEFAULT_TIME_LIMIT: f64 = 10.0;
/// Default number of rounds without improvement after which the run stops.
pub const DEFAULT_STALL_ROUNDS: u64 = 2000;

#[derive(Copy, Clone, Debug, ValueEnum)]
enum FilterKind {
    /// The paper's filter: a fixed number of greedy sweeps (see --sweeps).
    Greedy,
    /// Greedy sweeps until a 1-flip local optimum.
    LocalOpt,
    /// Short simulated annealing (see --sweeps, --beta-start, --beta-end), then local-opt.
    Anneal,
    /// Tabu search (see --moves, --patience, --tenure).
    Tabu,
}

#[derive(Copy, Clone, Debug, ValueEnum)]
enum SamplerKind {
    /// Monte Carlo policy gradient (Metropolis chains on the learned policy).
    Mcpg,
    /// Ablation: uniform random restarts + the same filter.
    Restarts,
}

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
    /// Limit on MCPG rounds.
    #[arg(long, value_name = "N")]
    max_rounds: Option<u64>,
    /// Stop after this many rounds without improvement (0: never).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_STALL_ROUNDS)]
    stall_rounds: u64,
    /// Groups of chains (each keeps its own solution).
    #[arg(long, value_name = "G")]
    groups: Option<usize>,
    /// Chains per group.
    #[arg(long, value_name = "C")]
    copies: Option<usize>,
    /// Local-search filter (default: anneal).
    #[arg(long, value_enum)]
    filter: Option<FilterKind>,
    /// Sweeps of the greedy or anneal filter (defaults: 3 and 200).
    #[arg(long, value_name = "S")]
    sweeps: Option<usize>,
    /// Initial inverse temperature of the anneal filter, in units of the RMS local field sqrt(mean_v sum_u w_uv^2) (default 4.5).
    #[arg(long, value_name = "B")]
    beta_start: Option<f64>,
    /// Final inverse temperature of the anneal filter (default 15).
    #[arg(long, value_name = "B")]
    beta_end: Option<f64>,
    /// Maximum moves of the tabu filter per sample.
    #[arg(long, value_name = "N", default_value_t = 4000)]
    moves: usize,
    /// Moves without improvement before a tabu walk stops.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    patience: usize,
    /// Base tabu tenure (0: max(5, n/100)).
    #[arg(long, value_name = "N", default_value_t = 0)]
    tenure: usize,
    /// Metropolis chains stop after this fraction of n accepted flips (perturbation size).
    #[arg(long, value_name = "F")]
    accept_fraction: Option<f64>,
    /// Adam learning rate of the policy.
    #[arg(long, value_name = "LR")]
    learning_rate: Option<f64>,
    /// Restart (fresh policy and groups, best kept) after N rounds without improving the
    /// current epoch's best (0: never; default 100).
    #[arg(long, value_name = "N")]
    restart_after: Option<u64>,
    /// Re-randomise the policy every N rounds (0: never).
    #[arg(long, value_name = "N")]
    reset_every: Option<u64>,
    /// Sample source (the `restarts` ablation drops the policy).
    #[arg(long, value_enum, default_value = "mcpg")]
    sampler: SamplerKind,
}

/// Run `solve maxcut`.
pub fn run(a: &MaxcutArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let t_read = Instant::now();
    let graph = gset::read_gset(&a.file)?;
    let read_seconds = t_read.elapsed().as_secs_f64();
    let (n, m) = (graph.num_vertices(), graph.num_edges());
    let problem = MaxCut::new(graph);

    let mut s = McpgSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    if a.common.time_limit.is_none() && a.max_rounds.is_none() {
        s.common.time_limit = Some(DEFAULT_TIME_LIMIT);
    }
    s.common.max_iter = a.max_rounds;
    s.common.target = a.target;
    s.stall_rounds = (a.stall_rounds > 0).then_some(a.stall_rounds);
    if let Some(g) = a.groups {
        s.groups = g;
    }
    if let Some(c) = a.copies {
        s.copies = c;
    }
    if let Some(f) = a.accept_fraction {
        s.accept_fraction = f;
    }
    if let Some(lr) = a.learning_rate {
        s.learning_rate = lr;
    }
    if let Some(r) = a.restart_after {
        s.restart_after = (r > 0).then_some(r);
    }
    if let Some(r) = a.reset_every {
        s.reset_every = (r > 0).then_some(r);
    }
    s.filter = match (a.filter, s.filter) {
        (
            None,
            Filter::Anneal {
                sweeps,
                beta_start,
                beta_end,
            },
        )
        | (
            Some(FilterKind::Anneal),
            Filter::Anneal {
                sweeps,
                beta_start,
                beta_end,
            },
        ) => Filter::Anneal {
            sweeps: a.sweeps.unwrap_or(sweeps),
            beta_start: a.beta_start.unwrap_or(beta_start),
            beta_end: a.beta_end.unwrap_or(beta_end),
        },
        (None, f) => f,
        (Some(FilterKind::Anneal), _) => Filter::Anneal {
            sweeps: a.sweeps.unwrap_or(200),
            beta_start: a.beta_start.unwrap_or(4.5),
            beta_end: a.beta_end.unwrap_or(15.0),
        },
        (Some(FilterKind::Greedy), _) => Filter::Greedy {
            sweeps: a.sweeps.unwrap_or(3),
        },
        (Some(FilterKind::LocalOpt), _) => Filter::LocalOpt { max_sweeps: 1000 },
        (Some(FilterKind::Tabu), _) => Filter::Tabu {
            moves: a.moves,
            patience: a.patience,
            tenure: a.tenure,
        },
    };
    s.sampler = match a.sampler {
        SamplerKind::Mcpg => Sampler::PolicyChains,
        SamplerKind::Restarts => Sampler::RandomRestarts,
    };

    let quiet = a.common.quiet || a.common.json;
    let bar = !quiet && io.stderr_is_terminal;
    let mut report = {
        let mut obs = CliObserver::new(if quiet { None } else { Some(&mut *io.stderr) }, bar);
        mcpg::solve(&problem, &s, &mut obs).map_err(|e| CliError::Failed(e.to_string()))?
    };
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
        let text = serde_json::to_string(&report).map_err(|e| CliError::Failed(e.to_string()))?;
        writeln!(io.stdout, "{text}").map_err(out_err)?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!("maxcut {file} ({n} vertices, {m} edges)"),
        )?;
        kv(out, "cut", crate::progress::fmt_num(report.objective))?;
        kv(out, "status", report.status)?;
        kv(
            out,
            "time",
            format!(
                "{:.2} s (best found at {:.2} s)",
                report.elapsed,
                report.time_to_best.unwrap_or(0.0)
            ),
        )?;
        kv(
            out,
            "rounds",
            format!(
                "{} ({} samples)",
                report.iterations,
                report
                    .stats
                    .get("samples")
                    .map_or(0, |v| v.as_u64().unwrap_or(0))
            ),
        )?;
        kv(out, "seed", report.seed)?;
        kv(out, "threads", report.threads)?;
        if let Some(path) = &a.common.output {
            kv(out, "partition", path.display())?;
        }
    }
    io.stdout.flush().map_err(out_err)?;
    Ok(())
}
