//! The `solve` binary: installs the Ctrl-C handler and runs [`mathprog_cli::run`].

use mathprog_cli::{Io, run};
use mathprog_solvers::core::StopToken;
use std::io::IsTerminal;

fn main() {
    let stop = StopToken::new();
    let handler_stop = stop.clone();
    // First Ctrl-C: ask the solver to return its best solution. Second: exit at once.
    let _ = ctrlc::set_handler(move || {
        if handler_stop.is_stopped() {
            std::process::exit(130);
        }
        handler_stop.stop();
    });
    // Unlocked handles (each write takes the lock): holding the stderr lock for the whole run
    // would block a worker thread's panic message, or any other writer, forever.
    let mut out = std::io::stdout();
    let mut err = std::io::stderr();
    let stderr_is_terminal = err.is_terminal();
    let code = run(
        std::env::args_os(),
        &mut Io {
            stdout: &mut out,
            stderr: &mut err,
            stderr_is_terminal,
            stop,
        },
    );
    std::process::exit(code);
}
