//! Problems given as formulas ([`ExprNlp`]), and the Hock–Schittkowski equality-constrained
//! test set (Hock & Schittkowski, *Test Examples for Nonlinear Programming Codes*, 1981) read
//! from `hs_equality.json` (committed as `data/suites/nlp/hs_equality.json` and built into the library:
//! [`bundled_hs_set`]).

use super::expr::Expr;
use super::{EqualityNlp, csr_from_triplets};
use crate::error::{ProblemError, ReadError};
use sprs::CsMat;
use std::path::Path;

/// `min f(x) s.t. c_i(x) = 0` with `f` and `c_i` given as [`Expr`] formulas; the gradient,
/// Jacobian and Hessians are exact symbolic derivatives, built once.
#[derive(Debug, Clone)]
pub struct ExprNlp {
    name: String,
    n: usize,
    f: Expr,
    c: Vec<Expr>,
    x0: Vec<f64>,
    grad: Vec<Expr>,
    /// Non-zero Jacobian entries `(i, j, ∂c_i/∂x_j)`.
    jac: Vec<(usize, usize, Expr)>,
    /// Non-zero lower-triangle Hessian entries of `f`: `(j, k, ∂²f/∂x_j∂x_k)`, `j ≥ k`.
    hess_f: Vec<(usize, usize, Expr)>,
    /// The same for every constraint.
    hess_c: Vec<Vec<(usize, usize, Expr)>>,
}

fn lower_hessian(grad: &[Expr]) -> Vec<(usize, usize, Expr)> {
    let mut out = Vec::new();
    for (k, gk) in grad.iter().enumerate() {
        if gk.is_zero() {
            continue;
        }
        for (j, _) in grad.iter().enumerate().skip(k) {
            let h = gk.diff(j);
            if !h.is_zero() {
                out.push((j, k, h));
            }
        }
    }
    out
}

impl ExprNlp {
    /// A problem in `n` variables from formulas (see [`Expr::parse`]); `x0` is the start.
    pub fn new(
        name: &str,
        n: usize,
        objective: &str,
        constraints: &[&str],
        x0: Vec<f64>,
    ) -> Result<Self, ProblemError> {
        if x0.len() != n {
            return Err(ProblemError::Invalid(format!(
                "{name}: x0 has {} entries, expected n = {n}",
                x0.len()
            )));
        }
        if x0.iter().any(|v| !v.is_finite()) {
            return Err(ProblemError::Invalid(format!("{name}: x0 is not finite")));
        }
        let f = Expr::parse(objective, n)
            .map_err(|e| ProblemError::Invalid(format!("{name}: objective: {e}")))?;
        let c = constraints
            .iter()
            .enumerate()
            .map(|(i, t)| {
                Expr::parse(t, n).map_err(|e| {
                    ProblemError::Invalid(format!("{name}: constraint {}: {e}", i + 1))
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let grad: Vec<Expr> = (0..n).map(|k| f.diff(k)).collect();
        let mut jac = Vec::new();
        let mut hess_c = Vec::new();
        for (i, ci) in c.iter().enumerate() {
            let gi: Vec<Expr> = (0..n).map(|k| ci.diff(k)).collect();
            for (j, e) in gi.iter().enumerate() {
                if !e.is_zero() {
                    jac.push((i, j, e.clone()));
                }
            }
            hess_c.push(lower_hessian(&gi));
        }
        let hess_f = lower_hessian(&grad);
        Ok(ExprNlp {
            name: name.to_string(),
            n,
            f,
            c,
            x0,
            grad,
            jac,
            hess_f,
            hess_c,
        })
    }
}

impl EqualityNlp for ExprNlp {
    fn num_vars(&self) -> usize {
        self.n
    }
    fn num_constraints(&self) -> usize {
        self.c.len()
    }
    fn x0(&self) -> Vec<f64> {
        self.x0.clone()
    }
    fn objective(&self, x: &[f64]) -> f64 {
        self.f.eval(x)
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        for (gi, e) in g.iter_mut().zip(&self.grad) {
            *gi = e.eval(x);
        }
    }
    fn constraints(&self, x: &[f64], out: &mut [f64]) {
        for (o, e) in out.iter_mut().zip(&self.c) {
            *o = e.eval(x);
        }
    }
    fn jacobian(&self, x: &[f64]) -> CsMat<f64> {
        let t: Vec<_> = self
            .jac
            .iter()
            .map(|(i, j, e)| (*i, *j, e.eval(x)))
            .collect();
        csr_from_triplets(self.c.len(), self.n, &t)
    }
    fn hessian(&self, x: &[f64], lambda: &[f64]) -> CsMat<f64> {
        let mut t = Vec::new();
        let mut push = |j: usize, k: usize, v: f64| {
            t.push((j, k, v));
            if j != k {
                t.push((k, j, v));
            }
        };
        for (j, k, e) in &self.hess_f {
            push(*j, *k, e.eval(x));
        }
        for (hc, l) in self.hess_c.iter().zip(lambda) {
            if *l == 0.0 {
                continue;
            }
            for (j, k, e) in hc {
                push(*j, *k, l * e.eval(x));
            }
        }
        csr_from_triplets(self.n, self.n, &t)
    }
    fn name(&self) -> String {
        self.name.clone()
    }
}

/// A Hock–Schittkowski problem with its known solution.
#[derive(Debug, Clone)]
pub struct HsProblem {
    /// The problem (its name is e.g. `HS28`).
    pub nlp: ExprNlp,
    /// The known optimal value.
    pub f_star: f64,
    /// The known minimiser.
    pub x_star: Vec<f64>,
}

#[derive(serde::Deserialize)]
struct HsFile {
    problems: Vec<HsEntry>,
}

#[derive(serde::Deserialize)]
struct HsEntry {
    name: String,
    n: usize,
    m: usize,
    objective: String,
    constraints: Vec<String>,
    x0: Vec<f64>,
    f_star: f64,
    x_star: Vec<f64>,
}

/// 1-based line of the first occurrence of `needle` in `text` (0 if absent).
fn line_of(text: &str, needle: &str) -> usize {
    text.find(needle)
        .map_or(0, |pos| text[..pos].matches('\n').count() + 1)
}

/// Read the Hock–Schittkowski set from `hs_equality.json` (format in the shared data README):
/// errors name the file, the line and the problem.
pub fn read_hs_set(path: impl AsRef<Path>) -> Result<Vec<HsProblem>, ReadError> {
    let path = path.as_ref();
    let text = crate::io::read_text(path)?;
    parse_hs_set(&text, path)
}

/// The 19 equality-constrained Hock–Schittkowski problems (HS6, 7, 26, 27, 28, 39, 40, 42, 46,
/// 47, 48, 49, 50, 51, 52, 56, 77, 78, 79) with their optima, built into the library, so that no
/// file is needed. `data/suites/nlp/hs_equality.json` holds the same text.
///
/// ```
/// let set = mathprog_problems::nlp::hs::bundled_hs_set();
/// assert_eq!(set.len(), 19);
/// ```
pub fn bundled_hs_set() -> Vec<HsProblem> {
    // The committed file is checked by the tests: parsing it cannot fail.
    parse_hs_set(BUNDLED_HS, Path::new(BUNDLED_HS_NAME)).unwrap_or_default()
}

/// The name under which errors and reports refer to the built-in set.
pub const BUNDLED_HS_NAME: &str = "<built-in hs_equality.json>";

const BUNDLED_HS: &str = include_str!("../../../data/suites/nlp/hs_equality.json");

/// Parse a problem set in the format of `hs_equality.json`; `path` names the source in errors.
pub fn parse_hs_set(text: &str, path: &Path) -> Result<Vec<HsProblem>, ReadError> {
    let file: HsFile = serde_json::from_str(text)
        .map_err(|e| ReadError::parse(path, e.line(), format!("invalid JSON: {e}")))?;
    file.problems
        .into_iter()
        .map(|p| {
            let line = line_of(text, &format!("\"{}\"", p.name));
            if p.constraints.len() != p.m || p.x_star.len() != p.n {
                return Err(ReadError::parse(
                    path,
                    line,
                    format!(
                        "{}: m = {} and n = {} but {} constraints and {} entries in x_star",
                        p.name,
                        p.m,
                        p.n,
                        p.constraints.len(),
                        p.x_star.len()
                    ),
                ));
            }
            let cons: Vec<&str> = p.constraints.iter().map(String::as_str).collect();
            let nlp = ExprNlp::new(&p.name, p.n, &p.objective, &cons, p.x0)
                .map_err(|e| ReadError::parse(path, line, e.to_string()))?;
            Ok(HsProblem {
                nlp,
                f_star: p.f_star,
                x_star: p.x_star,
            })
        })
        .collect()
}
