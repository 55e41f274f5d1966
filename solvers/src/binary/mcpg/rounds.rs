//! The rounds of MCPG: the state between rounds ([`State`]: groups, policy, optimiser, best
//! solutions, counters) and one method per step of a round (sample, reduce, restart the worst
//! group, policy-gradient update, epochs), driven by [`rounds`].

#[cfg(feature = "cuda")]
use super::GpuChains;
use super::{
    Adam, Group, McpgOutcome, McpgSettings, McpgStats, RoundCtx, Sampler, randomize_theta,
    run_group, sigmoid,
};
use crate::binary::local_search::{Filter, descend_to_local_optimum};
use crate::binary::tabu::TabuScratch;
use crate::core::{BackendReport, Control, IterRecord, Run, SolveError, Status};
use crate::linalg::backend::Selected;
use mathprog_problems::binary::{BinaryObjective, Spin};
use rayon::prelude::*;
use std::time::Instant;

/// MCPG between two rounds. Every buffer is allocated once, in [`State::new`].
struct State<S> {
    groups: Vec<Group<S>>,
    /// Gradient samples: `k_total` rows of `words` bit-words.
    z: Vec<u64>,
    /// Policy logits, probabilities, accumulated advantages, gradient, optimiser.
    theta: Vec<f64>,
    mu: Vec<f64>,
    s_acc: Vec<f64>,
    grad: Vec<f64>,
    adam: Adam,
    adv: Vec<f64>,
    /// Best solution overall.
    best_x: Vec<Spin>,
    best_e: f64,
    /// Best of the current epoch (since the last restart), with its state: the worst group
    /// restarts from it, so epochs stay independent of each other.
    epoch_x: Vec<Spin>,
    epoch_st: S,
    epoch_best: f64,
    epoch_improve_round: u64,
    epoch_start: u64,
    last_improve_round: u64,
    restarts: u64,
    samples: u64,
    accepted_total: u64,
    words: usize,
}

/// What one round's samples add up to.
struct RoundSums {
    /// Every chain finished (none was cut by the deadline or a stop).
    complete: bool,
    sum_e: f64,
    samples: u64,
    best: f64,
    improved: bool,
}

impl<S: Clone + Send + Sync> State<S> {
    fn new<P: BinaryObjective<State = S>>(problem: &P, settings: &McpgSettings) -> Self {
        let n = problem.num_vars();
        let (groups_n, copies) = (settings.groups, settings.copies);
        let words = n.div_ceil(64);
        let k_total = groups_n * copies;
        let x0: Vec<Spin> = settings.initial.clone().unwrap_or_else(|| vec![1; n]);
        let st0 = problem.init_state(&x0);
        let e0 = problem.energy(&x0);
        let groups = (0..groups_n)
            .map(|_| Group {
                start_x: x0.clone(),
                start_st: st0.clone(),
                start_e: e0,
                cand_x: x0.clone(),
                cand_st: st0.clone(),
                cand_e: e0,
                best_e: f64::INFINITY,
                work_x: x0.clone(),
                work_st: st0.clone(),
                energies: vec![0.0; copies],
                accepted: 0,
                scratch: if matches!(settings.filter, Filter::Tabu { .. }) {
                    TabuScratch::new(n)
                } else {
                    TabuScratch::default()
                },
            })
            .collect();
        let mut theta = vec![0.0; n];
        randomize_theta(&mut theta, settings.common.seed, 0);
        State {
            groups,
            z: vec![0u64; k_total * words],
            theta,
            mu: vec![0.5; n],
            s_acc: vec![0.0; words * 64],
            grad: vec![0.0; n],
            adam: Adam {
                m: vec![0.0; n],
                v: vec![0.0; n],
                t: 0,
            },
            adv: vec![0.0; k_total],
            best_x: x0.clone(),
            best_e: f64::INFINITY,
            epoch_x: x0,
            epoch_st: st0,
            epoch_best: f64::INFINITY,
            epoch_improve_round: 0,
            epoch_start: 0,
            last_improve_round: 0,
            restarts: 0,
            samples: 0,
            accepted_total: 0,
            words,
        }
    }

    /// The policy's probabilities `μ_i = ½ + spread (σ(θ_i) − ½)` for this round.
    fn update_mu(&mut self, spread: f64) {
        for (m, &t) in self.mu.iter_mut().zip(&self.theta) {
            *m = 0.5 + spread * (sigmoid(t) - 0.5);
        }
    }

    /// Sequential reduction in group order: each group adopts its best filtered sample; the
    /// overall and epoch bests follow. A sample that looks better than a best is re-evaluated
    /// from scratch first: incrementally updated energies drift in the last digits with real
    /// weights, and comparing them would count rounding as progress (`time_to_best` at the end
    /// of every run, `--stall-rounds` never firing). The bests hold exact energies.
    fn reduce<P: BinaryObjective<State = S>>(&mut self, problem: &P, round: u64) -> RoundSums {
        let mut sums = RoundSums {
            complete: true,
            sum_e: 0.0,
            samples: 0,
            best: f64::INFINITY,
            improved: false,
        };
        for grp in self.groups.iter_mut() {
            for &e in &grp.energies {
                if e.is_nan() {
                    sums.complete = false;
                } else {
                    sums.sum_e += e;
                    sums.samples += 1;
                }
            }
            self.accepted_total += grp.accepted;
            if grp.cand_e.is_finite() {
                std::mem::swap(&mut grp.start_x, &mut grp.cand_x);
                std::mem::swap(&mut grp.start_st, &mut grp.cand_st);
                grp.start_e = grp.cand_e;
                if grp.start_e < self.best_e || grp.start_e < self.epoch_best {
                    grp.start_e = problem.energy(&grp.start_x);
                }
                sums.best = sums.best.min(grp.start_e);
                grp.best_e = grp.best_e.min(grp.start_e);
                if grp.start_e < self.best_e {
                    self.best_e = grp.start_e;
                    self.best_x.copy_from_slice(&grp.start_x);
                    sums.improved = true;
                }
                if grp.start_e < self.epoch_best {
                    self.epoch_best = grp.start_e;
                    self.epoch_improve_round = round;
                    self.epoch_x.copy_from_slice(&grp.start_x);
                    self.epoch_st.clone_from(&grp.start_st);
                }
            }
        }
        self.samples += sums.samples;
        if sums.improved {
            self.last_improve_round = round;
        }
        sums
    }

    /// The group with the worst all-time best restarts from the best of the epoch.
    fn restart_worst_group(&mut self) {
        if self.groups.len() > 1
            && let Some((w, _)) = self
                .groups
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.best_e.total_cmp(&b.1.best_e).then(b.0.cmp(&a.0)))
            && self.groups[w].best_e > self.epoch_best
        {
            let grp = &mut self.groups[w];
            grp.start_x.copy_from_slice(&self.epoch_x);
            grp.start_st.clone_from(&self.epoch_st);
            grp.start_e = self.epoch_best;
            grp.best_e = self.epoch_best;
        }
    }

    /// The policy-gradient step: advantages `e_k − mean`, their bit-wise average over the
    /// samples (parallel over 64-bit words, samples in order), then Adam steps on θ with the
    /// gradient clipped to `grad_clip`.
    fn policy_update(&mut self, settings: &McpgSettings, sum_e: f64, pool: &rayon::ThreadPool) {
        let k_total = self.adv.len();
        let mean = sum_e / k_total as f64;
        for (a, &e) in self
            .adv
            .iter_mut()
            .zip(self.groups.iter().flat_map(|g| g.energies.iter()))
        {
            *a = e - mean;
        }
        let (a, zr, words) = (&self.adv, &self.z, self.words);
        let inv_k = 1.0 / k_total as f64;
        pool.install(|| {
            self.s_acc
                .par_chunks_mut(64)
                .enumerate()
                .for_each(|(w, out)| {
                    out.fill(0.0);
                    for (k, &ak) in a.iter().enumerate() {
                        let mut bits = zr[k * words + w];
                        while bits != 0 {
                            let b = bits.trailing_zeros() as usize;
                            out[b] += ak;
                            bits &= bits - 1;
                        }
                    }
                    for o in out.iter_mut() {
                        *o *= inv_k;
                    }
                });
        });
        let spread = settings.mu_spread;
        for _ in 0..settings.adam_steps {
            let mut norm2 = 0.0;
            for i in 0..self.theta.len() {
                let sg = sigmoid(self.theta[i]);
                let m = 0.5 + spread * (sg - 0.5);
                self.grad[i] = self.s_acc[i] * spread * sg * (1.0 - sg) / (m * (1.0 - m));
                norm2 += self.grad[i] * self.grad[i];
            }
            let norm = norm2.sqrt();
            if norm > settings.grad_clip && norm > 0.0 {
                let scale = settings.grad_clip / norm;
                self.grad.iter_mut().for_each(|g| *g *= scale);
            }
            self.adam
                .step(&mut self.theta, &self.grad, settings.learning_rate);
        }
    }

    /// After round `round`: a new epoch when the epoch stalled (`restart_after`), a policy reset
    /// every `reset_every` rounds.
    fn next_epoch(&mut self, settings: &McpgSettings, round: u64) {
        let seed = settings.common.seed;
        if settings.sampler == Sampler::PolicyChains
            && settings
                .restart_after
                .is_some_and(|k| round - self.epoch_improve_round > k)
        {
            // Fresh random groups and policy; the overall best is kept.
            self.restarts += 1;
            self.epoch_start = round;
            self.epoch_best = f64::INFINITY;
            self.epoch_improve_round = round;
            for grp in self.groups.iter_mut() {
                grp.best_e = f64::INFINITY;
            }
            randomize_theta(&mut self.theta, seed ^ self.restarts.rotate_left(32), round);
            self.adam.reset();
        }
        if let Some(r) = settings.reset_every
            && r > 0
            && round.is_multiple_of(r)
        {
            randomize_theta(&mut self.theta, seed, round);
            self.adam.reset();
        }
    }

    /// The answer: the best solution polished to a 1-flip local optimum, or the majority vote of
    /// the `vote` best groups. Returns the polish gain (≤ 0), the answer's energy and the best
    /// solution's objective before the vote.
    fn answer<P: BinaryObjective<State = S>>(
        &mut self,
        problem: &P,
        settings: &McpgSettings,
        order: &[usize],
    ) -> (f64, f64, f64) {
        let mut st = problem.init_state(&self.best_x);
        let polish = descend_to_local_optimum(problem, &mut self.best_x, &mut st, order);
        let mut energy = problem.energy(&self.best_x);
        let best_objective = problem.objective(energy);
        if let Some(k) = settings.vote.filter(|&k| k > 0) {
            let groups = &self.groups;
            let mut ranked: Vec<usize> = (0..groups.len()).collect();
            ranked.sort_by(|&a, &b| {
                groups[a]
                    .start_e
                    .total_cmp(&groups[b].start_e)
                    .then(a.cmp(&b))
            });
            let mut sum = vec![0i32; problem.num_vars()];
            for &g in ranked.iter().take(k) {
                for (t, &x) in sum.iter_mut().zip(&groups[g].start_x) {
                    *t += i32::from(x);
                }
            }
            for (x, &t) in self.best_x.iter_mut().zip(&sum) {
                if t != 0 {
                    *x = if t > 0 { 1 } else { -1 };
                }
            }
            energy = problem.energy(&self.best_x);
        }
        (polish, energy, best_objective)
    }
}

/// Chains per round: at least 3 accepted flips (fewer than n; a single flip followed by a
/// greedy filter usually falls back into the same local optimum), and the proposal cap.
fn chain_lengths(settings: &McpgSettings, n: usize) -> (u64, u64) {
    let accept_target = ((settings.accept_fraction * n as f64).ceil() as u64).max(3.min(n as u64));
    let max_steps = ((settings.max_steps_fraction * n as f64).ceil() as u64).max(accept_target);
    (accept_target, max_steps)
}

/// The statistics of a run with no variables.
fn empty_outcome<P: BinaryObjective>(problem: &P, settings: &McpgSettings) -> McpgOutcome {
    let e = problem.objective(problem.energy(&[]));
    McpgOutcome {
        status: Status::Optimal,
        solution: Vec::new(),
        objective: e,
        bound: Some(e),
        iterations: 0,
        time_to_best: 0.0,
        stats: McpgStats {
            groups: settings.groups,
            copies: settings.copies,
            samples: 0,
            filter: settings.filter.describe(),
            sampler: settings.sampler,
            accepted_flips: 0,
            gpu_seconds: None,
            restarts: 0,
            polish_gain: 0.0,
            vote: None,
            best_objective: None,
        },
        backend: BackendReport::cpu_only(settings.common.backend, "mcpg"),
    }
}

/// The rounds of MCPG inside a run started by the caller (with [`super::budget_common`]'s
/// limits).
pub(crate) fn rounds<P: BinaryObjective>(
    problem: &P,
    settings: &McpgSettings,
    run: &mut Run<'_>,
    #[cfg_attr(not(feature = "cuda"), allow(unused_variables))] selected: &mut Selected,
) -> Result<McpgOutcome, SolveError> {
    let n = problem.num_vars();
    if n == 0 {
        return Ok(empty_outcome(problem, settings));
    }
    let common = &settings.common;
    let pool = common.thread_pool()?;
    let (t0, deadline, max_rounds) = (run.t0(), run.deadline(), run.common().max_iter);
    let copies = settings.copies;
    let order = problem.sweep_order();
    let target_e = common.target.map(|t| problem.energy_of_objective(t));
    let (accept_target, max_steps) = chain_lengths(settings, n);
    let mut st = State::new(problem, settings);
    // Device buffers for every chain are allocated here, so that a GPU without the memory
    // for them fails now (and `auto` falls back to the CPU) rather than mid-solve.
    #[cfg(feature = "cuda")]
    let mut gpu = selected.setup(common.backend, |sel| match (sel.gpu(), problem.ising()) {
        (Some(dev), Some(view)) => GpuChains::new(dev, &view, settings.groups, copies, n)
            .map(Some)
            .map_err(crate::linalg::cuda::solve_error),
        _ => Ok(None),
    })?;
    #[cfg(feature = "cuda")]
    let gpu_used = gpu.is_some();
    #[cfg(not(feature = "cuda"))]
    let gpu_used = false;
    #[cfg_attr(not(feature = "cuda"), allow(unused_mut))]
    let mut gpu_seconds = 0.0f64;
    let backend = if selected.is_gpu() && !gpu_used {
        BackendReport::cpu_only(common.backend, &format!("mcpg on {}", problem.name()))
    } else {
        selected.report().clone()
    };
    let mut time_to_best = 0.0;
    let mut round = 0u64;
    let status = loop {
        st.update_mu(settings.mu_spread);
        let ctx = RoundCtx {
            round,
            seed: common.seed,
            n,
            words: st.words,
            mu: &st.mu,
            order: &order,
            pivot: problem.symmetry_pivot(),
            filter: settings.filter,
            fresh: round == st.epoch_start || settings.sampler == Sampler::RandomRestarts,
            initial: if round == 0 {
                settings.initial.as_deref()
            } else {
                None
            },
            epoch: st.restarts,
            accept_target,
            max_steps,
            budget: run.clock(),
        };
        // The chains of all groups: on the GPU ahead of the filters when it has them.
        #[cfg(feature = "cuda")]
        let pre = match gpu.as_mut() {
            Some(gc) => {
                let tg = Instant::now();
                gc.prepare(problem, &ctx, &st.groups, copies, &pool)?;
                gpu_seconds += tg.elapsed().as_secs_f64();
                Some(&*gc)
            }
            None => None,
        };
        let (groups, z) = (&mut st.groups, &mut st.z);
        pool.install(|| {
            groups
                .par_iter_mut()
                .zip(z.par_chunks_mut(copies * ctx.words))
                .enumerate()
                .with_max_len(1)
                .for_each(|(g, (grp, zg))| {
                    #[cfg(feature = "cuda")]
                    let pre_g = pre.map(|gc| gc.group(g, copies, n));
                    #[cfg(not(feature = "cuda"))]
                    let pre_g = None;
                    run_group(problem, &ctx, g, grp, zg, pre_g)
                });
        });
        let sums = st.reduce(problem, round);
        if sums.improved {
            time_to_best = t0.elapsed().as_secs_f64();
        }
        if settings.sampler == Sampler::PolicyChains {
            st.restart_worst_group();
            // Policy-gradient update (skipped for an incomplete round).
            if sums.complete && st.adv.len() > 1 {
                st.policy_update(settings, sums.sum_e, &pool);
            }
        }
        round += 1;
        st.next_epoch(settings, round);
        let mean = if sums.samples > 0 {
            sums.sum_e / sums.samples as f64
        } else {
            f64::NAN
        };
        let extra = [
            ("samples", st.samples as f64),
            ("mean", problem.objective(mean)),
        ];
        let ctl = run.report(&IterRecord {
            iteration: round,
            elapsed: t0.elapsed().as_secs_f64(),
            best: problem.objective(st.best_e),
            current: problem.objective(sums.best),
            bound: None,
            residual: None,
            improved: sums.improved,
            extra: &extra,
        });
        let stalled = settings
            .stall_rounds
            .is_some_and(|s| round - st.last_improve_round > s);
        if let Some(s) = stop_status(
            ctl,
            target_e.is_some_and(|t| st.best_e <= t),
            common.stop.is_stopped(),
            !sums.complete || deadline.is_some_and(|d| Instant::now() >= d),
            max_rounds.is_some_and(|m| round >= m),
            stalled,
        ) {
            break s;
        }
    };
    let end = RoundsEnd {
        status,
        rounds: round,
        time_to_best,
        gpu_seconds: gpu_used.then_some(gpu_seconds),
        backend,
    };
    Ok(st.outcome(problem, settings, &order, target_e, end, t0))
}

/// How the rounds ended, for [`State::outcome`].
struct RoundsEnd {
    status: Status,
    rounds: u64,
    time_to_best: f64,
    gpu_seconds: Option<f64>,
    backend: BackendReport,
}

impl<S: Clone + Send + Sync> State<S> {
    /// The answer ([`State::answer`]) with its statistics; a time, round or stall limit whose
    /// answer meets the target reports the target.
    fn outcome<P: BinaryObjective<State = S>>(
        mut self,
        problem: &P,
        settings: &McpgSettings,
        order: &[usize],
        target_e: Option<f64>,
        end: RoundsEnd,
        t0: Instant,
    ) -> McpgOutcome {
        let (polish, energy, best_objective) = self.answer(problem, settings, order);
        let time_to_best = if polish < 0.0 {
            t0.elapsed().as_secs_f64()
        } else {
            end.time_to_best
        };
        let status = match (end.status, target_e) {
            (Status::TimeLimit | Status::IterationLimit | Status::Stalled, Some(t))
                if energy <= t =>
            {
                Status::TargetReached
            }
            (s, _) => s,
        };
        let stats = McpgStats {
            groups: settings.groups,
            copies: settings.copies,
            samples: self.samples,
            filter: settings.filter.describe(),
            sampler: settings.sampler,
            accepted_flips: self.accepted_total,
            gpu_seconds: end.gpu_seconds,
            restarts: self.restarts,
            polish_gain: -polish,
            vote: settings.vote,
            best_objective: settings.vote.map(|_| best_objective),
        };
        McpgOutcome {
            status,
            solution: self.best_x,
            objective: problem.objective(energy),
            bound: None,
            iterations: end.rounds,
            time_to_best,
            stats,
            backend: end.backend,
        }
    }
}

/// Why the rounds stop, in order of precedence: the target, an interruption, the time limit
/// (or a round cut short by it), the round limit, a stall.
fn stop_status(
    ctl: Control,
    target_reached: bool,
    stopped: bool,
    out_of_time: bool,
    out_of_rounds: bool,
    stalled: bool,
) -> Option<Status> {
    if target_reached {
        Some(Status::TargetReached)
    } else if stopped || ctl == Control::Stop {
        Some(Status::Interrupted)
    } else if out_of_time {
        Some(Status::TimeLimit)
    } else if out_of_rounds {
        Some(Status::IterationLimit)
    } else if stalled {
        Some(Status::Stalled)
    } else {
        None
    }
}
