//! Quadratic unconstrained binary optimisation (QUBO) and its Ising (±1) form.
//!
//! **0/1 form.** For a symmetric `Q ∈ ℝⁿˣⁿ`, minimise (or maximise)
//! `f(x) = xᵀQx = Σ_i Q_ii x_i + 2 Σ_{i<j} Q_ij x_i x_j` over `x ∈ {0, 1}ⁿ`.
//!
//! **±1 form.** Minimise `g(s) = sᵀQs = Σ_i Q_ii + 2 Σ_{i<j} Q_ij s_i s_j` over `s ∈ {−1, 1}ⁿ`.
//!
//! Both are stored as one Ising model `E(s) = c + Σ_i h_i s_i + Σ_{i<j} J_ij s_i s_j`: with
//! `x = (1 + s)/2` the 0/1 form has `h_i = (Q_ii + Σ_{j≠i} Q_ij)/2`, `J_ij = Q_ij/2` and
//! `c = Σ_i Q_ii/2 + Σ_{i<j} Q_ij/2`; the ±1 form has `h = 0`, `J_ij = 2Q_ij`, `c = Σ_i Q_ii`.
//! With local fields `g_i = h_i + Σ_j J_ij s_j`, flipping `s_i` changes `E` by `−2 s_i g_i`
//! (O(1)), and a flip updates the fields of the neighbours of `i` (O(deg i)). The filter
//! "`x_i ← sign((Qx)_i)` with `x_i` set to 0" of Chen et al. (arXiv 2307.00783) is exactly a
//! greedy coordinate sweep on these fields. Maximisation minimises `−E`.

use crate::binary::{BinaryObjective, Sense, Spin};
use crate::error::ProblemError;
use crate::graph::{Edge, Graph};

/// The variable domain of a QUBO.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Domain {
    /// `x ∈ {0, 1}ⁿ`.
    ZeroOne,
    /// `s ∈ {−1, 1}ⁿ`.
    Spin,
}

/// One entry `Q_ij = Q_ji = q` (0-based; `i == j` for the diagonal).
pub type Entry = (usize, usize, f64);

/// A QUBO instance `min/max xᵀQx` in Ising form.
#[derive(Debug, Clone)]
pub struct Qubo {
    n: usize,
    entries: Vec<Entry>,
    domain: Domain,
    sense: Sense,
    /// Sign applied to the user objective to get the energy (+1 minimise, −1 maximise).
    sign: f64,
    h: Vec<f64>,
    couplings: Graph,
    constant: f64,
    order: Vec<usize>,
    scale: f64,
}

impl Qubo {
    /// Build `xᵀQx` from the entries of the symmetric matrix `Q` (each unordered pair at most
    /// once; `(i, j, q)` sets `Q_ij = Q_ji = q`).
    ///
    /// Errors on an index `≥ n`, a repeated pair, or a non-finite value.
    pub fn new(
        n: usize,
        entries: Vec<Entry>,
        domain: Domain,
        sense: Sense,
    ) -> Result<Self, ProblemError> {
        crate::limits::check_alloc("a QUBO's variables", n, 64)?;
        let sign = match sense {
            Sense::Minimize => 1.0,
            Sense::Maximize => -1.0,
        };
        let mut h = vec![0.0; n];
        let mut constant = 0.0;
        let mut off: Vec<Edge> = Vec::new();
        let mut diag_seen = vec![false; n];
        for (k, &(i, j, q)) in entries.iter().enumerate() {
            if i >= n || j >= n {
                return Err(ProblemError::Invalid(format!(
                    "entry {}: index ({i}, {j}) out of range for n = {n}",
                    k + 1
                )));
            }
            if !q.is_finite() {
                return Err(ProblemError::Invalid(format!(
                    "entry {}: value {q} is not finite",
                    k + 1
                )));
            }
            if i == j {
                if diag_seen[i] {
                    return Err(ProblemError::Invalid(format!(
                        "entry {}: diagonal ({i}, {i}) given twice",
                        k + 1
                    )));
                }
                diag_seen[i] = true;
                match domain {
                    Domain::ZeroOne => {
                        h[i] += sign * q / 2.0;
                        constant += sign * q / 2.0;
                    }
                    Domain::Spin => constant += sign * q,
                }
            } else {
                let (a, b) = (i.min(j), i.max(j));
                match domain {
                    Domain::ZeroOne => {
                        h[a] += sign * q / 2.0;
                        h[b] += sign * q / 2.0;
                        constant += sign * q / 2.0;
                        off.push((a, b, sign * q / 2.0));
                    }
                    Domain::Spin => off.push((a, b, sign * 2.0 * q)),
                }
            }
        }
        let total: f64 = entries.iter().map(|e| e.2.abs()).sum();
        crate::limits::check_magnitude("the QUBO entries", total)?;
        let couplings = Graph::from_edges(n, &off).map_err(|e| match e {
            ProblemError::DuplicateEdge {
                edge, u, v, first, ..
            } => ProblemError::Invalid(format!(
                "off-diagonal pair ({u}, {v}) given twice (off-diagonal entries {} and {}); each pair sets Q_ij = Q_ji once",
                first + 1,
                edge + 1
            )),
            other => other,
        })?;
        // Sweep order: largest coupling mass first; scale: RMS of the largest possible field.
        let mut mass = vec![0.0; n];
        let (p, _, w) = couplings.csr();
        for v in 0..n {
            mass[v] = h[v].abs() + w[p[v]..p[v + 1]].iter().map(|x| x.abs()).sum::<f64>();
        }
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by(|&a, &b| mass[b].total_cmp(&mass[a]).then(a.cmp(&b)));
        let ms: f64 = (0..n)
            .map(|v| h[v] * h[v] + w[p[v]..p[v + 1]].iter().map(|x| x * x).sum::<f64>())
            .sum::<f64>()
            / n.max(1) as f64;
        let scale = if ms > 0.0 { ms.sqrt() } else { 1.0 };
        Ok(Qubo {
            n,
            entries,
            domain,
            sense,
            sign,
            h,
            couplings,
            constant,
            order,
            scale,
        })
    }

    /// Build from a dense row-major `n × n` matrix, which must be symmetric (up to `1e-12`
    /// relative); zero entries are skipped.
    pub fn from_dense(
        n: usize,
        q: &[f64],
        domain: Domain,
        sense: Sense,
    ) -> Result<Self, ProblemError> {
        if q.len() != n * n {
            return Err(ProblemError::Invalid(format!(
                "dense matrix has {} entries, expected {n} x {n}",
                q.len()
            )));
        }
        let mut entries = Vec::new();
        for i in 0..n {
            for j in i..n {
                let (a, b) = (q[i * n + j], q[j * n + i]);
                if (a - b).abs() > 1e-12 * a.abs().max(b.abs()) {
                    return Err(ProblemError::Invalid(format!(
                        "matrix is not symmetric: Q[{i}][{j}] = {a} but Q[{j}][{i}] = {b}"
                    )));
                }
                if a != 0.0 {
                    entries.push((i, j, a));
                }
            }
        }
        Self::new(n, entries, domain, sense)
    }

    /// Number of variables.
    pub fn num_vars(&self) -> usize {
        self.n
    }
    /// The entries as given (0-based).
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }
    /// Variable domain.
    pub fn domain(&self) -> Domain {
        self.domain
    }

    /// `xᵀQx` of an assignment given as spins (`+1` ↦ 1, `−1` ↦ 0 in the 0/1 form), computed
    /// from the entries, independently of the Ising transformation.
    pub fn value(&self, s: &[Spin]) -> f64 {
        assert_eq!(s.len(), self.n, "assignment length");
        let val = |v: usize| match self.domain {
            Domain::ZeroOne => f64::from(u8::from(s[v] > 0)),
            Domain::Spin => f64::from(s[v]),
        };
        self.entries
            .iter()
            .map(|&(i, j, q)| {
                if i == j {
                    q * val(i) * val(i)
                } else {
                    2.0 * q * val(i) * val(j)
                }
            })
            .sum()
    }

    /// The assignment in the problem's own domain: 0/1 values, or ±1.
    pub fn domain_values(&self, s: &[Spin]) -> Vec<i8> {
        s.iter()
            .map(|&v| match self.domain {
                Domain::ZeroOne => i8::from(v > 0),
                Domain::Spin => v,
            })
            .collect()
    }

    fn fields_into(&self, s: &[Spin], g: &mut [f64]) {
        let (p, idx, w) = self.couplings.csr();
        for (v, gv) in g.iter_mut().enumerate() {
            *gv = self.h[v]
                + (p[v]..p[v + 1])
                    .map(|k| w[k] * f64::from(s[idx[k]]))
                    .sum::<f64>();
        }
    }
}

impl BinaryObjective for Qubo {
    /// Local fields `g_i = h_i + Σ_j J_ij s_j`.
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "qubo"
    }

    fn num_vars(&self) -> usize {
        self.n
    }

    fn energy(&self, s: &[Spin]) -> f64 {
        let (p, idx, w) = self.couplings.csr();
        let mut e = self.constant;
        for v in 0..self.n {
            let sv = f64::from(s[v]);
            e += self.h[v] * sv;
            for k in p[v]..p[v + 1] {
                if idx[k] > v {
                    e += w[k] * sv * f64::from(s[idx[k]]);
                }
            }
        }
        e
    }

    fn init_state(&self, s: &[Spin]) -> Vec<f64> {
        let mut g = vec![0.0; self.n];
        self.fields_into(s, &mut g);
        g
    }

    fn reset_state(&self, g: &mut Vec<f64>, s: &[Spin]) {
        g.resize(self.n, 0.0);
        self.fields_into(s, g);
    }

    fn load_fields(&self, state: &mut Vec<f64>, h: &[f64]) -> bool {
        state.clear();
        state.extend_from_slice(h);
        true
    }

    fn ising(&self) -> Option<crate::binary::IsingView<'_>> {
        let (ptr, idx, w) = self.couplings.csr();
        Some(crate::binary::IsingView {
            kind: crate::binary::IsingKind::Ising,
            ptr,
            idx,
            w,
            field: &self.h,
            constant: self.constant,
        })
    }

    #[inline]
    fn flip_delta(&self, g: &Vec<f64>, s: &[Spin], v: usize) -> f64 {
        -2.0 * f64::from(s[v]) * g[v]
    }

    #[inline]
    fn flip(&self, g: &mut Vec<f64>, s: &mut [Spin], v: usize) {
        let (p, idx, w) = self.couplings.csr();
        let d = -2.0 * f64::from(s[v]);
        for k in p[v]..p[v + 1] {
            g[idx[k]] += w[k] * d;
        }
        s[v] = -s[v];
    }

    fn coupled(&self, v: usize) -> Option<&[usize]> {
        let (p, idx, _) = self.couplings.csr();
        Some(&idx[p[v]..p[v + 1]])
    }

    fn sweep_order(&self) -> Vec<usize> {
        self.order.clone()
    }

    fn delta_scale(&self) -> f64 {
        self.scale
    }

    fn sense(&self) -> Sense {
        self.sense
    }

    fn objective(&self, energy: f64) -> f64 {
        self.sign * energy
    }

    fn energy_of_objective(&self, objective: f64) -> f64 {
        self.sign * objective
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ising_form_matches_direct_value_and_deltas() {
        let entries = vec![
            (0, 0, 3.0),
            (0, 1, -2.0),
            (1, 2, 1.5),
            (2, 2, -1.0),
            (0, 2, 0.5),
        ];
        for domain in [Domain::ZeroOne, Domain::Spin] {
            for sense in [Sense::Minimize, Sense::Maximize] {
                let p = Qubo::new(3, entries.clone(), domain, sense).unwrap();
                for code in 0..8u32 {
                    let mut s: Vec<Spin> = (0..3)
                        .map(|i| if code >> i & 1 == 1 { 1 } else { -1 })
                        .collect();
                    let e = p.energy(&s);
                    assert!((p.objective(e) - p.value(&s)).abs() < 1e-12);
                    let mut g = p.init_state(&s);
                    for v in [0, 2, 1] {
                        let e0 = p.energy(&s);
                        let d = p.flip_delta(&g, &s, v);
                        p.flip(&mut g, &mut s, v);
                        assert!((p.energy(&s) - e0 - d).abs() < 1e-12);
                        assert_eq!(g, p.init_state(&s));
                    }
                }
            }
        }
        // x = (1, 1, 0): 3 + 2·(−2) = −1.
        let p = Qubo::new(3, entries, Domain::ZeroOne, Sense::Minimize).unwrap();
        assert_eq!(p.value(&[1, 1, -1]), -1.0);
    }

    #[test]
    fn rejects_bad_entries() {
        let z = Domain::ZeroOne;
        let m = Sense::Minimize;
        assert!(Qubo::new(2, vec![(0, 2, 1.0)], z, m).is_err());
        assert!(Qubo::new(2, vec![(0, 1, 1.0), (1, 0, 1.0)], z, m).is_err());
        assert!(Qubo::new(2, vec![(1, 1, 1.0), (1, 1, 1.0)], z, m).is_err());
        assert!(Qubo::new(2, vec![(0, 1, f64::NAN)], z, m).is_err());
        assert!(Qubo::from_dense(2, &[1.0, 2.0, 3.0, 1.0], z, m).is_err());
        let p = Qubo::from_dense(2, &[1.0, 2.0, 2.0, 0.0], z, m).unwrap();
        assert_eq!(p.entries().len(), 2);
    }
}
