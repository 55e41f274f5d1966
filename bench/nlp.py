#!/usr/bin/env python3
"""Equality-constrained NLP benchmark: `solve nlp` against IPOPT (cyipopt), in one session on
one machine, on the same instances.

Groups (default: all):
  hs      The 19 Hock-Schittkowski problems of ../shared/data/nlp/hs_equality.json. IPOPT
          (exact Hessian from sympy, tol 1e-8) against ours with each KKT solver: direct
          (tol 1e-8), projected CG (1e-8), and the sketches with true sketches (block of 4
          rows, Kaczmarz, Gaussian; tol 1e-6, the issue's bar for sketches).
  logreg  Constrained logistic regression, N = n samples, ridge 1e-4, C x = d with m Gaussian
          rows (and the sphere variant). Our generator writes the instance with --export-npy
          and IPOPT solves that same instance (L-BFGS; exact Hessian too for n <= 2000), at
          tol 1e-6 and 1e-8.
  pde     2-D Poisson optimal control, N = 32..256, ours (direct) and IPOPT, tol 1e-6, 1e-8.

Times are solver times: our report's `elapsed` (after reading/generating the instance) and
IPOPT's `solve` call (after building the callbacks). The KKT residual of every IPOPT answer is
recomputed unscaled, ||(grad f + J^T lambda, c)||_2, as ours is.

Requirements: apt-get install coinor-libipopt-dev; pip install cyipopt sympy numpy scipy
Usage: python3 bench/nlp.py [hs] [logreg] [pde] [--quick]
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED_BENCH = os.path.join(ROOT, "..", "shared", "bench")
HS_JSON = os.path.join(ROOT, "..", "shared", "data", "nlp", "hs_equality.json")
SOLVE = os.environ.get("SOLVE", os.path.join(ROOT, "target", "release", "solve"))
sys.path.insert(0, SHARED_BENCH)
import nlp_ipopt as ip  # noqa: E402  (the peer script: IPOPT wrappers and problem classes)


def ours(args):
    pr = subprocess.run([SOLVE, "nlp", *args, "--json", "-q"], capture_output=True, text=True)
    if pr.returncode != 0:
        return dict(status="failed:" + pr.stderr.strip()[-200:])
    return json.loads(pr.stdout)


def ipopt(P, n, m, x0, tol, extra=None):
    opts = {"tol": tol, "print_level": 0, "max_iter": 3000}
    opts.update(extra or {})
    x, info, it, t = ip.solve(P, n, m, x0, opts)
    return x, info, it, t


def kkt_of(P, x, info):
    """Unscaled ||(grad f + J^T lambda, c)|| of an IPOPT answer (cyipopt: L = f + lambda^T g)."""
    import scipy.sparse as sps
    g = np.asarray(P.gradient(x), dtype=float)
    n = len(x)
    m = len(info["g"])
    if hasattr(P, "jacobianstructure"):
        r, c = P.jacobianstructure()
        J = sps.coo_matrix((np.asarray(P.jacobian(x), dtype=float), (np.asarray(r), np.asarray(c))),
                           shape=(m, n)).tocsr()
    else:
        J = np.asarray(P.jacobian(x), dtype=float).reshape(m, n)
    gl = g + J.T @ info["mult_g"]
    return float(np.linalg.norm(np.concatenate([gl, info["g"]])))


# ------------------------------------------------------------------------------------- HS
def run_hs():
    specs = json.load(open(HS_JSON))["problems"]
    configs = [("direct", ["--kkt", "direct", "--tol", "1e-8"]),
               ("cg", ["--kkt", "cg", "--tol", "1e-8"]),
               ("block4", ["--kkt", "sketch", "--block-size", "4", "--tol", "1e-6"]),
               ("kaczmarz", ["--kkt", "kaczmarz", "--tol", "1e-6"]),
               ("gaussian", ["--kkt", "gaussian", "--tol", "1e-6"])]
    print("## Hock-Schittkowski equality set (19 problems)\n")
    print("Per problem: Newton iterations / solver seconds; `x` marks a miss (not converged, or "
          "|f - f*| > 1e-6 max(1, |f*|)).\n")
    print("| problem | IPOPT | " + " | ".join(c for c, _ in configs) + " |")
    print("|---|---|" + "---|" * len(configs))
    tot = {"ipopt": 0.0, **{c: 0.0 for c, _ in configs}}
    solved = {"ipopt": 0, **{c: 0 for c, _ in configs}}
    for s in specs:
        fs = s["f_star"]
        ok_f = lambda f: abs(f - fs) <= 1e-6 * max(1.0, abs(fs))  # noqa: E731
        P, G, J = ip.hs_problem(s)
        x, info, it, t = ipopt(P, s["n"], s["m"], s["x0"], 1e-8)
        good = info["status"] == 0 and ok_f(info["obj_val"])
        tot["ipopt"] += t
        solved["ipopt"] += good
        cells = ["%d / %.4f%s" % (it, t, "" if good else " x")]
        for c, extra in configs:
            r = ours(["--problem", s["name"], "--time-limit", "30", *extra])
            good = r.get("status") == "converged" and ok_f(r["objective"])
            tot[c] += r.get("elapsed", 0.0)
            solved[c] += good
            cells.append("%s / %.4f%s" % (r.get("iterations", "-"), r.get("elapsed", 0.0),
                                          "" if good else " x"))
        print("| %s | %s |" % (s["name"], " | ".join(cells)))
    print("| **solved** | " + " | ".join("%d/19" % solved[k] for k in tot) + " |")
    print("| **total s** | " + " | ".join("%.4f" % tot[k] for k in tot) + " |\n")


# --------------------------------------------------------------------------------- logreg
def run_logreg(quick):
    cases = [(1000, 10, False), (1000, 100, False), (5000, 10, False), (5000, 100, False),
             (10000, 10, False), (10000, 100, False), (1000, 10, True), (2000, 10, True)]
    if quick:
        cases = [(1000, 10, False), (1000, 100, False), (1000, 10, True)]
    print("## Constrained logistic regression (same instance for both: ours exported to .npy)\n")
    print("IPOPT's `tol` is a scaled error; its answers are re-measured by the unscaled KKT "
          "residual. *IPOPT to KKT 1e-6* is its fastest run (L-BFGS or exact Hessian, tol 1e-6, "
          "1e-7 or 1e-8) whose answer has KKT <= 1e-6.\n")
    rows, summary = [], []
    for n, m, sphere in cases:
        with tempfile.TemporaryDirectory() as d:
            base = ["--logreg-random", str(n), "--constraints", str(m), "--seed", "1"]
            if sphere:
                base.append("--sphere")
            first = ours(base + ["--tol", "1e-6", "--export-npy", d])
            A = np.load(os.path.join(d, "A.npy"))
            y = np.load(os.path.join(d, "y.npy"))
            C = np.load(os.path.join(d, "C.npy"))
            dd = np.load(os.path.join(d, "d.npy"))
            x0 = np.load(os.path.join(d, "x0.npy"))
            meta = json.load(open(os.path.join(d, "instance.json")))
        mm = m + (1 if sphere else 0)
        case = "%d / %d%s" % (n, m, " + sphere" if sphere else "")
        for tol in (1e-6, 1e-8):
            r = first if tol == 1e-6 else ours(base + ["--tol", "%g" % tol])
            rows.append((case, "ours (projected CG)", "%g" % tol, "%.3f" % r["elapsed"],
                         "%d (%d CG)" % (r["iterations"], r["stats"]["inner_iterations"]),
                         "%.10f" % r["objective"], "%.1e" % r["residuals"]["kkt"], r["status"]))
        best = None
        for exact in (False, True):
            if exact and n > 2000:
                continue
            for tol in (1e-6, 1e-7, 1e-8):
                P = ip.LogReg(A, y, C, dd, meta["ridge"], sphere, exact)
                extra = {} if exact else {"hessian_approximation": "limited-memory"}
                x, info, it, t = ipopt(P, n, mm, x0, tol, extra)
                k = kkt_of(P, x, info)
                name = "IPOPT " + ("exact Hessian" if exact else "L-BFGS")
                rows.append((case, name, "%g" % tol, "%.3f" % t, str(it), "%.10f" % info["obj_val"],
                             "%.1e" % k, "status %d" % info["status"]))
                if info["status"] == 0 and k <= 1e-6 and (best is None or t < best[0]):
                    best = (t, "%s, tol %g" % (name, tol))
                sys.stdout.flush()
        ok = first["status"] == "converged" and first["residuals"]["kkt"] <= 1e-6
        summary.append((case, "%.3f" % first["elapsed"] if ok else "not reached",
                        "%.3f (%s)" % best if best else "not reached",
                        "%.1fx" % (best[0] / first["elapsed"]) if best and ok else "-"))
    print("| n / m | ours to KKT 1e-6 (s) | IPOPT to KKT 1e-6 (s) | IPOPT / ours |")
    print("|---|---|---|---|")
    for s_ in summary:
        print("| " + " | ".join(s_) + " |")
    print("\n| n / m | solver | tol | seconds | iterations | f | KKT | status |")
    print("|---|---|---|---|---|---|---|---|")
    for r_ in rows:
        print("| " + " | ".join(r_) + " |")
    print()


# ------------------------------------------------------------------------------------ PDE
def run_pde(quick):
    sizes = [32, 64] if quick else [32, 64, 128, 256]
    print("## 2-D Poisson optimal control (n = 2N^2, m = N^2)\n")
    print("| N | n | tol | ours s | ours it | ours f | ours KKT | IPOPT s | it | f | KKT | "
          "ratio IPOPT/ours |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    for N in sizes:
        P = ip.PoissonControl(N)
        for tol in (1e-6, 1e-8):
            r = ours(["--pde-control", str(N), "--tol", "%g" % tol])
            x, info, it, t = ipopt(P, P.n, P.m, np.ones(P.n), tol)
            k = kkt_of(P, x, info)
            print("| %d | %d | %g | %.3f | %d | %.8f | %.1e | %.3f | %d | %.8f | %.1e | %.2f |" %
                  (N, P.n, tol, r["elapsed"], r["iterations"], r["objective"],
                   r["residuals"]["kkt"], t, it, info["obj_val"], k, t / r["elapsed"]))
            sys.stdout.flush()
    print()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("groups", nargs="*", metavar="{hs,logreg,pde}")
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    a = ap.parse_args()
    which = a.groups or ["hs", "logreg", "pde"]
    if "hs" in which:
        run_hs()
    if "logreg" in which:
        run_logreg(a.quick)
    if "pde" in which:
        run_pde(a.quick)
