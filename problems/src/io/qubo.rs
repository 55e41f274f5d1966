//! QUBO matrices: the Biq Mac text format and dense NumPy `.npy` files.
//!
//! **Biq Mac (`.bq`)**, as accepted by the Biq Mac solver (Rendl, Rinaldi, Wiegele):
//! ```text
//! # comment lines start with '#'
//! n m
//! i j q      (m lines, 1-based; sets Q_ij = Q_ji = q)
//! ```
//! `Q` is symmetric, so an off-diagonal pair is given once, in either order. A file that lists
//! both `(i, j)` and `(j, i)` with the same value (a full-matrix dump) is accepted; different
//! values are an error naming both lines.
//!
//! **NumPy (`.npy`)**: a 2-D square array of `float64`, `float32`, `int64` or `int32`, little
//! endian, C or Fortran order (format versions 1–3). It must be symmetric.

use crate::binary::Sense;
use crate::error::ReadError;
use crate::io::{text_of, write_atomic};
use crate::qubo::{Domain, Entry, Qubo};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Read a QUBO from a `.npy` file (detected by its magic bytes) or Biq Mac text.
pub fn read_qubo(path: impl AsRef<Path>, domain: Domain, sense: Sense) -> Result<Qubo, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    if bytes.starts_with(b"\x93NUMPY") {
        let (n, q) = parse_npy_square(&bytes, path)?;
        return Qubo::from_dense(n, &q, domain, sense)
            .map_err(|e| ReadError::parse(path, 0, e.to_string()));
    }
    // One read of the input: pipes and FIFOs work.
    let text = text_of(bytes, path)?;
    let (n, entries) = parse_bq(&text, path)?;
    Qubo::new(n, entries, domain, sense).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

/// Parse Biq Mac text into `(n, entries)` (0-based entries); `path` is used in messages.
pub fn parse_bq(text: &str, path: &Path) -> Result<(usize, Vec<Entry>), ReadError> {
    let mut header: Option<(usize, usize, usize)> = None;
    let mut entries: Vec<Entry> = Vec::new();
    let mut lines_read = 0usize;
    // Per unordered pair: (order as first given, its line, value, mirrored already).
    type Seen = ((usize, usize), usize, f64, bool);
    let mut seen: HashMap<(usize, usize), Seen> = HashMap::new();
    for (k, line) in text.lines().enumerate() {
        let ln = k + 1;
        let err = |m: String| ReadError::parse(path, ln, m);
        let t: Vec<&str> = line.split_ascii_whitespace().collect();
        if t.is_empty() || t[0].starts_with('#') || t[0].starts_with('%') {
            continue;
        }
        let Some((n, m, _)) = header else {
            if t.len() != 2 {
                return Err(err(format!(
                    "expected a header `n m` (variables, entries), found `{}`",
                    line.trim()
                )));
            }
            let n: usize = t[0].parse().map_err(|_| {
                err(format!(
                    "expected the number of variables n, found `{}`",
                    t[0]
                ))
            })?;
            let m: usize = t[1].parse().map_err(|_| {
                err(format!(
                    "expected the number of entries m, found `{}`",
                    t[1]
                ))
            })?;
            header = Some((n, m, ln));
            entries.reserve(crate::limits::capped(m));
            continue;
        };
        if t.len() != 3 {
            return Err(err(format!(
                "expected an entry `i j q` (two 1-based indices and a value), found `{}`",
                line.trim()
            )));
        }
        let idx = |s: &str, which: &str| -> Result<usize, ReadError> {
            match s.parse::<usize>() {
                Ok(v) if (1..=n).contains(&v) => Ok(v - 1),
                Ok(v) => Err(err(format!("{which} index {v} out of range 1..={n}"))),
                Err(_) => Err(err(format!(
                    "expected a 1-based {which} index, found `{s}`"
                ))),
            }
        };
        let i = idx(t[0], "row")?;
        let j = idx(t[1], "column")?;
        let q: f64 = t[2]
            .parse()
            .map_err(|_| err(format!("expected a numeric value q, found `{}`", t[2])))?;
        if !q.is_finite() {
            return Err(err(format!("value `{}` is not finite", t[2])));
        }
        lines_read += 1;
        if lines_read > m {
            return Err(err(format!(
                "more entries than the {m} announced in the header"
            )));
        }
        let key = (i.min(j), i.max(j));
        match seen.get_mut(&key) {
            Some((order, first, v, mirrored)) => {
                let is_mirror = i != j && !*mirrored && *v == q && *order == (j, i);
                if !is_mirror {
                    return Err(err(format!(
                        "entry ({}, {}) repeats line {first}{}; each pair sets Q_ij = Q_ji once",
                        i + 1,
                        j + 1,
                        if *v != q {
                            " with a different value"
                        } else {
                            ""
                        }
                    )));
                }
                *mirrored = true;
            }
            None => {
                seen.insert(key, ((i, j), ln, q, false));
                if q != 0.0 {
                    entries.push((i, j, q));
                }
            }
        }
    }
    let Some((n, m, hl)) = header else {
        return Err(ReadError::parse(
            path,
            0,
            "empty file; expected a header `n m`",
        ));
    };
    if lines_read != m {
        return Err(ReadError::parse(
            path,
            hl,
            format!("the header announces {m} entries but the file has {lines_read}"),
        ));
    }
    Ok((n, entries))
}

/// Write `q` in Biq Mac format (1-based, one line per stored entry), atomically.
pub fn write_bq(path: impl AsRef<Path>, q: &Qubo) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| write_bq_to(w, q))
}

/// Write `q` in Biq Mac format to any writer.
pub fn write_bq_to(w: &mut dyn Write, q: &Qubo) -> std::io::Result<()> {
    writeln!(
        w,
        "# QUBO x'Qx; entry i j q sets Q_ij = Q_ji = q (Biq Mac format)"
    )?;
    writeln!(w, "{} {}", q.num_vars(), q.entries().len())?;
    for &(i, j, v) in q.entries() {
        writeln!(w, "{} {} {v}", i + 1, j + 1)?;
    }
    Ok(())
}

/// Parse a `.npy` file holding a square 2-D numeric array; returns `(n, row-major values)`.
pub fn parse_npy_square(bytes: &[u8], path: &Path) -> Result<(usize, Vec<f64>), ReadError> {
    let (shape, vals) = super::npy::parse_npy(bytes, path)?;
    if shape.len() != 2 || shape[0] != shape[1] {
        return Err(ReadError::parse(
            path,
            0,
            format!("expected a square 2-D matrix, found shape {shape:?}"),
        ));
    }
    Ok((shape[0], vals))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bq(text: &str) -> Result<(usize, Vec<Entry>), ReadError> {
        parse_bq(text, Path::new("q.bq"))
    }

    #[test]
    fn reads_bq_with_comments_and_mirrored_pairs() {
        let (n, e) = bq("# c\n3 4\n1 1 2\n1 2 -1.5\n2 1 -1.5\n3 2 4\n").unwrap();
        assert_eq!(n, 3);
        assert_eq!(e, vec![(0, 0, 2.0), (0, 1, -1.5), (2, 1, 4.0)]);
    }

    #[test]
    fn bq_errors_are_located() {
        let m = |t: &str| bq(t).unwrap_err().to_string();
        assert!(m("3\n").contains("q.bq:1: expected a header `n m`"));
        assert!(m("2 1\n1 3 1\n").contains("q.bq:2: column index 3 out of range 1..=2"));
        assert!(m("2 1\n1 x 1\n").contains("q.bq:2: expected a 1-based column index, found `x`"));
        assert!(m("2 1\n1 2 abc\n").contains("q.bq:2: expected a numeric value q"));
        assert!(
            m("2 2\n1 2 1\n2 1 3\n")
                .contains("q.bq:3: entry (2, 1) repeats line 2 with a different value")
        );
        assert!(m("2 2\n1 2 1\n1 2 1\n").contains("q.bq:3: entry (1, 2) repeats line 2"));
        assert!(
            m("2 3\n1 2 1\n").contains("q.bq:1: the header announces 3 entries but the file has 1")
        );
        assert!(m("2 1\n1 2 1\n2 2 1\n").contains("q.bq:3: more entries"));
        assert!(m("").contains("q.bq: empty file"));
    }

    #[test]
    fn npy_round_trip_of_a_handmade_file() {
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        let mut h = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }".to_string();
        while !(10 + h.len() + 1).is_multiple_of(64) {
            h.push(' ');
        }
        h.push('\n');
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        for v in [1.0f64, -2.0, -2.0, 3.0] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let (n, q) = parse_npy_square(&b, Path::new("m.npy")).unwrap();
        assert_eq!((n, q), (2, vec![1.0, -2.0, -2.0, 3.0]));
        let bad = &b[..b.len() - 3];
        assert!(
            parse_npy_square(bad, Path::new("m.npy"))
                .unwrap_err()
                .to_string()
                .contains("expected shape (2, 2) x 8 bytes")
        );
    }
}
