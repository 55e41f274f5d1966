//! Two-player zero-sum **matrix games** `min_{x ∈ Δ_m} max_{y ∈ Δ_n} xᵀAy` (`A ∈ ℝ^{m×n}`,
//! `Δ_k` the probability simplex), the problem class of `solve game`.
//!
//! As a monotone inclusion `0 ∈ F(u) + N_{Δ_m×Δ_n}(u)` with `u = (x, y)` and the skew operator
//! `F(x, y) = (Ay, −Aᵀx)`, a finite sum over the `n` columns:
//! `F_j(x, y) = n·(A_{:,j} y_j, −e_j A_{:,j}ᵀx)`, `(1/n) Σ_j F_j = F` (Cai, Alacaoglu &
//! Diakonikolas, ICLR 2024). One component costs one column (`m` entries), so `n` component
//! calls cost one full evaluation of `F` (an **epoch**).
//!
//! Certificate: the **duality gap** `max_j (Aᵀx)_j − min_i (Ay)_i ≥ 0` of strategies projected
//! onto the simplices; it bounds how far `xᵀAy` can be from the game's value for both players.
//!
//! Instances: dense text and Matrix Market files ([`read_game`]), and the generators of the
//! benchmark ([`MatrixGame::policeman_burglar`], [`MatrixGame::uniform`],
//! [`MatrixGame::gaussian`]).

use crate::dense::dot;
use crate::error::{ProblemError, ReadError};
use rand::SeedableRng;
use rand_distr::{Distribution, StandardNormal};
use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Mutex;

/// Matrices with fewer entries are multiplied on the calling thread (no pool hand-off).
const PAR_MIN: usize = 1 << 16;

/// A zero-sum matrix game; the row player (`x`, `m` strategies) minimises `xᵀAy`, the column
/// player (`y`, `n` strategies) maximises it.
#[derive(Debug)]
pub struct MatrixGame {
    name: String,
    m: usize,
    n: usize,
    /// Row-major `A`.
    a: Vec<f64>,
    /// Column-major copy (`Aᵀ` row-major), for column components and `Aᵀx`.
    at: Vec<f64>,
    /// Per-row-block partial sums of `Aᵀx` for [`MatrixGame::apply`] (reused, not reallocated).
    partials: Mutex<Vec<f64>>,
}

impl Clone for MatrixGame {
    fn clone(&self) -> Self {
        MatrixGame {
            name: self.name.clone(),
            m: self.m,
            n: self.n,
            a: self.a.clone(),
            at: self.at.clone(),
            partials: Mutex::new(Vec::new()),
        }
    }
}

/// Rows per block of the fused product [`MatrixGame::apply`].
const ROW_BLOCK: usize = 32;

impl MatrixGame {
    /// A game from the **row-major** entries of `A` (`m × n`, finite): `a[i·n + j] = A_ij`.
    /// (A column-major buffer, such as a nalgebra matrix's `as_slice()`, is the transposed
    /// game; with the `nalgebra` feature use `MatrixGame::from_nalgebra`.)
    pub fn from_row_major(
        name: &str,
        m: usize,
        n: usize,
        a: Vec<f64>,
    ) -> Result<Self, ProblemError> {
        if m == 0 || n == 0 || m.checked_mul(n) != Some(a.len()) {
            return Err(ProblemError::Invalid(format!(
                "{name}: a game needs m, n >= 1 and m*n entries (m = {m}, n = {n}, {} entries)",
                a.len()
            )));
        }
        if let Some(k) = a.iter().position(|v| !v.is_finite()) {
            return Err(ProblemError::Invalid(format!(
                "{name}: entry ({}, {}) is not finite",
                k / n + 1,
                k % n + 1
            )));
        }
        // The operator norm (up to √(mn)·max|a|) and its square in the step-size estimate
        // must stay finite; the equilibria do not change under a positive rescaling.
        let big = a.iter().fold(0.0f64, |acc, v| acc.max(v.abs()));
        if big > 1e150 {
            return Err(ProblemError::Invalid(format!(
                "{name}: entries up to {big:e}, above 1e150 (the operator norm would overflow); \
                 rescale the matrix (the equilibria do not change, the value scales)"
            )));
        }
        let mut at = vec![0.0; m * n];
        for i in 0..m {
            for j in 0..n {
                at[j * m + i] = a[i * n + j];
            }
        }
        Ok(MatrixGame {
            name: name.to_string(),
            m,
            n,
            a,
            at,
            partials: Mutex::new(Vec::new()),
        })
    }

    /// Number of row strategies `m` (the minimising player).
    pub fn rows(&self) -> usize {
        self.m
    }
    /// Number of column strategies `n` (the maximising player).
    pub fn cols(&self) -> usize {
        self.n
    }
    /// A short name for reports.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Entry `A_ij` (0-based).
    pub fn entry(&self, i: usize, j: usize) -> f64 {
        self.a[i * self.n + j]
    }
    /// Row `i` of `A`.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.a[i * self.n..(i + 1) * self.n]
    }
    /// Column `j` of `A`.
    pub fn col(&self, j: usize) -> &[f64] {
        &self.at[j * self.m..(j + 1) * self.m]
    }

    /// `out = A y` (parallel over rows).
    pub fn a_y(&self, y: &[f64], out: &mut [f64]) {
        if self.m * self.n < PAR_MIN {
            out.iter_mut()
                .enumerate()
                .for_each(|(i, o)| *o = dot(self.row(i), y));
            return;
        }
        out.par_iter_mut()
            .with_min_len(64)
            .enumerate()
            .for_each(|(i, o)| *o = dot(self.row(i), y));
    }

    /// `out = Aᵀ x` (parallel over columns).
    pub fn at_x(&self, x: &[f64], out: &mut [f64]) {
        if self.m * self.n < PAR_MIN {
            out.iter_mut()
                .enumerate()
                .for_each(|(j, o)| *o = dot(self.col(j), x));
            return;
        }
        out.par_iter_mut()
            .with_min_len(64)
            .enumerate()
            .for_each(|(j, o)| *o = dot(self.col(j), x));
    }

    /// `ay = A y` and `atx = Aᵀ x` in **one pass** over `A` (row-major), which halves the
    /// memory traffic of a full operator evaluation on large games. Rows are taken in fixed
    /// blocks of 32, each accumulating its own part of `Aᵀx`; the parts are summed in block
    /// order, so the result does not depend on the thread count.
    pub fn apply(&self, x: &[f64], y: &[f64], ay: &mut [f64], atx: &mut [f64]) {
        let (m, n) = (self.m, self.n);
        if m * n < PAR_MIN {
            atx.iter_mut().for_each(|v| *v = 0.0);
            for i in 0..m {
                let row = self.row(i);
                ay[i] = dot(row, y);
                let xi = x[i];
                for (o, a) in atx.iter_mut().zip(row) {
                    *o += xi * a;
                }
            }
            return;
        }
        let blocks = m.div_ceil(ROW_BLOCK);
        let mut parts = self.partials.lock().unwrap_or_else(|e| e.into_inner());
        parts.resize(blocks * n, 0.0);
        parts
            .par_chunks_mut(n)
            .zip(ay.par_chunks_mut(ROW_BLOCK))
            .enumerate()
            .for_each(|(b, (part, ayb))| {
                part.iter_mut().for_each(|v| *v = 0.0);
                for (r, o) in ayb.iter_mut().enumerate() {
                    let i = b * ROW_BLOCK + r;
                    let row = self.row(i);
                    *o = dot(row, y);
                    let xi = x[i];
                    for (p, a) in part.iter_mut().zip(row) {
                        *p += xi * a;
                    }
                }
            });
        let parts = &*parts;
        atx.par_chunks_mut(256).enumerate().for_each(|(c, out)| {
            let j0 = c * 256;
            out.iter_mut().for_each(|v| *v = 0.0);
            for b in 0..blocks {
                let src = &parts[b * n + j0..b * n + j0 + out.len()];
                for (o, v) in out.iter_mut().zip(src) {
                    *o += v;
                }
            }
        });
    }

    /// `‖A‖_F`.
    pub fn frobenius(&self) -> f64 {
        self.a.iter().map(|v| v * v).sum::<f64>().sqrt()
    }

    /// Duality gap `max_j (Aᵀx̂)_j − min_i (Aŷ)_i` of the strategies projected onto the
    /// simplices, with the two bounds `(gap, upper, lower)`: the column player can get at
    /// most... `upper = max_j (Aᵀx̂)_j ≥ value ≥ lower = min_i (Aŷ)_i`.
    pub fn gap(&self, x: &[f64], y: &[f64]) -> (f64, f64, f64) {
        let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
        project_simplex(&mut xs);
        project_simplex(&mut ys);
        let mut atx = vec![0.0; self.n];
        let mut ay = vec![0.0; self.m];
        self.at_x(&xs, &mut atx);
        self.a_y(&ys, &mut ay);
        let upper = atx.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let lower = ay.iter().copied().fold(f64::INFINITY, f64::min);
        (upper - lower, upper, lower)
    }

    fn from_fn_rows(
        name: String,
        m: usize,
        n: usize,
        seed: u64,
        f: impl Fn(&mut Xoshiro256PlusPlus, usize, usize) -> f64 + Sync,
    ) -> Result<Self, ProblemError> {
        let mn = crate::limits::checked_size("a generated game", m, n)?;
        crate::limits::check_alloc("a generated game", mn, 8)?;
        let mut a = vec![0.0; m * n];
        a.par_chunks_mut(n.max(1)).enumerate().for_each(|(i, row)| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(
                seed ^ (i as u64 + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15),
            );
            for (j, v) in row.iter_mut().enumerate() {
                *v = f(&mut rng, i, j);
            }
        });
        Self::from_row_major(&name, m, n, a)
    }

    /// Entries uniform in `[0, 1)` (seeded, one stream per row).
    pub fn uniform(m: usize, n: usize, seed: u64) -> Result<Self, ProblemError> {
        Self::from_fn_rows(format!("uniform-{m}x{n}-s{seed}"), m, n, seed, |r, _, _| {
            rand::RngExt::random::<f64>(r)
        })
    }

    /// Entries `N(0, 1)` (seeded, one stream per row).
    pub fn gaussian(m: usize, n: usize, seed: u64) -> Result<Self, ProblemError> {
        Self::from_fn_rows(
            format!("gaussian-{m}x{n}-s{seed}"),
            m,
            n,
            seed,
            |r, _, _| StandardNormal.sample(r),
        )
    }

    /// The policeman-and-burglar game of Nemirovski's benchmarks, as in the authors' code:
    /// `A_ij = w_i (1 − e^{−0.8|i−j|})`, `w_i = |N(0, 1)|` (`n × n`).
    pub fn policeman_burglar(n: usize, seed: u64) -> Result<Self, ProblemError> {
        let nn = crate::limits::checked_size("a generated game", n, n)?;
        crate::limits::check_alloc("a generated game", nn, 8)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let w: Vec<f64> = (0..n)
            .map(|_| {
                let g: f64 = StandardNormal.sample(&mut rng);
                g.abs()
            })
            .collect();
        let mut a = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                a[i * n + j] = w[i] * (1.0 - (-0.8 * (i as f64 - j as f64).abs()).exp());
            }
        }
        Self::from_row_major(&format!("policeman-burglar-{n}-s{seed}"), n, n, a)
    }
}

/// Euclidean projection onto the probability simplex `{x ≥ 0, Σx = 1}`, in place
/// (Held–Wolfe–Crowder / Duchi et al.: sort, find the threshold `θ`, `x ← max(x − θ, 0)`;
/// `O(d log d)`).
pub fn project_simplex(v: &mut [f64]) {
    let d = v.len();
    if d == 0 {
        return;
    }
    let mut u = v.to_vec();
    u.sort_unstable_by(|a, b| b.total_cmp(a));
    let mut css = 0.0;
    let mut theta = 0.0;
    for (k, uk) in u.iter().enumerate() {
        css += uk;
        let t = (css - 1.0) / (k as f64 + 1.0);
        if uk - t > 0.0 {
            theta = t;
        } else {
            break;
        }
    }
    for x in v.iter_mut() {
        *x = (*x - theta).max(0.0);
    }
}

/// Read a game: Matrix Market (`%%MatrixMarket matrix array|coordinate real general`; missing
/// coordinate entries are zero) or dense text (comment lines `#`/`%`, a header `m n`, then `m`
/// rows of `n` numbers, or `m·n` numbers in row order however they are split over lines).
/// Errors name the file and line.
pub fn read_game(path: impl AsRef<Path>) -> Result<MatrixGame, ReadError> {
    let path = path.as_ref();
    let text = crate::io::read_text(path)?;
    parse_game(&text, path)
}

fn next_usize<'a>(
    it: &mut impl Iterator<Item = (usize, &'a str)>,
    path: &Path,
    what: &str,
) -> Result<(usize, usize), ReadError> {
    match it.next() {
        Some((ln, w)) => w.parse::<usize>().map(|v| (ln, v)).map_err(|_| {
            ReadError::parse(
                path,
                ln,
                format!("expected {what} (an integer), found '{w}'"),
            )
        }),
        None => Err(ReadError::parse(
            path,
            0,
            format!("file ends before {what}"),
        )),
    }
}

/// Parse the text of [`read_game`]; `path` names the source in errors.
pub fn parse_game(text: &str, path: &Path) -> Result<MatrixGame, ReadError> {
    let name = path
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "game".into());
    let mut lines = text.lines().enumerate().peekable();
    let first = lines.peek().map(|(_, l)| l.trim().to_string());
    let mm = first
        .as_deref()
        .is_some_and(|l| l.to_ascii_lowercase().starts_with("%%matrixmarket"));
    let mut coordinate = false;
    if mm {
        let (ln, l) = lines.next().unwrap_or((0, ""));
        let h = l.to_ascii_lowercase();
        let words: Vec<&str> = h.split_whitespace().collect();
        if words.len() < 5 || words[1] != "matrix" {
            return Err(ReadError::parse(
                path,
                ln + 1,
                "expected '%%MatrixMarket matrix array|coordinate real general'",
            ));
        }
        coordinate = match words[2] {
            "coordinate" => true,
            "array" => false,
            w => {
                return Err(ReadError::parse(
                    path,
                    ln + 1,
                    format!("format '{w}': expected array or coordinate"),
                ));
            }
        };
        if !matches!(words[3], "real" | "integer" | "double") || words[4] != "general" {
            return Err(ReadError::parse(
                path,
                ln + 1,
                "only real/integer general matrices are supported",
            ));
        }
    }
    // Numbers with their line numbers, skipping comments and blank lines.
    let mut nums: Vec<(usize, &str)> = Vec::new();
    for (ln, l) in lines {
        let t = l.trim();
        if t.is_empty() || t.starts_with('%') || t.starts_with('#') {
            continue;
        }
        nums.extend(t.split_whitespace().map(|w| (ln + 1, w)));
    }
    let mut it = nums.into_iter();
    let (_, m) = next_usize(&mut it, path, "the number of rows m")?;
    let (ln_n, n) = next_usize(&mut it, path, "the number of columns n")?;
    if m == 0 || n == 0 {
        return Err(ReadError::parse(path, ln_n, "m and n must be at least 1"));
    }
    let mn = crate::limits::checked_size("the payoff matrix", m, n)
        .and_then(|mn| crate::limits::check_alloc("the payoff matrix", mn, 8).map(|_| mn))
        .map_err(|e| ReadError::parse(path, ln_n, e.to_string()))?;
    // A dense body must supply all m·n entries: check before allocating the matrix.
    let left = it.len();
    if !coordinate && left < mn {
        return Err(ReadError::parse(
            path,
            0,
            format!("file ends after {left} of the {mn} entries"),
        ));
    }
    let mut a = vec![0.0; mn];
    let parse_f = |ln: usize, w: &str| -> Result<f64, ReadError> {
        match w.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err(ReadError::parse(
                path,
                ln,
                format!("expected a finite number, found '{w}'"),
            )),
        }
    };
    if coordinate {
        let (_, nnz) = next_usize(&mut it, path, "the number of entries")?;
        for _ in 0..nnz {
            let (ln, i) = next_usize(&mut it, path, "a row index")?;
            let (_, j) = next_usize(&mut it, path, "a column index")?;
            let (lv, w) = it
                .next()
                .ok_or_else(|| ReadError::parse(path, 0, "file ends inside an entry"))?;
            if i == 0 || i > m || j == 0 || j > n {
                return Err(ReadError::parse(
                    path,
                    ln,
                    format!("entry ({i}, {j}) outside the {m} x {n} matrix"),
                ));
            }
            a[(i - 1) * n + (j - 1)] += parse_f(lv, w)?;
        }
    } else {
        for k in 0..m * n {
            let (ln, w) = it.next().ok_or_else(|| {
                ReadError::parse(
                    path,
                    0,
                    format!("file ends after {k} of the {} entries", m * n),
                )
            })?;
            let v = parse_f(ln, w)?;
            if mm {
                // Matrix Market arrays are column-major.
                a[(k % m) * n + k / m] = v;
            } else {
                a[k] = v;
            }
        }
    }
    if let Some((ln, w)) = it.next() {
        return Err(ReadError::parse(
            path,
            ln,
            format!("unexpected '{w}' after the {m} x {n} matrix"),
        ));
    }
    MatrixGame::from_row_major(&name, m, n, a).map_err(|e| ReadError::parse(path, 0, e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fused one-pass product equals the two separate products, below and above the
    /// parallel threshold and with a partial last row block.
    #[test]
    fn fused_product_matches_separate_products() {
        for (m, n) in [(5, 7), (301, 250)] {
            let g = MatrixGame::gaussian(m, n, 9).unwrap();
            let x: Vec<f64> = (0..m).map(|i| (i as f64 * 0.37).sin()).collect();
            let y: Vec<f64> = (0..n).map(|j| (j as f64 * 0.11).cos()).collect();
            let (mut ay, mut atx) = (vec![0.0; m], vec![0.0; n]);
            let (mut ay2, mut atx2) = (vec![1.0; m], vec![1.0; n]);
            g.a_y(&y, &mut ay);
            g.at_x(&x, &mut atx);
            g.apply(&x, &y, &mut ay2, &mut atx2);
            g.apply(&x, &y, &mut ay2, &mut atx2);
            for (a, b) in ay.iter().zip(&ay2).chain(atx.iter().zip(&atx2)) {
                assert!((a - b).abs() <= 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
            }
        }
    }

    #[test]
    fn simplex_projection_is_feasible_and_idempotent() {
        let mut v = vec![0.3, -1.0, 2.0, 0.7];
        project_simplex(&mut v);
        assert!((v.iter().sum::<f64>() - 1.0).abs() < 1e-12);
        assert!(v.iter().all(|x| *x >= 0.0));
        let w = v.clone();
        project_simplex(&mut v);
        assert_eq!(v, w);
        // A point already on the simplex stays.
        let mut p = vec![0.25; 4];
        project_simplex(&mut p);
        assert_eq!(p, vec![0.25; 4]);
    }

    #[test]
    fn reads_dense_and_matrix_market() {
        let p = Path::new("g.txt");
        let g = parse_game("# rock paper scissors\n3 3\n0 -1 1\n1 0 -1\n-1 1 0\n", p).unwrap();
        assert_eq!((g.rows(), g.cols()), (3, 3));
        assert_eq!(g.entry(0, 1), -1.0);
        assert_eq!(g.col(2), &[1.0, -1.0, 0.0]);
        let mm = "%%MatrixMarket matrix coordinate real general\n% c\n2 3 2\n1 3 4.5\n2 1 -1\n";
        let g = parse_game(mm, p).unwrap();
        assert_eq!(g.entry(0, 2), 4.5);
        assert_eq!(g.entry(1, 0), -1.0);
        assert_eq!(g.entry(1, 1), 0.0);
        let arr = "%%MatrixMarket matrix array real general\n2 2\n1\n2\n3\n4\n";
        let g = parse_game(arr, p).unwrap();
        assert_eq!(g.row(0), &[1.0, 3.0]);
        let e = parse_game("2 2\n1 2\n3 x\n", p).unwrap_err().to_string();
        assert!(e.contains("g.txt:3") && e.contains("'x'"), "{e}");
        let e = parse_game("2 2\n1 2\n3\n", p).unwrap_err().to_string();
        assert!(e.contains("ends after 3"), "{e}");
        let e = parse_game(
            "%%MatrixMarket matrix coordinate real general\n2 2 1\n3 1 1.0\n",
            p,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains(":3") && e.contains("outside"), "{e}");
    }

    #[test]
    fn gap_of_rock_paper_scissors() {
        let g = parse_game("3 3\n0 -1 1\n1 0 -1\n-1 1 0\n", Path::new("r")).unwrap();
        let u = vec![1.0 / 3.0; 3];
        let (gap, hi, lo) = g.gap(&u, &u);
        assert!(gap.abs() < 1e-15 && hi.abs() < 1e-15 && lo.abs() < 1e-15);
        let (gap, _, _) = g.gap(&[1.0, 0.0, 0.0], &u);
        assert!((gap - 1.0).abs() < 1e-15);
    }
}
