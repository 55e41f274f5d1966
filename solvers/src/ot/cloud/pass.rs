//! The passes over the pairs of a point-cloud problem, costs computed on the fly and whole
//! cell pairs skipped by bounds. With `P_ij = exp((f_i + g_j − C_ij)/ε)` and
//! `C_ij = c(x_i, y_j)/s`:
//!
//! * [`lse_update`]: the soft c-transform `f_i ← ε (log a_i − LSE_j (g_j − C_ij)/ε)` of one
//!   side against the other (a Sinkhorn half-iteration), returning the L1 violation of that
//!   side's marginal before the update. A cell pair is skipped when its bound on
//!   `(g_j − C_ij)/ε` is `τ` below a lower bound on the row's maximum (found on the cell with
//!   the best bound first), so every skipped entry is below `e^−τ` times its row's largest.
//! * [`plan_pass`]: row sums, column sums, `Σ P`, `⟨C, P⟩`, `Σ P (log P − 1)` and (optionally)
//!   the largest entries of each row, over the entries with `(f_i + g_j − C_ij)/ε > cut`;
//!   a cell pair is skipped when its bound is below the cut, which is exact for the plan with
//!   the entries under the cut set to 0 (the plan the dense solvers return, `cut = −60`). The
//!   number of skipped pairs is counted, for the rigorous dual bound.
//!
//! Rows are processed by cells in parallel; column sums go to a fixed number of row chunks
//! added in order, so every result is independent of the thread count.

use super::grid::{Side, cell_cost_lower_bound};
use crate::linalg::vexp::exp_above_sum;
use mathprog_problems::ot::GroundCost;
use rayon::prelude::*;

/// Fixed number of row chunks of [`plan_pass`] (each with its own column sums).
pub(crate) const CHUNKS: usize = 16;

/// The geometry shared by all passes.
pub(crate) struct Geometry<'a> {
    pub ground: GroundCost,
    /// The cost scale `s`.
    pub scale: f64,
    pub rows: &'a Side,
    pub cols: &'a Side,
}

impl Geometry<'_> {
    /// The same geometry with rows and columns swapped.
    pub fn transposed(&self) -> Geometry<'_> {
        Geometry {
            ground: self.ground,
            scale: self.scale,
            rows: self.cols,
            cols: self.rows,
        }
    }

    #[inline(always)]
    fn cost(&self, x: &[f64], y: &[f64]) -> f64 {
        self.ground.eval(x, y) / self.scale
    }

    /// The exponents `(off_i + g_j − C_ij)/ε` of row `s` against column cell `b`, appended
    /// to `z`.
    #[inline]
    fn exponents(&self, s: usize, off: f64, g: &[f64], b: usize, eps: f64, z: &mut Vec<f64>) {
        let x = self.rows.point(s);
        let inv = 1.0 / eps;
        let (lo, hi) = (self.cols.start[b], self.cols.start[b + 1]);
        if self.ground == GroundCost::SqEuclidean && self.cols.d == 2 {
            let (x0, x1, sc) = (x[0], x[1], 1.0 / self.scale);
            let pts = &self.cols.pts[2 * lo..2 * hi];
            z.extend(pts.chunks_exact(2).zip(&g[lo..hi]).map(|(y, gj)| {
                let (d0, d1) = (x0 - y[0], x1 - y[1]);
                (off + gj - (d0 * d0 + d1 * d1) * sc) * inv
            }));
        } else {
            z.extend((lo..hi).map(|t| (off + g[t] - self.cost(x, self.cols.point(t))) * inv));
        }
    }
}

/// Number of points in the cells `keep`.
fn points_in(side: &Side, keep: &[u32]) -> usize {
    keep.iter()
        .map(|&b| side.start[b as usize + 1] - side.start[b as usize])
        .sum()
}

/// Per-cell maxima of a potential (in sorted order).
pub(crate) fn cell_max(side: &Side, f: &[f64], out: &mut Vec<f64>) {
    out.clear();
    out.extend(side.start.windows(2).map(|w| {
        f[w[0]..w[1]]
            .iter()
            .copied()
            .fold(f64::NEG_INFINITY, f64::max)
    }));
}

/// Upper bounds `(off_max + gmax_B − lb(A, B)/s)/ε` of row cell `a` against every column cell.
fn cell_bounds(
    geo: &Geometry<'_>,
    a: usize,
    off_max: f64,
    gmax: &[f64],
    eps: f64,
    out: &mut Vec<f64>,
) {
    out.clear();
    out.extend((0..geo.cols.cells()).map(|b| {
        let lb = cell_cost_lower_bound(geo.ground, geo.rows, a, geo.cols, b) / geo.scale;
        (off_max + gmax[b] - lb) / eps
    }));
}

/// Per-task scratch.
#[derive(Default)]
pub(crate) struct Scratch {
    bounds: Vec<f64>,
    keep: Vec<u32>,
    z: Vec<f64>,
    pv: Vec<f64>,
}

/// Counters of a pass: pairs whose cost was computed and pairs skipped by cell bounds.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct PairCount {
    pub computed: u64,
    pub skipped: u64,
}

impl std::ops::AddAssign for PairCount {
    fn add_assign(&mut self, o: Self) {
        self.computed += o.computed;
        self.skipped += o.skipped;
    }
}

/// The soft c-transform of the row side (see the module documentation): `f` (sorted row
/// order) is replaced; returns the L1 violation of the row marginal at the old `f` and the
/// pair counts. `tau` is the relative cut.
pub(crate) fn lse_update(
    geo: &Geometry<'_>,
    f: &mut [f64],
    g: &[f64],
    eps: f64,
    tau: f64,
    gmax: &[f64],
) -> (f64, PairCount) {
    let rows = geo.rows;
    let mut slices: Vec<&mut [f64]> = Vec::with_capacity(rows.cells());
    let mut rest = f;
    for c in 0..rows.cells() {
        let (head, tail) = rest.split_at_mut(rows.start[c + 1] - rows.start[c]);
        slices.push(head);
        rest = tail;
    }
    let parts: Vec<(f64, PairCount)> = slices
        .into_par_iter()
        .enumerate()
        .map_init(Scratch::default, |sc, (a, fa)| {
            lse_cell(geo, a, fa, g, eps, tau, gmax, sc)
        })
        .collect();
    let mut viol = 0.0;
    let mut count = PairCount::default();
    for (v, c) in parts {
        viol += v;
        count += c;
    }
    (viol, count)
}

/// [`lse_update`] on the rows of cell `a` (their potentials `fa`).
#[allow(clippy::too_many_arguments)]
fn lse_cell(
    geo: &Geometry<'_>,
    a: usize,
    fa: &mut [f64],
    g: &[f64],
    eps: f64,
    tau: f64,
    gmax: &[f64],
    sc: &mut Scratch,
) -> (f64, PairCount) {
    let (rows, cols) = (geo.rows, geo.cols);
    let s0 = rows.start[a];
    cell_bounds(geo, a, 0.0, gmax, eps, &mut sc.bounds);
    let best = (0..sc.bounds.len())
        .max_by(|&p, &q| sc.bounds[p].total_cmp(&sc.bounds[q]))
        .unwrap_or(0);
    // A lower bound on every row's maximum exponent: its maximum over the best cell.
    let mut floor = f64::INFINITY;
    for k in 0..fa.len() {
        sc.z.clear();
        geo.exponents(s0 + k, 0.0, g, best, eps, &mut sc.z);
        floor = floor.min(sc.z.iter().copied().fold(f64::NEG_INFINITY, f64::max));
    }
    let threshold = floor - tau;
    sc.keep.clear();
    sc.keep
        .extend((0..sc.bounds.len() as u32).filter(|&b| sc.bounds[b as usize] > threshold));
    let kept_cols = points_in(cols, &sc.keep);
    let mut viol = 0.0;
    for (k, fi) in fa.iter_mut().enumerate() {
        let s = s0 + k;
        sc.z.clear();
        for &b in &sc.keep {
            geo.exponents(s, 0.0, g, b as usize, eps, &mut sc.z);
        }
        let zmax = sc.z.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        sc.z.iter_mut().for_each(|v| *v -= zmax);
        let lse = zmax + exp_above_sum(&mut sc.z, super::super::PLAN_CUT).ln();
        let a_i = rows.w[s];
        // The row's marginal at the old potential: exp(f_i/ε + LSE).
        let r_i = (*fi / eps + lse).exp();
        viol += if r_i.is_finite() {
            (r_i - a_i).abs()
        } else {
            f64::INFINITY
        };
        *fi = eps * (rows.log_w[s] - lse);
    }
    let n_rows = fa.len() as u64;
    let count = PairCount {
        computed: n_rows * kept_cols as u64,
        skipped: n_rows * (cols.len() - kept_cols) as u64,
    };
    (viol, count)
}

/// What a [`plan_pass`] computes.
pub(crate) struct PlanSums {
    /// Row sums (sorted row order).
    pub r: Vec<f64>,
    /// Column sums (sorted column order).
    pub c: Vec<f64>,
    /// `Σ P`, `⟨C, P⟩`, `Σ P (log P − 1)`.
    pub mass: f64,
    pub cost: f64,
    pub entropy: f64,
    pub count: PairCount,
}

/// The largest entries per row that a [`plan_pass`] keeps for the Newton matrix: those at
/// least `rel` times the row's largest, at most `cap` per row, in increasing column order.
pub(crate) struct Keep {
    pub rel: f64,
    pub cap: usize,
    /// The largest `cap` the densification may reach.
    pub cap_max: usize,
}

impl Keep {
    /// A denser sparsification: `rel` 100x smaller (down to `min_rel`), `cap` doubled (up to
    /// `cap_max`). `false` when it is at its densest already.
    pub fn densify(&mut self, min_rel: f64) -> bool {
        let before = (self.rel, self.cap);
        self.rel = (self.rel * 1e-2).max(min_rel);
        self.cap = (self.cap * 2).min(self.cap_max);
        before != (self.rel, self.cap)
    }
}

/// Per-chunk state of a plan pass.
struct Chunk {
    col: Vec<f64>,
    mass: f64,
    cost: f64,
    entropy: f64,
    count: PairCount,
    ptr: Vec<usize>,
    idx: Vec<u32>,
    val: Vec<f64>,
}

/// One pass over the plan at `(f, g)` (sorted orders) with the exponent `cut` (see the module
/// documentation). With `keep`, `sparse` receives the kept entries (CSR over the rows, without
/// the transpose). `sums` is reused.
#[allow(clippy::too_many_arguments)]
pub(crate) fn plan_pass(
    geo: &Geometry<'_>,
    f: &[f64],
    g: &[f64],
    eps: f64,
    cut: f64,
    keep: Option<&Keep>,
    sums: &mut PlanSums,
    sparse: &mut crate::ot::sns::Csr,
) {
    let (rows, cols) = (geo.rows, geo.cols);
    let (mut fmax, mut gmax) = (Vec::new(), Vec::new());
    cell_max(rows, f, &mut fmax);
    cell_max(cols, g, &mut gmax);
    let nc = rows.cells();
    let per = nc.div_ceil(CHUNKS).max(1);
    let mut r_slices: Vec<&mut [f64]> = Vec::with_capacity(CHUNKS);
    let mut rest = &mut sums.r[..];
    for ch in 0..CHUNKS {
        let (c0, c1) = ((ch * per).min(nc), ((ch + 1) * per).min(nc));
        let (head, tail) = rest.split_at_mut(rows.start[c1] - rows.start[c0]);
        r_slices.push(head);
        rest = tail;
    }
    let chunks: Vec<Chunk> = r_slices
        .into_par_iter()
        .enumerate()
        .map(|(ch, rc)| {
            let (c0, c1) = ((ch * per).min(nc), ((ch + 1) * per).min(nc));
            let mut st = Chunk {
                col: vec![0.0; cols.len()],
                mass: 0.0,
                cost: 0.0,
                entropy: 0.0,
                count: PairCount::default(),
                ptr: vec![0],
                idx: Vec::new(),
                val: Vec::new(),
            };
            let mut sc = Scratch::default();
            let mut cand: Vec<(u32, f64)> = Vec::new();
            let base = rows.start[c0];
            for a in c0..c1 {
                plan_cell(
                    geo, a, f, g, eps, cut, keep, &fmax, &gmax, base, rc, &mut st, &mut sc,
                    &mut cand,
                );
            }
            st
        })
        .collect();
    sums.c.fill(0.0);
    sums.mass = 0.0;
    sums.cost = 0.0;
    sums.entropy = 0.0;
    sums.count = PairCount::default();
    sparse.ptr.clear();
    sparse.ptr.push(0);
    sparse.idx.clear();
    sparse.val.clear();
    for ch in &chunks {
        for (c, v) in sums.c.iter_mut().zip(&ch.col) {
            *c += v;
        }
        sums.mass += ch.mass;
        sums.cost += ch.cost;
        sums.entropy += ch.entropy;
        sums.count += ch.count;
        if keep.is_some() {
            let off = sparse.idx.len();
            sparse.idx.extend_from_slice(&ch.idx);
            sparse.val.extend_from_slice(&ch.val);
            sparse.ptr.extend(ch.ptr[1..].iter().map(|q| off + q));
        }
    }
}

/// [`plan_pass`] on the rows of cell `a`.
#[allow(clippy::too_many_arguments)]
fn plan_cell(
    geo: &Geometry<'_>,
    a: usize,
    f: &[f64],
    g: &[f64],
    eps: f64,
    cut: f64,
    keep: Option<&Keep>,
    fmax: &[f64],
    gmax: &[f64],
    base: usize,
    rc: &mut [f64],
    st: &mut Chunk,
    sc: &mut Scratch,
    cand: &mut Vec<(u32, f64)>,
) {
    let (rows, cols) = (geo.rows, geo.cols);
    cell_bounds(geo, a, fmax[a], gmax, eps, &mut sc.bounds);
    sc.keep.clear();
    sc.keep
        .extend((0..sc.bounds.len() as u32).filter(|&b| sc.bounds[b as usize] > cut));
    let kept_cols = points_in(cols, &sc.keep);
    let (s0, s1) = (rows.start[a], rows.start[a + 1]);
    st.count.computed += ((s1 - s0) * kept_cols) as u64;
    st.count.skipped += ((s1 - s0) * (cols.len() - kept_cols)) as u64;
    for s in s0..s1 {
        sc.z.clear();
        for &b in &sc.keep {
            geo.exponents(s, f[s], g, b as usize, eps, &mut sc.z);
        }
        // The entries (vectorised exp, 0 at or below the cut); transport cost and entropy
        // from the exponents: C_ij = f_i + g_j − ε z.
        sc.pv.clear();
        sc.pv.extend_from_slice(&sc.z);
        let row = exp_above_sum(&mut sc.pv, cut);
        let mut k = 0;
        let mut best = 0.0f64;
        cand.clear();
        for &b in &sc.keep {
            let (lo, hi) = (cols.start[b as usize], cols.start[b as usize + 1]);
            for (t, (colt, gt)) in st.col[lo..hi].iter_mut().zip(&g[lo..hi]).enumerate() {
                let (zt, v) = (sc.z[k], sc.pv[k]);
                k += 1;
                if v == 0.0 {
                    continue;
                }
                let t = lo + t;
                *colt += v;
                st.cost += (f[s] + gt - eps * zt) * v;
                st.entropy += v * (zt - 1.0);
                if keep.is_some() {
                    best = best.max(v);
                    cand.push((t as u32, v));
                }
            }
        }
        rc[s - base] = row;
        st.mass += row;
        if let Some(kp) = keep {
            let thr = best * kp.rel;
            cand.retain(|e| e.1 >= thr);
            if cand.len() > kp.cap {
                cand.select_nth_unstable_by(kp.cap, |p, q| q.1.total_cmp(&p.1));
                cand.truncate(kp.cap);
            }
            cand.sort_unstable_by_key(|e| e.0);
            st.idx.extend(cand.iter().map(|e| e.0));
            st.val.extend(cand.iter().map(|e| e.1));
            st.ptr.push(st.idx.len());
        }
    }
}

/// Call `visit(s, t, P_st)` (sorted indices) for every entry with exponent above `cut`,
/// sequentially in row order.
pub(crate) fn visit_entries(
    geo: &Geometry<'_>,
    f: &[f64],
    g: &[f64],
    eps: f64,
    cut: f64,
    mut visit: impl FnMut(usize, usize, f64),
) {
    let (rows, cols) = (geo.rows, geo.cols);
    let (mut fmax, mut gmax) = (Vec::new(), Vec::new());
    cell_max(rows, f, &mut fmax);
    cell_max(cols, g, &mut gmax);
    let mut sc = Scratch::default();
    for (a, &fa) in fmax.iter().enumerate() {
        cell_bounds(geo, a, fa, &gmax, eps, &mut sc.bounds);
        for (s, &fs) in f
            .iter()
            .enumerate()
            .take(rows.start[a + 1])
            .skip(rows.start[a])
        {
            for b in 0..cols.cells() {
                if sc.bounds[b] <= cut {
                    continue;
                }
                sc.z.clear();
                geo.exponents(s, fs, g, b, eps, &mut sc.z);
                for (k, z) in sc.z.iter().enumerate() {
                    if *z > cut {
                        visit(s, cols.start[b] + k, z.exp());
                    }
                }
            }
        }
    }
}
