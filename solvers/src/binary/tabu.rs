//! Tabu search on spin vectors, used as an MCPG filter.
//!
//! From the current point, repeatedly flip the variable with the largest gain `−Δf` among the
//! variables that are not tabu, or a tabu one if it gives a new best of the walk (aspiration).
//! A flipped variable stays tabu for a random tenure in `[tenure, 2·tenure)` moves. The walk stops
//! after `moves` moves or `patience` moves without a new best, and returns to its best point (by
//! undoing the moves made after it), which is a 1-flip local optimum unless the walk was cut.
//!
//! Gains live in an indexed max-heap. After a flip only the gains of the flipped variable and of
//! the variables coupled to it ([`BinaryObjective::coupled`]; MaxCut: its neighbours) change,
//! so a move costs O((deg + 1) log n). The best admissible variable is found by walking the heap
//! from its root in decreasing gain order, which visits only the tabu variables above it.

use mathprog_problems::binary::{BinaryObjective, Spin};
use rand::Rng;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// Indexed binary max-heap over `0..n` keyed by `f64`.
#[derive(Debug, Clone, Default)]
struct IndexedMaxHeap {
    heap: Vec<u32>,
    pos: Vec<u32>,
    key: Vec<f64>,
}

impl IndexedMaxHeap {
    fn rebuild(&mut self, keys: impl Iterator<Item = f64>) {
        self.key.clear();
        self.key.extend(keys);
        let n = self.key.len();
        self.heap.clear();
        self.heap.extend(0..n as u32);
        self.pos.clear();
        self.pos.extend(0..n as u32);
        for i in (0..n / 2).rev() {
            self.sift_down(i);
        }
    }

    #[inline]
    fn swap(&mut self, i: usize, j: usize) {
        self.heap.swap(i, j);
        self.pos[self.heap[i] as usize] = i as u32;
        self.pos[self.heap[j] as usize] = j as u32;
    }

    #[inline]
    fn k(&self, i: usize) -> f64 {
        self.key[self.heap[i] as usize]
    }

    fn sift_up(&mut self, mut i: usize) {
        while i > 0 {
            let parent = (i - 1) / 2;
            if self.k(i) > self.k(parent) {
                self.swap(i, parent);
                i = parent;
            } else {
                break;
            }
        }
    }

    fn sift_down(&mut self, mut i: usize) {
        let n = self.heap.len();
        loop {
            let l = 2 * i + 1;
            if l >= n {
                break;
            }
            let r = l + 1;
            let c = if r < n && self.k(r) > self.k(l) { r } else { l };
            if self.k(c) > self.k(i) {
                self.swap(i, c);
                i = c;
            } else {
                break;
            }
        }
    }

    #[inline]
    fn update(&mut self, v: usize, key: f64) {
        let old = self.key[v];
        self.key[v] = key;
        let i = self.pos[v] as usize;
        if key > old {
            self.sift_up(i);
        } else if key < old {
            self.sift_down(i);
        }
    }
}

/// Frontier entry of the heap walk: (gain, heap position).
#[derive(Debug, Clone, Copy, PartialEq)]
struct Cand(f64, u32);
impl Eq for Cand {}
impl PartialOrd for Cand {
    fn partial_cmp(&self, o: &Self) -> Option<Ordering> {
        Some(self.cmp(o))
    }
}
impl Ord for Cand {
    fn cmp(&self, o: &Self) -> Ordering {
        self.0.total_cmp(&o.0).then(o.1.cmp(&self.1))
    }
}

/// Reusable buffers of the tabu search (allocated once per chain group).
#[derive(Debug, Clone, Default)]
pub struct TabuScratch {
    heap: IndexedMaxHeap,
    frontier: BinaryHeap<Cand>,
    tabu_until: Vec<u64>,
    clock: u64,
    log: Vec<u32>,
}

impl TabuScratch {
    /// Buffers for `n` variables.
    pub fn new(n: usize) -> Self {
        TabuScratch {
            heap: IndexedMaxHeap {
                heap: Vec::with_capacity(n),
                pos: Vec::with_capacity(n),
                key: Vec::with_capacity(n),
            },
            frontier: BinaryHeap::with_capacity(n.min(1 << 16) + 1),
            tabu_until: vec![0; n],
            clock: 0,
            log: Vec::new(),
        }
    }
}

/// Parameters of one tabu walk.
#[derive(Debug, Clone, Copy)]
pub struct TabuParams {
    /// Maximum number of moves.
    pub moves: usize,
    /// Stop after this many moves without a new best.
    pub patience: usize,
    /// Base tenure `t`: a flipped variable is tabu for a random number of moves in `[t, 2t)`.
    pub tenure: usize,
}

/// Run a tabu walk from `(x, st)` with energy `e`; leaves `(x, st)` at the walk's best point and
/// returns its energy.
#[allow(clippy::too_many_arguments)]
pub fn tabu_walk<P: BinaryObjective, R: Rng>(
    p: &P,
    x: &mut [Spin],
    st: &mut P::State,
    mut e: f64,
    params: TabuParams,
    scratch: &mut TabuScratch,
    rng: &mut R,
    budget: &crate::core::Budget<'_>,
) -> f64 {
    let n = x.len();
    if n == 0 {
        return e;
    }
    let TabuScratch {
        heap,
        frontier,
        tabu_until,
        clock,
        log,
    } = scratch;
    if tabu_until.len() != n {
        tabu_until.clear();
        tabu_until.resize(n, 0);
        *clock = 0;
    }
    heap.rebuild((0..n).map(|v| -p.flip_delta(st, x, v)));
    log.clear();
    let mut best_e = e;
    let mut since_best = 0usize;
    let tenure = params.tenure.max(1) as u64;
    let tol = 1e-9 * p.delta_scale();
    for m in 0..params.moves {
        if m % 1024 == 1023 && budget.spent() {
            break;
        }
        *clock += 1;
        let now = *clock;
        // Best admissible variable: walk the heap in decreasing gain order.
        frontier.clear();
        frontier.push(Cand(heap.k(0), 0));
        let mut chosen = None;
        while let Some(Cand(gain, i)) = frontier.pop() {
            let v = heap.heap[i as usize] as usize;
            if tabu_until[v] <= now || e - gain < best_e - tol {
                chosen = Some(v);
                break;
            }
            for c in [2 * i as usize + 1, 2 * i as usize + 2] {
                if c < heap.heap.len() {
                    frontier.push(Cand(heap.k(c), c as u32));
                }
            }
        }
        let Some(v) = chosen else { break };
        e -= heap.key[v];
        p.flip(st, x, v);
        tabu_until[v] = now + tenure + (rng.next_u64() % tenure);
        heap.update(v, -p.flip_delta(st, x, v));
        match p.coupled(v) {
            Some(nb) => {
                for &u in nb {
                    heap.update(u, -p.flip_delta(st, x, u));
                }
            }
            None => {
                for u in 0..n {
                    heap.update(u, -p.flip_delta(st, x, u));
                }
            }
        }
        log.push(v as u32);
        if e < best_e - tol {
            best_e = e;
            log.clear();
            since_best = 0;
        } else {
            since_best += 1;
            if since_best >= params.patience {
                break;
            }
        }
    }
    // Return to the best point of the walk.
    for &v in log.iter().rev() {
        let v = v as usize;
        e += p.flip_delta(st, x, v);
        p.flip(st, x, v);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::stream_rng;
    use mathprog_problems::{generators, maxcut::MaxCut};

    #[test]
    fn heap_keeps_order_under_updates() {
        let mut h = IndexedMaxHeap::default();
        h.rebuild([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0].into_iter());
        h.update(5, -1.0);
        h.update(1, 7.0);
        let mut keys: Vec<f64> = Vec::new();
        for _ in 0..8 {
            let top = h.heap[0] as usize;
            keys.push(h.key[top]);
            h.update(top, f64::NEG_INFINITY);
        }
        assert_eq!(keys, vec![7.0, 6.0, 5.0, 4.0, 3.0, 2.0, 1.0, -1.0]);
    }

    #[test]
    fn walk_returns_its_best_point_and_consistent_energy() {
        let g = generators::erdos_renyi(60, 0.2, generators::Weights::PlusMinusOne, 5);
        let p = MaxCut::new(g);
        let mut rng = stream_rng(3, 0, 0);
        let mut x: Vec<Spin> = (0..60).map(|i| if i % 3 == 0 { 1 } else { -1 }).collect();
        let mut st = p.init_state(&x);
        let e0 = p.energy(&x);
        let mut scratch = TabuScratch::new(60);
        let params = TabuParams {
            moves: 500,
            patience: 200,
            tenure: 5,
        };
        let e = tabu_walk(
            &p,
            &mut x,
            &mut st,
            e0,
            params,
            &mut scratch,
            &mut rng,
            &crate::core::Budget::NONE,
        );
        assert!(e <= e0);
        assert_eq!(e, p.energy(&x));
        assert_eq!(st, p.local_fields(&x));
        assert!(crate::binary::local_search::is_local_optimum(&p, &x));
    }
}
