#!/usr/bin/env python3
"""`mathprog.nlp.minimize` against SciPy's equality-constrained methods (`trust-constr`,
`SLSQP`) from Python, same process, same callables: time, objective and the KKT residual
``|(grad f + J^T lambda, c)|`` of each answer (multipliers by least squares for SciPy's).

Problems: (1) a KKT-constructed convex QP (n, m = n/4) with exact derivatives; (2) the
trust-region subproblem on the sphere ``min x^T Q x / 2 + c^T x s.t. |x|^2 = 1`` with a
Hessian of the objective and none for the constraint; (3) HS6 with no derivatives at all.

Usage: python3 bench/python_nlp.py [--n 200] (needs `pip install ./python scipy`)."""
import argparse
import time

import numpy as np
from scipy.optimize import NonlinearConstraint, minimize as sp_minimize

from mathprog.nlp import minimize


def kkt_residual(grad, jac, cons, x):
    g, J, c = grad(x), np.atleast_2d(jac(x)), np.atleast_1d(cons(x))
    lam = np.linalg.lstsq(J.T, -g, rcond=None)[0]
    return float(np.linalg.norm(np.concatenate([g + J.T @ lam, c])))


def problems(n, seed):
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, n)) / np.sqrt(n)
    Q = R @ R.T + np.eye(n)
    c = rng.normal(size=n)
    m = n // 4
    A, b = rng.normal(size=(m, n)), rng.normal(size=m)
    qp = dict(name=f"QP n={n} m={m}", fun=lambda x: 0.5 * x @ Q @ x + c @ x,
              jac=lambda x: Q @ x + c, hess=lambda x: Q, x0=np.zeros(n),
              cons=lambda x: A @ x - b, cjac=lambda x: A, chess=lambda x, v: np.zeros((n, n)))
    S = (R + R.T) / 2
    sphere = dict(name=f"sphere TRS n={n}", fun=lambda x: 0.5 * x @ S @ x + c @ x,
                  jac=lambda x: S @ x + c, hess=lambda x: S, x0=np.ones(n) / np.sqrt(n),
                  cons=lambda x: np.array([x @ x - 1]), cjac=lambda x: 2 * x[None, :],
                  chess=None)
    hs6 = dict(name="HS6 (no derivatives)", fun=lambda x: (1 - x[0]) ** 2, jac=None, hess=None,
               x0=np.array([-1.2, 1.0]), cons=lambda x: np.array([10 * (x[1] - x[0] ** 2)]),
               cjac=None, chess=None)
    hs6_grad = lambda x: np.array([-2 * (1 - x[0]), 0.0])  # noqa: E731
    hs6_cjac = lambda x: np.array([[-20 * x[0], 10.0]])  # noqa: E731
    return [(qp, qp["jac"], qp["cjac"]), (sphere, sphere["jac"], sphere["cjac"]),
            (hs6, hs6_grad, hs6_cjac)]


def run(label, solve, p, grad, cjac):
    t = time.perf_counter()
    x, extra = solve()
    dt = time.perf_counter() - t
    res = kkt_residual(grad, cjac, p["cons"], x)
    print(f"  {label:<22} {dt:8.3f} s  f = {p['fun'](x):+.10f}  KKT residual {res:.1e}  {extra}")
    return dt


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    for p, grad, cjac in problems(a.n, a.seed):
        print(p["name"])
        nl = NonlinearConstraint(p["cons"], 0, 0, jac=p["cjac"] or "2-point",
                                 hess=p["chess"] or None) if p["cjac"] else \
            NonlinearConstraint(p["cons"], 0, 0)
        eq = {"type": "eq", "fun": p["cons"], **({"jac": p["cjac"]} if p["cjac"] else {})}

        def ours():
            r = minimize(p["fun"], p["x0"], jac=p["jac"], hess=p["hess"],
                         constraints=[nl] if p["chess"] else eq, tol=1e-8)
            return r.x, f"{r.status}, {r.nit} it, kkt={r.stats['kkt_solver']}"

        def trust():
            kw = {"hess": p["hess"]} if p["hess"] else {}
            r = sp_minimize(p["fun"], p["x0"], jac=p["jac"] or "2-point", method="trust-constr",
                            constraints=[nl], options={"gtol": 1e-8, "xtol": 1e-12,
                                                       "maxiter": 5000}, **kw)
            return r.x, f"status {r.status}, {r.nit} it"

        def slsqp():
            r = sp_minimize(p["fun"], p["x0"], jac=p["jac"], method="SLSQP", constraints=[eq],
                            options={"ftol": 1e-14, "maxiter": 1000})
            return r.x, f"status {r.status}, {r.nit} it"

        t0 = run("mathprog.nlp.minimize", ours, p, grad, cjac)
        t1 = run("scipy trust-constr", trust, p, grad, cjac)
        t2 = run("scipy SLSQP", slsqp, p, grad, cjac)
        print(f"  ratios: trust-constr / ours {t1 / t0:.1f}x, SLSQP / ours {t2 / t0:.1f}x")


if __name__ == "__main__":
    main()
