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

use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use mathprog_solvers::core::{Common, Observer, SolveError, StopToken};
use serde::Serialize;
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
    // A bad output path is found now, not after the solve.
    if let Some(path) = &a.output {
        mathprog_problems::io::check_writable(path)?;
    }
    let mut c = Common::default();
    // The limit covers the whole command: what reading or generating the input took is
    // taken off the solver's share.
    c.time_limit = a
        .time_limit
        .map(|t| (t - crate::started().elapsed().as_secs_f64()).max(0.0));
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
    b: &mathprog_solvers::core::BackendReport,
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

/// Print one JSON document on one line of stdout.
pub fn print_json(out: &mut dyn Write, value: &impl Serialize) -> Result<(), CliError> {
    let text = serde_json::to_string(value).map_err(|e| CliError::Failed(e.to_string()))?;
    writeln!(out, "{text}").map_err(out_err)
}

/// The `--json` output of a solve: the solver's report, with what only the CLI knows (its
/// typed `stats` facts: input file, sizes, read time, values derived from the input; and
/// `residuals` facts) merged into the report's `stats` and `residuals` objects, so that
/// scripts find every key where earlier releases printed it. The solver's report is not
/// changed; `()` adds nothing.
pub fn print_report(
    out: &mut dyn Write,
    report: &impl Serialize,
    stats: &impl Serialize,
    residuals: &impl Serialize,
) -> Result<(), CliError> {
    let v = report_json(report, stats, residuals)?;
    print_json(out, &v)
}

/// [`print_report`]'s document as a JSON value.
pub fn report_json(
    report: &impl Serialize,
    stats: &impl Serialize,
    residuals: &impl Serialize,
) -> Result<serde_json::Value, CliError> {
    fn val(v: &impl Serialize) -> Result<serde_json::Value, CliError> {
        serde_json::to_value(v).map_err(|e| CliError::Failed(e.to_string()))
    }
    let mut v = val(report)?;
    for (key, extra) in [("stats", val(stats)?), ("residuals", val(residuals)?)] {
        if let (Some(target), serde_json::Value::Object(add)) =
            (v.get_mut(key).and_then(|t| t.as_object_mut()), extra)
        {
            target.extend(add);
        }
    }
    Ok(v)
}

/// Run a solver with the CLI's observer: the iteration table on stderr (unless `-q` or
/// `--json`) and a progress bar when stderr is a terminal. Solver errors exit 1.
pub fn with_observer<T>(
    io: &mut Io<'_>,
    common: &CommonArgs,
    solve: impl FnOnce(&mut dyn Observer) -> Result<T, SolveError>,
) -> Result<T, CliError> {
    let quiet = common.quiet || common.json;
    let bar = !quiet && io.stderr_is_terminal;
    let mut obs = CliObserver::new(if quiet { None } else { Some(&mut *io.stderr) }, bar);
    solve(&mut obs).map_err(|e| CliError::Failed(e.to_string()))
}

/// The exit of a command after its report was printed: a numerical breakdown or a
/// non-finite objective is an error (exit 1; the printed report shows the last iterate), so
/// that no `inf`/`null` answer leaves with exit 0.
pub fn check_answer(
    status: mathprog_solvers::core::Status,
    objective: f64,
) -> Result<(), CliError> {
    check_answer_why(status, objective, None)
}

/// [`check_answer`] with the solver's own account of a breakdown, when it gives one.
pub fn check_answer_why(
    status: mathprog_solvers::core::Status,
    objective: f64,
    why: Option<&str>,
) -> Result<(), CliError> {
    use mathprog_solvers::core::Status;
    if status == Status::NumericalError {
        let why = why.unwrap_or("check the data's scale and the starting point");
        return Err(CliError::Failed(format!(
            "the method broke down numerically (status numerical_error; the report shows the \
             last iterate): {why}"
        )));
    }
    if !objective.is_finite() {
        return Err(CliError::Failed(format!(
            "the objective is {objective} (status {status}): no usable answer; check the \
             data's scale"
        )));
    }
    Ok(())
}
