//! `solve maxsat FILE`: weighted partial MaxSAT (DIMACS CNF, old or 2022+ WCNF) by MCPG.

use super::mcpg_args::{Defaults, McpgArgs, run_mcpg, summary_tail};
use super::{CliError, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::binary::Spin;
use mathprog_problems::io::dimacs;
use mathprog_problems::io::write_atomic;
use mathprog_problems::sat::{MaxSat, MaxSatValue};
use mathprog_solvers::binary::mcpg::McpgSettings;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Default wall-clock limit when neither `--time-limit` nor `--max-rounds` is given.
pub const DEFAULT_TIME_LIMIT: f64 = 10.0;

/// Arguments of `solve maxsat`.
#[derive(Args, Debug)]
pub struct MaxsatArgs {
    /// Formula in DIMACS CNF (`p cnf`), old WCNF (`p wcnf V C top`) or 2022+ WCNF (`h` marks
    /// hard clauses); the format is detected from the content.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Stop as soon as an assignment satisfying all hard clauses with cost (falsified soft
    /// weight) at most V is found.
    #[arg(long, value_name = "V", value_parser = crate::values::finite, allow_hyphen_values = true)]
    target: Option<f64>,
    /// Penalty of a violated hard clause in the search energy (default: total soft weight + 1,
    /// which makes every feasible assignment better than every infeasible one).
    #[arg(long, value_name = "H")]
    hard_weight: Option<f64>,
    /// Write the `v` line of --output as DIMACS literals (`v 1 -2 3`) instead of the MaxSAT
    /// Evaluation 2022+ 0/1 string (`v 101`).
    #[arg(long)]
    v_literals: bool,
    #[command(flatten)]
    mcpg: McpgArgs,
}

/// Write a MaxSAT Evaluation style solution file: `s`, `o` and `v` lines.
fn write_solution(
    path: &Path,
    x: &[Spin],
    val: &MaxSatValue,
    literals: bool,
) -> Result<(), CliError> {
    write_atomic(path, |w| {
        writeln!(w, "c mathprog MCPG (heuristic: optimality is not proven)")?;
        if val.feasible() {
            writeln!(w, "s SATISFIABLE")?;
            writeln!(w, "o {}", val.cost)?;
        } else {
            writeln!(
                w,
                "c {} hard clauses violated: no feasible assignment found",
                val.hard_violated
            )?;
            writeln!(w, "s UNKNOWN")?;
        }
        if literals {
            writeln!(w, "{}", mathprog_problems::sat::v_line(x))
        } else {
            let bits: String = x.iter().map(|&s| if s > 0 { '1' } else { '0' }).collect();
            writeln!(w, "v {bits}")
        }
    })?;
    Ok(())
}

/// Run `solve maxsat`.
pub fn run(a: &MaxsatArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let t_read = Instant::now();
    let sat = dimacs::read_sat(&a.file)?;
    let format = sat.format;
    let mut problem: MaxSat = sat
        .into_problem()
        .map_err(|e| CliError::Failed(format!("{}: {e}", a.file.display())))?;
    let read_seconds = t_read.elapsed().as_secs_f64();
    if let Some(h) = a.hard_weight {
        problem = problem
            .with_hard_weight(h)
            .map_err(|e| CliError::Usage(format!("--hard-weight: {e}")))?;
    }
    let s = a.mcpg.settings(
        &a.common,
        a.target,
        McpgSettings::maxsat(),
        Defaults {
            time_limit: DEFAULT_TIME_LIMIT,
            stall_rounds: None,
        },
        io,
    )?;
    let report = run_mcpg(&problem, &s, &a.common, io)?;
    // Independent check: the reported energy is that of the returned assignment.
    let val = problem.evaluate(&report.solution);
    let e = problem.energy_of_value(&val);
    if (e - report.objective).abs() > 1e-6 * e.abs().max(1.0) {
        return Err(CliError::Failed(format!(
            "internal error: reported energy {} but the assignment evaluates to {e}",
            report.objective
        )));
    }
    let file = a.file.display().to_string();
    let (nv, nh, ns) = (problem.num_vars(), problem.num_hard(), problem.num_soft());
    let facts = MaxsatFacts {
        file: file.clone(),
        format,
        variables: nv,
        hard_clauses: nh,
        soft_clauses: ns,
        soft_total: problem.soft_total(),
        cost: val.cost,
        satisfied_weight: val.satisfied_weight,
        satisfied_soft: val.satisfied_soft,
        hard_violated: val.hard_violated,
        hard_satisfied: val.feasible(),
        hard_weight: problem.hard_weight(),
        read_seconds,
    };
    if let Some(path) = &a.common.output {
        write_solution(path, &report.solution, &val, a.v_literals)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!("maxsat {file} ({nv} variables, {nh} hard + {ns} soft clauses)"),
        )?;
        kv(out, "cost", format!("{} (falsified soft weight)", val.cost))?;
        kv(
            out,
            "satisfied",
            format!(
                "soft weight {} of {} ({} of {ns} soft clauses)",
                val.satisfied_weight,
                problem.soft_total(),
                val.satisfied_soft
            ),
        )?;
        kv(
            out,
            "hard clauses",
            if val.feasible() {
                format!("yes, all {nh} satisfied")
            } else {
                format!(
                    "NO: {} of {nh} violated (no feasible assignment found)",
                    val.hard_violated
                )
            },
        )?;
        summary_tail(out, &report, "assignment", a.common.output.as_deref())?;
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// What `solve maxsat` adds to the report's `stats`: the input and the returned assignment's
/// evaluation.
#[derive(Serialize)]
struct MaxsatFacts {
    file: String,
    format: dimacs::SatFormat,
    variables: usize,
    hard_clauses: usize,
    soft_clauses: usize,
    soft_total: u64,
    cost: u64,
    satisfied_weight: u64,
    satisfied_soft: usize,
    hard_violated: usize,
    hard_satisfied: bool,
    hard_weight: f64,
    read_seconds: f64,
}
