#!/usr/bin/env python3
"""Issue 21's sampler bar from Python, in one process: `mathprog.dimod.MCPGSampler` against
dwave-neal's `SimulatedAnnealingSampler` on a Gset graph's MaxCut as an Ising model
(`J_ij = w_ij`, cut = (Σw − E)/2), both given about the same wall time.

Usage: python3 bench/python_neal.py [--graph ../shared/data/gset/G22.txt] [--seconds 10]
(needs `pip install ./python dimod dwave-neal`)."""
import argparse
import os
import time

import neal

from mathprog.dimod import MCPGSampler

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_gset(path):
    with open(path) as fh:
        n, m = map(int, fh.readline().split()[:2])
        J = {}
        for _ in range(m):
            u, v, w = fh.readline().split()[:3]
            J[(int(u) - 1, int(v) - 1)] = float(w)
    return n, J


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--graph", default=os.path.join(ROOT, "..", "shared", "data", "gset", "G22.txt"))
    ap.add_argument("--seconds", type=float, default=10.0)
    a = ap.parse_args()
    n, J = read_gset(a.graph)
    h = {v: 0.0 for v in range(n)}
    total = sum(J.values())
    t = time.perf_counter()
    ours = MCPGSampler().sample_ising(h, J, time_limit=a.seconds, stall_rounds=None)
    t_ours = time.perf_counter() - t
    # neal has no time limit: calibrate the reads on one, then fill the same wall time.
    sa = neal.SimulatedAnnealingSampler()
    t = time.perf_counter()
    sa.sample_ising(h, J, num_reads=1, num_sweeps=10000)
    per_read = time.perf_counter() - t
    reads = max(1, int(a.seconds / per_read))
    t = time.perf_counter()
    theirs = sa.sample_ising(h, J, num_reads=reads, num_sweeps=10000)
    t_neal = time.perf_counter() - t
    cut = lambda e: (total - e) / 2  # noqa: E731
    print(f"{os.path.basename(a.graph)}: MCPGSampler cut {cut(ours.first.energy):.0f} in {t_ours:.1f} s; "
          f"neal (num_sweeps 10000, {reads} reads) cut {cut(theirs.first.energy):.0f} in {t_neal:.1f} s")


if __name__ == "__main__":
    main()
