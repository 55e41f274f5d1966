//! Solve an SDPA sparse file (SDPLIB) from the library and print the SDPA-convention value.
//!
//! `cargo run --release --example sdpa -- ../shared/data/sdplib/theta1.dat-s [TOL]`

use mathprog::problems::io::sdpa::read_sdpa;
use mathprog::solvers::core::{Control, IterRecord, Observer};

/// Prints every outer iteration.
struct Table;

impl Observer for Table {
    fn on_iter(&mut self, r: &IterRecord<'_>) -> Control {
        let ex: Vec<String> = r
            .extra
            .iter()
            .map(|(k, v)| format!("{k} {v:.2e}"))
            .collect();
        eprintln!(
            "{:4} {:8.3}s primal {:.8e} dual {:.8e} {}",
            r.iteration,
            r.elapsed,
            r.current,
            r.bound.unwrap_or(f64::NAN),
            ex.join(" ")
        );
        Control::Continue
    }
}
use mathprog::solvers::sdp::alm::AlmSettings;
use mathprog::solvers::sdp::solve;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let path = args.get(1).ok_or("usage: sdpa FILE [TOL]")?;
    let mut s = AlmSettings::default();
    if let Some(t) = args.get(2) {
        s.tol = t.parse()?;
    }
    s.common.time_limit = Some(120.0);
    // Dense eigenvalues for the dual certificate up to this block size (default 400).
    if let Some(d) = std::env::var("DENSE_EIG_MAX")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        s.dense_eig_max = d;
    }
    let p = read_sdpa(path)?;
    let r = solve(&p, &s, &mut Table)?;
    println!(
        "{path}: SDPA value {:.7} (dual {:.7}), {:?}, {} outer, {:.2} s, residuals {:?}, stats {:?}",
        -r.objective, -r.stats.dual_value, r.status, r.iterations, r.elapsed, r.residuals, r.stats
    );
    Ok(())
}
