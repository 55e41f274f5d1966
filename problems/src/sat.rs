//! Weighted partial MaxSAT.
//!
//! A formula over Boolean variables `v₁ … v_n` is a list of clauses (disjunctions of literals
//! `v` or `¬v`), each either **hard** (must hold) or **soft** with a positive integer weight
//! `w_j`. The problem is
//!
//! `min cost(x) = Σ_{j soft, clause j false under x} w_j   s.t. every hard clause is true`.
//!
//! Pure MaxSAT (DIMACS CNF) is the special case with no hard clauses and unit weights.
//!
//! ## As a binary objective
//! With spins `x_v = +1` for *true*, the energy minimised by the solvers is the penalised cost
//!
//! `E(x) = cost(x) + H · #{hard clauses false under x}`,
//!
//! with `H` = [`MaxSat::hard_weight`], by default the total soft weight plus one: then every
//! assignment that satisfies the hard clauses has lower energy than every one that does not,
//! so `min E` is the MaxSAT optimum whenever the hard clauses are satisfiable (and the reported
//! [`MaxSatValue::hard_violated`] says when they were not satisfied). This is the weighting of
//! Chen et al. (arXiv 2307.00783, §5.2), who use `H = #soft + 1`.
//!
//! The incremental state holds, for every clause, the number of its true literals, and for
//! every variable its flip delta ("score" in SAT local search): a false clause of weight `w`
//! contributes `−w` to each of its variables (flipping any of them satisfies it), a clause with
//! exactly one true literal contributes `+w` to that literal's variable (flipping it breaks the
//! clause), and clauses with two or more true literals contribute nothing. A flip delta is thus
//! O(1) and a flip costs the total length of the clauses containing the variable.
//!
//! Literals are normalised once: a literal repeated in a clause counts once, and a clause with
//! both `v` and `¬v` (a tautology) is always true and takes no part in the search. An empty
//! clause is always false; it enters the energy as a constant.

use crate::binary::{BinaryObjective, Spin};
use crate::error::ProblemError;

/// Whether a clause must hold or what violating it costs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Weight {
    /// Must be satisfied.
    Hard,
    /// Violation costs this (positive) weight.
    Soft(u64),
}

/// One clause: a weight and DIMACS literals (`v` or `−v` for the 1-based variable `v`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Clause {
    /// Hard or soft with a weight.
    pub weight: Weight,
    /// Non-zero DIMACS literals.
    pub lits: Vec<i32>,
}

impl Clause {
    /// A soft clause of weight `w`.
    pub fn soft(w: u64, lits: Vec<i32>) -> Self {
        Clause {
            weight: Weight::Soft(w),
            lits,
        }
    }
    /// A hard clause.
    pub fn hard(lits: Vec<i32>) -> Self {
        Clause {
            weight: Weight::Hard,
            lits,
        }
    }
    /// Whether the clause holds under the spin assignment `x` (`x_v = +1` means true).
    pub fn is_satisfied(&self, x: &[Spin]) -> bool {
        self.lits.iter().any(|&l| lit_true(l, x))
    }
}

#[inline]
fn lit_true(l: i32, x: &[Spin]) -> bool {
    let v = l.unsigned_abs() as usize - 1;
    (x[v] > 0) == (l > 0)
}

/// The value of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MaxSatValue {
    /// Total weight of the false soft clauses (the MaxSAT cost, minimised).
    pub cost: u64,
    /// Total weight of the true soft clauses (`soft_total − cost`).
    pub satisfied_weight: u64,
    /// Number of true soft clauses.
    pub satisfied_soft: usize,
    /// Number of false hard clauses (0 for a feasible assignment).
    pub hard_violated: usize,
}

impl MaxSatValue {
    /// Whether every hard clause holds.
    pub fn feasible(&self) -> bool {
        self.hard_violated == 0
    }
}

/// A weighted partial MaxSAT instance with the data structures of the incremental search.
#[derive(Debug, Clone)]
pub struct MaxSat {
    num_vars: usize,
    clauses: Vec<Clause>,
    soft_total: u64,
    num_hard: usize,
    hard_weight: f64,
    /// Energy of the clauses that no assignment can satisfy (empty clauses).
    constant: f64,
    // Normalised active clauses (no tautologies, no empty clauses, no repeated literals):
    // literal codes `2v + neg` in CSR form, and their weights in the energy.
    c_ptr: Vec<usize>,
    c_lit: Vec<u32>,
    c_w: Vec<f64>,
    /// Occurrence lists: for variable v, the (clause, literal code) pairs.
    o_ptr: Vec<usize>,
    o_clause: Vec<u32>,
    /// Variables sharing an active clause with v (CSR).
    nb_ptr: Vec<usize>,
    nb: Vec<usize>,
    order: Vec<usize>,
    scale: f64,
}

/// Incremental state: true-literal count per active clause and flip delta per variable.
#[derive(Debug, Clone, PartialEq)]
pub struct SatState {
    true_count: Vec<u32>,
    delta: Vec<f64>,
}

impl MaxSat {
    /// Build an instance over variables `1..=num_vars`.
    ///
    /// Errors on a literal `0` or a variable outside `1..=num_vars`, a soft weight of 0, and on
    /// more than 2³¹ − 1 variables.
    pub fn new(num_vars: usize, clauses: Vec<Clause>) -> Result<Self, ProblemError> {
        // Occurrence lists, fields and the solvers' per-variable vectors.
        crate::limits::check_alloc("a MaxSAT instance's variables", num_vars, 64)?;
        if num_vars > i32::MAX as usize {
            return Err(ProblemError::Invalid(format!(
                "{num_vars} variables: at most {} are supported",
                i32::MAX
            )));
        }
        let mut soft_total: u64 = 0;
        let mut num_hard = 0;
        for (j, c) in clauses.iter().enumerate() {
            match c.weight {
                Weight::Hard => num_hard += 1,
                Weight::Soft(0) => {
                    return Err(ProblemError::Invalid(format!(
                        "clause {}: soft weight 0; weights must be positive",
                        j + 1
                    )));
                }
                Weight::Soft(w) => {
                    soft_total = soft_total.checked_add(w).ok_or_else(|| {
                        ProblemError::Invalid("total soft weight exceeds 2^64 − 1".into())
                    })?;
                }
            }
            for &l in &c.lits {
                let v = l.unsigned_abs() as usize;
                if l == 0 || v > num_vars {
                    return Err(ProblemError::Invalid(format!(
                        "clause {}: literal {l} is not a variable in 1..={num_vars}",
                        j + 1
                    )));
                }
            }
        }
        let mut p = MaxSat {
            num_vars,
            clauses,
            soft_total,
            num_hard,
            hard_weight: soft_total as f64 + 1.0,
            constant: 0.0,
            c_ptr: vec![0],
            c_lit: Vec::new(),
            c_w: Vec::new(),
            o_ptr: Vec::new(),
            o_clause: Vec::new(),
            nb_ptr: Vec::new(),
            nb: Vec::new(),
            order: Vec::new(),
            scale: 1.0,
        };
        p.build();
        Ok(p)
    }

    /// (Re)build the normalised clause arrays for the current hard weight.
    fn build(&mut self) {
        let n = self.num_vars;
        self.c_ptr = vec![0];
        self.c_lit.clear();
        self.c_w.clear();
        self.constant = 0.0;
        let mut codes: Vec<u32> = Vec::new();
        let mut soft_sq = 0.0;
        let mut soft_count = 0usize;
        for c in &self.clauses {
            let w = match c.weight {
                Weight::Hard => self.hard_weight,
                Weight::Soft(w) => w as f64,
            };
            codes.clear();
            codes.extend(c.lits.iter().map(|&l| {
                let v = l.unsigned_abs() - 1;
                2 * v + u32::from(l < 0)
            }));
            codes.sort_unstable();
            codes.dedup();
            if codes.windows(2).any(|p| p[0] >> 1 == p[1] >> 1) {
                continue; // tautology
            }
            if codes.is_empty() {
                self.constant += w;
                continue;
            }
            if let Weight::Soft(_) = c.weight {
                soft_sq += w * w;
                soft_count += 1;
            }
            self.c_lit.extend_from_slice(&codes);
            self.c_ptr.push(self.c_lit.len());
            self.c_w.push(w);
        }
        self.scale = if soft_count > 0 {
            (soft_sq / soft_count as f64).sqrt()
        } else {
            1.0
        };
        // Occurrence lists.
        let mut cnt = vec![0usize; n + 1];
        for &code in &self.c_lit {
            cnt[(code >> 1) as usize + 1] += 1;
        }
        for v in 0..n {
            cnt[v + 1] += cnt[v];
        }
        self.o_ptr = cnt.clone();
        self.o_clause = vec![0; self.c_lit.len()];
        let mut fill = cnt;
        for j in 0..self.c_w.len() {
            for &code in &self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]] {
                let v = (code >> 1) as usize;
                self.o_clause[fill[v]] = j as u32;
                fill[v] += 1;
            }
        }
        // Neighbours (variables sharing a clause), sorted and deduplicated.
        self.nb_ptr = vec![0];
        self.nb.clear();
        let mut mark = vec![usize::MAX; n];
        for v in 0..n {
            mark[v] = v;
            for &j in &self.o_clause[self.o_ptr[v]..self.o_ptr[v + 1]] {
                let j = j as usize;
                for &code in &self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]] {
                    let u = (code >> 1) as usize;
                    if mark[u] != v {
                        mark[u] = v;
                        self.nb.push(u);
                    }
                }
            }
            let start = self.nb_ptr[v];
            self.nb[start..].sort_unstable();
            self.nb_ptr.push(self.nb.len());
        }
        // Sweep order: most occurrences first.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&v| (std::cmp::Reverse(self.o_ptr[v + 1] - self.o_ptr[v]), v));
        self.order = order;
    }

    /// Set the penalty `H` of a violated hard clause in the energy (must be positive and
    /// finite). Values at or below the total soft weight make the search cheaper to cross
    /// infeasible regions, but then a lowest-energy assignment may violate hard clauses.
    pub fn with_hard_weight(mut self, h: f64) -> Result<Self, ProblemError> {
        if !(h.is_finite() && h > 0.0) {
            return Err(ProblemError::Invalid(format!(
                "hard-clause weight must be positive and finite, got {h}"
            )));
        }
        self.hard_weight = h;
        self.build();
        Ok(self)
    }

    /// Number of variables.
    pub fn num_vars(&self) -> usize {
        self.num_vars
    }
    /// The clauses as given.
    pub fn clauses(&self) -> &[Clause] {
        &self.clauses
    }
    /// Number of hard clauses.
    pub fn num_hard(&self) -> usize {
        self.num_hard
    }
    /// Number of soft clauses.
    pub fn num_soft(&self) -> usize {
        self.clauses.len() - self.num_hard
    }
    /// Total soft weight.
    pub fn soft_total(&self) -> u64 {
        self.soft_total
    }
    /// Penalty `H` of a violated hard clause in the energy.
    pub fn hard_weight(&self) -> f64 {
        self.hard_weight
    }
    /// Whether every soft clause has weight 1 (unweighted MaxSAT).
    pub fn is_unweighted(&self) -> bool {
        self.clauses
            .iter()
            .all(|c| matches!(c.weight, Weight::Hard | Weight::Soft(1)))
    }

    /// Exact value of a spin assignment (`x_v = +1`: variable `v + 1` is true), from scratch.
    ///
    /// # Panics
    /// If `x.len() != num_vars`.
    pub fn evaluate(&self, x: &[Spin]) -> MaxSatValue {
        assert_eq!(x.len(), self.num_vars, "assignment length");
        let mut v = MaxSatValue {
            cost: 0,
            satisfied_weight: 0,
            satisfied_soft: 0,
            hard_violated: 0,
        };
        for c in &self.clauses {
            let sat = c.is_satisfied(x);
            match (c.weight, sat) {
                (Weight::Hard, false) => v.hard_violated += 1,
                (Weight::Hard, true) => {}
                (Weight::Soft(w), false) => v.cost += w,
                (Weight::Soft(w), true) => {
                    v.satisfied_weight += w;
                    v.satisfied_soft += 1;
                }
            }
        }
        v
    }

    /// Energy `cost + H · hard_violated` of a value.
    pub fn energy_of_value(&self, v: &MaxSatValue) -> f64 {
        v.cost as f64 + self.hard_weight * v.hard_violated as f64
    }

    #[inline]
    fn add_contrib(&self, j: usize, count: u32, x: &[Spin], delta: &mut [f64], sign: f64) {
        let w = self.c_w[j] * sign;
        let lits = &self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]];
        match count {
            0 => {
                for &code in lits {
                    delta[(code >> 1) as usize] -= w;
                }
            }
            1 => {
                for &code in lits {
                    if code_true(code, x) {
                        delta[(code >> 1) as usize] += w;
                        break;
                    }
                }
            }
            _ => {}
        }
    }
}

#[inline]
fn code_true(code: u32, x: &[Spin]) -> bool {
    (x[(code >> 1) as usize] > 0) == (code & 1 == 0)
}

impl BinaryObjective for MaxSat {
    type State = SatState;

    fn name(&self) -> &'static str {
        "maxsat"
    }

    fn num_vars(&self) -> usize {
        self.num_vars
    }

    fn energy(&self, x: &[Spin]) -> f64 {
        let mut e = self.constant;
        for j in 0..self.c_w.len() {
            if !self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]]
                .iter()
                .any(|&c| code_true(c, x))
            {
                e += self.c_w[j];
            }
        }
        e
    }

    fn init_state(&self, x: &[Spin]) -> SatState {
        let mut s = SatState {
            true_count: vec![0; self.c_w.len()],
            delta: vec![0.0; self.num_vars],
        };
        self.reset_state(&mut s, x);
        s
    }

    fn reset_state(&self, s: &mut SatState, x: &[Spin]) {
        s.true_count.resize(self.c_w.len(), 0);
        s.delta.resize(self.num_vars, 0.0);
        s.delta.fill(0.0);
        for j in 0..self.c_w.len() {
            let lits = &self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]];
            let count = lits.iter().filter(|&&c| code_true(c, x)).count() as u32;
            s.true_count[j] = count;
            self.add_contrib(j, count, x, &mut s.delta, 1.0);
        }
    }

    #[inline]
    fn flip_delta(&self, s: &SatState, _x: &[Spin], v: usize) -> f64 {
        s.delta[v]
    }

    fn flip(&self, s: &mut SatState, x: &mut [Spin], v: usize) {
        let occ = &self.o_clause[self.o_ptr[v]..self.o_ptr[v + 1]];
        for &j in occ {
            let j = j as usize;
            let c = s.true_count[j];
            self.add_contrib(j, c, x, &mut s.delta, -1.0);
        }
        x[v] = -x[v];
        for &j in occ {
            let j = j as usize;
            // Was the literal of v in clause j true before the flip? Then it is false now.
            let lits = &self.c_lit[self.c_ptr[j]..self.c_ptr[j + 1]];
            let now_true = lits
                .iter()
                .find(|&&code| (code >> 1) as usize == v)
                .is_some_and(|&code| code_true(code, x));
            if now_true {
                s.true_count[j] += 1;
            } else {
                s.true_count[j] -= 1;
            }
            self.add_contrib(j, s.true_count[j], x, &mut s.delta, 1.0);
        }
    }

    fn coupled(&self, v: usize) -> Option<&[usize]> {
        Some(&self.nb[self.nb_ptr[v]..self.nb_ptr[v + 1]])
    }

    fn sweep_order(&self) -> Vec<usize> {
        self.order.clone()
    }

    fn delta_scale(&self) -> f64 {
        self.scale
    }
}

/// Print an assignment in the MaxSAT Evaluation `v` line format: `v` followed by one DIMACS
/// literal per variable (`3` when variable 3 is true, `-3` when false).
pub fn v_line(x: &[Spin]) -> String {
    let mut s = String::with_capacity(2 + 8 * x.len());
    s.push('v');
    for (i, &xi) in x.iter().enumerate() {
        s.push(' ');
        if xi < 0 {
            s.push('-');
        }
        s.push_str(&(i + 1).to_string());
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_state(p: &MaxSat, x: &[Spin], s: &SatState) {
        let fresh = p.init_state(x);
        assert_eq!(&fresh.true_count, &s.true_count);
        for v in 0..x.len() {
            assert!((fresh.delta[v] - s.delta[v]).abs() < 1e-9);
        }
    }

    #[test]
    fn deltas_and_flips_match_recomputation() {
        let clauses = vec![
            Clause::soft(3, vec![1, -2]),
            Clause::soft(1, vec![2, 3, 3]),
            Clause::hard(vec![-1, -3]),
            Clause::soft(2, vec![1, -1]), // tautology
            Clause::soft(5, vec![]),      // always false
            Clause::hard(vec![2]),
        ];
        let p = MaxSat::new(3, clauses).unwrap();
        assert_eq!(p.soft_total(), 11);
        assert_eq!(p.hard_weight(), 12.0);
        for code in 0..8u32 {
            let mut x: Vec<Spin> = (0..3)
                .map(|i| if code >> i & 1 == 1 { 1 } else { -1 })
                .collect();
            let mut s = p.init_state(&x);
            let val = p.evaluate(&x);
            assert_eq!(p.energy(&x), p.energy_of_value(&val));
            for v in [0, 2, 1, 0, 1] {
                let e0 = p.energy(&x);
                let d = p.flip_delta(&s, &x, v);
                p.flip(&mut s, &mut x, v);
                assert!((p.energy(&x) - e0 - d).abs() < 1e-9);
                check_state(&p, &x, &s);
            }
        }
        let val = p.evaluate(&[1, 1, -1]);
        assert_eq!(val.hard_violated, 0);
        assert_eq!(val.cost, 5);
        assert_eq!(val.satisfied_weight, 6);
        assert_eq!(val.satisfied_soft, 3);
    }

    #[test]
    fn rejects_bad_clauses() {
        assert!(MaxSat::new(2, vec![Clause::soft(1, vec![3])]).is_err());
        assert!(MaxSat::new(2, vec![Clause::soft(0, vec![1])]).is_err());
        assert!(MaxSat::new(2, vec![Clause::hard(vec![0])]).is_err());
        let p = MaxSat::new(2, vec![Clause::soft(1, vec![1])]).unwrap();
        assert!(p.clone().with_hard_weight(f64::NAN).is_err());
        assert_eq!(p.with_hard_weight(0.5).unwrap().hard_weight(), 0.5);
    }

    #[test]
    fn v_line_format() {
        assert_eq!(v_line(&[1, -1, 1]), "v 1 -2 3");
    }
}
