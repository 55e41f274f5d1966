//! Capability trait for unconstrained binary optimisation: `min f(x)` over `x ∈ {−1, 1}ⁿ`.
//!
//! Solvers such as Monte Carlo policy gradient (MCPG; Chen, Chen, Li, Ao, Wen, arXiv 2307.00783)
//! only need the objective value and the change of the objective when one coordinate flips.
//! Implementations keep an incremental [`BinaryObjective::State`] (for MaxCut the local fields
//! `h_v = Σ_u w_uv x_u`) so that a flip delta costs O(1) and a flip O(degree).

/// A spin: `+1` or `−1`. Stored as `i8` so that a chain of a million variables takes 1 MB.
pub type Spin = i8;

/// Whether the user-facing objective is minimised or maximised (defined at the crate root for
/// every problem class; re-exported here).
pub use crate::Sense;

/// A binary objective `f : {−1, 1}ⁿ → ℝ` to be **minimised** (the "energy"), with incremental
/// flip deltas.
///
/// The user-facing objective may differ from the energy by sign (MaxCut maximises the cut, whose
/// energy is `−cut`); [`BinaryObjective::objective`] converts.
///
/// Contract (checked by the tests of every implementation): for every `x`, state `s` built by
/// [`BinaryObjective::init_state`] from `x`, and variable `v`,
/// `energy(flip_v(x)) − energy(x) == flip_delta(s, x, v)` (up to rounding), and after
/// [`BinaryObjective::flip`] the state equals `init_state` of the flipped vector.
pub trait BinaryObjective: Sync {
    /// Incremental state derived from `x` (e.g. local fields). `clone_from` should reuse memory.
    type State: Clone + Send + Sync;

    /// Short name of the problem class (`"maxcut"`, `"qubo"`, ...), used in reports.
    fn name(&self) -> &'static str {
        "binary"
    }

    /// Number of binary variables `n`.
    fn num_vars(&self) -> usize;

    /// The energy `f(x)` (to be minimised), computed from scratch.
    fn energy(&self, x: &[Spin]) -> f64;

    /// Build the incremental state for `x`.
    fn init_state(&self, x: &[Spin]) -> Self::State;

    /// Recompute `state` for `x` in place, reusing its memory (default: a fresh
    /// [`BinaryObjective::init_state`]).
    fn reset_state(&self, state: &mut Self::State, x: &[Spin]) {
        *state = self.init_state(x);
    }

    /// `f(x with x_v negated) − f(x)`, in O(1) or O(degree) from the state.
    fn flip_delta(&self, state: &Self::State, x: &[Spin], v: usize) -> f64;

    /// Negate `x_v` and update the state.
    fn flip(&self, state: &mut Self::State, x: &mut [Spin], v: usize);

    /// A variable that may be fixed to `+1` without loss, when `f(x) = f(−x)` for all `x`
    /// (MaxCut). Solvers use it to break the symmetry. Default: none.
    fn symmetry_pivot(&self) -> Option<usize> {
        None
    }

    /// The order in which local-search sweeps visit the variables. Default: `0..n`.
    fn sweep_order(&self) -> Vec<usize> {
        (0..self.num_vars()).collect()
    }

    /// The variables (other than `v`) whose flip delta can change when `x_v` flips, when that
    /// set is small (MaxCut: the neighbours of `v`). `None` means "possibly all", and local
    /// searches then re-evaluate every variable.
    fn coupled(&self, _v: usize) -> Option<&[usize]> {
        None
    }

    /// Typical magnitude of a flip delta, used to make temperatures scale-free (default 1).
    fn delta_scale(&self) -> f64 {
        1.0
    }

    /// Sense of the user-facing objective.
    fn sense(&self) -> Sense {
        Sense::Minimize
    }

    /// User-facing objective of an energy value (default: the energy itself).
    fn objective(&self, energy: f64) -> f64 {
        energy
    }

    /// Energy of a user-facing objective value (inverse of [`BinaryObjective::objective`]).
    fn energy_of_objective(&self, objective: f64) -> f64 {
        objective
    }

    /// The problem as a sparse Ising model ([`IsingView`]), for accelerators that run many
    /// chains at once (the CUDA MCPG chains); `None` (default) when it is not one. When
    /// `Some`, the state must be the local fields `h_v = field_v + Σ_k w_k x_{idx_k}` and
    /// `flip_delta`, `flip` and `energy` must follow [`IsingView`]'s rules exactly.
    fn ising(&self) -> Option<IsingView<'_>> {
        None
    }

    /// Set `state` to the local fields `h` computed elsewhere (a GPU), for problems whose
    /// state is the local fields of their [`IsingView`]; returns `false` (default) when the
    /// state is something else, and the caller then rebuilds it with
    /// [`BinaryObjective::reset_state`].
    fn load_fields(&self, _state: &mut Self::State, _h: &[f64]) -> bool {
        false
    }
}

/// How an [`IsingView`] turns spins into an energy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IsingKind {
    /// MaxCut: `E = −½ Σ_v Σ_{k: x_{idx_k} ≠ x_v} w_k` (minus the cut), flip delta
    /// `−x_v h_v`.
    MaxCut,
    /// QUBO in spin form: `E = c + Σ_v field_v x_v + Σ_v Σ_{k: idx_k > v} w_k x_v x_{idx_k}`,
    /// flip delta `−2 x_v h_v`.
    Ising,
}

/// A sparse symmetric coupling matrix (CSR, both triangles), fields and constant of a binary
/// objective. Flipping `x_v` adds `2 x_v(new) w_k` to `h_{idx_k}` for the entries `k` of row
/// `v`.
#[derive(Debug, Clone, Copy)]
pub struct IsingView<'a> {
    /// Energy and flip rule.
    pub kind: IsingKind,
    /// CSR row pointers (`n + 1`).
    pub ptr: &'a [usize],
    /// CSR column indices.
    pub idx: &'a [usize],
    /// CSR values.
    pub w: &'a [f64],
    /// Linear fields (empty: all zero).
    pub field: &'a [f64],
    /// Constant term (QUBO).
    pub constant: f64,
}
