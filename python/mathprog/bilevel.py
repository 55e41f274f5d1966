"""Bilevel problems ``min_x f(x, y*(x))``, ``y*(x) = argmin_y g(x, y)``: the built-in classes of
``solve bilevel``, by the value-function penalty method (Kwon, Kwon, Wright & Nowak, ICLR 2024):
``psi_sigma(x) = min_y [f(x, y) + (g(x, y) - min_z g(x, z)) / sigma]`` is within ``O(sigma)`` of
the hyper-objective and needs first derivatives only. ``method="aid"`` runs implicit
differentiation (CG on Hessian-vector products), ``method="stochastic"`` the single-loop
minibatch method.

Every function returns a :class:`mathprog.Result`: ``solution`` holds ``x`` (upper level),
``y`` (the penalised lower-level point) and ``z`` (the lower-level minimiser);
``residuals`` the certificates (``stationarity`` of ``x``, the lower-level gap ``ll_gap``);
``stats`` the facts the CLI prints (``x_star_distance``, ``lambda``, ``flagged_samples``, ...).

    >>> from mathprog import bilevel
    >>> r = bilevel.quadratic(5, 8, seed=1)        # closed-form x*: the distance is O(sigma)
    >>> r.status, r.stats["x_star_distance"] <= 2 * r.stats["penalty_bias"] + 1e-6
    ('converged', True)
"""
import json

import numpy as np

from . import Result, _native

__all__ = ["hyperclean", "nonunique", "quadratic", "ridge"]


def _settings(method, sigma, tol, max_inner, step, sigma0, batch, time_limit, max_iter, seed,
              threads, progress):
    return dict(method=method, sigma=sigma, tol=tol, max_inner=max_inner, step=step,
                sigma0=sigma0, batch=batch, time_limit=time_limit, max_iter=max_iter, seed=seed,
                threads=threads, progress=progress)


def _run(kind, **kw):
    if kw.get("time_limit") is None and kw.get("max_iter") is None:
        kw["time_limit"] = 600.0  # as the CLI: a bilevel run always ends
    return Result(json.loads(_native.bilevel(kind, **kw)))


def quadratic(p=5, q=8, *, method="penalty", sigma=1e-3, tol=1e-6, max_inner=20000, step=None,
              sigma0=None, batch=32, time_limit=None, max_iter=None, seed=1, threads=None,
              progress=None):
    """The generated quadratic problem with a strongly convex lower level (``x`` in R^p, ``y``
    in R^q, from ``seed``), whose ``x*`` and penalty minimiser ``x_sigma`` have closed forms:
    ``stats["x_star_distance"]`` and ``stats["penalty_bias"]`` (``|x_sigma - x*|``)."""
    return _run("quadratic", size=int(p), dim=int(q), **_settings(
        method, sigma, tol, max_inner, step, sigma0, batch, time_limit, max_iter, seed, threads,
        progress))


def nonunique(d=10, *, method="penalty", sigma=1e-3, tol=1e-6, max_inner=20000, step=None,
              sigma0=None, batch=32, time_limit=None, max_iter=None, seed=1, threads=None,
              progress=None):
    """The toy whose lower level has a continuum of minimisers (``x* = y* = 1`` in R^d, a start
    from ``seed``): ``stats["x_star_distance"]`` is ``|x - 1|``."""
    return _run("nonunique", size=int(d), **_settings(
        method, sigma, tol, max_inner, step, sigma0, batch, time_limit, max_iter, seed, threads,
        progress))


def _sets(X_train, y_train, X_val, y_val, labels=None):
    """Row-major float data, shapes and finiteness checked; ``labels`` maps y to +-1."""
    out = []
    d = None
    for name, X, y in (("train", X_train, y_train), ("val", X_val, y_val)):
        X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.size or X.size == 0:
            raise ValueError(f"X_{name} must be (n, d) and y_{name} (n,) (got {X.shape}, "
                             f"{y.shape})")
        if d is not None and X.shape[1] != d:
            raise ValueError(f"X_train has {d} features, X_val {X.shape[1]}")
        d = X.shape[1]
        if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
            raise ValueError(f"X_{name} or y_{name} has NaN or infinite entries")
        out += [np.ascontiguousarray(X).ravel(), labels(y) if labels else y]
    return (d, *out)


def ridge(X_train, y_train, X_val, y_val, *, method="penalty", sigma=1e-3, tol=1e-6,
          max_inner=20000, step=None, sigma0=None, batch=32, time_limit=None, max_iter=None,
          seed=1, threads=None, progress=None):
    """Ridge-regression tuning: ``x = log(lambda)`` minimises the validation loss
    ``|X_val w - y_val|^2 / 2n_val`` of ``w = argmin |X_train w - y_train|^2 / 2n + lambda
    |w|^2 / 2``. ``stats["lambda"]``, ``stats["validation_loss"]``; ``solution["z"]`` is
    ``w``."""
    return _run("ridge", sets=_sets(X_train, y_train, X_val, y_val), **_settings(
        method, sigma, tol, max_inner, step, sigma0, batch, time_limit, max_iter, seed, threads,
        progress))


def _pm1(y):
    vals = np.unique(y)
    if vals.size > 2:
        raise ValueError(f"labels must be binary (got {vals.size} distinct values)")
    return np.where(y == vals.max(), 1.0, -1.0) if vals.size == 2 else np.sign(y) + (y == 0)


def hyperclean(X_train, y_train, X_val, y_val, *, c=1e-3, method="penalty", sigma=0.1, tol=1e-5,
               max_inner=20000, step=None, sigma0=None, batch=32, time_limit=None,
               max_iter=None, seed=1, threads=None, progress=None):
    """Data hyper-cleaning: per-sample weights ``x`` of an L2-regularised (``c``) logistic
    regression on the (noisy) training set, chosen for the loss on the clean validation set.
    Binary labels (the larger value is +1). ``stats["flagged"]`` marks the samples judged
    mislabelled, ``solution["z"]`` is the classifier."""
    sets = _sets(X_train, y_train, X_val, y_val, labels=_pm1)
    if step is None and method == "stochastic":
        step = 0.1 * np.asarray(y_train).size  # each weight's hypergradient is O(1/n)
    return _run("hyperclean", sets=sets, c=float(c), **_settings(
        method, sigma, tol, max_inner, step, sigma0, batch, time_limit, max_iter, seed, threads,
        progress))
