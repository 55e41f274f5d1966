//! Discrete optimal transport.
//!
//! Given weights `a ∈ ℝⁿ₊`, `b ∈ ℝᵐ₊` with `Σa = Σb` and a cost matrix `C ∈ ℝⁿˣᵐ`, the
//! (Kantorovich) problem is
//!
//! `min ⟨C, P⟩  s.t.  P1 = a, Pᵀ1 = b, P ≥ 0`,
//!
//! and its entropic regularisation (POT's convention, used throughout mathprog)
//!
//! `min ⟨C, P⟩ + reg · Σ_ij P_ij (log P_ij − 1)  s.t.  P1 = a, Pᵀ1 = b`.
//!
//! Costs may be given densely or built from two point clouds with [`GroundCost`].

pub mod cloud;

use crate::error::ProblemError;

/// A ground cost between points `x, y ∈ ℝᵈ`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GroundCost {
    /// `‖x − y‖²`.
    SqEuclidean,
    /// `‖x − y‖`.
    Euclidean,
    /// The `p`-norm distance `‖x − y‖_p = (Σ_k |x_k − y_k|^p)^(1/p)`, `p ≥ 1`.
    Lp(f64),
}

impl std::str::FromStr for GroundCost {
    type Err = String;
    /// `sqeuclidean`, `euclidean`, or `lp:P` with `P ≥ 1`.
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqeuclidean" => Ok(GroundCost::SqEuclidean),
            "euclidean" => Ok(GroundCost::Euclidean),
            _ => match s.strip_prefix("lp:").and_then(|p| p.parse::<f64>().ok()) {
                Some(p) if p >= 1.0 && p.is_finite() => Ok(GroundCost::Lp(p)),
                _ => Err(format!(
                    "expected sqeuclidean, euclidean or lp:P with P >= 1, got `{s}`"
                )),
            },
        }
    }
}

impl std::fmt::Display for GroundCost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroundCost::SqEuclidean => f.write_str("sqeuclidean"),
            GroundCost::Euclidean => f.write_str("euclidean"),
            GroundCost::Lp(p) => write!(f, "lp:{p}"),
        }
    }
}

/// The common dimension of two point sets given as rows (0 when there are none); an error
/// names the first point (numbered through both sets) of another dimension.
pub fn point_dimension(xs: &[Vec<f64>], ys: &[Vec<f64>]) -> Result<usize, ProblemError> {
    let d = xs.first().map_or(0, Vec::len);
    match xs.iter().chain(ys).position(|p| p.len() != d) {
        Some(k) => Err(ProblemError::Invalid(format!(
            "point {} has dimension {}, expected {d}",
            k + 1,
            xs.iter().chain(ys).nth(k).map_or(0, Vec::len)
        ))),
        None => Ok(d),
    }
}

/// `w` divided by its sum (unchanged when the sum is not positive and finite).
pub fn unit_mass(w: Vec<f64>) -> Vec<f64> {
    let s: f64 = w.iter().sum();
    if s > 0.0 && s.is_finite() {
        w.into_iter().map(|x| x / s).collect()
    } else {
        w
    }
}

impl GroundCost {
    /// The Wasserstein distance that an optimal transport cost `cost` under this ground cost
    /// stands for, and its name: `√cost` (`W₂`) for the squared Euclidean cost, `cost` itself
    /// (`W₁`, in the Euclidean or the `p`-norm metric) otherwise.
    pub fn wasserstein(self, cost: f64) -> (&'static str, f64) {
        match self {
            GroundCost::SqEuclidean => ("W2", cost.max(0.0).sqrt()),
            GroundCost::Euclidean | GroundCost::Lp(_) => ("W1", cost),
        }
    }

    /// The cost between two points of equal dimension.
    pub fn eval(self, x: &[f64], y: &[f64]) -> f64 {
        match self {
            GroundCost::SqEuclidean => x.iter().zip(y).map(|(u, v)| (u - v) * (u - v)).sum(),
            GroundCost::Euclidean => x
                .iter()
                .zip(y)
                .map(|(u, v)| (u - v) * (u - v))
                .sum::<f64>()
                .sqrt(),
            GroundCost::Lp(p) => x
                .iter()
                .zip(y)
                .map(|(u, v)| (u - v).abs().powf(p))
                .sum::<f64>()
                .powf(1.0 / p),
        }
    }
}

/// A histogram on a regular `d`-dimensional grid: the discretisation of a density, with one
/// weight per cell and the cell's centre as its location.
///
/// Cell `(i_1, …, i_d)` (0-based, row-major: the last index fastest) has centre
/// `x_k = (i_k + ½) h_k`. By default `h_k = 1/n_k`, so every grid covers the unit cube
/// `[0, 1]^d` whatever its resolution (a 32 × 32 and a 64 × 64 image of the same density are
/// comparable); [`GridHistogram::with_spacing`] sets other cell sizes (`1` for pixel units).
///
/// Between two grid histograms with the squared Euclidean cost, the optimal transport cost is
/// `W₂²` of the discretised densities; with the Euclidean cost it is `W₁` (see
/// [`GroundCost::wasserstein`]).
#[derive(Debug, Clone, PartialEq)]
pub struct GridHistogram {
    shape: Vec<usize>,
    weights: Vec<f64>,
    spacing: Vec<f64>,
}

impl GridHistogram {
    /// A histogram of `shape` (at least one axis, every axis non-empty) with row-major
    /// `weights` (finite, non-negative, not all zero), on the unit cube.
    pub fn new(shape: Vec<usize>, weights: Vec<f64>) -> Result<Self, ProblemError> {
        if shape.is_empty() || shape.contains(&0) {
            return Err(ProblemError::Invalid(format!(
                "grid shape {shape:?} needs at least one axis and no empty axis"
            )));
        }
        let cells = shape
            .iter()
            .try_fold(1usize, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| ProblemError::Invalid(format!("grid shape {shape:?} is too large")))?;
        if weights.len() != cells {
            return Err(ProblemError::Invalid(format!(
                "grid shape {shape:?} has {cells} cells but {} weights were given",
                weights.len()
            )));
        }
        if let Some(k) = weights.iter().position(|w| !(w.is_finite() && *w >= 0.0)) {
            return Err(ProblemError::Invalid(format!(
                "cell {k} (row-major, 0-based) has weight {}; weights must be finite and >= 0",
                weights[k]
            )));
        }
        if !weights.iter().any(|w| *w > 0.0) {
            return Err(ProblemError::Invalid("every cell has weight 0".into()));
        }
        let spacing = shape.iter().map(|&n| 1.0 / n as f64).collect();
        Ok(GridHistogram {
            shape,
            weights,
            spacing,
        })
    }

    /// The same histogram with cell sizes `h` (one per axis, finite and positive).
    pub fn with_spacing(mut self, h: &[f64]) -> Result<Self, ProblemError> {
        if h.len() != self.shape.len() || h.iter().any(|x| !(x.is_finite() && *x > 0.0)) {
            return Err(ProblemError::Invalid(format!(
                "spacing {h:?}: need {} finite positive cell sizes",
                self.shape.len()
            )));
        }
        self.spacing = h.to_vec();
        Ok(self)
    }

    /// Cells per axis.
    pub fn shape(&self) -> &[usize] {
        &self.shape
    }
    /// Weights, row-major.
    pub fn weights(&self) -> &[f64] {
        &self.weights
    }
    /// Cell sizes per axis.
    pub fn spacing(&self) -> &[f64] {
        &self.spacing
    }
    /// The same histogram scaled to total mass 1 (unchanged when its mass is not positive).
    pub fn normalized(&self) -> Self {
        let w = unit_mass(self.weights().to_vec());
        GridHistogram::new(self.shape().to_vec(), w)
            .and_then(|n| n.with_spacing(self.spacing()))
            .unwrap_or_else(|_| self.clone())
    }

    /// Total mass.
    pub fn mass(&self) -> f64 {
        self.weights.iter().sum()
    }

    /// Centre of cell `flat` (row-major index).
    pub fn center(&self, flat: usize) -> Vec<f64> {
        let mut x = vec![0.0; self.shape.len()];
        let mut k = flat;
        for d in (0..self.shape.len()).rev() {
            x[d] = ((k % self.shape[d]) as f64 + 0.5) * self.spacing[d];
            k /= self.shape[d];
        }
        x
    }

    /// The cells of positive weight (row-major indices), their centres and weights.
    fn support(&self) -> (Vec<usize>, Vec<Vec<f64>>, Vec<f64>) {
        let cells: Vec<usize> = (0..self.weights.len())
            .filter(|&k| self.weights[k] > 0.0)
            .collect();
        let pts = cells.iter().map(|&k| self.center(k)).collect();
        let w = cells.iter().map(|&k| self.weights[k]).collect();
        (cells, pts, w)
    }
}

/// The cells behind the rows and columns of an [`OtProblem`] built by
/// [`OtProblem::from_grids`]: row `i` is source cell `rows[i]`, column `j` target cell
/// `cols[j]` (row-major indices into the grids).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GridSupport {
    /// Source cells of the rows.
    pub rows: Vec<usize>,
    /// Target cells of the columns.
    pub cols: Vec<usize>,
}

/// An optimal-transport instance with a dense cost matrix (row-major `n × m`).
#[derive(Debug, Clone, PartialEq)]
pub struct OtProblem {
    a: Vec<f64>,
    b: Vec<f64>,
    cost: Vec<f64>,
}

/// Relative tolerance on `|Σa − Σb|` accepted as equal mass.
pub const MASS_TOLERANCE: f64 = 1e-9;

impl OtProblem {
    /// Build and validate from the marginals and the **row-major** `n × m` cost matrix
    /// (`cost[i·m + j] = C_ij`, `n = a.len()`, `m = b.len()`): weights non-negative and finite
    /// with positive total, costs finite, `cost.len() == n·m`, and `|Σa − Σb| ≤ 1e-9 · Σa` (use
    /// [`OtProblem::normalized`] to rescale unequal masses). With the `nalgebra` feature,
    /// `OtProblem::from_nalgebra` takes a `DMatrix` in either storage order.
    pub fn from_row_major(a: Vec<f64>, b: Vec<f64>, cost: Vec<f64>) -> Result<Self, ProblemError> {
        let bad = |m: String| Err(ProblemError::Invalid(m));
        let (n, m) = (a.len(), b.len());
        if n == 0 || m == 0 {
            return bad(format!("empty marginals ({n} x {m})"));
        }
        for (name, w) in [("a", &a), ("b", &b)] {
            if let Some(i) = w.iter().position(|v| !(v.is_finite() && *v >= 0.0)) {
                return bad(format!(
                    "weight {name}[{}] = {} is not a finite non-negative number",
                    i + 1,
                    w[i]
                ));
            }
        }
        if cost.len() != n * m {
            return bad(format!(
                "cost matrix has {} entries, expected {n} x {m}",
                cost.len()
            ));
        }
        if let Some(k) = cost.iter().position(|c| !c.is_finite()) {
            return bad(format!(
                "cost ({}, {}) = {} is not finite",
                k / m + 1,
                k % m + 1,
                cost[k]
            ));
        }
        let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
        if sa.is_nan() || sa <= 0.0 {
            return bad("total mass is zero".into());
        }
        if (sa - sb).abs() > MASS_TOLERANCE * sa.max(sb) {
            return bad(format!(
                "unequal masses: sum a = {sa}, sum b = {sb}; rescale both to mass 1 with \
                 --normalize (library: OtProblem::normalized)"
            ));
        }
        Ok(OtProblem { a, b, cost })
    }

    /// Like [`OtProblem::from_row_major`] but rescales `a` and `b` to total mass 1 first; returns the
    /// problem and whether the masses differed (so callers can warn).
    pub fn normalized(
        mut a: Vec<f64>,
        mut b: Vec<f64>,
        cost: Vec<f64>,
    ) -> Result<(Self, bool), ProblemError> {
        let (sa, sb): (f64, f64) = (a.iter().sum(), b.iter().sum());
        let differed = (sa - sb).abs() > MASS_TOLERANCE * sa.max(sb);
        if sa > 0.0 && sb > 0.0 && sa.is_finite() && sb.is_finite() {
            a.iter_mut().for_each(|v| *v /= sa);
            b.iter_mut().for_each(|v| *v /= sb);
        }
        Ok((Self::from_row_major(a, b, cost)?, differed))
    }

    /// Cost matrix from two point clouds (`xs` n points, `ys` m points, equal dimensions).
    pub fn from_points(
        xs: &[Vec<f64>],
        a: Vec<f64>,
        ys: &[Vec<f64>],
        b: Vec<f64>,
        ground: GroundCost,
    ) -> Result<Self, ProblemError> {
        if let GroundCost::Lp(p) = ground
            && !(p >= 1.0 && p.is_finite())
        {
            return Err(ProblemError::Invalid(format!(
                "Lp cost needs a finite p >= 1, got {p}"
            )));
        }
        point_dimension(xs, ys)?;
        let mut cost = Vec::with_capacity(xs.len() * ys.len());
        for x in xs {
            for y in ys {
                cost.push(ground.eval(x, y));
            }
        }
        Self::from_row_major(a, b, cost)
    }

    /// The problem between two grid histograms (equal dimension): rows and columns are the
    /// cells of positive weight (empty cells carry no mass and change neither the cost nor the
    /// plan), costs are `ground` between cell centres. Returns the problem and which cells its
    /// rows and columns are.
    pub fn from_grids(
        a: &GridHistogram,
        b: &GridHistogram,
        ground: GroundCost,
    ) -> Result<(Self, GridSupport), ProblemError> {
        if a.shape.len() != b.shape.len() {
            return Err(ProblemError::Invalid(format!(
                "the source grid is {}-dimensional, the target grid {}-dimensional",
                a.shape.len(),
                b.shape.len()
            )));
        }
        let (rows, xs, wa) = a.support();
        let (cols, ys, wb) = b.support();
        let p = Self::from_points(&xs, wa, &ys, wb, ground)?;
        Ok((p, GridSupport { rows, cols }))
    }

    /// The same problem with the costs divided by the largest |cost| (unchanged when all are 0).
    pub fn with_scaled_cost(mut self) -> Self {
        let mx = self.cost.iter().fold(0.0f64, |m, c| m.max(c.abs()));
        if mx > 0.0 {
            self.cost.iter_mut().for_each(|c| *c /= mx);
        }
        self
    }

    /// Rows `n`.
    pub fn n(&self) -> usize {
        self.a.len()
    }
    /// Columns `m`.
    pub fn m(&self) -> usize {
        self.b.len()
    }
    /// Source weights `a`.
    pub fn a(&self) -> &[f64] {
        &self.a
    }
    /// Target weights `b`.
    pub fn b(&self) -> &[f64] {
        &self.b
    }
    /// Cost matrix, row-major.
    pub fn cost(&self) -> &[f64] {
        &self.cost
    }
    /// Cost row `i`.
    pub fn cost_row(&self, i: usize) -> &[f64] {
        let m = self.m();
        &self.cost[i * m..(i + 1) * m]
    }
    /// Largest cost entry.
    pub fn max_cost(&self) -> f64 {
        self.cost.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    }

    /// `⟨C, P⟩` of a dense plan.
    pub fn transport_cost(&self, plan: &[f64]) -> f64 {
        self.cost.iter().zip(plan).map(|(c, p)| c * p).sum()
    }

    /// L1 marginal violation `‖P1 − a‖₁ + ‖Pᵀ1 − b‖₁` of a dense plan.
    pub fn marginal_violation(&self, plan: &[f64]) -> f64 {
        let m = self.m();
        let mut col = vec![0.0; m];
        let mut v = 0.0;
        for (i, ai) in self.a.iter().enumerate() {
            let row = &plan[i * m..(i + 1) * m];
            v += (row.iter().sum::<f64>() - ai).abs();
            for (c, p) in col.iter_mut().zip(row) {
                *c += p;
            }
        }
        v + col
            .iter()
            .zip(&self.b)
            .map(|(c, b)| (c - b).abs())
            .sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_and_point_clouds() {
        assert!(OtProblem::from_row_major(vec![0.5, 0.5], vec![1.0], vec![0.0, 1.0]).is_ok());
        assert!(OtProblem::from_row_major(vec![0.5, 0.6], vec![1.0], vec![0.0, 1.0]).is_err());
        assert!(OtProblem::from_row_major(vec![-0.5, 1.5], vec![1.0], vec![0.0, 1.0]).is_err());
        assert!(OtProblem::from_row_major(vec![0.5, 0.5], vec![1.0], vec![0.0, f64::NAN]).is_err());
        assert!(OtProblem::from_row_major(vec![0.5, 0.5], vec![1.0], vec![0.0]).is_err());
        let (p, differed) =
            OtProblem::normalized(vec![1.0, 3.0], vec![2.0], vec![0.0, 1.0]).unwrap();
        assert!(differed);
        assert_eq!(p.a(), &[0.25, 0.75]);
        let xs = vec![vec![0.0, 0.0], vec![1.0, 0.0]];
        let ys = vec![vec![0.0, 1.0]];
        let q =
            OtProblem::from_points(&xs, vec![0.5, 0.5], &ys, vec![1.0], GroundCost::SqEuclidean)
                .unwrap();
        assert_eq!(q.cost(), &[1.0, 2.0]);
        let e = OtProblem::from_points(&xs, vec![0.5, 0.5], &ys, vec![1.0], GroundCost::Euclidean)
            .unwrap();
        assert!((e.cost()[1] - 2f64.sqrt()).abs() < 1e-15);
        let l1 = OtProblem::from_points(&xs, vec![0.5, 0.5], &ys, vec![1.0], GroundCost::Lp(1.0))
            .unwrap();
        assert_eq!(l1.cost(), &[1.0, 2.0]);
        assert_eq!(q.transport_cost(&[0.5, 0.5]), 1.5);
        assert_eq!(q.marginal_violation(&[0.5, 0.25]), 0.5);
    }
}
