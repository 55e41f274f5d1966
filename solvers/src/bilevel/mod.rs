//! **Bilevel optimisation by the value-function penalty** (Kwon, Kwon, Wright & Nowak, "On
//! penalty methods for nonconvex bilevel optimization and first-order stochastic
//! approximation", ICLR 2024, arXiv 2309.01753).
//!
//! For `min_{x ∈ X, y ∈ Y*(x)} f(x, y)`, `Y*(x) = argmin_{y ∈ Y} g(x, y)`, the penalty function
//!
//! `ψ_σ(x) = min_{y ∈ Y} [f(x, y) + (g(x, y) − g*(x))/σ]`, `g*(x) = min_{z ∈ Y} g(x, z)`,
//!
//! is `O(σ)`-close to the hyper-objective even when the lower level has several minimisers,
//! and its gradient needs first derivatives only:
//!
//! `∇ψ_σ(x) = ∇ₓf(x, y_σ) + (∇ₓg(x, y_σ) − ∇ₓg(x, z*))/σ`, `y_σ ∈ argmin_y σf + g`,
//! `z* ∈ Y*(x)`.
//!
//! [`solve`] runs the method of [`BilevelSettings::method`] ([`BilevelMethod`]).
//! [`BilevelMethod::Penalty`] is the deterministic double loop: warm-started accelerated projected
//! gradient solves for `z*` (step `1/L_g`) and `y_σ` (step `1/(L_f + L_g/σ)`) to tolerances
//! tied to the outer stationarity, then a projected gradient step on `x` with a safeguarded
//! Barzilai–Borwein length. [`BilevelMethod::Aid`] (implicit differentiation with CG on
//! Hessian-vector products) is the baseline for strongly convex lower levels, and
//! [`BilevelMethod::Stochastic`] the single-loop method with minibatch oracles.

pub mod aid;
pub mod penalty;
pub mod stochastic;

pub use penalty::{
    BilevelMethod, BilevelReport, BilevelResiduals, BilevelSettings, BilevelSolution, BilevelStats,
};

use crate::core::{Observer, SolveError};
use mathprog_problems::bilevel::Bilevel;

/// Solve a bilevel problem with the method of `s.method`.
///
/// ```
/// use mathprog_problems::bilevel::quadratic::QuadraticBilevel;
/// use mathprog_solvers::bilevel::{BilevelSettings, solve};
/// use mathprog_solvers::core::{NoObserver, Status};
/// let prob = QuadraticBilevel::generate(5, 8, 0.1, 1).unwrap();
/// let r = solve(&prob, &BilevelSettings::default(), &mut NoObserver).unwrap();
/// assert_eq!(r.status, Status::Converged);
/// assert!(r.residuals.stationarity <= 1e-6);
/// ```
pub fn solve(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    s.validate()?;
    let (c, t) = objective_scale(prob);
    if c == 1.0 {
        return dispatch(prob, s, observer);
    }
    let scaled = Scaled {
        p: prob,
        c,
        t,
        buf: std::sync::Mutex::new(Vec::new()),
    };
    let mut r = dispatch(&scaled, s, observer)?;
    r.objective *= c;
    r.bound = r.bound.map(|b| b * c);
    r.residuals.stationarity *= c;
    r.residuals.ll_gap *= c;
    let sol = &mut r.solution;
    sol.y
        .iter_mut()
        .chain(sol.z.iter_mut())
        .for_each(|v| *v *= t);
    r.stats.objective_scale = Some(c);
    Ok(r)
}

fn dispatch(
    prob: &dyn Bilevel,
    s: &BilevelSettings,
    observer: &mut dyn Observer,
) -> Result<BilevelReport, SolveError> {
    match s.method {
        BilevelMethod::Penalty => penalty::solve_penalty(prob, s, observer),
        BilevelMethod::Aid => aid::solve_aid(prob, s, observer),
        BilevelMethod::Stochastic { batch } => {
            stochastic::solve_stochastic(prob, s, batch, observer)
        }
    }
}

/// The methods' steps and tolerances are in the units of `f`, `g` and `y`, so data scaled
/// by `t` (ridge targets ×1e6: `y` ×`t`, `f` and `g` ×`t²`) would change the answer. When
/// `|f|` or `|g|` at the start (`y = Π_Y(0)`) is outside `[1e-2, 1e4]`, the methods see
/// `f(x, t y')/t²` and `g(x, t y')/t²` with `t` the power of two nearest its square root
/// (exact in floating point); the report is scaled back (`stats.objective_scale` = `t²`),
/// the tolerance applies to the scaled problem. Returns `(t², t)`.
fn objective_scale(prob: &dyn Bilevel) -> (f64, f64) {
    let x = prob.start();
    let mut y = vec![0.0; prob.dim_y()];
    prob.project_y(&mut y);
    let size = prob.f(&x, &y).abs().max(prob.g(&x, &y).abs());
    if !size.is_finite() || size == 0.0 || (1e-2..=1e4).contains(&size) {
        return (1.0, 1.0);
    }
    let k = (size.log2() / 2.0).round().clamp(-500.0, 500.0) as i32;
    (2f64.powi(2 * k), 2f64.powi(k))
}

/// The problem in `y' = y/t`, with `f` and `g` divided by `c = t²`.
struct Scaled<'a> {
    p: &'a dyn Bilevel,
    c: f64,
    t: f64,
    /// Scratch for `t y'` (the oracles take slices).
    buf: std::sync::Mutex<Vec<f64>>,
}

impl Scaled<'_> {
    /// Run `op` with `y = t y'`.
    fn at<R>(&self, y: &[f64], op: impl FnOnce(&[f64]) -> R) -> R {
        let mut guard = self.buf.try_lock();
        let mut local;
        let buf: &mut Vec<f64> = match guard.as_mut() {
            Ok(b) => b,
            Err(_) => {
                local = Vec::new();
                &mut local
            }
        };
        buf.clear();
        buf.extend(y.iter().map(|v| v * self.t));
        op(buf)
    }
    /// `∇ₓ/c` and `∇_y' = t ∇_y / c`.
    fn grads(&self, gx: &mut [f64], gy: &mut [f64]) {
        gx.iter_mut().for_each(|v| *v /= self.c);
        gy.iter_mut().for_each(|v| *v *= self.t / self.c);
    }
}

impl Bilevel for Scaled<'_> {
    fn dim_x(&self) -> usize {
        self.p.dim_x()
    }
    fn dim_y(&self) -> usize {
        self.p.dim_y()
    }
    fn f(&self, x: &[f64], y: &[f64]) -> f64 {
        self.at(y, |y| self.p.f(x, y)) / self.c
    }
    fn g(&self, x: &[f64], y: &[f64]) -> f64 {
        self.at(y, |y| self.p.g(x, y)) / self.c
    }
    fn grad_f(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        self.at(y, |y| self.p.grad_f(x, y, gx, gy));
        self.grads(gx, gy);
    }
    fn grad_g(&self, x: &[f64], y: &[f64], gx: &mut [f64], gy: &mut [f64]) {
        self.at(y, |y| self.p.grad_g(x, y, gx, gy));
        self.grads(gx, gy);
    }
    fn project_x(&self, x: &mut [f64]) {
        self.p.project_x(x)
    }
    fn project_y(&self, y: &mut [f64]) {
        // Π_{Y/t}(y') = Π_Y(t y')/t.
        y.iter_mut().for_each(|v| *v *= self.t);
        self.p.project_y(y);
        y.iter_mut().for_each(|v| *v /= self.t);
    }
    fn samples(&self) -> (usize, usize) {
        self.p.samples()
    }
    fn grad_g_batch(&self, x: &[f64], y: &[f64], b: &[usize], gx: &mut [f64], gy: &mut [f64]) {
        self.at(y, |y| self.p.grad_g_batch(x, y, b, gx, gy));
        self.grads(gx, gy);
    }
    fn grad_f_batch(&self, x: &[f64], y: &[f64], b: &[usize], gx: &mut [f64], gy: &mut [f64]) {
        self.at(y, |y| self.p.grad_f_batch(x, y, b, gx, gy));
        self.grads(gx, gy);
    }
    fn hvp_yy_g(&self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        // ∇²_y'y' = t² ∇²_yy / c = ∇²_yy.
        self.at(y, |y| self.p.hvp_yy_g(x, y, v, out))
    }
    fn hvp_xy_g(&self, x: &[f64], y: &[f64], v: &[f64], out: &mut [f64]) -> bool {
        // ∂ₓ(∇_y' g'ᵀv) = t ∇²_xy g v / c.
        let ok = self.at(y, |y| self.p.hvp_xy_g(x, y, v, out));
        out.iter_mut().for_each(|o| *o *= self.t / self.c);
        ok
    }
    fn smoothness_y(&self, x: &[f64]) -> (f64, f64) {
        // t² L / c = L.
        self.p.smoothness_y(x)
    }
    fn start(&self) -> Vec<f64> {
        self.p.start()
    }
    fn name(&self) -> String {
        self.p.name()
    }
}
