"""QUBO and the dimod sampler: exact answers on small instances (iteration limits, not the
clock), dimod's own sampler tests."""
import itertools
import unittest

import numpy as np
import pytest

import mathprog


def brute_qubo(Q):
    n = Q.shape[0]
    return min(float(np.array(x) @ Q @ np.array(x)) for x in itertools.product((0, 1), repeat=n))


@pytest.mark.parametrize("seed", range(5))
def test_qubo_matches_brute_force(seed):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(8, 8))
    Q = (A + A.T) / 2
    r = mathprog.qubo(Q, max_iter=100, time_limit=None, seed=seed)
    x = np.array(r.solution)
    assert set(x.tolist()) <= {0, 1}
    assert abs(float(x @ Q @ x) - r.objective) <= 1e-9
    assert abs(r.objective - brute_qubo(Q)) <= 1e-9


def test_qubo_errors():
    with pytest.raises(ValueError, match="symmetric"):
        mathprog.qubo([[0, 1], [0, 0]])
    with pytest.raises(ValueError, match="NaN"):
        mathprog.qubo([[np.nan, 0], [0, 0]])


@pytest.mark.parametrize("name", ["ms_n20_m120_s5.cnf", "pms_n20_h50_s60_s2.wcnf",
                                  "wpms_n20_h40_s80_s1.wcnf"])
def test_maxsat_reaches_the_proven_optima(name):
    import json
    import os
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    optimal = json.load(open(os.path.join(root, "data", "maxsat", "optimal.json")))[name]
    r = mathprog.maxsat(os.path.join(root, "data", "maxsat", name), time_limit=None,
                        max_iter=300, seed=1)
    assert r.maxsat["hard_violated"] == 0
    assert r.maxsat["cost"] == optimal
    with pytest.raises(FileNotFoundError):
        mathprog.maxsat(os.path.join(root, "data", "maxsat", "missing.cnf"))


def test_games_closed_forms():
    rps = np.array([[0, 1, -1], [-1, 0, 1], [1, -1, 0.0]])
    r = mathprog.game(rps, gap_tol=1e-8)
    assert r.status == "converged"
    assert r.solution["lower"] - 1e-8 <= 0.0 <= r.solution["upper"] + 1e-8
    assert np.allclose(r.solution["x"], 1 / 3, atol=1e-6)
    # A saddle point: the value is A[0, 1] = 2.
    r = mathprog.game(np.array([[3.0, 2.0], [4.0, 1.0]]).T, gap_tol=1e-9)
    assert abs(r.solution["upper"] - 2.0) <= 1e-8 and abs(r.solution["lower"] - 2.0) <= 1e-8
    with pytest.raises(ValueError, match="NaN"):
        mathprog.game(np.array([[np.nan]]))


dimod = pytest.importorskip("dimod")
from mathprog.dimod import MCPGSampler  # noqa: E402


@pytest.mark.parametrize("seed", range(5))
def test_sampler_matches_exact_solver(seed):
    rng = np.random.default_rng(seed)
    h = {v: float(rng.normal()) for v in "abcdefg"}
    J = {(u, v): float(rng.normal()) for u, v in itertools.combinations("abcdefg", 2) if rng.random() < 0.5}
    ours = MCPGSampler().sample_ising(h, J, time_limit=None, max_iter=100, seed=seed)
    exact = dimod.ExactSolver().sample_ising(h, J)
    assert abs(ours.first.energy - exact.first.energy) <= 1e-9
    bqm = dimod.BQM.from_ising(h, J)
    assert abs(bqm.energy(ours.first.sample) - ours.first.energy) <= 1e-9
    q = MCPGSampler().sample_qubo(bqm.to_qubo()[0], time_limit=None, max_iter=100, num_reads=2)
    assert len(q) == 2 and q.vartype is dimod.BINARY


@dimod.testing.load_sampler_bqm_tests(lambda: MCPGSampler())
class TestSamplerApi(unittest.TestCase):
    def test_api(self):
        dimod.testing.assert_sampler_api(MCPGSampler())


def test_ctrl_c_returns_the_best_so_far():
    import os
    import signal
    import threading
    import time

    rng = np.random.default_rng(0)
    A = np.triu(rng.random((400, 400)) < 0.05, 1).astype(float)
    W = A + A.T
    # Python's own Ctrl-C handler (a process started in the background by a shell inherits
    # SIGINT ignored, and then Python installs none).
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
        t = time.perf_counter()
        r = mathprog.maxcut(W, time_limit=60.0, stall_rounds=None)
    finally:
        signal.signal(signal.SIGINT, previous)
    assert time.perf_counter() - t < 20.0
    assert r.status == "interrupted"
    assert r.objective > 0 and len(r.solution) == 400


def brute_maxsat(soft, weights, hard, n):
    """Least weight of false soft clauses over assignments meeting every hard clause."""
    best = None
    for x in itertools.product((False, True), repeat=n):
        sat = lambda c: any(x[abs(l) - 1] == (l > 0) for l in c)  # noqa: E731
        if all(sat(c) for c in hard):
            cost = sum(w for c, w in zip(soft, weights) if not sat(c))
            best = cost if best is None else min(best, cost)
    return best


@pytest.mark.parametrize("seed", range(4))
def test_maxsat_clause_lists_match_brute_force(seed):
    rng = np.random.default_rng(seed)
    n = 8
    clause = lambda: [int(v) * int(rng.choice([-1, 1])) for v in  # noqa: E731
                      rng.choice(np.arange(1, n + 1), size=int(rng.integers(1, 4)), replace=False)]
    soft = [clause() for _ in range(30)]
    weights = [int(w) for w in rng.integers(1, 10, size=30)]
    hard = [clause() for _ in range(4)]
    r = mathprog.maxsat(soft, weights, hard=hard, num_vars=n, max_iter=100, time_limit=None,
                        seed=seed)
    assert r.maxsat["hard_violated"] == 0
    assert r.maxsat["cost"] == brute_maxsat(soft, weights, hard, n)
    # The reported assignment has that cost.
    x = [s > 0 for s in r.solution]
    assert sum(w for c, w in zip(soft, weights)
               if not any(x[abs(l) - 1] == (l > 0) for l in c)) == r.maxsat["cost"]


def test_maxsat_clause_errors_and_pysat_shape():
    with pytest.raises(ValueError, match="non-zero"):
        mathprog.maxsat([[1, 0]])
    with pytest.raises(ValueError, match="positive integers"):
        mathprog.maxsat([[1], [-1]], weights=[1, 0.5])
    with pytest.raises(ValueError, match="weights"):
        mathprog.maxsat([[1], [-1]], weights=[1])
    with pytest.raises(ValueError, match="num_vars"):
        mathprog.maxsat([[1, 5]], num_vars=3)
    with pytest.raises(ValueError, match="no clauses"):
        mathprog.maxsat([])

    class WCNF:  # PySAT's WCNF attributes
        soft, wght, hard = [[1], [2]], [3, 1], [[-1, -2]]
    r = mathprog.maxsat(WCNF(), max_iter=20, time_limit=None)
    assert r.maxsat["cost"] == 1 and r.solution == [1, -1]
