//! Seeded instance generators. Every generator is a pure function of its arguments and seed
//! (Xoshiro256++ seeded through SplitMix64), so committed instances can be re-created exactly.

use crate::graph::{Edge, Graph};
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
    }
}
