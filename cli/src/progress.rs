//! Progress on stderr: an indicatif bar (terminal only) and an iteration table.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use mathprog_solvers::core::{Control, IterRecord, Observer, RunInfo, Status};
use std::io::Write;
use std::time::{Duration, Instant};

/// Prints a table row when the best value improves (at most every `min_gap`) and drives a
/// progress bar whose length is the time limit (or the iteration limit).
pub struct CliObserver<'a> {
    table: Option<&'a mut dyn Write>,
    bar: Option<ProgressBar>,
    by_time: bool,
    last_row: Option<Instant>,
    min_gap: Duration,
    header_done: bool,
    pending: Option<String>,
}

impl<'a> CliObserver<'a> {
    /// `table`: where rows go (None: no table); `bar`: draw a progress bar on the terminal.
    pub fn new(table: Option<&'a mut dyn Write>, bar: bool) -> Self {
        let bar = bar.then(|| {
            let pb = ProgressBar::with_draw_target(Some(1000), ProgressDrawTarget::stderr());
            pb.set_style(
                ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {msg}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            pb
        });
        CliObserver {
            table,
            bar,
            by_time: true,
            last_row: None,
            min_gap: Duration::from_millis(250),
            header_done: false,
            pending: None,
        }
    }

    fn emit(&mut self, line: &str) {
        if let Some(t) = self.table.as_mut() {
            match &self.bar {
                Some(pb) => pb.suspend(|| {
                    let _ = writeln!(t, "{line}");
                }),
                None => {
                    let _ = writeln!(t, "{line}");
                }
            }
        }
    }
}

/// Integers without a decimal point, other values with six decimals; `-` for a value the method
/// does not compute (NaN).
pub fn fmt_num(v: f64) -> String {
    if v.is_nan() {
        "-".into()
    } else if v.is_finite() && v == v.trunc() && v.abs() < 1e15 {
        format!("{}", v as i64)
    } else {
        format!("{v:.6}")
    }
}

impl Observer for CliObserver<'_> {
    fn on_start(&mut self, info: &RunInfo) {
        if let Some(pb) = &self.bar {
            match (info.time_limit, info.max_iter) {
                (Some(t), _) => {
                    pb.set_length((t * 1000.0).ceil().max(1.0) as u64);
                    self.by_time = true;
                }
                (None, Some(m)) => {
                    pb.set_length(m.max(1));
                    self.by_time = false;
                }
                (None, None) => pb.unset_length(),
            }
        }
        let line = format!(
            "{} on {} variables, {} threads, seed {}",
            info.algorithm, info.num_vars, info.threads, info.seed
        );
        self.emit(&line);
    }

    fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
        if let Some(pb) = &self.bar {
            pb.set_position(if self.by_time {
                (rec.elapsed * 1000.0) as u64
            } else {
                rec.iteration
            });
            pb.set_message(match rec.residual {
                Some(r) if rec.best.is_nan() => {
                    format!("residual {r:.3e}  round {}", rec.iteration)
                }
                _ => format!("best {}  round {}", fmt_num(rec.best), rec.iteration),
            });
        }
        if self.table.is_some() {
            if !self.header_done {
                self.header_done = true;
                let mut h = format!(
                    "{:>8} {:>9} {:>14} {:>14}",
                    "round", "time s", "best", "round best"
                );
                if rec.residual.is_some() {
                    h.push_str(&format!(" {:>14}", "residual"));
                }
                for (name, _) in rec.extra {
                    h.push_str(&format!(" {name:>14}"));
                }
                self.emit(&h);
            }
            let mut row = format!(
                "{:>8} {:>9.2} {:>14} {:>14}",
                rec.iteration,
                rec.elapsed,
                fmt_num(rec.best),
                fmt_num(rec.current)
            );
            if let Some(r) = rec.residual {
                row.push_str(&format!(" {r:>14.6e}"));
            }
            for (_, v) in rec.extra {
                row.push_str(&format!(" {:>14}", fmt_num(*v)));
            }
            let due = self.last_row.is_none_or(|t| t.elapsed() >= self.min_gap);
            if rec.improved && due {
                self.emit(&row);
                self.last_row = Some(Instant::now());
                self.pending = None;
            } else {
                self.pending = Some(row);
            }
        }
        Control::Continue
    }

    fn on_finish(&mut self, status: Status, best: f64, elapsed: f64) {
        if let Some(row) = self.pending.take() {
            self.emit(&row);
        }
        if let Some(pb) = self.bar.take() {
            pb.finish_and_clear();
        }
        let line = format!(
            "finished: {status}, best {} after {elapsed:.2} s",
            fmt_num(best)
        );
        self.emit(&line);
    }
}
