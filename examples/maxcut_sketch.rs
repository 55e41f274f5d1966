//! The memory-efficient (sketched) MaxCut SDP modes side by side, for tuning and ablations.
//!
//! `ALG=moco MOMENTUM=1 PRECOND=1 BETA0=1 cargo run --release --example maxcut_sketch --
//! ../shared/data/gset/G1.txt [TOL] [TIME_LIMIT]`

use mathprog::problems::io::gset::read_gset;
use mathprog::problems::sdp::MaxCutSdp;
use mathprog::solvers::core::NoObserver;
use mathprog::solvers::sdp::sketchy::{SketchAlgorithm, SketchSettings, solve};

fn env<T: std::str::FromStr>(k: &str) -> Option<T> {
    std::env::var(k).ok().and_then(|v| v.parse().ok())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args
        .get(1)
        .ok_or("usage: maxcut_sketch GRAPH [TOL] [TIME_LIMIT]")?;
    let mut s = SketchSettings::default();
    if let Some(t) = args.get(2) {
        s.tol = t.parse()?;
    }
    s.common.time_limit = Some(args.get(3).map_or(Ok(60.0), |t| t.parse())?);
    s.rounding_trials = 0;
    if std::env::var("ALG").as_deref() == Ok("moco") {
        s.algorithm = SketchAlgorithm::Moco;
    }
    s.momentum = env::<u8>("MOMENTUM").unwrap_or(0) == 1;
    s.precondition = env::<u8>("PRECOND").unwrap_or(0) == 1;
    if let Some(b) = env("BETA0") {
        s.beta0 = b;
    }
    if let Some(r) = env("SKETCH_RANK") {
        s.sketch_rank = r;
    }
    let p = MaxCutSdp::new(read_gset(path)?);
    let r = solve(&p, &s, &mut NoObserver)?;
    println!(
        "{path}: [{:.3}, {:.3}], gap {:.2e}, {:?}, {} iterations, {:.2} s, {} matvecs",
        r.objective,
        r.bound.unwrap_or(f64::NAN),
        r.residuals.relative_gap,
        r.status,
        r.iterations,
        r.elapsed,
        r.stats.lanczos_matvecs
    );
    Ok(())
}
