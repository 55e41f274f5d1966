"""Entropic optimal transport with POT's signatures: ``mathprog.ot.sinkhorn`` and
``sinkhorn2`` take POT's arguments (``a, b, M, reg, numItermax, stopThr, log``) and return
what POT returns (the plan, or the cost ``<M, P>``), so ``import mathprog.ot as ot`` can stand
in for ``import ot`` in those calls. ``method`` is ``"sns"`` (Sinkhorn-Newton-Sparse, the
default) or ``"sinkhorn"`` (stabilised log-domain Sinkhorn); POT's method names ``"sinkhorn"``,
``"sinkhorn_log"`` and ``"sinkhorn_stabilized"`` all map to the latter.

Differences to POT, by design: ``stopThr`` bounds the L1 marginal violation
``|P1 - a|_1 + |P^T 1 - b|_1`` of the returned plan (POT checks one marginal in L2);
``numItermax`` bounds the Sinkhorn iterations (default: no bound, the tolerance decides);
``log=True`` adds our certificate to POT's log: the potentials ``f, g``, the dual value
``<a, f> + <b, g> - reg sum P`` (weak duality: a lower bound on the regularised cost
``<M, P> + reg sum P (log P - 1)`` of every plan with the marginals a, b), the marginal
violation and the whole report.

``empirical_sinkhorn`` and ``empirical_sinkhorn2`` (POT's ``ot.bregman`` point-cloud entry
points) take the samples ``X_s``, ``X_t`` instead of ``M``: the costs are computed in the
solver from the coordinates, so no ``n x m`` array is built in Python (``empirical_sinkhorn2``
returns only the cost). With ``online=True`` (the default when the cost matrix would take more
than 1 GB) the solver computes them on the fly and never stores them or the plan (memory
``O((n + m) d)``; matrix-free Newton): clouds of 10^5 points and more (2-D, reg 1e-3 to 1e-6
in about 18 s on two cores).
"""
import json

import numpy as np

from . import Result, _native

__all__ = ["empirical_sinkhorn", "empirical_sinkhorn2", "sinkhorn", "sinkhorn2"]

_METHODS = {"sns": "sns", "sinkhorn": "sinkhorn", "sinkhorn_log": "sinkhorn",
            "sinkhorn_stabilized": "sinkhorn"}


def _histograms(a, b, M):
    M = np.asarray(M, dtype=float)
    if M.ndim != 2:
        raise ValueError(f"M must be a matrix (got {M.ndim} dimensions)")
    n, m = M.shape
    a = np.full(n, 1.0 / n) if len(a) == 0 else np.asarray(a, dtype=float)
    b = np.full(m, 1.0 / m) if len(b) == 0 else np.asarray(b, dtype=float)
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError("a and b must be 1-D histograms (several b at once are not supported)")
    return np.ascontiguousarray(a), np.ascontiguousarray(b), M


def _solve(a, b, M, reg, method, numItermax, stopThr, kwargs):
    progress = kwargs.pop("progress", None)
    unknown = set(kwargs) - {"verbose", "warn"}
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)}")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)} (got {method!r})")
    a, b, M = _histograms(a, b, M)
    plan, text = _native.ot_dense(a, b, M, float(reg), method=_METHODS[method],
                                  tol=float(stopThr), max_iter=numItermax, progress=progress)
    return plan, M, Result(json.loads(text))


def _log(res, reg):
    f = np.asarray(res.solution["f"])
    g = np.asarray(res.solution["g"])
    with np.errstate(over="ignore"):
        u, v = np.exp(f / reg), np.exp(g / reg)
    return {"u": u, "v": v, "log_u": f / reg, "log_v": g / reg, "f": f, "g": g,
            "niter": res.iterations, "err": [res.residuals["marginal_l1"]],
            "dual_value": res.stats["dual_value"], "marginal_l1": res.residuals["marginal_l1"],
            "status": res.status, "report": res.report}


def sinkhorn(a, b, M, reg, method="sns", numItermax=None, stopThr=1e-9, verbose=False,
             log=False, **kwargs):
    """The entropic OT plan (n x m) of POT's ``ot.sinkhorn``; ``log=True`` returns
    ``(plan, log)``."""
    plan, _, res = _solve(a, b, M, reg, method, numItermax, stopThr, kwargs)
    return (plan, _log(res, reg)) if log else plan


def sinkhorn2(a, b, M, reg, method="sns", numItermax=None, stopThr=1e-9, verbose=False,
              log=False, **kwargs):
    """The transport cost ``<M, P>`` of the entropic plan, as POT's ``ot.sinkhorn2``;
    ``log=True`` returns ``(cost, log)``."""
    plan, M, res = _solve(a, b, M, reg, method, numItermax, stopThr, kwargs)
    cost = float(np.sum(M * plan))
    return (cost, _log(res, reg)) if log else cost


_METRICS = ("sqeuclidean", "euclidean", "cityblock", "minkowski")


def _points(X_s, X_t, a, b, reg, metric, numIterMax, stopThr, method, want_plan, kwargs):
    progress = kwargs.pop("progress", None)
    p = kwargs.pop("p", 2.0)
    online = kwargs.pop("online", None)
    unknown = set(kwargs) - {"verbose", "warn", "isLazy", "batchSize"}
    if unknown:
        raise TypeError(f"unexpected arguments {sorted(unknown)}")
    if kwargs.get("isLazy"):
        raise ValueError("isLazy=True (a lazy plan) is not supported")
    if method not in _METHODS:
        raise ValueError(f"method must be one of {sorted(_METHODS)} (got {method!r})")
    if metric not in _METRICS:
        raise ValueError(f"metric must be one of {_METRICS} (got {metric!r})")
    X_s, X_t = (np.ascontiguousarray(X, dtype=float) for X in (X_s, X_t))
    if X_s.ndim != 2 or X_t.ndim != 2 or X_s.shape[1] != X_t.shape[1] or 0 in X_s.shape + X_t.shape:
        raise ValueError(f"X_s and X_t must be non-empty (n, d) and (m, d) arrays "
                         f"(got {X_s.shape}, {X_t.shape})")
    n, m = X_s.shape[0], X_t.shape[0]
    a = np.full(n, 1.0 / n) if a is None or len(a) == 0 else np.ascontiguousarray(a, dtype=float)
    b = np.full(m, 1.0 / m) if b is None or len(b) == 0 else np.ascontiguousarray(b, dtype=float)
    plan, cost, text = _native.ot_points(
        X_s, X_t, a, b, float(reg), metric=metric, p=float(p), plan=want_plan,
        method=_METHODS[method], tol=float(stopThr), max_iter=numIterMax, progress=progress,
        online=online)
    return plan, cost, Result(json.loads(text))


def empirical_sinkhorn(X_s, X_t, reg, a=None, b=None, metric="sqeuclidean", numIterMax=None,
                       stopThr=1e-9, verbose=False, log=False, method="sns", **kwargs):
    """The entropic OT plan between the samples ``X_s`` (n x d) and ``X_t`` (m x d) with
    weights ``a``, ``b`` (uniform by default) and the ground cost ``metric``
    ("sqeuclidean", "euclidean", "cityblock", "minkowski" with ``p=``), as POT's
    ``ot.bregman.empirical_sinkhorn``; ``log=True`` returns ``(plan, log)``."""
    plan, _, res = _points(X_s, X_t, a, b, reg, metric, numIterMax, stopThr, method, True, kwargs)
    return (plan, _log(res, reg)) if log else plan


def empirical_sinkhorn2(X_s, X_t, reg, a=None, b=None, metric="sqeuclidean", numIterMax=None,
                        stopThr=1e-9, verbose=False, log=False, method="sns", **kwargs):
    """The transport cost ``<C, P>`` of the entropic plan between two point clouds, as POT's
    ``ot.bregman.empirical_sinkhorn2`` (no plan is returned to Python)."""
    _, cost, res = _points(X_s, X_t, a, b, reg, metric, numIterMax, stopThr, method, False, kwargs)
    return (cost, _log(res, reg)) if log else cost
