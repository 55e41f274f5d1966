//! Matrix games `min_{x∈Δ_m} max_{y∈Δ_n} xᵀAy` by the Halpern methods of [`super`], with an
//! exact **support refinement** (a crossover, as LP solvers do after a first-order phase).
//!
//! At a nondegenerate equilibrium with supports `I` (rows) and `J` (columns), `|I| = |J|`
//! and the equilibrium solves two square linear systems:
//! `A_{IJ} y_J = v·1, 1ᵀy_J = 1` and `A_{IJ}ᵀ x_I = v·1, 1ᵀx_I = 1`. Once the iterates are
//! accurate enough to tell the supports (rows whose payoff `(Ay)_i` is within a threshold of
//! the best response, columns likewise), these systems give the equilibrium to rounding
//! error. A candidate is kept only if its **duality gap**, computed exactly, is smaller: the
//! refinement can speed up the certificate but never fakes it. Candidate supports are tried
//! at every residual check once the gap is below `refine_below`, and after each failure only
//! when the gap has halved since.

use super::{ExtraStop, MonotoneResiduals, MonotoneSettings, MonotoneStats, iterate};
use crate::core::{BackendReport, End, Observer, Report, Run, SolveError, Status};
use faer::Mat;
use faer::linalg::solvers::Solve;
use mathprog_problems::Sense;
use mathprog_problems::exact::{GAME_EXACT_MAX, game_exact};

/// Largest `|I| + |J|` of a candidate subgame solved exactly in the refinement (a dense
/// simplex with Bland's rule: cheap up to a few hundred strategies).
const SUBGAME_MAX: usize = if GAME_EXACT_MAX < 200 {
    GAME_EXACT_MAX
} else {
    200
};
use mathprog_problems::game::{MatrixGame, project_simplex};
use serde::{Deserialize, Serialize};

/// Settings of [`solve_game`]: the Halpern method's settings plus the game's stopping and
/// refinement options.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GameSettings {
    /// The method, its step and restart rules, budget (`common.max_iter` counts epochs), seed
    /// and warm start (`start`: `x` then `y`).
    pub monotone: MonotoneSettings,
    /// Stop when the duality gap is at most this (`None`: only the residual test of
    /// `monotone.tol`).
    pub gap_tol: Option<f64>,
    /// Try the exact support refinement once the gap is below this (`None`: never).
    pub refine_below: Option<f64>,
}

impl Default for GameSettings {
    /// Halpern with adaptive steps, gap tolerance 1e-6, refinement below a gap of 1e-2, and
    /// no residual test (`monotone.tol = 0`).
    fn default() -> Self {
        GameSettings {
            monotone: MonotoneSettings {
                tol: 0.0,
                ..MonotoneSettings::default()
            },
            gap_tol: Some(1e-6),
            refine_below: Some(1e-2),
        }
    }
}

impl GameSettings {
    /// Check every field.
    pub fn validate(&self) -> Result<(), SolveError> {
        self.monotone.validate()?;
        for (name, v) in [
            ("gap_tol", self.gap_tol),
            ("refine_below", self.refine_below),
        ] {
            if v.is_some_and(|t| !(t >= 0.0 && t.is_finite())) {
                return Err(SolveError::InvalidInput(format!(
                    "{name} must be a finite number >= 0"
                )));
            }
        }
        Ok(())
    }
}

/// Statistics of a game solve: the Halpern method's, plus the refinement's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GameStats {
    /// The method's counters (epochs over all rounds).
    #[serde(flatten)]
    pub monotone: MonotoneStats,
    /// Support refinements tried.
    pub refinements: u64,
    /// Refinements that lowered the gap.
    pub refinements_accepted: u64,
}

/// The report of a game solve.
pub type GameReport = Report<GameSolution, MonotoneResiduals, GameStats>;

/// Optimal mixed strategies of a matrix game, with the certificate.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GameSolution {
    /// The row (minimising) player's strategy, on the simplex.
    pub x: Vec<f64>,
    /// The column (maximising) player's strategy, on the simplex.
    pub y: Vec<f64>,
    /// `max_j (Aᵀx)_j`: the row player concedes at most this (an upper bound on the value).
    pub upper: f64,
    /// `min_i (Ay)_i`: the column player secures at least this (a lower bound on the value).
    pub lower: f64,
}

/// Solve `[[M, −1], [1ᵀ, 0]] (z, v) = (0, 1)` for a square `M`; `None` if singular.
fn support_system(m: &Mat<f64>) -> Option<Vec<f64>> {
    let s = m.nrows();
    let k = Mat::<f64>::from_fn(s + 1, s + 1, |i, j| match (i < s, j < s) {
        (true, true) => m[(i, j)],
        (true, false) => -1.0,
        (false, true) => 1.0,
        (false, false) => 0.0,
    });
    let mut rhs = Mat::<f64>::zeros(s + 1, 1);
    rhs[(s, 0)] = 1.0;
    k.partial_piv_lu().solve_in_place(rhs.as_mut());
    let z: Vec<f64> = (0..s).map(|i| rhs[(i, 0)]).collect();
    z.iter().all(|v| v.is_finite()).then_some(z)
}

/// Try supports read off `(x, y)` at a few thresholds; return the best refined pair whose exact
/// gap is below `gap`.
pub fn refine_support(
    g: &MatrixGame,
    x: &[f64],
    y: &[f64],
    gap: f64,
) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    refine_support_within(g, x, y, gap, f64::INFINITY)
}

/// [`refine_support`] that tries candidate supports, smallest first, only while less than
/// `seconds` have passed (the first candidate is always tried).
pub fn refine_support_within(
    g: &MatrixGame,
    x: &[f64],
    y: &[f64],
    gap: f64,
    seconds: f64,
) -> Option<(Vec<f64>, Vec<f64>, f64)> {
    let t0 = std::time::Instant::now();
    let (m, n) = (g.rows(), g.cols());
    let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
    project_simplex(&mut xs);
    project_simplex(&mut ys);
    let (mut ay, mut atx) = (vec![0.0; m], vec![0.0; n]);
    g.a_y(&ys, &mut ay);
    g.at_x(&xs, &mut atx);
    let lo = ay.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = atx.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let mut best: Option<(Vec<f64>, Vec<f64>, f64)> = None;
    // Candidate supports: payoffs within a threshold of the best response, or strategies
    // with mass above a threshold (fully mixed equilibria show up there first).
    let xmax = xs.iter().copied().fold(0.0, f64::max);
    let ymax = ys.iter().copied().fold(0.0, f64::max);
    let mut cands: Vec<(Vec<usize>, Vec<usize>)> = Vec::new();
    for t in [0.5, 1.0, 2.0, 4.0, 0.25] {
        let thr = t * gap.max(1e-14);
        let rows: Vec<usize> = (0..m).filter(|&i| ay[i] <= lo + thr).collect();
        let cols: Vec<usize> = (0..n).filter(|&j| atx[j] >= hi - thr).collect();
        cands.push((rows, cols));
    }
    for tau in [1e-8, 1e-5, 1e-3] {
        let rows: Vec<usize> = (0..m).filter(|&i| xs[i] > tau * xmax).collect();
        let cols: Vec<usize> = (0..n).filter(|&j| ys[j] > tau * ymax).collect();
        cands.push((rows, cols));
    }
    // Square candidates: the k best responses of each side for the sizes seen above.
    let mut by_row: Vec<usize> = (0..m).collect();
    by_row.sort_by(|&a, &b| ay[a].total_cmp(&ay[b]));
    let mut by_col: Vec<usize> = (0..n).collect();
    by_col.sort_by(|&a, &b| atx[b].total_cmp(&atx[a]));
    let mut sizes: Vec<usize> = cands
        .iter()
        .flat_map(|(r, c)| [r.len(), c.len()])
        .filter(|&k| k > 0 && k <= m.min(n))
        .collect();
    sizes.sort_unstable();
    sizes.dedup();
    for k in sizes {
        let mut rows = by_row[..k].to_vec();
        let mut cols = by_col[..k].to_vec();
        rows.sort_unstable();
        cols.sort_unstable();
        cands.push((rows, cols));
    }
    cands.retain(|(r, c)| !r.is_empty() && !c.is_empty() && r.len().max(c.len()) <= 4000);
    cands.sort_by_key(|(r, c)| r.len() + c.len());
    cands.dedup();
    let consider = |xr: Vec<f64>, yr: Vec<f64>, best: &mut Option<(Vec<f64>, Vec<f64>, f64)>| {
        let (mut xr, mut yr) = (xr, yr);
        project_simplex(&mut xr);
        project_simplex(&mut yr);
        let (gr, _, _) = g.gap(&xr, &yr);
        if gr < best.as_ref().map_or(gap, |b| b.2) {
            *best = Some((xr, yr, gr));
        }
    };
    for (k, (rows, cols)) in cands.into_iter().enumerate() {
        if k > 0 && t0.elapsed().as_secs_f64() > seconds {
            break;
        }
        let scatter = |xi: &[f64], yj: &[f64]| {
            let (mut xr, mut yr) = (vec![0.0; m], vec![0.0; n]);
            for (a, &i) in rows.iter().enumerate() {
                xr[i] = xi[a];
            }
            for (b, &j) in cols.iter().enumerate() {
                yr[j] = yj[b];
            }
            (xr, yr)
        };
        if rows.len() == cols.len() {
            // Nondegenerate equilibrium on square supports: two linear systems.
            let mij = Mat::<f64>::from_fn(rows.len(), cols.len(), |a, b| g.entry(rows[a], cols[b]));
            if let (Some(yj), Some(xi)) = (
                support_system(&mij),
                support_system(&mij.transpose().to_owned()),
            ) {
                let (xr, yr) = scatter(&xi, &yj);
                consider(xr, yr, &mut best);
            }
        }
        if rows.len() + cols.len() <= SUBGAME_MAX {
            // Any supports (degenerate games included): the subgame on the candidate rows and
            // columns, solved exactly; its equilibrium is one of the full game when the
            // candidates contain an equilibrium's supports, and the exact gap decides.
            let sub = MatrixGame::from_row_major(
                "subgame",
                rows.len(),
                cols.len(),
                rows.iter()
                    .flat_map(|&i| cols.iter().map(move |&j| g.entry(i, j)))
                    .collect(),
            );
            if let Ok((_, xi, yj)) = sub.and_then(|sg| game_exact(&sg)) {
                let (xr, yr) = scatter(&xi, &yj);
                consider(xr, yr, &mut best);
            }
        }
    }
    best
}

/// Solve a matrix game with the Halpern methods of [`super`], stopping when the residual is
/// at most `settings.monotone.tol` or the duality gap at most `gap_tol`, with support
/// refinement once the gap is below `refine_below`. One run: the observer sees one start, one
/// finish, and the iterations of every round in one count. The report's objective is the
/// midpoint of the value bounds, `bound` the upper bound, `residuals.gap` the exact gap.
///
/// ```
/// use mathprog_problems::game::MatrixGame;
/// use mathprog_solvers::core::{NoObserver, Status};
/// use mathprog_solvers::monotone::{GameSettings, solve_game};
/// // Matching pennies: value 0, both players mix 50/50.
/// let g = MatrixGame::from_row_major("pennies", 2, 2, vec![1.0, -1.0, -1.0, 1.0]).unwrap();
/// let r = solve_game(&g, &GameSettings::default(), &mut NoObserver).unwrap();
/// assert_eq!(r.status, Status::Converged);
/// assert!(r.residuals.gap.unwrap() <= 1e-6);
/// assert!((r.solution.x[0] - 0.5).abs() < 1e-5);
/// ```
pub fn solve_game(
    game: &MatrixGame,
    settings: &GameSettings,
    observer: &mut dyn Observer,
) -> Result<GameReport, SolveError> {
    // The clock covers the set-up (centring copies the matrix).
    let t0 = std::time::Instant::now();
    settings.validate()?;
    let s = &settings.monotone;
    let original = game;
    let centred = centred(game)?;
    let game = &centred;
    let m = game.rows();
    if let Some(u0) = &s.start
        && u0.len() != game.rows() + game.cols()
    {
        return Err(SolveError::DimensionMismatch {
            what: "start".into(),
            expected: game.rows() + game.cols(),
            found: u0.len(),
        });
    }
    // The iterates are on the simplices and F(u) = (Ay, −Aᵀx): the gap
    // max_j (Aᵀx)_j − min_i (Ay)_i costs nothing more (the centring shift cancels).
    let measure = |_u: &[f64], f: &[f64]| {
        let upper = f[m..].iter().fold(f64::NEG_INFINITY, |a, v| a.max(-v));
        let lower = f[..m].iter().copied().fold(f64::INFINITY, f64::min);
        upper - lower
    };
    // The value estimate: the midpoint of the bounds, shifted back by the centring.
    let mean = original.entry(0, 0) - game.entry(0, 0);
    let value = |_u: &[f64], f: &[f64]| {
        let upper = f[m..].iter().fold(f64::NEG_INFINITY, |a, v| a.max(-v));
        let lower = f[..m].iter().copied().fold(f64::INFINITY, f64::min);
        0.5 * (upper + lower) + mean
    };
    let target = settings.gap_tol.unwrap_or(-1.0);
    let mut run = Run::start_at(
        t0,
        &s.common,
        observer,
        s.method.name(),
        original.name(),
        Sense::Minimize,
        game.rows() + game.cols(),
    );
    let mut u: Option<Vec<f64>> = s.start.clone();
    let mut round = s.clone();
    let mut epochs = 0.0;
    let mut steps = 0u64;
    let (mut refinements, mut refined_ok) = (0u64, 0u64);
    let mut trigger = settings.refine_below.unwrap_or(-1.0);
    let mut refine_secs = 0.0;
    let last = loop {
        let extra = ExtraStop {
            name: "gap",
            measure: &measure,
            tol: target.max(trigger),
            objective: Some(&value),
        };
        let mut last = iterate(game, &round, u.as_deref(), Some(&extra), &mut run, epochs)?;
        epochs += last.stats.epochs;
        steps += last.steps;
        // Later rounds reuse the Lipschitz estimate (100 power iterations) of the first, or
        // start from the adapted step.
        round.lipschitz = Some(
            if s.adaptive_step
                && matches!(
                    s.method,
                    super::Method::Halpern | super::Method::Extragradient
                )
            {
                s.step_scale / last.stats.step
            } else {
                last.stats.lipschitz
            },
        );
        let gap = last.extra;
        if last.status != Status::Converged
            || gap <= target
            || gap > trigger
            || last.residual <= s.tol
        {
            break last;
        }
        // The gap reached the refinement trigger: try the supports, unless the attempts so
        // far took more than a quarter of the iterations' time (large games whose supports
        // are not yet identified would otherwise spend most of the run in dense LU).
        let iter_secs = run.elapsed() - refine_secs;
        if refine_secs > 0.25 * iter_secs {
            trigger = gap * 0.25;
        } else {
            refinements += 1;
            let (x, y) = last.u.split_at(m);
            let tr = std::time::Instant::now();
            let left = (0.25 * iter_secs - refine_secs).max(0.01);
            let refined = refine_support_within(game, x, y, gap, left);
            refine_secs += tr.elapsed().as_secs_f64();
            if let Some((xr, yr, gr)) = refined {
                refined_ok += 1;
                last.u = xr;
                last.u.extend_from_slice(&yr);
                last.extra = gr;
                if gr <= target {
                    break last;
                }
            }
            trigger = gap * 0.5;
        }
        u = Some(last.u.clone());
        if let Some(st) = run.budget(crate::core::Control::Continue, epochs as u64) {
            last.status = st;
            break last;
        }
    };
    let (x, y) = last.u.split_at(m);
    let (gap, upper, lower) = original.gap(x, y);
    let status = if gap <= target {
        Status::Converged
    } else {
        last.status
    };
    let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
    project_simplex(&mut xs);
    project_simplex(&mut ys);
    let residuals = MonotoneResiduals {
        residual: last.residual,
        gap: Some(gap),
    };
    let stats = GameStats {
        monotone: MonotoneStats {
            epochs,
            ..last.stats
        },
        refinements,
        refinements_accepted: refined_ok,
    };
    let solution = GameSolution {
        x: xs,
        y: ys,
        upper,
        lower,
    };
    Ok(run.finish(
        End::new(status, solution, 0.5 * (upper + lower), residuals, stats)
            .bound(Some(upper))
            .iterations(steps)
            .backend(BackendReport::cpu_only(s.common.backend, s.method.name())),
    ))
}

/// `A − c11ᵀ` with `c` the mean entry: `xᵀ(A − c11ᵀ)y = xᵀAy − c` on the simplices, so the
/// equilibria do not change, and removing the mean takes away the rank-one part that dominates
/// `‖A‖₂` of, e.g., positive games (uniform[0,1]: `‖A‖₂ ≈ n/2` against about `√n` once
/// centred), so steps grow.
fn centred(game: &MatrixGame) -> Result<MatrixGame, SolveError> {
    let (mm, nn) = (game.rows(), game.cols());
    let mean = (0..mm)
        .map(|i| game.row(i).iter().sum::<f64>())
        .sum::<f64>()
        / (mm * nn) as f64;
    MatrixGame::from_row_major(
        game.name(),
        mm,
        nn,
        (0..mm)
            .flat_map(|i| game.row(i).iter().map(move |v| v - mean))
            .collect(),
    )
    .map_err(|e| SolveError::InvalidInput(e.to_string()))
}
