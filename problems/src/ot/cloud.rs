//! Optimal transport between two weighted point clouds, with costs computed from the
//! coordinates when needed instead of an `n × m` matrix (the problem of `solve ot --source
//! --target` at any size, and of the on-the-fly solver `mathprog_solvers::ot::cloud`).
//!
//! `μ = Σ_i a_i δ_{x_i}`, `ν = Σ_j b_j δ_{y_j}` in `ℝᵈ`, `C_ij = c(x_i, y_j) / s` for a
//! [`GroundCost`] `c` and a cost scale `s` (1, or the largest cost, as the usual benchmarks
//! normalise). Memory is `O((n + m) d)`.

use super::{GroundCost, MASS_TOLERANCE, OtProblem};
use crate::error::ProblemError;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Two weighted point clouds and a ground cost (see the module documentation).
#[derive(Debug, Clone, PartialEq)]
pub struct CloudOt {
    d: usize,
    x: Vec<f64>,
    y: Vec<f64>,
    a: Vec<f64>,
    b: Vec<f64>,
    ground: GroundCost,
    scale: f64,
}

impl CloudOt {
    /// Build and validate: `x` holds `n` points of dimension `d` row-major (`x.len() = n·d`,
    /// `n = a.len()`), `y` likewise with `b`; coordinates finite, weights finite and positive
    /// (a point without mass carries nothing: drop it), equal masses within
    /// [`MASS_TOLERANCE`], `p ≥ 1` for [`GroundCost::Lp`].
    pub fn new(
        d: usize,
        x: Vec<f64>,
        a: Vec<f64>,
        y: Vec<f64>,
        b: Vec<f64>,
        ground: GroundCost,
    ) -> Result<Self, ProblemError> {
        let bad = |m: String| Err(ProblemError::Invalid(m));
        let (n, m) = (a.len(), b.len());
        if d == 0 || n == 0 || m == 0 {
            return bad(format!(
                "empty point clouds ({n} x {m} points of dimension {d})"
            ));
        }
        if x.len() != n * d || y.len() != m * d {
            return bad(format!(
                "{} and {} coordinates for {n} and {m} points of dimension {d}",
                x.len(),
                y.len()
            ));
        }
        if let GroundCost::Lp(p) = ground
            && !(p >= 1.0 && p.is_finite())
        {
            return bad(format!("Lp cost needs a finite p >= 1, got {p}"));
        }
        for (name, pts, dim) in [("source", &x, d), ("target", &y, d)] {
            if let Some(k) = pts.iter().position(|v| !v.is_finite()) {
                return bad(format!(
                    "{name} point {}: coordinate {} is not finite",
                    k / dim + 1,
                    pts[k]
                ));
            }
        }
        for (name, w) in [("a", &a), ("b", &b)] {
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v > 0.0)) {
                return bad(format!(
                    "weight {name}[{}] = {} is not a finite positive number (drop points \
                     without mass)",
                    i + 1,
                    w[i]
                ));
            }
        }
        let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
        if (sa - sb).abs() > MASS_TOLERANCE * sa.max(sb) {
            return bad(format!(
                "unequal masses: sum a = {sa}, sum b = {sb}; rescale both to mass 1"
            ));
        }
        Ok(CloudOt {
            d,
            x,
            y,
            a,
            b,
            ground,
            scale: 1.0,
        })
    }

    /// From points as rows (`xs[i]` of length `d`), as the point-cloud reader gives them.
    pub fn from_rows(
        xs: &[Vec<f64>],
        a: Vec<f64>,
        ys: &[Vec<f64>],
        b: Vec<f64>,
        ground: GroundCost,
    ) -> Result<Self, ProblemError> {
        let d = super::point_dimension(xs, ys)?;
        Self::new(d, xs.concat(), a, ys.concat(), b, ground)
    }

    /// Uniform weights on `n` source and `m` target points drawn from `kind`
    /// ("uniform": the unit cube `[0, 1]^d`; "clustered": 10 Gaussian clusters of standard
    /// deviation 0.05 in it, the source and target with different centres), from `seed`.
    pub fn generate(
        kind: &str,
        n: usize,
        m: usize,
        d: usize,
        ground: GroundCost,
        seed: u64,
    ) -> Result<Self, ProblemError> {
        let cells = crate::limits::checked_size("the generated points", n.saturating_add(m), d)?;
        crate::limits::check_alloc("the generated points", cells, 8)?;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
        let cloud = |k: usize, rng: &mut Xoshiro256PlusPlus| -> Result<Vec<f64>, ProblemError> {
            match kind {
                "uniform" => Ok((0..k * d).map(|_| rng.random::<f64>()).collect()),
                "clustered" => {
                    let centres: Vec<f64> = (0..10 * d)
                        .map(|_| 0.15 + 0.7 * rng.random::<f64>())
                        .collect();
                    let normal = rand_distr::StandardNormal;
                    let mut out = Vec::with_capacity(k * d);
                    for _ in 0..k {
                        let c = rng.random_range(0..10);
                        for t in 0..d {
                            let z: f64 = rand_distr::Distribution::sample(&normal, rng);
                            out.push(centres[c * d + t] + 0.05 * z);
                        }
                    }
                    Ok(out)
                }
                other => Err(ProblemError::Invalid(format!(
                    "unknown point-cloud kind {other:?} (uniform or clustered)"
                ))),
            }
        };
        let x = cloud(n, &mut rng)?;
        let y = cloud(m, &mut rng)?;
        Self::new(
            d,
            x,
            vec![1.0 / n as f64; n],
            y,
            vec![1.0 / m as f64; m],
            ground,
        )
    }

    /// The same problem with every cost divided by `s > 0` (`C_ij = c(x_i, y_j)/s`).
    pub fn with_cost_scale(mut self, s: f64) -> Result<Self, ProblemError> {
        if !(s.is_finite() && s > 0.0) {
            return Err(ProblemError::Invalid(format!(
                "the cost scale must be a positive number, got {s}"
            )));
        }
        self.scale = s;
        Ok(self)
    }

    /// Number of source points `n`.
    pub fn n(&self) -> usize {
        self.a.len()
    }
    /// Number of target points `m`.
    pub fn m(&self) -> usize {
        self.b.len()
    }
    /// Dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }
    /// Source weights.
    pub fn a(&self) -> &[f64] {
        &self.a
    }
    /// Target weights.
    pub fn b(&self) -> &[f64] {
        &self.b
    }
    /// Source coordinates, row-major `n × d`.
    pub fn x(&self) -> &[f64] {
        &self.x
    }
    /// Target coordinates, row-major `m × d`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }
    /// Source point `i`.
    pub fn xi(&self, i: usize) -> &[f64] {
        &self.x[i * self.d..(i + 1) * self.d]
    }
    /// Target point `j`.
    pub fn yj(&self, j: usize) -> &[f64] {
        &self.y[j * self.d..(j + 1) * self.d]
    }
    /// The ground cost.
    pub fn ground(&self) -> GroundCost {
        self.ground
    }
    /// The cost scale `s` (costs are `c(x, y)/s`).
    pub fn scale(&self) -> f64 {
        self.scale
    }
    /// `C_ij`.
    pub fn cost(&self, i: usize, j: usize) -> f64 {
        self.ground.eval(self.xi(i), self.yj(j)) / self.scale
    }

    /// The largest cost `max_ij c(x_i, y_j)` (unscaled), exactly: for every source point the
    /// farthest target, skipping the targets inside the bounding box's reach (the largest
    /// distance is attained at a vertex of the target cloud's convex hull, so only points
    /// near the box's boundary matter; the scan is exact whatever it skips, as each candidate
    /// is checked against an upper bound first).
    pub fn max_cost(&self) -> f64 {
        let d = self.d;
        let (lo, hi) = bounding_box(&self.y, d);
        // Targets sorted by distance to the box centre, farthest first: once the best cost
        // found beats the bound through a target's radius, the rest cannot improve it.
        let centre: Vec<f64> = lo.iter().zip(&hi).map(|(l, h)| 0.5 * (l + h)).collect();
        let mut order: Vec<(f64, usize)> = (0..self.m())
            .map(|j| (self.ground.eval(self.yj(j), &centre), j))
            .collect();
        order.sort_by(|p, q| q.0.total_cmp(&p.0));
        let mut best = 0.0f64;
        for i in 0..self.n() {
            let xi = self.xi(i);
            let to_centre = self.ground.eval(xi, &centre);
            for &(r, j) in &order {
                // Triangle inequality on the metric (for sqeuclidean on its square root):
                // c(x, y) ≤ (d(x, centre) + d(y, centre))^q.
                if self.bound_through(to_centre, r) <= best {
                    break;
                }
                best = best.max(self.ground.eval(xi, self.yj(j)));
            }
        }
        best
    }

    /// Upper bound on `c(x, y)` from `c(x, z)` and `c(y, z)` (the triangle inequality).
    fn bound_through(&self, cx: f64, cy: f64) -> f64 {
        match self.ground {
            GroundCost::SqEuclidean => (cx.sqrt() + cy.sqrt()).powi(2) * (1.0 + 1e-12),
            GroundCost::Euclidean | GroundCost::Lp(_) => (cx + cy) * (1.0 + 1e-12),
        }
    }

    /// The dense problem with the same costs (`n·m` entries: small instances, tests).
    pub fn to_dense(&self) -> Result<OtProblem, ProblemError> {
        let cells = crate::limits::checked_size("the cost matrix", self.n(), self.m())?;
        crate::limits::check_alloc("the cost matrix", cells, 8)?;
        let mut cost = Vec::with_capacity(cells);
        for i in 0..self.n() {
            for j in 0..self.m() {
                cost.push(self.cost(i, j));
            }
        }
        OtProblem::from_row_major(self.a.clone(), self.b.clone(), cost)
    }
}

/// The coordinate-wise bounding box `(lo, hi)` of row-major points of dimension `d`.
pub fn bounding_box(pts: &[f64], d: usize) -> (Vec<f64>, Vec<f64>) {
    let mut lo = vec![f64::INFINITY; d];
    let mut hi = vec![f64::NEG_INFINITY; d];
    for p in pts.chunks_exact(d) {
        for t in 0..d {
            lo[t] = lo[t].min(p[t]);
            hi[t] = hi[t].max(p[t]);
        }
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_cost_is_exact() {
        for (kind, ground) in [
            ("uniform", GroundCost::SqEuclidean),
            ("clustered", GroundCost::Euclidean),
            ("uniform", GroundCost::Lp(1.0)),
        ] {
            for seed in 0..3 {
                let p = CloudOt::generate(kind, 60, 45, 3, ground, seed).unwrap();
                let brute = (0..60)
                    .flat_map(|i| (0..45).map(move |j| (i, j)))
                    .map(|(i, j)| p.cost(i, j))
                    .fold(0.0f64, f64::max);
                assert_eq!(p.max_cost(), brute, "{kind} {ground} {seed}");
            }
        }
    }

    #[test]
    fn validation_and_dense_form() {
        let g = GroundCost::SqEuclidean;
        assert!(CloudOt::new(2, vec![0.0; 4], vec![0.5, 0.5], vec![0.0; 2], vec![1.0], g).is_ok());
        let e = CloudOt::new(2, vec![0.0; 3], vec![0.5, 0.5], vec![0.0; 2], vec![1.0], g);
        assert!(e.unwrap_err().to_string().contains("coordinates"));
        let e = CloudOt::new(1, vec![0.0, 1.0], vec![1.0, 0.0], vec![0.0], vec![1.0], g);
        assert!(e.unwrap_err().to_string().contains("a[2]"));
        let e = CloudOt::new(1, vec![f64::NAN], vec![1.0], vec![0.0], vec![1.0], g);
        assert!(e.unwrap_err().to_string().contains("not finite"));
        let p = CloudOt::new(1, vec![0.0, 2.0], vec![0.5, 0.5], vec![1.0], vec![1.0], g)
            .unwrap()
            .with_cost_scale(4.0)
            .unwrap();
        assert_eq!(p.to_dense().unwrap().cost(), &[0.25, 0.25]);
    }
}
