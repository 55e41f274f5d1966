#!/usr/bin/env python3
"""Entropic OT benchmark: our SNS and Sinkhorn (`solve ot`) vs POT's sinkhorn and exact emd, on
the same instances, same machine, one session.

Instances: 2-D uniform point clouds, squared-Euclidean cost scaled to max 1, uniform weights,
written by ../shared/bench/ot_pot.py (seed 0 + n), and the SNS paper's random assignment
(n = 500, C ~ U[0,1], uniform weights, reg = 1/1200). All runs to an L1 marginal violation of
1e-8. POT is timed by ot_pot.py (K* iterations found by calibration, then POT run for exactly
K*; emd = network simplex). Our times exclude reading the text file.

Usage: python3 bench/ot_bench.py [--n 1000 2000 4000] [--reg 0.01 0.001] [--threads 2]
                                 [--no-pot] [--no-assignment]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
POT = os.path.join(ROOT, "..", "shared", "bench", "ot_pot.py")
EXE = os.path.join(ROOT, "target", "release", "solve")


def ours(path, reg, method, threads, tol=1e-8):
    out = subprocess.run([EXE, "ot", path, "--reg", repr(reg), "--tol", repr(tol), "--method", method,
                          "--threads", str(threads), "--json"], check=True, capture_output=True, text=True)
    return json.loads(out.stdout)


def pot(path, reg, methods):
    out = subprocess.run([sys.executable, POT, "--instance", path, "--reg", repr(reg), "--methods", methods,
                          "--reps", "1", "--no-bandwidth"], capture_output=True, text=True).stdout
    res = {}
    for line in out.splitlines():
        t = line.split()
        if len(t) > 6 and t[2] in ("sinkhorn", "emd"):
            res[t[2]] = (t[3], t[5])  # K*, time
    return res


def write_assignment(path, n=500, seed=2024):
    rng = np.random.default_rng(seed)
    C = rng.random((n, n))
    a = np.full(n, 1.0 / n)
    with open(path, "w") as f:
        f.write(f"{n} {n}\n")
        f.write(" ".join(f"{x:.17g}" for x in a) + "\n")
        f.write(" ".join(f"{x:.17g}" for x in a) + "\n")
        for row in C:
            f.write(" ".join(f"{x:.17g}" for x in row) + "\n")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, nargs="+", default=[1000, 2000, 4000])
    ap.add_argument("--reg", type=float, nargs="+", default=[0.01, 0.001])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-pot", action="store_true")
    ap.add_argument("--no-assignment", action="store_true")
    a = ap.parse_args()
    print("| instance | reg | ours SNS s (Sinkhorn + Newton it.) | ours Sinkhorn s (it., ms/it) | POT sinkhorn s (K*) | POT emd s | SNS speed-up vs POT sinkhorn | violation SNS |")
    print("|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        cases = []
        for n in a.n:
            path = os.path.join(tmp, f"pc_n{n}.txt")
            subprocess.run([sys.executable, POT, "--n", str(n), "--write-instance", path, "--methods", "none"],
                           check=True, capture_output=True)
            for reg in a.reg:
                cases.append((f"pc2d n={n}", path, reg, True))
        if not a.no_assignment:
            path = os.path.join(tmp, "assign_n500.txt")
            write_assignment(path)
            cases.append(("assignment n=500", path, 1.0 / 1200, False))
        for name, path, reg, emd in cases:
            s = ours(path, reg, "sns", a.threads)
            k = ours(path, reg, "sinkhorn", a.threads)
            st = s["stats"]
            ms_it = 1000 * k["elapsed"] / max(k["iterations"], 1)
            p = {} if a.no_pot else pot(path, reg, "sinkhorn,emd" if emd else "sinkhorn")
            ps = p.get("sinkhorn", ("-", "nan"))
            pe = p.get("emd", ("-", "-"))[1]
            speed = float(ps[1]) / s["elapsed"] if ps[1] != "nan" else float("nan")
            print(f"| {name} | {reg:.3g} | {s['elapsed']:.3f} ({st['sinkhorn_iterations']} + {st['newton_steps']}) | "
                  f"{k['elapsed']:.3f} ({k['iterations']}, {ms_it:.2f}) | {ps[1]} ({ps[0]}) | {pe} | {speed:.1f}x | "
                  f"{s['residuals']['marginal_l1']:.1e} |", flush=True)


if __name__ == "__main__":
    main()
