//! Exact MaxCut by Gray-code enumeration.
//!
//! Vertex `n − 1` is fixed to side `+1` (a cut and its complement are equal), and the other
//! `2^(n−1)` assignments are visited in reflected Gray-code order, so consecutive assignments
//! differ in one vertex `v` and the cut changes by `x_v h_v` with local fields `h`. Total cost
//! O(2^(n−1) · max degree).

use crate::binary::Spin;
use crate::error::ProblemError;
use crate::maxcut::MaxCut;

/// Largest `n` accepted by [`maxcut_brute_force`] (2²³ assignments take well under a second).
pub const MAXCUT_BRUTE_FORCE_MAX_N: usize = 26;

/// Maximum cut and one optimal assignment (the first found in Gray-code order).
///
/// Errors when `n > MAXCUT_BRUTE_FORCE_MAX_N`.
pub fn maxcut_brute_force(p: &MaxCut) -> Result<(f64, Vec<Spin>), ProblemError> {
    let n = p.graph().num_vertices();
    if n > MAXCUT_BRUTE_FORCE_MAX_N {
        return Err(ProblemError::Invalid(format!(
            "brute-force MaxCut handles n <= {MAXCUT_BRUTE_FORCE_MAX_N}, got n = {n}"
        )));
    }
    if n == 0 {
        return Ok((0.0, Vec::new()));
    }
    let (ptr, idx, w) = p.graph().csr();
    let mut x: Vec<Spin> = vec![1; n];
    let mut h = p.local_fields(&x);
    let mut cut = 0.0;
    let mut best = 0.0;
    let mut best_code: u64 = 0;
    let mut code: u64 = 0;
    for k in 1u64..(1u64 << (n - 1)) {
        let v = k.trailing_zeros() as usize;
        cut += f64::from(x[v]) * h[v];
        x[v] = -x[v];
        let twice = 2.0 * f64::from(x[v]);
        for e in ptr[v]..ptr[v + 1] {
            h[idx[e]] += twice * w[e];
        }
        code ^= 1 << v;
        if cut > best {
            best = cut;
            best_code = code;
        }
    }
    let xbest: Vec<Spin> = (0..n)
        .map(|v| {
            if v < 64 && best_code >> v & 1 == 1 {
                -1
            } else {
                1
            }
        })
        .collect();
    // Re-evaluate from scratch so that no rounding drift of the incremental sum leaks out.
    Ok((p.cut_value(&xbest), xbest))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::graph::Graph;

    #[test]
    fn known_small_cases() {
        // Triangle: 2. 4-cycle: 4. K4: 4. Negative edge: never cut.
        let tri =
            MaxCut::new(Graph::from_edges(3, &[(0, 1, 1.0), (1, 2, 1.0), (0, 2, 1.0)]).unwrap());
        assert_eq!(maxcut_brute_force(&tri).unwrap().0, 2.0);
        let c4 = MaxCut::new(
            Graph::from_edges(4, &[(0, 1, 1.0), (1, 2, 1.0), (2, 3, 1.0), (0, 3, 1.0)]).unwrap(),
        );
        assert_eq!(maxcut_brute_force(&c4).unwrap().0, 4.0);
        let k4: Vec<_> = (0..4)
            .flat_map(|u| (u + 1..4).map(move |v| (u, v, 1.0)))
            .collect();
        assert_eq!(
            maxcut_brute_force(&MaxCut::new(Graph::from_edges(4, &k4).unwrap()))
                .unwrap()
                .0,
            4.0
        );
        let neg = MaxCut::new(Graph::from_edges(3, &[(0, 1, -1.0), (1, 2, 2.0)]).unwrap());
        let (c, x) = maxcut_brute_force(&neg).unwrap();
        assert_eq!(c, 2.0);
        assert_eq!(x[0], x[1]);
        let big = MaxCut::new(Graph::from_edges(30, &[]).unwrap());
        assert!(maxcut_brute_force(&big).is_err());
    }
}
