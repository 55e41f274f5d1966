//! Equality-constrained quadratic programs `min ½xᵀQx + cᵀx + k s.t. Ax = b`, and the 2-D
//! Poisson optimal-control problem built on them.

use super::{EqualityNlp, csr_from_triplets};
use crate::error::ProblemError;
use sprs::CsMat;

/// `min ½xᵀQx + cᵀx + k s.t. Ax = b` (`Q` symmetric, both triangles stored).
#[derive(Debug, Clone)]
pub struct QuadraticNlp {
    name: String,
    q: CsMat<f64>,
    c: Vec<f64>,
    k: f64,
    a: CsMat<f64>,
    b: Vec<f64>,
    x0: Vec<f64>,
}

impl QuadraticNlp {
    /// A QP from triplets of `Q` (both triangles) and `A`; checks sizes and finiteness.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        name: &str,
        n: usize,
        q: &[(usize, usize, f64)],
        c: Vec<f64>,
        k: f64,
        a: &[(usize, usize, f64)],
        b: Vec<f64>,
        x0: Vec<f64>,
    ) -> Result<Self, ProblemError> {
        let m = b.len();
        if c.len() != n || x0.len() != n {
            return Err(ProblemError::Invalid(format!(
                "{name}: c and x0 need n = {n} entries (got {}, {})",
                c.len(),
                x0.len()
            )));
        }
        let bad_q = q
            .iter()
            .any(|&(i, j, v)| i >= n || j >= n || !v.is_finite());
        let bad_a = a
            .iter()
            .any(|&(i, j, v)| i >= m || j >= n || !v.is_finite());
        if bad_q || bad_a {
            return Err(ProblemError::Invalid(format!(
                "{name}: an entry of Q or A is out of range or not finite"
            )));
        }
        if c.iter().chain(&b).chain(&x0).any(|v| !v.is_finite()) || !k.is_finite() {
            return Err(ProblemError::Invalid(format!("{name}: data not finite")));
        }
        Ok(QuadraticNlp {
            name: name.to_string(),
            q: csr_from_triplets(n, n, q),
            c,
            k,
            a: csr_from_triplets(m, n, a),
            b,
            x0,
        })
    }
}

fn spmv(m: &CsMat<f64>, x: &[f64], out: &mut [f64]) {
    for (o, row) in out.iter_mut().zip(m.outer_iterator()) {
        *o = row.iter().map(|(j, v)| v * x[j]).sum();
    }
}

impl EqualityNlp for QuadraticNlp {
    fn num_vars(&self) -> usize {
        self.c.len()
    }
    fn num_constraints(&self) -> usize {
        self.b.len()
    }
    fn x0(&self) -> Vec<f64> {
        self.x0.clone()
    }
    fn objective(&self, x: &[f64]) -> f64 {
        let mut qx = vec![0.0; x.len()];
        spmv(&self.q, x, &mut qx);
        x.iter()
            .zip(&qx)
            .zip(&self.c)
            .map(|((xi, qi), ci)| xi * (0.5 * qi + ci))
            .sum::<f64>()
            + self.k
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        spmv(&self.q, x, g);
        for (gi, ci) in g.iter_mut().zip(&self.c) {
            *gi += ci;
        }
    }
    fn constraints(&self, x: &[f64], out: &mut [f64]) {
        spmv(&self.a, x, out);
        for (o, bi) in out.iter_mut().zip(&self.b) {
            *o -= bi;
        }
    }
    fn jacobian(&self, _x: &[f64]) -> CsMat<f64> {
        self.a.clone()
    }
    fn hessian(&self, _x: &[f64], _lambda: &[f64]) -> CsMat<f64> {
        self.q.clone()
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// The 2-D Poisson optimal-control problem on an `N × N` interior grid (the paper's PDE
/// benchmark): `min ½‖w − w_t‖² + (α/2)‖z‖² s.t. Δ_h w + z = 0`, `x = (w, z)`, `n = 2N²`,
/// `m = N²`, five-point Laplacian with zero Dirichlet boundary and `h = 2/(N + 1)`, target
/// `w_t(i, j) = sin(4 + s(i − c)) + cos(3 + s(j − c))`, `s = 0.1/√15`, `c = (N + 1)/2`,
/// cell `(i, j)` (1-based) at index `(i − 1) + N(j − 1)`; start `x₀ = 1`.
pub fn poisson_control(n_grid: usize, alpha: f64) -> Result<QuadraticNlp, ProblemError> {
    if n_grid == 0 || !(alpha > 0.0 && alpha.is_finite()) {
        return Err(ProblemError::Invalid(
            "Poisson control needs N >= 1 and alpha > 0".into(),
        ));
    }
    let nn = crate::limits::checked_size("the Poisson control grid", n_grid, n_grid)?;
    // The Laplacian (5 entries a row), the KKT matrix and the solvers' vectors.
    crate::limits::check_alloc("the Poisson control problem", nn, 256)?;
    let h = 2.0 / (n_grid as f64 + 1.0);
    let inv_h2 = 1.0 / (h * h);
    let (s, c) = (0.1 / 15f64.sqrt(), (n_grid as f64 + 1.0) / 2.0);
    let mut wt = vec![0.0; nn];
    for j in 1..=n_grid {
        for i in 1..=n_grid {
            wt[(i - 1) + n_grid * (j - 1)] =
                (4.0 + s * (i as f64 - c)).sin() + (3.0 + s * (j as f64 - c)).cos();
        }
    }
    let q: Vec<_> = (0..2 * nn)
        .map(|k| (k, k, if k < nn { 1.0 } else { alpha }))
        .collect();
    let mut lin = vec![0.0; 2 * nn];
    for (l, w) in lin.iter_mut().zip(&wt) {
        *l = -w;
    }
    let k = 0.5 * wt.iter().map(|w| w * w).sum::<f64>();
    let mut a = Vec::with_capacity(6 * nn);
    for j in 0..n_grid {
        for i in 0..n_grid {
            let row = i + n_grid * j;
            a.push((row, row, -4.0 * inv_h2));
            if i > 0 {
                a.push((row, row - 1, inv_h2));
            }
            if i + 1 < n_grid {
                a.push((row, row + 1, inv_h2));
            }
            if j > 0 {
                a.push((row, row - n_grid, inv_h2));
            }
            if j + 1 < n_grid {
                a.push((row, row + n_grid, inv_h2));
            }
            a.push((row, nn + row, 1.0));
        }
    }
    QuadraticNlp::new(
        &format!("poisson-control-{n_grid}"),
        2 * nn,
        &q,
        lin,
        k,
        &a,
        vec![0.0; nn],
        vec![1.0; 2 * nn],
    )
}
