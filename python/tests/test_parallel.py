"""Batches of instances in other processes: concurrent.futures and a local Dask cluster."""
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pytest

import mathprog


def ring(n):
    W = np.zeros((n, n))
    for i in range(n):
        W[i, (i + 1) % n] = W[(i + 1) % n, i] = 1.0
    return W


def solve_ring(n):
    return mathprog.maxcut_sdp(ring(n), tol=1e-6, seed=5)


def test_process_pool_results_equal_in_process_ones():
    sizes = [5, 7, 9, 11]
    with ProcessPoolExecutor(2) as ex:
        remote = list(ex.map(solve_ring, sizes))
    for n, r in zip(sizes, remote):
        local = solve_ring(n)
        assert (r.objective, r.bound, r.status) == (local.objective, local.bound, local.status)


def test_dask_local_cluster():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        # (Functions of the installed package travel by reference; this test module is not
        # importable in the workers.)
        futures = client.map(mathprog.maxcut_sdp, [ring(n) for n in (5, 7, 9)], tol=1e-6)
        results = client.gather(futures)
    for n, r in zip([5, 7, 9], results):
        want = n / 2 * (1 + np.cos(np.pi / n))
        assert r.status == "converged" and abs(r.objective - want) <= 1e-5 * want
