//! Seeded instance generators. Every generator is a pure function of its arguments and seed
//! (Xoshiro256++ seeded through SplitMix64), so committed instances can be re-created exactly.

use crate::graph::{Edge, Graph};
use crate::ot::GridHistogram;
use crate::qubo::Entry;
use crate::sat::Clause;
use rand::{RngExt, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// How edge weights are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// Every weight is 1.
    Unit,
    /// Each weight is +1 or −1 with probability ½ (as in the ±1 Gset graphs).
    PlusMinusOne,
}

fn weight(rng: &mut Xoshiro256PlusPlus, kind: Weights) -> f64 {
    match kind {
        Weights::Unit => 1.0,
        Weights::PlusMinusOne => {
            if rng.random_bool(0.5) {
                1.0
            } else {
                -1.0
            }
        }
    }
}

/// Erdős–Rényi graph G(n, p): each of the n(n−1)/2 pairs is an edge with probability `p`.
pub fn erdos_renyi(n: usize, p: f64, weights: Weights, seed: u64) -> Graph {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut edges: Vec<Edge> = Vec::new();
    for u in 0..n {
        for v in u + 1..n {
            if rng.random::<f64>() < p {
                edges.push((u, v, weight(&mut rng, weights)));
            }
        }
    }
    Graph::from_edges(n, &edges).expect("generated edges are valid")
}

/// Toroidal `rows × cols` grid (each vertex joined to its right and lower neighbour, with
/// wrap-around), as in the toroidal Gset graphs. Needs `rows, cols >= 3` so that no pair repeats.
pub fn torus_2d(rows: usize, cols: usize, weights: Weights, seed: u64) -> Graph {
    assert!(rows >= 3 && cols >= 3, "torus needs at least 3 x 3");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut edges: Vec<Edge> = Vec::with_capacity(2 * rows * cols);
    for r in 0..rows {
        for c in 0..cols {
            let v = r * cols + c;
            edges.push((v, r * cols + (c + 1) % cols, weight(&mut rng, weights)));
            edges.push((v, ((r + 1) % rows) * cols + c, weight(&mut rng, weights)));
        }
    }
    Graph::from_edges(rows * cols, &edges).expect("generated edges are valid")
}

/// A random literal of a variable in `1..=n` with a random sign.
fn random_clause(rng: &mut Xoshiro256PlusPlus, n: usize, k: usize) -> Vec<i32> {
    let mut vars: Vec<i32> = Vec::with_capacity(k);
    while vars.len() < k.min(n) {
        let v = rng.random_range(1..=n as i32);
        if !vars.contains(&v) {
            vars.push(v);
        }
    }
    vars.into_iter()
        .map(|v| if rng.random_bool(0.5) { v } else { -v })
        .collect()
}

/// Random weighted partial MaxSAT over `n` variables with a planted assignment: `hard` clauses
/// of `k` distinct variables, each satisfied by the planted assignment (so the hard part is
/// satisfiable), then `soft` clauses of 1 to `k` variables with weights uniform in
/// `1..=max_weight`.
pub fn planted_maxsat(
    n: usize,
    hard: usize,
    soft: usize,
    k: usize,
    max_weight: u64,
    seed: u64,
) -> Vec<Clause> {
    assert!(
        n > 0 && k > 0 && max_weight > 0,
        "n, k and max_weight must be positive"
    );
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let plant: Vec<bool> = (0..n).map(|_| rng.random_bool(0.5)).collect();
    let mut clauses = Vec::with_capacity(hard + soft);
    while clauses.len() < hard {
        let c = random_clause(&mut rng, n, k);
        if c.iter()
            .any(|&l| plant[l.unsigned_abs() as usize - 1] == (l > 0))
        {
            clauses.push(Clause::hard(c));
        }
    }
    for _ in 0..soft {
        let len = rng.random_range(1..=k);
        let c = random_clause(&mut rng, n, len);
        clauses.push(Clause::soft(rng.random_range(1..=max_weight), c));
    }
    clauses
}

/// Random symmetric QUBO matrix entries: each pair `i ≤ j` is present with probability
/// `density`, with an integer value uniform in `[−max_abs, max_abs] \ {0}`.
pub fn random_qubo(n: usize, density: f64, max_abs: i64, seed: u64) -> Vec<Entry> {
    assert!(max_abs > 0, "max_abs must be positive");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut entries = Vec::new();
    for i in 0..n {
        for j in i..n {
            if rng.random::<f64>() < density {
                let mut q = 0;
                while q == 0 {
                    q = rng.random_range(-max_abs..=max_abs);
                }
                entries.push((i, j, q as f64));
            }
        }
    }
    entries
}

/// A random Gaussian mixture discretised on a grid of `shape` over the unit cube: `components`
/// bumps with centres uniform in `[0.2, 0.8]^d`, widths uniform in `[0.05, 0.15]` and weights
/// uniform in `[0.5, 1]`, evaluated at the cell centres and normalised to mass 1.
pub fn gaussian_mixture_grid(shape: &[usize], components: usize, seed: u64) -> GridHistogram {
    assert!(components > 0, "at least one component");
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let d = shape.len();
    let comps: Vec<(Vec<f64>, f64, f64)> = (0..components)
        .map(|_| {
            let mu = (0..d).map(|_| rng.random_range(0.2..0.8)).collect();
            (mu, rng.random_range(0.05..0.15), rng.random_range(0.5..1.0))
        })
        .collect();
    let cells: usize = shape.iter().product();
    let unit = GridHistogram::new(shape.to_vec(), vec![1.0; cells]).expect("valid shape");
    let mut w: Vec<f64> = (0..cells)
        .map(|k| {
            let x = unit.center(k);
            comps
                .iter()
                .map(|(mu, s, wt)| {
                    let r2: f64 = x.iter().zip(mu).map(|(a, b)| (a - b) * (a - b)).sum();
                    wt * (-r2 / (2.0 * s * s)).exp()
                })
                .sum::<f64>()
        })
        .collect();
    let total: f64 = w.iter().sum();
    w.iter_mut().for_each(|v| *v /= total);
    GridHistogram::new(shape.to_vec(), w).expect("positive finite weights")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generators_are_seeded_and_shaped() {
        let a = erdos_renyi(30, 0.2, Weights::PlusMinusOne, 7);
        let b = erdos_renyi(30, 0.2, Weights::PlusMinusOne, 7);
        assert_eq!(a.edges().collect::<Vec<_>>(), b.edges().collect::<Vec<_>>());
        let c = erdos_renyi(30, 0.2, Weights::PlusMinusOne, 8);
        assert_ne!(a.edges().collect::<Vec<_>>(), c.edges().collect::<Vec<_>>());
        let t = torus_2d(4, 5, Weights::Unit, 1);
        assert_eq!((t.num_vertices(), t.num_edges()), (20, 40));
        assert!((0..20).all(|v| t.neighbors(v).count() == 4));
        let f = planted_maxsat(10, 20, 30, 3, 5, 1);
        assert_eq!(f, planted_maxsat(10, 20, 30, 3, 5, 1));
        assert_eq!(
            f.iter()
                .filter(|c| c.weight == crate::sat::Weight::Hard)
                .count(),
            20
        );
        let q = random_qubo(10, 0.5, 9, 2);
        assert!(
            q.iter()
                .all(|&(i, j, v)| i <= j && v != 0.0 && v.abs() <= 9.0)
        );
    }
}
