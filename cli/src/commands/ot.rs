//! `solve ot FILE`: entropic optimal transport (dense cost matrix) by Sinkhorn–Newton–Sparse or
//! stabilised Sinkhorn.

use super::{CliError, common_settings, kv, out_err};
use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::exact::ot_exact;
use mathprog_problems::io::ot::{read_ot, read_ot_normalized, read_points};
use mathprog_problems::io::write_atomic;
use mathprog_problems::ot::{GroundCost, MASS_TOLERANCE, OtProblem};
use mathprog_solvers::ot::{OtSettings, sinkhorn, sns};
use std::path::PathBuf;

#[derive(Copy, Clone, Debug, clap::ValueEnum)]
enum Method {
    /// Sinkhorn–Newton–Sparse: a Sinkhorn stage, then sparse Newton steps.
    Sns,
    /// Stabilised Sinkhorn only.
    Sinkhorn,
}

/// Arguments of `solve ot`.
#[derive(Args, Debug)]
pub struct OtArgs {
    /// Instance: `n m`, then n weights a, m weights b, then the n x m cost matrix row by row
    /// (whitespace separated; `#` comments).
    #[arg(value_name = "FILE", required_unless_present_all = ["source", "target"], conflicts_with_all = ["source", "target"])]
    file: Option<PathBuf>,
    /// Source point cloud: one point per line, `x_1 … x_d w` (coordinates, then the weight).
    #[arg(long, value_name = "FILE", requires = "target")]
    source: Option<PathBuf>,
    /// Target point cloud (same format and dimension as --source).
    #[arg(long, value_name = "FILE", requires = "source")]
    target: Option<PathBuf>,
    /// Ground cost between points: sqeuclidean, euclidean, or lp:P (the p-norm distance).
    #[arg(long, value_name = "COST", default_value = "sqeuclidean")]
    cost: String,
    /// Divide the cost matrix by its largest entry (as the usual benchmarks do).
    #[arg(long)]
    scale_cost: bool,
    #[command(flatten)]
    common: CommonArgs,
    /// Entropic regularisation (in cost units).
    #[arg(long, value_name = "R", default_value_t = 1e-2)]
    reg: f64,
    /// Stop when the L1 marginal violation is at most T.
    #[arg(long, value_name = "T", default_value_t = 1e-8)]
    tol: f64,
    /// Algorithm.
    #[arg(long, value_enum, default_value = "sns")]
    method: Method,
    /// SNS: switch from Sinkhorn to Newton once the L1 violation is below this.
    #[arg(long, value_name = "V")]
    switch_violation: Option<f64>,
    /// SNS: Sinkhorn iterations before any switch.
    #[arg(long, value_name = "N")]
    min_sinkhorn: Option<u64>,
    /// Limit on iterations (Newton steps for sns, iterations for sinkhorn).
    #[arg(long, value_name = "N")]
    max_iter: Option<u64>,
    /// Rescale unequal masses to 1 (with a warning) instead of rejecting the file.
    #[arg(long)]
    normalize: bool,
    /// Also solve the unregularised problem exactly (successive shortest paths; small
    /// instances only) and report the EMD cost next to the entropic one.
    #[arg(long)]
    exact: bool,
    /// Plan entries written by --output: those above this value.
    #[arg(long, value_name = "V", default_value_t = 1e-12)]
    plan_threshold: f64,
}

/// The ground cost named by `--cost`.
fn ground_cost(s: &str) -> Result<GroundCost, CliError> {
    match s {
        "sqeuclidean" => Ok(GroundCost::SqEuclidean),
        "euclidean" => Ok(GroundCost::Euclidean),
        _ => match s.strip_prefix("lp:").and_then(|p| p.parse::<f64>().ok()) {
            Some(p) if p >= 1.0 && p.is_finite() => Ok(GroundCost::Lp(p)),
            _ => Err(CliError::Usage(format!(
                "--cost must be sqeuclidean, euclidean or lp:P with P >= 1, got `{s}`"
            ))),
        },
    }
}

/// Run `solve ot`.
pub fn run(a: &OtArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let (p, label) = match (&a.file, &a.source, &a.target) {
        (Some(file), _, _) => {
            let p = if a.normalize {
                let (p, differed) = read_ot_normalized(file)?;
                if differed && !a.common.json {
                    writeln!(
                        io.stderr,
                        "warning: {}: unequal masses, both marginals rescaled to 1",
                        file.display()
                    )
                    .map_err(out_err)?;
                }
                p
            } else {
                read_ot(file)?
            };
            (p, file.display().to_string())
        }
        (None, Some(src), Some(tgt)) => {
            let ground = ground_cost(&a.cost)?;
            let (xs, wa) = read_points(src)?;
            let (ys, wb) = read_points(tgt)?;
            let (sa, sb): (f64, f64) = (wa.iter().sum(), wb.iter().sum());
            let unequal = (sa - sb).abs() > MASS_TOLERANCE * sa.max(sb);
            if unequal && !a.normalize {
                return Err(CliError::Failed(format!(
                    "{} has mass {sa} but {} has mass {sb}; pass --normalize to rescale both to 1",
                    src.display(),
                    tgt.display()
                )));
            }
            let scale = |w: Vec<f64>, s: f64| -> Vec<f64> {
                if a.normalize {
                    w.iter().map(|x| x / s).collect()
                } else {
                    w
                }
            };
            let mut p = OtProblem::from_points(&xs, scale(wa, sa), &ys, scale(wb, sb), ground)
                .map_err(|e| {
                    CliError::Failed(format!("{} / {}: {e}", src.display(), tgt.display()))
                })?;
            if unequal && !a.common.json {
                writeln!(
                    io.stderr,
                    "warning: unequal masses, both marginals rescaled to 1"
                )
                .map_err(out_err)?;
            }
            if a.scale_cost {
                p = p.with_scaled_cost();
            }
            (
                p,
                format!("{} -> {} ({})", src.display(), tgt.display(), a.cost),
            )
        }
        _ => {
            return Err(CliError::Usage(
                "give FILE, or --source and --target".into(),
            ));
        }
    };
    let p = if a.scale_cost && a.file.is_some() {
        p.with_scaled_cost()
    } else {
        p
    };
    let mut s = OtSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = a.max_iter;
    s.reg = a.reg;
    s.tol = a.tol;
    if let Some(v) = a.switch_violation {
        s.sns.switch_violation = v;
    }
    if let Some(v) = a.min_sinkhorn {
        s.sns.min_sinkhorn = v;
    }
    let quiet = a.common.quiet || a.common.json;
    let bar = !quiet && io.stderr_is_terminal;
    let mut report = {
        let mut obs = CliObserver::new(if quiet { None } else { Some(&mut *io.stderr) }, bar);
        match a.method {
            Method::Sns => sns::solve(&p, &s, &mut obs),
            Method::Sinkhorn => sinkhorn::solve(&p, &s, &mut obs),
        }
        .map_err(|e| CliError::Failed(e.to_string()))?
    };
    let file = label;
    report.stats.insert("file".into(), file.clone().into());
    report.stats.insert("n".into(), p.n().into());
    report.stats.insert("m".into(), p.m().into());
    if a.exact {
        let (emd, _) = ot_exact(&p).map_err(|e| CliError::Failed(e.to_string()))?;
        report.stats.insert("emd_cost".into(), emd.into());
    }
    if let Some(path) = &a.common.output {
        let entries = report.solution.plan_sparse(&p, a.plan_threshold);
        write_atomic(path, |w| {
            writeln!(
                w,
                "# transport plan: n m nnz, then i j P_ij (1-based), entries > {:e}",
                a.plan_threshold
            )?;
            writeln!(w, "{} {} {}", p.n(), p.m(), entries.len())?;
            for (i, j, v) in &entries {
                writeln!(w, "{} {} {v:.17e}", i + 1, j + 1)?;
            }
            Ok(())
        })?;
    }
    if a.common.json {
        super::print_json(io.stdout, &report)?;
    } else {
        let out = &mut *io.stdout;
        let st = &report.stats;
        let num = |k: &str| st.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        kv(
            out,
            "problem",
            format!("ot {file} ({} x {}), reg {}", p.n(), p.m(), a.reg),
        )?;
        kv(out, "cost <C,P>", format!("{:.12e}", num("transport_cost")))?;
        kv(
            out,
            "objective",
            format!("{:.12e} (entropic, POT convention)", report.objective),
        )?;
        kv(out, "dual", format!("{:.12e}", num("dual_value")))?;
        kv(
            out,
            "violation",
            format!(
                "{:.3e} (L1, tol {:e})",
                report.residuals["marginal_l1"], a.tol
            ),
        )?;
        if a.exact {
            kv(
                out,
                "EMD cost",
                format!("{:.12e} (exact, unregularised)", num("emd_cost")),
            )?;
        }
        kv(out, "status", report.status)?;
        let it = |k: &str| st.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        match a.method {
            Method::Sns => kv(
                out,
                "iterations",
                format!(
                    "{} Sinkhorn + {} Newton ({} CG)",
                    it("sinkhorn_iterations"),
                    it("newton_steps"),
                    it("cg_iterations")
                ),
            )?,
            Method::Sinkhorn => kv(out, "iterations", report.iterations)?,
        }
        kv(out, "time", format!("{:.3} s", report.elapsed))?;
        kv(out, "threads", report.threads)?;
        if let Some(path) = &a.common.output {
            kv(out, "plan", path.display())?;
        }
    }
    io.stdout.flush().map_err(out_err)?;
    Ok(())
}
