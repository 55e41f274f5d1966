"""The first slice of the Python package: MaxCut SDP and SDPA files, against closed forms,
across input types and threads, and its errors."""
import math
import os
import pickle
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import mathprog

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def complete(n):
    return np.ones((n, n)) - np.eye(n)


def cycle(n):
    W = np.zeros((n, n))
    for i in range(n):
        W[i, (i + 1) % n] = W[(i + 1) % n, i] = 1.0
    return W


@pytest.mark.parametrize("n", [3, 5, 7, 11])
def test_odd_cycles_closed_form(n):
    want = n / 2 * (1 + math.cos(math.pi / n))
    r = mathprog.maxcut_sdp(cycle(n), tol=1e-7)
    assert r.status == "converged"
    assert r.objective <= want + 1e-9 <= r.bound + 2e-9
    assert r.bound - r.objective <= 1e-6 * want
    assert r.residuals["relative_gap"] <= 1e-7


def test_complete_graph_and_cut():
    r = mathprog.maxcut_sdp(complete(6), tol=1e-7)
    assert abs(r.objective - 9.0) <= 1e-6 and r.bound >= 9.0 - 1e-9
    cut = np.array(r.solution["cut"])
    assert set(np.unique(cut)) <= {-1, 1}
    assert r.solution["cut_value"] == 9.0  # K6's max cut is 3 x 3


def test_sparse_and_dense_inputs_agree():
    scipy_sparse = pytest.importorskip("scipy.sparse")
    rng = np.random.default_rng(3)
    A = np.triu((rng.random((30, 30)) < 0.2) * rng.uniform(0.5, 2.0, (30, 30)), 1)
    W = A + A.T
    a = mathprog.maxcut_sdp(W, seed=4, threads=1)
    b = mathprog.maxcut_sdp(scipy_sparse.csr_matrix(W), seed=4, threads=2)
    assert a.objective == b.objective and a.bound == b.bound
    assert a.solution["cut"] == b.solution["cut"]


def test_results_pickle_and_threads():
    Ws = [cycle(n) for n in (5, 7, 9, 13)]
    seq = [mathprog.maxcut_sdp(W, seed=2) for W in Ws]
    with ThreadPoolExecutor(4) as ex:
        par = list(ex.map(lambda W: mathprog.maxcut_sdp(W, seed=2), Ws))
    for s, p in zip(seq, par):
        assert (s.objective, s.bound) == (p.objective, p.bound)
        q = pickle.loads(pickle.dumps(p))
        assert q.report == p.report and q.status == p.status


def test_sdpa_file():
    r = mathprog.sdp(os.path.join(ROOT, "data", "suites", "sdplib", "theta1.dat-s"))
    assert r.status == "converged"
    assert abs(r.objective + 23.0) <= 1e-4  # SDPLIB: 2.300000e+01 (SDPA sign)
    assert r.residuals["relative_gap"] <= 1e-6


@pytest.mark.parametrize("W, msg", [
    (np.array([[0, 1], [2, 0.0]]), "symmetric"),
    (np.array([[0, np.nan], [np.nan, 0.0]]), "NaN"),
    (np.ones((2, 3)), "square"),
])
def test_bad_matrices_raise_value_error(W, msg):
    with pytest.raises(ValueError, match=msg):
        mathprog.maxcut_sdp(W)


def test_bad_arguments_raise(tmp_path):
    with pytest.raises(ValueError, match="tol"):
        mathprog.maxcut_sdp(complete(3), tol=-1.0)
    with pytest.raises(FileNotFoundError):
        mathprog.sdp(tmp_path / "missing.dat-s")
    bad = tmp_path / "bad.dat-s"
    bad.write_text("1\n1\n2\n1.0\n0 1 1 3 1.0\n")
    with pytest.raises(ValueError, match="bad.dat-s"):
        mathprog.sdp(bad)
    with pytest.raises(ValueError, match="method"):
        mathprog.sdp(os.path.join(ROOT, "data", "suites", "sdplib", "theta1.dat-s"), method="x")


def cut_value(W, spins):
    s = np.asarray(spins, dtype=float)
    return float(0.25 * np.sum(W * (1 - np.outer(s, s))))


@pytest.mark.parametrize("W, best", [(cycle(7), 6.0), (complete(5), 6.0), (cycle(8), 8.0)])
def test_maxcut_finds_small_optima_with_bound(W, best):
    # Iteration limits, not the clock: the result does not depend on the machine's speed.
    r = mathprog.maxcut(W, max_iter=50, time_limit=None, seed=3, bound=True)
    assert r.objective == best
    assert cut_value(W, r.solution) == r.objective
    assert r.bound >= best - 1e-9
    again = mathprog.maxcut(W, max_iter=50, time_limit=None, seed=3, threads=1)
    assert again.solution == r.solution


def test_progress_callback_sees_iterations_and_can_stop():
    seen = []

    def record(it):
        seen.append(it)
        return None

    r = mathprog.maxcut_sdp(cycle(9), tol=1e-7, progress=record)
    assert r.status == "converged" and len(seen) == r.iterations
    assert {"iteration", "elapsed", "best", "bound", "residual"} <= set(seen[-1])
    assert seen[-1]["residual"] <= 1e-7
    # False stops the run: the best result so far, status interrupted.
    stopped = mathprog.maxcut_sdp(cycle(101), tol=1e-9, progress=lambda it: False)
    assert stopped.status == "interrupted" and stopped.iterations <= 1

    def boom(it):
        raise RuntimeError("from the callback")

    with pytest.raises(RuntimeError, match="from the callback"):
        mathprog.maxcut_sdp(cycle(9), progress=boom)


def test_sdp_from_matrices_closed_forms():
    # min <C, X>, tr X = 1: the smallest eigenvalue of C.
    rng = np.random.default_rng(5)
    R = rng.normal(size=(6, 6))
    C = (R + R.T) / 2
    r = mathprog.sdp(C, [np.eye(6)], [1.0], tol=1e-8)
    assert r.status == "converged"
    assert abs(r.objective - np.linalg.eigvalsh(C)[0]) <= 1e-6
    # The MaxCut SDP of K5 in standard form (min <-L/4, X>, diag X = 1): -n^2/4.
    n = 5
    W = complete(n)
    L = np.diag(W.sum(1)) - W
    r = mathprog.sdp(-L / 4, [np.diag(np.eye(n)[k]) for k in range(n)], np.ones(n), tol=1e-8)
    assert abs(r.objective + 6.25) <= 1e-6
    # An LP as a diagonal block, with a PSD block beside it (scipy.sparse accepted):
    # min 3x1 + x2 + 2x3 + <C2, Y>, x1 + x2 + x3 + tr Y = 1: min(1, lambda_min(C2)) = 0.5.
    import scipy.sparse as sp
    C2 = sp.csr_matrix(np.array([[1.0, 0.5], [0.5, 1.0]]))
    r = mathprog.sdp([np.array([3.0, 1.0, 2.0]), C2], [[np.ones(3), sp.eye(2)]], [1.0], tol=1e-8)
    assert abs(r.objective - 0.5) <= 1e-6


def test_sdp_from_matrices_errors():
    C = np.eye(2)
    with pytest.raises(ValueError, match="symmetric"):
        mathprog.sdp(np.array([[1.0, 2.0], [0.0, 1.0]]), [C], [1.0])
    with pytest.raises(ValueError, match="does not match"):
        mathprog.sdp(C, [np.eye(3)], [1.0])
    with pytest.raises(ValueError, match="blocks"):
        mathprog.sdp([C, np.ones(2)], [C], [1.0])
    with pytest.raises(ValueError, match="constraint matrices"):
        mathprog.sdp(C, [C, C], [1.0])
    with pytest.raises(ValueError, match="NaN"):
        mathprog.sdp(C, [C], [np.inf])
    with pytest.raises(ValueError, match="give C, A and b"):
        mathprog.sdp(C)
