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
    /// Point clouds: compute the costs on the fly from the coordinates (memory O((n + m) d),
    /// never an n x m matrix); automatic when the cost matrix would take more than 1 GB.
    #[arg(long, requires = "source", conflicts_with = "exact")]
    online: bool,
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
            let (xs, wa, ys, wb) = read_clouds(a, src, tgt, io)?;
            let cells = (xs.len() as f64) * (ys.len() as f64);
            if a.online || cells * 8.0 > (1u64 << 30) as f64 {
                return run_cloud(a, (xs, wa, ys, wb), src, tgt, io);
            }
            let p = OtProblem::from_points(&xs, wa, &ys, wb, a.cost).map_err(|e| {
                CliError::Failed(format!("{} / {}: {e}", src.display(), tgt.display()))
            })?;
            let label = format!("{} -> {} ({})", src.display(), tgt.display(), a.cost);
            (p, label, None)
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
    let s = settings(a, io)?;
    let report = super::with_observer(io, &a.common, |obs| solve(&p, &s, obs))?;
    let emd_cost = if a.exact {
        Some(ot_exact(&p).map_err(|e| CliError::Failed(e.to_string()))?.0)
    } else {
        None
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
    output(
        a,
        &report,
        (p.n(), p.m()),
        label,
        emd_cost,
        geometric.then_some(cost_unit),
        io,
    )
}

/// The solver settings from the flags.
fn settings(a: &OtArgs, io: &mut Io<'_>) -> Result<OtSettings, CliError> {
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
    Ok(s)
}

/// The summary (or `--json` report) of a solve: `cost_unit` is `Some` for geometric inputs
/// (the Wasserstein distance is reported in the coordinates' units).
fn output(
    a: &OtArgs,
    report: &mathprog_solvers::ot::OtReport,
    (n, m): (usize, usize),
    file: String,
    emd_cost: Option<f64>,
    cost_unit: Option<f64>,
    io: &mut Io<'_>,
) -> Result<(), CliError> {
    // W_p of the (discretised) measures from the plan's cost, an upper bound on the exact one
    // up to the marginal violation; exact with --exact.
    let wasserstein = cost_unit.map(|unit| {
        let (name, w) = a.cost.wasserstein(report.stats.transport_cost * unit);
        let exact = emd_cost.map(|e| a.cost.wasserstein(e * unit).1);
        Wasserstein {
            wasserstein: w,
            wasserstein_kind: name,
            wasserstein_exact: exact,
        }
    });
    let facts = OtFacts {
        file: file.clone(),
        n,
        m,
        emd_cost,
        wasserstein: wasserstein.clone(),
    };
    if a.common.json {
        super::print_report(io.stdout, report, &facts, &())?;
    } else {
        let out = &mut *io.stdout;
        let st = &report.stats;
        kv(
            out,
            "problem",
            format!("ot {file} ({n} x {m}), reg {}", a.reg),
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
        match (&st.sns, &st.cloud) {
            (Some(sns), _) => kv(
                out,
                "iterations",
                format!(
                    "{} Sinkhorn + {} Newton ({} CG)",
                    st.sinkhorn_iterations, sns.newton_steps, sns.cg_iterations
                ),
            )?,
            (None, Some(c)) => {
                kv(
                    out,
                    "iterations",
                    format!(
                        "{} eps stages, {} Sinkhorn at reg + {} Newton ({} CG)",
                        c.eps_stages, c.sinkhorn_iterations_at_reg, c.newton_steps, c.cg_iterations
                    ),
                )?;
                let total = (n as f64) * (m as f64);
                kv(
                    out,
                    "pairs",
                    format!(
                        "{:.3e} costs computed in all passes; certificate {:.1}% of the pairs",
                        c.pairs_computed as f64,
                        100.0 * c.certificate_pairs as f64 / total
                    ),
                )?;
                if let Some(b) = c.peak_memory_bytes {
                    kv(out, "peak memory", format!("{:.1} MB", b as f64 / 1e6))?;
                }
            }
            (None, None) => kv(out, "iterations", report.iterations)?,
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

/// Two point clouds (weights rescaled to unit mass with `--normalize`).
#[allow(clippy::type_complexity)]
fn read_clouds(
    a: &OtArgs,
    src: &Path,
    tgt: &Path,
    io: &mut Io<'_>,
) -> Result<(Vec<Vec<f64>>, Vec<f64>, Vec<Vec<f64>>, Vec<f64>), CliError> {
    let (xs, wa) = read_points(src)?;
    let (ys, wb) = read_points(tgt)?;
    check_masses(a, (wa.iter().sum(), wb.iter().sum()), src, tgt, io)?;
    let (wa, wb) = if a.normalize {
        (unit_mass(wa), unit_mass(wb))
    } else {
        (wa, wb)
    };
    Ok((xs, wa, ys, wb))
}

/// `solve ot` on point clouds with costs on the fly ([`mathprog_solvers::ot::cloud`]).
#[allow(clippy::type_complexity)]
fn run_cloud(
    a: &OtArgs,
    (xs, wa, ys, wb): (Vec<Vec<f64>>, Vec<f64>, Vec<Vec<f64>>, Vec<f64>),
    src: &Path,
    tgt: &Path,
    io: &mut Io<'_>,
) -> Result<(), CliError> {
    use mathprog_problems::ot::cloud::CloudOt;
    use mathprog_solvers::ot::cloud;
    let bad = |e: mathprog_problems::error::ProblemError| {
        CliError::Failed(format!("{} / {}: {e}", src.display(), tgt.display()))
    };
    let p = CloudOt::from_rows(&xs, wa, &ys, wb, a.cost).map_err(bad)?;
    drop((xs, ys));
    let cost_unit = if a.scale_cost { p.max_cost() } else { 1.0 };
    let p = if cost_unit > 0.0 && a.scale_cost {
        p.with_cost_scale(cost_unit).map_err(bad)?
    } else {
        p
    };
    let s = settings(a, io)?;
    let report = super::with_observer(io, &a.common, |obs| cloud::solve(&p, &s, obs))?;
    if let Some(path) = &a.common.output {
        let entries = cloud::plan_entries(&p, &report.solution, a.plan_threshold)?;
        write_plan(path, p.n(), p.m(), &entries, None, a.plan_threshold)?;
    }
    let label = format!(
        "{} -> {} ({}, costs on the fly)",
        src.display(),
        tgt.display(),
        a.cost
    );
    let unit = if a.scale_cost { cost_unit } else { 1.0 };
    output(a, &report, (p.n(), p.m()), label, None, Some(unit), io)
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
