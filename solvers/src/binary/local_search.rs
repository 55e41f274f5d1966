//! Local-search operators on spin vectors with incremental state.
//!
//! These are the filters `T` of MCPG (Chen et al., arXiv 2307.00783, §3): a few Gauss–Seidel
//! sweeps in which every variable moves to its better value given the others
//! (`flip if Δf < 0`, flip with probability ½ if `Δf = 0`), and a descent to a 1-flip local
//! optimum used to polish final answers.

use crate::binary::tabu::{TabuParams, TabuScratch, tabu_walk};
use crate::core::{Budget, uniform01};
use mathprog_problems::binary::{BinaryObjective, Spin};
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The local-search filter applied to every sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Filter {
    /// The paper's filter: exactly `sweeps` greedy Gauss–Seidel sweeps in the problem's sweep
    /// order, ties broken at random. Does not necessarily end in a local optimum.
    Greedy {
        /// Number of sweeps.
        sweeps: usize,
    },
    /// Greedy sweeps (ties at random) until a sweep makes no strict improvement, at most
    /// `max_sweeps` sweeps.
    LocalOpt {
        /// Cap on the number of sweeps.
        max_sweeps: usize,
    },
    /// Short simulated annealing: `sweeps` Metropolis sweeps in sweep order with inverse
    /// temperature rising geometrically from `beta_start` to `beta_end` (both divided by the
    /// problem's [`BinaryObjective::delta_scale`]), accepting a flip of energy change `Δ > 0` with
    /// probability `exp(−βΔ)`, then greedy sweeps to a 1-flip local optimum.
    Anneal {
        /// Number of Metropolis sweeps.
        sweeps: usize,
        /// Initial inverse temperature (in units of the typical |Δ|).
        beta_start: f64,
        /// Final inverse temperature.
        beta_end: f64,
    },
    /// Greedy sweeps to a local optimum, then tabu search ([`crate::binary::tabu`]): at most `moves` best-admissible flips, stopping
    /// after `patience` moves without improvement; returns the walk's best point.
    Tabu {
        /// Maximum moves per sample.
        moves: usize,
        /// Moves without improvement before the walk stops.
        patience: usize,
        /// Base tabu tenure (random in `[tenure, 2·tenure)`); 0 means `max(5, n/100)`.
        tenure: usize,
    },
}

impl Filter {
    /// Short description for reports.
    pub fn describe(&self) -> String {
        match self {
            Filter::Greedy { sweeps } => format!("greedy x{sweeps}"),
            Filter::LocalOpt { max_sweeps } => format!("local-opt (<= {max_sweeps} sweeps)"),
            Filter::Anneal {
                sweeps,
                beta_start,
                beta_end,
            } => {
                format!("anneal x{sweeps} (beta {beta_start} -> {beta_end}) + local-opt")
            }
            Filter::Tabu {
                moves,
                patience,
                tenure,
            } => {
                format!("tabu (<= {moves} moves, patience {patience}, tenure {tenure})")
            }
        }
    }
}

/// Random tie-breaking bits drawn 64 at a time.
struct Coin<'a, R: Rng> {
    rng: &'a mut R,
    bits: u64,
    left: u32,
}

impl<'a, R: Rng> Coin<'a, R> {
    fn new(rng: &'a mut R) -> Self {
        Coin {
            rng,
            bits: 0,
            left: 0,
        }
    }
    #[inline]
    fn flip(&mut self) -> bool {
        if self.left == 0 {
            self.bits = self.rng.next_u64();
            self.left = 64;
        }
        let b = self.bits & 1 == 1;
        self.bits >>= 1;
        self.left -= 1;
        b
    }
}

/// One greedy Gauss–Seidel sweep over `order`; returns the energy change and whether any
/// strictly improving flip happened.
#[inline]
pub fn greedy_sweep<P: BinaryObjective, R: Rng>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    order: &[usize],
    rng: &mut R,
) -> (f64, bool) {
    let mut coin = Coin::new(rng);
    let mut change = 0.0;
    let mut improved = false;
    for &v in order {
        let d = p.flip_delta(st, x, v);
        if d < 0.0 || (d == 0.0 && coin.flip()) {
            improved |= d < 0.0;
            change += d;
            p.flip(st, x, v);
        }
    }
    (change, improved)
}

/// Apply a filter to `(x, st)` with energy `e`; returns the new energy. `scratch` holds the
/// buffers of the filters that need them (allocated once per chain group).
#[inline]
#[allow(clippy::too_many_arguments)]
pub fn apply_filter<P: BinaryObjective, R: Rng>(
    p: &P,
    filter: Filter,
    x: &mut [Spin],
    st: &mut P::State,
    mut e: f64,
    order: &[usize],
    rng: &mut R,
    scratch: &mut TabuScratch,
    budget: &Budget<'_>,
) -> f64 {
    match filter {
        Filter::Greedy { sweeps } => {
            for _ in 0..sweeps {
                if budget.spent() {
                    break;
                }
                e += greedy_sweep(p, x, st, order, rng).0;
            }
        }
        Filter::LocalOpt { max_sweeps } => e += local_opt(p, x, st, order, rng, max_sweeps, budget),
        Filter::Anneal {
            sweeps,
            beta_start,
            beta_end,
        } => {
            let inv_scale = 1.0 / p.delta_scale();
            let ratio = if sweeps > 1 {
                (beta_end / beta_start).powf(1.0 / (sweeps - 1) as f64)
            } else {
                1.0
            };
            let mut beta = beta_start * inv_scale;
            for _ in 0..sweeps {
                if budget.spent() {
                    break;
                }
                e += metropolis_sweep(p, x, st, order, rng, beta);
                beta *= ratio;
            }
            e += local_opt(p, x, st, order, rng, LOCAL_OPT_MAX_SWEEPS, budget);
        }
        Filter::Tabu {
            moves,
            patience,
            tenure,
        } => {
            let tenure = if tenure == 0 {
                (x.len() / 100).max(5)
            } else {
                tenure
            };
            e += local_opt(p, x, st, order, rng, LOCAL_OPT_MAX_SWEEPS, budget);
            e = tabu_walk(
                p,
                x,
                st,
                e,
                TabuParams {
                    moves,
                    patience,
                    tenure,
                },
                scratch,
                rng,
                budget,
            );
        }
    }
    e
}

/// Cap on the greedy sweeps that end an annealing filter.
const LOCAL_OPT_MAX_SWEEPS: usize = 1000;

/// Greedy sweeps (ties at random) until one makes no strict improvement; returns `Δf`.
#[inline]
fn local_opt<P: BinaryObjective, R: Rng>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    order: &[usize],
    rng: &mut R,
    max_sweeps: usize,
    budget: &Budget<'_>,
) -> f64 {
    let mut e = 0.0;
    for _ in 0..max_sweeps {
        if budget.spent() {
            break;
        }
        let (d, improved) = greedy_sweep(p, x, st, order, rng);
        e += d;
        if !improved {
            break;
        }
    }
    e
}

/// One Metropolis sweep at inverse temperature `beta`; returns `Δf`.
#[inline]
pub fn metropolis_sweep<P: BinaryObjective, R: Rng>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    order: &[usize],
    rng: &mut R,
    beta: f64,
) -> f64 {
    let mut change = 0.0;
    for &v in order {
        let d = p.flip_delta(st, x, v);
        if d <= 0.0 || uniform01(rng) < (-beta * d).exp() {
            change += d;
            p.flip(st, x, v);
        }
    }
    change
}

/// Deterministic descent to a 1-flip local optimum (no flip strictly decreases `f`); returns
/// the total energy change. Used to polish final answers.
pub fn descend_to_local_optimum<P: BinaryObjective>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    order: &[usize],
) -> f64 {
    let mut change = 0.0;
    loop {
        let mut improved = false;
        for &v in order {
            let d = p.flip_delta(st, x, v);
            if d < 0.0 {
                change += d;
                p.flip(st, x, v);
                improved = true;
            }
        }
        if !improved {
            return change;
        }
    }
}

/// Whether `x` is a 1-flip local optimum (checked from scratch, O(n) flips).
pub fn is_local_optimum<P: BinaryObjective>(p: &P, x: &[Spin]) -> bool {
    let st = p.init_state(x);
    (0..p.num_vars()).all(|v| p.flip_delta(&st, x, v) >= 0.0)
}
