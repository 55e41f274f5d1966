//! Python bindings of mathprog (module `mathprog._native`; the Python package `mathprog` wraps
//! it). Every solve runs with the GIL released on a worker thread while the calling thread
//! polls for signals: Ctrl-C stops the solver through its [`StopToken`], which returns the
//! best result so far with status `interrupted`, as the CLI does. Reports cross the boundary
//! as the JSON document the CLI's `--json` prints; errors as `ValueError` (bad input) or
//! `RuntimeError`; a panic inside a solver surfaces as `RuntimeError` (elsewhere as pyo3's
//! `PanicException`), never as an abort.
#![deny(missing_docs)]

use mathprog::prelude::{Common, Control, IterRecord, NoObserver, Observer, SolveError, StopToken};
use mathprog::problems::graph::Graph;
use mathprog::problems::sdp::MaxCutSdp;
use numpy::{
    PyArray1, PyArray2, PyArrayMethods, PyReadonlyArray1, PyReadonlyArray2, PyUntypedArrayMethods,
};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use std::time::Duration;

mod bilevel;
mod nlp;

fn value_error(e: impl std::fmt::Display) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn solve_error(e: SolveError) -> PyErr {
    match e {
        SolveError::InvalidInput(m) => PyValueError::new_err(m),
        other => PyRuntimeError::new_err(other.to_string()),
    }
}

/// The settings every call shares.
fn common(
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    stop: &StopToken,
) -> Common {
    let mut c = Common::default();
    c.time_limit = time_limit;
    c.max_iter = max_iter;
    c.seed = seed;
    c.threads = threads;
    c.stop = stop.clone();
    c
}

/// A progress callback: the Python callable gets a dict per iteration (`iteration`,
/// `elapsed`, `best`, `current`, `bound`, `residual` and the method's extra columns); returning
/// `False` stops the run (status `interrupted`), and an exception stops it and is raised.
struct Progress {
    cb: Option<Py<PyAny>>,
    error: Option<PyErr>,
}

impl Progress {
    fn new(cb: Option<Py<PyAny>>) -> Self {
        Progress { cb, error: None }
    }

    /// The callback's exception, if it raised one.
    fn check(&mut self) -> PyResult<()> {
        self.error.take().map_or(Ok(()), Err)
    }
}

impl Observer for Progress {
    fn on_iter(&mut self, rec: &IterRecord<'_>) -> Control {
        let Some(cb) = &self.cb else {
            return Control::Continue;
        };
        Python::with_gil(|py| {
            let call = || -> PyResult<bool> {
                let d = pyo3::types::PyDict::new(py);
                d.set_item("iteration", rec.iteration)?;
                d.set_item("elapsed", rec.elapsed)?;
                d.set_item("best", rec.best)?;
                d.set_item("current", rec.current)?;
                d.set_item("bound", rec.bound)?;
                d.set_item("residual", rec.residual)?;
                for (k, v) in rec.extra {
                    d.set_item(*k, *v)?;
                }
                let out = cb.call1(py, (d,))?;
                Ok(!out.bind(py).is(pyo3::types::PyBool::new(py, false)))
            };
            match call() {
                Ok(true) => Control::Continue,
                Ok(false) => Control::Stop,
                Err(e) => {
                    self.error = Some(e);
                    Control::Stop
                }
            }
        })
    }
}

/// Run `f` on a worker thread with the GIL released; while it runs, check for signals every
/// 50 ms, and on one (KeyboardInterrupt) stop the solver and return its result (the best so
/// far).
fn interruptible<T: Send>(
    py: Python<'_>,
    stop: &StopToken,
    f: impl FnOnce() -> T + Send,
) -> PyResult<T> {
    std::thread::scope(|scope| {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let worker = scope.spawn(move || {
            let out = f();
            let _ = tx.send(());
            out
        });
        let (mut interrupted, mut rx) = (None, rx);
        loop {
            // (The receiver moves in and out: it is `Send` but not `Sync`.)
            let waited;
            (waited, rx) = py.allow_threads(move || {
                let w = rx.recv_timeout(Duration::from_millis(50));
                (w, rx)
            });
            if !matches!(waited, Err(std::sync::mpsc::RecvTimeoutError::Timeout)) {
                break;
            }
            if interrupted.is_none()
                && let Err(e) = py.check_signals()
            {
                stop.stop();
                interrupted = Some(e);
            }
        }
        let out = worker
            .join()
            .map_err(|_| PyRuntimeError::new_err("the solver panicked"))?;
        // A KeyboardInterrupt returns the interrupted result; other signal errors re-raise.
        match interrupted {
            Some(e) if !e.is_instance_of::<pyo3::exceptions::PyKeyboardInterrupt>(py) => Err(e),
            _ => Ok(out),
        }
    })
}

/// [`interruptible`] with the progress callback as the solver's observer; the callback's
/// exception, if it raised one, is the result.
fn observed<T: Send>(
    py: Python<'_>,
    stop: &StopToken,
    progress: Option<Py<PyAny>>,
    f: impl FnOnce(&mut Progress) -> T + Send,
) -> PyResult<T> {
    let mut obs = Progress::new(progress);
    let out = interruptible(py, stop, || f(&mut obs))?;
    obs.check()?;
    Ok(out)
}

fn to_json(v: &impl serde::Serialize) -> PyResult<String> {
    serde_json::to_string(v).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The triples `(rows[k], cols[k], values[k])`, checked: one length, indices in `0..n`, finite
/// values (the problem constructors check the rest: repeated pairs, self loops).
fn triples(
    n: usize,
    rows: &PyReadonlyArray1<'_, i64>,
    cols: &PyReadonlyArray1<'_, i64>,
    values: &PyReadonlyArray1<'_, f64>,
) -> PyResult<Vec<(usize, usize, f64)>> {
    let (r, c, w) = (rows.as_slice()?, cols.as_slice()?, values.as_slice()?);
    if r.len() != c.len() || r.len() != w.len() {
        return Err(value_error(format!(
            "rows, cols and values must have one length (got {}, {}, {})",
            r.len(),
            c.len(),
            w.len()
        )));
    }
    let mut out = Vec::with_capacity(r.len());
    for (k, ((&u, &v), &x)) in r.iter().zip(c).zip(w).enumerate() {
        if u < 0 || v < 0 || u as usize >= n || v as usize >= n {
            return Err(value_error(format!(
                "entry {k}: index ({u}, {v}) outside 0..{n}"
            )));
        }
        if !x.is_finite() {
            return Err(value_error(format!("entry {k}: value {x} is not finite")));
        }
        out.push((u as usize, v as usize, x));
    }
    Ok(out)
}

/// The graph with `n` vertices and the edges `(rows[k], cols[k], weights[k])`, checked.
fn graph(
    n: usize,
    rows: &PyReadonlyArray1<'_, i64>,
    cols: &PyReadonlyArray1<'_, i64>,
    weights: &PyReadonlyArray1<'_, f64>,
) -> PyResult<Graph> {
    Graph::from_edges(n, &triples(n, rows, cols, weights)?).map_err(value_error)
}

/// The MaxCut SDP `max ¼⟨L, X⟩, diag X = 1, X ⪰ 0` of the graph with `n` vertices and the
/// edges `(rows[k], cols[k], weights[k])` (each once); returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (n, rows, cols, weights, tol=1e-4, time_limit=None, max_iter=None,
    seed=1, threads=None, precondition=false, gw_trials=64, progress=None))]
#[allow(clippy::too_many_arguments)]
fn maxcut_sdp(
    py: Python<'_>,
    n: usize,
    rows: PyReadonlyArray1<'_, i64>,
    cols: PyReadonlyArray1<'_, i64>,
    weights: PyReadonlyArray1<'_, f64>,
    tol: f64,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    precondition: bool,
    gw_trials: usize,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::solvers::sdp::maxcut::{MaxCutSdpSettings, solve};
    let g = graph(n, &rows, &cols, &weights)?;
    let p = MaxCutSdp::new(g);
    let stop = StopToken::new();
    let mut s = MaxCutSdpSettings::default();
    s.common = common(time_limit, max_iter, seed, threads, &stop);
    s.tol = tol;
    s.precondition = precondition;
    s.rounding_trials = gw_trials;
    let report = observed(py, &stop, progress, |obs| solve(&p, &s, obs))?;
    to_json(&report.map_err(solve_error)?)
}

/// Maximum cut of the graph by MCPG (Monte Carlo policy gradient), `time_limit` seconds
/// (default 10) or `stall_rounds` rounds without improvement; with `bound` the certified
/// MaxCut SDP bound first (half the time), in the report's `bound`. Returns the JSON report.
#[pyfunction]
#[pyo3(signature = (n, rows, cols, weights, time_limit=10.0, max_iter=None, seed=1,
    threads=None, target=None, bound=false, stall_rounds=Some(2000), progress=None))]
#[allow(clippy::too_many_arguments)]
fn maxcut(
    py: Python<'_>,
    n: usize,
    rows: PyReadonlyArray1<'_, i64>,
    cols: PyReadonlyArray1<'_, i64>,
    weights: PyReadonlyArray1<'_, f64>,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    target: Option<f64>,
    bound: bool,
    stall_rounds: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::problems::maxcut::MaxCut;
    use mathprog::solvers::binary::mcpg::{McpgSettings, solve};
    use mathprog::solvers::sdp::maxcut as sdp_maxcut;
    let g = graph(n, &rows, &cols, &weights)?;
    let stop = StopToken::new();
    let upper = if bound {
        let mut ss = sdp_maxcut::MaxCutSdpSettings::default();
        ss.common = common(time_limit.map(|t| 0.5 * t), None, seed, threads, &stop);
        ss.rounding_trials = 0;
        let p = MaxCutSdp::new(g.clone());
        let r = interruptible(py, &stop, || sdp_maxcut::solve(&p, &ss, &mut NoObserver))?;
        let r = r.map_err(solve_error)?;
        Some((r.bound.unwrap_or(f64::INFINITY), r.elapsed))
    } else {
        None
    };
    let p = MaxCut::new(g);
    let mut s = McpgSettings::default();
    let left = time_limit.map(|t| (t - upper.map_or(0.0, |u| u.1)).max(0.0));
    s.common = common(left, max_iter, seed, threads, &stop);
    s.common.target = target;
    s.stall_rounds = stall_rounds;
    let report = observed(py, &stop, progress, |obs| solve(&p, &s, obs))?;
    let mut report = report.map_err(solve_error)?;
    if let Some((u, _)) = upper {
        report.bound = Some(u);
    }
    to_json(&report)
}

/// Entropic OT between the histograms `a`, `b` with the cost matrix `m` (`n × m`) and the
/// regularisation `reg`, by `method` ("sns" or "sinkhorn") to the L1 marginal violation
/// `tol`; returns the plan (`n × m`, row-major) and the JSON report.
#[pyfunction]
#[pyo3(signature = (a, b, cost, reg, method="sns", tol=1e-9, max_iter=None, time_limit=None,
    threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn ot_dense<'py>(
    py: Python<'py>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    cost: PyReadonlyArray2<'py, f64>,
    reg: f64,
    method: &str,
    tol: f64,
    max_iter: Option<u64>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Bound<'py, PyArray2<f64>>, String)> {
    use mathprog::problems::ot::OtProblem;
    let (n, m) = (a.len(), b.len());
    let shape = cost.shape();
    if shape != [n, m] {
        return Err(value_error(format!(
            "M must have shape ({n}, {m}) for a of length {n} and b of length {m} (got {shape:?})"
        )));
    }
    // (A C-contiguous matrix is read in place; any other layout is copied once.)
    let c: Vec<f64> = match cost.as_slice() {
        Ok(s) => s.to_vec(),
        Err(_) => cost.as_array().iter().copied().collect(),
    };
    let p = OtProblem::from_row_major(a.as_slice()?.to_vec(), b.as_slice()?.to_vec(), c)
        .map_err(value_error)?;
    let (plan, _, text) = run_ot(
        py, &p, true, reg, method, tol, max_iter, time_limit, threads, progress,
    )?;
    Ok((plan.expect("plan requested"), text))
}

/// Entropic OT between the point clouds `xs` (`n × d`) and `ys` (`m × d`) with weights `a`,
/// `b` and the ground cost `metric` ("sqeuclidean", "euclidean", "cityblock", "minkowski"
/// with `p`): the costs are formed here from the coordinates, never passed from Python;
/// with `online` (default: when the cost matrix would take more than 1 GB) they are computed
/// on the fly and never stored. Returns the plan when `plan`, the transport cost `⟨C, P⟩`
/// and the JSON report.
#[pyfunction]
#[pyo3(signature = (xs, ys, a, b, reg, metric="sqeuclidean", p=2.0, plan=true, method="sns",
    tol=1e-9, max_iter=None, time_limit=None, threads=None, progress=None, online=None))]
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn ot_points<'py>(
    py: Python<'py>,
    xs: PyReadonlyArray2<'py, f64>,
    ys: PyReadonlyArray2<'py, f64>,
    a: PyReadonlyArray1<'py, f64>,
    b: PyReadonlyArray1<'py, f64>,
    reg: f64,
    metric: &str,
    p: f64,
    plan: bool,
    method: &str,
    tol: f64,
    max_iter: Option<u64>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
    online: Option<bool>,
) -> PyResult<(Option<Bound<'py, PyArray2<f64>>>, f64, String)> {
    use mathprog::problems::ot::{GroundCost, OtProblem};
    let ground = match metric {
        "sqeuclidean" => GroundCost::SqEuclidean,
        "euclidean" => GroundCost::Euclidean,
        "cityblock" => GroundCost::Lp(1.0),
        "minkowski" => GroundCost::Lp(p),
        other => {
            return Err(value_error(format!(
                "metric must be 'sqeuclidean', 'euclidean', 'cityblock' or 'minkowski' (got {other:?})"
            )));
        }
    };
    let (sx, sy) = (xs.shape(), ys.shape());
    if sx[1] != sy[1] || sx[0] != a.len() || sy[0] != b.len() {
        return Err(value_error(format!(
            "X_s ({}, {}) and X_t ({}, {}) need one dimension and as many rows as a ({}) and b ({})",
            sx[0],
            sx[1],
            sy[0],
            sy[1],
            a.len(),
            b.len()
        )));
    }
    let rows = |x: &PyReadonlyArray2<'py, f64>| -> Vec<Vec<f64>> {
        x.as_array()
            .rows()
            .into_iter()
            .map(|r| r.to_vec())
            .collect()
    };
    let (px, py_) = (rows(&xs), rows(&ys));
    if px.iter().chain(&py_).flatten().any(|v| !v.is_finite()) {
        return Err(value_error("the points have NaN or infinite coordinates"));
    }
    let (wa, wb) = (a.as_slice()?.to_vec(), b.as_slice()?.to_vec());
    let cells = (px.len() as f64) * (py_.len() as f64);
    if online.unwrap_or(cells * 8.0 > (1u64 << 30) as f64) {
        let prob = mathprog::problems::ot::cloud::CloudOt::from_rows(&px, wa, &py_, wb, ground)
            .map_err(value_error)?;
        drop((px, py_));
        return run_cloud(
            py, &prob, plan, reg, method, tol, max_iter, time_limit, threads, progress,
        );
    }
    let prob = OtProblem::from_points(&px, wa, &py_, wb, ground).map_err(value_error)?;
    run_ot(
        py, &prob, plan, reg, method, tol, max_iter, time_limit, threads, progress,
    )
}

/// [`run_ot`] for point clouds with costs on the fly: the plan (dense, when asked and when
/// it fits in 1 GB), the transport cost and the report.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn run_cloud<'py>(
    py: Python<'py>,
    p: &mathprog::problems::ot::cloud::CloudOt,
    want_plan: bool,
    reg: f64,
    method: &str,
    tol: f64,
    max_iter: Option<u64>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Option<Bound<'py, PyArray2<f64>>>, f64, String)> {
    use mathprog::solvers::ot::cloud;
    let (n, m) = (p.n(), p.m());
    if want_plan && (n as f64) * (m as f64) * 8.0 > (1u64 << 30) as f64 {
        return Err(value_error(format!(
            "the {n} x {m} plan would take more than 1 GB: use empirical_sinkhorn2 (the cost) \
             or log=True for the potentials"
        )));
    }
    let stop = StopToken::new();
    let s = ot_settings(
        reg,
        method,
        tol,
        common(time_limit, max_iter, 1, threads, &stop),
    )?;
    let report = observed(py, &stop, progress, |obs| cloud::solve(p, &s, obs))?;
    let report = report.map_err(solve_error)?;
    let plan = if want_plan {
        let sol = &report.solution;
        let mut dense = Vec::with_capacity(n * m);
        for i in 0..n {
            for j in 0..m {
                let z = (sol.f[i] + sol.g[j] - p.cost(i, j)) / reg;
                dense.push(if z > -60.0 { z.exp() } else { 0.0 });
            }
        }
        Some(PyArray1::from_vec(py, dense).reshape([n, m])?)
    } else {
        None
    };
    Ok((plan, report.stats.transport_cost, to_json(&report)?))
}

/// The OT settings of the entry points.
fn ot_settings(
    reg: f64,
    method: &str,
    tol: f64,
    c: Common,
) -> PyResult<mathprog::solvers::ot::OtSettings> {
    let mut s = mathprog::solvers::ot::OtSettings::default();
    s.common = c;
    s.reg = reg;
    s.tol = tol;
    s.method = method.parse().map_err(value_error)?;
    Ok(s)
}

/// Solve an OT problem: the plan (`n × m`) when `want_plan`, the transport cost and the JSON
/// report.
#[allow(clippy::too_many_arguments, clippy::type_complexity)]
fn run_ot<'py>(
    py: Python<'py>,
    p: &mathprog::problems::ot::OtProblem,
    want_plan: bool,
    reg: f64,
    method: &str,
    tol: f64,
    max_iter: Option<u64>,
    time_limit: Option<f64>,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<(Option<Bound<'py, PyArray2<f64>>>, f64, String)> {
    use mathprog::solvers::ot::solve;
    let stop = StopToken::new();
    let s = ot_settings(
        reg,
        method,
        tol,
        common(time_limit, max_iter, 1, threads, &stop),
    )?;
    let report = observed(py, &stop, progress, |obs| solve(p, &s, obs))?;
    let report = report.map_err(solve_error)?;
    let dense = report.solution.plan(p);
    let cost = p.transport_cost(&dense);
    let plan = if want_plan {
        Some(PyArray1::from_vec(py, dense).reshape([p.n(), p.m()])?)
    } else {
        None
    };
    Ok((plan, cost, to_json(&report)?))
}

/// `min xᵀQx` over `x ∈ {0,1}ⁿ` (`spin`: over `{−1,1}ⁿ`; `maximize`: max) by MCPG, with
/// `Q_ij = Q_ji = values[k]` for the entries `(rows[k], cols[k])` (each unordered pair once).
/// Returns the JSON report (its solution in spins: `+1 ↦ 1`, `−1 ↦ 0` in the 0/1 form).
#[pyfunction]
#[pyo3(signature = (n, rows, cols, values, spin=false, maximize=false, time_limit=10.0,
    max_iter=None, seed=1, threads=None, target=None, stall_rounds=Some(2000), progress=None))]
#[allow(clippy::too_many_arguments)]
fn qubo(
    py: Python<'_>,
    n: usize,
    rows: PyReadonlyArray1<'_, i64>,
    cols: PyReadonlyArray1<'_, i64>,
    values: PyReadonlyArray1<'_, f64>,
    spin: bool,
    maximize: bool,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    target: Option<f64>,
    stall_rounds: Option<u64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::prelude::Sense;
    use mathprog::problems::qubo::{Domain, Qubo};
    use mathprog::solvers::binary::mcpg::{McpgSettings, solve};
    let entries = triples(n, &rows, &cols, &values)?;
    let domain = if spin { Domain::Spin } else { Domain::ZeroOne };
    let sense = if maximize {
        Sense::Maximize
    } else {
        Sense::Minimize
    };
    let p = Qubo::new(n, entries, domain, sense).map_err(value_error)?;
    let stop = StopToken::new();
    let mut s = McpgSettings::default();
    s.common = common(time_limit, max_iter, seed, threads, &stop);
    s.common.target = target;
    s.stall_rounds = stall_rounds;
    let report = observed(py, &stop, progress, |obs| solve(&p, &s, obs))?;
    let mut report = report.map_err(solve_error)?;
    // The exact value of the assignment from the entries (as `solve qubo` reports it).
    report.objective = p.value(&report.solution);
    to_json(&report)
}

/// Weighted (partial) MaxSAT of a DIMACS CNF/WCNF file (old or 2022 format) by MCPG,
/// `time_limit` seconds (default 10). Returns the JSON report with `maxsat`: the value of the
/// returned assignment (cost, satisfied weight, violated hard clauses).
#[pyfunction]
#[pyo3(signature = (path, time_limit=10.0, max_iter=None, seed=1, threads=None, target=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn maxsat_file(
    py: Python<'_>,
    path: std::path::PathBuf,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    target: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let sat = mathprog::problems::io::dimacs::read_sat(&path).map_err(value_error)?;
    let p = sat
        .into_problem()
        .map_err(|e| value_error(format!("{}: {e}", path.display())))?;
    let c = common(time_limit, max_iter, seed, threads, &StopToken::new());
    run_maxsat(py, &p, c, target, progress)
}

/// Weighted (partial) MaxSAT of in-memory clauses (DIMACS literals over variables
/// `1..=num_vars`); `weights[k]` is the soft weight of clause `k`, `None` for a hard clause.
#[pyfunction]
#[pyo3(signature = (num_vars, clauses, weights, time_limit=10.0, max_iter=None, seed=1,
    threads=None, target=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn maxsat_clauses(
    py: Python<'_>,
    num_vars: usize,
    clauses: Vec<Vec<i32>>,
    weights: Vec<Option<u64>>,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    target: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::problems::sat::{Clause, MaxSat};
    if clauses.len() != weights.len() {
        return Err(value_error(format!(
            "{} clauses but {} weights",
            clauses.len(),
            weights.len()
        )));
    }
    let cl = clauses
        .into_iter()
        .zip(weights)
        .map(|(lits, w)| match w {
            Some(w) => Clause::soft(w, lits),
            None => Clause::hard(lits),
        })
        .collect();
    let p = MaxSat::new(num_vars, cl).map_err(value_error)?;
    let c = common(time_limit, max_iter, seed, threads, &StopToken::new());
    run_maxsat(py, &p, c, target, progress)
}

/// MCPG on a MaxSAT instance with the `maxsat` settings; the report gets `maxsat`, the value
/// of the returned assignment.
fn run_maxsat(
    py: Python<'_>,
    p: &mathprog::problems::sat::MaxSat,
    c: Common,
    target: Option<f64>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::solvers::binary::mcpg::{McpgSettings, solve};
    let mut s = McpgSettings::maxsat();
    let stop = c.stop.clone();
    s.common = c;
    s.common.target = target;
    let report = observed(py, &stop, progress, |obs| solve(p, &s, obs))?;
    let report = report.map_err(solve_error)?;
    let mut v =
        serde_json::to_value(&report).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    let value = serde_json::to_value(p.evaluate(&report.solution))
        .map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    v["maxsat"] = value;
    to_json(&v)
}

/// The matrix game `min_x max_y xᵀAy` over the simplices (`a`: `A` row-major, `m × n`) by
/// the restarted Halpern method, to the duality gap `gap_tol`. Returns the JSON report.
#[pyfunction]
#[pyo3(signature = (a, m, n, gap_tol=1e-6, time_limit=None, max_iter=None, seed=1,
    threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn game(
    py: Python<'_>,
    a: PyReadonlyArray1<'_, f64>,
    m: usize,
    n: usize,
    gap_tol: f64,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::problems::game::MatrixGame;
    use mathprog::solvers::monotone::{GameSettings, solve_game};
    let g = MatrixGame::from_row_major("A", m, n, a.as_slice()?.to_vec()).map_err(value_error)?;
    let stop = StopToken::new();
    let mut s = GameSettings::default();
    s.monotone.common = common(time_limit, max_iter, seed, threads, &stop);
    s.gap_tol = Some(gap_tol);
    let report = observed(py, &stop, progress, |obs| solve_game(&g, &s, obs))?;
    to_json(&report.map_err(solve_error)?)
}

/// A semidefinite program in SDPA sparse format (SDPLIB's `.dat-s`): `method` auto, ipm or
/// low-rank; returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (path, tol=1e-6, method="auto", time_limit=None, max_iter=None, seed=1,
    threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sdp_file(
    py: Python<'_>,
    path: std::path::PathBuf,
    tol: f64,
    method: &str,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let p = mathprog::problems::io::sdpa::read_sdpa(&path).map_err(value_error)?;
    let c = common(time_limit, max_iter, seed, threads, &StopToken::new());
    run_sdp(py, &p, c, tol, method, progress)
}

/// Upper-triangle entries `(matrix, block, i, j, value)` of block matrices, as arrays.
type BlockEntries<'py> = (
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, i64>,
    PyReadonlyArray1<'py, f64>,
);

/// The standard-form SDP `min ⟨C, X⟩ s.t. ⟨A_k, X⟩ = b_k, X ⪰ 0` with the block structure
/// `blocks` (`(dense, size)`: a PSD block or a diagonal, non-negative one) and the entries
/// `(matrix, block, i, j, value)` (matrix 0 is `C`, `k + 1` is `A_k`; either triangle, each
/// off-diagonal pair once). Returns the report as JSON.
#[pyfunction]
#[pyo3(signature = (blocks, entries, b, tol=1e-6, method="auto", time_limit=None,
    max_iter=None, seed=1, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
fn sdp_blocks(
    py: Python<'_>,
    blocks: Vec<(bool, usize)>,
    entries: BlockEntries<'_>,
    b: Vec<f64>,
    tol: f64,
    method: &str,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::problems::sdp::{Block, Entry, SdpProblem, SymBlockMatrix};
    let blocks: Vec<Block> = blocks
        .into_iter()
        .map(|(dense, n)| {
            if dense {
                Block::Dense(n)
            } else {
                Block::Diagonal(n)
            }
        })
        .collect();
    let (mat, blk, ii, jj, vv) = (
        entries.0.as_slice()?,
        entries.1.as_slice()?,
        entries.2.as_slice()?,
        entries.3.as_slice()?,
        entries.4.as_slice()?,
    );
    let len = mat.len();
    if [blk.len(), ii.len(), jj.len(), vv.len()]
        .iter()
        .any(|l| *l != len)
    {
        return Err(value_error("the entry arrays differ in length"));
    }
    let mut raw: Vec<Vec<Entry>> = vec![Vec::new(); b.len() + 1];
    for k in 0..len {
        let idx = [mat[k], blk[k], ii[k], jj[k]];
        if idx.iter().any(|v| *v < 0) || mat[k] as usize > b.len() {
            return Err(value_error(format!(
                "entry {k}: index out of range {idx:?}"
            )));
        }
        raw[mat[k] as usize].push(Entry {
            block: blk[k] as usize,
            i: ii[k] as usize,
            j: jj[k] as usize,
            v: vv[k],
        });
    }
    let mut mats = Vec::with_capacity(raw.len());
    for (k, r) in raw.into_iter().enumerate() {
        let name = if k == 0 {
            "C".to_string()
        } else {
            format!("A[{}]", k - 1)
        };
        mats.push(
            SymBlockMatrix::new(&blocks, r).map_err(|e| value_error(format!("{name}: {e}")))?,
        );
    }
    let c = mats.remove(0);
    let p = SdpProblem::new(blocks, c, mats, b).map_err(value_error)?;
    let cm = common(time_limit, max_iter, seed, threads, &StopToken::new());
    run_sdp(py, &p, cm, tol, method, progress)
}

/// Solve an SDP with `method` ("auto", "ipm", "low-rank").
fn run_sdp(
    py: Python<'_>,
    p: &mathprog::problems::sdp::SdpProblem,
    c: Common,
    tol: f64,
    method: &str,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    use mathprog::solvers::sdp::{SdpMethod, alm::AlmSettings, solve};
    let mut s = AlmSettings::default();
    let stop = c.stop.clone();
    s.common = c;
    s.tol = tol;
    s.method = match method {
        "auto" => SdpMethod::Auto,
        "ipm" => SdpMethod::Ipm,
        "low-rank" => SdpMethod::Alm,
        other => {
            return Err(value_error(format!(
                "method must be 'auto', 'ipm' or 'low-rank' (got {other:?})"
            )));
        }
    };
    let report = observed(py, &stop, progress, |obs| solve(p, &s, obs))?;
    to_json(&report.map_err(solve_error)?)
}

/// The native module.
#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(maxcut, m)?)?;
    m.add_function(wrap_pyfunction!(maxcut_sdp, m)?)?;
    m.add_function(wrap_pyfunction!(sdp_file, m)?)?;
    m.add_function(wrap_pyfunction!(sdp_blocks, m)?)?;
    m.add_function(wrap_pyfunction!(ot_dense, m)?)?;
    m.add_function(wrap_pyfunction!(ot_points, m)?)?;
    m.add_function(wrap_pyfunction!(qubo, m)?)?;
    m.add_function(wrap_pyfunction!(maxsat_file, m)?)?;
    m.add_function(wrap_pyfunction!(maxsat_clauses, m)?)?;
    m.add_function(wrap_pyfunction!(nlp::nlp_minimize, m)?)?;
    m.add_function(wrap_pyfunction!(bilevel::bilevel, m)?)?;
    m.add_function(wrap_pyfunction!(game, m)?)?;
    Ok(())
}
