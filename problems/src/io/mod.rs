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
    // Through a symlink, write its target (the link stays); a special file (a terminal, a
    // pipe, /dev/stdout) is written in place, since renaming over it would replace it.
    let target = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            std::fs::canonicalize(path).map_err(|e| ReadError::io(path, e))?
        }
        _ => path.to_path_buf(),
    };
    if let Ok(m) = std::fs::metadata(&target) {
        if m.is_dir() {
            return Err(ReadError::io(
                path,
                std::io::Error::other("is a directory; expected a file to write"),
            ));
        }
        if !m.is_file() {
            let result = (|| {
                let file = std::fs::OpenOptions::new().write(true).open(&target)?;
                let mut w = std::io::BufWriter::new(file);
                fill(&mut w)?;
                w.flush()
            })();
            return result.map_err(|e| ReadError::io(path, e));
        }
    }
    let path = target.as_path();
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

/// Check, before a long solve, that `path` can be written by [`write_atomic`]: its folder
/// exists and takes a new file, and the path is not a folder. The answer is then not lost to a
/// typo in the output path.
pub fn check_writable(path: &Path) -> Result<(), ReadError> {
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if target.is_dir() {
        return Err(ReadError::io(
            path,
            std::io::Error::other("is a directory; expected a file to write"),
        ));
    }
    if std::fs::metadata(&target).is_ok_and(|m| !m.is_file()) {
        return Ok(()); // a special file: written in place
    }
    let dir = match target.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let probe = dir.join(format!(".mathprog-write-check{}", std::process::id()));
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&probe)
        .map_err(|e| ReadError::io(path, e))?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// Read a whole file as UTF-8 text, mapping errors to [`ReadError`].
pub fn read_text(path: &Path) -> Result<String, ReadError> {
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    text_of(bytes, path)
}

/// Bytes already read as UTF-8 text; an error names the line of the first invalid byte.
pub fn text_of(bytes: Vec<u8>, path: &Path) -> Result<String, ReadError> {
    String::from_utf8(bytes).map_err(|e| {
        let upto = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = upto.iter().filter(|&&b| b == b'\n').count() + 1;
        ReadError::parse(path, line, "invalid UTF-8; expected a plain-text file")
    })
}
