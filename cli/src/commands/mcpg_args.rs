//! Flags shared by the MCPG subcommands (`maxcut`, `maxsat`, `qubo`, `mimo`) and the run itself.

use super::{CliError, backend_line, common_settings, kv};
use crate::{CommonArgs, Io};
use clap::{Args, ValueEnum};
use mathprog_problems::binary::{BinaryObjective, Spin};
use mathprog_solvers::binary::local_search::Filter;
use mathprog_solvers::binary::mcpg::{self, McpgReport, McpgSettings, McpgStats, Sampler};
use mathprog_solvers::core::Report;

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

/// Tuning flags of MCPG. Every one defaults to the problem class's own setting.
#[derive(Args, Debug, Clone)]
pub struct McpgArgs {
    /// Limit on MCPG rounds.
    #[arg(long, value_name = "N")]
    max_rounds: Option<u64>,
    /// Stop after this many rounds without improvement (0: never). Default: maxcut and qubo
    /// 2000, maxsat and mimo never.
    #[arg(long, value_name = "N")]
    stall_rounds: Option<u64>,
    /// Groups of chains (each keeps its own solution).
    #[arg(long, value_name = "G", value_parser = crate::values::count)]
    groups: Option<usize>,
    /// Chains per group.
    #[arg(long, value_name = "C", value_parser = crate::values::count)]
    copies: Option<usize>,
    /// Local-search filter applied to every sample.
    #[arg(long, value_enum)]
    filter: Option<FilterKind>,
    /// Sweeps of the greedy or anneal filter (defaults: 3 and 200).
    #[arg(long, value_name = "S")]
    sweeps: Option<usize>,
    /// Initial inverse temperature of the anneal filter, in units of the problem's typical
    /// flip delta (MaxCut: the RMS local field; MaxSAT: the RMS soft weight).
    #[arg(long, value_name = "B", value_parser = crate::values::non_negative)]
    beta_start: Option<f64>,
    /// Final inverse temperature of the anneal filter.
    #[arg(long, value_name = "B", value_parser = crate::values::non_negative)]
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
    #[arg(long, value_name = "F", value_parser = crate::values::positive)]
    accept_fraction: Option<f64>,
    /// Adam learning rate of the policy.
    #[arg(long, value_name = "LR", value_parser = crate::values::positive)]
    learning_rate: Option<f64>,
    /// Restart (fresh policy and groups, best kept) after N rounds without improving the
    /// current epoch's best (0: never).
    #[arg(long, value_name = "N")]
    restart_after: Option<u64>,
    /// Re-randomise the policy every N rounds (0: never).
    #[arg(long, value_name = "N")]
    reset_every: Option<u64>,
    /// Sample source (the `restarts` ablation drops the policy).
    #[arg(long, value_enum, default_value = "mcpg")]
    sampler: Sampler,
}

/// Per-problem defaults of the CLI.
pub struct Defaults {
    /// Wall-clock limit when neither `--time-limit` nor `--max-rounds` is given.
    pub time_limit: f64,
    /// Rounds without improvement before stopping (None: never).
    pub stall_rounds: Option<u64>,
}

impl McpgArgs {
    /// The solver settings: `base` (the problem class's defaults) overridden by the flags.
    pub fn settings(
        &self,
        common: &CommonArgs,
        target: Option<f64>,
        mut s: McpgSettings,
        d: Defaults,
        io: &Io<'_>,
    ) -> Result<McpgSettings, CliError> {
        s.common = common_settings(common, io.stop.clone())?;
        if common.time_limit.is_none() && self.max_rounds.is_none() {
            s.common.time_limit = Some(d.time_limit);
        }
        s.common.max_iter = self.max_rounds;
        s.common.target = target;
        s.stall_rounds = match self.stall_rounds {
            Some(0) => None,
            Some(k) => Some(k),
            None => d.stall_rounds,
        };
        if let Some(g) = self.groups {
            s.groups = g;
        }
        if let Some(c) = self.copies {
            s.copies = c;
        }
        if let Some(f) = self.accept_fraction {
            s.accept_fraction = f;
        }
        if let Some(lr) = self.learning_rate {
            s.learning_rate = lr;
        }
        if let Some(r) = self.restart_after {
            s.restart_after = (r > 0).then_some(r);
        }
        if let Some(r) = self.reset_every {
            s.reset_every = (r > 0).then_some(r);
        }
        s.filter = match (self.filter, s.filter) {
            (
                None | Some(FilterKind::Anneal),
                Filter::Anneal {
                    sweeps,
                    beta_start,
                    beta_end,
                },
            ) => Filter::Anneal {
                sweeps: self.sweeps.unwrap_or(sweeps),
                beta_start: self.beta_start.unwrap_or(beta_start),
                beta_end: self.beta_end.unwrap_or(beta_end),
            },
            (None | Some(FilterKind::Greedy), Filter::Greedy { sweeps }) => Filter::Greedy {
                sweeps: self.sweeps.unwrap_or(sweeps),
            },
            (None, f) => f,
            (Some(FilterKind::Anneal), _) => Filter::Anneal {
                sweeps: self.sweeps.unwrap_or(200),
                beta_start: self.beta_start.unwrap_or(4.5),
                beta_end: self.beta_end.unwrap_or(15.0),
            },
            (Some(FilterKind::Greedy), _) => Filter::Greedy {
                sweeps: self.sweeps.unwrap_or(3),
            },
            (Some(FilterKind::LocalOpt), _) => Filter::LocalOpt { max_sweeps: 1000 },
            (Some(FilterKind::Tabu), _) => Filter::Tabu {
                moves: self.moves,
                patience: self.patience,
                tenure: self.tenure,
            },
        };
        s.sampler = self.sampler;
        Ok(s)
    }
}

/// Run MCPG with the CLI's progress observer (table on stderr unless quiet or JSON).
pub fn run_mcpg<P: BinaryObjective>(
    problem: &P,
    s: &McpgSettings,
    common: &CommonArgs,
    io: &mut Io<'_>,
) -> Result<McpgReport, CliError> {
    super::with_observer(io, common, |obs| mcpg::solve(problem, s, obs))
}

/// The common end of an MCPG summary: status, time, rounds, seed, threads and where the
/// solution was written (`label`).
pub fn summary_tail<R>(
    out: &mut dyn std::io::Write,
    report: &Report<Vec<Spin>, R, impl AsRef<McpgStats>>,
    label: &str,
    output: Option<&std::path::Path>,
) -> Result<(), CliError> {
    kv(out, "status", report.status)?;
    backend_line(out, &report.backend)?;
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
            report.stats.as_ref().samples
        ),
    )?;
    kv(out, "seed", report.seed)?;
    kv(out, "threads", report.threads)?;
    if let Some(path) = output {
        kv(out, label, path.display())?;
    }
    Ok(())
}
