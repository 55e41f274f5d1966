//! Entropic OT between point clouds with costs computed on the fly: memory `O((n + m) d)`
//! (plus per-thread column sums and a dense coarse matrix of at most 1200²), never an `n × m`
//! matrix and no stored plan entries.
//!
//! Same problem, conventions and report as [`super::solve`] (POT's entropic objective, the
//! plan `P_ij = exp((f_i + g_j − C_ij)/reg)` with entries whose exponent is at most −60 set to
//! 0). The method, after Schmitzer (arXiv 1610.06519) and Feydy's multiscale Sinkhorn
//! (arXiv 1810.08278), with SNS (Tang et al., ICLR 2024) for the last digits:
//!
//! 1. Both clouds are sorted into uniform grids ([`grid`]); a pair of cells whose bound on the
//!    exponents is far below what matters is skipped whole, the others are fused blocks
//!    ([`fused`]: single-precision Gaussian blocks with double-precision factors for the
//!    squared Euclidean cost in `d ≤ 3`, double precision otherwise and for the last digits).
//! 2. **ε-scaling**: log-domain Sinkhorn (soft c-transforms) at `ε_k = max(reg, ε₀ θ^k)` from
//!    `ε₀` = the largest cost (bounded through the bounding boxes), a few iterations per
//!    stage; the potentials carry over, and the smaller the `ε`, the fewer cell pairs survive.
//! 3. At `reg`: Sinkhorn to the switch violation, then (method SNS) matrix-free Newton steps:
//!    CG whose Hessian products are fused passes, preconditioned by a two-level scheme with a
//!    coarse space on aggregates of cells about the kernel's width ([`newton`]), with Sinkhorn
//!    as the fallback if Newton stalls.
//! 4. **Certificate**: one pass over all cell pairs at the plan's cut (exact for the returned
//!    plan: a skipped pair's entries are all below the cut; double precision, [`pass`]),
//!    giving the L1 marginal violation,
//!    `⟨C, P⟩`, the entropic objective and the dual value, minus `reg·n·m·e^−60` so that it
//!    stays a lower bound whatever the cut dropped. If the certificate misses the tolerance the
//!    iterations go on with the work passes at the plan's cut.

mod fused;
mod grid;
mod newton;
mod pass;

use super::{OtReport, OtSettings, OtSolution, OtStats, OtValues, PLAN_CUT, finish, weighted_dot};
use crate::core::{BackendReport, IterRecord, Observer, Run, SolveError, Status};
use grid::Side;
use mathprog_problems::Sense;
use mathprog_problems::ot::cloud::CloudOt;
use pass::{Geometry, PairCount, PlanSums, plan_pass};
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Parameters of the point-cloud solver.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CloudParams {
    /// Points per grid cell (about).
    pub per_cell: usize,
    /// Sinkhorn passes skip the pairs `τ` below their row's largest exponent (`e^−τ`).
    pub tau: f64,
    /// Newton passes skip exponents at or below `ln(min weight) − work_tau` (entries `e^−τ`
    /// below the smallest weight; never below −60, the certificate's cut).
    pub work_tau: f64,
    /// ε-scaling factor `θ` per stage.
    pub scaling: f64,
    /// Sinkhorn iterations per ε stage above `reg` on the coarse clouds ...
    pub stage_iterations: u64,
    /// ... and on the points.
    pub fine_stage_iterations: u64,
    /// Hessian products (the Newton stage's CG) skip exponents at or below
    /// `ln(min weight) − hessian_tau` (a looser cut than the gradient's `work_tau`: the Hessian
    /// may be inexact, the gradient may not).
    pub hessian_tau: f64,
    /// Aggregates of cells per side in the Newton preconditioner's coarse space, at most.
    pub coarse_max: usize,
}

impl Default for CloudParams {
    fn default() -> Self {
        CloudParams {
            per_cell: 32,
            tau: 20.0,
            work_tau: 20.0,
            scaling: 0.5,
            stage_iterations: 3,
            fine_stage_iterations: 1,
            hessian_tau: 14.0,
            coarse_max: 600,
        }
    }
}

/// What the point-cloud solver adds to the report's statistics.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CloudStats {
    /// ε stages above `reg`.
    pub eps_stages: u64,
    /// Sinkhorn iterations at `reg` (each two passes).
    pub sinkhorn_iterations_at_reg: u64,
    /// Newton steps, CG iterations and line-search trials.
    pub newton_steps: u64,
    /// See `newton_steps`.
    pub cg_iterations: u64,
    /// See `newton_steps`.
    pub line_search_trials: u64,
    /// Mean entries per row of a Hessian product (computed on the fly).
    pub mean_kept_per_row: f64,
    /// Pairs whose cost was computed, all passes.
    pub pairs_computed: u64,
    /// Pairs skipped by cell bounds, all passes.
    pub pairs_skipped: u64,
    /// Pairs the certificate pass computed (the rest have all their entries below the cut).
    pub certificate_pairs: u64,
    /// Grid cells of the source and target clouds.
    pub cells: [usize; 2],
    /// Seconds: ε-scaling and Sinkhorn, Newton, certificate.
    pub sinkhorn_seconds: f64,
    /// See `sinkhorn_seconds`.
    pub newton_seconds: f64,
    /// See `sinkhorn_seconds`.
    pub certificate_seconds: f64,
    /// Seconds of the Newton stage in gradient passes, coarse factorisations and CG.
    pub newton_split_seconds: [f64; 3],
    /// Peak resident memory of the process (bytes; Linux), at the end of the solve.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub peak_memory_bytes: Option<u64>,
}

/// Peak resident set size of this process (`VmHWM`, Linux), in bytes.
pub fn peak_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = text.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// An upper bound on every cost (scaled): the ground cost across the bounding box of both
/// clouds.
fn cost_bound(p: &CloudOt) -> f64 {
    let d = p.dim();
    let (lx, hx) = mathprog_problems::ot::cloud::bounding_box(p.x(), d);
    let (ly, hy) = mathprog_problems::ot::cloud::bounding_box(p.y(), d);
    let lo: Vec<f64> = lx.iter().zip(&ly).map(|(a, b)| a.min(*b)).collect();
    let hi: Vec<f64> = hx.iter().zip(&hy).map(|(a, b)| a.max(*b)).collect();
    p.ground().eval(&lo, &hi) / p.scale()
}

/// Solve the entropic OT problem between the clouds of `p` with `settings` (`reg`, `tol`,
/// `method`, `sns.switch_violation`, `cloud`; `common.max_iter` bounds Sinkhorn iterations
/// at `reg` plus Newton steps).
pub fn solve(
    p: &CloudOt,
    settings: &OtSettings,
    observer: &mut dyn Observer,
) -> Result<OtReport, SolveError> {
    settings.validate()?;
    let prm = &settings.cloud;
    if !(prm.scaling > 0.0
        && prm.scaling < 1.0
        && prm.tau > 0.0
        && prm.hessian_tau > 0.0
        && prm.coarse_max > 0)
    {
        return Err(SolveError::InvalidInput(
            "cloud: scaling in (0, 1), tau > 0, hessian_tau > 0 and coarse_max > 0 needed".into(),
        ));
    }
    let (n, m) = (p.n(), p.m());
    let cmax = cost_bound(p);
    let ratio = cmax / settings.reg;
    if ratio.is_nan() || ratio > mathprog_problems::limits::MAX_MAGNITUDE {
        return Err(SolveError::InvalidInput(format!(
            "largest cost / reg = {:e} is too large; raise reg or rescale the costs",
            cmax / settings.reg
        )));
    }
    if let Some((f, g)) = &settings.start
        && (f.len() != n || g.len() != m)
    {
        return Err(SolveError::DimensionMismatch {
            what: "warm-start potentials".into(),
            expected: n + m,
            found: f.len() + g.len(),
        });
    }
    let pool = settings.common.thread_pool()?;
    let name = match settings.method {
        super::OtMethod::Sinkhorn => "sinkhorn-online",
        _ => "sns-online",
    };
    let run = Run::start(
        &settings.common,
        observer,
        name,
        "ot",
        Sense::Minimize,
        n + m,
    );
    Driver::new(p, settings, run, cmax, pool, name).solve()
}

/// Report an iteration (the violation and the table's extra columns); `Some(status)` when the
/// budget or the observer ends the run.
fn report_iteration(
    run: &mut Run<'_>,
    iteration: u64,
    viol: f64,
    extra: &[(&'static str, f64)],
) -> Option<Status> {
    let ctl = run.report(&IterRecord {
        iteration,
        elapsed: run.elapsed(),
        best: f64::NAN,
        current: f64::NAN,
        bound: None,
        residual: Some(viol),
        improved: false,
        extra,
    });
    run.budget(ctl, iteration)
}

/// The solve's state (sorted orders throughout).
struct Driver<'a, 'o> {
    p: &'a CloudOt,
    s: &'a OtSettings,
    run: Run<'o>,
    rows: Side,
    cols: Side,
    f: Vec<f64>,
    g: Vec<f64>,
    cmax: f64,
    stats: CloudStats,
    iterations: u64,
    t_newton: f64,
    pool: rayon::ThreadPool,
    backend: BackendReport,
}

impl<'a, 'o> Driver<'a, 'o> {
    fn new(
        p: &'a CloudOt,
        s: &'a OtSettings,
        run: Run<'o>,
        cmax: f64,
        pool: rayon::ThreadPool,
        name: &str,
    ) -> Self {
        let per = s.cloud.per_cell;
        let (rows, cols) = pool.install(|| {
            rayon::join(
                || Side::new(p.x(), p.a(), p.dim(), per),
                || Side::new(p.y(), p.b(), p.dim(), per),
            )
        });
        let (f, g) = match &s.start {
            Some((f, g)) => (rows.sorted(f), cols.sorted(g)),
            None => (vec![0.0; p.n()], vec![0.0; p.m()]),
        };
        let stats = CloudStats {
            cells: [rows.cells(), cols.cells()],
            ..Default::default()
        };
        Driver {
            p,
            s,
            run,
            rows,
            cols,
            f,
            g,
            cmax,
            stats,
            iterations: 0,
            t_newton: 0.0,
            pool,
            backend: BackendReport::cpu_only(s.common.backend, name),
        }
    }

    fn geometry(&self) -> Geometry<'_> {
        Geometry {
            ground: self.p.ground(),
            scale: self.p.scale(),
            rows: &self.rows,
            cols: &self.cols,
        }
    }

    /// One Sinkhorn iteration at `eps` (rows, then columns); the L1 violation before it (the
    /// columns are exact after the previous one).
    fn sinkhorn(&mut self, eps: f64) -> f64 {
        let tau = self.s.cloud.tau;
        let geo = Geometry {
            ground: self.p.ground(),
            scale: self.p.scale(),
            rows: &self.rows,
            cols: &self.cols,
        };
        let (f, g) = (&mut self.f, &mut self.g);
        let (viol, c1) = self
            .pool
            .install(|| fused::soft_transform(&geo, f, g, eps, tau));
        let (_, c2) = self
            .pool
            .install(|| fused::soft_transform(&geo.transposed(), g, f, eps, tau));
        self.stats.pairs_computed += c1.computed + c2.computed;
        self.stats.pairs_skipped += c1.skipped + c2.skipped;
        viol
    }

    /// Report an iteration; `Some(status)` when the budget or the observer ends the run.
    fn report(&mut self, viol: f64, eps: f64) -> Option<Status> {
        report_iteration(&mut self.run, self.iterations, viol, &[("eps", eps)])
    }

    /// Sinkhorn at `reg` until the violation is at most `target`.
    fn sinkhorn_to(&mut self, target: f64) -> Result<f64, Status> {
        let reg = self.s.reg;
        loop {
            let viol = self.sinkhorn(reg);
            if !viol.is_finite() {
                return Err(Status::NumericalError);
            }
            if viol <= target {
                return Ok(viol);
            }
            if let Some(st) = self.report(viol, reg) {
                return Err(st);
            }
            self.iterations += 1;
            self.stats.sinkhorn_iterations_at_reg += 1;
        }
    }

    /// The coarse stage: ε-scaling from the largest cost on the clouds of cell centroids
    /// (weights summed; recursively coarser while that pays), down to the ε at which the
    /// kernel's width `√ε` (in cost units: `ε`) is twice the largest cell's diameter cost;
    /// then the points' potentials by soft c-transforms against the coarse ones. Returns the
    /// ε reached (the largest cost when the clouds are too small to coarsen).
    fn multiscale(&mut self) -> f64 {
        let (reg, prm) = (self.s.reg, &self.s.cloud);
        let (ground, scale, d) = (self.p.ground(), self.p.scale(), self.p.dim());
        let coarse_side = |side: &Side| -> (Vec<f64>, Vec<f64>) {
            let mut pts = Vec::with_capacity(side.cells() * d);
            let mut w = Vec::with_capacity(side.cells());
            for c in 0..side.cells() {
                let (lo, hi) = (side.start[c], side.start[c + 1]);
                let mass: f64 = side.w[lo..hi].iter().sum();
                for t in 0..d {
                    let m: f64 = (lo..hi).map(|s| side.w[s] * side.pts[s * d + t]).sum();
                    pts.push(m / mass);
                }
                w.push(mass);
            }
            (pts, w)
        };
        let worth =
            self.rows.cells() * 4 <= self.rows.len() && self.cols.cells() * 4 <= self.cols.len();
        let diam = |side: &Side| {
            (0..side.cells())
                .map(|c| {
                    let (lo, hi) = (
                        &side.lo[c * side.k..(c + 1) * side.k],
                        &side.hi[c * side.k..(c + 1) * side.k],
                    );
                    ground.eval(lo, hi) / scale
                })
                .fold(0.0f64, f64::max)
        };
        let eps_switch = (2.0 * diam(&self.rows).max(diam(&self.cols))).max(reg);
        let top = self.cmax.max(reg);
        if !worth || eps_switch >= top || d > 3 {
            return top;
        }
        let (xc, ac) = coarse_side(&self.rows);
        let (yc, bc) = coarse_side(&self.cols);
        let Ok(coarse) =
            CloudOt::new(d, xc, ac, yc, bc, ground).and_then(|c| c.with_cost_scale(scale))
        else {
            return top;
        };
        let mut cs = self.s.clone();
        cs.start = None;
        cs.reg = eps_switch;
        cs.common.max_iter = None;
        cs.common.time_limit = None;
        let mut obs = crate::core::NoObserver;
        let run = Run::start(&cs.common, &mut obs, "coarse", "ot", Sense::Minimize, 0);
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(self.pool.current_num_threads())
            .build();
        let Ok(pool) = pool else { return top };
        let mut sub = Driver::new(&coarse, &cs, run, self.cmax, pool, "coarse");
        let mut eps = if sub.s.start.is_none() {
            sub.multiscale()
        } else {
            top
        };
        while eps > eps_switch {
            for _ in 0..prm.stage_iterations {
                sub.sinkhorn(eps);
            }
            self.stats.eps_stages += 1;
            eps = (eps * prm.scaling).max(eps_switch);
        }
        for _ in 0..prm.stage_iterations {
            sub.sinkhorn(eps_switch);
        }
        self.stats.eps_stages += sub.stats.eps_stages;
        self.stats.pairs_computed += sub.stats.pairs_computed;
        self.stats.pairs_skipped += sub.stats.pairs_skipped;
        // The points' potentials: rows against the coarse columns, then columns against the
        // points' rows.
        let tau = prm.tau;
        let geo = Geometry {
            ground,
            scale,
            rows: &self.rows,
            cols: &sub.cols,
        };
        let (f, gc) = (&mut self.f, &sub.g);
        self.pool
            .install(|| fused::soft_transform(&geo, f, gc, eps_switch, tau));
        let geo_t = Geometry {
            ground,
            scale,
            rows: &self.cols,
            cols: &self.rows,
        };
        let (g, f) = (&mut self.g, &self.f);
        self.pool
            .install(|| fused::soft_transform(&geo_t, g, f, eps_switch, tau));
        eps_switch
    }

    fn solve(mut self) -> Result<OtReport, SolveError> {
        let t0 = Instant::now();
        let (reg, tol) = (self.s.reg, self.s.tol);
        let prm = self.s.cloud.clone();
        // ε-scaling (not from a warm start: its potentials are meant for reg), on the cells'
        // centroids while the kernel is wider than a cell, then on the points.
        let mut eps = reg;
        let mut status = None;
        if self.s.start.is_none() {
            eps = self.multiscale();
        }
        while eps > reg && status.is_none() {
            for _ in 0..prm.fine_stage_iterations {
                let viol = self.sinkhorn(eps);
                if let Some(st) = self.report(viol, eps) {
                    status = Some(st);
                    break;
                }
            }
            self.stats.eps_stages += 1;
            eps = (eps * prm.scaling).max(reg);
        }
        let sns = self.s.method != super::OtMethod::Sinkhorn;
        let a_min = self
            .rows
            .w
            .iter()
            .chain(&self.cols.w)
            .fold(f64::INFINITY, |m, w| m.min(*w));
        let mut cut = (a_min.ln() - prm.work_tau).max(PLAN_CUT);
        let mut vals = None;
        while status.is_none() {
            let target = if sns {
                self.s.sns.switch_violation.max(tol)
            } else {
                0.5 * tol
            };
            status = match self.sinkhorn_to(target) {
                Err(st) => Some(st),
                Ok(_) if sns => self.newton(cut).err(),
                Ok(_) => None,
            };
            self.stats.sinkhorn_seconds = t0.elapsed().as_secs_f64() - self.t_newton;
            let t = Instant::now();
            let v = self.certificate();
            self.stats.certificate_seconds += t.elapsed().as_secs_f64();
            if status.is_none() && v.marginal_violation > tol {
                // The work passes' cut hid mass that matters: iterate at the plan's cut.
                if cut <= PLAN_CUT && !sns {
                    status = Some(Status::Stalled);
                }
                cut = PLAN_CUT;
            } else {
                status = status.or(Some(Status::Converged));
            }
            vals = Some(v);
        }
        let status = status.unwrap_or(Status::Stalled);
        let vals = vals.unwrap_or_else(|| self.certificate());
        self.stats.newton_seconds = self.t_newton;
        self.stats.peak_memory_bytes = peak_memory();
        let sol = OtSolution {
            f: self.rows.unsorted(&self.f),
            g: self.cols.unsorted(&self.g),
            reg,
        };
        let stats = OtStats {
            sinkhorn_iterations: self.stats.sinkhorn_iterations_at_reg,
            cloud: Some(self.stats),
            ..Default::default()
        };
        let backend = self.backend.clone();
        Ok(finish(
            self.run,
            status,
            sol,
            vals,
            self.iterations,
            stats,
            backend,
        ))
    }

    /// The Newton stage from the current potentials until the work passes' violation is
    /// below half the tolerance; `Err(status)` when the budget ends it. A stall hands over to
    /// Sinkhorn.
    fn newton(&mut self, cut: f64) -> Result<(), Status> {
        let t = Instant::now();
        let prm = &self.s.cloud;
        let a_min = self
            .rows
            .w
            .iter()
            .chain(&self.cols.w)
            .fold(f64::INFINITY, |m, w| m.min(*w));
        let hcut = (a_min.ln() - prm.hessian_tau).max(cut);
        let coarse_max = prm.coarse_max;
        let (reg, tol) = (self.s.reg, self.s.tol);
        let f = std::mem::take(&mut self.f);
        let g = std::mem::take(&mut self.g);
        // (The geometry borrows the sides only; the stage owns the potentials meanwhile.)
        let geo = Geometry {
            ground: self.p.ground(),
            scale: self.p.scale(),
            rows: &self.rows,
            cols: &self.cols,
        };
        let budget = self.run.clock();
        let mut nt =
            newton::Newton::new(&geo, &self.pool, budget, reg, cut, hcut, coarse_max, f, g);
        let mut viol = nt.violation();
        let mut out = Ok(());
        let mut stalled = false;
        // Near the end, a cut below which all n·m entries together weigh at most tol/100:
        // the work passes' sums are then exact to the tolerance.
        let (n, m) = (self.p.n() as f64, self.p.m() as f64);
        let final_cut = (0.01 * tol / (n * m)).ln().max(PLAN_CUT).min(cut);
        // Steps that do not halve the violation, in a row (the sign of a stall).
        let mut slow = 0u32;
        while viol > 0.5 * tol {
            let precise = nt.precise || viol < newton::PRECISE_BELOW;
            if (viol < 100.0 * tol && nt.cut > final_cut) || precise != nt.precise {
                if viol < 100.0 * tol {
                    nt.cut = nt.cut.min(final_cut);
                }
                nt.precise = precise;
                nt.refresh();
                viol = nt.violation();
            }
            let extra = [("eps", reg), ("cg", nt.cg_total as f64)];
            if let Some(st) = report_iteration(&mut self.run, self.iterations, viol, &extra) {
                out = Err(st);
                break;
            }
            self.iterations += 1;
            match nt.step(viol) {
                Some(v) => {
                    slow = if v > 0.5 * viol { slow + 1 } else { 0 };
                    viol = v;
                }
                None => {
                    stalled = true;
                    break;
                }
            }
            if slow >= 20 {
                stalled = true;
                break;
            }
        }
        self.stats.newton_steps += nt.steps;
        self.stats.cg_iterations += nt.cg_total;
        self.stats.line_search_trials += nt.ls_total;
        self.stats.mean_kept_per_row =
            nt.hessian_pairs as f64 / (nt.cg_total.max(1) * self.p.n() as u64) as f64;
        self.stats.pairs_computed += nt.pairs.computed;
        self.stats.pairs_skipped += nt.pairs.skipped;
        for (a, b) in self.stats.newton_split_seconds.iter_mut().zip(nt.timers) {
            *a += b;
        }
        self.f = std::mem::take(&mut nt.f);
        self.g = std::mem::take(&mut nt.g);
        drop(nt);
        self.t_newton += t.elapsed().as_secs_f64();
        if stalled && out.is_ok() {
            // Newton could not make progress: Sinkhorn always converges.
            self.sinkhorn_to(0.5 * tol).map(|_| ())
        } else {
            out
        }
    }

    /// The exact certificate pass (see the module documentation).
    fn certificate(&mut self) -> OtValues {
        let (n, m, reg) = (self.p.n(), self.p.m(), self.s.reg);
        let mut sums = PlanSums {
            r: vec![0.0; n],
            c: vec![0.0; m],
            mass: 0.0,
            cost: 0.0,
            entropy: 0.0,
            count: PairCount::default(),
        };
        let geo = self.geometry();
        let (f, g) = (&self.f, &self.g);
        self.pool
            .install(|| plan_pass(&geo, f, g, reg, PLAN_CUT, &mut sums));
        self.stats.certificate_pairs = sums.count.computed;
        let viol = sums
            .r
            .iter()
            .zip(&self.rows.w)
            .map(|(r, a)| (r - a).abs())
            .sum::<f64>()
            + sums
                .c
                .iter()
                .zip(&self.cols.w)
                .map(|(c, b)| (c - b).abs())
                .sum::<f64>();
        let tail = (n as f64) * (m as f64) * PLAN_CUT.exp();
        OtValues {
            transport_cost: sums.cost,
            entropic_objective: sums.cost + reg * sums.entropy,
            dual_value: weighted_dot(&self.rows.w, &self.f) + weighted_dot(&self.cols.w, &self.g)
                - reg * (sums.mass + tail),
            marginal_violation: viol,
        }
    }
}

/// The plan entries above `threshold` (`(i, j, P_ij)`, original indices, rows in the clouds'
/// grid order), for `solve ot --output`: counted first (cell pairs below the threshold are
/// skipped), refused when they would not fit the memory limit.
pub fn plan_entries(
    p: &CloudOt,
    sol: &OtSolution,
    threshold: f64,
) -> Result<Vec<(usize, usize, f64)>, SolveError> {
    if sol.f.len() != p.n() || sol.g.len() != p.m() {
        return Err(SolveError::InvalidInput(
            "potentials of another problem".into(),
        ));
    }
    let per = CloudParams::default().per_cell;
    let rows = Side::new(p.x(), p.a(), p.dim(), per);
    let cols = Side::new(p.y(), p.b(), p.dim(), per);
    let (f, g) = (rows.sorted(&sol.f), cols.sorted(&sol.g));
    let cut = threshold.max(f64::MIN_POSITIVE).ln().max(PLAN_CUT);
    let geo = Geometry {
        ground: p.ground(),
        scale: p.scale(),
        rows: &rows,
        cols: &cols,
    };
    let entries = |count_only: bool| -> (usize, Vec<(usize, usize, f64)>) {
        let mut out = Vec::new();
        let mut count = 0usize;
        pass::visit_entries(&geo, &f, &g, sol.reg, cut, |s, t, v| {
            if v > threshold {
                count += 1;
                if !count_only {
                    out.push((rows.perm[s] as usize, cols.perm[t] as usize, v));
                }
            }
        });
        (count, out)
    };
    let (count, _) = entries(true);
    mathprog_problems::limits::check_alloc("the plan's entries", count, 24)
        .map_err(|e| SolveError::InvalidInput(format!("{e}; raise the plan threshold")))?;
    Ok(entries(false).1)
}
