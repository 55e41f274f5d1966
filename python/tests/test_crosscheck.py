"""The Python package gives the Rust library's answers: the same instance, seed and iteration
budget through ``mathprog`` and through the ``solve`` binary (built from the same sources)
must give the same solution and objective.

The binary is ``$MATHPROG_SOLVE``, else the newer of ``target/release/solve`` and
``target/debug/solve`` in the repository (``cargo build -p mathprog-cli`` or any ``cargo test
--workspace`` builds it); without one these tests skip, saying so."""
import json
import os
import subprocess

import numpy as np
import pytest

import mathprog
from mathprog import bilevel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _binary():
    env = os.environ.get("MATHPROG_SOLVE")
    if env:
        return env
    found = [p for p in (os.path.join(ROOT, "target", d, "solve") for d in ("release", "debug"))
             if os.path.exists(p)]
    return max(found, key=os.path.getmtime) if found else None


SOLVE = _binary()
pytestmark = pytest.mark.skipif(
    SOLVE is None, reason="no `solve` binary (cargo build -p mathprog-cli) to compare against")


def cli(*args):
    out = subprocess.run([SOLVE, *map(str, args), "--json"], capture_output=True, text=True,
                         timeout=300)
    assert out.returncode in (0, 2), out.stderr  # 2: ran, but no proven answer
    return json.loads(out.stdout)


def gset(path):
    """A Gset-format graph as a dense weight matrix."""
    with open(path) as f:
        n, _ = map(int, f.readline().split())
        W = np.zeros((n, n))
        for line in f:
            u, v, w = line.split()
            W[int(u) - 1, int(v) - 1] = W[int(v) - 1, int(u) - 1] = float(w)
    return W


@pytest.mark.parametrize("seed,threads", [(3, 1), (11, 2)])
def test_maxcut_equals_the_cli(seed, threads):
    path = os.path.join(ROOT, "data", "maxcut", "er_n20_p50_pm1_s1.txt")
    want = cli("maxcut", path, "--seed", seed, "--max-rounds", 15, "--threads", 2)
    got = mathprog.maxcut(gset(path), seed=seed, max_iter=15, threads=threads, time_limit=None)
    assert got.solution == want["solution"]
    assert got.objective == want["objective"]
    assert got.iterations == want["iterations"]


def test_maxsat_equals_the_cli():
    path = os.path.join(ROOT, "data", "maxsat", "wpms_n20_h40_s80_s1.wcnf")
    want = cli("maxsat", path, "--seed", 5, "--max-rounds", 10)
    got = mathprog.maxsat(path, seed=5, max_iter=10, time_limit=None)
    assert got.solution == want["solution"]
    assert got.objective == want["objective"]
    # The same instance from clause lists (weights 400 mark hard clauses: the file's top).
    with open(path) as f:
        top = int(f.readline().split()[4])
        rows = [list(map(int, line.split()[:-1])) for line in f if line.strip()]
    soft = [r[1:] for r in rows if r[0] != top]
    w = [r[0] for r in rows if r[0] != top]
    hard = [r[1:] for r in rows if r[0] == top]
    mem = mathprog.maxsat(soft, w, hard=hard, num_vars=20, seed=5, max_iter=10, time_limit=None)
    assert mem.maxsat == got.maxsat


def test_sdp_equals_the_cli():
    path = os.path.join(ROOT, "data", "suites", "sdplib", "theta1.dat-s")
    want = cli("sdp", path, "--tol", "1e-7")
    got = mathprog.sdp(path, tol=1e-7)
    assert got.status == want["status"]
    assert got.objective == want["objective"]
    assert got.bound == want["bound"]


def test_bilevel_equals_the_cli():
    want = cli("bilevel", "quadratic", "--seed", 2)
    got = bilevel.quadratic(5, 8, seed=2)
    assert got.solution == want["solution"]
    assert got.stats["x_star_distance"] == want["stats"]["x_star_distance"]


def test_game_equals_the_cli(tmp_path):
    A = np.random.default_rng(4).normal(size=(6, 9))
    path = tmp_path / "game.txt"
    path.write_text("6 9\n" + "\n".join(" ".join(repr(float(v)) for v in row) for row in A) + "\n")
    want = cli("game", path, "--seed", 4)
    got = mathprog.game(A, seed=4)
    assert got.status == want["status"]
    assert got.solution == want["solution"]
