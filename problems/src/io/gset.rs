//! The Gset / rudy graph format (Helmberg & Rendl's generator, Stanford Gset collection).
//!
//! ```text
//! n m
//! i j w      (m lines; 1-based ends, weight; the weight may be omitted and then is 1)
//! ```
//!
//! Blank lines and comment lines (first token starting with `#`, `%` or equal to `c`) are
//! allowed anywhere. Weights may be integers or reals of any sign. Every malformed line is
//! reported as `file:line: message`. Self-loops, repeated pairs and edge-count mismatches are
//! errors (a repeated pair names both lines).

use crate::ProblemError;
use crate::error::ReadError;
use crate::graph::{Edge, Graph};
use crate::io::{read_text, write_atomic};
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Read a Gset file.
pub fn read_gset(path: impl AsRef<Path>) -> Result<Graph, ReadError> {
    let path = path.as_ref();
    let text = read_text(path)?;
    parse_gset(&text, path)
}

fn is_comment(tok: &str) -> bool {
    tok.starts_with('#') || tok.starts_with('%') || tok == "c"
}

/// Parse Gset text; `path` is only used in error messages.
pub fn parse_gset(text: &str, path: &Path) -> Result<Graph, ReadError> {
    let err = |line: usize, msg: String| ReadError::parse(path, line, msg);
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    // Header.
    let (n, m) = loop {
        let Some((ln, line)) = lines.next() else {
            return Err(err(0, "empty file; expected a header line `n m`".into()));
        };
        let mut t = line.split_ascii_whitespace();
        let Some(first) = t.next() else { continue };
        if is_comment(first) {
            continue;
        }
        let second = t.next();
        if second.is_none() || t.next().is_some() {
            return Err(err(
                ln,
                format!(
                    "expected a header `n m` (two integers), found `{}`",
                    line.trim()
                ),
            ));
        }
        let n: usize = first.parse().map_err(|_| {
            err(
                ln,
                format!("expected the vertex count n (a non-negative integer), found `{first}`"),
            )
        })?;
        let s = second.unwrap_or_default();
        let m: usize = s.parse().map_err(|_| {
            err(
                ln,
                format!("expected the edge count m (a non-negative integer), found `{s}`"),
            )
        })?;
        break (n, m);
    };
    let mut edges: Vec<Edge> = Vec::with_capacity(crate::limits::capped(m));
    let mut line_of: Vec<usize> = Vec::with_capacity(crate::limits::capped(m));
    for (ln, line) in lines {
        let mut t = line.split_ascii_whitespace();
        let Some(a) = t.next() else { continue };
        if is_comment(a) {
            continue;
        }
        let Some(b) = t.next() else {
            return Err(err(
                ln,
                format!("expected an edge `i j w`, found only `{a}`"),
            ));
        };
        let c = t.next();
        if let Some(extra) = t.next() {
            return Err(err(
                ln,
                format!("expected an edge `i j w` (3 fields), found extra field `{extra}`"),
            ));
        }
        let vertex = |s: &str, which: &str| -> Result<usize, ReadError> {
            let v: usize = s.parse().map_err(|_| {
                err(
                    ln,
                    format!(
                        "expected the {which} end of the edge (an integer in 1..={n}), found `{s}`"
                    ),
                )
            })?;
            if v == 0 || v > n {
                return Err(err(
                    ln,
                    format!("vertex {v} out of range: expected 1..={n} (ids are 1-based)"),
                ));
            }
            Ok(v - 1)
        };
        let u = vertex(a, "first")?;
        let v = vertex(b, "second")?;
        let w = match c {
            None => 1.0,
            Some(s) => {
                let w: f64 = s
                    .parse()
                    .map_err(|_| err(ln, format!("expected a numeric weight, found `{s}`")))?;
                if !w.is_finite() {
                    return Err(err(ln, format!("expected a finite weight, found `{s}`")));
                }
                w
            }
        };
        if u == v {
            return Err(err(
                ln,
                format!(
                    "self-loop at vertex {}: an edge needs two distinct ends",
                    u + 1
                ),
            ));
        }
        if edges.len() == m {
            return Err(err(
                ln,
                format!("more edges than the {m} announced in the header"),
            ));
        }
        edges.push((u, v, w));
        line_of.push(ln);
    }
    if edges.len() != m {
        return Err(err(
            text.lines().count(),
            format!(
                "the header announces {m} edges but the file has {}",
                edges.len()
            ),
        ));
    }
    Graph::from_edges(n, &edges).map_err(|e| match e {
        ProblemError::DuplicateEdge { edge, u, v, .. } => {
            // Name both lines: find the first occurrence of the pair.
            let mut first: HashMap<(usize, usize), usize> = HashMap::new();
            for (k, &(a, b, _)) in edges.iter().enumerate() {
                first.entry((a.min(b), a.max(b))).or_insert(k);
            }
            let k0 = first[&(u, v)];
            let (k_first, k_dup) = (k0.min(edge), k0.max(edge));
            err(
                line_of[k_dup],
                format!(
                    "duplicate edge {{{}, {}}} (already given on line {}); each pair must appear once",
                    u + 1,
                    v + 1,
                    line_of[k_first]
                ),
            )
        }
        other => err(0, other.to_string()),
    })
}

/// Format a weight: integers without a decimal point, others in shortest round-trip form.
fn fmt_weight(w: f64) -> String {
    if w == w.trunc() && w.abs() < 1e15 {
        format!("{}", w as i64)
    } else {
        format!("{w}")
    }
}

/// Write a graph in Gset format (each edge once, `u < v`, 1-based), atomically.
pub fn write_gset(path: impl AsRef<Path>, g: &Graph) -> Result<(), ReadError> {
    write_atomic(path.as_ref(), |w| write_gset_to(w, g))
}

/// Write a graph in Gset format to any writer.
pub fn write_gset_to(w: &mut dyn Write, g: &Graph) -> std::io::Result<()> {
    writeln!(w, "{} {}", g.num_vertices(), g.num_edges())?;
    for (u, v, x) in g.edges() {
        writeln!(w, "{} {} {}", u + 1, v + 1, fmt_weight(x))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<Graph, ReadError> {
        parse_gset(s, Path::new("g.txt"))
    }

    fn msg(s: &str) -> String {
        parse(s).unwrap_err().to_string()
    }

    #[test]
    fn reads_header_comments_blank_lines_and_trailing_spaces() {
        let g = parse("# comment\n\n3 2 \n1 2 1\nc another\n 2 3 -1  \n\n").unwrap();
        assert_eq!((g.num_vertices(), g.num_edges()), (3, 2));
        assert_eq!(g.total_weight(), 0.0);
        let g = parse("2 1\n1 2\n").unwrap();
        assert_eq!(g.total_weight(), 1.0);
        let g = parse("2 1\n1 2 0.25\n").unwrap();
        assert_eq!(g.total_weight(), 0.25);
    }

    #[test]
    fn every_malformed_case_names_file_line_and_expectation() {
        assert_eq!(msg(""), "g.txt: empty file; expected a header line `n m`");
        assert!(msg("3\n").starts_with("g.txt:1: expected a header `n m`"));
        assert!(msg("3 2 1\n").starts_with("g.txt:1: expected a header `n m`"));
        assert!(msg("x 2\n").contains("g.txt:1: expected the vertex count n"));
        assert!(msg("3 -2\n").contains("g.txt:1: expected the edge count m"));
        assert!(msg("3 1\n1\n").starts_with("g.txt:2: expected an edge `i j w`, found only `1`"));
        assert!(msg("3 1\n1 2 1 4\n").starts_with("g.txt:2: expected an edge `i j w` (3 fields)"));
        assert!(msg("3 1\n\n1 a 1\n").starts_with("g.txt:3: expected the second end"));
        assert!(msg("3 1\n0 2 1\n").starts_with("g.txt:2: vertex 0 out of range: expected 1..=3"));
        assert!(msg("3 1\n1 4 1\n").starts_with("g.txt:2: vertex 4 out of range"));
        assert!(msg("3 1\n1 2 x\n").starts_with("g.txt:2: expected a numeric weight, found `x`"));
        assert!(msg("3 1\n1 2 NaN\n").starts_with("g.txt:2: expected a finite weight"));
        assert!(msg("3 1\n1 2 inf\n").starts_with("g.txt:2: expected a finite weight"));
        assert!(msg("3 1\n2 2 1\n").starts_with("g.txt:2: self-loop at vertex 2"));
        assert!(msg("3 1\n1 2 1\n2 3 1\n").starts_with("g.txt:3: more edges than the 1 announced"));
        assert!(msg("3 3\n1 2 1\n2 3 1\n").contains("announces 3 edges but the file has 2"));
        let m = msg("3 3\n1 2 1\n2 3 1\n2 1 5\n");
        assert_eq!(
            m,
            "g.txt:4: duplicate edge {1, 2} (already given on line 2); each pair must appear once"
        );
    }

    #[test]
    fn rejects_invalid_utf8_and_missing_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("bad.txt");
        std::fs::write(&p, b"2 1\n1 2 \xff\n").unwrap();
        let e = read_gset(&p).unwrap_err().to_string();
        assert!(
            e.ends_with("bad.txt:2: invalid UTF-8; expected a plain-text file"),
            "{e}"
        );
        let e = read_gset(dir.path().join("missing.txt"))
            .unwrap_err()
            .to_string();
        assert!(e.contains("missing.txt"), "{e}");
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config {
            cases: 64,
            rng_seed: proptest::test_runner::RngSeed::Fixed(7),
            failure_persistence: None,
            ..Default::default()
        })]
        #[test]
        fn random_graphs_round_trip_through_text(
            n in 2usize..30,
            raw in proptest::collection::vec((0usize..30, 0usize..30, -1e6f64..1e6, proptest::bool::ANY), 0..80),
        ) {
            // Integer and real weights; keep one edge per pair, no loops.
            let mut seen = std::collections::HashSet::new();
            let edges: Vec<Edge> = raw
                .into_iter()
                .map(|(u, v, w, int)| (u % n, v % n, if int { w.trunc() } else { w }))
                .filter(|&(u, v, _)| u != v && seen.insert((u.min(v), u.max(v))))
                .collect();
            let g = Graph::from_edges(n, &edges).unwrap();
            let mut text = Vec::new();
            write_gset_to(&mut text, &g).unwrap();
            let h = parse(std::str::from_utf8(&text).unwrap()).unwrap();
            proptest::prop_assert_eq!(g.num_vertices(), h.num_vertices());
            proptest::prop_assert_eq!(g.edges().collect::<Vec<_>>(), h.edges().collect::<Vec<_>>());
        }
    }

    #[test]
    fn write_then_read_round_trips() {
        let g =
            Graph::from_edges(5, &[(0, 4, 1.0), (3, 1, -2.0), (2, 1, 0.1), (0, 1, 7.0)]).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("g.txt");
        write_gset(&p, &g).unwrap();
        let h = read_gset(&p).unwrap();
        assert_eq!(g.edges().collect::<Vec<_>>(), h.edges().collect::<Vec<_>>());
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }
}
