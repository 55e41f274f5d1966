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

impl GroundCost {
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
    /// Build and validate: weights non-negative and finite with positive total, costs finite,
    /// `cost.len() == n·m`, and `|Σa − Σb| ≤ 1e-9 · Σa` (use [`OtProblem::normalized`] to
    /// rescale unequal masses).
    pub fn new(a: Vec<f64>, b: Vec<f64>, cost: Vec<f64>) -> Result<Self, ProblemError> {
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
                "unequal masses: sum a = {sa}, sum b = {sb} (normalise them, e.g. with OtProblem::normalized)"
            ));
        }
        Ok(OtProblem { a, b, cost })
    }

    /// Like [`OtProblem::new`] but rescales `a` and `b` to total mass 1 first; returns the
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
        Ok((Self::new(a, b, cost)?, differed))
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
        let d = xs.first().map_or(0, Vec::len);
        if let Some(k) = xs.iter().chain(ys).position(|p| p.len() != d) {
            return Err(ProblemError::Invalid(format!(
                "point {} has dimension {}, expected {d}",
                k + 1,
                xs.iter().chain(ys).nth(k).map_or(0, Vec::len)
            )));
        }
        let mut cost = Vec::with_capacity(xs.len() * ys.len());
        for x in xs {
            for y in ys {
                cost.push(ground.eval(x, y));
            }
        }
        Self::new(a, b, cost)
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
        assert!(OtProblem::new(vec![0.5, 0.5], vec![1.0], vec![0.0, 1.0]).is_ok());
        assert!(OtProblem::new(vec![0.5, 0.6], vec![1.0], vec![0.0, 1.0]).is_err());
        assert!(OtProblem::new(vec![-0.5, 1.5], vec![1.0], vec![0.0, 1.0]).is_err());
        assert!(OtProblem::new(vec![0.5, 0.5], vec![1.0], vec![0.0, f64::NAN]).is_err());
        assert!(OtProblem::new(vec![0.5, 0.5], vec![1.0], vec![0.0]).is_err());
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
