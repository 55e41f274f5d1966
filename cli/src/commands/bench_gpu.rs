//! `solve bench-gpu`: every offloaded kernel against its CPU twin (error, CPU and GPU time).

use super::CliError;
use crate::{Io, Scale};
use clap::Args;

/// Arguments of `solve bench-gpu`.
#[derive(Args, Debug)]
pub struct BenchGpuArgs {
    /// Input sizes: `test` (small, seconds) or `bench` (OT 4000 x 4000, 20,000-row sparse
    /// systems and graphs, 130 x 120 MCPG chains on 800 vertices).
    #[arg(long, value_enum, default_value = "bench")]
    pub scale: Scale,
    /// Timed runs per kernel (the best is reported).
    #[arg(long, default_value_t = 5)]
    pub repeats: usize,
    /// Seed of the random inputs.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// CPU worker threads for the CPU twins (default: all cores).
    #[arg(long)]
    pub threads: Option<usize>,
    /// One JSON document instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Run `solve bench-gpu`.
pub fn run(a: &BenchGpuArgs, io: &mut Io<'_>) -> Result<(), CliError> {
    #[cfg(not(feature = "cuda"))]
    {
        let _ = (a, io);
        Err(CliError::Failed(
            "bench-gpu: this build has no CUDA support (rebuild with `--features cuda`)".into(),
        ))
    }
    #[cfg(feature = "cuda")]
    {
        use super::{kv, out_err, print_json};
        use mathprog_solvers::gpu_checks as twins;
        use mathprog_solvers::linalg::cuda::Gpu;
        let gpu =
            Gpu::get().map_err(|e| CliError::Failed(format!("bench-gpu: no usable GPU: {e}")))?;
        let mut common = mathprog_solvers::core::Common::default();
        common.threads = a.threads;
        let pool = common.thread_pool()?;
        let scale = match a.scale {
            Scale::Test => twins::Scale::Test,
            Scale::Bench => twins::Scale::Bench,
        };
        let checks = twins::check_all(&gpu, scale, a.seed, a.repeats, &pool)
            .map_err(|e| CliError::Failed(format!("bench-gpu: {e}")))?;
        let out = &mut *io.stdout;
        if a.json {
            let doc = serde_json::json!({
                "device": gpu.name(),
                "setup_seconds": gpu.init_seconds(),
                "cpu_threads": common.resolved_threads(),
                "kernels": checks,
            });
            return print_json(out, &doc);
        }
        kv(out, "device", gpu.name())?;
        kv(
            out,
            "set-up",
            format!(
                "{:.3} s (context, NVRTC compilation; once per process)",
                gpu.init_seconds()
            ),
        )?;
        kv(out, "cpu threads", common.resolved_threads())?;
        writeln!(
            out,
            "{:<28} {:<34} {:>10} {:>11} {:>11} {:>8}",
            "kernel", "size", "rel. error", "CPU (ms)", "GPU (ms)", "speedup"
        )
        .map_err(out_err)?;
        for c in &checks {
            writeln!(
                out,
                "{:<28} {:<34} {:>10.1e} {:>11.3} {:>11.3} {:>7.1}x",
                c.kernel,
                c.size,
                c.rel_err,
                1e3 * c.cpu_seconds,
                1e3 * c.gpu_seconds,
                c.cpu_seconds / c.gpu_seconds
            )
            .map_err(out_err)?;
        }
        let worst = checks.iter().fold(0.0f64, |m, c| m.max(c.rel_err));
        if worst.is_nan() || worst > 1e-10 {
            return Err(CliError::Failed(format!(
                "bench-gpu: a GPU kernel differs from its CPU twin by {worst:.1e} (> 1e-10)"
            )));
        }
        Ok(())
    }
}
