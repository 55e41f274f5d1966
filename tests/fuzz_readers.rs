//! Fuzz suite of the readers: arbitrary bytes and structured mutations of small valid inputs
//! (huge or wrapped sizes, special numbers, truncations, line edits) go to every reader of the
//! public API. Each must return `Ok` or a clean error, never panic, and never ask for a large
//! allocation: this test binary's allocator aborts on any single request above 256 MiB, and
//! the memory budget of the readers is set to 64 MiB.
//!
//! The longer run over the `solve` binary (every command, under an address-space cap) is
//! `bench/fuzz/fuzz.py`.

// The capped allocator is the one unsafe item: it forwards to the system allocator.
#![allow(unsafe_code)]

use mathprog::problems::limits::set_memory_budget;
use mathprog::problems::{game, io, mimo::MimoInstance, nlp::hs};
use proptest::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::path::Path;

/// The system allocator, refusing (so aborting the test binary) any single allocation above
/// 256 MiB: a reader that trusts a declared size fails loudly here.
struct Capped;

const CAP: usize = 256 << 20;

unsafe impl GlobalAlloc for Capped {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if layout.size() > CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if new_size > CAP {
            return std::ptr::null_mut();
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Capped = Capped;

/// A text format: a name, a parser (its result dropped) and a small valid input.
type Parser = fn(&str) -> bool;

fn p() -> &'static Path {
    Path::new("fuzz.txt")
}

/// Every text reader, with a valid seed. The parser returns whether the input was accepted.
fn formats() -> Vec<(&'static str, Parser, &'static str)> {
    vec![
        (
            "gset",
            |t| io::gset::parse_gset(t, p()).is_ok(),
            "4 4\n1 2 1\n2 3 -1\n3 4 2.5\n1 4\n",
        ),
        (
            "cnf",
            |t| io::dimacs::parse_sat(t, p()).is_ok_and(|f| f.into_problem().is_ok()),
            "c x\np cnf 3 3\n1 -2 0\n2 3 0\n-1 -3 0\n",
        ),
        (
            "wcnf-new",
            |t| io::dimacs::parse_sat(t, p()).is_ok_and(|f| f.into_problem().is_ok()),
            "3 1 -2 0\nh 2 3 0\n18 -1 0\n",
        ),
        (
            "wcnf-old",
            |t| io::dimacs::parse_sat(t, p()).is_ok_and(|f| f.into_problem().is_ok()),
            "p wcnf 3 3 100\n100 1 2 0\n5 -1 0\n7 -2 3 0\n",
        ),
        (
            "bq",
            |t| io::qubo::parse_bq(t, p()).is_ok(),
            "3 3\n1 2 1\n1 1 -1\n2 3 0.5\n",
        ),
        (
            "libsvm",
            |t| io::libsvm::parse_libsvm(t, p(), None).is_ok(),
            "1 1:0.5 3:2\n-1 2:1\n+1 1:-1 2:1e-3\n",
        ),
        (
            "ot-dense",
            |t| io::ot::parse_ot(t, p()).is_ok(),
            "2 3\n0.5 0.5\n0.25 0.25 0.5\n0 1 2\n1 0 1\n",
        ),
        (
            "ot-points",
            |t| io::ot::parse_points(t, p()).is_ok(),
            "0 0 0.5\n1 0.5 0.25\n# c\n2 1 0.25\n",
        ),
        (
            "ot-grid",
            |t| io::ot::parse_grid(t, p()).is_ok(),
            "grid 3 2\nspacing 0.5 0.5\n0.1 0.2\n0.0 0.3\n0.2 0.2\n",
        ),
        (
            "ot-grid-plain",
            |t| io::ot::parse_grid(t, p()).is_ok(),
            "0.1, 0.2, 0.3\n0.0, 0.3, 0.1\n",
        ),
        (
            "sdpa",
            |t| io::sdpa::parse_sdpa(t, p()).is_ok(),
            "2\n2\n2 -2\n1.0 2.0\n0 1 1 1 1.0\n0 1 2 2 2.0\n1 1 1 1 1.0\n1 1 1 2 0.5\n1 2 1 1 1.0\n2 1 2 2 1.0\n2 2 2 2 1.0\n",
        ),
        (
            "game-dense",
            |t| game::parse_game(t, p()).is_ok(),
            "2 3\n1 -1 0.5\n-1 1 2\n",
        ),
        (
            "game-mm-array",
            |t| game::parse_game(t, p()).is_ok(),
            "%%MatrixMarket matrix array real general\n2 2\n1\n-1\n-1\n1\n",
        ),
        (
            "game-mm-coordinate",
            |t| game::parse_game(t, p()).is_ok(),
            "%%MatrixMarket matrix coordinate real general\n3 2 3\n1 1 1.0\n2 2 -1\n3 1 0.5\n",
        ),
        (
            "hs-json",
            |t| hs::parse_hs_set(t, p()).is_ok(),
            r#"{"problems":[{"name":"t","n":2,"m":1,"objective":"(1 - x1)^2 + sin(x2)","constraints":["10*(x2 - x1^2)"],"x0":[-1.2,1.0],"f_star":0,"x_star":[1,1]}]}"#,
        ),
        (
            "mimo-json",
            |t| {
                serde_json::from_str::<MimoInstance>(t)
                    .ok()
                    .is_some_and(|i| i.validate().is_ok())
            },
            r#"{"nt":2,"nr":2,"h":[[1,0],[0,1],[0.5,0],[1,0]],"y":[[1,1],[-1,1]],"noise_var":0.1}"#,
        ),
    ]
}

/// Tokens that break sizes and arithmetic.
const HOSTILE: [&str; 16] = [
    "1e308",
    "-1e308",
    "9223372036854775808",
    "18446744073709551615",
    "18446744073709551616",
    "4294967296",
    "2147483647",
    "100000000000",
    "-1",
    "0",
    "-0",
    "NaN",
    "inf",
    "1e400",
    "0x10",
    "1e-320",
];

/// One structured mutation of `seed`: a token replaced by a hostile one, a truncation, a line
/// deleted or duplicated, or a byte flipped.
fn mutate(seed: &str, kind: u8, a: usize, b: usize) -> String {
    match kind % 5 {
        0 | 1 => {
            // Replace the a-th whitespace-separated token (numbers inside JSON too).
            let spans: Vec<(usize, usize)> = token_spans(seed);
            if spans.is_empty() {
                return seed.to_string();
            }
            let (s, e) = spans[a % spans.len()];
            format!("{}{}{}", &seed[..s], HOSTILE[b % HOSTILE.len()], &seed[e..])
        }
        2 => {
            let cut = a % (seed.len() + 1);
            let cut = (0..=cut)
                .rev()
                .find(|&c| seed.is_char_boundary(c))
                .unwrap_or(0);
            seed[..cut].to_string()
        }
        3 => {
            let lines: Vec<&str> = seed.lines().collect();
            let k = a % lines.len().max(1);
            let mut out: Vec<&str> = Vec::new();
            for (i, l) in lines.iter().enumerate() {
                if i != k || b.is_multiple_of(2) {
                    out.push(l);
                }
                if i == k && b.is_multiple_of(2) {
                    out.push(l);
                }
            }
            out.join("\n")
        }
        _ => {
            let mut bytes = seed.as_bytes().to_vec();
            if !bytes.is_empty() {
                let k = a % bytes.len();
                bytes[k] ^= 1 << (b % 8);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        }
    }
}

/// Byte spans of the numeric-looking tokens of `text`.
fn token_spans(text: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        let num = c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+');
        match (num, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                spans.push((s, i));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        spans.push((s, text.len()));
    }
    spans
        .into_iter()
        .filter(|&(s, e)| text[s..e].chars().any(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn seeds_are_valid() {
    // The mutations start from accepted inputs (else the suite would test only errors).
    set_memory_budget(64 << 20);
    for (name, parse, seed) in formats() {
        assert!(parse(seed), "{name}: the seed is rejected");
    }
}

#[test]
fn hostile_headers_are_clean_errors() {
    // Every hostile token in every position of every seed (about 3,000 inputs).
    set_memory_budget(64 << 20);
    for (_, parse, seed) in formats() {
        for k in 0..token_spans(seed).len() {
            for h in 0..HOSTILE.len() {
                let _ = parse(&mutate(seed, 0, k, h));
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_text_is_ok_or_an_error(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        set_memory_budget(64 << 20);
        let text = String::from_utf8_lossy(&bytes);
        for (_, parse, _) in formats() {
            let _ = parse(&text);
        }
    }

    #[test]
    fn mutated_seeds_are_ok_or_an_error(
        which in 0usize..16,
        edits in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..4),
    ) {
        set_memory_budget(64 << 20);
        let all = formats();
        let (_, parse, seed) = all[which % all.len()];
        let mut text = seed.to_string();
        for (kind, a, b) in edits {
            text = mutate(&text, kind, a, b);
        }
        let _ = parse(&text);
    }

    #[test]
    fn npy_bytes_are_ok_or_an_error(
        flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        cut in any::<usize>(),
    ) {
        set_memory_budget(64 << 20);
        let mut bytes = npy_2x2();
        for (k, v) in flips {
            let k = k % bytes.len();
            bytes[k] = v;
        }
        let len = bytes.len();
        bytes.truncate(len - cut % 8);
        let _ = io::npy::parse_npy(&bytes, Path::new("f.npy"));
        let _ = io::qubo::parse_npy_square(&bytes, Path::new("f.npy"));
    }
}

/// A valid `.npy` file: a 2 × 2 little-endian f64 array.
fn npy_2x2() -> Vec<u8> {
    let mut header = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }".to_string();
    while !(10 + header.len() + 1).is_multiple_of(64) {
        header.push(' ');
    }
    header.push('\n');
    let mut out = b"\x93NUMPY\x01\x00".to_vec();
    out.extend_from_slice(&(header.len() as u16).to_le_bytes());
    out.extend_from_slice(header.as_bytes());
    for v in [1.0f64, -2.0, -2.0, 0.5] {
        out.extend_from_slice(&v.to_le_bytes());
    }
    out
}

#[test]
fn npy_seed_is_valid_and_huge_shapes_are_errors() {
    set_memory_budget(64 << 20);
    let good = npy_2x2();
    assert!(io::npy::parse_npy(&good, Path::new("f.npy")).is_ok());
    let text = String::from_utf8_lossy(&good).replace("(2, 2)", "(4294967296, 4294967296)");
    let mut bad = text.into_bytes();
    // (The replacement lengthened the header: the data part is now short, which must be an
    // error too, not a read past the end.)
    bad.truncate(bad.len().min(200));
    assert!(io::npy::parse_npy(&bad, Path::new("f.npy")).is_err());
}
