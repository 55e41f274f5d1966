//! The weighted MaxCut problem.
//!
//! Given a graph with weights `w_uv` (any sign), find `x ∈ {−1, 1}ⁿ` maximising
//!
//! `cut(x) = Σ_{uv ∈ E} w_uv (1 − x_u x_v) / 2`,
//!
//! the total weight of the edges whose ends lie on different sides. With the local fields
//! `h_v = Σ_u w_uv x_u`, flipping `x_v` changes the cut by `x_v h_v`, which costs O(1); the flip
//! itself updates the fields of the neighbours in O(deg v).
//!
//! As a [`BinaryObjective`] the energy is `−cut(x)`, the sign flip being undone by
//! [`BinaryObjective::objective`]; `x` and `−x` give the same cut, so the vertex of largest
//! |weighted degree| serves as the symmetry pivot.

use crate::binary::{BinaryObjective, Sense, Spin};
use crate::graph::Graph;

/// A MaxCut instance: a graph plus precomputed weighted degrees and a sweep order.
#[derive(Debug, Clone)]
pub struct MaxCut {
    graph: Graph,
    total_weight: f64,
    order: Vec<usize>,
}

impl MaxCut {
    /// Wrap a graph. Precomputes the sweep order (decreasing |weighted degree|, ties by index).
    pub fn new(graph: Graph) -> Self {
        let deg = graph.weighted_degrees();
        let mut order: Vec<usize> = (0..graph.num_vertices()).collect();
        order.sort_by(|&a, &b| deg[b].abs().total_cmp(&deg[a].abs()).then(a.cmp(&b)));
        let total_weight = graph.total_weight();
        MaxCut {
            graph,
            total_weight,
            order,
        }
    }

    /// The graph.
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Sum of all edge weights `W`; `cut(x) = (W − Σ w_uv x_u x_v) / 2`.
    pub fn total_weight(&self) -> f64 {
        self.total_weight
    }

    /// Cut value of a ±1 assignment, computed from scratch in O(m).
    ///
    /// # Panics
    /// If `x.len()` differs from the number of vertices.
    pub fn cut_value(&self, x: &[Spin]) -> f64 {
        assert_eq!(x.len(), self.graph.num_vertices(), "assignment length");
        let (p, idx, w) = self.graph.csr();
        let mut twice = 0.0;
        for v in 0..x.len() {
            for k in p[v]..p[v + 1] {
                if x[idx[k]] != x[v] {
                    twice += w[k];
                }
            }
        }
        twice / 2.0
    }

    /// Local fields `h_v = Σ_u w_uv x_u`.
    pub fn local_fields(&self, x: &[Spin]) -> Vec<f64> {
        let mut h = vec![0.0; x.len()];
        self.local_fields_into(x, &mut h);
        h
    }

    /// Local fields written into `h` (same length as `x`).
    pub fn local_fields_into(&self, x: &[Spin], h: &mut [f64]) {
        let (p, idx, w) = self.graph.csr();
        for (v, hv) in h.iter_mut().enumerate() {
            *hv = (p[v]..p[v + 1]).map(|k| w[k] * f64::from(x[idx[k]])).sum();
        }
    }

    /// Change of the cut when `x_v` flips: `x_v h_v`.
    #[inline]
    pub fn flip_gain(fields: &[f64], x: &[Spin], v: usize) -> f64 {
        f64::from(x[v]) * fields[v]
    }
}

impl BinaryObjective for MaxCut {
    type State = Vec<f64>;

    fn name(&self) -> &'static str {
        "maxcut"
    }

    fn num_vars(&self) -> usize {
        self.graph.num_vertices()
    }

    fn energy(&self, x: &[Spin]) -> f64 {
        -self.cut_value(x)
    }

    fn init_state(&self, x: &[Spin]) -> Vec<f64> {
        self.local_fields(x)
    }

    fn reset_state(&self, h: &mut Vec<f64>, x: &[Spin]) {
        h.resize(x.len(), 0.0);
        self.local_fields_into(x, h);
    }

    #[inline]
    fn flip_delta(&self, h: &Vec<f64>, x: &[Spin], v: usize) -> f64 {
        -MaxCut::flip_gain(h, x, v)
    }

    #[inline]
    fn flip(&self, h: &mut Vec<f64>, x: &mut [Spin], v: usize) {
        let new = -x[v];
        x[v] = new;
        let twice = 2.0 * f64::from(new);
        let (p, idx, w) = self.graph.csr();
        for k in p[v]..p[v + 1] {
            h[idx[k]] += twice * w[k];
        }
    }

    #[inline]
    fn coupled(&self, v: usize) -> Option<&[usize]> {
        let (p, idx, _) = self.graph.csr();
        Some(&idx[p[v]..p[v + 1]])
    }

    /// Root-mean-square local field under uniformly random spins, `sqrt(mean_v Σ_u w_uv²)`
    /// (`sqrt(average degree)` for unit weights): the typical size of a flip gain, so that
    /// temperatures mean the same on sparse and dense graphs.
    fn delta_scale(&self) -> f64 {
        let w = self.graph.adjacency().data();
        let n = self.graph.num_vertices();
        if w.is_empty() || n == 0 {
            return 1.0;
        }
        (w.iter().map(|v| v * v).sum::<f64>() / n as f64)
            .sqrt()
            .max(f64::MIN_POSITIVE)
    }

    fn load_fields(&self, state: &mut Vec<f64>, h: &[f64]) -> bool {
        state.clear();
        state.extend_from_slice(h);
        true
    }

    fn ising(&self) -> Option<crate::binary::IsingView<'_>> {
        let (ptr, idx, w) = self.graph.csr();
        Some(crate::binary::IsingView {
            kind: crate::binary::IsingKind::MaxCut,
            ptr,
            idx,
            w,
            field: &[],
            constant: 0.0,
        })
    }

    fn symmetry_pivot(&self) -> Option<usize> {
        self.order.first().copied()
    }

    fn sweep_order(&self) -> Vec<usize> {
        self.order.clone()
    }

    fn sense(&self) -> Sense {
        Sense::Maximize
    }

    fn objective(&self, energy: f64) -> f64 {
        -energy
    }

    fn energy_of_objective(&self, objective: f64) -> f64 {
        -objective
    }
}

/// Turn a 0/1 side vector into spins (`0 → −1`, `1 → +1`).
pub fn sides_to_spins(sides: &[u8]) -> Vec<Spin> {
    sides.iter().map(|&s| if s == 0 { -1 } else { 1 }).collect()
}

/// Turn spins into a 0/1 side vector (`−1 → 0`, `+1 → 1`).
pub fn spins_to_sides(x: &[Spin]) -> Vec<u8> {
    x.iter().map(|&s| u8::from(s > 0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn arb_graph() -> impl Strategy<Value = (Graph, Vec<Spin>)> {
        (2usize..12).prop_flat_map(|n| {
            let pairs: Vec<(usize, usize)> = (0..n)
                .flat_map(|u| (u + 1..n).map(move |v| (u, v)))
                .collect();
            let np = pairs.len();
            (
                proptest::collection::vec(proptest::option::of(-3i32..=3), np),
                proptest::collection::vec(prop_oneof![Just(-1i8), Just(1i8)], n),
            )
                .prop_map(move |(ws, x)| {
                    let edges: Vec<Edge> = pairs
                        .iter()
                        .zip(ws)
                        .filter_map(|(&(u, v), w)| w.map(|w| (u, v, f64::from(w))))
                        .collect();
                    (Graph::from_edges(n, &edges).unwrap(), x)
                })
        })
    }
    use crate::graph::Edge;

    proptest! {
        #[test]
        fn flip_delta_matches_recomputation((g, mut x) in arb_graph(), v in 0usize..12) {
            let p = MaxCut::new(g);
            let v = v % x.len();
            let mut h = p.init_state(&x);
            let before = p.energy(&x);
            let d = p.flip_delta(&h, &x, v);
            p.flip(&mut h, &mut x, v);
            prop_assert!((p.energy(&x) - before - d).abs() < 1e-9);
            prop_assert_eq!(h, p.local_fields(&x));
        }

        #[test]
        fn cut_formula_matches_energy_form((g, x) in arb_graph()) {
            let p = MaxCut::new(g);
            let h = p.local_fields(&x);
            let xhx: f64 = x.iter().zip(&h).map(|(&a, &b)| f64::from(a) * b).sum();
            // Σ_{u<v} w x_u x_v = x'Wx / 2
            prop_assert!((p.cut_value(&x) - (p.total_weight() - xhx / 2.0) / 2.0).abs() < 1e-9);
            let neg: Vec<Spin> = x.iter().map(|&s| -s).collect();
            prop_assert_eq!(p.cut_value(&x), p.cut_value(&neg));
        }
    }

    #[test]
    fn delta_scale_is_the_rms_local_field() {
        // Unit-weight 4-cycle: every degree is 2, so the scale is sqrt(2).
        let c4 =
            Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 3, 1.0)]).unwrap();
        assert!((MaxCut::new(c4).delta_scale() - 2f64.sqrt()).abs() < 1e-12);
        // Weights -2 and 2 on a path of 3: sum of squares 16 over 3 vertices.
        let p3 = Graph::from_edges(3, &[(0, 1, -2.0), (1, 2, 2.0)]).unwrap();
        assert!((MaxCut::new(p3).delta_scale() - (16.0f64 / 3.0).sqrt()).abs() < 1e-12);
        assert_eq!(
            MaxCut::new(Graph::from_edges(2, &[]).unwrap()).delta_scale(),
            1.0
        );
    }

    #[test]
    fn sides_round_trip() {
        let x = vec![1, -1, -1, 1];
        assert_eq!(sides_to_spins(&spins_to_sides(&x)), x);
    }
}
