//! Fused passes over the blocks (row cell × column cell) of a point-cloud plan
//! `P_ij = exp((f_i + g_j − C_ij)/ε)`: weighted row sums `Σ_j P_ij y_j`, column sums
//! `Σ_i P_ij x_i` and the block totals on aggregates of cells, in one sweep that computes each
//! entry once and never stores it.
//!
//! Every block has the bound `B_AB = (F_A + G_B − lb(A, B)/s)/ε` (cell maxima of the
//! potentials, the boxes' cost lower bound), so that `P_ij ≤ e^{B_AB}` on it. With
//! `φ_i = (f_i − F_A)/ε ≤ 0` and `β_j = (g_j − G_B)/ε ≤ 0`,
//!
//! ```text
//! P_ij = e^{B_AB} · e^{φ_i} · e^{β_j} · exp(L_AB − κ|x_i − y_j|²),   κ = 1/(s ε), L_AB = κ lb
//! ```
//!
//! For the squared Euclidean cost in `d ≤ 3` dimensions (cells no wider than about the kernel)
//! the last factor is a single-precision Gaussian block ([`crate::linalg::gauss`]) on the
//! coordinates `√κ (x − c_B)`, `√κ (y − c_B)` relative to the column cell's centre: every term
//! there is small, so single precision loses nothing that matters (relative errors ~1e-7 on the
//! entries), while the potentials' factors and the block sums stay in double precision. Other
//! costs and dimensions use a double-precision block.
//!
//! Blocks are skipped by their bound: [`Cut::Relative`] (`τ` below a lower bound on every
//! row's largest exponent in the row cell:
//! the soft c-transform, whose rows come back as logarithms) or [`Cut::Absolute`]. Row cells are
//! processed in a fixed number of chunks with their own column sums, added in order: results do
//! not depend on the thread count.

use super::grid::{Side, cell_cost_lower_bound};
use super::pass::{Geometry, PairCount, cell_max, row_chunks};
use crate::linalg::gauss::{self, Block, LANES};
use mathprog_problems::ot::GroundCost;
use rayon::prelude::*;

/// Which blocks a pass skips (see the module documentation).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Cut {
    /// Blocks whose bound is `τ` below a lower bound on the largest exponent of every row of
    /// their row cell (so that every skipped entry is `e^−τ` below its row's largest); the
    /// row potentials are not
    /// used (the soft c-transform `LSE_j (g_j − C_ij)/ε`), rows come back as logarithms and no
    /// column sums are computed.
    Relative(f64),
    /// Blocks whose bound is at most this exponent.
    Absolute(f64),
}

/// Cells grouped into aggregates: the coarse space of the Newton preconditioner.
pub(crate) struct Aggregates {
    /// Aggregate of each row cell.
    pub row: Vec<u32>,
    /// Aggregate of each column cell.
    pub col: Vec<u32>,
    /// Numbers of row and column aggregates.
    pub na: usize,
    pub nb: usize,
}

impl Aggregates {
    /// Aggregates of `side`'s cells on a grid of about `target` boxes over the cell centres
    /// (first `k` coordinates).
    pub fn assign(side: &Side, target: usize) -> (Vec<u32>, usize) {
        let (k, nc) = (side.k, side.cells());
        let per_axis = ((target.max(1) as f64).powf(1.0 / k as f64).floor() as usize).max(1);
        let mut lo = [f64::INFINITY; 3];
        let mut hi = [f64::NEG_INFINITY; 3];
        for c in 0..nc {
            for t in 0..k {
                let mid = 0.5 * (side.lo[c * k + t] + side.hi[c * k + t]);
                lo[t] = lo[t].min(mid);
                hi[t] = hi[t].max(mid);
            }
        }
        let mut ids: Vec<u64> = (0..nc)
            .map(|c| {
                let mut id = 0u64;
                for t in 0..k {
                    let mid = 0.5 * (side.lo[c * k + t] + side.hi[c * k + t]);
                    let span = hi[t] - lo[t];
                    let q = if span > 0.0 {
                        (((mid - lo[t]) / span) * per_axis as f64) as usize
                    } else {
                        0
                    };
                    id = id * per_axis as u64 + q.min(per_axis - 1) as u64;
                }
                id
            })
            .collect();
        // Renumber the non-empty boxes 0..count.
        let mut sorted = ids.clone();
        sorted.sort_unstable();
        sorted.dedup();
        for id in ids.iter_mut() {
            *id = sorted.binary_search(id).unwrap_or(0) as u64;
        }
        (ids.into_iter().map(|v| v as u32).collect(), sorted.len())
    }
}

/// What a pass computes, and where.
pub(crate) struct PassIn<'a> {
    pub eps: f64,
    pub cut: Cut,
    /// Column weights of the row sums (`None`: 1).
    pub y: Option<&'a [f64]>,
    /// Row weights of the column sums (`None` with `cols`: 1).
    pub x: Option<&'a [f64]>,
    /// Whether to compute column sums (implied by `x`).
    pub cols: bool,
    /// Block totals `Σ_{i∈A, j∈B} P_ij y_j` on aggregates (row-major `na × nb`).
    pub coarse: Option<&'a Aggregates>,
    /// Double precision throughout (the last digits of a gradient).
    pub precise: bool,
}

/// What a pass returns (sorted orders).
#[derive(Default)]
pub(crate) struct PassOut {
    /// Row sums (their logarithms under [`Cut::Relative`]).
    pub rows: Vec<f64>,
    /// Column sums (empty unless asked for).
    pub cols: Vec<f64>,
    /// Aggregate totals (empty unless asked for).
    pub coarse: Vec<f64>,
    pub count: PairCount,
}

/// Largest `√κ ·` half-diagonal of a cell for which the single-precision block is used.
const MAX_SCALED_RADIUS: f64 = 1.5;

/// Per-pass data of the column side.
struct Cols {
    /// Padded offsets of the cells (multiples of [`LANES`]).
    off: Vec<usize>,
    /// `√κ (y − c_B)` per coordinate (padded; single-precision path).
    w: Vec<Vec<f32>>,
    /// `e^{β_j} y_j` (0 on the padding).
    omega: Vec<f32>,
    /// `e^{β_j}` (sorted order).
    ebeta: Vec<f64>,
    /// Cell centres (`cells × d`).
    center: Vec<f64>,
    /// `G_B`.
    gmax: Vec<f64>,
}

/// Whether the single-precision path applies at `eps`.
fn fast_path(geo: &Geometry<'_>, eps: f64) -> bool {
    let d = geo.rows.d;
    if geo.ground != GroundCost::SqEuclidean || d > 3 || geo.rows.k != d {
        return false;
    }
    let sk = (1.0 / (geo.scale * eps)).sqrt();
    let radius = |s: &Side| {
        (0..s.cells())
            .map(|c| {
                (0..d)
                    .map(|t| (s.hi[c * d + t] - s.lo[c * d + t]).powi(2))
                    .sum::<f64>()
                    .sqrt()
                    * 0.5
            })
            .fold(0.0f64, f64::max)
    };
    sk * radius(geo.rows).max(radius(geo.cols)) <= MAX_SCALED_RADIUS
}

fn centers(s: &Side) -> Vec<f64> {
    let k = s.k;
    (0..s.cells() * k)
        .map(|q| 0.5 * (s.lo[q] + s.hi[q]))
        .collect()
}

fn prepare_cols(geo: &Geometry<'_>, g: &[f64], y: Option<&[f64]>, eps: f64, fast: bool) -> Cols {
    let cols = geo.cols;
    let (d, nc) = (cols.d, cols.cells());
    let mut gmax = Vec::new();
    cell_max(cols, g, &mut gmax);
    let center = centers(cols);
    let mut off = Vec::with_capacity(nc + 1);
    off.push(0);
    for c in 0..nc {
        let len = cols.start[c + 1] - cols.start[c];
        off.push(off[c] + len.div_ceil(LANES) * LANES);
    }
    let total = off[nc];
    let sk = (1.0 / (geo.scale * eps)).sqrt();
    let mut w = vec![Vec::new(); if fast { d } else { 0 }];
    for wk in w.iter_mut() {
        *wk = vec![0.0f32; total];
    }
    let mut omega = vec![0.0f32; total];
    let mut ebeta = vec![0.0f64; cols.len()];
    for c in 0..nc {
        for (q, s) in (cols.start[c]..cols.start[c + 1]).enumerate() {
            let e = ((g[s] - gmax[c]) / eps).exp();
            ebeta[s] = e;
            omega[off[c] + q] = (e * y.map_or(1.0, |y| y[s])) as f32;
            for (t, wk) in w.iter_mut().enumerate() {
                wk[off[c] + q] = (sk * (cols.pts[s * d + t] - center[c * d + t])) as f32;
            }
        }
    }
    Cols {
        off,
        w,
        omega,
        ebeta,
        center,
        gmax,
    }
}

/// Per-chunk accumulators.
struct Acc {
    col: Vec<f64>,
    coarse: Vec<f64>,
    count: PairCount,
}

/// Per-task scratch.
#[derive(Default)]
struct Scratch {
    blocks: Vec<(u32, f64)>,
    r: Vec<Vec<f32>>,
    xi: Vec<f32>,
    xi64: Vec<f64>,
    s64: Vec<f64>,
    t64: Vec<f64>,
    rho: Vec<f64>,
    s: Vec<f32>,
    t: Vec<f32>,
    rows: Vec<f64>,
    rmax: Vec<f64>,
    m: Vec<f64>,
    z: Vec<f64>,
}

/// One pass (see the module documentation). Under [`Cut::Relative`] `f` is not read.
pub(crate) fn pass(geo: &Geometry<'_>, f: &[f64], g: &[f64], inp: &PassIn<'_>) -> PassOut {
    let (rows, cols) = (geo.rows, geo.cols);
    let eps = inp.eps;
    let relative = matches!(inp.cut, Cut::Relative(_));
    let want_cols = !relative && (inp.cols || inp.x.is_some());
    let fast = !inp.precise && fast_path(geo, eps);
    let cp = prepare_cols(geo, g, inp.y, eps, fast);
    let mut fmax = Vec::new();
    if relative {
        fmax.resize(rows.cells(), 0.0);
    } else {
        cell_max(rows, f, &mut fmax);
    }
    let (na, nb) = inp.coarse.map_or((0, 0), |a| (a.na, a.nb));
    let nc = rows.cells();
    let mut out_rows = vec![0.0; rows.len()];
    let (per, slices) = row_chunks(rows, &mut out_rows);
    let accs: Vec<Acc> = slices
        .into_par_iter()
        .enumerate()
        .map(|(ch, out)| {
            let (c0, c1) = ((ch * per).min(nc), ((ch + 1) * per).min(nc));
            let mut acc = Acc {
                col: vec![0.0; if want_cols { cols.len() } else { 0 }],
                coarse: vec![0.0; na * nb],
                count: PairCount::default(),
            };
            let mut sc = Scratch::default();
            let base = rows.start[c0];
            for a in c0..c1 {
                let (s0, s1) = (rows.start[a], rows.start[a + 1]);
                let sigma = row_cell(
                    geo,
                    a,
                    (f, g),
                    &fmax,
                    &cp,
                    inp,
                    fast,
                    want_cols,
                    &mut sc,
                    &mut acc,
                );
                let dst = &mut out[s0 - base..s1 - base];
                for ((o, v), m) in dst.iter_mut().zip(&sc.rows).zip(&sc.rmax) {
                    *o = if relative {
                        sigma + m + v.ln()
                    } else {
                        v * m.exp()
                    };
                }
            }
            acc
        })
        .collect();
    let mut res = PassOut {
        rows: out_rows,
        cols: vec![0.0; if want_cols { cols.len() } else { 0 }],
        coarse: vec![0.0; na * nb],
        count: PairCount::default(),
    };
    for acc in &accs {
        for (c, v) in res.cols.iter_mut().zip(&acc.col) {
            *c += v;
        }
        for (c, v) in res.coarse.iter_mut().zip(&acc.coarse) {
            *c += v;
        }
        res.count += acc.count;
    }
    let ebeta: &[f64] = if fast { &cp.ebeta } else { &[] };
    for (c, e) in res.cols.iter_mut().zip(ebeta) {
        *c *= e;
    }
    res
}

/// The rows of cell `a`: `sc.rows` gets their sums (scaled by `e^{−σ}`, `σ` returned: the
/// best bound under [`Cut::Relative`], else 0), the chunk's accumulators the rest.
#[allow(clippy::too_many_arguments)]
fn row_cell(
    geo: &Geometry<'_>,
    a: usize,
    (f, g): (&[f64], &[f64]),
    fmax: &[f64],
    cp: &Cols,
    inp: &PassIn<'_>,
    fast: bool,
    want_cols: bool,
    sc: &mut Scratch,
    acc: &mut Acc,
) -> f64 {
    let (rows, cols) = (geo.rows, geo.cols);
    let eps = inp.eps;
    let (s0, s1) = (rows.start[a], rows.start[a + 1]);
    let nr = s1 - s0;
    // Kept blocks and their bounds.
    sc.blocks.clear();
    let mut sigma = f64::NEG_INFINITY;
    for b in 0..cols.cells() {
        let lb = cell_cost_lower_bound(geo.ground, rows, a, cols, b) / geo.scale;
        let bound = (fmax[a] + cp.gmax[b] - lb) / eps;
        sigma = sigma.max(bound);
        sc.blocks.push((b as u32, bound));
    }
    let (threshold, sigma) = match inp.cut {
        Cut::Relative(tau) => (row_floor(geo, a, g, eps, &sc.blocks) - tau, sigma),
        Cut::Absolute(cut) => (cut, 0.0),
    };
    sc.blocks.retain(|&(_, bd)| bd > threshold);
    // Row factors e^{φ_i} and the column-sum weights.
    sc.rho.clear();
    sc.xi.clear();
    sc.xi64.clear();
    for s in s0..s1 {
        let rho = match inp.cut {
            Cut::Relative(_) => 1.0,
            Cut::Absolute(_) => ((f[s] - fmax[a]) / eps).exp(),
        };
        sc.rho.push(rho);
        let xi = rho * inp.x.map_or(1.0, |x| x[s]);
        sc.xi64.push(xi);
        sc.xi.push(xi as f32);
    }
    sc.rows.clear();
    sc.rows.resize(nr, 0.0);
    // Rows in the log domain (sum `rows · e^{rmax}`) where blocks are loose: the
    // double-precision path of a soft c-transform, whose cells may be wide against the kernel.
    let logacc = matches!(inp.cut, Cut::Relative(_)) && !fast;
    sc.rmax.clear();
    sc.rmax
        .resize(nr, if logacc { f64::NEG_INFINITY } else { 0.0 });
    sc.m.clear();
    sc.m.resize(nr, 0.0);
    sc.s.resize(nr, 0.0);
    sc.s64.resize(nr, 0.0);
    let d = rows.d;
    let sk = (1.0 / (geo.scale * eps)).sqrt();
    if fast {
        sc.r.resize(d, Vec::new());
        for rk in sc.r.iter_mut() {
            rk.resize(nr, 0.0);
        }
    }
    let mut computed = 0u64;
    let blocks = std::mem::take(&mut sc.blocks);
    for &(b, bound) in &blocks {
        let b = b as usize;
        let (lo, hi) = (cp.off[b], cp.off[b + 1]);
        computed += (nr * (cols.start[b + 1] - cols.start[b])) as u64;
        // (The double-precision block is not factored: its exponents are absolute.)
        let factor = if fast { (bound - sigma).exp() } else { 1.0 };
        sc.t64.clear();
        sc.t64.resize(hi - lo, 0.0);
        if fast {
            let lb = cell_cost_lower_bound(geo.ground, rows, a, cols, b) / geo.scale;
            for (t, rk) in sc.r.iter_mut().enumerate() {
                for (q, v) in rk.iter_mut().enumerate() {
                    *v = (sk * (rows.pts[(s0 + q) * d + t] - cp.center[b * d + t])) as f32;
                }
            }
            sc.t.clear();
            sc.t.resize(hi - lo, 0.0);
            gauss_block(sc, cp, lo, hi, (lb / eps) as f32, want_cols);
            for (a, b) in sc.s64.iter_mut().zip(&sc.s) {
                *a = *b as f64;
            }
            for (a, b) in sc.t64.iter_mut().zip(&sc.t) {
                *a = *b as f64;
            }
        } else {
            exact_block(geo, a, b, f, g, inp, want_cols, logacc, sc);
        }
        let mut total = 0.0;
        if logacc {
            for (q, o) in sc.rows.iter_mut().enumerate() {
                let (l, v) = (sc.m[q], sc.s64[q]);
                if v <= 0.0 {
                    continue;
                }
                if l > sc.rmax[q] {
                    *o = *o * (sc.rmax[q] - l).exp() + v;
                    sc.rmax[q] = l;
                } else {
                    *o += v * (l - sc.rmax[q]).exp();
                }
            }
        } else {
            for ((o, sv), rho) in sc.rows.iter_mut().zip(&sc.s64).zip(&sc.rho) {
                let v = if fast { factor * rho * sv } else { *sv };
                *o += v;
                total += v;
            }
        }
        if want_cols {
            let c0 = cols.start[b];
            let len = cols.start[b + 1] - c0;
            for (c, tv) in acc.col[c0..c0 + len].iter_mut().zip(&sc.t64) {
                *c += factor * tv;
            }
        }
        if let Some(agg) = inp.coarse {
            acc.coarse[agg.row[a] as usize * agg.nb + agg.col[b] as usize] += total;
        }
    }
    sc.blocks = blocks;
    acc.count.computed += computed;
    acc.count.skipped += (nr * cols.len()) as u64 - computed;
    if fast { sigma } else { 0.0 }
}

/// A lower bound on the largest exponent `(g_j − C_ij)/ε` of every row of cell `a`: each row's
/// largest over the block with the best bound, minimised over the rows. A block whose bound is
/// `τ` below it holds only entries `e^−τ` below their row's largest.
fn row_floor(geo: &Geometry<'_>, a: usize, g: &[f64], eps: f64, blocks: &[(u32, f64)]) -> f64 {
    let (rows, cols) = (geo.rows, geo.cols);
    let Some(&(best, _)) = blocks.iter().max_by(|p, q| p.1.total_cmp(&q.1)) else {
        return f64::NEG_INFINITY;
    };
    let (c0, c1) = (cols.start[best as usize], cols.start[best as usize + 1]);
    (rows.start[a]..rows.start[a + 1])
        .map(|s| {
            let x = rows.point(s);
            (c0..c1)
                .map(|t| (g[t] - geo.ground.eval(x, cols.point(t)) / geo.scale) / eps)
                .fold(f64::NEG_INFINITY, f64::max)
        })
        .fold(f64::INFINITY, f64::min)
}

/// The single-precision block of `sc.r` against column cell `lo..hi` (padded offsets).
fn gauss_block(sc: &mut Scratch, cp: &Cols, lo: usize, hi: usize, shift: f32, want_cols: bool) {
    let xi = if want_cols { Some(&sc.xi[..]) } else { None };
    let (s, t) = (&mut sc.s[..], &mut sc.t[..]);
    let omega = &cp.omega[lo..hi];
    match sc.r.len() {
        1 => gauss::block::<1>(Block {
            r: [&sc.r[0]],
            w: [&cp.w[0][lo..hi]],
            shift,
            omega,
            xi,
            s,
            t,
        }),
        2 => gauss::block::<2>(Block {
            r: [&sc.r[0], &sc.r[1]],
            w: [&cp.w[0][lo..hi], &cp.w[1][lo..hi]],
            shift,
            omega,
            xi,
            s,
            t,
        }),
        _ => gauss::block::<3>(Block {
            r: [&sc.r[0], &sc.r[1], &sc.r[2]],
            w: [&cp.w[0][lo..hi], &cp.w[1][lo..hi], &cp.w[2][lo..hi]],
            shift,
            omega,
            xi,
            s,
            t,
        }),
    }
}

/// The double-precision block (other costs and dimensions, and precise passes), unfactored:
/// `sc.s64[i] = Σ_j P_ij y_j e^{−m_i}` and `sc.t64[j] += Σ_i P_ij x_i` with the exponents
/// `(f_i + g_j − C_ij)/ε` computed whole (`f = 0` under [`Cut::Relative`]), so that cells wide
/// against the kernel lose nothing to a block's loose bound. With `shift`, `m_i` is the row's
/// largest exponent in the block (no columns then), else 0.
#[allow(clippy::too_many_arguments)]
fn exact_block(
    geo: &Geometry<'_>,
    a: usize,
    b: usize,
    f: &[f64],
    g: &[f64],
    inp: &PassIn<'_>,
    want_cols: bool,
    shift: bool,
    sc: &mut Scratch,
) {
    let (rows, cols) = (geo.rows, geo.cols);
    let eps = inp.eps;
    let (c0, c1) = (cols.start[b], cols.start[b + 1]);
    for (q, s) in (rows.start[a]..rows.start[a + 1]).enumerate() {
        sc.z.clear();
        let x = rows.point(s);
        let fi = match inp.cut {
            Cut::Relative(_) => 0.0,
            Cut::Absolute(_) => f[s],
        };
        sc.z.extend(
            (c0..c1).map(|t| (fi + g[t] - geo.ground.eval(x, cols.point(t)) / geo.scale) / eps),
        );
        if shift {
            let m = sc.z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            sc.z.iter_mut().for_each(|z| *z -= m);
            sc.m[q] = m;
        }
        crate::linalg::vexp::exp_in_place(&mut sc.z);
        let mut row = 0.0f64;
        let xq = inp.x.map_or(1.0, |x| x[s]);
        for (k, e) in sc.z.iter().enumerate() {
            row += e * inp.y.map_or(1.0, |y| y[c0 + k]);
            if want_cols {
                sc.t64[k] += e * xq;
            }
        }
        sc.s64[q] = row;
    }
}

/// The soft c-transform of the row side, `f_i ← ε (log a_i − LSE_j (g_j − C_ij)/ε)`, over the
/// blocks within `τ` of each row cell's best bound; returns the L1 violation of the row
/// marginal at the old `f` and the pair counts.
pub(crate) fn soft_transform(
    geo: &Geometry<'_>,
    f: &mut [f64],
    g: &[f64],
    eps: f64,
    tau: f64,
) -> (f64, PairCount) {
    let inp = PassIn {
        eps,
        cut: Cut::Relative(tau),
        y: None,
        x: None,
        cols: false,
        coarse: None,
        precise: false,
    };
    let out = pass(geo, f, g, &inp);
    let mut viol = 0.0;
    for ((fi, lse), (a, la)) in f
        .iter_mut()
        .zip(&out.rows)
        .zip(geo.rows.w.iter().zip(&geo.rows.log_w))
    {
        let r = (*fi / eps + lse).exp();
        viol += if r.is_finite() {
            (r - a).abs()
        } else {
            f64::INFINITY
        };
        *fi = eps * (la - lse);
    }
    (viol, out.count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use mathprog_problems::ot::cloud::CloudOt;

    /// Row and column sums of the plan at random potentials, by brute force.
    fn brute(
        geo: &Geometry<'_>,
        f: &[f64],
        g: &[f64],
        eps: f64,
        x: &[f64],
        y: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let (n, m) = (geo.rows.len(), geo.cols.len());
        let (mut r, mut c) = (vec![0.0; n], vec![0.0; m]);
        for i in 0..n {
            for j in 0..m {
                let cost = geo.ground.eval(geo.rows.point(i), geo.cols.point(j)) / geo.scale;
                let p = ((f[i] + g[j] - cost) / eps).exp();
                r[i] += p * y[j];
                c[j] += p * x[i];
            }
        }
        (r, c)
    }

    #[test]
    fn passes_match_brute_force_on_both_paths() {
        for (ground, d, eps) in [
            (GroundCost::SqEuclidean, 2, 2e-2),
            (GroundCost::SqEuclidean, 3, 5e-2),
            (GroundCost::Euclidean, 2, 1e-2),
            (GroundCost::SqEuclidean, 5, 1e-2),
        ] {
            let p = CloudOt::generate("clustered", 700, 500, d, ground, 9).unwrap();
            let (rows, cols) = (Side::new(p.x(), p.a(), d, 8), Side::new(p.y(), p.b(), d, 8));
            let geo = Geometry {
                ground,
                scale: p.scale(),
                rows: &rows,
                cols: &cols,
            };
            let f: Vec<f64> = (0..rows.len())
                .map(|i| eps * (-7.0 + (i % 5) as f64 * 0.3))
                .collect();
            let g: Vec<f64> = (0..cols.len())
                .map(|j| eps * (-6.0 - (j % 7) as f64 * 0.2))
                .collect();
            let x: Vec<f64> = (0..rows.len()).map(|i| 1.0 + (i % 3) as f64).collect();
            let y: Vec<f64> = (0..cols.len())
                .map(|j| 0.5 - (j % 4) as f64 * 0.3)
                .collect();
            let (rb, cb) = brute(&geo, &f, &g, eps, &x, &y);
            let inp = PassIn {
                eps,
                cut: Cut::Absolute(-80.0),
                y: Some(&y),
                x: Some(&x),
                cols: true,
                coarse: None,
                precise: false,
            };
            let out = pass(&geo, &f, &g, &inp);
            let scale_r: f64 = rb.iter().map(|v| v.abs()).sum::<f64>() / rb.len() as f64;
            for (got, want) in out.rows.iter().zip(&rb) {
                assert!(
                    (got - want).abs() <= 2e-6 * scale_r,
                    "{ground:?} d={d}: {got} vs {want}"
                );
            }
            for (got, want) in out.cols.iter().zip(&cb) {
                assert!(
                    (got - want).abs() <= 2e-6 * want.abs().max(1e-300),
                    "{ground:?} d={d}: {got} vs {want}"
                );
            }
            // Double precision throughout: to rounding.
            let precise = PassIn {
                precise: true,
                ..inp
            };
            let out = pass(&geo, &f, &g, &precise);
            for (got, want) in out.rows.iter().zip(&rb).chain(out.cols.iter().zip(&cb)) {
                assert!(
                    (got - want).abs() <= 1e-12 * scale_r.max(want.abs()),
                    "{ground:?} d={d} precise: {got} vs {want}"
                );
            }
            // The soft c-transform against the dense formula.
            let mut ft = f.clone();
            soft_transform(&geo, &mut ft, &g, eps, 60.0);
            for (i, fi) in ft.iter().enumerate() {
                let lse: f64 = (0..cols.len())
                    .map(|j| {
                        ((g[j] - geo.ground.eval(rows.point(i), cols.point(j)) / geo.scale) / eps)
                            .exp()
                    })
                    .sum::<f64>()
                    .ln();
                let want = eps * (rows.log_w[i] - lse);
                assert!(
                    (fi - want).abs() <= 1e-6 * eps,
                    "{ground:?} d={d}: {fi} vs {want}"
                );
            }
        }
    }
}
