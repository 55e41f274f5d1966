#!/usr/bin/env python3
"""Issue 22's benchmark: entropic OT between point clouds without a dense cost matrix.

Instances: uniform or clustered (10 Gaussian clusters, sd 0.05) clouds in [0, 1]^d, n = m,
uniform weights, squared Euclidean cost scaled to max 1 (the coordinates are divided by the
square root of the largest squared distance, so every solver sees the same problem). Target:
L1 marginal violation 1e-6.

Solvers, each in its own process (time and peak RSS from wait4):
  ours       `solve ot --online` (costs on the fly, SNS; our violation is both marginals, L1)
  ott        OTT-JAX `PointCloud(x, y, epsilon=reg, batch_size=B)` + `Sinkhorn(threshold=tol,
             norm_error=1, lse_mode=True)` on the CPU (its error: one marginal in L1, the
             other exact after its last update)
  pot        POT `ot.sinkhorn(method="sinkhorn_log", stopThr=tol)` on the dense cost, where it
             fits (n <= 10^4)
  emd        POT `ot.emd` (exact, unregularised) where it fits

Usage: python3 bench/ot_scale.py [--sizes 10000 30000] [--regs 1e-2 1e-3] [--kinds uniform]
       [--dims 2] [--solvers ours ott pot emd] [--timeout 300] [--out bench/results/x.jsonl]
Needs `cargo build --release -p mathprog-cli`, `pip install pot ott-jax` for the peers.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SOLVE = os.path.join(ROOT, "target", "release", "solve")


def cloud(kind, n, d, rng):
    if kind == "uniform":
        return rng.random((n, d))
    centres = 0.15 + 0.7 * rng.random((10, d))
    return centres[rng.integers(0, 10, n)] + 0.05 * rng.normal(size=(n, d))


def instance(kind, n, d, seed):
    rng = np.random.default_rng(seed)
    x, y = cloud(kind, n, d, rng), cloud(kind, n, d, rng)
    # Largest squared distance: attained between extreme points; exact by a blockwise scan.
    best = 0.0
    for k in range(0, n, 2048):
        xb = x[k:k + 2048]
        d2 = (xb ** 2).sum(1)[:, None] + (y ** 2).sum(1)[None, :] - 2 * xb @ y.T
        best = max(best, float(d2.max()))
    s = np.sqrt(best)
    return x / s, y / s


def child(args):
    """Run one solver on one instance in this process; print a JSON line."""
    x = np.load(args.x)
    y = np.load(args.y)
    n = x.shape[0]
    a = np.full(n, 1.0 / n)
    t = time.perf_counter()
    if args.solver == "ott":
        import jax
        jax.config.update("jax_enable_x64", True)
        from ott.geometry import pointcloud
        from ott.problems.linear import linear_problem
        from ott.solvers.linear import sinkhorn
        geom = pointcloud.PointCloud(x, y, epsilon=args.reg, batch_size=min(n, 4096))
        solver = sinkhorn.Sinkhorn(threshold=args.tol, norm_error=1, lse_mode=True,
                                   max_iterations=args.max_iter, inner_iterations=10)
        out = solver(linear_problem.LinearProblem(geom, a, a))
        errs = np.asarray(out.errors)
        errs = errs[errs >= 0]
        res = dict(violation=float(errs[-1]) if errs.size else None,
                   converged=bool(out.converged), iterations=int(out.n_iters),
                   objective=float(out.reg_ot_cost))
    elif args.solver in ("pot", "emd"):
        import ot
        M = ot.dist(x, y)
        if args.solver == "pot":
            P = ot.sinkhorn(a, a, M, args.reg, method="sinkhorn_log", stopThr=args.tol,
                            numItermax=args.max_iter)
        else:
            P = ot.emd(a, a, M, numItermax=10 ** 9)
        viol = float(np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - a).sum())
        res = dict(violation=viol, converged=viol <= args.tol or args.solver == "emd",
                   cost=float((M * P).sum()))
    else:
        raise SystemExit(f"unknown solver {args.solver}")
    res["seconds"] = time.perf_counter() - t
    print(json.dumps(res))


def ours(xf, yf, reg, tol, timeout):
    d = tempfile.mkdtemp()
    files = []
    for name, path in (("s", xf), ("t", yf)):
        pts = np.load(path)
        w = np.full(len(pts), 1.0 / len(pts))
        f = os.path.join(d, name + ".txt")
        np.savetxt(f, np.column_stack([pts, w]), fmt="%.17g")
        files.append(f)
    cmd = [SOLVE, "ot", "--source", files[0], "--target", files[1], "--reg", str(reg),
           "--tol", str(tol), "--online", "--json", "--time-limit", str(timeout)]
    return cmd


def run(cmd, timeout):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, 9)  # the whole group: /usr/bin/time and the solver under it
        p.communicate()
        return dict(error=f"no answer within {timeout:.0f} s", wall=time.perf_counter() - t)
    # (Popen reaped the child; its peak RSS is the children's maximum so far, which the
    # driver resets by running each solver in a fresh `env` wrapper below.)
    wall = time.perf_counter() - t
    line = out.strip().splitlines()[-1] if out.strip() else ""
    try:
        res = json.loads(line) if line.startswith("{") else json.loads(out)
    except json.JSONDecodeError:
        return dict(error=(err or out)[-300:], wall=wall)
    res["wall"] = wall
    return res


def measured(cmd, timeout):
    """`cmd` under /usr/bin/time -f %M (peak RSS, KB) when available."""
    tf = tempfile.NamedTemporaryFile(delete=False, suffix=".rss")
    tf.close()
    timed = ["/usr/bin/time", "-f", "%M", "-o", tf.name] + cmd if os.path.exists(
        "/usr/bin/time") else cmd
    res = run(timed, timeout)
    try:
        res["peak_mb"] = int(open(tf.name).read().split()[-1]) / 1024
    except (ValueError, IndexError, OSError):
        pass
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[10000, 30000])
    ap.add_argument("--regs", type=float, nargs="+", default=[1e-2, 1e-3])
    ap.add_argument("--kinds", nargs="+", default=["uniform", "clustered"])
    ap.add_argument("--dims", type=int, nargs="+", default=[2])
    ap.add_argument("--solvers", nargs="+", default=["ours", "ott", "pot", "emd"])
    ap.add_argument("--tol", type=float, default=1e-6)
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--max-iter", type=int, default=100000)
    ap.add_argument("--out", default=None)
    # Child mode.
    ap.add_argument("--child", action="store_true")
    ap.add_argument("--solver")
    ap.add_argument("--x")
    ap.add_argument("--y")
    ap.add_argument("--reg", type=float)
    args = ap.parse_args()
    if args.child:
        return child(args)
    tmp = tempfile.mkdtemp()
    for kind in args.kinds:
        for d in args.dims:
            for n in args.sizes:
                x, y = instance(kind, n, d, seed=n + d)
                xf, yf = os.path.join(tmp, "x.npy"), os.path.join(tmp, "y.npy")
                np.save(xf, x)
                np.save(yf, y)
                for reg in args.regs:
                    for solver in args.solvers:
                        if solver in ("pot", "emd") and n > 10000:
                            continue
                        if solver == "emd" and reg != args.regs[0]:
                            continue  # unregularised: once per instance
                        if solver == "ours":
                            cmd = ours(xf, yf, reg, args.tol, args.timeout)
                        else:
                            cmd = [sys.executable, os.path.abspath(__file__), "--child",
                                   "--solver", solver, "--x", xf, "--y", yf, "--reg",
                                   str(reg), "--tol", str(args.tol), "--max-iter",
                                   str(args.max_iter)]
                        res = measured(cmd, args.timeout)
                        row = dict(kind=kind, d=d, n=n, reg=reg, solver=solver)
                        if solver == "ours" and "residuals" in res:
                            st = res["stats"]
                            row.update(violation=res["residuals"]["marginal_l1"],
                                       converged=res["status"] == "converged",
                                       seconds=res["elapsed"], cost=st["transport_cost"],
                                       newton=st.get("newton_steps"),
                                       pairs=st.get("pairs_computed"))
                        else:
                            row.update({k: v for k, v in res.items() if k not in row})
                        row["wall"] = res.get("wall")
                        row["peak_mb"] = res.get("peak_mb")
                        print(json.dumps(row), flush=True)
                        if args.out:
                            with open(args.out, "a") as f:
                                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
