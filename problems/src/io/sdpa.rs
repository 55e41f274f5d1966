//! The SDPA sparse format (`.dat-s`) of SDPLIB.
//!
//! ```text
//! "comment lines start with " or *
//! 2            m, the number of constraints
//! 2            the number of blocks
//! 2 -3         block sizes (negative: a diagonal block)
//! 1.0 2.0      the vector c (m values)
//! 0 1 1 1 1.0  entries `matno blkno i j value` (1-based): F_0 for matno 0, F_1..F_m
//! ```
//!
//! Braces, parentheses and commas count as spaces (SDPLIB writes `{1, 2}`), line breaks are not
//! significant after the comments. SDPA's primal is `min cᵀx s.t. Σ x_i F_i − F_0 ⪰ 0`; its
//! dual is `max ⟨F_0, Y⟩ s.t. ⟨F_i, Y⟩ = c_i, Y ⪰ 0`. This reader returns the dual as our
//! standard form `min ⟨C, X⟩ s.t. ⟨A_i, X⟩ = b_i, X ⪰ 0` with `C = −F_0`, `A_i = F_i`,
//! `b = c`: **our optimum is minus the value SDPLIB lists**. Entries may be in either triangle;
//! repeated entries are summed.

use crate::error::ReadError;
use crate::io::{read_text, write_atomic};
use crate::sdp::{Block, Entry, SdpProblem, SymBlockMatrix};
use std::io::Write;
use std::path::Path;

/// Read an SDPA sparse file (see the module documentation).
pub fn read_sdpa(path: impl AsRef<Path>) -> Result<SdpProblem, ReadError> {
    let path = path.as_ref();
    parse_sdpa(&read_text(path)?, path)
}

/// Parse the text of an SDPA sparse file; `path` is used in messages.
pub fn parse_sdpa(text: &str, path: &Path) -> Result<SdpProblem, ReadError> {
    let toks = tokens(text);
    let pos = std::cell::Cell::new(0usize);
    let last_line = toks.last().map_or(0, |t| t.0);
    let next = |what: &str| -> Result<(usize, &str), ReadError> {
        let t = toks.get(pos.get()).copied().ok_or_else(|| {
            ReadError::parse(
                path,
                last_line,
                format!("unexpected end of file; expected {what}"),
            )
        })?;
        pos.set(pos.get() + 1);
        Ok(t)
    };
    let int = |(ln, t): (usize, &str), what: &str| -> Result<i64, ReadError> {
        // SDPLIB writes some integers as `2.0`.
        t.parse::<i64>()
            .ok()
            .or_else(|| {
                t.parse::<f64>()
                    .ok()
                    .filter(|v| v.fract() == 0.0 && v.abs() < 1e15)
                    .map(|v| v as i64)
            })
            .ok_or_else(|| ReadError::parse(path, ln, format!("expected {what}, found `{t}`")))
    };
    let real = |(ln, t): (usize, &str), what: &str| -> Result<f64, ReadError> {
        t.parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| {
                ReadError::parse(
                    path,
                    ln,
                    format!("expected {what} (a finite number), found `{t}`"),
                )
            })
    };
    let tm = next("m, the number of constraints")?;
    let m = int(tm, "m, the number of constraints (an integer >= 0)")?;
    if m < 0 {
        return Err(ReadError::parse(path, tm.0, format!("m = {m} is negative")));
    }
    let m = m as usize;
    // c has m entries, each a token of the file.
    if m > toks.len() {
        return Err(ReadError::parse(
            path,
            tm.0,
            format!(
                "m = {m} constraints announced but the file has only {} numbers",
                toks.len()
            ),
        ));
    }
    // The rest of the `m` and block-count lines is a comment in many SDPA files (`=mdim`).
    let skip_line = |ln: usize| {
        while toks.get(pos.get()).is_some_and(|t| t.0 == ln) {
            pos.set(pos.get() + 1);
        }
    };
    skip_line(tm.0);
    let tb = next("the number of blocks")?;
    let nb = int(tb, "the number of blocks (an integer >= 1)")?;
    if nb < 1 {
        return Err(ReadError::parse(
            path,
            tb.0,
            format!("{nb} blocks; expected at least 1"),
        ));
    }
    skip_line(tb.0);
    // Each block size is a token of the file: more blocks than tokens cannot be.
    if nb as u128 > toks.len() as u128 {
        return Err(ReadError::parse(
            path,
            tb.0,
            format!(
                "{nb} blocks announced but the file has only {} numbers",
                toks.len()
            ),
        ));
    }
    let mut blocks = Vec::with_capacity(nb as usize);
    for k in 0..nb {
        let t = next("a block size")?;
        let s = int(t, "a block size (a non-zero integer)")?;
        if s == 0 {
            return Err(ReadError::parse(
                path,
                t.0,
                format!("block {} has size 0", k + 1),
            ));
        }
        blocks.push(if s > 0 {
            Block::Dense(s as usize)
        } else {
            Block::Diagonal(s.unsigned_abs() as usize)
        });
    }
    // The factors the solvers keep: at least a few words a row of every block.
    let rows = blocks
        .iter()
        .fold(0usize, |acc, b: &Block| acc.saturating_add(b.size()));
    crate::limits::check_alloc("the blocks' factors", rows, 64)
        .map_err(|e| ReadError::parse(path, tb.0 + 1, e.to_string()))?;
    let mut c = Vec::with_capacity(m);
    for i in 0..m {
        let t = next(&format!("c[{}]", i + 1))?;
        c.push(real(t, &format!("c[{}]", i + 1))?);
    }
    let mut mats: Vec<Vec<Entry>> = vec![Vec::new(); m + 1];
    while pos.get() < toks.len() {
        let t0 = next("matno")?;
        let ln = t0.0;
        let matno = int(t0, "a matrix number (0..m)")?;
        let blk = int(next("a block number")?, "a block number")?;
        let i = int(next("a row index")?, "a row index")?;
        let j = int(next("a column index")?, "a column index")?;
        let v = real(next("an entry value")?, "an entry value")?;
        check_entry(&blocks, m, (matno, blk, i, j))
            .map_err(|msg| ReadError::parse(path, ln, msg))?;
        mats[matno as usize].push(Entry {
            block: blk as usize - 1,
            i: i as usize - 1,
            j: j as usize - 1,
            v,
        });
    }
    let mut mats = mats.into_iter();
    let f0 = mats.next().unwrap_or_default();
    let build = |raw: Vec<Entry>| {
        SymBlockMatrix::new(&blocks, raw).map_err(|e| ReadError::parse(path, 0, e.to_string()))
    };
    let cmat = build(f0.into_iter().map(|e| Entry { v: -e.v, ..e }).collect())?;
    let a = mats.map(build).collect::<Result<Vec<_>, _>>()?;
    SdpProblem::new(blocks, cmat, a, c).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

/// Tokens with their line numbers, after the leading comment lines (`"` or `*`); the
/// characters `{}(),` separate tokens as whitespace does.
fn tokens(text: &str) -> Vec<(usize, &str)> {
    let mut toks: Vec<(usize, &str)> = Vec::new();
    let mut in_header = true;
    for (k, line) in text.lines().enumerate() {
        let t = line.trim_start();
        if in_header && (t.starts_with('"') || t.starts_with('*')) {
            continue;
        }
        if !t.is_empty() {
            in_header = false;
        }
        toks.extend(
            t.split(|c: char| c.is_ascii_whitespace() || "{}(),".contains(c))
                .filter(|s| !s.is_empty())
                .map(|s| (k + 1, s)),
        );
    }
    toks
}

/// An entry `matno blk i j` (1-based block and indices) against `m` matrices and the blocks.
fn check_entry(
    blocks: &[Block],
    m: usize,
    (matno, blk, i, j): (i64, i64, i64, i64),
) -> Result<(), String> {
    let nb = blocks.len() as i64;
    if !(0..=m as i64).contains(&matno) {
        return Err(format!("matrix number {matno} outside 0..={m}"));
    }
    if !(1..=nb).contains(&blk) {
        return Err(format!("block number {blk} outside 1..={nb}"));
    }
    let size = blocks[blk as usize - 1].size() as i64;
    if !(1..=size).contains(&i) || !(1..=size).contains(&j) {
        return Err(format!(
            "entry ({i}, {j}) outside block {blk} of size {size}"
        ));
    }
    if matches!(blocks[blk as usize - 1], Block::Diagonal(_)) && i != j {
        return Err(format!(
            "off-diagonal entry ({i}, {j}) in diagonal block {blk}"
        ));
    }
    Ok(())
}

/// Write a problem in SDPA sparse format (`F_0 = −C`, `F_i = A_i`, `c = b`), atomically.
pub fn write_sdpa(path: impl AsRef<Path>, p: &SdpProblem) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w: &mut dyn Write| {
        writeln!(
            w,
            "\"written by mathprog: min <C,X> s.t. <A_i,X> = b_i as SDPA (F0 = -C)"
        )?;
        writeln!(w, "{}", p.num_constraints())?;
        writeln!(w, "{}", p.blocks().len())?;
        let sizes: Vec<String> = p
            .blocks()
            .iter()
            .map(|b| match b {
                Block::Dense(n) => n.to_string(),
                Block::Diagonal(n) => format!("-{n}"),
            })
            .collect();
        writeln!(w, "{}", sizes.join(" "))?;
        let c: Vec<String> = p.b().iter().map(|v| format!("{v:e}")).collect();
        writeln!(w, "{}", c.join(" "))?;
        for e in p.c().entries() {
            writeln!(w, "0 {} {} {} {:e}", e.block + 1, e.i + 1, e.j + 1, -e.v)?;
        }
        for (k, a) in p.a().iter().enumerate() {
            for e in a.entries() {
                writeln!(
                    w,
                    "{} {} {} {} {:e}",
                    k + 1,
                    e.block + 1,
                    e.i + 1,
                    e.j + 1,
                    e.v
                )?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALL: &str = "\"a comment\n* another\n2 =mdim\n2\n{2, -1}\n{1.0, 2.0}\n\
0 1 1 1 1.0\n0 1 1 2 0.5\n1 1 1 1 1.0\n1 2 1 1 1.0\n2 1 2 2 1.0\n2 1 2 1 1.0\n";

    #[test]
    fn reads_sdplib_style_files() {
        // `=mdim` after m is a comment.
        let p = parse_sdpa(SMALL, Path::new("s.dat-s")).unwrap();
        assert_eq!(p.blocks(), &[Block::Dense(2), Block::Diagonal(1)]);
        assert_eq!(p.b(), &[1.0, 2.0]);
        // C = −F0.
        assert_eq!(
            p.c().entries()[0],
            Entry {
                block: 0,
                i: 0,
                j: 0,
                v: -1.0
            }
        );
        assert_eq!(
            p.c().entries()[1],
            Entry {
                block: 0,
                i: 0,
                j: 1,
                v: -0.5
            }
        );
        // A_2: (2,2) and (2,1) -> upper triangle (1,2).
        assert_eq!(p.a()[1].entries().len(), 2);
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.dat-s");
        write_sdpa(&path, &p).unwrap();
        assert_eq!(read_sdpa(&path).unwrap(), p);
    }

    #[test]
    fn errors_name_the_line() {
        let e = |t: &str| parse_sdpa(t, Path::new("s")).unwrap_err().to_string();
        assert!(
            e("1\n1\n2\n1\n0 1 3 1 1.0\n").contains("s:5: entry (3, 1) outside block 1 of size 2")
        );
        assert!(e("1\n1\n-2\n1\n0 1 1 2 1.0\n").contains("s:5: off-diagonal entry (1, 2)"));
        assert!(e("1\n1\n2\n1\n2 1 1 1 1.0\n").contains("s:5: matrix number 2 outside 0..=1"));
        assert!(e("1\n1\n2\n1\n0 2 1 1 1.0\n").contains("s:5: block number 2 outside"));
        assert!(e("1\n1\n2\n1\n0 1 1 1 x\n").contains("s:5: expected an entry value"));
        assert!(
            e("1\n1\n2\n1\n0 1 1\n").contains("unexpected end of file; expected a column index")
        );
        assert!(e("2\n1\n2\n1\n").contains("expected c[2]"));
        assert!(e("1\n1\n0\n").contains("s:3: block 1 has size 0"));
    }
}
