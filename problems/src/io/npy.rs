//! NumPy `.npy` arrays (format versions 1–3): little-endian `float64`, `float32`, `int64` or
//! `int32`, C or Fortran order, any number of dimensions.

use crate::error::ReadError;
use std::path::Path;

/// Parse a `.npy` file; returns the shape and the values in row-major (C) order. Non-finite
/// entries are rejected; `path` is used in messages.
pub fn parse_npy(bytes: &[u8], path: &Path) -> Result<(Vec<usize>, Vec<f64>), ReadError> {
    let err = |m: String| ReadError::parse(path, 0, m);
    if bytes.len() < 10 || !bytes.starts_with(b"\x93NUMPY") {
        return Err(err("not a NumPy .npy file (bad magic bytes)".into()));
    }
    let major = bytes[6];
    let (hlen, hstart) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 if bytes.len() >= 12 => (
            u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
            12,
        ),
        _ => return Err(err(format!("unsupported .npy format version {major}"))),
    };
    let header = bytes
        .get(hstart..hstart + hlen)
        .and_then(|h| std::str::from_utf8(h).ok())
        .ok_or_else(|| err("truncated or non-text .npy header".into()))?;
    let field = |key: &str| -> Option<&str> {
        let at = header.find(&format!("'{key}'"))?;
        let rest = header[at + key.len() + 2..]
            .trim_start()
            .strip_prefix(':')?;
        Some(rest.trim_start())
    };
    let descr = field("descr")
        .and_then(|r| r.strip_prefix('\''))
        .and_then(|r| r.split('\'').next())
        .ok_or_else(|| err(format!("no 'descr' in .npy header `{header}`")))?;
    let fortran = field("fortran_order").is_some_and(|r| r.starts_with("True"));
    let shape_txt = field("shape")
        .and_then(|r| r.strip_prefix('('))
        .and_then(|r| r.split(')').next())
        .ok_or_else(|| err(format!("no 'shape' in .npy header `{header}`")))?;
    let shape: Vec<usize> = shape_txt
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.parse::<usize>())
        .collect::<Result<_, _>>()
        .map_err(|_| err(format!("bad shape `({shape_txt})` in .npy header")))?;
    let count = shape
        .iter()
        .try_fold(1usize, |acc, &d| acc.checked_mul(d))
        .ok_or_else(|| err(format!("shape ({shape_txt}) is too large")))?;
    let size = match descr {
        "<f8" | "<i8" => 8,
        "<f4" | "<i4" => 4,
        other => {
            return Err(err(format!(
                "unsupported dtype `{other}`; expected little-endian float64, float32, int64 or int32"
            )));
        }
    };
    let data = &bytes[(hstart + hlen).min(bytes.len())..];
    if Some(data.len()) != count.checked_mul(size) {
        return Err(err(format!(
            "data has {} bytes, expected shape ({shape_txt}) x {size} bytes",
            data.len()
        )));
    }
    let vals: Vec<f64> = data
        .chunks_exact(size)
        .map(|c| match descr {
            "<f8" => f64::from_le_bytes(c.try_into().unwrap_or([0; 8])),
            "<i8" => i64::from_le_bytes(c.try_into().unwrap_or([0; 8])) as f64,
            "<f4" => f64::from(f32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
            _ => f64::from(i32::from_le_bytes(c.try_into().unwrap_or([0; 4]))),
        })
        .collect();
    let vals = if fortran && shape.len() > 1 {
        to_c_order(&shape, &vals)
    } else {
        vals
    };
    if let Some(k) = vals.iter().position(|v| !v.is_finite()) {
        return Err(err(format!(
            "entry {:?} (0-based) is not finite",
            multi_index(&shape, k)
        )));
    }
    Ok((shape, vals))
}

/// The multi-index of row-major flat index `k`.
fn multi_index(shape: &[usize], mut k: usize) -> Vec<usize> {
    let mut idx = vec![0; shape.len()];
    for (d, &n) in shape.iter().enumerate().rev() {
        idx[d] = k % n.max(1);
        k /= n.max(1);
    }
    idx
}

/// Column-major values to row-major.
fn to_c_order(shape: &[usize], vals: &[f64]) -> Vec<f64> {
    (0..vals.len())
        .map(|k| {
            let idx = multi_index(shape, k);
            // Column-major offset: first index fastest.
            let mut off = 0;
            for (d, &i) in idx.iter().enumerate().rev() {
                off = off * shape[d] + i;
            }
            vals[off]
        })
        .collect()
}

/// Write a little-endian `float64` C-order array of the given shape as `.npy` (version 1.0),
/// atomically (temporary file, then rename).
pub fn write_npy(path: &Path, shape: &[usize], data: &[f64]) -> Result<(), ReadError> {
    let dims: Vec<String> = shape.iter().map(|d| d.to_string()).collect();
    let shape_txt = if shape.len() == 1 {
        format!("({},)", dims[0])
    } else {
        format!("({})", dims.join(", "))
    };
    let mut header = format!("{{'descr': '<f8', 'fortran_order': False, 'shape': {shape_txt}, }}");
    // Magic (6) + version (2) + header length (2) + header + '\n', padded to 64 bytes.
    let total = 10 + header.len() + 1;
    header.push_str(&" ".repeat(total.div_ceil(64) * 64 - total));
    header.push('\n');
    super::write_atomic(path, |w| {
        w.write_all(b"\x93NUMPY\x01\x00")?;
        w.write_all(&(header.len() as u16).to_le_bytes())?;
        w.write_all(header.as_bytes())?;
        let mut buf = Vec::with_capacity(8 * 8192);
        for chunk in data.chunks(8192) {
            buf.clear();
            for v in chunk {
                buf.extend_from_slice(&v.to_le_bytes());
            }
            w.write_all(&buf)?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, fortran: bool, shape: &str, data: &[u8]) -> Vec<u8> {
        let mut h = format!(
            "{{'descr': '{descr}', 'fortran_order': {}, 'shape': {shape}, }}",
            if fortran { "True" } else { "False" }
        );
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut b = b"\x93NUMPY\x01\x00".to_vec();
        b.extend_from_slice(&(h.len() as u16).to_le_bytes());
        b.extend_from_slice(h.as_bytes());
        b.extend_from_slice(data);
        b
    }

    #[test]
    fn three_d_fortran_order_is_transposed() {
        // Shape (2, 3, 2), value at (i, j, k) = 100 i + 10 j + k, stored column-major.
        let shape = [2usize, 3, 2];
        let mut data = Vec::new();
        for k in 0..2 {
            for j in 0..3 {
                for i in 0..2 {
                    data.extend_from_slice(&((100 * i + 10 * j + k) as f64).to_le_bytes());
                }
            }
        }
        let (s, v) = parse_npy(&npy("<f8", true, "(2, 3, 2)", &data), Path::new("x.npy")).unwrap();
        assert_eq!(s, shape);
        let want: Vec<f64> = (0..12)
            .map(|q| (100 * (q / 6) + 10 * ((q / 2) % 3) + q % 2) as f64)
            .collect();
        assert_eq!(v, want);
    }

    #[test]
    fn one_d_int32_and_errors() {
        let data: Vec<u8> = [1i32, -2, 3].iter().flat_map(|x| x.to_le_bytes()).collect();
        let (s, v) = parse_npy(&npy("<i4", false, "(3,)", &data), Path::new("x.npy")).unwrap();
        assert_eq!((s, v), (vec![3], vec![1.0, -2.0, 3.0]));
        let e = parse_npy(&npy("<i4", false, "(4,)", &data), Path::new("x.npy")).unwrap_err();
        assert!(e.to_string().contains("expected shape"), "{e}");
        let e = parse_npy(&npy(">f8", false, "(3,)", &data), Path::new("x.npy")).unwrap_err();
        assert!(e.to_string().contains("dtype"), "{e}");
        let nan: Vec<u8> = [1.0f64, f64::NAN]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let e = parse_npy(&npy("<f8", false, "(1, 2)", &nan), Path::new("x.npy")).unwrap_err();
        assert!(e.to_string().contains("[0, 1]"), "{e}");
        assert!(parse_npy(b"garbage", Path::new("x.npy")).is_err());
    }

    #[test]
    fn write_then_parse_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.npy");
        let data: Vec<f64> = (0..12).map(|i| i as f64 * 0.5 - 2.0).collect();
        super::write_npy(&path, &[3, 4], &data).unwrap();
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes.len() % 8, 0);
        let (shape, back) = super::parse_npy(&bytes, &path).unwrap();
        assert_eq!(shape, vec![3, 4]);
        assert_eq!(back, data);
        super::write_npy(&path, &[12], &data).unwrap();
        let (shape, _) = super::parse_npy(&std::fs::read(&path).unwrap(), &path).unwrap();
        assert_eq!(shape, vec![12]);
    }
}
