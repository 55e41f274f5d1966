//! `solve nlp`: equality-constrained nonlinear programs `min f(x) s.t. c(x) = 0` by the exact
//! augmented Lagrangian with sketched or direct Newton–KKT steps.

use super::{CliError, common_settings, kv, out_err};
use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use clap::{Args, ValueEnum};
use mathprog_problems::nlp::EqualityNlp;
use mathprog_problems::nlp::hs::read_hs_set;
use mathprog_solvers::nlp::kkt::KktMethod;
use mathprog_solvers::nlp::{NlpSettings, solve};
use std::path::PathBuf;

/// KKT solver choices on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KktArg {
    /// Sparse LU (exact).
    Direct,
    /// Block sketch-and-project (the default sketch).
    Sketch,
    /// Randomized Kaczmarz.
    Kaczmarz,
    /// Gaussian sketch.
    Gaussian,
}

/// Arguments of `solve nlp`.
#[derive(Args, Debug)]
pub struct NlpArgs {
    /// Problem set in the JSON format of the Hock–Schittkowski file (name, n, m, objective,
    /// constraints as formulas in x1..xn, x0, f_star, x_star).
    #[arg(
        value_name = "FILE",
        default_value = "../shared/data/nlp/hs_equality.json"
    )]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Problem of the set to solve (case-insensitive, e.g. hs28).
    #[arg(long, value_name = "NAME", required_unless_present_any = ["list", "pde_control"])]
    problem: Option<String>,
    /// Instead of a problem set: 2-D Poisson optimal control on an N x N grid
    /// (min 1/2 |w - w_t|^2 + 0.05 |z|^2 s.t. Lap_h w + z = 0; n = 2N^2, m = N^2).
    #[arg(long, value_name = "N", conflicts_with_all = ["problem", "list"])]
    pde_control: Option<usize>,
    /// List the problems of the set.
    #[arg(long)]
    list: bool,
    /// KKT solver.
    #[arg(long, value_enum, default_value_t = KktArg::Direct)]
    kkt: KktArg,
    /// Rows per block of the sketch solver.
    #[arg(long, value_name = "B", default_value_t = 32)]
    block_size: usize,
    /// Stop when the KKT residual ||(grad L, c)|| is below T (default 1e-8).
    #[arg(long, value_name = "T", default_value_t = 1e-8)]
    tol: f64,
    /// Limit on outer (Newton) iterations.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_iter: u64,
}

/// Run `solve nlp`.
pub fn run(a: &NlpArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let pde;
    let set;
    let (nlp, f_star): (&dyn EqualityNlp, Option<f64>) = if let Some(n) = a.pde_control {
        pde = mathprog_problems::nlp::qp::poisson_control(n, 0.1)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        (&pde, None)
    } else {
        set = read_hs_set(&a.file)?;
        if a.list {
            let out = &mut *io.stdout;
            for p in &set {
                writeln!(
                    out,
                    "{:8} n = {:2}  m = {:2}  f* = {}",
                    p.nlp.name(),
                    p.nlp.num_vars(),
                    p.nlp.num_constraints(),
                    p.f_star
                )
                .map_err(out_err)?;
            }
            return Ok(());
        }
        let want = a.problem.as_deref().unwrap_or("");
        let Some(p) = set.iter().find(|p| p.nlp.name().eq_ignore_ascii_case(want)) else {
            return Err(CliError::Usage(format!(
                "{}: no problem named '{want}' (see --list)",
                a.file.display()
            )));
        };
        (&p.nlp, Some(p.f_star))
    };
    let mut s = NlpSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = Some(a.max_iter);
    s.tol = a.tol;
    s.block_size = a.block_size;
    s.kkt = match a.kkt {
        KktArg::Direct => KktMethod::Direct,
        KktArg::Sketch => KktMethod::Block,
        KktArg::Kaczmarz => KktMethod::Kaczmarz,
        KktArg::Gaussian => KktMethod::Gaussian,
    };
    let quiet = a.common.quiet || a.common.json;
    let bar = !quiet && io.stderr_is_terminal;
    let mut report = {
        let mut obs = CliObserver::new(if quiet { None } else { Some(&mut *io.stderr) }, bar);
        solve(nlp, &s, &mut obs).map_err(|e| CliError::Failed(e.to_string()))?
    };
    if let Some(f) = f_star {
        report.stats.insert("f_star".into(), f.into());
        report
            .stats
            .insert("file".into(), a.file.display().to_string().into());
    }
    if let Some(path) = &a.common.output {
        let text = serde_json::to_string_pretty(&report.solution)
            .map_err(|e| CliError::Failed(e.to_string()))?;
        mathprog_problems::io::write_atomic(path, |w| w.write_all(text.as_bytes()))?;
    }
    if a.common.json {
        return super::print_json(io.stdout, &report);
    }
    let out = &mut *io.stdout;
    kv(
        out,
        "problem",
        format!(
            "{} (n = {}, m = {})",
            nlp.name(),
            nlp.num_vars(),
            nlp.num_constraints()
        ),
    )?;
    match f_star {
        Some(f) => kv(
            out,
            "objective",
            format!("{:.10e} (known optimum {f:.10e})", report.objective),
        )?,
        None => kv(out, "objective", format!("{:.10e}", report.objective))?,
    }
    kv(
        out,
        "residuals",
        format!(
            "KKT {:.2e}, stationarity {:.2e}, constraint violation {:.2e}",
            report.residuals["kkt"],
            report.residuals["stationarity"],
            report.residuals["constraint_violation"]
        ),
    )?;
    kv(out, "status", report.status)?;
    kv(
        out,
        "iterations",
        format!(
            "{} Newton, {} sketch steps ({:?} KKT solver)",
            report.iterations, report.stats["inner_iterations"], s.kkt
        ),
    )?;
    if nlp.num_vars() <= 20 {
        kv(out, "x", format!("{:?}", report.solution.x))?;
        kv(out, "lambda", format!("{:?}", report.solution.lambda))?;
    }
    kv(out, "time", format!("{:.4} s", report.elapsed))?;
    io.stdout.flush().map_err(out_err)?;
    Ok(())
}
