//! The Newton stage of SNS on a point-cloud problem, matrix-free. The dual
//! `D(f, g) = ⟨a, f⟩ + ⟨b, g⟩ − ε Σ P_ij` has the gradient `(a − r, b − c)` (`r = P1`,
//! `c = Pᵀ1`) and the Hessian `−(1/ε) H`, `H = [[diag(r), P], [Pᵀ, diag(c)]]`; the step solves
//! `H δ = ε ∇D` by preconditioned CG where every product `H v` is one fused pass
//! ([`super::fused`]) over the entries above a looser cut than the gradient's (an inexact
//! Hessian: Newton still converges linearly at the rate of the mass it drops), so no entry is
//! ever stored.
//!
//! On point clouds `P` is a Gaussian smoothing at the scale `√(sε)`: the Jacobi-preconditioned
//! `H` has eigenvalues `1 ± σ_k` with `σ_k → 1` on the smooth modes, which CG alone resolves
//! only in hundreds of iterations. The preconditioner is two-level (additive Schwarz):
//! `M⁻¹ = D⁻¹ + Rᵀ H_c⁺ R` with `D = diag(r, c)`, `R` the sums over aggregates of cells about
//! the kernel's width (the coarse space of piecewise-constant potentials) and
//! `H_c = R H Rᵀ = [[diag(r_A), P_AB], [P_ABᵀ, diag(c_B)]]` from the block totals of the
//! gradient pass, factored dense (Cholesky of `H_c + μ e eᵀ`, `e = (1, −1)` its null vector).
//! Then an Armijo line search on the dual; each trial pass is the next step's gradient pass.

use super::fused::{Aggregates, Cut, PassIn, PassOut, pass};
use super::pass::{Geometry, PairCount};
use crate::core::Budget;
use crate::ot::weighted_dot;
use faer::Mat;
use faer::linalg::solvers::Solve;

/// The violation below which gradient passes are in double precision.
pub(crate) const PRECISE_BELOW: f64 = 1e-6;

/// The stage's state between steps (sorted orders).
pub(crate) struct Newton<'a> {
    geo: &'a Geometry<'a>,
    pool: &'a rayon::ThreadPool,
    /// The run's deadline and stop token: a step past them ends at once (the caller's next
    /// budget check reports why).
    budget: Budget<'a>,
    reg: f64,
    /// The exponent cut of the gradient passes, and of the Hessian products.
    pub cut: f64,
    pub hcut: f64,
    /// Whether the gradient passes are in double precision.
    pub precise: bool,
    pub f: Vec<f64>,
    pub g: Vec<f64>,
    /// Sums at `(f, g)`: rows `r`, columns `c`, aggregate totals.
    at: PassOut,
    agg: Aggregates,
    rhs: Vec<f64>,
    d: Vec<f64>,
    work: [Vec<f64>; 4],
    pub steps: u64,
    pub cg_total: u64,
    pub ls_total: u64,
    /// Pairs computed by the Hessian products.
    pub hessian_pairs: u64,
    pub pairs: PairCount,
    /// Seconds in gradient passes, in the coarse factorisation and in CG.
    pub timers: [f64; 3],
}

/// Aggregates about `width` apart on `side` (at most `max` of them).
fn aggregates_for(side: &super::grid::Side, width: f64, max: usize) -> (Vec<u32>, usize) {
    let k = side.k;
    let mut count = 1.0f64;
    for t in 0..k {
        let lo = (0..side.cells())
            .map(|c| side.lo[c * k + t])
            .fold(f64::INFINITY, f64::min);
        let hi = (0..side.cells())
            .map(|c| side.hi[c * k + t])
            .fold(f64::NEG_INFINITY, f64::max);
        count *= ((hi - lo) / width).max(1.0);
    }
    let target = (count as usize).clamp(1, max.min(side.cells()).max(1));
    Aggregates::assign(side, target)
}

impl<'a> Newton<'a> {
    /// Start at `(f, g)` (one gradient pass).
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        geo: &'a Geometry<'a>,
        pool: &'a rayon::ThreadPool,
        budget: Budget<'a>,
        reg: f64,
        cut: f64,
        hcut: f64,
        coarse_max: usize,
        f: Vec<f64>,
        g: Vec<f64>,
    ) -> Self {
        let (n, m) = (geo.rows.len(), geo.cols.len());
        // The kernel's standard deviation in the grid coordinates (squared Euclidean:
        // exp(−|x − y|²/(sε)) has variance sε/2 per coordinate; other costs: the same scale).
        let width = 1.5 * (geo.scale * reg / 2.0).sqrt();
        let (row, na) = aggregates_for(geo.rows, width, coarse_max);
        let (col, nb) = aggregates_for(geo.cols, width, coarse_max);
        let mut nt = Newton {
            geo,
            pool,
            budget,
            reg,
            cut,
            hcut,
            precise: false,
            f,
            g,
            at: PassOut::default(),
            agg: Aggregates { row, col, na, nb },
            rhs: vec![0.0; n + m],
            d: vec![0.0; n + m],
            work: std::array::from_fn(|_| vec![0.0; n + m]),
            steps: 0,
            cg_total: 0,
            ls_total: 0,
            hessian_pairs: 0,
            pairs: Default::default(),
            timers: [0.0; 3],
        };
        nt.refresh();
        nt
    }

    /// The gradient pass at `(f, g)`: in double precision once the violation is below
    /// [`PRECISE_BELOW`] (single-precision sums are good to about 1e-7 of each marginal).
    fn gradient_pass(&self, f: &[f64], g: &[f64], cut: f64) -> PassOut {
        let inp = PassIn {
            eps: self.reg,
            cut: Cut::Absolute(cut),
            y: None,
            x: None,
            cols: true,
            coarse: Some(&self.agg),
            precise: self.precise,
        };
        self.pool.install(|| pass(self.geo, f, g, &inp))
    }

    /// A gradient pass at `(f, g)` (after the cut changed, or at the start).
    pub fn refresh(&mut self) {
        let t = std::time::Instant::now();
        self.at = self.gradient_pass(&self.f, &self.g, self.cut);
        self.pairs += self.at.count;
        self.timers[0] += t.elapsed().as_secs_f64();
    }

    /// The L1 marginal violation at `(f, g)`.
    pub fn violation(&self) -> f64 {
        let (rows, cols) = (self.geo.rows, self.geo.cols);
        l1_gap(&self.at.rows, &rows.w) + l1_gap(&self.at.cols, &cols.w)
    }

    fn dual(&self, f: &[f64], g: &[f64], sums: &PassOut) -> f64 {
        let mass: f64 = sums.rows.iter().sum();
        weighted_dot(&self.geo.rows.w, f) + weighted_dot(&self.geo.cols.w, g) - self.reg * mass
    }

    /// `H v` over the entries above `hcut` (`v = (x, y)`), into `out`.
    fn hessian(&mut self, v: &[f64], out: &mut [f64]) {
        let n = self.geo.rows.len();
        let (x, y) = v.split_at(n);
        let inp = PassIn {
            eps: self.reg,
            cut: Cut::Absolute(self.hcut),
            y: Some(y),
            x: Some(x),
            cols: true,
            coarse: None,
            precise: false,
        };
        let (geo, f, g) = (self.geo, &self.f, &self.g);
        let p = self.pool.install(|| pass(geo, f, g, &inp));
        self.hessian_pairs += p.count.computed;
        self.pairs += p.count;
        for i in 0..n {
            out[i] = self.at.rows[i] * x[i] + p.rows[i];
        }
        for (j, o) in out[n..].iter_mut().enumerate() {
            *o = p.cols[j] + self.at.cols[j] * y[j];
        }
    }

    /// The dense Cholesky factor of `H_c + μ e eᵀ` (`None` if it fails).
    fn coarse_factor(&self) -> Option<faer::linalg::solvers::Llt<f64>> {
        let (na, nb) = (self.agg.na, self.agg.nb);
        let q = na + nb;
        let mut h = Mat::<f64>::zeros(q, q);
        for a in 0..na {
            for b in 0..nb {
                let v = self.at.coarse[a * nb + b];
                h[(a, na + b)] = v;
                h[(na + b, a)] = v;
                h[(a, a)] += v;
                h[(na + b, na + b)] += v;
            }
        }
        let dmax = (0..q).map(|k| h[(k, k)]).fold(0.0f64, f64::max);
        let mu = dmax / q as f64;
        for a in 0..q {
            let ea = if a < na { 1.0 } else { -1.0 };
            for b in 0..q {
                let eb = if b < na { 1.0 } else { -1.0 };
                h[(a, b)] += mu * ea * eb;
            }
            h[(a, a)] += 1e-10 * dmax;
        }
        h.llt(faer::Side::Lower).ok()
    }

    /// `z = M⁻¹ v` (see the module documentation).
    fn precondition(
        &self,
        llt: Option<&faer::linalg::solvers::Llt<f64>>,
        v: &[f64],
        z: &mut [f64],
    ) {
        let (rows, cols) = (self.geo.rows, self.geo.cols);
        let n = rows.len();
        let floor = 1e-300;
        for i in 0..n {
            z[i] = v[i] / self.at.rows[i].max(floor);
        }
        for j in 0..cols.len() {
            z[n + j] = v[n + j] / self.at.cols[j].max(floor);
        }
        let Some(llt) = llt else { return };
        let (na, nb) = (self.agg.na, self.agg.nb);
        let mut rv = Mat::<f64>::zeros(na + nb, 1);
        for c in 0..rows.cells() {
            let a = self.agg.row[c] as usize;
            rv[(a, 0)] += v[rows.start[c]..rows.start[c + 1]].iter().sum::<f64>();
        }
        for c in 0..cols.cells() {
            let b = na + self.agg.col[c] as usize;
            rv[(b, 0)] += v[n + cols.start[c]..n + cols.start[c + 1]]
                .iter()
                .sum::<f64>();
        }
        let u = llt.solve(&rv);
        for c in 0..rows.cells() {
            let ua = u[(self.agg.row[c] as usize, 0)];
            z[rows.start[c]..rows.start[c + 1]]
                .iter_mut()
                .for_each(|zi| *zi += ua);
        }
        for c in 0..cols.cells() {
            let ub = u[(na + self.agg.col[c] as usize, 0)];
            z[n + cols.start[c]..n + cols.start[c + 1]]
                .iter_mut()
                .for_each(|zj| *zj += ub);
        }
    }

    /// PCG on `H d = rhs` to the relative L1 residual `eta` (at most `max_iter` products).
    fn cg(&mut self, eta: f64, max_iter: usize) -> usize {
        let t = std::time::Instant::now();
        let llt = self.coarse_factor();
        self.timers[1] += t.elapsed().as_secs_f64();
        let t = std::time::Instant::now();
        let [mut res, mut z, mut p, mut hp] = std::mem::take(&mut self.work);
        self.d.fill(0.0);
        res.copy_from_slice(&self.rhs);
        let target = eta * self.rhs.iter().map(|v| v.abs()).sum::<f64>();
        self.precondition(llt.as_ref(), &res, &mut z);
        p.copy_from_slice(&z);
        let mut rz: f64 = res.iter().zip(&z).map(|(a, b)| a * b).sum();
        let mut it = 0;
        while it < max_iter && !self.budget.spent() {
            self.hessian(&p, &mut hp);
            it += 1;
            let php: f64 = p.iter().zip(&hp).map(|(a, b)| a * b).sum();
            if !(php > 0.0 && php.is_finite()) {
                break;
            }
            let alpha = rz / php;
            for k in 0..self.d.len() {
                self.d[k] += alpha * p[k];
                res[k] -= alpha * hp[k];
            }
            if res.iter().map(|v| v.abs()).sum::<f64>() <= target {
                break;
            }
            self.precondition(llt.as_ref(), &res, &mut z);
            let rz_new: f64 = res.iter().zip(&z).map(|(a, b)| a * b).sum();
            let beta = rz_new / rz;
            rz = rz_new;
            for k in 0..p.len() {
                p[k] = z[k] + beta * p[k];
            }
        }
        self.work = [res, z, p, hp];
        self.timers[2] += t.elapsed().as_secs_f64();
        it
    }

    /// One step: `Some(violation)` after it, `None` when the line search accepts nothing.
    pub fn step(&mut self, viol: f64) -> Option<f64> {
        if self.budget.spent() {
            return Some(viol);
        }
        let (rows, cols) = (self.geo.rows, self.geo.cols);
        let (n, reg) = (rows.len(), self.reg);
        for i in 0..n {
            self.rhs[i] = reg * (rows.w[i] - self.at.rows[i]);
        }
        for j in 0..cols.len() {
            self.rhs[n + j] = reg * (cols.w[j] - self.at.cols[j]);
        }
        let eta = viol.sqrt().clamp(1e-3, 0.1);
        self.cg_total += self.cg(eta, 200) as u64;
        self.steps += 1;
        if self.budget.spent() {
            return Some(viol);
        }
        if !self.line_search() {
            return if self.budget.spent() {
                Some(viol)
            } else {
                None
            };
        }
        Some(self.violation())
    }

    /// Backtracking along `d` (halving from 1, capped so that no exponent moves by more than
    /// 25) until the dual rises by Armijo's rule or the violation falls by `t/4`; the accepted
    /// trial's sums become the current ones.
    fn line_search(&mut self) -> bool {
        let (n, reg) = (self.geo.rows.len(), self.reg);
        let d0 = self.dual(&self.f, &self.g, &self.at);
        let slope: f64 = self
            .rhs
            .iter()
            .zip(&self.d)
            .map(|(a, b)| a * b)
            .sum::<f64>()
            / reg;
        if !(slope > 0.0 && slope.is_finite()) {
            return false;
        }
        let dmax = self.d.iter().fold(0.0f64, |a, v| a.max(v.abs()));
        let mut t = if dmax / reg > 25.0 {
            25.0 * reg / dmax
        } else {
            1.0
        };
        let mass: f64 = self.at.rows.iter().sum();
        let slack = 100.0 * f64::EPSILON * d0.abs().max(reg * mass);
        let (mut ft, mut gt) = (self.f.clone(), self.g.clone());
        let v0 = self.violation();
        for _ in 0..30 {
            if self.budget.spent() {
                return false;
            }
            self.ls_total += 1;
            for (k, v) in ft.iter_mut().enumerate() {
                *v = self.f[k] + t * self.d[k];
            }
            for (k, v) in gt.iter_mut().enumerate() {
                *v = self.g[k] + t * self.d[n + k];
            }
            let clock = std::time::Instant::now();
            let trial = self.gradient_pass(&ft, &gt, self.cut);
            self.timers[0] += clock.elapsed().as_secs_f64();
            self.pairs += trial.count;
            let dt = self.dual(&ft, &gt, &trial);
            // The dual's change near the end is below the single-precision noise of the mass
            // (relative ~1e-7): a step that cuts the violation is accepted as well.
            let vt = l1_gap(&trial.rows, &self.geo.rows.w) + l1_gap(&trial.cols, &self.geo.cols.w);
            let armijo = dt.is_finite() && dt >= d0 + 1e-4 * t * slope - slack;
            if armijo || vt <= (1.0 - 0.25 * t) * v0 {
                self.f = ft;
                self.g = gt;
                self.at = trial;
                return true;
            }
            t *= 0.5;
        }
        false
    }
}

/// `Σ |s_k − w_k|`.
fn l1_gap(s: &[f64], w: &[f64]) -> f64 {
    s.iter().zip(w).map(|(a, b)| (a - b).abs()).sum()
}
