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

use super::{ExtraStop, MonotoneSettings, solve_from};
use crate::core::{Observer, Report, SolveError, Status};
use faer::Mat;
use faer::linalg::solvers::Solve;
use mathprog_problems::binary::Sense;
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
            let sub = MatrixGame::new(
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

/// Solve a matrix game with [`super::solve`], stopping when the residual is at most
/// `settings.tol` or the duality gap at most `gap_tol`, with support refinement once the gap
/// is below `refine_below` (`None`: no refinement). The report's objective is the midpoint of
/// the value bounds, `bound` the upper bound, `residuals["gap"]` the gap.
pub fn solve_game(
    game: &MatrixGame,
    s: &MonotoneSettings,
    gap_tol: Option<f64>,
    refine_below: Option<f64>,
    observer: &mut dyn Observer,
) -> Result<Report<GameSolution>, SolveError> {
    let original = game;
    // xᵀ(A − c11ᵀ)y = xᵀAy − c on the simplices: the equilibria do not change, and removing
    // the mean entry takes away the rank-one part that dominates ‖A‖₂ of, e.g., positive
    // games (uniform[0,1]: ‖A‖₂ ≈ n/2 against about √n once centred), so steps grow.
    let (mm, nn) = (game.rows(), game.cols());
    let mean = (0..mm)
        .map(|i| game.row(i).iter().sum::<f64>())
        .sum::<f64>()
        / (mm * nn) as f64;
    let centred = MatrixGame::new(
        game.name(),
        mm,
        nn,
        (0..mm)
            .flat_map(|i| game.row(i).iter().map(move |v| v - mean))
            .collect(),
    )
    .map_err(|e| SolveError::InvalidInput(e.to_string()))?;
    let game = &centred;
    let m = game.rows();
    // The iterates are on the simplices and F(u) = (Ay, −Aᵀx): the gap
    // max_j (Aᵀx)_j − min_i (Ay)_i costs nothing more (the centring shift cancels).
    let measure = |_u: &[f64], f: &[f64]| {
        let upper = f[m..].iter().fold(f64::NEG_INFINITY, |a, v| a.max(-v));
        let lower = f[..m].iter().copied().fold(f64::INFINITY, f64::min);
        upper - lower
    };
    let target = gap_tol.unwrap_or(-1.0);
    let t0 = std::time::Instant::now();
    let mut u: Option<Vec<f64>> = None;
    let mut settings = s.clone();
    let mut epochs = 0.0;
    let (mut refinements, mut refined_ok) = (0u64, 0u64);
    let mut trigger = refine_below.unwrap_or(-1.0);
    let mut last: Report<Vec<f64>>;
    let mut refine_secs = 0.0;
    // What is left of the time and epoch limits for the next round; false when spent.
    let budget = |settings: &mut MonotoneSettings, last: &mut Report<Vec<f64>>, epochs: f64| {
        let used = t0.elapsed().as_secs_f64();
        if let Some(tl) = s.common.time_limit {
            if used >= tl {
                last.status = Status::TimeLimit;
                return false;
            }
            settings.common.time_limit = Some(tl - used);
        }
        if let Some(mx) = s.common.max_iter {
            if epochs as u64 >= mx {
                last.status = Status::IterationLimit;
                return false;
            }
            settings.common.max_iter = Some(mx - epochs as u64);
        }
        true
    };
    loop {
        let extra = ExtraStop {
            name: "gap",
            measure: &measure,
            tol: target.max(trigger),
        };
        last = solve_from(game, &settings, u.as_deref(), Some(&extra), observer)?;
        epochs += last.stats["epochs"].as_f64().unwrap_or(0.0);
        // Later runs reuse the Lipschitz estimate (100 power iterations) of the first, or
        // start from the adapted step.
        settings.lipschitz = match last.stats["step"].as_f64() {
            Some(step)
                if s.adaptive_step
                    && matches!(
                        s.method,
                        super::Method::Halpern | super::Method::Extragradient
                    ) =>
            {
                Some(s.step_scale / step)
            }
            _ => last.stats["lipschitz"].as_f64(),
        };
        let gap = last.residuals["gap"];
        if last.status != Status::Converged || gap <= target {
            break;
        }
        if gap > trigger || last.residuals["residual"] <= s.tol {
            break;
        }
        // The gap reached the refinement trigger: try the supports, unless the attempts so
        // far took more than a quarter of the iterations' time (large games whose supports
        // are not yet identified would otherwise spend most of the run in dense LU).
        let iter_secs = t0.elapsed().as_secs_f64() - refine_secs;
        if refine_secs > 0.25 * iter_secs {
            trigger = gap * 0.25;
            u = Some(last.solution.clone());
            if !budget(&mut settings, &mut last, epochs) {
                break;
            }
            continue;
        }
        refinements += 1;
        let (x, y) = last.solution.split_at(m);
        let tr = std::time::Instant::now();
        let refined =
            refine_support_within(game, x, y, gap, (0.25 * iter_secs - refine_secs).max(0.01));
        refine_secs += tr.elapsed().as_secs_f64();
        if let Some((xr, yr, gr)) = refined {
            refined_ok += 1;
            let mut ur = xr;
            ur.extend_from_slice(&yr);
            last.solution = ur;
            last.residuals.insert("gap".into(), gr);
            if gr <= target {
                break;
            }
        }
        trigger = gap * 0.5;
        u = Some(last.solution.clone());
        if !budget(&mut settings, &mut last, epochs) {
            break;
        }
    }
    let (x, y) = last.solution.split_at(m);
    let (gap, upper, lower) = original.gap(x, y);
    if gap <= target {
        last.status = Status::Converged;
    }
    let (mut xs, mut ys) = (x.to_vec(), y.to_vec());
    project_simplex(&mut xs);
    project_simplex(&mut ys);
    let mut residuals = last.residuals;
    residuals.insert("gap".into(), gap);
    let mut stats = last.stats;
    stats.insert("epochs".into(), epochs.into());
    stats.insert("refinements".into(), refinements.into());
    stats.insert("refinements_accepted".into(), refined_ok.into());
    Ok(Report {
        algorithm: last.algorithm,
        problem: original.name().to_string(),
        status: last.status,
        solution: GameSolution {
            x: xs,
            y: ys,
            upper,
            lower,
        },
        objective: 0.5 * (upper + lower),
        sense: Sense::Minimize,
        bound: Some(upper),
        residuals,
        iterations: last.iterations,
        elapsed: t0.elapsed().as_secs_f64(),
        time_to_best: None,
        seed: last.seed,
        threads: last.threads,
        stats,
        backend: last.backend,
    })
}
