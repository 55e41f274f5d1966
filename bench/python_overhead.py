#!/usr/bin/env python3
"""Python-call overhead on tiny problems (issue 21's bar: below 1 ms): wall time of a call
from Python minus nothing (the solve itself is a few microseconds here), over many calls.

Usage: python3 bench/python_overhead.py [--calls 200] (needs `pip install ./python`)."""
import argparse
import time

import numpy as np

import mathprog
from mathprog.nlp import minimize


def stats(f, calls):
    f()  # warm-up
    ts = []
    for _ in range(calls):
        t = time.perf_counter()
        r = f()
        ts.append(time.perf_counter() - t)
    ts = np.array(ts) * 1e3
    return (f"median {np.median(ts):.3f} ms, p90 {np.percentile(ts, 90):.3f} ms, "
            f"min {ts.min():.3f} ms (solver's own elapsed {r.elapsed * 1e3:.3f} ms)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=200)
    calls = ap.parse_args().calls
    W = np.array([[0.0, 1.0], [1.0, 0.0]])
    cases = {
        "maxcut_sdp, 2 vertices": lambda: mathprog.maxcut_sdp(W, gw_trials=0),
        "maxcut (MCPG), 2 vertices, 1 round": lambda: mathprog.maxcut(W, max_iter=1,
                                                                     time_limit=None),
        "game 2x2": lambda: mathprog.game(W),
        "nlp.minimize, 2 variables": lambda: minimize(
            lambda x: x @ x, [1.0, 0.0], jac=lambda x: 2 * x, hess=lambda x: 2 * np.eye(2),
            constraints={"type": "eq", "fun": lambda x: [x[0] + x[1] - 1],
                         "jac": lambda x: [[1.0, 1.0]]}),
    }
    for name, f in cases.items():
        print(f"{name:<38} {stats(f, calls)}")


if __name__ == "__main__":
    main()
