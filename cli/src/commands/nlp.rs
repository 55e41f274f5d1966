//! `solve nlp`: equality-constrained nonlinear programs `min f(x) s.t. c(x) = 0` by the exact
//! augmented Lagrangian with sketched or direct Newton–KKT steps.

use super::{CliError, backend_line, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::libsvm::read_libsvm;
use mathprog_problems::nlp::EqualityNlp;
use mathprog_problems::nlp::hs::{BUNDLED_HS_NAME, bundled_hs_set, read_hs_set};
use mathprog_problems::nlp::logreg::LogisticRegressionNlp;
use mathprog_solvers::nlp::kkt::KktMethod;
use mathprog_solvers::nlp::{NlpSettings, solve};
use serde::Serialize;
use std::path::PathBuf;

/// Arguments of `solve nlp`.
#[derive(Args, Debug)]
pub struct NlpArgs {
    /// Problem set in the JSON format of the Hock–Schittkowski file (name, n, m, objective,
    /// constraints as formulas in x1..xn, x0, f_star, x_star). Default: the 19 equality-constrained
    /// Hock–Schittkowski problems built into the binary (`data/suites/nlp/hs_equality.json`).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// Problem of the set to solve (case-insensitive, e.g. hs28).
    #[arg(
        long,
        value_name = "NAME",
        required_unless_present_any = ["list", "pde_control", "logreg", "logreg_random"]
    )]
    problem: Option<String>,
    /// Instead of a problem set: 2-D Poisson optimal control on an N x N grid
    /// (min 1/2 |w - w_t|^2 + 0.05 |z|^2 s.t. Lap_h w + z = 0; n = 2N^2, m = N^2).
    #[arg(long, value_name = "N", conflicts_with_all = ["problem", "list", "logreg", "logreg_random"], value_parser = crate::values::count)]
    pde_control: Option<usize>,
    /// Instead of a problem set: equality-constrained logistic regression on a LIBSVM file
    /// (binary labels): min mean log(1 + exp(-y a'x)) + ridge/2 |x|^2 s.t. C x = d
    /// (C: Gaussian, --constraints rows, drawn from --seed) [and |x|^2 = 1 with --sphere].
    #[arg(long, value_name = "FILE.libsvm", conflicts_with_all = ["problem", "list", "logreg_random"])]
    logreg: Option<PathBuf>,
    /// Like --logreg on a synthetic data set with N = n samples in n dimensions (Gaussian
    /// features, 10 % label noise; the instance of bench/nlp_ipopt.py), drawn from --seed.
    #[arg(long, value_name = "n", conflicts_with_all = ["problem", "list"], value_parser = crate::values::count)]
    logreg_random: Option<usize>,
    /// Number of linear constraints C x = d of the logistic regression.
    #[arg(long, value_name = "M", default_value_t = 10)]
    constraints: usize,
    /// Add the constraint |x|^2 = 1 to the logistic regression.
    #[arg(long)]
    sphere: bool,
    /// Write the logistic-regression instance as NumPy files (A.npy, y.npy, C.npy, d.npy,
    /// x0.npy, instance.json) into DIR before solving, for running other solvers on it.
    #[arg(long, value_name = "DIR")]
    export_npy: Option<PathBuf>,
    /// Ridge of the logistic regression (default: 1e-4, or 0 with --sphere).
    #[arg(long, value_name = "R")]
    ridge: Option<f64>,
    /// List the problems of the set.
    #[arg(long)]
    list: bool,
    /// KKT solver.
    #[arg(long, value_enum, default_value = "auto")]
    kkt: KktMethod,
    /// Rows per block of the sketch solver.
    #[arg(long, value_name = "B", default_value_t = 32, value_parser = crate::values::count)]
    block_size: usize,
    /// Stop when the KKT residual ||(grad L, c)|| is below T (default 1e-8).
    #[arg(long, value_name = "T", default_value_t = 1e-8, value_parser = crate::values::positive)]
    tol: f64,
    /// Inner accuracy schedule of the sketch/CG solvers: theta_k = min(1, |grad L|)
    /// (superlinear local rate, the default) or theta_k = 1 (linear rate, cheaper inner solves).
    #[arg(long)]
    linear_rate: bool,
    /// Sketch or CG steps per KKT solve at most.
    #[arg(long, value_name = "N", default_value_t = 100_000, value_parser = crate::values::count)]
    max_inner: usize,
    /// Limit on outer (Newton) iterations.
    #[arg(long, value_name = "N", default_value_t = 1000)]
    max_iter: u64,
}

/// Run `solve nlp`.
pub fn run(a: &NlpArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let pde;
    let set;
    let logreg;
    let seed = a.common.seed;
    let ridge = a.ridge.unwrap_or(if a.sphere { 0.0 } else { 1e-4 });
    if !(ridge >= 0.0 && ridge.is_finite()) {
        return Err(CliError::Usage(
            "--ridge must be a finite number >= 0".into(),
        ));
    }
    let (nlp, f_star): (&dyn EqualityNlp, Option<f64>) = if let Some(n) = a.pde_control {
        pde = mathprog_problems::nlp::qp::poisson_control(n, 0.1)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        (&pde, None)
    } else if let Some(path) = &a.logreg {
        let data = read_libsvm(path, None)?;
        let name = path
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_else(|| "logreg".into());
        logreg =
            LogisticRegressionNlp::from_libsvm(&name, data, a.constraints, a.sphere, ridge, seed)
                .map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?;
        if let Some(dir) = &a.export_npy {
            logreg.export_npy(dir)?;
        }
        (&logreg, None)
    } else if let Some(n) = a.logreg_random {
        logreg = LogisticRegressionNlp::generate(n, a.constraints, a.sphere, seed)
            .map_err(|e| CliError::Usage(e.to_string()))?
            .with_ridge(ridge)
            .map_err(|e| CliError::Usage(e.to_string()))?;
        if let Some(dir) = &a.export_npy {
            logreg.export_npy(dir)?;
        }
        (&logreg, None)
    } else {
        set = match &a.file {
            Some(f) => read_hs_set(f)?,
            None => bundled_hs_set(),
        };
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
                set_name(&a.file)
            )));
        };
        (&p.nlp, Some(p.f_star))
    };
    let mut s = NlpSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = Some(a.max_iter);
    s.tol = a.tol;
    s.block_size = a.block_size;
    s.superlinear = !a.linear_rate;
    s.max_inner = a.max_inner;
    s.kkt = a.kkt;
    let report = super::with_observer(io, &a.common, |obs| solve(nlp, &s, obs))?;
    // Problems of a set: the set's file and the known optimum.
    let facts = f_star.map(|f| SetFacts {
        f_star: f,
        file: set_name(&a.file),
    });
    if let Some(path) = &a.common.output {
        super::write_json_file(path, &report.solution)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
        return super::check_answer_why(
            report.status,
            report.objective,
            report.stats.failure.as_deref(),
        );
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
            report.residuals.kkt,
            report.residuals.stationarity,
            report.residuals.constraint_violation
        ),
    )?;
    kv(out, "status", report.status)?;
    backend_line(out, &report.backend)?;
    kv(
        out,
        "iterations",
        format!(
            "{} Newton, {} inner steps ({} KKT solver)",
            report.iterations,
            report.stats.inner_iterations,
            report.stats.kkt_solver.name()
        ),
    )?;
    if nlp.num_vars() <= 20 {
        kv(out, "x", format!("{:?}", report.solution.x))?;
        kv(out, "lambda", format!("{:?}", report.solution.lambda))?;
    }
    kv(out, "time", format!("{:.4} s", report.elapsed))?;
    io.stdout.flush().map_err(out_err)?;
    super::check_answer_why(
        report.status,
        report.objective,
        report.stats.failure.as_deref(),
    )
}

/// The problem set's name in messages and reports: its path, or the built-in set's name.
fn set_name(file: &Option<PathBuf>) -> String {
    file.as_ref()
        .map_or(BUNDLED_HS_NAME.to_string(), |f| f.display().to_string())
}

/// What `solve nlp` adds to the report's `stats` for a problem of a set.
#[derive(Serialize)]
struct SetFacts {
    f_star: f64,
    file: String,
}
