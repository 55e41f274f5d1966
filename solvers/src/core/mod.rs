//! Types shared by every solver family: settings, reports, statuses, observers, cancellation,
//! seeding and errors.

mod backend;
mod control;
mod error;
mod observer;
mod report;
mod run;
mod seed;
mod settings;
mod status;

pub use backend::{Backend, BackendReport};
pub use control::{Budget, Control, StopToken};
pub use error::SolveError;
pub use observer::{IterRecord, NoObserver, Observer, RunInfo};
pub use report::{NoResiduals, NoStats, Report};
pub use run::{End, Run};
pub use seed::{RngStream, rng_from_words, rng_words, stream_rng, uniform01};
pub use settings::{Common, deadline_after};
pub use status::Status;
