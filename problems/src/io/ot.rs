//! Optimal-transport instances with a dense cost matrix.
//!
//! ```text
//! n m
//! a_1 … a_n
//! b_1 … b_m
//! C_11 … C_1m
//! …
//! C_n1 … C_nm
//! ```
//!
//! Whitespace separated; line breaks are not significant; `#` starts a comment that runs to the
//! end of the line. Errors name the file, the line of the offending token and what was expected
//! there (`a[3]`, `C(2, 5)`, ...).

use crate::error::ReadError;
use crate::io::{read_text, write_atomic};
use crate::ot::OtProblem;
use std::io::Write;
use std::path::Path;

/// Read a dense OT instance. Unequal masses are an error (see [`read_ot_normalized`]).
pub fn read_ot(path: impl AsRef<Path>) -> Result<OtProblem, ReadError> {
    let path = path.as_ref();
    let (a, b, c) = parse_parts(&read_text(path)?, path)?;
    OtProblem::new(a, b, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

/// Read a dense OT instance and rescale both marginals to mass 1; also returns whether the
/// masses differed.
pub fn read_ot_normalized(path: impl AsRef<Path>) -> Result<(OtProblem, bool), ReadError> {
    let path = path.as_ref();
    let (a, b, c) = parse_parts(&read_text(path)?, path)?;
    OtProblem::normalized(a, b, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

/// Parse the text of a dense instance; `path` is used in messages.
pub fn parse_ot(text: &str, path: &Path) -> Result<OtProblem, ReadError> {
    let (a, b, c) = parse_parts(text, path)?;
    OtProblem::new(a, b, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

type Parts = (Vec<f64>, Vec<f64>, Vec<f64>);

fn parse_parts(text: &str, path: &Path) -> Result<Parts, ReadError> {
    let mut toks = text.lines().enumerate().flat_map(|(i, l)| {
        let l = l.split('#').next().unwrap_or("");
        l.split_ascii_whitespace().map(move |t| (i + 1, t))
    });
    let mut last_line = 0usize;
    let mut next = |what: &dyn Fn() -> String| -> Result<(usize, &str), ReadError> {
        match toks.next() {
            Some((ln, t)) => {
                last_line = ln;
                Ok((ln, t))
            }
            None => Err(ReadError::parse(
                path,
                last_line,
                format!("file ends early; expected {}", what()),
            )),
        }
    };
    let mut dim = |what: &'static str| -> Result<usize, ReadError> {
        let (ln, t) = next(&|| what.to_string())?;
        t.parse::<usize>().map_err(|_| {
            ReadError::parse(
                path,
                ln,
                format!("expected {what} (a positive integer), found `{t}`"),
            )
        })
    };
    let n = dim("the number of rows n")?;
    let m = dim("the number of columns m")?;
    if n == 0 || m == 0 {
        return Err(ReadError::parse(
            path,
            last_line,
            format!("empty problem ({n} x {m})"),
        ));
    }
    let mut num = |what: &dyn Fn() -> String| -> Result<f64, ReadError> {
        let (ln, t) = next(what)?;
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(ReadError::parse(
                path,
                ln,
                format!("expected {} (a finite number), found `{t}`", what()),
            )),
        }
    };
    let mut a = Vec::with_capacity(n);
    for i in 0..n {
        a.push(num(&|| format!("weight a[{}]", i + 1))?);
    }
    let mut b = Vec::with_capacity(m);
    for j in 0..m {
        b.push(num(&|| format!("weight b[{}]", j + 1))?);
    }
    let mut c = Vec::with_capacity(n.saturating_mul(m).min(1 << 28));
    for i in 0..n {
        for j in 0..m {
            c.push(num(&|| format!("cost C({}, {})", i + 1, j + 1))?);
        }
    }
    if let Some((ln, t)) = toks.next() {
        return Err(ReadError::parse(
            path,
            ln,
            format!("unexpected `{t}` after the {n} x {m} cost matrix"),
        ));
    }
    for (name, w) in [("a", &a), ("b", &b)] {
        if let Some(i) = w.iter().position(|v| *v < 0.0) {
            return Err(ReadError::parse(
                path,
                0,
                format!("weight {name}[{}] = {} is negative", i + 1, w[i]),
            ));
        }
    }
    Ok((a, b, c))
}

/// A weighted point cloud: one point per line, `x_1 … x_d w` (coordinates, then a
/// non-negative weight); every line has the same number of values; `#` comments and blank
/// lines are skipped. Returns the points and the weights.
pub fn read_points(path: impl AsRef<Path>) -> Result<(Vec<Vec<f64>>, Vec<f64>), ReadError> {
    let path = path.as_ref();
    parse_points(&read_text(path)?, path)
}

/// Parse a point cloud (see [`read_points`]); `path` is used in messages.
pub fn parse_points(text: &str, path: &Path) -> Result<(Vec<Vec<f64>>, Vec<f64>), ReadError> {
    let mut pts = Vec::new();
    let mut w = Vec::new();
    let mut width: Option<(usize, usize)> = None;
    for (k, line) in text.lines().enumerate() {
        let ln = k + 1;
        let line = line.split('#').next().unwrap_or("");
        let toks: Vec<&str> = line.split_ascii_whitespace().collect();
        if toks.is_empty() {
            continue;
        }
        if toks.len() < 2 {
            return Err(ReadError::parse(
                path,
                ln,
                format!(
                    "expected coordinates then a weight (`x_1 … x_d w`), found `{}`",
                    line.trim()
                ),
            ));
        }
        match width {
            None => width = Some((toks.len(), ln)),
            Some((wd, first)) if wd != toks.len() => {
                return Err(ReadError::parse(
                    path,
                    ln,
                    format!(
                        "{} values, but line {first} has {wd}; every point needs the same dimension",
                        toks.len()
                    ),
                ));
            }
            _ => {}
        }
        let mut vals = Vec::with_capacity(toks.len());
        for (c, t) in toks.iter().enumerate() {
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => vals.push(v),
                _ => {
                    let what = if c + 1 == toks.len() {
                        "the weight".to_string()
                    } else {
                        format!("coordinate {}", c + 1)
                    };
                    return Err(ReadError::parse(
                        path,
                        ln,
                        format!("expected {what} (a finite number), found `{t}`"),
                    ));
                }
            }
        }
        let wt = vals.pop().unwrap_or(0.0);
        if wt < 0.0 {
            return Err(ReadError::parse(
                path,
                ln,
                format!("weight {wt} is negative"),
            ));
        }
        pts.push(vals);
        w.push(wt);
    }
    if pts.is_empty() {
        return Err(ReadError::parse(
            path,
            0,
            "no points; expected lines `x_1 … x_d w`",
        ));
    }
    Ok((pts, w))
}

/// Write a dense instance (17 significant digits), atomically.
pub fn write_ot(path: impl AsRef<Path>, p: &OtProblem) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| {
        writeln!(w, "{} {}", p.n(), p.m())?;
        for v in [p.a(), p.b()] {
            let line: Vec<String> = v.iter().map(|x| format!("{x:.17e}")).collect();
            writeln!(w, "{}", line.join(" "))?;
        }
        for i in 0..p.n() {
            let line: Vec<String> = p.cost_row(i).iter().map(|x| format!("{x:.17e}")).collect();
            writeln!(w, "{}", line.join(" "))?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_and_reports_errors() {
        let p = parse_ot(
            "2 3 # dims\n0.5 0.5\n0.2 0.3 0.5\n1 2 3\n4 5 6\n",
            Path::new("t.txt"),
        )
        .unwrap();
        assert_eq!((p.n(), p.m()), (2, 3));
        assert_eq!(p.cost_row(1), &[4.0, 5.0, 6.0]);
        let e = |t: &str| parse_ot(t, Path::new("t.txt")).unwrap_err().to_string();
        assert_eq!(
            e("2 2\n0.5 0.5\n0.5 0.5\n1 2\n3 x\n"),
            "t.txt:5: expected cost C(2, 2) (a finite number), found `x`"
        );
        assert_eq!(
            e("2 2\n0.5 0.5\n0.5\n"),
            "t.txt:3: file ends early; expected weight b[2]"
        );
        assert!(e("2 2\n0.5 0.5\n0.5 0.5\n1 2 3 4 5\n").contains("t.txt:4: unexpected `5`"));
        assert!(e("x 2\n").contains("t.txt:1: expected the number of rows n"));
        assert!(e("1 1\n-1\n-1\n0\n").contains("a[1] = -1 is negative"));
        assert!(e("1 1\n1\n2\n0\n").contains("unequal masses"));
        assert!(e("1 1\n1\n1\nnan\n").contains("expected cost C(1, 1) (a finite number)"));
    }

    #[test]
    fn point_clouds() {
        let (p, w) = parse_points("# x y w\n0 0 0.5\n1 2 0.5\n", Path::new("s.txt")).unwrap();
        assert_eq!(p, vec![vec![0.0, 0.0], vec![1.0, 2.0]]);
        assert_eq!(w, vec![0.5, 0.5]);
        let e = |t: &str| parse_points(t, Path::new("s.txt")).unwrap_err().to_string();
        assert!(e("0 0 1\n1 1\n").contains("s.txt:2: 2 values, but line 1 has 3"));
        assert!(e("0 x 1\n").contains("s.txt:1: expected coordinate 2"));
        assert!(e("0 0 -1\n").contains("s.txt:1: weight -1 is negative"));
        assert!(e("0 0 y\n").contains("expected the weight"));
        assert!(e("\n").contains("no points"));
    }

    #[test]
    fn write_read_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = OtProblem::new(
            vec![0.3, 0.7],
            vec![1.0 / 3.0, 2.0 / 3.0],
            vec![0.1, 0.2, 1.0 / 7.0, 0.4],
        )
        .unwrap();
        let f = dir.path().join("p.txt");
        write_ot(&f, &p).unwrap();
        assert_eq!(read_ot(&f).unwrap(), p);
    }
}
