//! Error types of the problem layer: malformed files and invalid problem data.

use std::path::PathBuf;

/// A file could not be read: I/O failure or malformed content.
///
/// Parse errors always name the file, the 1-based line and what was expected there.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReadError {
    /// The file could not be opened, read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The content does not follow the format.
    #[error("{}{}: {message}", path.display(), AtLine(*line))]
    Parse {
        /// The file (or `<input>` for in-memory text).
        path: PathBuf,
        /// 1-based line number (0 when the problem is the file as a whole, e.g. it ends early).
        line: usize,
        /// What was found and what was expected.
        message: String,
    },
}

/// `:N` for a line number, nothing for 0 (the file as a whole).
struct AtLine(usize);

impl std::fmt::Display for AtLine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            0 => Ok(()),
            n => write!(f, ":{n}"),
        }
    }
}

impl ReadError {
    /// A parse error at `line` of `path`.
    pub fn parse(path: impl Into<PathBuf>, line: usize, message: impl Into<String>) -> Self {
        ReadError::Parse {
            path: path.into(),
            line,
            message: message.into(),
        }
    }
    /// An I/O error on `path`.
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ReadError::Io {
            path: path.into(),
            source,
        }
    }
}

/// Problem data that is structurally invalid (independent of any file).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ProblemError {
    /// A vertex index is outside `0..n`.
    #[error("edge {edge}: vertex {vertex} out of range (graph has {n} vertices)")]
    VertexOutOfRange {
        /// 0-based edge position in the input list.
        edge: usize,
        /// The offending vertex (0-based).
        vertex: usize,
        /// Number of vertices.
        n: usize,
    },
    /// An edge joins a vertex to itself.
    #[error(
        "edge {edge}: self-loop at vertex {vertex} (self-loops do not change any cut and are rejected)"
    )]
    SelfLoop {
        /// 0-based edge position.
        edge: usize,
        /// The vertex (0-based).
        vertex: usize,
    },
    /// The same unordered pair appears twice.
    #[error(
        "edge {edge}: duplicate edge {{{u}, {v}}} (first given as edge {first}); merge the weights or use Graph::from_edges_summed"
    )]
    DuplicateEdge {
        /// 0-based position of the repetition.
        edge: usize,
        /// First end (0-based).
        u: usize,
        /// Second end (0-based).
        v: usize,
        /// 0-based position of the first occurrence.
        first: usize,
    },
    /// A weight is NaN or infinite.
    #[error("edge {edge}: weight {weight} is not finite")]
    NonFiniteWeight {
        /// 0-based edge position.
        edge: usize,
        /// The weight.
        weight: f64,
    },
    /// Any other inconsistency.
    #[error("{0}")]
    Invalid(String),
}
