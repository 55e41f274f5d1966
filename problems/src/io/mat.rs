//! Numeric matrices from MATLAB Level 5 `.mat` files (uncompressed, as written by
//! `save -v6`), for data sets such as the MCPG MIMO channels.
//!
//! Layout: a 128-byte header (text, subsystem offset, version `0x0100`, endian indicator `IM`),
//! then data elements `(type: u32, bytes: u32, data, padding to 8 bytes)`; the small-element
//! form packs type and size into the first 4 bytes and up to 4 data bytes into the next 4. A
//! matrix is an `miMATRIX` element holding array flags, dimensions, a name and the real part
//! (column-major). Compressed elements (`save -v7`) are reported as unsupported.

use crate::error::ReadError;
use std::path::Path;

/// A real dense matrix, column-major.
#[derive(Debug, Clone, PartialEq)]
pub struct MatMatrix {
    /// Variable name in the file.
    pub name: String,
    /// Rows.
    pub rows: usize,
    /// Columns.
    pub cols: usize,
    /// Entries, column-major (`data[i + j * rows]`).
    pub data: Vec<f64>,
}

impl MatMatrix {
    /// Entry `(i, j)`.
    pub fn get(&self, i: usize, j: usize) -> f64 {
        self.data[i + j * self.rows]
    }
}

const MI_MATRIX: u32 = 14;
const MI_COMPRESSED: u32 = 15;

struct Cursor<'a> {
    b: &'a [u8],
    pos: usize,
    big: bool,
}

impl Cursor<'_> {
    fn u32(&self, at: usize) -> Option<u32> {
        let s: [u8; 4] = self.b.get(at..at + 4)?.try_into().ok()?;
        Some(if self.big {
            u32::from_be_bytes(s)
        } else {
            u32::from_le_bytes(s)
        })
    }
    /// Next element: (type, data slice); advances past padding.
    fn element(&mut self) -> Option<(u32, &[u8])> {
        let first = self.u32(self.pos)?;
        if first >> 16 != 0 {
            // Small data element.
            let ty = first & 0xffff;
            let n = (first >> 16) as usize;
            let data = self.b.get(self.pos + 4..self.pos + 4 + n.min(4))?;
            self.pos += 8;
            return Some((ty, data));
        }
        let n = self.u32(self.pos + 4)? as usize;
        let start = self.pos + 8;
        let data = self.b.get(start..start + n)?;
        self.pos = start + n.div_ceil(8) * 8;
        Some((first, data))
    }
}

fn numbers(ty: u32, d: &[u8], big: bool) -> Option<Vec<f64>> {
    macro_rules! conv {
        ($t:ty, $n:expr) => {
            d.chunks_exact($n)
                .map(|c| {
                    let a: [u8; $n] = c.try_into().unwrap_or([0; $n]);
                    (if big {
                        <$t>::from_be_bytes(a)
                    } else {
                        <$t>::from_le_bytes(a)
                    }) as f64
                })
                .collect()
        };
    }
    Some(match ty {
        1 => d.iter().map(|&x| f64::from(x as i8)).collect(),
        2 => d.iter().map(|&x| f64::from(x)).collect(),
        3 => conv!(i16, 2),
        4 => conv!(u16, 2),
        5 => conv!(i32, 4),
        6 => conv!(u32, 4),
        7 => conv!(f32, 4),
        9 => conv!(f64, 8),
        12 => conv!(i64, 8),
        13 => conv!(u64, 8),
        _ => return None,
    })
}

/// Read the real numeric 2-D matrix called `name` (or the first matrix when `name` is `None`).
pub fn read_mat_matrix(path: impl AsRef<Path>, name: Option<&str>) -> Result<MatMatrix, ReadError> {
    let path = path.as_ref();
    let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
    parse_mat_matrix(&bytes, name, path)
}

/// Parse `.mat` bytes; `path` is used in error messages (the "line" is 0: binary file).
pub fn parse_mat_matrix(
    bytes: &[u8],
    name: Option<&str>,
    path: &Path,
) -> Result<MatMatrix, ReadError> {
    let err = |m: String| ReadError::parse(path, 0, m);
    if bytes.len() < 128 {
        return Err(err(
            "too short for a MATLAB Level 5 .mat file (128-byte header)".into(),
        ));
    }
    let big = match &bytes[126..128] {
        b"IM" => false,
        b"MI" => true,
        _ => {
            return Err(err(
                "not a MATLAB Level 5 .mat file (no endian indicator at byte 126); MATLAB v4 and v7.3 (HDF5) files are not supported".into(),
            ));
        }
    };
    let mut cur = Cursor {
        b: bytes,
        pos: 128,
        big,
    };
    let mut names = Vec::new();
    while cur.pos < bytes.len() {
        let at = cur.pos;
        let Some((ty, data)) = cur.element() else {
            return Err(err(format!("truncated data element at byte {at}")));
        };
        if ty == MI_COMPRESSED {
            return Err(err(
                "compressed .mat data (MATLAB -v7) is not supported; save with -v6".into(),
            ));
        }
        if ty != MI_MATRIX {
            continue;
        }
        let mut sub = Cursor {
            b: data,
            pos: 0,
            big,
        };
        let bad = || err(format!("malformed matrix element at byte {at}"));
        let (_, flags) = sub.element().ok_or_else(bad)?;
        let flags = numbers(6, flags, big).ok_or_else(bad)?;
        let class = flags.first().copied().unwrap_or(0.0) as u32 & 0xff;
        let complex = flags.first().copied().unwrap_or(0.0) as u32 & 0x800 != 0;
        let (dty, dims) = sub.element().ok_or_else(bad)?;
        let dims = numbers(dty, dims, big).ok_or_else(bad)?;
        let (_, nm) = sub.element().ok_or_else(bad)?;
        let nm = String::from_utf8_lossy(nm)
            .trim_end_matches('\0')
            .to_string();
        names.push(nm.clone());
        if name.is_some_and(|want| want != nm) {
            continue;
        }
        if !(1..=15).contains(&class) || class == 3 || class == 4 || class == 5 {
            return Err(err(format!(
                "variable `{nm}` is not a numeric matrix (class {class})"
            )));
        }
        if complex {
            return Err(err(format!(
                "variable `{nm}` is complex; expected a real matrix"
            )));
        }
        if dims.len() != 2 {
            return Err(err(format!(
                "variable `{nm}` has {} dimensions, expected 2",
                dims.len()
            )));
        }
        let (rows, cols) = (dims[0] as usize, dims[1] as usize);
        let (rty, re) = sub.element().ok_or_else(bad)?;
        let values = numbers(rty, re, big)
            .ok_or_else(|| err(format!("variable `{nm}`: unsupported data type {rty}")))?;
        if values.len() != rows * cols {
            return Err(err(format!(
                "variable `{nm}`: {} values for a {rows} x {cols} matrix",
                values.len()
            )));
        }
        return Ok(MatMatrix {
            name: nm,
            rows,
            cols,
            data: values,
        });
    }
    Err(err(match name {
        Some(n) => format!("no matrix named `{n}` (found: {})", names.join(", ")),
        None => "no matrix in the file".into(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hand-built little-endian Level 5 file with one 2 x 3 double matrix `A`.
    fn file() -> Vec<u8> {
        let mut b = vec![b' '; 116];
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&0x0100u16.to_le_bytes());
        b.extend_from_slice(b"IM");
        let mut m = Vec::new();
        let el = |m: &mut Vec<u8>, ty: u32, data: &[u8]| {
            m.extend_from_slice(&ty.to_le_bytes());
            m.extend_from_slice(&(data.len() as u32).to_le_bytes());
            m.extend_from_slice(data);
            while !m.len().is_multiple_of(8) {
                m.push(0);
            }
        };
        el(&mut m, 6, &[6, 0, 0, 0, 0, 0, 0, 0]);
        el(&mut m, 5, &[2, 0, 0, 0, 3, 0, 0, 0]);
        // Small element for the name.
        m.extend_from_slice(&((1u32 << 16) | 1).to_le_bytes());
        m.extend_from_slice(b"A\0\0\0");
        let vals: Vec<u8> = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        el(&mut m, 9, &vals);
        el(&mut b, MI_MATRIX, &m);
        b
    }

    #[test]
    fn reads_a_column_major_matrix_by_name() {
        let p = Path::new("a.mat");
        let m = parse_mat_matrix(&file(), Some("A"), p).unwrap();
        assert_eq!((m.rows, m.cols), (2, 3));
        assert_eq!(m.get(1, 2), 6.0);
        assert_eq!(m.get(0, 1), 3.0);
        let e = parse_mat_matrix(&file(), Some("B"), p)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no matrix named `B` (found: A)"), "{e}");
        let short = &file()[..140];
        assert!(parse_mat_matrix(short, None, p).is_err());
        assert!(
            parse_mat_matrix(&[0u8; 200], None, p)
                .unwrap_err()
                .to_string()
                .contains("not a MATLAB Level 5")
        );
    }
}
