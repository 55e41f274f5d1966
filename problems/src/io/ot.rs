//! Optimal-transport instances: dense cost matrices, point clouds ([`read_points`]) and grid
//! histograms ([`read_grid`]). The dense form:
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
use crate::ot::{GridHistogram, OtProblem};
use std::io::Write;
use std::path::Path;

/// Read a dense OT instance. Unequal masses are an error (see [`read_ot_normalized`]).
pub fn read_ot(path: impl AsRef<Path>) -> Result<OtProblem, ReadError> {
    let path = path.as_ref();
    let (a, b, c) = parse_parts(&read_text(path)?, path)?;
    OtProblem::from_row_major(a, b, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
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
    OtProblem::from_row_major(a, b, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
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
    let size_err = |e: crate::error::ProblemError| ReadError::parse(path, 1, e.to_string());
    let nm = crate::limits::checked_size("the cost matrix", n, m).map_err(size_err)?;
    crate::limits::check_alloc("the cost matrix", nm, 8).map_err(size_err)?;
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
    let mut a = Vec::with_capacity(crate::limits::capped(n));
    for i in 0..n {
        a.push(num(&|| format!("weight a[{}]", i + 1))?);
    }
    let mut b = Vec::with_capacity(crate::limits::capped(m));
    for j in 0..m {
        b.push(num(&|| format!("weight b[{}]", j + 1))?);
    }
    let mut c = Vec::with_capacity(crate::limits::capped(nm));
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

/// Write a transport plan (the output of `solve ot -o`), atomically: a `#` comment line, then
/// `n m nnz`, then one line `i j P_ij` per entry (1-based, 17 significant digits). With a grid
/// `support`, `i` and `j` are the row-major indices of the cells (`support.rows[i]`,
/// `support.cols[j]`) instead of the rows and columns of the dense problem.
pub fn write_plan(
    path: impl AsRef<Path>,
    n: usize,
    m: usize,
    entries: &[(usize, usize, f64)],
    support: Option<&crate::ot::GridSupport>,
    threshold: f64,
) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| {
        match support {
            None => writeln!(
                w,
                "# transport plan: n m nnz, then i j P_ij (1-based), entries > {threshold:e}"
            )?,
            Some(_) => writeln!(
                w,
                "# transport plan between grid cells: n m nnz (non-empty cells), then \
                 i j P_ij with i, j the 1-based row-major cell indices, entries > {threshold:e}"
            )?,
        }
        writeln!(w, "{n} {m} {}", entries.len())?;
        for &(i, j, v) in entries {
            let (ci, cj) = support.map_or((i, j), |sup| (sup.rows[i], sup.cols[j]));
            writeln!(w, "{} {} {v:.17e}", ci + 1, cj + 1)?;
        }
        Ok(())
    })
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

/// Read a histogram on a regular grid ([`GridHistogram`]). Three forms:
///
/// * `.npy` (by extension): a NumPy array of any dimension; its shape is the grid's.
/// * a `grid` header, then the weights row-major (the last index fastest; line breaks are
///   not significant), with an optional `spacing h_1 … h_d` line after the header:
///   ```text
///   # 3 x 2 grid on the unit square
///   grid 3 2
///   0.1 0.2
///   0.0 0.3
///   0.2 0.2
///   ```
/// * a plain matrix (as the DOTmark images): one grid row per line, values separated by
///   commas and/or whitespace, every line the same length; one line is a 1-D grid.
///
/// `#` starts a comment in the text forms. Errors name the file, the line and what was
/// expected.
pub fn read_grid(path: impl AsRef<Path>) -> Result<GridHistogram, ReadError> {
    let path = path.as_ref();
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("npy"))
    {
        let bytes = std::fs::read(path).map_err(|e| ReadError::io(path, e))?;
        let (shape, vals) = super::npy::parse_npy(&bytes, path)?;
        return GridHistogram::new(shape, vals)
            .map_err(|e| ReadError::parse(path, 0, e.to_string()));
    }
    parse_grid(&read_text(path)?, path)
}

/// Parse the text forms of [`read_grid`]; `path` is used in messages.
pub fn parse_grid(text: &str, path: &Path) -> Result<GridHistogram, ReadError> {
    let lines: Vec<(usize, Vec<&str>)> = text
        .lines()
        .enumerate()
        .map(|(k, l)| {
            let l = l.split('#').next().unwrap_or("");
            (
                k + 1,
                l.split(|c: char| c == ',' || c.is_ascii_whitespace())
                    .filter(|t| !t.is_empty())
                    .collect::<Vec<_>>(),
            )
        })
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let Some((first_ln, first)) = lines.first() else {
        return Err(ReadError::parse(
            path,
            0,
            "empty file; expected a grid histogram",
        ));
    };
    let number = |t: &str, ln: usize, what: &dyn Fn() -> String| -> Result<f64, ReadError> {
        match t.parse::<f64>() {
            Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
            _ => Err(ReadError::parse(
                path,
                ln,
                format!("expected {} (a finite number >= 0), found `{t}`", what()),
            )),
        }
    };
    let (shape, spacing, body) = if first[0].eq_ignore_ascii_case("grid") {
        if first.len() < 2 {
            return Err(ReadError::parse(
                path,
                *first_ln,
                "expected `grid n_1 … n_d` (cells per axis)",
            ));
        }
        let mut shape = Vec::new();
        for t in &first[1..] {
            match t.parse::<usize>() {
                Ok(v) if v > 0 => shape.push(v),
                _ => {
                    return Err(ReadError::parse(
                        path,
                        *first_ln,
                        format!("expected a positive number of cells, found `{t}`"),
                    ));
                }
            }
        }
        let mut rest = &lines[1..];
        let mut spacing = None;
        if let Some((ln, toks)) = rest.first()
            && toks[0].eq_ignore_ascii_case("spacing")
        {
            if toks.len() != shape.len() + 1 {
                return Err(ReadError::parse(
                    path,
                    *ln,
                    format!("expected `spacing` and {} cell sizes", shape.len()),
                ));
            }
            let mut h = Vec::new();
            for (d, t) in toks[1..].iter().enumerate() {
                match t.parse::<f64>() {
                    Ok(v) if v.is_finite() && v > 0.0 => h.push(v),
                    _ => {
                        return Err(ReadError::parse(
                            path,
                            *ln,
                            format!(
                                "expected the cell size of axis {} (> 0), found `{t}`",
                                d + 1
                            ),
                        ));
                    }
                }
            }
            spacing = Some(h);
            rest = &rest[1..];
        }
        (shape, spacing, rest)
    } else {
        let width = first.len();
        if let Some((ln, t)) = lines.iter().find(|(_, t)| t.len() != width) {
            return Err(ReadError::parse(
                path,
                *ln,
                format!(
                    "{} values, but line {first_ln} has {width}; every grid row needs the same length",
                    t.len()
                ),
            ));
        }
        let shape = if lines.len() == 1 {
            vec![width]
        } else {
            vec![lines.len(), width]
        };
        (shape, None, &lines[..])
    };
    // The weights come from the body: never reserve more than it can supply.
    let cells = shape
        .iter()
        .try_fold(1usize, |acc, &s| acc.checked_mul(s))
        .ok_or_else(|| {
            ReadError::parse(
                path,
                *first_ln,
                format!("a {shape:?} grid has more cells than the address space"),
            )
        })?;
    let supplied: usize = body.iter().map(|(_, t)| t.len()).sum();
    let mut w = Vec::with_capacity(cells.min(supplied));
    let mut last_ln = *first_ln;
    for (ln, toks) in body {
        last_ln = *ln;
        for t in toks {
            if w.len() == cells {
                return Err(ReadError::parse(
                    path,
                    *ln,
                    format!("more than the {cells} weights of a {shape:?} grid, found `{t}`"),
                ));
            }
            let k = w.len();
            w.push(number(t, *ln, &|| format!("the weight of cell {}", k + 1))?);
        }
    }
    if w.len() != cells {
        return Err(ReadError::parse(
            path,
            last_ln,
            format!(
                "{} weights, but a {shape:?} grid has {cells} cells",
                w.len()
            ),
        ));
    }
    let g = GridHistogram::new(shape, w).map_err(|e| ReadError::parse(path, 0, e.to_string()))?;
    match spacing {
        Some(h) => g
            .with_spacing(&h)
            .map_err(|e| ReadError::parse(path, 0, e.to_string())),
        None => Ok(g),
    }
}

/// Write a grid histogram in the `grid` text form of [`read_grid`] (with its spacing),
/// atomically.
pub fn write_grid(path: impl AsRef<Path>, g: &GridHistogram) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| {
        let dims: Vec<String> = g.shape().iter().map(|n| n.to_string()).collect();
        writeln!(w, "grid {}", dims.join(" "))?;
        let h: Vec<String> = g.spacing().iter().map(|x| format!("{x:.17e}")).collect();
        writeln!(w, "spacing {}", h.join(" "))?;
        let last = *g.shape().last().unwrap_or(&1);
        for row in g.weights().chunks(last) {
            let line: Vec<String> = row.iter().map(|x| format!("{x:.17e}")).collect();
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
        let p = OtProblem::from_row_major(
            vec![0.3, 0.7],
            vec![1.0 / 3.0, 2.0 / 3.0],
            vec![0.1, 0.2, 1.0 / 7.0, 0.4],
        )
        .unwrap();
        let f = dir.path().join("p.txt");
        write_ot(&f, &p).unwrap();
        assert_eq!(read_ot(&f).unwrap(), p);
    }

    #[test]
    fn grid_forms_and_errors() {
        let p = Path::new("g.txt");
        let g = parse_grid("# two rows\ngrid 2 3\n1 2 3\n4 5 6\n", p).unwrap();
        assert_eq!(g.shape(), &[2, 3]);
        assert_eq!(g.weights(), &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
        assert_eq!(g.center(4), vec![0.75, 0.5]);
        let g = parse_grid("grid 3\nspacing 2\n1 0 1", p).unwrap();
        assert_eq!(g.center(2), vec![5.0]);
        let g = parse_grid("1,2,3\n4,5,6\n", p).unwrap();
        assert_eq!(g.shape(), &[2, 3]);
        let g = parse_grid("1 2 3 4\n", p).unwrap();
        assert_eq!(g.shape(), &[4]);
        let e = |t: &str| parse_grid(t, p).unwrap_err().to_string();
        assert!(e("grid 2 2\n1 2 3\n").contains("g.txt:2: 3 weights, but a [2, 2] grid has 4"));
        assert!(e("grid 2 2\n1 2 3 4 5\n").contains("g.txt:2: more than the 4 weights"));
        assert!(e("1 2\n3 x\n").contains("g.txt:2: expected the weight of cell 4"));
        assert!(e("1 2\n3\n").contains("g.txt:2: 1 values, but line 1 has 2"));
        assert!(e("grid 2 0\n").contains("g.txt:1: expected a positive number of cells"));
        assert!(e("grid 2\nspacing 0\n1 1").contains("g.txt:2: expected the cell size"));
        assert!(e("1 -2\n").contains("g.txt:1: expected the weight of cell 2"));
        assert!(e("0 0\n").contains("weight 0"));
        assert!(e("# nothing\n").contains("empty"));
    }

    #[test]
    fn grid_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.txt");
        let g = GridHistogram::new(vec![2, 2, 2], (1..=8).map(|k| k as f64 / 7.0).collect())
            .unwrap()
            .with_spacing(&[0.5, 1.0, 0.25])
            .unwrap();
        write_grid(&path, &g).unwrap();
        assert_eq!(read_grid(&path).unwrap(), g);
    }
}
