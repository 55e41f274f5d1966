//! `mathprog.bilevel`: the built-in bilevel problems (`solve bilevel`'s classes) by the
//! value-function penalty method (Kwon, Kwon, Wright & Nowak, ICLR 2024), implicit
//! differentiation or the stochastic penalty method. The report's `stats` carries what the
//! CLI's summary shows about the answer (distance to `x*`, `λ`, flagged samples, ...).

use crate::{common, observed, solve_error, value_error};
use mathprog::prelude::StopToken;
use mathprog::problems::bilevel::Bilevel;
use mathprog::problems::bilevel::hyperclean::{HyperCleaning, Labelled};
use mathprog::problems::bilevel::nonunique::NonUniqueToy;
use mathprog::problems::bilevel::quadratic::QuadraticBilevel;
use mathprog::problems::bilevel::ridge::RidgeBilevel;
use mathprog::solvers::bilevel::{BilevelMethod, BilevelReport, BilevelSettings, solve};
use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde_json::{Value, json};

/// Training and validation sets: `(d, X_train row-major, y_train, X_val row-major, y_val)`.
type Sets<'py> = (
    usize,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
    PyReadonlyArray1<'py, f64>,
);

/// [`Sets`] copied out of the arrays.
struct Owned {
    d: usize,
    xt: Vec<f64>,
    yt: Vec<f64>,
    xv: Vec<f64>,
    yv: Vec<f64>,
}

impl Owned {
    fn new(s: &Sets<'_>) -> PyResult<Self> {
        Ok(Owned {
            d: s.0,
            xt: s.1.as_slice()?.to_vec(),
            yt: s.2.as_slice()?.to_vec(),
            xv: s.3.as_slice()?.to_vec(),
            yv: s.4.as_slice()?.to_vec(),
        })
    }
}

fn dist(x: &[f64], y: impl Fn(usize) -> f64) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, v)| (v - y(i)) * (v - y(i)))
        .sum::<f64>()
        .sqrt()
}

/// The problem `kind` ("quadratic", "nonunique", "ridge", "hyperclean") and what its
/// answer's facts are computed from.
enum Problem {
    Quadratic(QuadraticBilevel),
    Nonunique(NonUniqueToy),
    Ridge(RidgeBilevel),
    Hyperclean(HyperCleaning),
}

impl Problem {
    fn build(
        kind: &str,
        size: usize,
        dim: usize,
        seed: u64,
        c: f64,
        sets: Option<Sets<'_>>,
    ) -> PyResult<Self> {
        Ok(match (kind, sets) {
            ("quadratic", _) => Problem::Quadratic(
                QuadraticBilevel::generate(size, dim, 0.1, seed).map_err(value_error)?,
            ),
            ("nonunique", _) => {
                let x0 = (0..size)
                    .map(|i| 3.0 * ((i as f64 + seed as f64) * 1.7).sin())
                    .collect();
                Problem::Nonunique(NonUniqueToy::new(x0).map_err(value_error)?)
            }
            ("ridge", Some(s)) => {
                let Owned { d, xt, yt, xv, yv } = Owned::new(&s)?;
                Problem::Ridge(RidgeBilevel::new(d, &xt, &yt, &xv, &yv, 0.0).map_err(value_error)?)
            }
            ("hyperclean", Some(s)) => {
                let Owned { d, xt, yt, xv, yv } = Owned::new(&s)?;
                let (train, val) = (Labelled { x: xt, y: yt, d }, Labelled { x: xv, y: yv, d });
                Problem::Hyperclean(HyperCleaning::new(train, val, c).map_err(value_error)?)
            }
            (other, _) => return Err(value_error(format!("unknown bilevel problem {other:?}"))),
        })
    }

    fn as_dyn(&self) -> &dyn Bilevel {
        match self {
            Problem::Quadratic(p) => p,
            Problem::Nonunique(p) => p,
            Problem::Ridge(p) => p,
            Problem::Hyperclean(p) => p,
        }
    }

    /// What the CLI's summary reports about the answer.
    fn facts(&self, r: &BilevelReport, sigma: f64) -> Value {
        let x = &r.solution.x;
        match self {
            Problem::Quadratic(p) => {
                let (xs, xsig) = (p.x_star(), p.x_sigma(sigma));
                json!({
                    "x_star_distance": dist(x, |i| xs[i]),
                    "penalty_bias": dist(&xsig, |i| xs[i]),
                })
            }
            Problem::Nonunique(_) => json!({ "x_star_distance": dist(x, |_| 1.0) }),
            Problem::Ridge(p) => json!({
                "lambda": x[0].exp(),
                "validation_loss": p.validation_loss(x[0]),
            }),
            Problem::Hyperclean(p) => {
                let flagged = p.flagged(x);
                json!({
                    "flagged_samples": flagged.iter().filter(|f| **f).count(),
                    "flagged": flagged,
                })
            }
        }
    }
}

/// A built-in bilevel problem: `kind` "quadratic" (`size` = dim x, `dim` = dim y, generated
/// from `seed`) or "nonunique" (`size` = dim), or "ridge"/"hyperclean" on the training and
/// validation sets `sets`; `method` "penalty", "aid" or "stochastic". Returns the JSON report
/// with the problem's facts in `stats`.
#[pyfunction]
#[pyo3(signature = (kind, size=5, dim=8, sets=None, c=1e-3, method="penalty", sigma=1e-3,
    tol=1e-6, max_inner=20000, step=None, sigma0=None, batch=32, time_limit=None,
    max_iter=None, seed=1, threads=None, progress=None))]
#[allow(clippy::too_many_arguments)]
pub fn bilevel(
    py: Python<'_>,
    kind: &str,
    size: usize,
    dim: usize,
    sets: Option<Sets<'_>>,
    c: f64,
    method: &str,
    sigma: f64,
    tol: f64,
    max_inner: usize,
    step: Option<f64>,
    sigma0: Option<f64>,
    batch: usize,
    time_limit: Option<f64>,
    max_iter: Option<u64>,
    seed: u64,
    threads: Option<usize>,
    progress: Option<Py<PyAny>>,
) -> PyResult<String> {
    let prob = Problem::build(kind, size, dim, seed, c, sets)?;
    let stop = StopToken::new();
    let mut s = BilevelSettings::default();
    s.common = common(time_limit, max_iter, seed, threads, &stop);
    (s.sigma, s.tol, s.max_inner, s.step0, s.sigma0) = (sigma, tol, max_inner, step, sigma0);
    s.method = match method {
        "penalty" => BilevelMethod::Penalty,
        "aid" => BilevelMethod::Aid,
        "stochastic" => BilevelMethod::Stochastic { batch },
        other => {
            return Err(value_error(format!(
                "method must be 'penalty', 'aid' or 'stochastic' (got {other:?})"
            )));
        }
    };
    let p = prob.as_dyn();
    let report = observed(py, &stop, progress, |obs| solve(p, &s, obs))?;
    let report = report.map_err(solve_error)?;
    let json_err = |e: serde_json::Error| PyRuntimeError::new_err(e.to_string());
    let mut v = serde_json::to_value(&report).map_err(json_err)?;
    if let (Some(stats), Value::Object(facts)) =
        (v["stats"].as_object_mut(), prob.facts(&report, sigma))
    {
        stats.extend(facts);
    }
    serde_json::to_string(&v).map_err(json_err)
}
