#!/usr/bin/env python3
"""Issue 21's OT bar from Python, in one process: `mathprog.ot.sinkhorn` against POT's
`ot.sinkhorn` (log-domain, as small regularisations need) on uniform 2-D point clouds,
squared Euclidean costs normalised to max 1, to a marginal violation of 1e-8; then POT's exact
`ot.emd` on the same instance (time, and how far the entropic cost <M, P> is above the exact
one), and `mathprog.ot.empirical_sinkhorn2` from the coordinates.

Usage: python3 bench/python_ot.py [--n 2000] [--reg 1e-3] [--pot-iters 100000]
(needs `pip install ./python pot`)."""
import argparse
import time

import numpy as np
import ot

import mathprog.ot


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--reg", type=float, default=1e-3)
    ap.add_argument("--pot-iters", type=int, default=100000)
    ap.add_argument("--seed", type=int, default=0)
    a_ = ap.parse_args()
    rng = np.random.default_rng(a_.seed)
    n = a_.n
    x, y = rng.random((n, 2)), rng.random((n, 2))
    M = ot.dist(x, y)
    M /= M.max()
    a = b = np.full(n, 1.0 / n)

    def viol(P):
        return np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum()

    t = time.perf_counter()
    P, log = mathprog.ot.sinkhorn(a, b, M, a_.reg, stopThr=1e-8, log=True)
    t_ours = time.perf_counter() - t
    t = time.perf_counter()
    Q = ot.sinkhorn(a, b, M, a_.reg, method="sinkhorn_log", stopThr=1e-8 / 2, numItermax=a_.pot_iters)
    t_pot = time.perf_counter() - t
    print(f"n = {n}, reg = {a_.reg}: mathprog.ot.sinkhorn (sns) {t_ours:.2f} s, L1 marginal "
          f"violation {viol(P):.1e} ({log['status']}); POT ot.sinkhorn(method='sinkhorn_log') "
          f"{t_pot:.2f} s, violation {viol(Q):.1e}; ratio {t_pot / t_ours:.1f}x; "
          f"max |P - Q| {np.abs(P - Q).max():.1e}")
    t = time.perf_counter()
    E = ot.emd(a, b, M, numItermax=10**8)
    t_emd = time.perf_counter() - t
    exact = float((M * E).sum())
    ours = float((M * P).sum())
    print(f"POT ot.emd (exact) {t_emd:.2f} s, cost {exact:.8f}; ours <M, P> {ours:.8f} "
          f"(+{(ours - exact) / exact:.2e} relative, the entropic bias of reg {a_.reg}); "
          f"emd / ours time {t_emd / t_ours:.2f}x")
    scale = float(ot.dist(x, y).max())
    t = time.perf_counter()
    c = mathprog.ot.empirical_sinkhorn2(x / np.sqrt(scale), y / np.sqrt(scale), a_.reg,
                                        stopThr=1e-8)
    t_pts = time.perf_counter() - t
    print(f"mathprog.ot.empirical_sinkhorn2 (coordinates, cost formed in the solver) "
          f"{t_pts:.2f} s, cost {c:.8f} (|diff| to the dense path {abs(c - ours):.1e})")


if __name__ == "__main__":
    main()
