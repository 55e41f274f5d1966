#!/usr/bin/env python3
"""SCS and Clarabel on SDPLIB (../shared/data/sdplib), for the columns beside ours.

Each SDPA problem `min c'x s.t. sum_i x_i F_i - F_0 = S PSD` (diagonal blocks: S >= 0) is
passed to the conic form both solvers take, `min c'x s.t. A x + s = b, s in K`, with
`A = -[vec(F_1) ... vec(F_m)]`, `b = -vec(F_0)` (svec with sqrt(2) on off-diagonals; SCS
wants the lower triangle, Clarabel the upper one, both column-major). The objective c'x is
the SDPLIB value directly.

Writes one JSON line per problem and solver to stdout:
{"problem", "solver", "value", "status", "s", "iters"}.

Usage: python3 bench/sdplib_peers.py [--limit 30] [--eps 1e-6] [--scs-max-n 2000]
       [--clarabel-max-n 250] [--only theta gpp ...] [--solvers scs clarabel]
"""
import argparse
import json
import math
import os
import time

import numpy as np
import scipy.sparse as sp

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(ROOT, "..", "shared", "data", "sdplib")
SQRT2 = math.sqrt(2.0)


def read_sdpa(path):
    """(m, block sizes, c, entries [(mat, blk, i, j, v)]) with 0-based i <= j."""
    toks = []
    with open(path) as f:
        for line in f:
            line = line.split("*")[0].split('"')[0].strip()
            if not line or line.startswith("="):
                continue
            toks.append(line.replace(",", " ").replace("{", " ").replace("}", " ").replace("(", " ").replace(")", " "))
    m = int(toks[0].split()[0])
    nb = int(toks[1].split()[0])
    rest = " ".join(toks[2:]).split()
    sizes = [int(float(x)) for x in rest[:nb]]
    c = np.array([float(x) for x in rest[nb:nb + m]])
    vals = rest[nb + m:]
    ent = []
    for k in range(0, len(vals) - 4, 5):
        mat, blk, i, j = (int(float(x)) for x in vals[k:k + 4])
        v = float(vals[k + 4])
        i, j = min(i, j) - 1, max(i, j) - 1
        ent.append((mat, blk - 1, i, j, v))
    return m, sizes, c, ent


def build(m, sizes, c, ent, kind):
    """A, b and the cone list; LP blocks first (nonnegative cone), then PSD blocks."""
    order = [k for k, s in enumerate(sizes) if s < 0] + [k for k, s in enumerate(sizes) if s > 0]
    offset = {}
    pos = 0
    lp = 0
    for k in order:
        s = sizes[k]
        offset[k] = pos
        if s < 0:
            pos += -s
            lp += -s
        else:
            pos += s * (s + 1) // 2
    rows, cols, data = [], [], []
    b = np.zeros(pos)
    for mat, blk, i, j, v in ent:
        s = sizes[blk]
        if s < 0:
            if i != j:
                raise ValueError("off-diagonal entry in a diagonal block")
            r = offset[blk] + i
            scale = 1.0
        else:
            n = s
            if kind == "scs":  # lower triangle, column-major: (row j, col i) with j >= i
                r = offset[blk] + i * n - (i * (i - 1)) // 2 + (j - i)
            else:  # upper triangle, column-major: (row i, col j) with i <= j
                r = offset[blk] + (j * (j + 1)) // 2 + i
            scale = 1.0 if i == j else SQRT2
        if mat == 0:
            b[r] += -v * scale
        else:
            rows.append(r)
            cols.append(mat - 1)
            data.append(-v * scale)
    A = sp.csc_matrix((data, (rows, cols)), shape=(pos, m))
    psd = [sizes[k] for k in order if sizes[k] > 0]
    return A, b, lp, psd


def run_scs(prob, eps, limit):
    import scs
    m, sizes, c, ent = prob
    A, b, lp, psd = build(m, sizes, c, ent, "scs")
    cone = {"l": lp, "s": psd} if lp else {"s": psd}
    t0 = time.perf_counter()
    solver = scs.SCS({"A": A, "b": b, "c": c}, cone, eps_abs=eps, eps_rel=eps, max_iters=10**6,
                     time_limit_secs=float(limit), verbose=False)
    sol = solver.solve()
    wall = time.perf_counter() - t0
    info = sol["info"]
    return dict(value=float(c @ sol["x"]), status=info["status"], s=wall, iters=int(info["iter"]))


def run_clarabel(prob, limit):
    import clarabel
    m, sizes, c, ent = prob
    A, b, lp, psd = build(m, sizes, c, ent, "clarabel")
    cones = ([clarabel.NonnegativeConeT(lp)] if lp else []) + [clarabel.PSDTriangleConeT(n) for n in psd]
    st = clarabel.DefaultSettings()
    st.verbose = False
    st.time_limit = float(limit)
    t0 = time.perf_counter()
    solver = clarabel.DefaultSolver(sp.csc_matrix((m, m)), c, A, b, cones, st)
    sol = solver.solve()
    wall = time.perf_counter() - t0
    return dict(value=float(sol.obj_val), status=str(sol.status), s=wall, iters=int(sol.iterations))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--limit", type=float, default=30)
    ap.add_argument("--eps", type=float, default=1e-6)
    ap.add_argument("--scs-max-n", type=int, default=2000)
    ap.add_argument("--clarabel-max-n", type=int, default=250)
    ap.add_argument("--only", nargs="*", default=[])
    ap.add_argument("--solvers", nargs="*", default=["scs", "clarabel"])
    a = ap.parse_args()
    listed = json.load(open(os.path.join(DATA, "optimal.json")))["problems"]
    for name in sorted(listed):
        if a.only and not any(name.startswith(o) for o in a.only):
            continue
        prob = read_sdpa(os.path.join(DATA, name + ".dat-s"))
        n = sum(abs(s) for s in prob[1])
        big = max(prob[1])
        for solver in a.solvers:
            cap = a.scs_max_n if solver == "scs" else a.clarabel_max_n
            if big > cap:
                print(json.dumps(dict(problem=name, solver=solver, status=f"not run (block {big} > {cap})")), flush=True)
                continue
            try:
                r = run_scs(prob, a.eps, a.limit) if solver == "scs" else run_clarabel(prob, a.limit)
            except Exception as e:  # noqa: BLE001
                r = dict(status=f"failed: {e}")
            r.update(problem=name, solver=solver, n=n)
            print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
