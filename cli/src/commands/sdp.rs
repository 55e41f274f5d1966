//! `solve sdp FILE.dat-s`: a semidefinite program in SDPA sparse format.

use super::{CliError, common_settings, kv, out_err};
use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::sdpa::read_sdpa;
use mathprog_solvers::sdp::alm::{AlmSettings, solve};
use std::path::PathBuf;

/// Arguments of `solve sdp`.
#[derive(Args, Debug)]
pub struct SdpArgs {
    /// Problem in SDPA sparse format (SDPLIB's `.dat-s`): m, the block structure (negative
    /// sizes: diagonal blocks), c, then `matno blkno i j value` entries of F_0 .. F_m.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    #[command(flatten)]
    common: CommonArgs,
    /// Stop when the scaled primal and dual infeasibilities and the relative gap are below T.
    #[arg(long, value_name = "T", default_value_t = 1e-6)]
    tol: f64,
    /// Initial rank of the factor of every dense block (default min(n, sqrt(2m) + 1, 64);
    /// eigen steps grow it when the dual slack is not PSD).
    #[arg(long, value_name = "R")]
    rank: Option<usize>,
    /// Keep memory at O(nnz + n r): Lanczos instead of dense eigendecompositions for the
    /// dual certificate of every block, and a shorter L-BFGS memory.
    #[arg(long)]
    memory_efficient: bool,
    /// Limit on outer (multiplier) iterations.
    #[arg(long, value_name = "N")]
    max_iter: Option<u64>,
}

/// Run `solve sdp`.
pub fn run(a: &SdpArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    let p = read_sdpa(&a.file)?;
    let mut s = AlmSettings::default();
    s.common = common_settings(&a.common, io.stop.clone())?;
    s.common.max_iter = a.max_iter;
    s.tol = a.tol;
    s.rank = a.rank;
    if a.memory_efficient {
        s.dense_eig_max = 0;
        s.lbfgs_memory = 4;
    }
    let quiet = a.common.quiet || a.common.json;
    let bar = !quiet && io.stderr_is_terminal;
    let mut report = {
        let mut obs = CliObserver::new(if quiet { None } else { Some(&mut *io.stderr) }, bar);
        solve(&p, &s, &mut obs).map_err(|e| CliError::Failed(e.to_string()))?
    };
    let file = a.file.display().to_string();
    report.stats.insert("file".into(), file.clone().into());
    report
        .stats
        .insert("sdpa_primal_value".into(), (-report.objective).into());
    if a.common.json {
        super::print_json(io.stdout, &report)?;
    } else {
        let out = &mut *io.stdout;
        let st = &report.stats;
        let num = |k: &str| st.get(k).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
        kv(
            out,
            "problem",
            format!(
                "sdp {file} (m = {}, blocks {:?})",
                p.num_constraints(),
                p.blocks()
            ),
        )?;
        kv(
            out,
            "value",
            format!(
                "{:.9e} (SDPA / SDPLIB convention: max <F0,Y>)",
                -report.objective
            ),
        )?;
        kv(
            out,
            "dual",
            format!(
                "{:.9e} (SDPA convention; {})",
                -num("dual_value"),
                if report.bound.is_some() {
                    "slack PSD: a proven bound"
                } else {
                    "slack not PSD to working precision"
                }
            ),
        )?;
        kv(
            out,
            "residuals",
            format!(
                "primal {:.2e}, dual {:.2e}, gap {:.2e} (tol {:e})",
                report.residuals["primal_infeasibility"],
                report.residuals["dual_infeasibility"],
                report.residuals["relative_gap"],
                a.tol
            ),
        )?;
        kv(out, "status", report.status)?;
        kv(
            out,
            "iterations",
            format!(
                "{} outer, {} L-BFGS",
                report.iterations,
                st.get("inner_iterations")
                    .and_then(|v| v.as_u64())
                    .unwrap_or(0)
            ),
        )?;
        kv(
            out,
            "ranks",
            st.get("ranks").map(|v| v.to_string()).unwrap_or_default(),
        )?;
        kv(out, "time", format!("{:.3} s", report.elapsed))?;
    }
    io.stdout.flush().map_err(out_err)?;
    Ok(())
}
