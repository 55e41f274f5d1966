//! MIMO detection by MCPG (Chen et al., arXiv 2307.00783, §5.4) with a posterior-mean answer.
//!
//! [`detect`] builds the real-form ML objective `f(s) = ‖H_r s − y_r‖²`
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
use crate::binary::mcpg::{self, McpgSettings};
use crate::core::{Observer, Report, SolveError, stream_rng};
use mathprog_problems::binary::{BinaryObjective, Spin};
use mathprog_problems::mimo::{MimoDetection, MimoInstance, bit_error_rate};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

/// Settings of [`detect`].
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
    /// The paper's answer rule: no posterior stage, majority vote of the 12 best groups.
    pub fn group_vote() -> Self {
        let mut s = MimoSettings {
            posterior_chains: 0,
            ..Self::default()
        };
        s.mcpg.vote = Some(12);
        s
    }
}

/// Detect the symbols of `inst` (see the module documentation).
///
/// `settings.mcpg.initial`, when set, replaces the MMSE warm start. The report's `elapsed`
/// includes the set-up (Gram matrix and MMSE) and the posterior stage; the time limit covers
/// the MCPG and posterior stages. Statistics added to the report: `setup_seconds`,
/// `mmse_objective`, `best_objective` (lowest residual found), and with known symbols `ber`,
/// `best_ber` (of the lowest-residual solution), `mmse_ber` and `truth_objective` (the
/// residual of the transmitted symbols).
pub fn detect(
    inst: &MimoInstance,
    settings: &MimoSettings,
    observer: &mut dyn Observer,
) -> Result<Report<Vec<Spin>>, SolveError> {
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
        s.vote = None;
        if let Some(t) = s.common.time_limit {
            s.common.time_limit = Some(t * settings.mcpg_time_fraction.clamp(0.0, 1.0));
        }
    }
    let mut report = mcpg::solve(&problem, &s, observer)?;
    let best = report.solution.clone();
    let best_energy = problem.energy(&best);
    if posterior {
        let deadline = common
            .time_limit
            .map(|t| t0 + Duration::from_secs_f64(setup + t));
        let beta = 1.0 / inst.noise_var.max(1e-300);
        let order = problem.sweep_order();
        let n = best.len();
        let chain_sums: Vec<(Vec<i64>, u64)> = pool.install(|| {
            (0..settings.posterior_chains)
                .into_par_iter()
                .with_max_len(1)
                .map(|c| {
                    let mut rng = stream_rng(common.seed, u64::MAX - 1, c as u64);
                    let mut x = best.clone();
                    let mut st = problem.init_state(&x);
                    let mut sum = vec![0i64; n];
                    let mut kept = 0u64;
                    for sweep in 0..settings.posterior_sweeps {
                        if common.stop.is_stopped() || deadline.is_some_and(|d| Instant::now() >= d)
                        {
                            break;
                        }
                        metropolis_sweep(&problem, &mut x, &mut st, &order, &mut rng, beta);
                        if sweep >= settings.burn_in {
                            for (t, &xi) in sum.iter_mut().zip(&x) {
                                *t += i64::from(xi);
                            }
                            kept += 1;
                        }
                    }
                    (sum, kept)
                })
                .collect()
        });
        let mut total = vec![0i64; n];
        let mut kept = 0u64;
        for (sum, k) in &chain_sums {
            kept += k;
            for (t, v) in total.iter_mut().zip(sum) {
                *t += v;
            }
        }
        if kept > 0 {
            for ((x, &t), &b) in report.solution.iter_mut().zip(&total).zip(&best) {
                *x = match t.cmp(&0) {
                    std::cmp::Ordering::Greater => 1,
                    std::cmp::Ordering::Less => -1,
                    std::cmp::Ordering::Equal => b,
                };
            }
            report.objective = problem.energy(&report.solution);
        }
        report.stats.insert("posterior_samples".into(), kept.into());
    }
    report.elapsed = t0.elapsed().as_secs_f64();
    if let Some(t) = report.time_to_best.as_mut() {
        *t += setup;
    }
    let voted = !posterior && s.vote.is_some();
    let st = &mut report.stats;
    st.insert("setup_seconds".into(), setup.into());
    if !voted {
        // (With the group vote, MCPG itself reports the lowest residual as best_objective.)
        st.insert("best_objective".into(), best_energy.into());
    }
    st.insert("mmse_objective".into(), problem.energy(&mmse).into());
    st.insert(
        "answer".into(),
        if posterior {
            "posterior_mean"
        } else if voted {
            "group_vote"
        } else {
            "best"
        }
        .into(),
    );
    if let Some(truth) = inst.true_spins() {
        st.insert(
            "ber".into(),
            bit_error_rate(&report.solution, &truth).into(),
        );
        if !voted {
            st.insert("best_ber".into(), bit_error_rate(&best, &truth).into());
        }
        st.insert("mmse_ber".into(), bit_error_rate(&mmse, &truth).into());
        st.insert("truth_objective".into(), problem.energy(&truth).into());
    }
    Ok(report)
}
