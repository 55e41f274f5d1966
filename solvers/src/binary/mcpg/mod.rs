//! Monte Carlo policy gradient (MCPG) for binary optimisation.
//!
//! C. Chen, R. Chen, T. Li, R. Ao, Z. Wen, *Monte Carlo policy gradient method for binary
//! optimization*, arXiv 2307.00783 (Math. Programming 2025). Written from the paper's equations.
//!
//! ## Method
//! Minimise `f(x)` over `x ∈ {−1, 1}ⁿ`. A mean-field Bernoulli policy
//! `p_θ(x) = Π_i μ_iᶻⁱ (1 − μ_i)¹⁻ᶻⁱ`, `z = (1 + x)/2`, with
//! `μ_i = ½ + s (σ(θ_i) − ½)` (`s` = [`McpgSettings::mu_spread`], so `μ_i ∈ (0.2, 0.8)` by
//! default), is trained to put its mass on good solutions:
//!
//! 1. **Sampling.** `G` groups of `C` parallel Metropolis chains. Every chain of a group starts
//!    from the group's current solution and proposes single flips of uniformly chosen
//!    coordinates, accepted with probability `min(1, (1 − μ_cur)/μ_cur)` (the Metropolis rule
//!    for the target `p_θ`), until `⌈αn⌉` flips are accepted or `βn` steps are made
//!    (`α = 0.1`, `β = 0.5`). The end states `x_k` are the gradient samples. In round 0 the
//!    samples are uniform random vectors (or the warm start).
//! 2. **Filter.** Each sample is improved by a local search `T` ([`Filter`]); its value is
//!    `f(T(x_k))`. A group's next start is the best of its `C` filtered samples; every group
//!    keeps its all-time best, and the group whose all-time best is worst restarts from the
//!    global best.
//! 3. **Policy gradient.** With the baseline `b = mean_k f(T(x_k))` and `a_k = f(T(x_k)) − b`,
//!    `∇_θ L = (1/K) Σ_k a_k ∇_θ log p_θ(x_k)`, where
//!    `∂ log p/∂θ_i = (z_i − μ_i) · s σ(θ_i)(1 − σ(θ_i)) / (μ_i (1 − μ_i))`.
//!    Because `Σ_k a_k = 0`, this equals `S_i · s σ(1 − σ)/(μ_i(1 − μ_i))` with the fixed
//!    `S_i = (1/K) Σ_k a_k z_ik`, so the samples are reduced once per round to `S` and the
//!    [`McpgSettings::adam_steps`] Adam steps (gradient norm clipped) only re-evaluate the
//!    factor. `θ` is re-randomised every [`McpgSettings::reset_every`] rounds.
//! 4. **Symmetry.** When `f(x) = f(−x)` (MaxCut) every sample is multiplied by its value at the
//!    problem's pivot variable before it enters the gradient.
//!
//! ## CPU design
//! Each chain keeps the problem's incremental state (MaxCut: local fields), so a proposal costs
//! O(1) and an accepted flip O(degree). Groups run in parallel on a rayon pool; all buffers are
//! allocated once, before the first round. Chain `k` of round `r` draws from its own random
//! stream `(seed, r, k)` and all reductions run in group order, so the result depends on the
//! seed only, not on the number of threads. The final answer is polished to a 1-flip local
//! optimum and its objective is recomputed from scratch.

use crate::binary::local_search::{Filter, apply_filter};
use crate::binary::tabu::TabuScratch;
use crate::core::{
    BackendReport, Budget, Common, End, NoResiduals, Observer, Report, RngStream, Run, SolveError,
    Status, rng_from_words, stream_rng, uniform01,
};
use mathprog_problems::binary::{BinaryObjective, Spin};
use rand::Rng;
#[cfg(feature = "cuda")]
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Statistics of an MCPG solve.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct McpgStats {
    /// Groups (independent starts).
    pub groups: usize,
    /// Chains per group.
    pub copies: usize,
    /// Samples drawn (chains run), all rounds.
    pub samples: u64,
    /// The filter, described (`"greedy x3"`).
    pub filter: String,
    /// Where the samples came from.
    pub sampler: Sampler,
    /// Accepted Metropolis flips, all chains.
    pub accepted_flips: u64,
    /// Wall time of the GPU steps (chains, energies, transfers) when they ran there.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub gpu_seconds: Option<f64>,
    /// Restarts of stalled epochs.
    pub restarts: u64,
    /// Objective gained by the final 1-flip polish.
    pub polish_gain: f64,
    /// Groups in the final vote (when voting).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub vote: Option<usize>,
    /// Best objective found before the vote (when voting; MIMO: always, the lowest residual).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub best_objective: Option<f64>,
}

impl AsRef<McpgStats> for McpgStats {
    fn as_ref(&self) -> &McpgStats {
        self
    }
}

/// The report of an MCPG solve: ±1 spins.
pub type McpgReport = Report<Vec<Spin>, NoResiduals, McpgStats>;

/// What the rounds of MCPG end with (for [`solve`] and the MIMO detector).
pub(crate) struct McpgOutcome {
    pub status: Status,
    pub solution: Vec<Spin>,
    pub objective: f64,
    pub bound: Option<f64>,
    pub iterations: u64,
    pub time_to_best: f64,
    pub stats: McpgStats,
    pub backend: BackendReport,
}

impl McpgOutcome {
    /// The driver's end of run.
    pub fn end(self) -> End<Vec<Spin>, NoResiduals, McpgStats> {
        End::new(
            self.status,
            self.solution,
            self.objective,
            NoResiduals {},
            self.stats,
        )
        .bound(self.bound)
        .iterations(self.iterations)
        .time_to_best(Some(self.time_to_best))
        .backend(self.backend)
    }
}

mod rounds;
pub(crate) use rounds::rounds;

/// The budget MCPG runs under: the round limit, or 100 rounds (the paper's default) when there
/// is no limit at all.
pub(crate) fn budget_common(settings: &McpgSettings) -> Common {
    let mut c = settings.common.clone();
    c.max_iter = match (c.max_iter, c.time_limit, settings.stall_rounds) {
        (Some(m), _, _) => Some(m),
        (None, None, None) => Some(100),
        _ => None,
    };
    c
}

/// Where the samples of a round come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Sampler {
    /// MCPG: Metropolis chains on the learned policy, started from the groups' solutions.
    #[cfg_attr(feature = "clap", value(name = "mcpg"))]
    PolicyChains,
    /// Ablation: uniform random restarts followed by the same filter (no policy, no chains).
    #[cfg_attr(feature = "clap", value(name = "restarts"))]
    RandomRestarts,
}

/// Settings of [`solve`]. `Default` gives the CPU defaults; every field may be changed.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[non_exhaustive]
pub struct McpgSettings {
    /// Budget, seed, threads, target, cancellation. `max_iter` counts rounds.
    pub common: Common,
    /// Number of groups `G` (each with its own current and all-time best solution).
    pub groups: usize,
    /// Chains per group `C`; `K = G·C` samples per round.
    pub copies: usize,
    /// Local-search filter `T`.
    pub filter: Filter,
    /// Sample source (MCPG, or the random-restart ablation).
    pub sampler: Sampler,
    /// Adam learning rate.
    pub learning_rate: f64,
    /// Adam steps per round (per batch of samples).
    pub adam_steps: usize,
    /// Re-randomise `θ` every this many rounds (`None`: never).
    pub reset_every: Option<u64>,
    /// Chains stop after `max(⌈accept_fraction · n⌉, min(3, n))` accepted flips ...
    pub accept_fraction: f64,
    /// ... or after `⌈max_steps_fraction · n⌉` proposals.
    pub max_steps_fraction: f64,
    /// `μ_i = ½ + mu_spread (σ(θ_i) − ½)`; must lie in (0, 1).
    pub mu_spread: f64,
    /// Gradient-norm clipping threshold.
    pub grad_clip: f64,
    /// Stop with [`Status::Stalled`] after this many rounds without improvement.
    pub stall_rounds: Option<u64>,
    /// Restart after this many rounds without improving the best of the current epoch: θ and
    /// every group are re-randomised (round-0 sampling), so that long runs explore several
    /// basins instead of collapsing onto one. The overall best is kept. `None`: never.
    pub restart_after: Option<u64>,
    /// Optional warm start: every group starts from this assignment in round 0.
    pub initial: Option<Vec<Spin>>,
    /// Answer by majority vote: the sign of the sum of the current solutions of the `k` best
    /// groups (ties go to the best solution), as in the paper's MIMO detector, where the vote
    /// approximates bit-wise maximum a posteriori detection and lowers the bit error rate. The
    /// lowest-energy solution is then reported in the `best_objective` statistic. `None`: the
    /// answer is the best solution.
    pub vote: Option<usize>,
}

impl Default for McpgSettings {
    /// CPU defaults, tuned on Gset with 2 threads: few groups, and an annealing filter strong
    /// enough that each sample is a good local optimum (the paper's GPU configuration relies on
    /// 15,600 cheap samples per round instead; see [`McpgSettings::paper`]).
    fn default() -> Self {
        McpgSettings {
            common: Common::default(),
            groups: 32,
            copies: 2,
            filter: Filter::Anneal {
                sweeps: 200,
                beta_start: 4.5,
                beta_end: 15.0,
            },
            sampler: Sampler::PolicyChains,
            learning_rate: 0.25,
            adam_steps: 8,
            reset_every: None,
            accept_fraction: 0.05,
            max_steps_fraction: 0.5,
            mu_spread: 0.6,
            grad_clip: 1.0,
            stall_rounds: None,
            restart_after: Some(100),
            initial: None,
            vote: None,
        }
    }
}

impl McpgSettings {
    /// The released MaxCut configuration of the paper: 130 groups x 120 chains, 3 greedy
    /// sweeps, θ reset every 10 rounds, chains stopped after n/10 accepted flips.
    pub fn paper() -> Self {
        McpgSettings {
            groups: 130,
            copies: 120,
            filter: Filter::Greedy { sweeps: 3 },
            reset_every: Some(10),
            accept_fraction: 0.1,
            restart_after: None,
            ..Self::default()
        }
    }
}

impl McpgSettings {
    /// CPU defaults for MaxSAT: the default configuration with a hotter annealing filter
    /// (β from 1.5 to 6 in units of the RMS soft weight), which lets the search cross the
    /// plateaus of (partial) MaxSAT. Tuned on the MaxSAT Evaluation 2016 min2sat instances.
    pub fn maxsat() -> Self {
        McpgSettings {
            filter: Filter::Anneal {
                sweeps: 200,
                beta_start: 1.5,
                beta_end: 6.0,
            },
            ..Self::default()
        }
    }

    /// Check every field; [`solve`] calls this.
    pub fn validate(&self, n: usize) -> Result<(), SolveError> {
        self.common.validate()?;
        let bad = |m: String| Err(SolveError::InvalidInput(m));
        if self.groups == 0 || self.copies == 0 {
            return bad(format!(
                "groups and copies must be positive (got {} x {})",
                self.groups, self.copies
            ));
        }
        if !(self.mu_spread > 0.0 && self.mu_spread < 1.0) {
            return bad(format!(
                "mu_spread must lie in (0, 1), got {}",
                self.mu_spread
            ));
        }
        for (name, v) in [
            ("learning_rate", self.learning_rate),
            ("accept_fraction", self.accept_fraction),
            ("max_steps_fraction", self.max_steps_fraction),
            ("grad_clip", self.grad_clip),
        ] {
            if !(v.is_finite() && v >= 0.0) {
                return bad(format!("{name} must be a non-negative number, got {v}"));
            }
        }
        // Per group: its solutions, states and scratch (a few n-vectors); per chain: a sample
        // row of n bits.
        let per_group = n.saturating_mul(64);
        let chains = self.groups.saturating_mul(self.copies);
        mathprog_problems::limits::check_alloc("MCPG's groups", self.groups, per_group)
            .and_then(|_| {
                mathprog_problems::limits::check_alloc("MCPG's chains", chains, n.div_ceil(8))
            })
            .map_err(|e| SolveError::InvalidInput(format!("{e} (--groups, --copies)")))?;
        if let Some(x) = &self.initial {
            if x.len() != n {
                return Err(SolveError::DimensionMismatch {
                    what: "initial assignment".into(),
                    expected: n,
                    found: x.len(),
                });
            }
            if let Some(v) = x.iter().position(|&s| s != 1 && s != -1) {
                return bad(format!(
                    "initial assignment: entry {v} is {}, expected +1 or -1",
                    x[v]
                ));
            }
        }
        Ok(())
    }
}

/// One group: its current solution (chains start here), the best filtered sample of the round
/// in progress, the value of its best solution in this epoch, and scratch buffers. All
/// allocated once.
pub(crate) struct Group<St> {
    start_x: Vec<Spin>,
    start_st: St,
    start_e: f64,
    cand_x: Vec<Spin>,
    cand_st: St,
    cand_e: f64,
    /// Best energy of the group in the current epoch (decides which group is overwritten).
    best_e: f64,
    work_x: Vec<Spin>,
    work_st: St,
    /// Filtered energies of this round's samples (NaN where a sample was skipped).
    energies: Vec<f64>,
    /// Accepted Metropolis flips this round.
    accepted: u64,
    /// Buffers of the filter.
    scratch: TabuScratch,
}

/// Per-round constants shared by the chains.
pub(crate) struct RoundCtx<'a> {
    round: u64,
    seed: u64,
    n: usize,
    words: usize,
    mu: &'a [f64],
    order: &'a [usize],
    pivot: Option<usize>,
    filter: Filter,
    fresh: bool,
    initial: Option<&'a [Spin]>,
    epoch: u64,
    accept_target: u64,
    max_steps: u64,
    /// The run's deadline and stop token.
    budget: Budget<'a>,
}

#[inline]
fn index_below<R: Rng>(rng: &mut R, n: usize) -> usize {
    ((u128::from(rng.next_u64()) * n as u128) >> 64) as usize
}

fn random_spins<R: Rng>(rng: &mut R, x: &mut [Spin]) {
    for chunk in x.chunks_mut(64) {
        let mut bits = rng.next_u64();
        for s in chunk {
            *s = if bits & 1 == 1 { 1 } else { -1 };
            bits >>= 1;
        }
    }
}

/// One Metropolis chain on the mean-field policy `p_θ` from `x` (state `st`, energy `e`):
/// single-flip proposals of uniformly chosen coordinates, accepted with probability
/// `min(1, (1 − p_cur)/p_cur)`, until `accept_target` flips are accepted or `max_steps`
/// proposals are made. In the start's frame the probability of `x_v = +1` is `μ_v` when the
/// start has `x_pivot = +1` and `1 − μ_v` otherwise. Returns the accepted flips. (The CPU twin
/// of the CUDA kernel `mcpg_chains`.)
#[allow(clippy::too_many_arguments)]
pub(crate) fn metropolis_chain<P: BinaryObjective>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    e: &mut f64,
    mu: &[f64],
    pivot: Option<usize>,
    accept_target: u64,
    max_steps: u64,
    rng: &mut RngStream,
    budget: &Budget<'_>,
) -> u64 {
    let n = x.len();
    let sign = pivot.map_or(1, |q| x[q]);
    let mut accepted = 0u64;
    let mut steps = 0u64;
    while accepted < accept_target && steps < max_steps {
        // The budget every 4096 proposals (a clock read costs about as much as 50 of them).
        if steps % 4096 == 4095 && budget.spent() {
            break;
        }
        steps += 1;
        let v = index_below(rng, n);
        let m = mu[v];
        let p_cur = if x[v] * sign > 0 { m } else { 1.0 - m };
        let ratio = (1.0 - p_cur) / p_cur;
        if ratio >= 1.0 || uniform01(rng) < ratio {
            *e += p.flip_delta(st, x, v);
            p.flip(st, x, v);
            accepted += 1;
        }
    }
    accepted
}

/// The chains of one group computed ahead (on the GPU): end states (`copies × n`), their
/// energies, accepted flips, and the random streams' states after the chains.
pub(crate) struct PreGroup<'a> {
    x: &'a [Spin],
    h: &'a [f64],
    e: &'a [f64],
    accepted: &'a [u64],
    rng: &'a [u64],
}

/// The random stream of chain `c` of group `g` in this round.
fn chain_rng(ctx: &RoundCtx<'_>, g: usize, copies: usize, c: usize) -> RngStream {
    stream_rng(
        ctx.seed ^ ctx.epoch.rotate_left(32),
        ctx.round,
        (g * copies + c) as u64,
    )
}

/// Run the `C` chains of group `g` for one round; writes their gradient samples into `z`
/// (`C` rows of `words` bit-words) and leaves the best filtered sample in `cand_*`.
pub(crate) fn run_group<P: BinaryObjective>(
    p: &P,
    ctx: &RoundCtx<'_>,
    g: usize,
    grp: &mut Group<P::State>,
    z: &mut [u64],
    pre: Option<PreGroup<'_>>,
) {
    let copies = grp.energies.len();
    grp.cand_e = f64::INFINITY;
    grp.accepted = 0;
    let budget = ctx.budget;
    for c in 0..copies {
        let row = &mut z[c * ctx.words..(c + 1) * ctx.words];
        if budget.spent() {
            grp.energies[c] = f64::NAN;
            row.fill(0);
            continue;
        }
        let x = &mut grp.work_x;
        let st = &mut grp.work_st;
        let mut e;
        let mut rng: RngStream;
        if let Some(pre) = &pre {
            // Chains (or fresh samples and their energies) computed ahead on the GPU: the
            // same end states and random streams as below, the state rebuilt from x.
            let n = ctx.n;
            x.copy_from_slice(&pre.x[c * n..(c + 1) * n]);
            if !p.load_fields(st, &pre.h[c * n..(c + 1) * n]) {
                p.reset_state(st, x);
            }
            e = pre.e[c];
            rng = rng_from_words(&pre.rng[4 * c..4 * c + 4]);
            grp.accepted += pre.accepted[c];
        } else if ctx.fresh {
            rng = chain_rng(ctx, g, copies, c);
            match ctx.initial {
                Some(x0) => x.copy_from_slice(x0),
                None => random_spins(&mut rng, x),
            }
            p.reset_state(st, x);
            e = p.energy(x);
        } else {
            rng = chain_rng(ctx, g, copies, c);
            x.copy_from_slice(&grp.start_x);
            st.clone_from(&grp.start_st);
            e = grp.start_e;
            let accepted = metropolis_chain(
                p,
                x,
                st,
                &mut e,
                ctx.mu,
                ctx.pivot,
                ctx.accept_target,
                ctx.max_steps,
                &mut rng,
                &budget,
            );
            grp.accepted += accepted;
        }
        // Gradient sample z = (1 + s·x)/2 with s = x_pivot.
        let s = ctx.pivot.map_or(1, |q| x[q]);
        for (w, chunk) in row.iter_mut().zip(x.chunks(64)) {
            let mut bits = 0u64;
            for (b, &xi) in chunk.iter().enumerate() {
                bits |= u64::from(xi * s > 0) << b;
            }
            *w = bits;
        }
        e = apply_filter(
            p,
            ctx.filter,
            x,
            st,
            e,
            ctx.order,
            &mut rng,
            &mut grp.scratch,
            &budget,
        );
        if budget.spent() {
            // Cut short by the deadline or a stop: not a sample of this round.
            grp.energies[c] = f64::NAN;
            row.fill(0);
            continue;
        }
        grp.energies[c] = e;
        if e < grp.cand_e {
            grp.cand_e = e;
            grp.cand_x.copy_from_slice(x);
            grp.cand_st.clone_from(st);
        }
    }
}

/// Adam state for θ.
pub(crate) struct Adam {
    m: Vec<f64>,
    v: Vec<f64>,
    t: i32,
}

impl Adam {
    const B1: f64 = 0.9;
    const B2: f64 = 0.999;
    const EPS: f64 = 1e-8;
    pub(crate) fn reset(&mut self) {
        self.m.fill(0.0);
        self.v.fill(0.0);
        self.t = 0;
    }
    pub(crate) fn step(&mut self, theta: &mut [f64], grad: &[f64], lr: f64) {
        self.t += 1;
        let c1 = 1.0 - Self::B1.powi(self.t);
        let c2 = 1.0 - Self::B2.powi(self.t);
        for i in 0..theta.len() {
            let g = grad[i];
            self.m[i] = Self::B1 * self.m[i] + (1.0 - Self::B1) * g;
            self.v[i] = Self::B2 * self.v[i] + (1.0 - Self::B2) * g * g;
            theta[i] -= lr * (self.m[i] / c1) / ((self.v[i] / c2).sqrt() + Self::EPS);
        }
    }
}

pub(crate) fn sigmoid(t: f64) -> f64 {
    1.0 / (1.0 + (-t).exp())
}

pub(crate) fn randomize_theta(theta: &mut [f64], seed: u64, round: u64) {
    let mut rng = stream_rng(seed, round, u64::MAX);
    for t in theta.iter_mut() {
        *t = (2.0 * uniform01(&mut rng) - 1.0) + (2.0 * uniform01(&mut rng) - 1.0);
    }
}

/// Run MCPG on `problem`.
///
/// Returns the best solution found (polished to a 1-flip local optimum) with its objective
/// recomputed from scratch, in the problem's own sense (MaxCut: the cut). Stops at the time or
/// round limit, at the target, after `stall_rounds` rounds without improvement, or when the
/// stop token / observer asks; with no limit at all it runs 100 rounds (the paper's default).
pub fn solve<P: BinaryObjective>(
    problem: &P,
    settings: &McpgSettings,
    observer: &mut dyn Observer,
) -> Result<McpgReport, SolveError> {
    let n = problem.num_vars();
    settings.validate(n)?;
    // The backend first: the GPU's one-time set-up is not part of the solve's time.
    let mut selected = crate::linalg::backend::select(settings.common.backend, "mcpg")?;
    let common = budget_common(settings);
    let mut run = Run::start(
        &common,
        observer,
        "mcpg",
        problem.name(),
        problem.sense(),
        n,
    );
    let out = rounds(problem, settings, &mut run, &mut selected)?;
    Ok(run.finish(out.end()))
}

/// The MCPG chains of every group on the GPU ([`super::gpu::IsingChains`]), for
/// problems with an [`IsingView`](mathprog_problems::binary::IsingView): each round, the
/// policy chains (or, in fresh rounds, the energies of the random samples) are computed for
/// all `G·C` chains at once, with the chains' own random streams, and the CPU filters them.
#[cfg(feature = "cuda")]
pub(crate) struct GpuChains {
    dev: super::gpu::IsingChains,
    out: super::gpu::ChainsOut,
    starts_x: Vec<Spin>,
    starts_e: Vec<f64>,
    rng: Vec<u64>,
}

#[cfg(feature = "cuda")]
impl GpuChains {
    pub(crate) fn new(
        gpu: &std::sync::Arc<crate::linalg::cuda::Gpu>,
        view: &mathprog_problems::binary::IsingView<'_>,
        groups: usize,
        copies: usize,
        n: usize,
    ) -> Result<Self, String> {
        let chains = groups * copies;
        let mut dev = super::gpu::IsingChains::new(gpu, view)?;
        dev.reserve(groups, chains)?;
        Ok(GpuChains {
            dev,
            out: super::gpu::ChainsOut::default(),
            starts_x: Vec::with_capacity(chains * n),
            starts_e: Vec::with_capacity(chains),
            rng: vec![0; 4 * chains],
        })
    }

    /// Compute this round's chains (or fresh samples' energies) for every group.
    pub(crate) fn prepare<P: BinaryObjective>(
        &mut self,
        p: &P,
        ctx: &RoundCtx<'_>,
        groups: &[Group<P::State>],
        copies: usize,
        pool: &rayon::ThreadPool,
    ) -> Result<(), SolveError> {
        let n = ctx.n;
        let chains = groups.len() * copies;
        let gpu_err = crate::linalg::cuda::solve_error;
        if ctx.fresh {
            // Fresh samples drawn on the CPU from each chain's stream (as `run_group` does),
            // their energies on the GPU.
            self.out.x.resize(chains * n, 0);
            self.out.e.resize(chains, 0.0);
            self.out.accepted.clear();
            self.out.accepted.resize(chains, 0);
            self.out.rng.resize(4 * chains, 0);
            pool.install(|| {
                self.out
                    .x
                    .par_chunks_mut(n.max(1))
                    .zip(self.out.rng.par_chunks_mut(4))
                    .enumerate()
                    .for_each(|(k, (x, w))| {
                        let mut rng = chain_rng(ctx, k / copies, copies, k % copies);
                        match ctx.initial {
                            Some(x0) => x.copy_from_slice(x0),
                            None => random_spins(&mut rng, x),
                        }
                        w.copy_from_slice(&crate::core::rng_words(&rng));
                    });
            });
            let _ = p;
            self.dev
                .energies(&self.out.x, &mut self.out.e)
                .map_err(gpu_err)?;
            return self
                .dev
                .fields(&self.out.x, &mut self.out.h)
                .map_err(gpu_err);
        }
        self.starts_x.clear();
        self.starts_e.clear();
        for grp in groups {
            self.starts_x.extend_from_slice(&grp.start_x);
            self.starts_e.push(grp.start_e);
        }
        for k in 0..chains {
            let rng = chain_rng(ctx, k / copies, copies, k % copies);
            self.rng[4 * k..4 * k + 4].copy_from_slice(&crate::core::rng_words(&rng));
        }
        self.dev
            .run(
                ctx.mu,
                ctx.pivot,
                &self.starts_x,
                &self.starts_e,
                copies,
                &self.rng,
                ctx.accept_target,
                ctx.max_steps,
                &mut self.out,
            )
            .map_err(gpu_err)
    }

    /// The prepared chains of group `g`.
    pub(crate) fn group(&self, g: usize, copies: usize, n: usize) -> PreGroup<'_> {
        let (a, b) = (g * copies, (g + 1) * copies);
        PreGroup {
            x: &self.out.x[a * n..b * n],
            h: &self.out.h[a * n..b * n],
            e: &self.out.e[a..b],
            accepted: &self.out.accepted[a..b],
            rng: &self.out.rng[4 * a..4 * b],
        }
    }
}
