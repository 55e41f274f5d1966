//! One side of a point-cloud problem sorted into a uniform grid: the points of a cell are
//! contiguous, and every cell has a bounding box, so that whole blocks of pairs can be bounded
//! (and skipped) at once.
//!
//! The grid uses the first `k = min(d, 3)` coordinates; distances in them are lower bounds on
//! the full distances, so the bounds stay valid in any dimension (they are just weaker).

use mathprog_problems::ot::GroundCost;

/// Points (row-major, in cell order) with their weights and cells.
pub(crate) struct Side {
    /// Dimension.
    pub d: usize,
    /// Coordinates in cell order (`n × d`).
    pub pts: Vec<f64>,
    /// `log` of the weights, in cell order.
    pub log_w: Vec<f64>,
    /// Weights, in cell order.
    pub w: Vec<f64>,
    /// `perm[s]` = the original index of sorted point `s`.
    pub perm: Vec<u32>,
    /// Cell `c` holds sorted points `start[c]..start[c + 1]` (empty cells dropped).
    pub start: Vec<usize>,
    /// Bounding boxes of the cells in the grid coordinates: `lo[c·k + t]`, `hi[c·k + t]`.
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
    /// Grid dimensions used (`min(d, 3)`).
    pub k: usize,
}

impl Side {
    /// Sort `pts` (`n × d`, weights `w`) into a grid of about `n / per_cell` cells.
    pub fn new(pts: &[f64], w: &[f64], d: usize, per_cell: usize) -> Self {
        let n = w.len();
        let k = d.min(3);
        let (lo, hi) = mathprog_problems::ot::cloud::bounding_box(pts, d);
        let cells_wanted = (n / per_cell.max(1)).max(1) as f64;
        let per_axis = (cells_wanted.powf(1.0 / k as f64).floor() as usize).clamp(1, 1 << 16);
        let cell_of = |p: &[f64]| -> u64 {
            let mut id = 0u64;
            for t in 0..k {
                let span = hi[t] - lo[t];
                let q = if span > 0.0 {
                    (((p[t] - lo[t]) / span) * per_axis as f64) as usize
                } else {
                    0
                };
                id = id * per_axis as u64 + q.min(per_axis - 1) as u64;
            }
            id
        };
        let mut order: Vec<(u64, u32)> = (0..n)
            .map(|i| (cell_of(&pts[i * d..(i + 1) * d]), i as u32))
            .collect();
        order.sort_unstable();
        let mut side = Side {
            d,
            pts: Vec::with_capacity(n * d),
            log_w: Vec::with_capacity(n),
            w: Vec::with_capacity(n),
            perm: Vec::with_capacity(n),
            start: vec![0],
            lo: Vec::new(),
            hi: Vec::new(),
            k,
        };
        for (s, &(cell, i)) in order.iter().enumerate() {
            if s > 0 && order[s - 1].0 != cell {
                side.start.push(s);
            }
            let i = i as usize;
            side.pts.extend_from_slice(&pts[i * d..(i + 1) * d]);
            side.w.push(w[i]);
            side.log_w.push(w[i].ln());
            side.perm.push(i as u32);
        }
        side.start.push(n);
        for c in 0..side.cells() {
            let mut l = [f64::INFINITY; 3];
            let mut h = [f64::NEG_INFINITY; 3];
            for s in side.start[c]..side.start[c + 1] {
                for t in 0..k {
                    l[t] = l[t].min(side.pts[s * d + t]);
                    h[t] = h[t].max(side.pts[s * d + t]);
                }
            }
            side.lo.extend_from_slice(&l[..k]);
            side.hi.extend_from_slice(&h[..k]);
        }
        side
    }

    /// Number of (non-empty) cells.
    pub fn cells(&self) -> usize {
        self.start.len() - 1
    }

    /// Number of points.
    pub fn len(&self) -> usize {
        self.w.len()
    }

    /// Sorted point `s`.
    #[inline(always)]
    pub fn point(&self, s: usize) -> &[f64] {
        &self.pts[s * self.d..(s + 1) * self.d]
    }

    /// `v` (indexed by original point) in this side's sorted order.
    pub fn sorted(&self, v: &[f64]) -> Vec<f64> {
        self.perm.iter().map(|&i| v[i as usize]).collect()
    }

    /// `v` (in sorted order) back in the original order.
    pub fn unsorted(&self, v: &[f64]) -> Vec<f64> {
        let mut out = vec![0.0; v.len()];
        for (s, &i) in self.perm.iter().enumerate() {
            out[i as usize] = v[s];
        }
        out
    }
}

/// A lower bound on the (unscaled) ground cost between any point of cell `a` of `sa` and any
/// point of cell `b` of `sb`: the cost of the gaps between their boxes.
#[inline]
pub(crate) fn cell_cost_lower_bound(
    ground: GroundCost,
    sa: &Side,
    a: usize,
    sb: &Side,
    b: usize,
) -> f64 {
    let k = sa.k;
    let mut gaps = [0.0f64; 3];
    for (t, gap) in gaps.iter_mut().enumerate().take(k) {
        let g1 = sb.lo[b * k + t] - sa.hi[a * k + t];
        let g2 = sa.lo[a * k + t] - sb.hi[b * k + t];
        *gap = g1.max(g2).max(0.0);
    }
    let g = &gaps[..k];
    match ground {
        GroundCost::SqEuclidean => g.iter().map(|v| v * v).sum(),
        GroundCost::Euclidean => g.iter().map(|v| v * v).sum::<f64>().sqrt(),
        GroundCost::Lp(p) => g.iter().map(|v| v.powf(p)).sum::<f64>().powf(1.0 / p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mathprog_problems::ot::cloud::CloudOt;

    #[test]
    fn sorting_round_trips_and_bounds_hold() {
        for d in [1, 2, 3, 5] {
            let p = CloudOt::generate("clustered", 300, 200, d, GroundCost::Euclidean, 4).unwrap();
            let (sx, sy) = (Side::new(p.x(), p.a(), d, 8), Side::new(p.y(), p.b(), d, 8));
            assert!(sx.cells() > 1 || d == 1 && sx.cells() >= 1);
            let v: Vec<f64> = (0..300).map(|i| i as f64).collect();
            assert_eq!(sx.unsorted(&sx.sorted(&v)), v);
            for ground in [
                GroundCost::SqEuclidean,
                GroundCost::Euclidean,
                GroundCost::Lp(1.5),
            ] {
                for a in 0..sx.cells() {
                    for b in 0..sy.cells() {
                        let lb = cell_cost_lower_bound(ground, &sx, a, &sy, b);
                        for s in sx.start[a]..sx.start[a + 1] {
                            for t in sy.start[b]..sy.start[b + 1] {
                                let c = ground.eval(sx.point(s), sy.point(t));
                                assert!(lb <= c * (1.0 + 1e-12) + 1e-15, "{lb} > {c}");
                            }
                        }
                    }
                }
            }
        }
    }
}
