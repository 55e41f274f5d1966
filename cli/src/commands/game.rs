//! `solve game`: zero-sum matrix games `min_x max_y xᵀAy` by (variance-reduced) Halpern
//! iterations with adaptive restarts.

use super::{CliError, backend_line, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::{Args, ValueEnum};
use mathprog_problems::game::{MatrixGame, read_game};
use mathprog_solvers::monotone::{GameSettings, Method, solve_game};
use std::path::PathBuf;

/// Generated games.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GenArg {
    /// Policeman and burglar, A_ij = w_i (1 - exp(-0.8|i - j|)), w_i = |N(0,1)|.
    Policeman,
    /// Entries uniform in [0, 1).
    Uniform,
    /// Entries N(0, 1).
    Gaussian,
}

/// Arguments of `solve game`: a FILE or a generated game.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "generate"])))]
pub struct GameArgs {
    /// The payoff matrix A (row player minimises x'Ay): dense text ("m n" then the entries
    /// row by row) or Matrix Market (array or coordinate).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// Instead of a file: a generated n x n game (seeded by --seed).
    #[arg(long, value_enum, requires = "size")]
    generate: Option<GenArg>,
    /// Size n of the generated game.
    #[arg(long, value_name = "N", value_parser = crate::values::count)]
    size: Option<usize>,
    /// Iteration.
    #[arg(long, value_enum, default_value = "halpern")]
    method: Method,
    /// Stop when the duality gap of the strategies is at most T.
    #[arg(long, value_name = "T", default_value_t = 1e-6, value_parser = crate::values::non_negative)]
    gap: f64,
    /// Stop when the operator residual |u - P(u - F(u))| is at most T (default: off, 0).
    #[arg(long, value_name = "T", default_value_t = 0.0, value_parser = crate::values::non_negative)]
    tol: f64,
    /// Step as a multiple of 1/L.
    #[arg(long, value_name = "S", default_value_t = 1.0, value_parser = crate::values::positive)]
    step_scale: f64,
    /// Try the exact support refinement once the gap is below G (0 disables it).
    #[arg(long, value_name = "G", default_value_t = 1e-2, value_parser = crate::values::non_negative)]
    refine_below: f64,
    /// Disable the adaptive restarts of the anchor.
    #[arg(long)]
    no_restart: bool,
    /// Fixed steps step-scale/|A|_2 (power iteration) instead of adaptive steps (Halpern
    /// and EG).
    #[arg(long)]
    fixed_step: bool,
    /// Limit on epochs (full operator evaluations or n component calls).
    #[arg(long, value_name = "N")]
    max_epochs: Option<u64>,
}

/// Run `solve game`.
pub fn run(a: &GameArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let game = match (&a.file, a.generate) {
        (_, Some(g)) => {
            let n = a.size.unwrap_or(0);
            let seed = a.common.seed;
            match g {
                GenArg::Policeman => MatrixGame::policeman_burglar(n, seed),
                GenArg::Uniform => MatrixGame::uniform(n, n, seed),
                GenArg::Gaussian => MatrixGame::gaussian(n, n, seed),
            }
            .map_err(|e| CliError::Usage(e.to_string()))?
        }
        (Some(path), None) => read_game(path)?,
        // clap's `input` group asks for one of them.
        (None, None) => return Err(CliError::Usage("give a FILE or --generate".into())),
    };
    let mut gs = GameSettings::default();
    let s = &mut gs.monotone;
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = a.max_epochs;
    if s.common.time_limit.is_none() && a.max_epochs.is_none() {
        s.common.time_limit = Some(600.0);
    }
    s.method = a.method;
    s.tol = a.tol;
    s.step_scale = a.step_scale;
    if a.no_restart {
        s.restart_factor = None;
    }
    s.adaptive_step = !a.fixed_step;
    gs.gap_tol = Some(a.gap);
    gs.refine_below = (a.refine_below > 0.0).then_some(a.refine_below);
    let report = super::with_observer(io, &a.common, |obs| solve_game(&game, &gs, obs))?;
    if let Some(path) = &a.common.output {
        super::write_json_file(path, &report.solution)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &(), &())?;
        return super::check_answer(report.status, report.objective);
    }
    let out = &mut *io.stdout;
    kv(
        out,
        "game",
        format!("{} ({} x {})", game.name(), game.rows(), game.cols()),
    )?;
    kv(
        out,
        "value",
        format!(
            "in [{:.10}, {:.10}] (duality gap {:.2e})",
            report.solution.lower,
            report.solution.upper,
            report.residuals.gap.unwrap_or(f64::NAN)
        ),
    )?;
    kv(
        out,
        "residual",
        format!("{:.2e}", report.residuals.residual),
    )?;
    kv(out, "status", report.status)?;
    backend_line(out, &report.backend)?;
    kv(
        out,
        "work",
        format!(
            "{:.1} epochs, {} restarts, {} support refinements ({} improved the gap)",
            report.stats.monotone.epochs,
            report.stats.monotone.restarts,
            report.stats.refinements,
            report.stats.refinements_accepted
        ),
    )?;
    kv(out, "time", format!("{:.3} s", report.elapsed))?;
    out.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}
