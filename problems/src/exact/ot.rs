//! Exact optimal transport by successive shortest paths (min-cost flow), for tests.
//!
//! The transport problem is a min-cost flow from the rows (supplies `a_i`) to the columns
//! (demands `b_j`) over arcs `i → j` of cost `C_ij` and unbounded capacity. Starting from the
//! zero flow with node potentials `φ = 0` (costs are shifted to be non-negative), each step runs
//! Dijkstra on the residual graph with reduced costs `C_ij + φ_i − φ_j ≥ 0` from all rows with
//! remaining supply, raises the potentials by the distances, and pushes the bottleneck amount
//! (remaining supply, remaining demand, or flow on a reversed arc) along a shortest path to a
//! column with remaining demand. Every push empties a supply, a demand or a reversed arc, and
//! the reduced-cost optimality conditions hold throughout, so the final flow is optimal.
//! Dense Dijkstra: O((n + m)²) per step; intended for n, m up to a few hundred.

use crate::error::ProblemError;
use crate::ot::OtProblem;

/// Minimum transport cost `min ⟨C, P⟩` and an optimal plan (dense, row-major).
pub fn ot_exact(p: &OtProblem) -> Result<(f64, Vec<f64>), ProblemError> {
    let (n, m) = (p.n(), p.m());
    let cmin = p.cost().iter().copied().fold(f64::INFINITY, f64::min);
    let c = |i: usize, j: usize| p.cost()[i * m + j] - cmin;
    let total: f64 = p.a().iter().sum();
    let eps = 1e-14 * total.max(f64::MIN_POSITIVE);
    let mut supply: Vec<f64> = p.a().to_vec();
    let mut demand: Vec<f64> = p.b().to_vec();
    // Exactly equal masses: put the rounding difference on the largest demand.
    let diff: f64 = supply.iter().sum::<f64>() - demand.iter().sum::<f64>();
    if let Some(k) = (0..m).max_by(|&x, &y| demand[x].total_cmp(&demand[y])) {
        demand[k] = (demand[k] + diff).max(0.0);
    }
    let mut flow = vec![0.0; n * m];
    let nodes = n + m; // rows 0..n, columns n..n+m
    let mut phi = vec![0.0; nodes];
    let mut dist = vec![f64::INFINITY; nodes];
    let mut done = vec![false; nodes];
    let mut prev = vec![usize::MAX; nodes];
    let mut steps = 0usize;
    let max_steps = 4 * (n + 1) * (m + 1) + 1000;
    while supply.iter().any(|&s| s > eps) {
        steps += 1;
        if steps > max_steps {
            return Err(ProblemError::Invalid(
                "exact OT: no convergence (degenerate floating-point data)".into(),
            ));
        }
        dist.fill(f64::INFINITY);
        done.fill(false);
        prev.fill(usize::MAX);
        for i in 0..n {
            if supply[i] > eps {
                dist[i] = 0.0;
            }
        }
        // Dense Dijkstra.
        let target = loop {
            let mut u = usize::MAX;
            let mut best = f64::INFINITY;
            for x in 0..nodes {
                if !done[x] && dist[x] < best {
                    best = dist[x];
                    u = x;
                }
            }
            if u == usize::MAX {
                return Err(ProblemError::Invalid(
                    "exact OT: remaining demand unreachable".into(),
                ));
            }
            done[u] = true;
            if u >= n && demand[u - n] > eps {
                break u;
            }
            if u < n {
                for j in 0..m {
                    let v = n + j;
                    if done[v] {
                        continue;
                    }
                    let rc = (c(u, j) + phi[u] - phi[v]).max(0.0);
                    if dist[u] + rc < dist[v] {
                        dist[v] = dist[u] + rc;
                        prev[v] = u;
                    }
                }
            } else {
                let j = u - n;
                for i in 0..n {
                    if done[i] || flow[i * m + j] <= eps {
                        continue;
                    }
                    let rc = (-c(i, j) + phi[u] - phi[i]).max(0.0);
                    if dist[u] + rc < dist[i] {
                        dist[i] = dist[u] + rc;
                        prev[i] = u;
                    }
                }
            }
        };
        let dt = dist[target];
        for x in 0..nodes {
            phi[x] += dist[x].min(dt);
        }
        // Bottleneck along the path (columns are entered from rows, rows from columns).
        let mut amount = demand[target - n];
        let mut v = target;
        while prev[v] != usize::MAX {
            let u = prev[v];
            if u >= n {
                amount = amount.min(flow[v * m + (u - n)]);
            }
            v = u;
        }
        amount = amount.min(supply[v]);
        supply[v] -= amount;
        demand[target - n] -= amount;
        let mut v = target;
        while prev[v] != usize::MAX {
            let u = prev[v];
            if u < n {
                flow[u * m + (v - n)] += amount;
            } else {
                let f = &mut flow[v * m + (u - n)];
                *f = (*f - amount).max(0.0);
            }
            v = u;
        }
    }
    Ok((p.transport_cost(&flow), flow))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_cases() {
        // 2 x 2 with a cheap diagonal.
        let p = OtProblem::from_row_major(vec![0.5, 0.5], vec![0.5, 0.5], vec![0.0, 1.0, 1.0, 0.0])
            .unwrap();
        let (c, plan) = ot_exact(&p).unwrap();
        assert_eq!(c, 0.0);
        assert_eq!(plan, vec![0.5, 0.0, 0.0, 0.5]);
        // Mass must be split: a = (1), b = (0.25, 0.75).
        let q = OtProblem::from_row_major(vec![1.0], vec![0.25, 0.75], vec![2.0, -1.0]).unwrap();
        let (c, _) = ot_exact(&q).unwrap();
        assert!((c - (0.5 - 0.75)).abs() < 1e-15);
        // An augmenting path must reverse flow: greedy would send row 0 to column 0.
        let r =
            OtProblem::from_row_major(vec![0.5, 0.5], vec![0.5, 0.5], vec![1.0, 2.0, 1.0, 10.0])
                .unwrap();
        let (c, plan) = ot_exact(&r).unwrap();
        assert!((c - 1.5).abs() < 1e-15, "{c} {plan:?}");
    }
}
