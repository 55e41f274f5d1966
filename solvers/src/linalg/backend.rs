//! Where the large kernels run: the CPU (always available) or an NVIDIA GPU through CUDA
//! (cargo feature `cuda`, the module `linalg::cuda`).
//!
//! Every solver's [`Common`](crate::core::Common) settings carry a [`Backend`]; the methods
//! with GPU kernels (each family's `gpu` module says which) resolve it once per solve with
//! [`select`] and record in the report where they ran ([`BackendReport`]). The rest of each
//! method (line searches, filters, small dense algebra) stays on the CPU.
//!
//! The pattern every family follows (written once here): a family's kernels are an enum of its
//! own, `Cpu { .. } | Gpu(Box<device type>)` (the CPU side keeps different buffers in each
//! family), built through [`Selected::setup`] (which retries on the CPU under `auto` when the
//! GPU cannot take the solve), and every GPU error becomes a solver error through
//! `linalg::cuda::solve_error`.
//!
//! - [`Backend::Cpu`] (default): never touches CUDA.
//! - [`Backend::Cuda`]: the GPU or an error ([`SolveError::Unavailable`]) that says why not
//!   (built without the feature, no driver, no device, a CUDA library missing).
//! - [`Backend::Auto`]: the GPU when one is usable, otherwise the CPU with a note in the
//!   report saying why.
//!
//! ```
//! use mathprog_solvers::linalg::backend::{Backend, select};
//! // On a machine without CUDA (or a build without the `cuda` feature) `auto` runs on the CPU
//! // and says so.
//! let sel = select(Backend::Auto, "my-method").unwrap();
//! if !sel.is_gpu() {
//!     assert_eq!(sel.report().name, "cpu");
//!     assert!(sel.report().note.is_some());
//! }
//! assert!(!select(Backend::Cpu, "my-method").unwrap().is_gpu());
//! ```

use crate::core::SolveError;

pub use crate::core::{Backend, BackendReport};

/// The resolved backend of one solve.
#[derive(Debug, Clone)]
pub struct Selected {
    report: BackendReport,
    #[cfg(feature = "cuda")]
    gpu: Option<std::sync::Arc<crate::linalg::cuda::Gpu>>,
}

impl Selected {
    fn cpu(note: Option<String>) -> Self {
        Selected {
            report: BackendReport {
                note,
                ..Default::default()
            },
            #[cfg(feature = "cuda")]
            gpu: None,
        }
    }

    /// Whether the large kernels run on the GPU.
    pub fn is_gpu(&self) -> bool {
        #[cfg(feature = "cuda")]
        {
            self.gpu.is_some()
        }
        #[cfg(not(feature = "cuda"))]
        {
            false
        }
    }

    /// The GPU, when the kernels run there.
    #[cfg(feature = "cuda")]
    pub fn gpu(&self) -> Option<&std::sync::Arc<crate::linalg::cuda::Gpu>> {
        self.gpu.as_ref()
    }

    /// Where the solve runs, for its report.
    pub fn report(&self) -> &BackendReport {
        &self.report
    }

    /// Switch to the CPU after the GPU failed to set up a solve (under `auto`), noting why.
    pub fn fell_back(&mut self, why: &str) {
        self.report = BackendReport {
            note: Some(format!(
                "backend auto: the GPU could not take this solve ({why}); ran on the CPU"
            )),
            ..Default::default()
        };
        #[cfg(feature = "cuda")]
        {
            self.gpu = None;
        }
    }

    /// Set up a solve's resources with `make` (device buffers when [`Selected::is_gpu`]);
    /// under [`Backend::Auto`] a GPU failure (not enough device memory, say) falls back to the
    /// CPU: `make` runs again with the CPU selection and the report notes why.
    pub fn setup<T>(
        &mut self,
        requested: Backend,
        make: impl Fn(&Selected) -> Result<T, SolveError>,
    ) -> Result<T, SolveError> {
        match make(self) {
            Err(e) if requested == Backend::Auto && self.is_gpu() => {
                self.fell_back(&e.to_string());
                make(self)
            }
            r => r,
        }
    }
}

/// Why no GPU is usable in this process (`None` when one is).
pub fn gpu_unavailable_reason() -> Option<String> {
    #[cfg(feature = "cuda")]
    {
        crate::linalg::cuda::Gpu::get().err()
    }
    #[cfg(not(feature = "cuda"))]
    {
        Some("this build has no CUDA support (rebuild with `--features cuda`)".into())
    }
}

/// Resolve the requested backend for a solve of `method` (named in notes and errors).
pub fn select(requested: Backend, method: &str) -> Result<Selected, SolveError> {
    match requested {
        Backend::Cpu => Ok(Selected::cpu(None)),
        Backend::Cuda | Backend::Auto => {
            #[cfg(feature = "cuda")]
            if let Ok(gpu) = crate::linalg::cuda::Gpu::get() {
                return Ok(Selected {
                    report: BackendReport {
                        name: "cuda".into(),
                        device: Some(gpu.name().to_string()),
                        note: None,
                    },
                    gpu: Some(gpu),
                });
            }
            let why = gpu_unavailable_reason().unwrap_or_default();
            if requested == Backend::Cuda {
                Err(SolveError::Unavailable(format!(
                    "--backend cuda for {method}: {why}"
                )))
            } else {
                Ok(Selected::cpu(Some(format!(
                    "backend auto: no usable GPU ({why}); ran on the CPU"
                ))))
            }
        }
    }
}
