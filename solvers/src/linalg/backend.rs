//! Where the large kernels run: the CPU (always available) or an NVIDIA GPU through CUDA
//! (cargo feature `cuda`, the module `linalg::cuda`).
//!
//! Every solver's [`Common`](crate::core::Common) settings carry a [`Backend`]; the solvers
//! with GPU kernels (Sinkhorn and SNS for OT, MCPG on MaxCut and QUBO, the MaxCut SDP
//! eigen-oracle) resolve it once per solve with [`select`] and record in the report where
//! they ran ([`BackendReport`]). The rest of each method (line searches, local-search
//! filters, small dense algebra) stays on the CPU.
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
//! let sel = select(Backend::Auto, "sinkhorn").unwrap();
//! if !sel.is_gpu() {
//!     assert_eq!(sel.report().name, "cpu");
//!     assert!(sel.report().note.is_some());
//! }
//! assert!(!select(Backend::Cpu, "sinkhorn").unwrap().is_gpu());
//! ```

use crate::core::SolveError;
use serde::{Deserialize, Serialize};

/// The requested backend (CLI `--backend cpu|cuda|auto`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
#[non_exhaustive]
pub enum Backend {
    /// The CPU only.
    #[default]
    Cpu,
    /// The GPU, or an error when none is usable.
    Cuda,
    /// The GPU when one is usable, else the CPU (with a note in the report).
    Auto,
}

impl std::str::FromStr for Backend {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "cpu" => Ok(Backend::Cpu),
            "cuda" | "gpu" => Ok(Backend::Cuda),
            "auto" => Ok(Backend::Auto),
            _ => Err(format!(
                "unknown backend '{s}' (expected cpu, cuda or auto)"
            )),
        }
    }
}

/// Where a solve ran, for the report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackendReport {
    /// `"cpu"` or `"cuda"`.
    pub name: String,
    /// The GPU's name when `name` is `"cuda"`.
    pub device: Option<String>,
    /// Why the run is not where it was asked to be (e.g. `auto` without a usable GPU, or a
    /// method without GPU kernels).
    pub note: Option<String>,
}

impl Default for BackendReport {
    fn default() -> Self {
        BackendReport {
            name: "cpu".into(),
            device: None,
            note: None,
        }
    }
}

impl BackendReport {
    /// The report of a method that has no GPU kernels, given the requested backend: the CPU,
    /// with a note when something else was asked for.
    pub fn cpu_only(requested: Backend, method: &str) -> Self {
        BackendReport {
            note: (requested != Backend::Cpu)
                .then(|| format!("{method} has no GPU kernels; it ran on the CPU")),
            ..Default::default()
        }
    }
}

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
