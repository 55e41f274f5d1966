//! Kernel launches: the one place where a custom kernel is started.

use super::{GpuError, err};
use cudarc::driver::{CudaFunction, CudaStream, LaunchArgs, LaunchConfig};
use std::sync::Arc;

/// Launch `kernel` (named `name` in errors) on `stream` with `cfg`; `args` pushes its
/// arguments in order (`b.arg(&x).arg(&n)`).
///
/// The caller's contract, which every family wrapper checks before calling: the arguments match
/// the kernel's parameter list in number, type and order, and every buffer holds at least what
/// the kernel reads or writes under `cfg` (the wrappers assert the lengths and document the
/// bounds at each call).
pub fn launch<'a>(
    stream: &'a Arc<CudaStream>,
    kernel: &'a CudaFunction,
    name: &str,
    cfg: LaunchConfig,
    args: impl FnOnce(&mut LaunchArgs<'a>),
) -> Result<(), GpuError> {
    let mut builder = stream.launch_builder(kernel);
    args(&mut builder);
    // SAFETY: the caller's contract above (argument list and buffer sizes checked by the
    // family wrappers before the call).
    unsafe { builder.launch(cfg) }
        .map(|_| ())
        .map_err(err(name))
}
