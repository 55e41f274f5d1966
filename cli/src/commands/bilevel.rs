//! `solve bilevel`: bilevel problems by the value-function penalty method (Kwon, Kwon, Wright
//! & Nowak, ICLR 2024), with implicit differentiation (AID) as the baseline.

use super::{CliError, backend_line, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::{Args, ValueEnum};
use mathprog_problems::bilevel::Bilevel;
use mathprog_problems::bilevel::hyperclean::{HyperCleaning, Labelled};
use mathprog_problems::bilevel::nonunique::NonUniqueToy;
use mathprog_problems::bilevel::quadratic::QuadraticBilevel;
use mathprog_problems::bilevel::ridge::RidgeBilevel;
use mathprog_problems::io::libsvm::read_libsvm;
use mathprog_solvers::bilevel::{BilevelMethod, BilevelReport, BilevelSettings, solve};
use serde::Serialize;
use std::path::PathBuf;

/// Built-in problem classes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KindArg {
    /// Quadratic problem with strongly convex lower level (closed-form x*).
    Quadratic,
    /// Toy with non-unique lower-level solutions (x* = y* = 1).
    Nonunique,
    /// Ridge-regression hyper-parameter tuning (u = log lambda).
    Ridge,
    /// Data hyper-cleaning: per-sample weights for logistic regression.
    Hyperclean,
}

/// Methods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum MethodArg {
    /// Value-function penalty, deterministic double loop.
    Penalty,
    /// Approximate implicit differentiation (CG on Hessian-vector products).
    Aid,
    /// Stochastic single-loop penalty method with momentum (STORM) estimators.
    Stochastic,
}

/// Arguments of `solve bilevel`: the problem class as PROBLEM or --problem.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("class").required(true).args(["kind", "problem"])))]
pub struct BilevelArgs {
    /// Problem class (or --problem).
    #[arg(value_enum, value_name = "PROBLEM")]
    kind: Option<KindArg>,
    /// Problem class.
    #[arg(long, value_enum)]
    problem: Option<KindArg>,
    #[command(flatten)]
    common: CommonArgs,
    /// Training set (LIBSVM format; ridge: targets, hyperclean: binary labels, possibly noisy).
    #[arg(long, value_name = "FILE", requires = "val")]
    train: Option<PathBuf>,
    /// Validation set (LIBSVM format, clean).
    #[arg(long, value_name = "FILE")]
    val: Option<PathBuf>,
    /// Test set (LIBSVM format) for the reported accuracy / error.
    #[arg(long, value_name = "FILE")]
    test: Option<PathBuf>,
    /// Penalty parameter sigma (the answer is O(sigma) from the bilevel solution; default
    /// 1e-3, hyperclean 0.1).
    #[arg(long, value_name = "S", value_parser = crate::values::positive)]
    sigma: Option<f64>,
    /// Method.
    #[arg(long, value_enum, default_value_t = MethodArg::Penalty)]
    method: MethodArg,
    /// Stop when the stationarity |x - P(x - grad psi)| is at most T (default 1e-6,
    /// hyperclean 1e-5: its gradient entries scale like 1/n).
    #[arg(long, value_name = "T", value_parser = crate::values::non_negative)]
    tol: Option<f64>,
    /// Cap on the steps of one inner solve.
    #[arg(long, value_name = "N", default_value_t = 20_000, value_parser = crate::values::count)]
    max_inner: usize,
    /// Generated instances: number of training samples (hyperclean 1000, ridge 100) or the
    /// dimension of x (quadratic 5, nonunique 10).
    #[arg(long, value_name = "N", value_parser = crate::values::count)]
    size: Option<usize>,
    /// Generated instances: number of features (hyperclean 20, ridge 50, quadratic q = 8).
    #[arg(long, value_name = "D", value_parser = crate::values::count)]
    dim: Option<usize>,
    /// Generated hyper-cleaning: fraction of flipped training labels.
    #[arg(long, value_name = "F", default_value_t = 0.3, value_parser = crate::values::fraction)]
    flip: f64,
    /// sigma continuation (penalty method): start at S0 and divide by 10 down to --sigma.
    #[arg(long, value_name = "S0", value_parser = crate::values::positive)]
    sigma0: Option<f64>,
    /// Minibatch size of --method stochastic.
    #[arg(long, value_name = "B", default_value_t = 32, value_parser = crate::values::count)]
    batch: usize,
    /// Upper-level step (default sigma/L_g, hyperclean with --method stochastic 0.1 n; the
    /// stochastic method keeps it fixed).
    #[arg(long, value_name = "A", value_parser = crate::values::positive)]
    step: Option<f64>,
    /// Ridge of the hyper-cleaning lower level (files only; generated sets use 1e-3).
    #[arg(long, value_name = "C", default_value_t = 1e-3, value_parser = crate::values::positive)]
    ridge: f64,
}

fn read(path: &PathBuf) -> Result<mathprog_problems::io::libsvm::LibsvmData, CliError> {
    Ok(read_libsvm(path, None)?)
}

/// Run `solve bilevel`.
pub fn run(a: &BilevelArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let kind = a.kind.or(a.problem).ok_or_else(|| {
        CliError::Usage("give a problem: quadratic|nonunique|ridge|hyperclean".into())
    })?;
    let mut s = BilevelSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    let hc = kind == KindArg::Hyperclean;
    s.sigma = a.sigma.unwrap_or(if hc { 0.1 } else { 1e-3 });
    s.tol = a.tol.unwrap_or(if hc { 1e-5 } else { 1e-6 });
    let sigma = s.sigma;
    s.max_inner = a.max_inner;
    s.step0 = a.step;
    s.sigma0 = a.sigma0;
    s.method = match a.method {
        MethodArg::Penalty => BilevelMethod::Penalty,
        MethodArg::Aid => BilevelMethod::Aid,
        MethodArg::Stochastic => BilevelMethod::Stochastic { batch: a.batch },
    };
    if s.common.time_limit.is_none() && s.common.max_iter.is_none() {
        s.common.time_limit = Some(600.0);
    }
    let mut out = Summary::default();
    let report = match kind {
        KindArg::Quadratic => run_quadratic(a, &s, io, &mut out)?,
        KindArg::Nonunique => run_nonunique(a, &s, io, &mut out)?,
        KindArg::Ridge => run_ridge(a, &s, io, &mut out)?,
        KindArg::Hyperclean => run_hyperclean(a, &s, io, &mut out)?,
    };
    let Summary { lines, facts } = out;
    if let Some(path) = &a.common.output {
        super::write_json_file(path, &report.solution)?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
        return super::check_answer(report.status, report.objective);
    }
    let out = &mut *io.stdout;
    kv(out, "problem", &report.problem)?;
    kv(
        out,
        "method",
        format!("{} (sigma = {:e})", report.algorithm, sigma),
    )?;
    kv(out, "objective f", format!("{:.10}", report.objective))?;
    if report.solution.x.len() <= 10 {
        kv(out, "x", format!("{:.6?}", report.solution.x))?;
    }
    for (k, v) in lines {
        kv(out, k, v)?;
    }
    kv(
        out,
        "certificates",
        format!(
            "stationarity {:.2e}, lower-level gap {:.2e}",
            report.residuals.stationarity, report.residuals.ll_gap
        ),
    )?;
    kv(out, "status", report.status)?;
    backend_line(out, &report.backend)?;
    kv(out, "work", {
        let st = &report.stats;
        let n = |v: Option<usize>| v.unwrap_or(0);
        match st.samples {
            Some(samples) => format!(
                "{} iterations, {samples} samples, {} full evaluations",
                st.outer_iterations,
                n(st.full_evaluations)
            ),
            None => format!(
                "{} outer iterations, {} grad f, {} grad g, {} Hessian products",
                st.outer_iterations,
                n(st.grad_f_calls),
                n(st.grad_g_calls),
                n(st.hessian_products)
            ),
        }
    })?;
    kv(out, "time", format!("{:.3} s", report.elapsed))?;
    out.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// A problem built from flag values that does not make sense: a usage error.
fn inval(e: mathprog_problems::error::ProblemError) -> CliError {
    CliError::Usage(e.to_string())
}

/// Bad data in the input files: exit 1, not a usage error.
fn data_err(e: mathprog_problems::error::ProblemError) -> CliError {
    CliError::Failed(e.to_string())
}

/// Solve with the CLI's observer.
fn run_method(
    a: &BilevelArgs,
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    io: &mut Io<'_>,
) -> Result<BilevelReport, CliError> {
    super::with_observer(io, &a.common, |obs| solve(prob, s, obs))
}

/// What the summary prints about the answer (and the JSON carries in `stats`).
#[derive(Default)]
struct Summary {
    lines: Vec<(&'static str, String)>,
    facts: BilevelFacts,
}

/// The quadratic problem with closed-form `x*`: distance to it and the penalty bias.
fn run_quadratic(
    a: &BilevelArgs,
    s: &BilevelSettings,
    io: &mut Io<'_>,
    out: &mut Summary,
) -> Result<BilevelReport, CliError> {
    let (seed, sigma) = (a.common.seed, s.sigma);
    let (lines, facts) = (&mut out.lines, &mut out.facts);
    let prob = QuadraticBilevel::generate(a.size.unwrap_or(5), a.dim.unwrap_or(8), 0.1, seed)
        .map_err(inval)?;
    let r = run_method(a, &prob, s, io)?;
    let xs = prob.x_star();
    let dist = |u: &[f64]| {
        u.iter()
            .zip(&xs)
            .map(|(p, q)| (p - q) * (p - q))
            .sum::<f64>()
            .sqrt()
    };
    let (d, bias) = (dist(&r.solution.x), dist(&prob.x_sigma(sigma)));
    lines.push(("|x - x*|", format!("{d:.3e}")));
    lines.push((
        "penalty bias",
        format!("{bias:.3e} (|x_sigma - x*|, closed form)"),
    ));
    facts.x_star_distance = Some(d);
    facts.penalty_bias = Some(bias);
    Ok(r)
}

/// The toy with non-unique lower-level solutions (`x* = 1`).
fn run_nonunique(
    a: &BilevelArgs,
    s: &BilevelSettings,
    io: &mut Io<'_>,
    out: &mut Summary,
) -> Result<BilevelReport, CliError> {
    let seed = a.common.seed;
    let (lines, facts) = (&mut out.lines, &mut out.facts);
    let d = a.size.unwrap_or(10);
    let x0: Vec<f64> = (0..d)
        .map(|i| 3.0 * ((i as f64 + seed as f64) * 1.7).sin())
        .collect();
    let prob = NonUniqueToy::new(x0).map_err(inval)?;
    let r = run_method(a, &prob, s, io)?;
    let e = r
        .solution
        .x
        .iter()
        .map(|v| (v - 1.0) * (v - 1.0))
        .sum::<f64>()
        .sqrt();
    lines.push(("|x - 1|", format!("{e:.3e}")));
    facts.x_star_distance = Some(e);
    Ok(r)
}

/// Ridge-regression tuning (LIBSVM files or generated): λ, validation and test loss.
fn run_ridge(
    a: &BilevelArgs,
    s: &BilevelSettings,
    io: &mut Io<'_>,
    out: &mut Summary,
) -> Result<BilevelReport, CliError> {
    let seed = a.common.seed;
    let (lines, facts) = (&mut out.lines, &mut out.facts);
    let (prob, test) = match (&a.train, &a.val) {
        (Some(tr), Some(va)) => {
            let (tr, va) = (read(tr)?, read(va)?);
            let test = match a.test.as_ref().map(read).transpose()? {
                Some(t) => {
                    let d = t.dim();
                    Some((t.to_dense(d).map_err(data_err)?, t.labels, d))
                }
                None => None,
            };
            (
                RidgeBilevel::from_libsvm(&tr, &va, 0.0).map_err(data_err)?,
                test,
            )
        }
        _ => {
            let d = a.dim.unwrap_or(50);
            let n = a.size.unwrap_or(100);
            let (p, xte, yte) = RidgeBilevel::generate(d, n, n, 2000, seed).map_err(inval)?;
            (p, Some((xte, yte, d)))
        }
    };
    let r = run_method(a, &prob, s, io)?;
    let u = r.solution.x[0];
    let val_loss = prob.validation_loss(u);
    lines.push(("lambda", format!("{:.6e} (log lambda = {u:.4})", u.exp())));
    lines.push(("val loss", format!("{val_loss:.6}")));
    facts.lambda = Some(u.exp());
    facts.validation_loss = Some(val_loss);
    if let Some((x, y, d)) = test {
        let w = &r.solution.z;
        let mse = (0..y.len())
            .map(|k| {
                let p: f64 = (0..d.min(w.len())).map(|j| x[k * d + j] * w[j]).sum();
                (p - y[k]) * (p - y[k])
            })
            .sum::<f64>()
            / (2.0 * y.len().max(1) as f64);
        lines.push(("test MSE/2", format!("{mse:.6}")));
        facts.test_half_mse = Some(mse);
    }
    Ok(r)
}

/// Data hyper-cleaning (LIBSVM files or generated): flagged samples, test accuracy, F1 against the flipped labels.
fn run_hyperclean(
    a: &BilevelArgs,
    s: &BilevelSettings,
    io: &mut Io<'_>,
    out: &mut Summary,
) -> Result<BilevelReport, CliError> {
    let seed = a.common.seed;
    let (lines, facts) = (&mut out.lines, &mut out.facts);
    let (prob, test, bad) = match (&a.train, &a.val) {
        (Some(tr), Some(va)) => {
            let (tr, va) = (read(tr)?, read(va)?);
            let te = a.test.as_ref().map(read).transpose()?;
            let d = tr
                .dim()
                .max(va.dim())
                .max(te.as_ref().map_or(0, |t| t.dim()));
            let train = Labelled::from_libsvm(&tr, d).map_err(data_err)?;
            let val = Labelled::from_libsvm(&va, d).map_err(data_err)?;
            let test = te
                .map(|t| Labelled::from_libsvm(&t, d))
                .transpose()
                .map_err(data_err)?;
            (
                HyperCleaning::new(train, val, a.ridge).map_err(data_err)?,
                test,
                None,
            )
        }
        _ => {
            let (p, t, b) = HyperCleaning::generate(
                a.size.unwrap_or(1000),
                200,
                5000,
                a.dim.unwrap_or(20),
                a.flip,
                seed,
            )
            .map_err(inval)?;
            (p, Some(t), Some(b))
        }
    };
    // Each weight's hypergradient is O(1/n): the stochastic method's fixed step
    // defaults to 0.1·n.
    let mut hs = s.clone();
    if a.step.is_none() && a.method == MethodArg::Stochastic {
        hs.step0 = Some(0.1 * prob.train().len() as f64);
    }
    let r = run_method(a, &prob, &hs, io)?;
    let flagged = prob.flagged(&r.solution.x);
    let nflag = flagged.iter().filter(|f| **f).count();
    lines.push(("flagged samples", format!("{nflag} of {}", flagged.len())));
    facts.flagged_samples = Some(nflag);
    if let Some(t) = &test {
        let acc = t.accuracy(&r.solution.z);
        lines.push(("test accuracy", format!("{acc:.4}")));
        facts.test_accuracy = Some(acc);
    }
    if let Some(bad) = bad {
        let tp = flagged.iter().zip(&bad).filter(|(f, b)| **f && **b).count() as f64;
        let prec = tp / nflag.max(1) as f64;
        let rec = tp / bad.iter().filter(|b| **b).count().max(1) as f64;
        let f1 = 2.0 * prec * rec / (prec + rec).max(1e-12);
        lines.push((
            "flipped F1",
            format!("{f1:.3} (precision {prec:.3}, recall {rec:.3})"),
        ));
        facts.flipped_f1 = Some(f1);
        facts.flipped_precision = Some(prec);
        facts.flipped_recall = Some(rec);
    }
    Ok(r)
}

/// What `solve bilevel` adds to the report's `stats`: the figures of the human summary.
#[derive(Serialize, Default)]
struct BilevelFacts {
    /// `|x − x*|` (quadratic: the closed-form solution; nonunique: `x* = 1`).
    #[serde(skip_serializing_if = "Option::is_none")]
    x_star_distance: Option<f64>,
    /// `|x_σ − x*|`, the penalty's bias (quadratic, closed form).
    #[serde(skip_serializing_if = "Option::is_none")]
    penalty_bias: Option<f64>,
    /// The ridge parameter found (ridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    lambda: Option<f64>,
    /// Validation loss at it (ridge).
    #[serde(skip_serializing_if = "Option::is_none")]
    validation_loss: Option<f64>,
    /// Test mean squared error / 2 (ridge with a test set).
    #[serde(skip_serializing_if = "Option::is_none")]
    test_half_mse: Option<f64>,
    /// Training samples flagged as mislabelled (hyperclean).
    #[serde(skip_serializing_if = "Option::is_none")]
    flagged_samples: Option<usize>,
    /// Test accuracy (hyperclean with a test set).
    #[serde(skip_serializing_if = "Option::is_none")]
    test_accuracy: Option<f64>,
    /// F1, precision and recall of the flagged samples against the flipped ones (generated
    /// hyperclean).
    #[serde(skip_serializing_if = "Option::is_none")]
    flipped_f1: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flipped_precision: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    flipped_recall: Option<f64>,
}
