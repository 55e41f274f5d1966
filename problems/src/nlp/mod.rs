//! Smooth equality-constrained nonlinear programs `min f(x) s.t. c(x) = 0`
//! (`f: ℝⁿ → ℝ`, `c: ℝⁿ → ℝᵐ`), the problem class of `solve nlp`.
//!
//! A problem supplies values, the gradient `∇f`, the constraint values, the sparse Jacobian
//! `G = ∂c/∂x` (`m × n`) and the Hessian of the Lagrangian
//! `∇²ₓL(x, λ) = ∇²f(x) + Σ_i λ_i ∇²c_i(x)` as a sparse matrix (both triangles).
//! [`check_derivatives`] compares all of them with central finite differences.
//!
//! Built-in problems: formulas and the Hock–Schittkowski equality set ([`hs`]), quadratic
//! programs and 2-D Poisson optimal control ([`qp`]), equality-constrained logistic regression
//! ([`logreg`], whose dense Hessian is offered as a Hessian-vector product).

pub mod expr;
pub mod hs;
pub mod logreg;
pub mod qp;

use sprs::{CsMat, TriMat};

/// A smooth equality-constrained problem `min f(x) s.t. c(x) = 0`.
pub trait EqualityNlp: Sync {
    /// Number of variables `n`.
    fn num_vars(&self) -> usize;
    /// Number of constraints `m`.
    fn num_constraints(&self) -> usize;
    /// The starting point.
    fn x0(&self) -> Vec<f64>;
    /// `f(x)`.
    fn objective(&self, x: &[f64]) -> f64;
    /// `g = ∇f(x)`.
    fn gradient(&self, x: &[f64], g: &mut [f64]);
    /// `out = c(x)`.
    fn constraints(&self, x: &[f64], out: &mut [f64]);
    /// The Jacobian `G(x)` (`m × n`, CSR).
    fn jacobian(&self, x: &[f64]) -> CsMat<f64>;
    /// The Hessian of the Lagrangian `∇²f(x) + Σ λ_i ∇²c_i(x)` (`n × n`, CSR, both triangles).
    fn hessian(&self, x: &[f64], lambda: &[f64]) -> CsMat<f64>;
    /// The Hessian of the Lagrangian at `(x, λ)` as an operator `v ↦ ∇²ₓL v`, for problems
    /// whose Hessian is dense or expensive to form. `None` (the default): use
    /// [`EqualityNlp::hessian`]. Matrix-free solvers use it when it is offered.
    fn hessian_operator(
        &self,
        _x: &[f64],
        _lambda: &[f64],
    ) -> Option<Box<dyn HessianOperator + '_>> {
        None
    }
    /// A short name for reports.
    fn name(&self) -> String {
        "nlp".into()
    }
}

/// A symmetric linear operator `v ↦ H v` (a Hessian at a fixed point).
pub trait HessianOperator: Sync {
    /// `out = H v`.
    fn apply(&self, v: &[f64], out: &mut [f64]);
}

/// Largest relative errors of the derivatives against central differences
/// (`|a − b| / max(1, |b|)`).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DerivativeCheck {
    /// Gradient of `f`.
    pub gradient: f64,
    /// Jacobian of `c`.
    pub jacobian: f64,
    /// Hessian of the Lagrangian (differences of `∇f + Gᵀλ`); the Hessian operator too, when
    /// the problem has one.
    pub hessian: f64,
}

impl DerivativeCheck {
    /// The largest of the three.
    pub fn max(&self) -> f64 {
        self.gradient.max(self.jacobian).max(self.hessian)
    }
}

fn dense(m: &CsMat<f64>) -> Vec<Vec<f64>> {
    let mut d = vec![vec![0.0; m.cols()]; m.rows()];
    for (v, (i, j)) in m.iter() {
        d[i][j] += *v;
    }
    d
}

/// Check the user derivatives of `p` at `x` (with multipliers `lambda` for the Hessian) by
/// central differences with step `h · max(1, |x_j|)`. Meant for small problems: it forms
/// dense matrices.
pub fn check_derivatives(
    p: &dyn EqualityNlp,
    x: &[f64],
    lambda: &[f64],
    h: f64,
) -> DerivativeCheck {
    let (n, m) = (p.num_vars(), p.num_constraints());
    let rel = |a: f64, b: f64| (a - b).abs() / b.abs().max(1.0);
    let mut g = vec![0.0; n];
    p.gradient(x, &mut g);
    let jac = dense(&p.jacobian(x));
    let hess = dense(&p.hessian(x, lambda));
    let grad_l = |x: &[f64]| -> Vec<f64> {
        let mut gl = vec![0.0; n];
        p.gradient(x, &mut gl);
        let j = p.jacobian(x);
        for (v, (i, k)) in j.iter() {
            gl[k] += lambda[i] * v;
        }
        gl
    };
    let mut out = DerivativeCheck {
        gradient: 0.0,
        jacobian: 0.0,
        hessian: 0.0,
    };
    let (mut cp, mut cm) = (vec![0.0; m], vec![0.0; m]);
    let op = p.hessian_operator(x, lambda);
    let (mut e, mut col) = (vec![0.0; n], vec![0.0; n]);
    for k in 0..n {
        let step = h * x[k].abs().max(1.0);
        let (mut xp, mut xm) = (x.to_vec(), x.to_vec());
        xp[k] += step;
        xm[k] -= step;
        let fd = (p.objective(&xp) - p.objective(&xm)) / (2.0 * step);
        out.gradient = out.gradient.max(rel(g[k], fd));
        p.constraints(&xp, &mut cp);
        p.constraints(&xm, &mut cm);
        for i in 0..m {
            let fd = (cp[i] - cm[i]) / (2.0 * step);
            out.jacobian = out.jacobian.max(rel(jac[i][k], fd));
        }
        let (gp, gm) = (grad_l(&xp), grad_l(&xm));
        if let Some(op) = &op {
            e[k] = 1.0;
            op.apply(&e, &mut col);
            e[k] = 0.0;
        }
        for i in 0..n {
            let fd = (gp[i] - gm[i]) / (2.0 * step);
            out.hessian = out.hessian.max(rel(hess[i][k], fd));
            if op.is_some() {
                out.hessian = out.hessian.max(rel(col[i], fd));
            }
        }
    }
    out
}

/// Build a CSR matrix from triplets (duplicates summed).
pub fn csr_from_triplets(rows: usize, cols: usize, t: &[(usize, usize, f64)]) -> CsMat<f64> {
    let mut tri = TriMat::new((rows, cols));
    for &(i, j, v) in t {
        tri.add_triplet(i, j, v);
    }
    tri.to_csr()
}
