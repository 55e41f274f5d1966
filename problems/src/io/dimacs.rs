//! DIMACS CNF and the two WCNF formats of the MaxSAT Evaluations.
//!
//! * **CNF** (`p cnf V C`): every clause is soft with weight 1.
//!   ```text
//!   c comment
//!   p cnf 3 2
//!   1 -2 0
//!   2 3 0
//!   ```
//!   Several `0`-terminated clauses may share a line, but a clause may not continue on the next
//!   line. A line `%` ends the file (SATLIB convention).
//! * **Old WCNF** (`p wcnf V C [top]`, MaxSAT Evaluations up to 2021): each clause line starts with
//!   its positive integer weight; a weight `≥ top` marks a hard clause. Without `top` every
//!   clause is soft.
//! * **New WCNF** (MaxSAT Evaluation 2022+): no `p` line; hard clauses start with `h`, soft ones
//!   with their weight. The number of variables is the largest one used.
//!
//! [`read_sat`] detects the format from the first non-comment line. `c` comment lines and blank
//! lines are allowed anywhere. Every malformed line is reported as `file:line: message`.

use crate::error::ReadError;
use crate::io::{read_text, write_atomic};
use crate::sat::{Clause, MaxSat, Weight};
use std::io::Write;
use std::path::Path;

/// The formats read and written here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SatFormat {
    /// DIMACS CNF, `p cnf V C`.
    Cnf,
    /// Pre-2022 WCNF, `p wcnf V C top`.
    WcnfOld,
    /// 2022+ WCNF: no `p` line, `h` marks hard clauses.
    WcnfNew,
}

/// The content of a CNF/WCNF file.
#[derive(Debug, Clone, PartialEq)]
pub struct SatFile {
    /// The detected format.
    pub format: SatFormat,
    /// Number of variables (from the `p` line, or the largest variable in the new format).
    pub num_vars: usize,
    /// The clauses in file order.
    pub clauses: Vec<Clause>,
}

impl SatFile {
    /// The MaxSAT instance of this file; an error when the instance as a whole is invalid
    /// (e.g. a total soft weight beyond `u64`), which the line-by-line reader cannot see.
    pub fn into_problem(self) -> Result<MaxSat, crate::error::ProblemError> {
        MaxSat::new(self.num_vars, self.clauses)
    }
}

/// Read a CNF or WCNF file (format detected from the content).
pub fn read_sat(path: impl AsRef<Path>) -> Result<SatFile, ReadError> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_sat(&text, path)
}

/// Read a CNF or WCNF file straight into a [`MaxSat`] instance.
pub fn read_maxsat(path: impl AsRef<Path>) -> Result<MaxSat, ReadError> {
    let path = path.as_ref();
    read_sat(path)?
        .into_problem()
        .map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

fn parse_usize(
    tok: &str,
    what: &str,
    err: &dyn Fn(String) -> ReadError,
) -> Result<usize, ReadError> {
    tok.parse::<usize>().map_err(|_| {
        err(format!(
            "expected {what} (a non-negative integer), found `{tok}`"
        ))
    })
}

/// Parse the literals of one clause (`toks` is everything after the weight); returns the
/// literals, and checks the terminating `0` and the variable range (`max_var = None`: no
/// limit, new WCNF).
fn parse_lits(
    toks: &[&str],
    max_var: Option<usize>,
    err: &dyn Fn(String) -> ReadError,
) -> Result<Vec<i32>, ReadError> {
    let Some((&last, body)) = toks.split_last() else {
        return Err(err(
            "expected the clause's literals ending with 0, found nothing".into(),
        ));
    };
    if last != "0" {
        return Err(err(format!(
            "clause does not end with 0 (last token `{last}`); every clause must be terminated by 0 on its line"
        )));
    }
    let mut lits = Vec::with_capacity(body.len());
    for &t in body {
        let l: i32 = t.parse().map_err(|_| {
            err(format!(
                "expected a literal (a non-zero integer such as 3 or -3), found `{t}`"
            ))
        })?;
        if l == 0 {
            return Err(err(
                "a 0 inside a clause; each line holds one clause terminated by a single 0".into(),
            ));
        }
        if l == i32::MIN {
            return Err(err(format!("literal {l} is out of range")));
        }
        if let Some(n) = max_var
            && l.unsigned_abs() as usize > n
        {
            return Err(err(format!(
                "literal {l}: variable {} is out of range; the p line declares {n} variables",
                l.unsigned_abs()
            )));
        }
        lits.push(l);
    }
    Ok(lits)
}

fn parse_weight(tok: &str, err: &dyn Fn(String) -> ReadError) -> Result<u64, ReadError> {
    match tok.parse::<u64>() {
        Ok(0) => Err(err(
            "clause weight 0; weights must be positive integers".into()
        )),
        Ok(w) => Ok(w),
        Err(_) => {
            if tok.parse::<i64>().is_ok() || tok.parse::<f64>().is_ok_and(|w| w <= 0.0) {
                Err(err(format!(
                    "clause weight `{tok}` is not positive; weights must be positive integers"
                )))
            } else {
                Err(err(format!(
                    "expected a positive integer clause weight (or `h` in the 2022+ format), found `{tok}`"
                )))
            }
        }
    }
}

/// The format a file turned out to be in.
#[derive(PartialEq)]
enum Mode {
    /// DIMACS CNF (`p cnf`).
    Cnf,
    /// WCNF before 2022 (`p wcnf`, weights first, optional top).
    Old,
    /// WCNF 2022+ (no p line, `h` for hard clauses).
    New,
}

/// A `p cnf V C` or `p wcnf V C [TOP]` line: the mode, the top weight, the declared variables
/// and clauses.
fn p_line(
    toks: &[&str],
    line: &str,
    err: &dyn Fn(String) -> ReadError,
) -> Result<(Mode, Option<u64>, usize, usize), ReadError> {
    let mut top = None;
    let mode = match toks.get(1).copied() {
        Some("cnf") => {
            if toks.len() != 4 {
                return Err(err(format!(
                    "expected `p cnf <variables> <clauses>`, found `{}`",
                    line.trim()
                )));
            }
            Mode::Cnf
        }
        Some("wcnf") => {
            if !(toks.len() == 4 || toks.len() == 5) {
                return Err(err(format!(
                    "expected `p wcnf <variables> <clauses> [<top>]`, found `{}`",
                    line.trim()
                )));
            }
            if let Some(t) = toks.get(4) {
                top = Some(parse_weight(t, &|m| err(format!("top weight: {m}")))?);
            }
            Mode::Old
        }
        other => {
            return Err(err(format!(
                "expected `p cnf` or `p wcnf`, found `p {}`",
                other.unwrap_or("")
            )));
        }
    };
    let nv = parse_usize(toks[2], "the number of variables", err)?;
    if nv > i32::MAX as usize {
        return Err(err(format!(
            "{nv} variables: at most {} are supported",
            i32::MAX
        )));
    }
    let nc = parse_usize(toks[3], "the number of clauses", err)?;
    Ok((mode, top, nv, nc))
}

/// Parse CNF/WCNF text; `path` is only used in error messages.
pub fn parse_sat(text: &str, path: &Path) -> Result<SatFile, ReadError> {
    let mut mode: Option<Mode> = None;
    let mut declared: Option<(usize, usize, usize)> = None; // (vars, clauses, p-line)
    let mut top: Option<u64> = None;
    let mut clauses: Vec<Clause> = Vec::new();
    let mut max_var = 0usize;
    for (i, line) in text.lines().enumerate() {
        let ln = i + 1;
        let err = |m: String| ReadError::parse(path, ln, m);
        let toks: Vec<&str> = line.split_ascii_whitespace().collect();
        let Some(&first) = toks.first() else { continue };
        if first.starts_with('c') {
            continue;
        }
        if first == "%" {
            break;
        }
        if first == "p" {
            if mode.is_some() {
                return Err(err(if mode == Some(Mode::New) {
                    "`p` line after clauses; in the 2022+ WCNF format there is no p line, and in the older formats it must come first".into()
                } else {
                    "second `p` line".into()
                }));
            }
            let (m, t, nv, nc) = p_line(&toks, line, &err)?;
            mode = Some(m);
            top = t;
            declared = Some((nv, nc, ln));
            clauses.reserve(crate::limits::capped(nc));
            continue;
        }
        let m = mode.get_or_insert_with(|| {
            if path.extension().is_some_and(|e| e == "cnf") {
                Mode::Cnf
            } else {
                Mode::New
            }
        });
        if *m == Mode::Cnf && declared.is_none() {
            return Err(err(
                "clause before the `p cnf <variables> <clauses>` line".into()
            ));
        }
        let limit = declared.map(|d| d.0);
        match m {
            Mode::Cnf => {
                // One or more 0-terminated clauses on this line.
                let mut rest = &toks[..];
                while !rest.is_empty() {
                    let end = rest
                        .iter()
                        .position(|&t| t == "0")
                        .unwrap_or(rest.len() - 1);
                    let lits = parse_lits(&rest[..=end], limit, &err)?;
                    clauses.push(Clause::soft(1, lits));
                    rest = &rest[end + 1..];
                }
            }
            Mode::Old => {
                let w = parse_weight(first, &err)?;
                let lits = parse_lits(&toks[1..], limit, &err)?;
                clauses.push(if top.is_some_and(|t| w >= t) {
                    Clause::hard(lits)
                } else {
                    Clause::soft(w, lits)
                });
            }
            Mode::New => {
                let weight = if first == "h" {
                    Weight::Hard
                } else {
                    Weight::Soft(parse_weight(first, &err)?)
                };
                let lits = parse_lits(&toks[1..], None, &err)?;
                for &l in &lits {
                    max_var = max_var.max(l.unsigned_abs() as usize);
                }
                clauses.push(Clause { weight, lits });
            }
        }
    }
    let Some(mode) = mode else {
        return Err(ReadError::parse(
            path,
            0,
            "no clauses and no `p` line; expected a DIMACS CNF or WCNF file",
        ));
    };
    let (format, num_vars) = match mode {
        Mode::Cnf | Mode::Old => {
            let (nv, nc, pl) = declared.expect("p line seen");
            if clauses.len() != nc {
                return Err(ReadError::parse(
                    path,
                    pl,
                    format!(
                        "the p line declares {nc} clauses but the file has {}",
                        clauses.len()
                    ),
                ));
            }
            (
                if mode == Mode::Cnf {
                    SatFormat::Cnf
                } else {
                    SatFormat::WcnfOld
                },
                nv,
            )
        }
        Mode::New => (SatFormat::WcnfNew, max_var),
    };
    Ok(SatFile {
        format,
        num_vars,
        clauses,
    })
}

/// Write `clauses` in `format` to `path` atomically.
///
/// CNF requires every clause to be soft with weight 1. The old WCNF uses
/// `top = total soft weight + 1` for hard clauses.
pub fn write_sat(
    path: impl AsRef<Path>,
    format: SatFormat,
    num_vars: usize,
    clauses: &[Clause],
) -> Result<(), ReadError> {
    let path = path.as_ref();
    if format == SatFormat::Cnf
        && let Some(j) = clauses.iter().position(|c| c.weight != Weight::Soft(1))
    {
        return Err(ReadError::io(
            path,
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!(
                    "clause {} is hard or weighted; DIMACS CNF holds only unit-weight soft clauses (write WCNF instead)",
                    j + 1
                ),
            ),
        ));
    }
    write_atomic(path, |w| write_sat_to(w, format, num_vars, clauses))
}

/// Write `clauses` in `format` to any writer (no checks; see [`write_sat`]).
pub fn write_sat_to(
    w: &mut dyn Write,
    format: SatFormat,
    num_vars: usize,
    clauses: &[Clause],
) -> std::io::Result<()> {
    let soft_total: u64 = clauses
        .iter()
        .map(|c| match c.weight {
            Weight::Soft(w) => w,
            Weight::Hard => 0,
        })
        .fold(0u64, u64::saturating_add);
    let top = soft_total.saturating_add(1);
    match format {
        SatFormat::Cnf => writeln!(w, "p cnf {num_vars} {}", clauses.len())?,
        SatFormat::WcnfOld => writeln!(w, "p wcnf {num_vars} {} {top}", clauses.len())?,
        SatFormat::WcnfNew => writeln!(
            w,
            "c WCNF (MaxSAT Evaluation 2022+ format), {num_vars} variables, written by mathprog"
        )?,
    }
    for c in clauses {
        match (format, c.weight) {
            (SatFormat::Cnf, _) => {}
            (SatFormat::WcnfOld, Weight::Hard) => write!(w, "{top} ")?,
            (SatFormat::WcnfNew, Weight::Hard) => write!(w, "h ")?,
            (_, Weight::Soft(x)) => write!(w, "{x} ")?,
        }
        for l in &c.lits {
            write!(w, "{l} ")?;
        }
        writeln!(w, "0")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str, name: &str) -> Result<SatFile, ReadError> {
        parse_sat(text, Path::new(name))
    }

    fn msg(text: &str, name: &str) -> String {
        parse(text, name).unwrap_err().to_string()
    }

    #[test]
    fn reads_all_three_formats() {
        let cnf = parse("c hi\np cnf 3 3\n1 -2 0\n2 3 0 -1 0\n", "a.cnf").unwrap();
        assert_eq!(cnf.format, SatFormat::Cnf);
        assert_eq!(cnf.num_vars, 3);
        assert_eq!(cnf.clauses[2], Clause::soft(1, vec![-1]));
        let old = parse(
            "p wcnf 3 3 10\n10 1 -2 0\n3 2 3 0\nc mid\n1 -1 0\n",
            "a.wcnf",
        )
        .unwrap();
        assert_eq!(old.format, SatFormat::WcnfOld);
        assert_eq!(old.clauses[0], Clause::hard(vec![1, -2]));
        assert_eq!(old.clauses[1], Clause::soft(3, vec![2, 3]));
        let new = parse("c x\nh 1 -2 0\n3 2 3 0\n1 -1 0\n", "a.wcnf").unwrap();
        assert_eq!(new.format, SatFormat::WcnfNew);
        assert_eq!(new.num_vars, 3);
        assert_eq!(new.clauses, old.clauses);
        let no_top = parse("p wcnf 2 1\n7 1 2 0\n", "a.wcnf").unwrap();
        assert_eq!(no_top.clauses[0].weight, Weight::Soft(7));
        let satlib = parse("p cnf 2 1\n1 2 0\n%\n0\n", "uf.cnf").unwrap();
        assert_eq!(satlib.clauses.len(), 1);
    }

    #[test]
    fn errors_name_line_and_expectation() {
        assert!(msg("p cnf 2 1\n1 x 0\n", "f.cnf").starts_with("f.cnf:2: expected a literal"));
        assert!(msg("p cnf 2 1\n1 2\n", "f.cnf").contains("f.cnf:2: clause does not end with 0"));
        assert!(
            msg("p cnf 2 1\n1 3 0\n", "f.cnf")
                .contains("f.cnf:2: literal 3: variable 3 is out of range")
        );
        assert!(msg("p wcnf 2 1 5\n0 1 0\n", "f.wcnf").contains("f.wcnf:2: clause weight 0"));
        assert!(msg("p wcnf 2 1 5\n-2 1 0\n", "f.wcnf").contains("not positive"));
        assert!(
            msg("h 1 0\n-1 2 0\n", "f.wcnf")
                .contains("f.wcnf:2: clause weight `-1` is not positive")
        );
        assert!(
            msg("p cnf 2 2\n1 2 0\n", "f.cnf")
                .contains("f.cnf:1: the p line declares 2 clauses but the file has 1")
        );
        assert!(msg("1 2 0\n", "f.cnf").contains("f.cnf:1: clause before the `p cnf"));
        assert!(msg("p dnf 2 2\n", "f.cnf").contains("expected `p cnf` or `p wcnf`"));
        assert!(msg("c only\n", "f.cnf").contains("f.cnf: no clauses"));
        assert!(
            msg("h 1 0\np wcnf 1 1 2\n", "f.wcnf").contains("f.wcnf:2: `p` line after clauses")
        );
        assert!(
            msg("p cnf 2 1\n1 0 2 0\n", "f.cnf").contains("declares 1 clauses but the file has 2")
        );
    }

    #[test]
    fn write_then_read_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let clauses = vec![
            Clause::hard(vec![1, -3]),
            Clause::soft(4, vec![2]),
            Clause::soft(1, vec![-1, -2, 3]),
        ];
        for format in [SatFormat::WcnfOld, SatFormat::WcnfNew] {
            let p = dir.path().join(format!("{format:?}.wcnf"));
            write_sat(&p, format, 3, &clauses).unwrap();
            let back = read_sat(&p).unwrap();
            assert_eq!(back.format, format);
            assert_eq!(back.num_vars, 3);
            assert_eq!(back.clauses, clauses);
        }
        let p = dir.path().join("x.cnf");
        assert!(write_sat(&p, SatFormat::Cnf, 3, &clauses).is_err());
        assert!(!p.exists());
        let unit = vec![Clause::soft(1, vec![1, 2]), Clause::soft(1, vec![-2])];
        write_sat(&p, SatFormat::Cnf, 2, &unit).unwrap();
        assert_eq!(read_sat(&p).unwrap().clauses, unit);
    }
}
