//! The exact (double-precision) pass over the pairs of a point-cloud problem, costs computed
//! on the fly and whole cell pairs skipped by bounds: [`plan_pass`] computes, at
//! `P_ij = exp((f_i + g_j − C_ij)/ε)` with `C_ij = c(x_i, y_j)/s`, the row sums, column sums,
//! `Σ P`, `⟨C, P⟩` and `Σ P (log P − 1)` over the entries with exponent above `cut`; a cell
//! pair is skipped when its bound is below the cut, which is exact for the plan with the
//! entries under the cut set to 0 (the plan the dense solvers return, `cut = −60`). The number
//! of skipped pairs is counted, for the rigorous dual bound. (The iterations' passes are
//! [`super::fused`].)
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

/// The [`CHUNKS`] row chunks of a pass: `per` cells each (the last ones shorter or empty), and
/// `out` (one value per sorted row) split at their boundaries.
pub(crate) fn row_chunks<'a>(rows: &Side, out: &'a mut [f64]) -> (usize, Vec<&'a mut [f64]>) {
    let nc = rows.cells();
    let per = nc.div_ceil(CHUNKS).max(1);
    let mut slices = Vec::with_capacity(CHUNKS);
    let mut rest = out;
    for ch in 0..CHUNKS {
        let (c0, c1) = ((ch * per).min(nc), ((ch + 1) * per).min(nc));
        let (head, tail) = rest.split_at_mut(rows.start[c1] - rows.start[c0]);
        slices.push(head);
        rest = tail;
    }
    (per, slices)
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

/// Per-chunk state of a plan pass.
struct Chunk {
    col: Vec<f64>,
    mass: f64,
    cost: f64,
    entropy: f64,
    count: PairCount,
}

/// One pass over the plan at `(f, g)` (sorted orders) with the exponent `cut` (see the module
/// documentation). `sums` is reused.
pub(crate) fn plan_pass(
    geo: &Geometry<'_>,
    f: &[f64],
    g: &[f64],
    eps: f64,
    cut: f64,
    sums: &mut PlanSums,
) {
    let (rows, cols) = (geo.rows, geo.cols);
    let (mut fmax, mut gmax) = (Vec::new(), Vec::new());
    cell_max(rows, f, &mut fmax);
    cell_max(cols, g, &mut gmax);
    let nc = rows.cells();
    let (per, r_slices) = row_chunks(rows, &mut sums.r);
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
            };
            let mut sc = Scratch::default();
            let base = rows.start[c0];
            for a in c0..c1 {
                plan_cell(
                    geo, a, f, g, eps, cut, &fmax, &gmax, base, rc, &mut st, &mut sc,
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
    for ch in &chunks {
        for (c, v) in sums.c.iter_mut().zip(&ch.col) {
            *c += v;
        }
        sums.mass += ch.mass;
        sums.cost += ch.cost;
        sums.entropy += ch.entropy;
        sums.count += ch.count;
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
    fmax: &[f64],
    gmax: &[f64],
    base: usize,
    rc: &mut [f64],
    st: &mut Chunk,
    sc: &mut Scratch,
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
        for &b in &sc.keep {
            let (lo, hi) = (cols.start[b as usize], cols.start[b as usize + 1]);
            for (colt, gt) in st.col[lo..hi].iter_mut().zip(&g[lo..hi]) {
                let (zt, v) = (sc.z[k], sc.pv[k]);
                k += 1;
                if v == 0.0 {
                    continue;
                }
                *colt += v;
                st.cost += (f[s] + gt - eps * zt) * v;
                st.entropy += v * (zt - 1.0);
            }
        }
        rc[s - base] = row;
        st.mass += row;
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
