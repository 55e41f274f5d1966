//! The `solve` command line of mathprog, as a library so that tests can run it in-process.
//!
//! `solve maxcut FILE [--time-limit S] [--seed N] [--threads N] [--target V] [--json] [-q]
//! [--output PARTITION_FILE]`
//!
//! Human summary on stdout, progress bar (terminal only) and an iteration table on stderr;
//! `--json` prints one JSON report on stdout instead. Exit codes: 0 when a solution is returned
//! (also after a time limit or Ctrl-C), 1 on input or solver errors, 2 on usage errors.
#![deny(missing_docs)]

mod commands;
mod progress;

use clap::{Args, Parser, Subcommand};
use mathprog_solvers::core::StopToken;
use std::io::Write;
use std::path::PathBuf;

/// Exit code: a solution was returned.
pub const EXIT_OK: i32 = 0;
/// Exit code: bad input or a solver error.
pub const EXIT_ERROR: i32 = 1;
/// Exit code: bad command-line usage.
pub const EXIT_USAGE: i32 = 2;

/// Where the command writes, and how it is cancelled.
pub struct Io<'a> {
    /// Summary or JSON report.
    pub stdout: &'a mut dyn Write,
    /// Iteration table, progress, errors.
    pub stderr: &'a mut dyn Write,
    /// Whether stderr is an interactive terminal (enables the progress bar).
    pub stderr_is_terminal: bool,
    /// Set by the Ctrl-C handler of the binary; the solver then returns its best solution.
    pub stop: StopToken,
}

#[derive(Parser, Debug)]
#[command(
    name = "solve",
    version,
    about = "mathprog: state-of-the-art solvers for hard problem classes",
    args_override_self = true
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Maximum cut of a weighted graph (Gset/rudy format) by Monte Carlo policy gradient.
    Maxcut(commands::maxcut::MaxcutArgs),
    /// Weighted partial MaxSAT (DIMACS CNF or WCNF) by Monte Carlo policy gradient.
    Maxsat(commands::maxsat::MaxsatArgs),
    /// Quadratic unconstrained binary optimisation x'Qx (Biq Mac text or .npy).
    Qubo(commands::qubo::QuboArgs),
    /// 4-QAM / 16-QAM MIMO detection (generated Rayleigh channel or instance file).
    Mimo(commands::mimo::MimoArgs),
    /// Entropic optimal transport (Sinkhorn–Newton–Sparse): cost matrices, point clouds, grids.
    Ot(commands::ot::OtArgs),
    /// Semidefinite program in SDPA sparse format (.dat-s) by augmented-Lagrangian conic descent.
    Sdp(commands::sdp::SdpArgs),
    /// Equality-constrained NLP min f(x) s.t. c(x) = 0 (exact augmented Lagrangian, sketched
    /// or direct Newton-KKT steps); problems as formulas (Hock-Schittkowski JSON format).
    Nlp(commands::nlp::NlpArgs),
    /// Zero-sum matrix game min_x max_y x'Ay (variance-reduced Halpern with restarts),
    /// with the duality gap as certificate.
    Game(commands::game::GameArgs),
    /// Bilevel problem min_x f(x, y) over y in argmin g(x, .) by the value-function penalty
    /// (double loop or stochastic single loop) or AID: quadratic, nonunique, ridge tuning, data
    /// hyper-cleaning.
    Bilevel(commands::bilevel::BilevelArgs),
    /// Every GPU kernel against its CPU twin: error and CPU/GPU times (needs a build with
    /// `--features cuda` and an NVIDIA GPU).
    BenchGpu(commands::bench_gpu::BenchGpuArgs),
}

/// Input sizes of `solve bench-gpu`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Small inputs.
    Test,
    /// Benchmark sizes.
    Bench,
}

/// Flags shared by every subcommand.
#[derive(Args, Debug, Clone)]
pub struct CommonArgs {
    /// Wall-clock limit in seconds. Default without an iteration limit: maxcut, maxsat and
    /// qubo 10 s (unless --max-rounds), mimo 2 s, game and bilevel 600 s; ot, sdp and nlp none
    /// (they stop at their tolerance or iteration limit).
    #[arg(long, value_name = "S", value_parser = values::non_negative)]
    pub time_limit: Option<f64>,
    /// Seed of all randomness (same seed, same answer, at any thread count).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub seed: u64,
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N")]
    pub threads: Option<usize>,
    /// Where the large kernels run: cpu, cuda (an NVIDIA GPU; needs a build with
    /// `--features cuda`) or auto (the GPU when usable, else the CPU, said in the report).
    #[arg(long, value_name = "B", default_value = "cpu")]
    pub backend: mathprog_solvers::linalg::backend::Backend,
    /// Print one JSON report on stdout (and nothing on stderr but errors).
    #[arg(long)]
    pub json: bool,
    /// No progress bar and no iteration table.
    #[arg(short, long)]
    pub quiet: bool,
    /// Write the solution to this file (written atomically).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Memory budget for the problem and the solver (bytes, or with a K, M, G or T suffix;
    /// default: the machine's available memory, or MATHPROG_MAX_MEMORY). Inputs and flags that
    /// declare more are refused before anything is allocated.
    #[arg(long, value_name = "BYTES", value_parser = parse_memory)]
    pub max_memory: Option<u64>,
}

static STARTED: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// When [`run`] was first called: `--time-limit` counts from here (reading the input
/// included).
pub fn started() -> std::time::Instant {
    *STARTED.get_or_init(std::time::Instant::now)
}

/// Run the command line `args` (including the program name) and return the exit code.
pub fn run<I, T>(args: I, io: &mut Io<'_>) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    // Negative numbers are values (`--target -5`, `--snr -2`, `--reg -1` gets the solver's
    // own message), not flags.
    use clap::{CommandFactory, FromArgMatches};
    let _ = STARTED.set(std::time::Instant::now());
    let cmd = Cli::command().mut_subcommands(|s| s.allow_negative_numbers(true));
    let parsed = cmd.try_get_matches_from(args).and_then(|m| {
        // The memory budget first: readers check sizes against it.
        if let Some((_, sub)) = m.subcommand()
            && let Ok(Some(bytes)) = sub.try_get_one::<u64>("max_memory")
        {
            mathprog_problems::limits::set_memory_budget(*bytes);
        }
        Cli::from_arg_matches(&m)
    });
    let cli = match parsed {
        Ok(c) => c,
        Err(e) => {
            use clap::error::ErrorKind;
            let text = e.render().to_string();
            return match e.kind() {
                ErrorKind::DisplayHelp | ErrorKind::DisplayVersion => {
                    let _ = io.stdout.write_all(text.as_bytes());
                    EXIT_OK
                }
                _ => {
                    let _ = io.stderr.write_all(text.as_bytes());
                    EXIT_USAGE
                }
            };
        }
    };
    let result = match cli.command {
        Command::Maxcut(a) => commands::maxcut::run(&a, io),
        Command::Maxsat(a) => commands::maxsat::run(&a, io),
        Command::Qubo(a) => commands::qubo::run(&a, io),
        Command::Mimo(a) => commands::mimo::run(&a, io),
        Command::Ot(a) => commands::ot::run(&a, io),
        Command::Sdp(a) => commands::sdp::run(&a, io),
        Command::Nlp(a) => commands::nlp::run(&a, io),
        Command::Game(a) => commands::game::run(&a, io),
        Command::Bilevel(a) => commands::bilevel::run(&a, io),
        Command::BenchGpu(a) => commands::bench_gpu::run(&a, io),
    };
    match result {
        Ok(()) => EXIT_OK,
        Err(commands::CliError::Usage(m)) => {
            let _ = writeln!(io.stderr, "error: {m}");
            EXIT_USAGE
        }
        Err(commands::CliError::BrokenPipe) => EXIT_OK,
        Err(commands::CliError::Failed(m)) => {
            let _ = writeln!(io.stderr, "error: {m}");
            EXIT_ERROR
        }
    }
}

/// `--max-memory`: bytes with an optional K, M, G or T suffix (binary units), at least 1 MiB.
fn parse_memory(text: &str) -> Result<u64, String> {
    match mathprog_problems::limits::parse_bytes(text) {
        Some(b) if b >= 1 << 20 => Ok(b),
        Some(_) => Err("at least 1M".into()),
        None => Err(format!("expected bytes such as 512M or 64G, got `{text}`")),
    }
}

/// Value parsers for numeric flags: a bad value is a usage error (exit 2) that names the flag,
/// found before any file is read.
pub mod values {
    fn number(text: &str) -> Result<f64, String> {
        text.trim()
            .parse::<f64>()
            .map_err(|_| format!("expected a number, got `{text}`"))
    }
    /// A finite number `> 0`.
    pub fn positive(text: &str) -> Result<f64, String> {
        match number(text)? {
            v if v.is_finite() && v > 0.0 => Ok(v),
            v => Err(format!("must be a finite number > 0, got {v}")),
        }
    }
    /// A finite number `≥ 0`.
    pub fn non_negative(text: &str) -> Result<f64, String> {
        match number(text)? {
            v if v.is_finite() && v >= 0.0 => Ok(v),
            v => Err(format!("must be a finite number >= 0, got {v}")),
        }
    }
    /// Any finite number.
    pub fn finite(text: &str) -> Result<f64, String> {
        match number(text)? {
            v if v.is_finite() => Ok(v),
            v => Err(format!("must be a finite number, got {v}")),
        }
    }
    /// A whole number `≥ 1`.
    pub fn count(text: &str) -> Result<usize, String> {
        match text.trim().parse::<usize>() {
            Ok(0) => Err("must be at least 1, got 0".into()),
            Ok(v) => Ok(v),
            Err(_) => Err(format!("expected a whole number >= 1, got `{text}`")),
        }
    }
    /// A number in `[0, 1)`.
    pub fn fraction(text: &str) -> Result<f64, String> {
        match number(text)? {
            v if (0.0..1.0).contains(&v) => Ok(v),
            v => Err(format!("must be in [0, 1), got {v}")),
        }
    }
}
