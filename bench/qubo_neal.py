#!/usr/bin/env python3
"""QUBO benchmark: `solve qubo` vs dwave-neal on the shared dense 500 x 500 matrix
(../shared/data/qubo/nbiq_500.npy), minimising and maximising x'Qx over {0,1}^n.

Both get the same wall-clock budget: ours via --time-limit; neal repeats batches of reads
(1000 sweeps each) until the budget is spent and keeps the best. Values are re-evaluated from
the matrix in numpy.

Usage: python3 bench/qubo_neal.py [--limit 10] [--threads 2]
"""
import argparse
import json
import os
import subprocess
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NPY = os.path.join(ROOT, "..", "shared", "data", "qubo", "nbiq_500.npy")


def neal_run(Q, sign, limit):
    import dimod
    import neal
    n = Q.shape[0]
    lin = {i: sign * Q[i, i] for i in range(n)}
    quad = {(i, j): sign * 2 * Q[i, j] for i in range(n) for j in range(i + 1, n) if Q[i, j] != 0}
    bqm = dimod.BinaryQuadraticModel(lin, quad, 0.0, dimod.BINARY)
    sampler = neal.SimulatedAnnealingSampler()
    t0 = time.time()
    best, best_t, seed = None, 0.0, 1
    while time.time() - t0 < limit:
        r = sampler.sample(bqm, num_reads=10, num_sweeps=1000, seed=seed)
        seed += 1
        x = np.array([r.first.sample[i] for i in range(n)], dtype=float)
        v = x @ Q @ x
        if best is None or sign * v < sign * best:
            best, best_t = v, time.time() - t0
    return best, best_t


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--limit", type=float, default=10)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    Q = np.load(NPY).astype(float)
    exe = os.path.join(ROOT, "target", "release", "solve")
    print("| sense | ours (time to best s) | ours re-evaluated | dwave-neal (time to best s) |")
    print("|---|---|---|---|")
    for sense, sign in [("min", 1), ("max", -1)]:
        cmd = [exe, "qubo", NPY, "--time-limit", str(a.limit), "--threads", str(a.threads), "--json"]
        if sign < 0:
            cmd.append("--maximize")
        r = json.loads(subprocess.run(cmd, check=True, capture_output=True, text=True).stdout)
        x = np.array(r["solution"], dtype=float)
        nb, nt = neal_run(Q, sign, a.limit)
        print(f"| {sense} | {r['objective']:.0f} ({r['time_to_best']:.2f}) | {x @ Q @ x:.0f} | {nb:.0f} ({nt:.2f}) |", flush=True)


if __name__ == "__main__":
    main()
