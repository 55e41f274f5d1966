#!/usr/bin/env python3
"""Issue 22's dense-path bar: n = 4000 uniform 2-D clouds (seed 4000 as ../shared/bench/ot_pot.py),
squared Euclidean cost scaled to max 1, reg 1e-3, tol 1e-8 (L1 marginal violation). POT's
`ot.sinkhorn` to its own convergence (stopThr=1e-10, numpy's default BLAS threads) and `ot.emd`,
against ours: `solve ot` on the dense cost matrix (SNS) and `solve ot --online` on the clouds.
Solver times only (ours: the report's `elapsed`; POT: the call). Prints a markdown table.

Usage: python3 bench/ot_dense_bar.py [--n 4000] [--reg 1e-3]
"""
import argparse
import json
import os
import subprocess
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLVE = os.path.join(ROOT, "target", "release", "solve")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=4000)
    ap.add_argument("--reg", type=float, default=1e-3)
    ap.add_argument("--tol", type=float, default=1e-8)
    a = ap.parse_args()
    import ot
    n = a.n
    rng = np.random.default_rng(n)
    x, y = rng.random((n, 2)), rng.random((n, 2))
    C = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    cmax = C.max()
    C /= cmax
    w = np.full(n, 1.0 / n)
    rows = []
    t = time.perf_counter()
    P = ot.sinkhorn(w, w, C, a.reg, stopThr=1e-10, numItermax=10 ** 6)
    tp = time.perf_counter() - t
    vp = np.abs(P.sum(1) - w).sum() + np.abs(P.sum(0) - w).sum()
    rows.append(("POT ot.sinkhorn (stopThr 1e-10)", tp, vp))
    t = time.perf_counter()
    G = ot.emd(w, w, C)
    te = time.perf_counter() - t
    rows.append(("POT ot.emd (exact)", te, np.abs(G.sum(1) - w).sum() + np.abs(G.sum(0) - w).sum()))
    d = tempfile.mkdtemp()
    s = np.sqrt(cmax)
    xf, yf, cf = (os.path.join(d, f) for f in ("x.txt", "y.txt", "c.txt"))
    np.savetxt(xf, np.column_stack([x / s, w]), fmt="%.17g")
    np.savetxt(yf, np.column_stack([y / s, w]), fmt="%.17g")
    with open(cf, "w") as f:
        f.write(f"{n} {n}\n" + " ".join(f"{v:.17g}" for v in w) + "\n" + " ".join(f"{v:.17g}" for v in w) + "\n")
        np.savetxt(f, C, fmt="%.17g")
    for name, cmd in (("ours solve ot (dense cost, SNS)", [SOLVE, "ot", cf]),
                      ("ours solve ot --online (clouds)", [SOLVE, "ot", "--source", xf, "--target", yf, "--online"])):
        out = subprocess.run(cmd + ["--reg", repr(a.reg), "--tol", repr(a.tol), "--json"],
                             capture_output=True, text=True, check=True)
        r = json.loads(out.stdout)
        rows.append((name, r["elapsed"], r["residuals"]["marginal_l1"]))
    print(f"n = {n}, reg = {a.reg}, tol = {a.tol}")
    print("| solver | seconds | L1 violation | POT sinkhorn / this |")
    print("|---|---|---|---|")
    for name, sec, v in rows:
        print(f"| {name} | {sec:.3f} | {v:.1e} | {tp / sec:.1f}x |", flush=True)


if __name__ == "__main__":
    main()
