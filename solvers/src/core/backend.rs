//! Where a solve's large kernels run: the requested [`Backend`] (in every settings' `Common`)
//! and the [`BackendReport`] in every report. The selection itself, which touches the device,
//! is `linalg::backend::select`.

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
