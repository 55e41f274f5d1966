//! MIMO detection by MCPG (Chen et al., arXiv 2307.00783, §5.4) with a posterior-mean answer.
//!
//! [`solve`] builds the real-form ML objective `f(s) = ‖H_r s − y_r‖²`
//! ([`mathprog_problems::mimo::MimoDetection`]), computes the MMSE baseline, starts every MCPG
//! group from the MMSE decision and runs MCPG (coordinate best-response filter) to find
//! low-residual solutions. The answer is then an *averaged sign*, in one of two ways:
//!
//! * **Posterior mean** (default, [`MimoSettings::posterior_chains`] > 0). With noise
//!   `CN(0, σ²)` the posterior of the symbols is `p(s | y) ∝ exp(−f(s)/σ²)`, the Gibbs
//!   distribution of `f` at temperature `σ²`. Starting from MCPG's best solution,
//!   `posterior_chains` Metropolis chains at `β = 1/σ²` run `posterior_sweeps` sweeps; after
//!   `burn_in` sweeps every visited state is added to a running sum, and the answer is its sign:
//!   the bit-wise MAP estimate, which minimises the expected bit error rate (ML minimises the
//!   vector error rate instead, which is why ML detectors lose to MMSE at low SNR).
//! * **Group vote** (the paper's rule, `posterior_chains = 0`): the sign of the sum of the best
//!   groups' solutions, [`McpgSettings::vote`].
//!
//! When the transmitted symbols are known the report's statistics carry the bit error rates of
//! the answer, of the lowest-residual solution and of MMSE.

use crate::binary::local_search::{Filter, metropolis_sweep};
use crate::binary::mcpg::{self, McpgSettings, McpgStats};
use crate::core::{NoResiduals, Observer, Report, Run, SolveError, stream_rng, uniform01};
use mathprog_problems::binary::{BinaryObjective, Spin};
use mathprog_problems::mimo::{
    MimoDetection, MimoInstance, Modulation, levels_of_spins, spins_of_levels,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::Instant;

/// Settings of [`solve`].
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct MimoSettings {
    /// The MCPG stage (budget, seed and threads are in `mcpg.common`).
    pub mcpg: McpgSettings,
    /// Metropolis chains of the posterior-mean stage (0: answer with the MCPG group vote).
    pub posterior_chains: usize,
    /// Sweeps per posterior chain.
    pub posterior_sweeps: usize,
    /// Sweeps discarded at the start of each posterior chain.
    pub burn_in: usize,
    /// Fraction of the time limit given to MCPG; the rest goes to the posterior stage.
    pub mcpg_time_fraction: f64,
}

impl Default for MimoSettings {
    /// CPU defaults: MCPG with 24 groups x 4 chains, 3 greedy sweeps (the paper's coordinate
    /// best response), perturbations of 2 % of the bits, at most 8 rounds; then 8 posterior
    /// chains of 150 sweeps (20 burn-in).
    fn default() -> Self {
        let mut m = McpgSettings {
            groups: 24,
            copies: 4,
            filter: Filter::Greedy { sweeps: 3 },
            accept_fraction: 0.02,
            restart_after: None,
            vote: None,
            ..McpgSettings::default()
        };
        m.common.max_iter = Some(8);
        MimoSettings {
            mcpg: m,
            posterior_chains: 8,
            posterior_sweeps: 150,
            burn_in: 20,
            mcpg_time_fraction: 0.5,
        }
    }
}

impl MimoSettings {
    /// Defaults for an alphabet: [`MimoSettings::default`] for 4-QAM; for 16-QAM longer
    /// posterior chains (600 sweeps, 200 burn-in), whose level-wise heat-bath needs longer to
    /// forget a start that bit-flip MCPG left in a poor local minimum.
    pub fn for_modulation(m: Modulation) -> Self {
        match m {
            Modulation::Qam4 => Self::default(),
            Modulation::Qam16 => MimoSettings {
                posterior_sweeps: 600,
                burn_in: 200,
                ..Self::default()
            },
        }
    }

    /// The paper's answer rule: no posterior stage, majority vote of the 12 best groups.
    pub fn group_vote() -> Self {
        let mut s = MimoSettings {
            posterior_chains: 0,
            ..Self::default()
        };
        s.mcpg.vote = Some(12);
        s
    }

    /// Check the fields that do not depend on the instance (the MCPG settings are checked
    /// against the instance's size by [`solve`]).
    pub fn validate(&self) -> Result<(), SolveError> {
        self.mcpg.common.validate()?;
        if !(0.0..=1.0).contains(&self.mcpg_time_fraction) {
            return Err(SolveError::InvalidInput(format!(
                "mcpg_time_fraction must be in [0, 1], got {}",
                self.mcpg_time_fraction
            )));
        }
        Ok(())
    }
}

/// How the MIMO answer was formed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MimoAnswer {
    /// The posterior mean of the Metropolis stage (bit-wise MAP).
    PosteriorMean,
    /// The MCPG group vote.
    GroupVote,
    /// MCPG's best solution.
    Best,
}

/// Statistics of a MIMO detection: MCPG's, plus the detector's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MimoStats {
    /// The MCPG stage (its `best_objective` is the lowest residual found).
    #[serde(flatten)]
    pub mcpg: McpgStats,
    /// Seconds of set-up: the Gram matrix and MMSE.
    pub setup_seconds: f64,
    /// Residual of the MMSE estimate.
    pub mmse_objective: f64,
    /// How the answer was formed.
    pub answer: MimoAnswer,
    /// Samples kept by the posterior stage.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub posterior_samples: Option<u64>,
    /// Bit error rate of the answer (known symbols only).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub ber: Option<f64>,
    /// Bit error rate of the lowest-residual solution (known symbols, no vote).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub best_ber: Option<f64>,
    /// Bit error rate of MMSE (known symbols).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mmse_ber: Option<f64>,
    /// Residual of the transmitted symbols (known symbols).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub truth_objective: Option<f64>,
}

impl AsRef<McpgStats> for MimoStats {
    fn as_ref(&self) -> &McpgStats {
        &self.mcpg
    }
}

/// The report of a MIMO detection: ±1 spins (Gray bits of the real form).
pub type MimoReport = Report<Vec<Spin>, NoResiduals, MimoStats>;

/// Detect the symbols of `inst` (see the module documentation).
///
/// `settings.mcpg.initial`, when set, replaces the MMSE warm start. The report's `elapsed`
/// includes the set-up (Gram matrix and MMSE) and the posterior stage; the time limit covers
/// the MCPG and posterior stages. Statistics added to the report: `setup_seconds`,
/// `mmse_objective`, `best_objective` (lowest residual found), and with known symbols `ber`,
/// `best_ber` (of the lowest-residual solution), `mmse_ber` and `truth_objective` (the
/// residual of the transmitted symbols).
pub fn solve(
    inst: &MimoInstance,
    settings: &MimoSettings,
    observer: &mut dyn Observer,
) -> Result<MimoReport, SolveError> {
    settings.validate()?;
    let t0 = Instant::now();
    let common = &settings.mcpg.common;
    let pool = common.thread_pool()?;
    let threads = common.resolved_threads();
    let par = if threads > 1 {
        faer::Par::rayon(threads)
    } else {
        faer::Par::Seq
    };
    let (problem, mmse) = pool.install(|| -> Result<_, SolveError> {
        let p =
            MimoDetection::new(inst, par).map_err(|e| SolveError::InvalidInput(e.to_string()))?;
        let (m, _) = p
            .mmse()
            .map_err(|e| SolveError::InvalidInput(e.to_string()))?;
        Ok((p, m))
    })?;
    let setup = t0.elapsed().as_secs_f64();
    let mut s = settings.mcpg.clone();
    if s.initial.is_none() {
        s.initial = Some(mmse.clone());
    }
    let posterior = settings.posterior_chains > 0 && settings.posterior_sweeps > settings.burn_in;
    if posterior {
        // Each chain keeps its spins, state and level counts (a few words a variable).
        let per_chain = problem.num_vars().saturating_mul(48);
        mathprog_problems::limits::check_alloc(
            "the posterior chains",
            settings.posterior_chains,
            per_chain,
        )
        .map_err(|e| SolveError::InvalidInput(format!("{e} (--posterior-chains)")))?;
    }
    if posterior {
        s.vote = None;
        if let Some(t) = s.common.time_limit {
            s.common.time_limit = Some(t * settings.mcpg_time_fraction.clamp(0.0, 1.0));
        }
    }
    s.validate(problem.num_vars())?;
    let mut selected = crate::linalg::backend::select(common.backend, "mcpg")?;
    // The run's clock starts before the set-up; its time limit covers the set-up and MCPG.
    let mut budget = mcpg::budget_common(&s);
    budget.time_limit = s.common.time_limit.map(|t| t + setup);
    let mut run = Run::start_at(
        t0,
        &budget,
        observer,
        "mcpg",
        problem.name(),
        problem.sense(),
        problem.num_vars(),
    );
    let mut out = mcpg::rounds(&problem, &s, &mut run, &mut selected)?;
    let best = out.solution.clone();
    let mut posterior_samples = None;
    let best_energy = problem.energy(&best);
    if posterior {
        let deadline = common
            .time_limit
            .and_then(|t| crate::core::deadline_after(t0, setup + t));
        let (total, kept) =
            pool.install(|| level_counts(&problem, inst, settings, &best, deadline));
        if kept > 0 {
            out.solution = posterior_answer(&problem, &best, &total);
            out.objective = problem.energy(&out.solution);
        }
        posterior_samples = Some(kept);
    }
    let voted = !posterior && s.vote.is_some();
    let mut mcpg_stats = out.stats.clone();
    if !voted {
        // (With the group vote, MCPG itself reports the lowest residual as best_objective.)
        mcpg_stats.best_objective = Some(best_energy);
    }
    let known = inst.true_spins().zip(inst.bit_error_rate(&out.solution));
    let stats = MimoStats {
        mcpg: mcpg_stats,
        setup_seconds: setup,
        mmse_objective: problem.energy(&mmse),
        answer: if posterior {
            MimoAnswer::PosteriorMean
        } else if voted {
            MimoAnswer::GroupVote
        } else {
            MimoAnswer::Best
        },
        posterior_samples,
        ber: known.as_ref().map(|(_, ber)| *ber),
        best_ber: known
            .as_ref()
            .filter(|_| !voted)
            .and_then(|_| inst.bit_error_rate(&best)),
        mmse_ber: known.as_ref().and_then(|_| inst.bit_error_rate(&mmse)),
        truth_objective: known.as_ref().map(|(truth, _)| problem.energy(truth)),
    };
    let end = crate::core::End::new(
        out.status,
        out.solution,
        out.objective,
        NoResiduals {},
        stats,
    )
    .bound(out.bound)
    .iterations(out.iterations)
    .time_to_best(Some(out.time_to_best))
    .backend(out.backend);
    Ok(run.finish(end))
}

/// The posterior stage: `posterior_chains` Metropolis chains (heat-bath on the levels for
/// 16-QAM) at `β = 1/σ²` from `best`, in parallel; returns the visits of each level of each
/// real dimension after burn-in (dimension-major) and the samples kept.
fn level_counts(
    problem: &MimoDetection,
    inst: &MimoInstance,
    settings: &MimoSettings,
    best: &[Spin],
    deadline: Option<Instant>,
) -> (Vec<u64>, u64) {
    let common = &settings.mcpg.common;
    let beta = 1.0 / inst.noise_var.max(1e-300);
    let order = problem.sweep_order();
    let levels = problem.modulation().levels();
    let (nl, nd) = (levels.len(), problem.real_dims());
    let level_index = |z: f64| levels.iter().position(|&l| l == z).unwrap_or(0);
    let chain_counts: Vec<(Vec<u32>, u64)> = (0..settings.posterior_chains)
        .into_par_iter()
        .with_max_len(1)
        .map(|c| {
            let mut rng = stream_rng(common.seed, u64::MAX - 1, c as u64);
            let mut x = best.to_vec();
            let mut st = problem.init_state(&x);
            let mut counts = vec![0u32; nd * nl];
            let mut weights = vec![0.0f64; nl];
            let mut kept = 0u64;
            for sweep in 0..settings.posterior_sweeps {
                if common.stop.is_stopped() || deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
                if nl == 2 {
                    // One bit per dimension: Metropolis on the bits.
                    metropolis_sweep(problem, &mut x, &mut st, &order, &mut rng, beta);
                } else {
                    heat_bath_sweep(problem, &mut x, &mut st, &mut weights, &mut rng, beta);
                }
                if sweep >= settings.burn_in {
                    for j in 0..nd {
                        counts[j * nl + level_index(problem.level(&st, j))] += 1;
                    }
                    kept += 1;
                }
            }
            (counts, kept)
        })
        .collect();
    let mut total = vec![0u64; nd * nl];
    let mut kept = 0u64;
    for (counts, k) in &chain_counts {
        kept += k;
        for (t, &v) in total.iter_mut().zip(counts) {
            *t += u64::from(v);
        }
    }
    (total, kept)
}

/// Heat-bath on the levels of each dimension: a move to an adjacent level may need two bit
/// flips, which single-flip dynamics cross only through a high-energy state.
fn heat_bath_sweep(
    problem: &MimoDetection,
    x: &mut [Spin],
    st: &mut <MimoDetection as BinaryObjective>::State,
    weights: &mut [f64],
    rng: &mut crate::core::RngStream,
    beta: f64,
) {
    let levels = problem.modulation().levels();
    let nl = levels.len();
    for j in 0..problem.real_dims() {
        let deltas = levels.iter().map(|&l| problem.level_delta(st, j, l));
        for (w, d) in weights.iter_mut().zip(deltas) {
            *w = d;
        }
        let dmin = weights.iter().copied().fold(f64::INFINITY, f64::min);
        let mut total = 0.0;
        for w in weights.iter_mut() {
            *w = (-beta * (*w - dmin)).exp();
            total += *w;
        }
        let mut u = uniform01(rng) * total;
        let mut pick = nl - 1;
        for (li, &w) in weights.iter().enumerate() {
            if u < w {
                pick = li;
                break;
            }
            u -= w;
        }
        problem.set_level(st, x, j, levels[pick]);
    }
}

/// The bit-wise MAP of the Gray bits of every dimension from the level counts; ties keep the
/// best solution's bit.
fn posterior_answer(problem: &MimoDetection, best: &[Spin], total: &[u64]) -> Vec<Spin> {
    let m = problem.modulation();
    let levels = m.levels();
    let (nl, nd) = (levels.len(), problem.real_dims());
    let best_levels = levels_of_spins(m, best);
    let mut z = vec![0.0; nd];
    for j in 0..nd {
        let gb = m.gray_bits(best_levels[j]);
        let mut votes = [0i64; 2];
        for (li, &l) in levels.iter().enumerate() {
            let c = total[j * nl + li] as i64;
            let g = m.gray_bits(l);
            votes[0] += if g[0] { c } else { -c };
            votes[1] += if g[1] { c } else { -c };
        }
        let bit = |k: usize| match votes[k].cmp(&0) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Less => false,
            std::cmp::Ordering::Equal => gb[k],
        };
        let sign = if bit(0) { 1.0 } else { -1.0 };
        z[j] = if nl == 2 || bit(1) { sign } else { 3.0 * sign };
    }
    spins_of_levels(m, &z)
}
