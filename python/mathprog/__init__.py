"""mathprog: solvers for hard problem classes with certificates, from Python.

Every call returns a :class:`Result` whose attributes mirror the report of the command-line
tool (``solve ... --json``): ``status``, ``objective``, ``bound``, ``iterations``,
``elapsed``, ``seed``, ``solution``, ``residuals``, ``stats``, and ``report`` (the whole
document as a dict). Solvers run with the GIL released; Ctrl-C stops a solve and returns the
best result so far with ``status == "interrupted"``. Every call takes ``progress``: a callable
that gets a dict per iteration (``iteration``, ``elapsed``, ``best``, ``current``, ``bound``,
``residual`` and the method's own columns); returning ``False`` stops the run.

    >>> import numpy as np, mathprog
    >>> W = np.ones((5, 5)) - np.eye(5)          # K5
    >>> r = mathprog.maxcut_sdp(W, tol=1e-6)
    >>> round(r.objective, 4), r.status          # the SDP value of K_n is n^2/4
    (6.25, 'converged')
"""
import json
import math
import os

import numpy as np

from . import _native

__all__ = ["Result", "bilevel", "game", "maxcut", "maxcut_sdp", "maxsat", "nlp", "ot", "qubo", "sdp"]


class Result:
    """A solver's report: typed attributes plus ``report``, the CLI's JSON document."""

    __slots__ = ("report",)

    def __init__(self, report):
        self.report = report

    def __getattr__(self, name):
        try:
            return self.report[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getstate__(self):
        return self.report

    def __setstate__(self, state):
        self.report = state

    def __repr__(self):
        r = self.report
        return (f"Result(status={r.get('status')!r}, objective={r.get('objective')!r}, "
                f"bound={r.get('bound')!r}, iterations={r.get('iterations')!r}, "
                f"elapsed={r.get('elapsed')!r})")


def _edges(W):
    """Upper-triangle edge arrays (rows, cols, weights) and n of a symmetric weight matrix,
    dense (numpy) or scipy.sparse."""
    if hasattr(W, "tocoo"):  # scipy.sparse
        if W.ndim != 2 or W.shape[0] != W.shape[1]:
            raise ValueError(f"W must be square (got shape {W.shape})")
        n = W.shape[0]
        coo = W.tocoo()
        r, c, w = np.asarray(coo.row), np.asarray(coo.col), np.asarray(coo.data, dtype=float)
        if not np.all(np.isfinite(w)):
            raise ValueError("W has NaN or infinite entries")
        asym = abs(W - W.T)
        if asym.nnz and asym.max() > 1e-12 * max(1.0, float(abs(W).max())):
            raise ValueError("W must be symmetric")
    else:
        W = _dense_symmetric(W, "W")
        n = W.shape[0]
        r, c = np.nonzero(W)
        w = W[r, c]
    keep = (r < c) & (w != 0)
    return (n, np.ascontiguousarray(r[keep], dtype=np.int64),
            np.ascontiguousarray(c[keep], dtype=np.int64), np.ascontiguousarray(w[keep], dtype=float))


def _dense_symmetric(A, name):
    """``A`` as a float array, checked square, finite and symmetric (to rounding)."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.shape[0] != A.shape[1]:
        raise ValueError(f"{name} must be a square matrix (got shape {A.shape})")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} has NaN or infinite entries")
    if not np.allclose(A, A.T, rtol=0, atol=1e-12 * max(1.0, float(np.abs(A).max(initial=0)))):
        raise ValueError(f"{name} must be symmetric")
    return A


def _existing(path):
    """``path`` as a string, or ``FileNotFoundError``."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(path)
    return path


def _check_tol(tol):
    if not (isinstance(tol, (int, float)) and math.isfinite(tol) and tol > 0):
        raise ValueError(f"tol must be a positive number (got {tol!r})")


def maxcut_sdp(W, *, tol=1e-4, time_limit=None, max_iter=None, seed=1, threads=None,
               precondition=False, gw_trials=64, progress=None):
    """The MaxCut SDP ``max 1/4 <L, X>, diag X = 1, X psd`` of the graph with weight matrix
    ``W`` (symmetric, dense or scipy.sparse), with a certified upper bound (``bound``), the
    relative gap (``residuals["relative_gap"]``), the factor ``solution["factor"]`` and the best
    Goemans-Williamson cut (``solution["cut"]``, spins +-1)."""
    _check_tol(tol)
    n, r, c, w = _edges(W)
    if n == 0:
        raise ValueError("the graph has no vertices")
    text = _native.maxcut_sdp(n, r, c, w, tol=tol, time_limit=time_limit, max_iter=max_iter,
                              seed=seed, threads=threads, precondition=precondition,
                              gw_trials=gw_trials, progress=progress)
    return Result(json.loads(text))


def maxcut(W, *, time_limit=10.0, max_iter=None, seed=1, threads=None, target=None,
           bound=False, stall_rounds=2000, progress=None):
    """Maximum cut of the graph with weight matrix ``W`` (symmetric, dense or scipy.sparse) by
    MCPG: ``objective`` is the cut weight, ``solution`` the partition (spins +-1). Runs for
    ``time_limit`` seconds (default 10) or until ``stall_rounds`` rounds bring no better cut,
    ``max_iter`` rounds or the ``target`` cut; with ``bound=True`` the certified MaxCut SDP
    upper bound (``bound``) is computed first, within half the time."""
    n, r, c, w = _edges(W)
    if n == 0:
        raise ValueError("the graph has no vertices")
    text = _native.maxcut(n, r, c, w, time_limit=time_limit, max_iter=max_iter, seed=seed,
                          threads=threads, target=target, bound=bound,
                          stall_rounds=stall_rounds, progress=progress)
    return Result(json.loads(text))


def qubo(Q, *, spin=False, maximize=False, time_limit=10.0, max_iter=None, seed=1, threads=None,
         target=None, stall_rounds=2000, progress=None):
    """``min x^T Q x`` over ``x in {0,1}^n`` (``spin=True``: ``{-1,1}^n``; ``maximize=True``:
    max) for a symmetric ``Q`` (dense or scipy.sparse) by MCPG. ``solution`` is the assignment
    (0/1, or +-1 with ``spin``); ``objective`` its value computed from ``Q``."""
    n, r, c, w = _entries(Q)
    if n == 0:
        raise ValueError("Q has no variables")
    res = Result(json.loads(_native.qubo(n, r, c, w, spin=spin, maximize=maximize,
                                          time_limit=time_limit, max_iter=max_iter, seed=seed,
                                          threads=threads, target=target,
                                          stall_rounds=stall_rounds, progress=progress)))
    if not spin:
        res.report["solution"] = [int(s > 0) for s in res.report["solution"]]
    return res


def _entries(Q):
    """Upper-triangle entries (with the diagonal) of a symmetric matrix."""
    Q = _dense_symmetric(Q.toarray() if hasattr(Q, "tocoo") else Q, "Q")
    r, c = np.nonzero(np.triu(Q))
    return (Q.shape[0], r.astype(np.int64), c.astype(np.int64),
            np.ascontiguousarray(Q[r, c], dtype=float))


def maxsat(clauses, weights=None, *, hard=(), num_vars=None, time_limit=10.0, max_iter=None,
           seed=1, threads=None, target=None, progress=None):
    """Weighted (partial) MaxSAT by MCPG, of a DIMACS CNF/WCNF file (a path) or of clauses in
    memory: ``clauses`` a list of soft clauses (each a list of non-zero DIMACS literals, ``v``
    or ``-v`` for the 1-based variable ``v``) with ``weights`` (positive integers, default 1)
    and ``hard`` the clauses that must hold; a PySAT ``CNF``/``WCNF`` object (``.clauses``, or
    ``.soft``/``.wght``/``.hard``) also works. ``maxsat`` holds the value of the returned
    assignment (``cost`` = weight of the false soft clauses, ``hard_violated``), ``solution``
    the assignment (spins: +1 true, -1 false).

        >>> r = mathprog.maxsat([[1, 2], [-1], [-2]], max_iter=50)   # one clause must fail
        >>> r.maxsat["cost"]
        1
    """
    kw = dict(time_limit=time_limit, max_iter=max_iter, seed=seed, threads=threads,
              target=target, progress=progress)
    if isinstance(clauses, (str, bytes, os.PathLike)):
        if weights is not None or hard or num_vars is not None:
            raise ValueError("weights, hard and num_vars apply to clauses, not to a file")
        return Result(json.loads(_native.maxsat_file(_existing(clauses), **kw)))
    if hasattr(clauses, "soft") and hasattr(clauses, "hard"):  # PySAT WCNF
        clauses, weights, hard = clauses.soft, clauses.wght, clauses.hard
    elif hasattr(clauses, "clauses"):  # PySAT CNF
        clauses = clauses.clauses
    soft = [_clause(c, "clause") for c in clauses]
    hard = [_clause(c, "hard clause") for c in hard]
    if weights is None:
        weights = [1] * len(soft)
    weights = list(weights)
    if len(weights) != len(soft):
        raise ValueError(f"{len(soft)} clauses but {len(weights)} weights")
    for w in weights:
        if isinstance(w, bool) or not isinstance(w, (int, np.integer)) or w <= 0:
            raise ValueError(f"weights must be positive integers (got {w!r})")
    if not soft and not hard:
        raise ValueError("no clauses")
    top = max((abs(l) for c in soft + hard for l in c), default=0)
    n = top if num_vars is None else int(num_vars)
    if n < top:
        raise ValueError(f"a literal names variable {top} but num_vars is {n}")
    return Result(json.loads(_native.maxsat_clauses(
        n, soft + hard, [int(w) for w in weights] + [None] * len(hard), **kw)))


def _clause(c, what):
    """A clause as a list of non-zero ints."""
    lits = [int(l) for l in c]
    for l, raw in zip(lits, c):
        if l == 0 or l != raw:
            raise ValueError(f"{what} {list(c)!r}: literals must be non-zero integers")
    return lits


def game(A, *, gap_tol=1e-6, time_limit=None, max_iter=None, seed=1, threads=None, progress=None):
    """The matrix game ``min_x max_y x^T A y`` over the probability simplices by the restarted
    Halpern method: ``solution["x"]``, ``solution["y"]``, the value bounds
    ``solution["lower"] <= value <= solution["upper"]`` and the exact gap
    (``residuals["gap"]``)."""
    A = np.asarray(A, dtype=float)
    if A.ndim != 2 or A.size == 0:
        raise ValueError(f"A must be a non-empty matrix (got shape {A.shape})")
    if not np.all(np.isfinite(A)):
        raise ValueError("A has NaN or infinite entries")
    m, n = A.shape
    return Result(json.loads(_native.game(np.ascontiguousarray(A).ravel(), m, n, gap_tol=gap_tol,
                                          time_limit=time_limit, max_iter=max_iter, seed=seed,
                                          threads=threads, progress=progress)))


def sdp(C, A=None, b=None, *, tol=1e-6, method="auto", time_limit=None, max_iter=None, seed=1,
        threads=None, progress=None):
    """The semidefinite program ``min <C, X> s.t. <A_k, X> = b_k, X psd`` (dual
    ``max b^T y s.t. C - sum y_k A_k psd``), from an SDPA sparse file (SDPLIB's ``.dat-s``, pass
    its path as ``C``) or from matrices: ``C`` a symmetric matrix (dense or scipy.sparse) or a
    list of blocks (a 2-D block is PSD-constrained, a 1-D array is a diagonal block of
    non-negative scalars: linear-programming variables), ``A`` a list of ``m`` such matrices
    (each with ``C``'s blocks), ``b`` the ``m`` right-hand sides. ``method`` is "auto", "ipm" or
    "low-rank". The report carries the primal and dual values, the relative gap and both
    infeasibilities, or an infeasibility status with its certificate.

        >>> import numpy as np
        >>> # min <C, X> s.t. tr X = 1, X psd: the smallest eigenvalue of C
        >>> C = np.array([[2.0, 1.0], [1.0, 2.0]])
        >>> round(mathprog.sdp(C, [np.eye(2)], [1.0]).objective, 6)
        1.0
    """
    _check_tol(tol)
    kw = dict(tol=tol, method=method, time_limit=time_limit, max_iter=max_iter, seed=seed,
              threads=threads, progress=progress)
    if isinstance(C, (str, bytes, os.PathLike)):
        if A is not None or b is not None:
            raise ValueError("A and b apply to matrices, not to a file")
        return Result(json.loads(_native.sdp_file(_existing(C), **kw)))
    if A is None or b is None:
        raise ValueError("give C, A and b (or the path of an SDPA file)")
    blocks = [(M.ndim == 2, M.shape[0]) for M in _blocks(C, "C")]
    b = np.atleast_1d(np.asarray(b, dtype=float))
    A = list(A)
    if b.ndim != 1 or len(A) != b.size:
        raise ValueError(f"{len(A)} constraint matrices but b has shape {b.shape}")
    if not np.all(np.isfinite(b)):
        raise ValueError("b has NaN or infinite entries")
    parts = [_block_entries(k, M, blocks, "C" if k == 0 else f"A[{k - 1}]")
             for k, M in enumerate([C] + A)]
    entries = tuple(np.concatenate([p[i] for p in parts]) for i in range(5))
    return Result(json.loads(_native.sdp_blocks(blocks, entries, list(b), **kw)))


def _blocks(M, what):
    """The blocks of a block-diagonal matrix: a list of arrays (or sparse matrices), or one."""
    items = list(M) if isinstance(M, (list, tuple)) and all(
        hasattr(x, "shape") for x in M) else [M]
    out = []
    for k, X in enumerate(items):
        if not hasattr(X, "tocoo"):
            X = np.asarray(X, dtype=float)
        if X.ndim not in (1, 2) or (X.ndim == 2 and X.shape[0] != X.shape[1]) or X.shape[0] == 0:
            raise ValueError(f"{what}, block {k}: a square matrix or a vector needed "
                             f"(got shape {X.shape})")
        out.append(X)
    return out


def _block_entries(mat, M, blocks, what):
    """``(matrix, block, i, j, value)`` arrays of the upper triangles of ``M``'s blocks."""
    Ms = _blocks(M, what)
    if len(Ms) != len(blocks):
        raise ValueError(f"{what} has {len(Ms)} blocks, C has {len(blocks)}")
    cols = [[], [], [], [], []]
    for k, (X, (dense, n)) in enumerate(zip(Ms, blocks)):
        if (X.ndim == 2) != dense or X.shape[0] != n:
            raise ValueError(f"{what}, block {k}: shape {X.shape} does not match C's block")
        if dense:
            _, i, j, v = _edges_with_diagonal(X, f"{what}, block {k}")
        else:
            v = np.asarray(X, dtype=float)
            if not np.all(np.isfinite(v)):
                raise ValueError(f"{what}, block {k} has NaN or infinite entries")
            i = j = np.nonzero(v)[0]
            v = v[i]
        for c, val in zip(cols, (np.full(len(v), mat), np.full(len(v), k), i, j, v)):
            c.append(np.asarray(val))
    return (*(np.concatenate(c).astype(np.int64) for c in cols[:4]),
            np.concatenate(cols[4]).astype(float))


def _edges_with_diagonal(X, what):
    """Upper-triangle entries (with the diagonal) of a symmetric matrix, dense or sparse."""
    if hasattr(X, "tocoo"):
        X = X.toarray()
    try:
        X = _dense_symmetric(X, what)
    except ValueError as e:
        raise ValueError(str(e)) from None
    i, j = np.nonzero(np.triu(X))
    return X.shape[0], i, j, X[i, j]

from . import bilevel, dimod, nlp, ot  # noqa: E402  (drop-in interfaces; they import Result from here)
