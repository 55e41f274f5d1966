//! The MaxCut SDP bound of a Gset graph from the library.
//!
//! `cargo run --release --example maxcut_sdp -- ../shared/data/gset/G1 [TOL]`

use mathprog::problems::io::gset::read_gset;
use mathprog::problems::sdp::MaxCutSdp;
use mathprog::solvers::core::NoObserver;
use mathprog::solvers::sdp::maxcut::{MaxCutSdpSettings, solve};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: maxcut_sdp GRAPH [TOL]")?;
    let mut s = MaxCutSdpSettings::default();
    if let Some(t) = args.get(2) {
        s.tol = t.parse()?;
    }
    s.common.time_limit = Some(600.0);
    // MOCO momentum on the dual estimate: smallest weight of the newest y (1 = no momentum).
    if let Some(m) = std::env::var("MOMENTUM_MIN")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        s.momentum_min = m;
    }
    s.precondition = std::env::var("PRECOND").as_deref() == Ok("1");
    let p = MaxCutSdp::new(read_gset(path)?);
    let r = solve(&p, &s, &mut NoObserver)?;
    println!(
        "{path}: SDP in [{:.4}, {:.4}], gap {:.2e}, {:?} after {} iterations, {:.3} s; rank {}, GW cut {}; stats {:?}",
        r.objective,
        r.bound.unwrap_or(f64::NAN),
        r.residuals.relative_gap,
        r.status,
        r.iterations,
        r.elapsed,
        r.solution.rank,
        r.solution.cut_value,
        r.stats
    );
    Ok(())
}
