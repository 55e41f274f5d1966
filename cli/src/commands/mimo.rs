//! `solve mimo`: 4-QAM MIMO detection by MCPG, on a generated channel or an instance file.

use super::mcpg_args::{Defaults, McpgArgs};
use super::{CliError, backend_line, kv, out_err};
use crate::progress::CliObserver;
use crate::{CommonArgs, Io};
use clap::Args;
use mathprog_problems::io::write_atomic;
use mathprog_problems::mimo::{MimoInstance, Modulation};
use mathprog_solvers::binary::mimo::{MimoReport, MimoSettings, solve};
use serde::Serialize;
use std::path::PathBuf;

/// Default wall-clock limit per instance.
pub const DEFAULT_TIME_LIMIT: f64 = 2.0;

/// Arguments of `solve mimo`.
#[derive(Args, Debug)]
pub struct MimoArgs {
    /// Instance file (JSON: nt, nr, h and y as [re, im] pairs with h row-major N_r x N_t,
    /// noise_var, optional x and snr_db), as written by --write-instance. Without it, a
    /// Rayleigh channel is generated from --nt, --nr, --snr and --seed.
    #[arg(value_name = "FILE", conflicts_with_all = ["nt", "nr", "snr"])]
    file: Option<PathBuf>,
    #[command(flatten)]
    common: CommonArgs,
    /// Transmit antennas of the generated channel.
    #[arg(long, value_name = "N", value_parser = crate::values::count)]
    nt: Option<usize>,
    /// Receive antennas of the generated channel (default: N_t).
    #[arg(long, value_name = "N", value_parser = crate::values::count)]
    nr: Option<usize>,
    /// SNR in dB of the generated channel, E‖Hx‖²/E‖n‖².
    #[arg(long, value_name = "DB", allow_negative_numbers = true, value_parser = crate::values::finite)]
    snr: Option<f64>,
    /// Constellation of the generated channel: 4 (4-QAM) or 16 (16-QAM).
    #[arg(long, value_name = "M", default_value_t = 4)]
    qam: u32,
    /// Generate and detect this many instances (seeds --seed, --seed + 1, ...) and report the
    /// mean bit error rates.
    #[arg(long, value_name = "K", default_value_t = 1)]
    instances: u64,
    /// Save the (first) generated instance to this JSON file.
    #[arg(long, value_name = "FILE")]
    write_instance: Option<PathBuf>,
    /// Metropolis chains at the posterior temperature whose mean sign is the answer (0: answer
    /// with the MCPG group vote, see --vote).
    #[arg(long, value_name = "N")]
    posterior_chains: Option<usize>,
    /// Sweeps per posterior chain.
    #[arg(long, value_name = "N")]
    posterior_sweeps: Option<usize>,
    /// Burn-in sweeps per posterior chain.
    #[arg(long, value_name = "N")]
    burn_in: Option<usize>,
    /// With --posterior-chains 0: answer by majority vote of the K best groups (the paper's
    /// rule; 0: the lowest-residual solution).
    #[arg(long, value_name = "K")]
    vote: Option<usize>,
    #[command(flatten)]
    mcpg: McpgArgs,
}

fn load(a: &MimoArgs, k: u64) -> Result<MimoInstance, CliError> {
    if let Some(f) = &a.file {
        let text = mathprog_problems::io::read_text(f)?;
        let inst: MimoInstance = serde_json::from_str(&text).map_err(|e| {
            CliError::Failed(format!(
                "{}:{}: {e}; expected a MIMO instance in JSON (see solve mimo --help)",
                f.display(),
                e.line()
            ))
        })?;
        inst.validate()
            .map_err(|e| CliError::Failed(format!("{}: {e}", f.display())))?;
        return Ok(inst);
    }
    let (Some(nt), Some(snr)) = (a.nt, a.snr) else {
        return Err(CliError::Usage(
            "give an instance FILE, or --nt N and --snr DB (and optionally --nr N) to generate one"
                .into(),
        ));
    };
    let modulation = match a.qam {
        4 => Modulation::Qam4,
        16 => Modulation::Qam16,
        q => return Err(CliError::Usage(format!("--qam must be 4 or 16, got {q}"))),
    };
    MimoInstance::generate_with(
        nt,
        a.nr.unwrap_or(nt),
        modulation,
        snr,
        a.common.seed.wrapping_add(k),
    )
    .map_err(|e| CliError::Usage(e.to_string()))
}

/// Solver settings for an instance of alphabet `m`: its defaults, overridden by the flags.
fn settings_for(a: &MimoArgs, m: Modulation, io: &Io<'_>) -> Result<MimoSettings, CliError> {
    let mut ms = MimoSettings::for_modulation(m);
    if let Some(c) = a.posterior_chains {
        ms.posterior_chains = c;
        if c == 0 {
            ms.mcpg.vote = MimoSettings::group_vote().mcpg.vote;
        }
    }
    if let Some(k) = a.vote {
        ms.mcpg.vote = (k > 0).then_some(k);
    }
    if let Some(v) = a.posterior_sweeps {
        ms.posterior_sweeps = v;
    }
    if let Some(v) = a.burn_in {
        ms.burn_in = v;
    }
    let default_rounds = ms.mcpg.common.max_iter;
    ms.mcpg = a.mcpg.settings(
        &a.common,
        None,
        ms.mcpg,
        Defaults {
            time_limit: DEFAULT_TIME_LIMIT,
            stall_rounds: None,
        },
        io,
    )?;
    // The time limit is per instance (not counted from the start of the command).
    if let Some(t) = a.common.time_limit {
        ms.mcpg.common.time_limit = Some(t);
    }
    // At most 8 rounds unless --max-rounds says otherwise, with or without --time-limit (a
    // time limit caps the run; it does not ask to spend all of it).
    if ms.mcpg.common.max_iter.is_none() {
        ms.mcpg.common.max_iter = default_rounds;
    }
    Ok(ms)
}

/// Run `solve mimo`.
pub fn run(a: &MimoArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    if a.instances == 0 || (a.file.is_some() && a.instances != 1) {
        return Err(CliError::Usage(
            "--instances must be positive and applies to generated channels only".into(),
        ));
    }
    let quiet = a.common.quiet || a.common.json;
    let mut reports = Vec::new();
    let (mut sum_ber, mut sum_mmse, mut sum_time, mut known) = (0.0, 0.0, 0.0, 0usize);
    for k in 0..a.instances {
        let inst = load(a, k)?;
        if k == 0
            && let Some(path) = &a.write_instance
        {
            let text = serde_json::to_string(&inst).map_err(|e| CliError::Failed(e.to_string()))?;
            write_atomic(path, |w| writeln!(w, "{text}"))?;
        }
        let mut si = settings_for(a, inst.modulation, io)?;
        si.mcpg.common.seed = a.common.seed.wrapping_add(k);
        let bar = !quiet && io.stderr_is_terminal && a.instances == 1;
        let table = !quiet && a.instances == 1;
        let report = {
            let mut obs = CliObserver::new(if table { Some(&mut *io.stderr) } else { None }, bar);
            solve(&inst, &si, &mut obs).map_err(|e| CliError::Failed(e.to_string()))?
        };
        let facts = MimoFacts {
            nt: inst.nt,
            nr: inst.nr,
            noise_var: inst.noise_var,
            modulation: inst.modulation,
            snr_db: inst.snr_db,
            file: a.file.as_ref().map(|f| f.display().to_string()),
        };
        let (ber, mmse) = (report.stats.ber, report.stats.mmse_ber);
        if let (Some(b), Some(m)) = (ber, mmse) {
            sum_ber += b;
            sum_mmse += m;
            known += 1;
        }
        sum_time += report.elapsed;
        if a.instances > 1 && !quiet {
            writeln!(
                io.stderr,
                "instance {k:>3} (seed {}): BER {:.5}  MMSE {:.5}  {:.2} s",
                report.seed,
                ber.unwrap_or(f64::NAN),
                mmse.unwrap_or(f64::NAN),
                report.elapsed
            )
            .map_err(out_err)?;
        }
        if k == 0
            && let Some(path) = &a.common.output
        {
            let x = inst.symbols_of(&report.solution);
            write_atomic(path, |w| {
                for z in &x {
                    writeln!(w, "{} {}", z.re, z.im)?;
                }
                Ok(())
            })?;
        }
        reports.push((report, facts));
    }
    let n = a.instances as f64;
    if a.common.json {
        if let [(r, f)] = &reports[..] {
            super::print_report(io.stdout, r, f, &())?;
        } else {
            let docs = reports
                .iter()
                .map(|(r, f)| super::report_json(r, f, &()))
                .collect::<Result<Vec<_>, _>>()?;
            super::print_json(
                io.stdout,
                &serde_json::json!({
                    "instances": docs,
                    "mean_ber": if known > 0 { Some(sum_ber / known as f64) } else { None },
                    "mean_mmse_ber": if known > 0 { Some(sum_mmse / known as f64) } else { None },
                    "mean_seconds": sum_time / n,
                }),
            )?;
        }
    } else {
        let mean = Means {
            known,
            ber: sum_ber,
            mmse: sum_mmse,
            seconds: sum_time / n,
        };
        summary(a, &reports, &mean, &mut *io.stdout)?;
    }
    io.stdout.flush().map_err(out_err)?;
    for (r, _) in &reports {
        super::check_answer(r.status, r.objective)?;
    }
    Ok(())
}

/// What `solve mimo` adds to each report's `stats`: the instance.
#[derive(Serialize)]
struct MimoFacts {
    nt: usize,
    nr: usize,
    noise_var: f64,
    modulation: Modulation,
    #[serde(skip_serializing_if = "Option::is_none")]
    snr_db: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
}

/// The sums over the instances for the summary.
struct Means {
    known: usize,
    ber: f64,
    mmse: f64,
    seconds: f64,
}

/// The human summary of `solve mimo` (one instance, or the means over `--instances`).
fn summary(
    a: &MimoArgs,
    reports: &[(MimoReport, MimoFacts)],
    mean: &Means,
    out: &mut dyn std::io::Write,
) -> Result<(), CliError> {
    let (r, f0) = &reports[0];
    let (nt, nr) = (f0.nt, f0.nr);
    let what = match (&a.file, a.snr) {
        (Some(f), _) => format!(
            "mimo {} ({nt} x {nr}, {})",
            f.display(),
            match f0.modulation {
                Modulation::Qam16 => "16-QAM",
                _ => "4-QAM",
            }
        ),
        (None, Some(snr)) => format!(
            "mimo generated {nt} x {nr} {}-QAM Rayleigh channel{}, SNR {snr} dB",
            a.qam,
            if a.instances > 1 { "s" } else { "" }
        ),
        _ => String::new(),
    };
    kv(out, "problem", what)?;
    if a.instances > 1 {
        kv(
            out,
            "instances",
            format!(
                "{} (seeds {}..={})",
                a.instances,
                a.common.seed,
                a.common.seed.wrapping_add(a.instances - 1)
            ),
        )?;
    } else {
        kv(
            out,
            "residual",
            format!(
                "{:.6} (||Hx - y||^2; MMSE {:.6})",
                r.objective, r.stats.mmse_objective
            ),
        )?;
        kv(out, "status", r.status)?;
        backend_line(out, &r.backend)?;
    }
    if mean.known > 0 {
        let k = mean.known as f64;
        kv(
            out,
            "BER",
            format!(
                "{:.5} (MMSE {:.5}){}",
                mean.ber / k,
                mean.mmse / k,
                if a.instances > 1 { " mean" } else { "" }
            ),
        )?;
    }
    kv(
        out,
        "time",
        format!(
            "{:.3} s{}",
            mean.seconds,
            if a.instances > 1 {
                " mean per instance"
            } else {
                ""
            }
        ),
    )?;
    kv(out, "seed", a.common.seed)?;
    kv(out, "threads", r.threads)?;
    if let Some(path) = &a.common.output {
        kv(out, "symbols", path.display())?;
    }
    Ok(())
}
