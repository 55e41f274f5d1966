"""Equality-constrained nonlinear programs with SciPy's calling conventions.

``minimize(fun, x0, constraints=...)`` solves ``min f(x) s.t. c(x) = 0`` by the exact
augmented Lagrangian with Newton-KKT steps (Hong, Na, Mahoney & Kolar, ICML 2023; the method of
``solve nlp``). It takes what ``scipy.optimize.minimize`` takes for such problems:

- ``jac``: a callable ``jac(x, *args)``, ``True`` (``fun`` returns ``(f, g)``) or ``None``
  (central differences);
- ``hess(x, *args)`` (dense or scipy.sparse) or ``hessp(x, p, *args)``, optional (without
  them, Hessian-vector products of the Lagrangian come from central differences of its
  gradient);
- ``constraints``: a dict ``{"type": "eq", "fun": c, "jac": cj, "args": (...)}``, a
  ``scipy.optimize.NonlinearConstraint`` or ``LinearConstraint`` with ``lb == ub``, or a list of
  them. Inequalities and bounds are refused (``ValueError``): this solver is for equalities.

The result is a :class:`mathprog.Result` with SciPy's names as well: ``x``, ``fun``,
``success``, ``nit``, ``message`` and ``multipliers`` (``lambda`` with ``grad f + J^T lambda =
0``); ``residuals`` holds the KKT residual, stationarity and constraint violation.

    >>> import numpy as np
    >>> from mathprog.nlp import minimize
    >>> # min x0^2 + x1^2  s.t.  x0 + x1 = 1  ->  x = (1/2, 1/2)
    >>> r = minimize(lambda x: x @ x, [3.0, -1.0], jac=lambda x: 2 * x,
    ...              constraints={"type": "eq", "fun": lambda x: [x[0] + x[1] - 1]})
    >>> np.round(r.x, 6).tolist(), r.success
    ([0.5, 0.5], True)
"""
import json
import math

import numpy as np

from . import Result, _native

__all__ = ["NlpResult", "minimize"]

_EPS3 = np.finfo(float).eps ** (1 / 3)


class NlpResult(Result):
    """A :class:`mathprog.Result` with ``scipy.optimize.OptimizeResult``'s names."""

    __slots__ = ()

    @property
    def x(self):
        return np.asarray(self.report["solution"]["x"])

    @property
    def multipliers(self):
        return np.asarray(self.report["solution"]["lambda"])

    @property
    def fun(self):
        return self.report["objective"]

    @property
    def success(self):
        return self.report["status"] == "converged"

    @property
    def nit(self):
        return self.report["iterations"]

    @property
    def message(self):
        st = self.report["status"]
        kkt = self.report["residuals"]["kkt"]
        return f"{st}: KKT residual {kkt:.3e}"


def _central(fn, x, k):
    """Central difference of ``fn`` along coordinate ``k`` at ``x``."""
    h = _EPS3 * max(1.0, abs(x[k]))
    xp, xm = x.copy(), x.copy()
    xp[k] += h
    xm[k] -= h
    return (np.asarray(fn(xp), dtype=float) - np.asarray(fn(xm), dtype=float)) / (2 * h)


def _fd_jacobian(fn, x, rows):
    """The ``rows x n`` Jacobian of ``fn`` at ``x`` by central differences."""
    J = np.empty((rows, x.size))
    for k in range(x.size):
        J[:, k] = np.reshape(_central(fn, x, k), rows)
    return J


def _coo(A, shape, what):
    """``(rows, cols, values)`` of a dense or scipy.sparse matrix, shape and values checked."""
    if hasattr(A, "tocoo"):
        if A.shape != shape:
            raise ValueError(f"{what} returned shape {A.shape}, expected {shape}")
        c = A.tocoo()
        r, k, v = np.asarray(c.row), np.asarray(c.col), np.asarray(c.data, dtype=float)
    else:
        A = np.asarray(A, dtype=float)
        if A.size == shape[0] * shape[1] and A.ndim <= 1 and 1 in shape:
            A = A.reshape(shape)
        if A.shape != shape:
            raise ValueError(f"{what} returned shape {A.shape}, expected {shape}")
        r, k = np.nonzero(A)
        v = A[r, k]
    if not np.all(np.isfinite(v)):
        raise ValueError(f"{what} returned NaN or infinite entries")
    return (np.ascontiguousarray(r, dtype=np.int64), np.ascontiguousarray(k, dtype=np.int64),
            np.ascontiguousarray(v, dtype=float))


def _matvec(A, v):
    return np.asarray(A @ v, dtype=float).ravel()


class _Constraint:
    """One block of equality constraints ``fun(x) = 0`` with optional ``jac`` (matrix) and
    ``hess(x, v)`` (the Hessian of ``v^T fun``); ``linear`` when the Hessian is zero."""

    def __init__(self, fun, jac=None, hess=None, linear=False):
        self.fun, self.jac, self.hess, self.linear = fun, jac, hess, linear
        self.size = 0

    def jacobian(self, x):
        if self.jac is not None:
            return self.jac(x)
        return _fd_jacobian(self.fun, x, self.size)


def _eq_bounds(lb, ub, what):
    lb, ub = np.atleast_1d(np.asarray(lb, dtype=float)), np.atleast_1d(np.asarray(ub, dtype=float))
    if not (np.all(np.isfinite(lb)) and np.array_equal(lb, ub)):
        raise ValueError(f"mathprog.nlp solves equality constraints only: {what} needs lb == ub "
                         "(finite)")
    return lb


def _constraint(c):
    """A :class:`_Constraint` from a SciPy-style constraint."""
    if isinstance(c, dict):
        kind = c.get("type")
        if kind != "eq":
            raise ValueError(f"mathprog.nlp solves equality constraints only (got type {kind!r})")
        args = tuple(c.get("args", ()))
        fun, jac = c["fun"], c.get("jac")
        return _Constraint(lambda x: fun(x, *args),
                           None if not callable(jac) else (lambda x: jac(x, *args)))
    name = type(c).__name__
    if name == "LinearConstraint":
        A = c.A
        lb = _eq_bounds(c.lb, c.ub, "LinearConstraint")
        return _Constraint(lambda x: _matvec(A, x) - lb, lambda x: A, linear=True)
    if name == "NonlinearConstraint":
        lb = _eq_bounds(c.lb, c.ub, "NonlinearConstraint")
        fun = c.fun
        jac = c.jac if callable(c.jac) else None
        hess = c.hess if callable(c.hess) else None
        return _Constraint(lambda x: np.asarray(fun(x), dtype=float).ravel() - lb, jac, hess)
    raise TypeError(f"constraints must be dicts, NonlinearConstraint or LinearConstraint "
                    f"(got {name})")


def _objective(fun, jac, args):
    """``(f, g)`` callables from SciPy's ``fun``/``jac`` conventions."""
    if jac is True:
        cache = {}

        def both(x):
            key = x.tobytes()
            if key not in cache:
                cache.clear()
                val, g = fun(x, *args)
                cache[key] = (float(val), np.asarray(g, dtype=float).ravel())
            return cache[key]
        return (lambda x: both(x)[0]), (lambda x: both(x)[1])
    f = (lambda x: float(fun(x, *args)))
    if callable(jac):
        return f, (lambda x: np.asarray(jac(x, *args), dtype=float).ravel())
    if jac not in (None, "2-point", "3-point", "cs", False):
        raise ValueError(f"jac must be a callable, True or None (got {jac!r})")
    return f, (lambda x: np.array([_central(f, x, k) for k in range(x.size)], dtype=float))


class _Problem:
    """The callables ``_native.nlp_minimize`` takes, built from SciPy-style arguments."""

    def __init__(self, f, g, blocks, hess, hessp, x0):
        self.f, self.g, self.blocks, self.hess_f, self.hessp_f = f, g, blocks, hess, hessp
        self.n = x0.size
        for b in blocks:
            b.size = np.asarray(b.fun(x0), dtype=float).size
        self.m = sum(b.size for b in blocks)
        self.offsets = np.cumsum([0] + [b.size for b in blocks])

    def cons(self, x):
        if not self.blocks:
            return np.zeros(0)
        return np.concatenate([np.asarray(b.fun(x), dtype=float).ravel() for b in self.blocks])

    def jac(self, x):
        parts = [_coo(b.jacobian(x), (b.size, self.n), "the constraints' jac")
                 for b in self.blocks]
        if not parts:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return (np.concatenate([p[0] + o for p, o in zip(parts, self.offsets)]),
                np.concatenate([p[1] for p in parts]), np.concatenate([p[2] for p in parts]))

    def matrix_hessian(self):
        """Whether every part of the Lagrangian's Hessian comes as a matrix."""
        return self.hess_f is not None and all(b.linear or b.hess for b in self.blocks)

    def hess(self, x, lam):
        parts = [_coo(self.hess_f(x), (self.n, self.n), "hess")]
        for b, o in zip(self.blocks, self.offsets):
            if not b.linear:
                parts.append(_coo(b.hess(x, lam[o:o + b.size]), (self.n, self.n),
                                  "a constraint's hess"))
        return tuple(np.concatenate([p[i] for p in parts]) for i in range(3))

    def _fd_gradient(self, x, lam):
        """The parts of ``grad_x L`` whose Hessians are not given."""
        out = np.zeros(self.n) if self.hess_f or self.hessp_f else self.g(x).copy()
        for b, o in zip(self.blocks, self.offsets):
            if not (b.linear or b.hess):
                r, c, v = _coo(b.jacobian(x), (b.size, self.n), "the constraints' jac")
                np.add.at(out, c, v * lam[o:o + b.size][r])
        return out

    def hessp(self, x, lam, v):
        out = np.zeros(self.n)
        if self.hessp_f is not None:
            out += np.asarray(self.hessp_f(x, v), dtype=float).ravel()
        elif self.hess_f is not None:
            out += _matvec(self.hess_f(x), v)
        for b, o in zip(self.blocks, self.offsets):
            if b.hess and not b.linear:
                out += _matvec(b.hess(x, lam[o:o + b.size]), v)
        nv = float(np.linalg.norm(v))
        if nv > 0 and self._needs_fd():
            t = _EPS3 * max(1.0, float(np.linalg.norm(x))) / nv
            out += (self._fd_gradient(x + t * v, lam) - self._fd_gradient(x - t * v, lam)) / (2 * t)
        return out

    def _needs_fd(self):
        return (self.hess_f is None and self.hessp_f is None) or any(
            not (b.linear or b.hess) for b in self.blocks)


def minimize(fun, x0, args=(), method=None, jac=None, hess=None, hessp=None, bounds=None,
             constraints=(), tol=None, callback=None, options=None, *, kkt="auto",
             time_limit=None, max_iter=None, seed=1, threads=None, progress=None):
    """``min fun(x) s.t. c(x) = 0`` (see the module documentation). ``tol`` is the target of
    ``||(grad_x L, c)||_2`` (default 1e-8); ``options`` may hold ``maxiter``; ``kkt`` picks the
    KKT solver ("auto": direct LU when the Hessian comes as a matrix, else projected CG)."""
    if method not in (None, "trust-constr", "SLSQP", "mathprog"):
        raise ValueError(f"method {method!r} is not offered (mathprog runs its own)")
    if bounds is not None:
        raise ValueError("mathprog.nlp solves equality constraints only: bounds are not supported")
    if callback is not None:
        raise ValueError("use progress= (a callable that gets a dict per iteration)")
    x0 = np.array(x0, dtype=float).ravel()
    if x0.size == 0 or not np.all(np.isfinite(x0)):
        raise ValueError("x0 must be a non-empty finite vector")
    options = dict(options or {})
    max_iter = options.pop("maxiter", max_iter)
    if options:
        raise ValueError(f"unknown options: {sorted(options)}")
    tol = 1e-8 if tol is None else tol
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number (got {tol!r})")
    args = tuple(args) if isinstance(args, (tuple, list)) else (args,)
    if isinstance(constraints, (dict,)) or hasattr(constraints, "fun") or hasattr(constraints, "A"):
        constraints = [constraints]
    f, g = _objective(fun, jac, args)
    h = (lambda x: hess(x, *args)) if callable(hess) else None
    hp = (lambda x, p: hessp(x, p, *args)) if callable(hessp) else None
    prob = _Problem(f, g, [_constraint(c) for c in constraints], h, hp, x0)
    matrix = prob.matrix_hessian()
    text = _native.nlp_minimize(
        x0, prob.m, f, g, prob.cons, prob.jac,
        hess=prob.hess if matrix else None, hessp=None if matrix else prob.hessp,
        tol=float(tol), kkt=kkt, time_limit=time_limit, max_iter=max_iter, seed=seed,
        threads=threads, progress=progress)
    return NlpResult(json.loads(text))
