//! Partition files: one `0` or `1` per line, line `v` giving the side of vertex `v` (1-based
//! lines), the format of the partitions published with the MCPG paper.

use crate::binary::Spin;
use crate::error::ReadError;
use crate::io::{read_text, write_atomic};
use std::io::Write;
use std::path::Path;

/// Read a partition file into spins (`0 → −1`, `1 → +1`). Blank lines and `#` comments are
/// skipped; `n` is the expected number of vertices.
pub fn read_partition(path: impl AsRef<Path>, n: usize) -> Result<Vec<Spin>, ReadError> {
    let path = path.as_ref();
    let text = read_text(path)?;
    let mut x = Vec::with_capacity(n);
    for (i, line) in text.lines().enumerate() {
        let t = line.trim();
        if t.is_empty() || t.starts_with('#') {
            continue;
        }
        let s = match t {
            "0" | "-1" => -1,
            "1" | "+1" => 1,
            _ => {
                return Err(ReadError::parse(
                    path,
                    i + 1,
                    format!("expected a side `0` or `1`, found `{t}`"),
                ));
            }
        };
        if x.len() == n {
            return Err(ReadError::parse(
                path,
                i + 1,
                format!("more than {n} sides: the graph has {n} vertices"),
            ));
        }
        x.push(s);
    }
    if x.len() != n {
        return Err(ReadError::parse(
            path,
            0,
            format!("expected {n} sides (one per vertex), found {}", x.len()),
        ));
    }
    Ok(x)
}

/// Write spins as a partition file (`−1 → 0`, `+1 → 1`), atomically.
pub fn write_partition(path: impl AsRef<Path>, x: &[Spin]) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| {
        for &s in x {
            w.write_all(if s > 0 { b"1\n" } else { b"0\n" })?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_errors() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p.txt");
        write_partition(&p, &[1, -1, 1]).unwrap();
        assert_eq!(read_partition(&p, 3).unwrap(), vec![1, -1, 1]);
        let e = read_partition(&p, 2).unwrap_err().to_string();
        assert!(
            e.ends_with("p.txt:3: more than 2 sides: the graph has 2 vertices"),
            "{e}"
        );
        let e = read_partition(&p, 4).unwrap_err().to_string();
        assert!(
            e.ends_with("p.txt: expected 4 sides (one per vertex), found 3"),
            "{e}"
        );
        std::fs::write(&p, "1\n2\n").unwrap();
        let e = read_partition(&p, 2).unwrap_err().to_string();
        assert!(
            e.ends_with("p.txt:2: expected a side `0` or `1`, found `2`"),
            "{e}"
        );
    }
}
