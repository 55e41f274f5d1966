//! `solve qubo FILE`: `min (or max) xᵀQx` over `{0,1}ⁿ` or `{−1,1}ⁿ` by MCPG.

use super::mcpg_args::{Defaults, McpgArgs, run_mcpg, summary_tail};
use super::{CliError, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::binary::Sense;
use mathprog_problems::io::qubo::read_qubo;
use mathprog_problems::io::write_atomic;
use mathprog_problems::qubo::Domain;
use mathprog_solvers::binary::mcpg::McpgSettings;
use serde::Serialize;
use std::path::PathBuf;
use std::time::Instant;

/// Default wall-clock limit when neither `--time-limit` nor `--max-rounds` is given.
pub const DEFAULT_TIME_LIMIT: f64 = 10.0;

/// Arguments of `solve qubo`.
#[derive(Args, Debug)]
pub struct QuboArgs {
    /// Symmetric matrix Q: Biq Mac text (`n m`, then `i j q` per entry, 1-based, setting
    /// Q_ij = Q_ji = q) or a square NumPy `.npy` array.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Maximise xᵀQx instead of minimising it.
    #[arg(long)]
    maximize: bool,
    /// Variables are ±1 spins (Ising form sᵀQs) instead of 0/1.
    #[arg(long)]
    spin: bool,
    /// Stop as soon as an objective at least this good is found.
    #[arg(long, value_name = "V", value_parser = crate::values::finite, allow_hyphen_values = true)]
    target: Option<f64>,
    #[command(flatten)]
    mcpg: McpgArgs,
}

/// Run `solve qubo`.
pub fn run(a: &QuboArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let t_read = Instant::now();
    let domain = if a.spin {
        Domain::Spin
    } else {
        Domain::ZeroOne
    };
    let sense = if a.maximize {
        Sense::Maximize
    } else {
        Sense::Minimize
    };
    let problem = read_qubo(&a.file, domain, sense)?;
    let read_seconds = t_read.elapsed().as_secs_f64();
    let s = a.mcpg.settings(
        &a.common,
        a.target,
        McpgSettings::default(),
        Defaults {
            time_limit: DEFAULT_TIME_LIMIT,
            stall_rounds: Some(2000),
        },
        io,
    )?;
    let mut report = run_mcpg(&problem, &s, &a.common, io)?;
    // Independent check against the matrix entries. The solver's energy is accumulated in the
    // Ising form, whose rounding error scales with the entries' magnitudes (not with the
    // value): with a wide dynamic range (1e17 next to 1) it may differ from the exact value by
    // that much, and the exact value is what is reported.
    let value = problem.value(&report.solution);
    let scale: f64 = problem.entries().iter().map(|e| e.2.abs()).sum();
    let tol = 1e-9 * value.abs().max(1.0) + 1e-12 * scale;
    let gap = (value - report.objective).abs();
    if gap.is_nan() || gap > tol {
        return Err(CliError::Failed(format!(
            "internal error: reported objective {} but the assignment gives {value}",
            report.objective
        )));
    }
    report.objective = value;
    let n = problem.num_vars();
    let file = a.file.display().to_string();
    let facts = QuboFacts {
        file: file.clone(),
        variables: n,
        entries: problem.entries().len(),
        domain,
        read_seconds,
    };
    let values = problem.domain_values(&report.solution);
    if let Some(path) = &a.common.output {
        write_atomic(path, |w| {
            for v in &values {
                writeln!(w, "{v}")?;
            }
            Ok(())
        })?;
    }
    if a.common.json {
        let mut v = super::report_json(&report, &facts, &())?;
        // Report the assignment in the problem's own domain (0/1 or ±1).
        v["solution"] = serde_json::to_value(&values).unwrap_or_default();
        writeln!(io.stdout, "{v}").map_err(out_err)?;
    } else {
        let out = &mut *io.stdout;
        kv(
            out,
            "problem",
            format!(
                "qubo {file} ({n} variables, {} entries, {} x'Qx over {})",
                problem.entries().len(),
                if a.maximize { "max" } else { "min" },
                if a.spin { "{-1,1}^n" } else { "{0,1}^n" }
            ),
        )?;
        kv(out, "objective", crate::progress::fmt_num(value))?;
        kv(
            out,
            "ones",
            values.iter().filter(|&&v| v == 1).count().to_string(),
        )?;
        summary_tail(out, &report, "assignment", a.common.output.as_deref())?;
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// What `solve qubo` adds to the report's `stats`.
#[derive(Serialize)]
struct QuboFacts {
    file: String,
    variables: usize,
    entries: usize,
    domain: Domain,
    read_seconds: f64,
}
