//! File formats: readers report `file:line: what was expected`; writers never leave a
//! half-written file (they write a temporary file in the target folder, then rename it).

pub mod dimacs;
pub mod gset;
pub mod libsvm;
pub mod mat;
pub mod npy;
pub mod ot;
pub mod partition;
pub mod qubo;
pub mod sdpa;

use crate::error::ReadError;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Write a file atomically: `fill` writes into a temporary file next to `path`, which is then
/// renamed over `path`. On any error the temporary file is removed and `path` is untouched.
pub fn write_atomic(
    path: &Path,
    fill: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> Result<(), ReadError> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp{}", std::process::id()));
    let result = (|| {
        let file = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(file);
        fill(&mut w)?;
        let file = w.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        ReadError::io(path, e)
    })
}

/// Read a whole file as UTF-8 text, mapping errors to [`ReadError`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        ReadError::parse(path, line, "invalid UTF-8; expected a plain-text file")
    })
}
