//! `solve ot`: entropic optimal transport (dense cost matrix, point clouds or grid histograms)
//! by Sinkhorn–Newton–Sparse or stabilised Sinkhorn.

use super::{CliError, backend_line, common_settings, kv, out_err};
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::exact::ot_exact;
use mathprog_problems::io::ot::{read_grid, read_ot, read_ot_normalized, read_points, write_plan};
use mathprog_problems::ot::{
    GridHistogram, GridSupport, GroundCost, MASS_TOLERANCE, OtProblem, unit_mass,
};
use mathprog_solvers::ot::{OtMethod, OtSettings, solve};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Copy, Clone, Debug, clap::ValueEnum)]
enum Method {
    /// Sinkhorn–Newton–Sparse: a Sinkhorn stage, then sparse Newton steps.
    Sns,
    /// Stabilised Sinkhorn only.
    Sinkhorn,
}

/// Arguments of `solve ot`: one input, a dense instance FILE, two point clouds or two grids.
#[derive(Args, Debug)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["file", "source", "source_grid"])))]
pub struct OtArgs {
    /// Instance: `n m`, then n weights a, m weights b, then the n x m cost matrix row by row
    /// (whitespace separated; `#` comments).
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// Source point cloud: one point per line, `x_1 … x_d w` (coordinates, then the weight).
    #[arg(long, value_name = "FILE", requires = "target")]
    source: Option<PathBuf>,
    /// Target point cloud (same format and dimension as --source).
    #[arg(long, value_name = "FILE", requires = "source")]
    target: Option<PathBuf>,
    /// Source histogram on a regular grid: `.npy` (any dimension), a `grid n_1 … n_d` header
    /// then the weights row-major, or a matrix with one grid row per line (DOTmark images).
    /// Cells sit at their centres in the unit cube; empty cells are dropped.
    #[arg(long, value_name = "FILE", requires = "target_grid")]
    source_grid: Option<PathBuf>,
    /// Target grid histogram (same dimension as --source-grid, any resolution).
    #[arg(long, value_name = "FILE", requires = "source_grid")]
    target_grid: Option<PathBuf>,
    /// Grid cell size on every axis instead of 1/n_k (1 for pixel units).
    #[arg(long, value_name = "H", requires = "source_grid", value_parser = crate::values::positive)]
    cell_size: Option<f64>,
    /// Ground cost between points: sqeuclidean, euclidean, or lp:P (the p-norm distance).
    #[arg(long, value_name = "COST", default_value = "sqeuclidean")]
    cost: GroundCost,
    /// Divide the cost matrix by its largest entry (as the usual benchmarks do).
    #[arg(long)]
    scale_cost: bool,
    #[command(flatten)]
    common: CommonArgs,
    /// Entropic regularisation (in cost units).
    #[arg(long, value_name = "R", default_value_t = 1e-2, value_parser = crate::values::positive)]
    reg: f64,
    /// Stop when the L1 marginal violation is at most T.
    #[arg(long, value_name = "T", default_value_t = 1e-8, value_parser = crate::values::positive)]
    tol: f64,
    /// Method.
    #[arg(long, value_enum, default_value = "sns")]
    method: OtMethod,
    /// SNS: switch from Sinkhorn to Newton once the L1 violation is below this.
    #[arg(long, value_name = "V", value_parser = crate::values::positive)]
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
    #[arg(long, value_name = "V", default_value_t = 1e-12, value_parser = crate::values::non_negative)]
    plan_threshold: f64,
}

/// Check that two weight sets have equal mass (within [`MASS_TOLERANCE`]); unequal masses are
/// an error unless `--normalize`, in which case a warning is printed (not with `--json`).
/// Returns whether the masses differ (the caller rescales both to 1).
fn check_masses(
    a: &OtArgs,
    (sa, sb): (f64, f64),
    src: &std::path::Path,
    tgt: &std::path::Path,
    io: &mut Io<'_>,
) -> Result<bool, CliError> {
    let unequal = (sa - sb).abs() > MASS_TOLERANCE * sa.max(sb);
    if unequal && !a.normalize {
        return Err(CliError::Failed(format!(
            "{} has mass {sa} but {} has mass {sb}; pass --normalize to rescale both to 1",
            src.display(),
            tgt.display()
        )));
    }
    if unequal && !a.common.json {
        writeln!(
            io.stderr,
            "warning: unequal masses, both marginals rescaled to 1"
        )
        .map_err(out_err)?;
    }
    Ok(unequal)
}

/// The ground cost named by `--cost`.
/// Run `solve ot`.
pub fn run(a: &OtArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let (p, label, support) = match (&a.file, &a.source, &a.source_grid) {
        (Some(file), _, _) => (load_dense(a, file, io)?, file.display().to_string(), None),
        (None, Some(src), _) => {
            let tgt = a
                .target
                .as_ref()
                .ok_or_else(|| CliError::Usage("--source needs --target".into()))?;
            load_points(a, src, tgt, io)?
        }
        (None, None, Some(src)) => {
            let tgt = a
                .target_grid
                .as_ref()
                .ok_or_else(|| CliError::Usage("--source-grid needs --target-grid".into()))?;
            load_grids(a, src, tgt, io)?
        }
        // clap's `input` group asks for one of them.
        (None, None, None) => {
            return Err(CliError::Usage(
                "give FILE, --source and --target, or --source-grid and --target-grid".into(),
            ));
        }
    };
    // Costs of point clouds and grids are in the units of the coordinates: the Wasserstein
    // distance is reported in those units even when --scale-cost divides them.
    let geometric = a.file.is_none();
    let cost_unit = if a.scale_cost && p.max_cost() > 0.0 {
        p.max_cost()
    } else {
        1.0
    };
    let p = if a.scale_cost {
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
    s.method = a.method;
    let report = super::with_observer(io, &a.common, |obs| solve(&p, &s, obs))?;
    let file = label;
    let emd_cost = if a.exact {
        Some(ot_exact(&p).map_err(|e| CliError::Failed(e.to_string()))?.0)
    } else {
        None
    };
    // W_p of the (discretised) measures from the plan's cost, an upper bound on the exact one
    // up to the marginal violation; exact with --exact.
    let wasserstein = if geometric {
        let (name, w) = a.cost.wasserstein(report.stats.transport_cost * cost_unit);
        let exact = emd_cost.map(|e| a.cost.wasserstein(e * cost_unit).1);
        Some(Wasserstein {
            wasserstein: w,
            wasserstein_kind: name,
            wasserstein_exact: exact,
        })
    } else {
        None
    };
    let facts = OtFacts {
        file: file.clone(),
        n: p.n(),
        m: p.m(),
        emd_cost,
        wasserstein: wasserstein.clone(),
    };
    if let Some(path) = &a.common.output {
        let entries = report.solution.plan_sparse(&p, a.plan_threshold);
        write_plan(
            path,
            p.n(),
            p.m(),
            &entries,
            support.as_ref(),
            a.plan_threshold,
        )?;
    }
    if a.common.json {
        super::print_report(io.stdout, &report, &facts, &())?;
    } else {
        let out = &mut *io.stdout;
        let st = &report.stats;
        kv(
            out,
            "problem",
            format!("ot {file} ({} x {}), reg {}", p.n(), p.m(), a.reg),
        )?;
        kv(out, "cost <C,P>", format!("{:.12e}", st.transport_cost))?;
        kv(
            out,
            "objective",
            format!("{:.12e} (entropic, POT convention)", report.objective),
        )?;
        kv(out, "dual", format!("{:.12e}", st.dual_value))?;
        kv(
            out,
            "violation",
            format!("{:.3e} (L1, tol {:e})", report.residuals.marginal_l1, a.tol),
        )?;
        if let Some(e) = emd_cost {
            kv(out, "EMD cost", format!("{e:.12e} (exact, unregularised)"))?;
        }
        if let Some(w) = wasserstein {
            let exact = w
                .wasserstein_exact
                .map_or(String::new(), |e| format!("; exact {e:.12e}"));
            kv(
                out,
                w.wasserstein_kind,
                format!("{:.12e} (from <C,P>{exact})", w.wasserstein),
            )?;
        }
        kv(out, "status", report.status)?;
        backend_line(out, &report.backend)?;
        match &st.sns {
            Some(sns) => kv(
                out,
                "iterations",
                format!(
                    "{} Sinkhorn + {} Newton ({} CG)",
                    st.sinkhorn_iterations, sns.newton_steps, sns.cg_iterations
                ),
            )?,
            None => kv(out, "iterations", report.iterations)?,
        }
        kv(out, "time", format!("{:.3} s", report.elapsed))?;
        kv(out, "threads", report.threads)?;
        if let Some(path) = &a.common.output {
            kv(out, "plan", path.display())?;
        }
    }
    io.stdout.flush().map_err(out_err)?;
    super::check_answer(report.status, report.objective)
}

/// A dense instance file (rescaled to unit masses with `--normalize`).
fn load_dense(a: &OtArgs, file: &Path, io: &mut Io<'_>) -> Result<OtProblem, CliError> {
    if !a.normalize {
        return Ok(read_ot(file)?);
    }
    let (p, differed) = read_ot_normalized(file)?;
    if differed && !a.common.json {
        writeln!(
            io.stderr,
            "warning: {}: unequal masses, both marginals rescaled to 1",
            file.display()
        )
        .map_err(out_err)?;
    }
    Ok(p)
}

/// Two point clouds under the ground cost of `--cost`.
fn load_points(
    a: &OtArgs,
    src: &Path,
    tgt: &Path,
    io: &mut Io<'_>,
) -> Result<(OtProblem, String, Option<GridSupport>), CliError> {
    let (xs, wa) = read_points(src)?;
    let (ys, wb) = read_points(tgt)?;
    check_masses(a, (wa.iter().sum(), wb.iter().sum()), src, tgt, io)?;
    let (wa, wb) = if a.normalize {
        (unit_mass(wa), unit_mass(wb))
    } else {
        (wa, wb)
    };
    let p = OtProblem::from_points(&xs, wa, &ys, wb, a.cost)
        .map_err(|e| CliError::Failed(format!("{} / {}: {e}", src.display(), tgt.display())))?;
    let label = format!("{} -> {} ({})", src.display(), tgt.display(), a.cost);
    Ok((p, label, None))
}

/// Two grid histograms (cells at their centres; `--cell-size` sets the spacing); the
/// non-empty cells become the points.
fn load_grids(
    a: &OtArgs,
    src: &Path,
    tgt: &Path,
    io: &mut Io<'_>,
) -> Result<(OtProblem, String, Option<GridSupport>), CliError> {
    let read = |path: &Path| -> Result<GridHistogram, CliError> {
        let g = read_grid(path)?;
        match a.cell_size {
            Some(h) => {
                let d = g.shape().len();
                g.with_spacing(&vec![h; d])
                    .map_err(|e| CliError::Usage(format!("--cell-size: {e}")))
            }
            None => Ok(g),
        }
    };
    let (mut ga, mut gb) = (read(src)?, read(tgt)?);
    check_masses(a, (ga.mass(), gb.mass()), src, tgt, io)?;
    if a.normalize {
        (ga, gb) = (ga.normalized(), gb.normalized());
    }
    let (p, sup) = OtProblem::from_grids(&ga, &gb, a.cost)
        .map_err(|e| CliError::Failed(format!("{} / {}: {e}", src.display(), tgt.display())))?;
    let dims = |g: &GridHistogram| {
        g.shape()
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>()
            .join("x")
    };
    let label = format!(
        "{} ({}) -> {} ({}), {}",
        src.display(),
        dims(&ga),
        tgt.display(),
        dims(&gb),
        a.cost
    );
    Ok((p, label, Some(sup)))
}

/// What `solve ot` adds to the report's `stats`: the input's name and sizes, the exact cost
/// (`--exact`) and, for point clouds and grids, the Wasserstein distance.
#[derive(Serialize)]
struct OtFacts {
    file: String,
    n: usize,
    m: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    emd_cost: Option<f64>,
    #[serde(flatten)]
    wasserstein: Option<Wasserstein>,
}

/// `W_p` from the plan's cost (and from the exact cost with `--exact`), in the units of the
/// coordinates.
#[derive(Serialize, Clone)]
struct Wasserstein {
    wasserstein: f64,
    wasserstein_kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    wasserstein_exact: Option<f64>,
}
