//! One module per subcommand.

pub mod bench_gpu;
pub mod bilevel;
pub mod game;
pub mod maxcut;
pub mod maxsat;
pub mod mcpg_args;
pub mod mimo;
pub mod nlp;
pub mod ot;
pub mod qubo;
pub mod sdp;

use crate::CommonArgs;
use mathprog_solvers::core::{Common, StopToken};
use std::io::Write;

/// How a command failed.
#[derive(Debug)]
pub enum CliError {
    /// Bad combination of arguments (exit 2).
    Usage(String),
    /// Input or solver error (exit 1).
    Failed(String),
    /// stdout was closed by the reader (exit 0, nothing more printed).
    BrokenPipe,
}

impl<E: std::error::Error> From<E> for CliError {
    fn from(e: E) -> Self {
        CliError::Failed(e.to_string())
    }
}

/// Map a stdout write error: broken pipes end the program quietly.
pub fn out_err(e: std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        CliError::BrokenPipe
    } else {
        CliError::Failed(e.to_string())
    }
}

/// Shared settings from the common flags.
pub fn common_settings(a: &CommonArgs, stop: StopToken) -> Result<Common, CliError> {
    if let Some(t) = a.time_limit
        && !(t.is_finite() && t >= 0.0)
    {
        return Err(CliError::Usage(format!(
            "--time-limit must be a non-negative number of seconds, got {t}"
        )));
    }
    let mut c = Common::default();
    c.time_limit = a.time_limit;
    c.seed = a.seed;
    c.threads = a.threads;
    c.backend = a.backend;
    c.stop = stop;
    Ok(c)
}

/// The summary line saying where the kernels ran, when that is worth saying (a GPU, or a
/// note such as `--backend auto` falling back to the CPU).
pub fn backend_line(
    out: &mut dyn Write,
    b: &mathprog_solvers::linalg::backend::BackendReport,
) -> Result<(), CliError> {
    let mut text = b.name.clone();
    if let Some(d) = &b.device {
        text.push_str(&format!(" ({d})"));
    }
    if let Some(n) = &b.note {
        text.push_str(&format!(": {n}"));
    }
    if b.name != "cpu" || b.note.is_some() {
        kv(out, "backend", text)?;
    }
    Ok(())
}

/// Write one line of the human summary.
pub fn kv(out: &mut dyn Write, key: &str, value: impl std::fmt::Display) -> Result<(), CliError> {
    writeln!(out, "{key:<14}{value}").map_err(out_err)
}

/// Write `value` as pretty JSON to `path`, atomically (the `--output` of the JSON-solution
/// commands).
pub fn write_json_file(
    path: &std::path::Path,
    value: &impl serde::Serialize,
) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))?;
    mathprog_problems::io::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
    Ok(())
}

/// Print one JSON document on one line of stdout (the `--json` output of every command).
pub fn print_json(out: &mut dyn Write, value: &impl serde::Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string(value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out, "{text}").map_err(out_err)
}
