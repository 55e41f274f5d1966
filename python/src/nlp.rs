//! `mathprog.nlp.minimize`: an equality-constrained NLP whose functions are Python callables,
//! solved by the exact augmented Lagrangian with Newton–KKT steps (`solve nlp`'s method).
//!
//! The Python wrapper (`mathprog/nlp.py`) turns SciPy-style arguments into six callables with
//! fixed shapes: `fun(x) -> float`, `grad(x) -> (n,)`, `cons(x) -> (m,)`,
//! `jac(x) -> (rows, cols, values)`, and either `hess(x, λ) -> (rows, cols, values)` (the
//! Hessian of the Lagrangian, both triangles) or `hessp(x, λ, v) -> (n,)`. The first exception
//! a callable raises (or a wrong shape) stops the solve and is raised from `minimize`.

use crate::{common, observed, solve_error, to_json};
use mathprog::deps::sprs::CsMat;
use mathprog::prelude::StopToken;
use mathprog::problems::nlp::{EqualityNlp, HessianOperator, csr_from_triplets};
use numpy::{PyArray1, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use std::sync::Mutex;

/// The problem behind Python callables (see the module documentation).
struct PyNlp {
    n: usize,
    m: usize,
    x0: Vec<f64>,
    fun: Py<PyAny>,
    grad: Py<PyAny>,
    cons: Py<PyAny>,
    jac: Py<PyAny>,
    hess: Option<Py<PyAny>>,
    hessp: Option<Py<PyAny>>,
    /// The first error a callable raised; later calls return NaN without calling Python.
    error: Mutex<Option<PyErr>>,
    stop: StopToken,
}

/// A float vector returned by a callable, checked to have length `len`.
fn vector(out: &Bound<'_, PyAny>, what: &str, len: usize) -> PyResult<Vec<f64>> {
    let a: PyReadonlyArray1<'_, f64> = out
        .extract()
        .map_err(|_| PyValueError::new_err(format!("{what} must return a 1-D float array")))?;
    let v = a.as_slice()?;
    if v.len() != len {
        return Err(PyValueError::new_err(format!(
            "{what} returned {} values, expected {len}",
            v.len()
        )));
    }
    Ok(v.to_vec())
}

/// A sparse matrix returned as `(rows, cols, values)`, checked against its shape.
fn triplets(out: &Bound<'_, PyAny>, what: &str, shape: (usize, usize)) -> PyResult<CsMat<f64>> {
    let (r, c, v): (
        PyReadonlyArray1<'_, i64>,
        PyReadonlyArray1<'_, i64>,
        PyReadonlyArray1<'_, f64>,
    ) = out.extract().map_err(|_| {
        PyValueError::new_err(format!("{what} must give (rows, cols, values) arrays"))
    })?;
    let (r, c, v) = (r.as_slice()?, c.as_slice()?, v.as_slice()?);
    if r.len() != c.len() || r.len() != v.len() {
        return Err(PyValueError::new_err(format!(
            "{what}: rows, cols and values differ in length"
        )));
    }
    let mut t = Vec::with_capacity(r.len());
    for ((&i, &j), &x) in r.iter().zip(c).zip(v) {
        let inside = i >= 0 && j >= 0 && (i as usize) < shape.0 && (j as usize) < shape.1;
        if !inside {
            return Err(PyValueError::new_err(format!(
                "{what}: entry ({i}, {j}) outside a {} x {} matrix",
                shape.0, shape.1
            )));
        }
        t.push((i as usize, j as usize, x));
    }
    Ok(csr_from_triplets(shape.0, shape.1, &t))
}

impl PyNlp {
    /// Run `f` with the GIL unless a callable already failed; a failure is kept and stops the
    /// solver.
    fn call<T>(&self, f: impl FnOnce(Python<'_>) -> PyResult<T>) -> Option<T> {
        let mut err = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if err.is_some() {
            return None;
        }
        match Python::with_gil(f) {
            Ok(v) => Some(v),
            Err(e) => {
                *err = Some(e);
                self.stop.stop();
                None
            }
        }
    }

    fn array<'py>(py: Python<'py>, x: &[f64]) -> Bound<'py, PyArray1<f64>> {
        PyArray1::from_slice(py, x)
    }

    /// `out = what(args...)` as a vector of `out.len()`, NaN on failure.
    fn fill(&self, out: &mut [f64], what: &str, f: impl FnOnce(Python<'_>) -> PyResult<Py<PyAny>>) {
        let len = out.len();
        match self.call(|py| vector(f(py)?.bind(py), what, len)) {
            Some(v) => out.copy_from_slice(&v),
            None => out.fill(f64::NAN),
        }
    }

    /// A NaN matrix of the shape (after a failure: the solver stops on it).
    fn failed_matrix(shape: (usize, usize)) -> CsMat<f64> {
        csr_from_triplets(shape.0, shape.1, &[(0, 0, f64::NAN)])
    }
}

impl EqualityNlp for PyNlp {
    fn num_vars(&self) -> usize {
        self.n
    }
    fn num_constraints(&self) -> usize {
        self.m
    }
    fn x0(&self) -> Vec<f64> {
        self.x0.clone()
    }
    fn objective(&self, x: &[f64]) -> f64 {
        self.call(|py| {
            let out = self.fun.call1(py, (Self::array(py, x),))?;
            out.extract::<f64>(py)
                .map_err(|_| PyValueError::new_err("fun must return a float"))
        })
        .unwrap_or(f64::NAN)
    }
    fn gradient(&self, x: &[f64], g: &mut [f64]) {
        self.fill(g, "jac", |py| self.grad.call1(py, (Self::array(py, x),)));
    }
    fn constraints(&self, x: &[f64], out: &mut [f64]) {
        self.fill(out, "constraints", |py| {
            self.cons.call1(py, (Self::array(py, x),))
        });
    }
    fn jacobian(&self, x: &[f64]) -> CsMat<f64> {
        let shape = (self.m, self.n);
        self.call(|py| {
            let out = self.jac.call1(py, (Self::array(py, x),))?;
            triplets(out.bind(py), "the constraints' jac", shape)
        })
        .unwrap_or_else(|| Self::failed_matrix(shape))
    }
    fn hessian(&self, x: &[f64], lambda: &[f64]) -> CsMat<f64> {
        let shape = (self.n, self.n);
        let Some(hess) = &self.hess else {
            // Only the operator is offered (the solver then runs projected CG).
            return Self::failed_matrix(shape);
        };
        self.call(|py| {
            let out = hess.call1(py, (Self::array(py, x), Self::array(py, lambda)))?;
            triplets(out.bind(py), "hess", shape)
        })
        .unwrap_or_else(|| Self::failed_matrix(shape))
    }
    fn hessian_operator(&self, x: &[f64], lambda: &[f64]) -> Option<Box<dyn HessianOperator + '_>> {
        self.hessp.as_ref().map(|f| {
            Box::new(PyHessp {
                p: self,
                f,
                x: x.to_vec(),
                lambda: lambda.to_vec(),
            }) as Box<dyn HessianOperator + '_>
        })
    }
    fn name(&self) -> String {
        "python".into()
    }
}

/// `v ↦ hessp(x, λ, v)` at a fixed point.
struct PyHessp<'a> {
    p: &'a PyNlp,
    f: &'a Py<PyAny>,
    x: Vec<f64>,
    lambda: Vec<f64>,
}

impl HessianOperator for PyHessp<'_> {
    fn apply(&self, v: &[f64], out: &mut [f64]) {
        self.p.fill(out, "hessp", |py| {
            let args = (
                PyNlp::array(py, &self.x),
                PyNlp::array(py, &self.lambda),
                PyNlp::array(py, v),
            );
            self.f.call1(py, args)
        });
    }
}

/// `min f(x) s.t. c(x) = 0` from the wrapper's callables (see the module documentation);
/// `kkt` picks the KKT solver ("auto", "direct", "cg", "sketch"). Returns the JSON report.
#[pyfunction]
#[pyo3(signature = (x0, m, fun, grad, cons, jac, hess=None, hessp=None, tol=1e-8, kkt="auto",
    time_limit=None, max_iter=None, seed=1, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn nlp_minimize(
    py: Python<'_>,
    x0: Vec<f64>,
    m: usize,
    fun: Py<PyAny>,
    grad: Py<PyAny>,
    cons: Py<PyAny>,
    jac: Py<PyAny>,
    hess: Option<Py<PyAny>>,
    hessp: Option<Py<PyAny>>,
    tol: f64,
    kkt: &str,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::solvers::nlp::{NlpSettings, kkt::KktMethod, solve};
    if hess.is_none() && hessp.is_none() {
        return Err(PyValueError::new_err("hess or hessp is needed"));
    }
    let stop = StopToken::new();
    let mut s = NlpSettings::default();
    s.common = common(time_limit, max_iter, seed, threads, &stop);
    s.tol = tol;
    s.kkt = match (kkt, hess.is_some()) {
        ("auto", true) => KktMethod::Direct,
        ("auto", false) | ("cg", _) => KktMethod::Cg,
        ("direct", _) => KktMethod::Direct,
        ("sketch", _) => KktMethod::Block,
        (other, _) => {
            return Err(PyValueError::new_err(format!(
                "kkt must be 'auto', 'direct', 'cg' or 'sketch' (got {other:?})"
            )));
        }
    };
    if s.kkt != KktMethod::Cg && hess.is_none() {
        return Err(PyValueError::new_err(format!(
            "kkt={kkt:?} needs the Hessian as a matrix (hess); with Hessian-vector products \
             only, use kkt='cg'"
        )));
    }
    let p = PyNlp {
        n: x0.len(),
        m,
        x0,
        fun,
        grad,
        cons,
        jac,
        hess,
        hessp,
        error: Mutex::new(None),
        stop: stop.clone(),
    };
    let report = observed(py, &stop, progress, |obs| solve(&p, &s, obs))?;
    if let Some(e) = p.error.lock().unwrap_or_else(|e| e.into_inner()).take() {
        return Err(e);
    }
    to_json(&report.map_err(solve_error)?)
}
