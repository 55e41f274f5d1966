"""POT-compatible entropic OT: against POT when it is installed, and on its own terms."""
import numpy as np
import pytest

import mathprog
import mathprog.ot


def problem(n, m, seed):
    rng = np.random.default_rng(seed)
    x, y = rng.random((n, 2)), rng.random((m, 2))
    M = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
    a, b = rng.uniform(0.5, 1.5, n), rng.uniform(0.5, 1.5, m)
    return a / a.sum(), b / b.sum(), M


@pytest.mark.parametrize("method", ["sns", "sinkhorn"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_plan_has_the_marginals_and_the_cost(method, seed):
    a, b, M = problem(40, 30, seed)
    P, log = mathprog.ot.sinkhorn(a, b, M, 0.05, method=method, stopThr=1e-10, log=True)
    assert P.shape == (40, 30) and np.all(P >= 0)
    assert np.abs(P.sum(1) - a).sum() + np.abs(P.sum(0) - b).sum() <= 1e-9
    assert log["status"] == "converged" and log["marginal_l1"] <= 1e-10
    cost = mathprog.ot.sinkhorn2(a, b, M, 0.05, method=method, stopThr=1e-10)
    assert abs(cost - float((M * P).sum())) <= 1e-12
    # Weak duality: the dual value bounds the regularised cost of the plan from below.
    reg_cost = float((M * P).sum() + 0.05 * (P * (np.log(P) - 1)).sum())
    assert log["dual_value"] <= reg_cost + 1e-9


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_agrees_with_pot(seed):
    ot = pytest.importorskip("ot")
    a, b, M = problem(50, 60, seed)
    ours = mathprog.ot.sinkhorn(a, b, M, 0.1, stopThr=1e-12)
    pots = ot.sinkhorn(a, b, M, 0.1, stopThr=1e-12, numItermax=100000)
    assert np.abs(ours - pots).max() <= 1e-8
    assert abs(mathprog.ot.sinkhorn2(a, b, M, 0.1, stopThr=1e-12)
               - ot.sinkhorn2(a, b, M, 0.1, stopThr=1e-12, numItermax=100000)) <= 1e-9


def test_uniform_marginals_from_empty_lists():
    _, _, M = problem(20, 25, 4)
    P = mathprog.ot.sinkhorn([], [], M, 0.1)
    assert np.allclose(P.sum(1), 1 / 20, atol=1e-9) and np.allclose(P.sum(0), 1 / 25, atol=1e-9)


def test_errors():
    a, b, M = problem(5, 6, 0)
    with pytest.raises(ValueError, match="shape"):
        mathprog.ot.sinkhorn(a, b, M.T, 0.1)
    with pytest.raises(ValueError, match="method"):
        mathprog.ot.sinkhorn(a, b, M, 0.1, method="greenkhorn")
    with pytest.raises(ValueError, match="reg"):
        mathprog.ot.sinkhorn(a, b, M, -1.0)
    with pytest.raises(TypeError):
        mathprog.ot.sinkhorn(a, b, M, 0.1, nonsense=3)
    bad = M.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError):
        mathprog.ot.sinkhorn(a, b, bad, 0.1)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean", "cityblock", "minkowski"])
def test_point_clouds_equal_the_dense_path(metric):
    rng = np.random.default_rng(7)
    X, Y = rng.random((60, 3)), rng.random((45, 3))
    a, b = rng.uniform(0.5, 1.5, 60), rng.uniform(0.5, 1.5, 45)
    a, b = a / a.sum(), b / b.sum()
    p = {"minkowski": 3.0, "cityblock": 1.0}.get(metric, 2.0)
    D = (np.abs(X[:, None, :] - Y[None, :, :]) ** p).sum(-1)
    M = D if metric == "sqeuclidean" else D ** (1 / p)
    kw = {"p": 3.0} if metric == "minkowski" else {}
    P = mathprog.ot.empirical_sinkhorn(X, Y, 0.05, a, b, metric=metric, stopThr=1e-11, **kw)
    np.testing.assert_allclose(P, mathprog.ot.sinkhorn(a, b, M, 0.05, stopThr=1e-11), atol=1e-12)
    cost, log = mathprog.ot.empirical_sinkhorn2(X, Y, 0.05, a, b, metric=metric, stopThr=1e-11,
                                                log=True, **kw)
    assert abs(cost - float((M * P).sum())) <= 1e-12 and log["marginal_l1"] <= 1e-11


def test_point_clouds_against_pot():
    ot = pytest.importorskip("ot")
    rng = np.random.default_rng(8)
    X, Y = rng.random((80, 2)), rng.random((50, 2))
    P = mathprog.ot.empirical_sinkhorn(X, Y, 0.05, stopThr=1e-12)
    Q = ot.bregman.empirical_sinkhorn(X, Y, 0.05, numIterMax=100000, stopThr=1e-13)
    assert np.abs(P - Q).max() <= 1e-9
    c = ot.bregman.empirical_sinkhorn2(X, Y, 0.05, numIterMax=100000, stopThr=1e-13)
    assert abs(mathprog.ot.empirical_sinkhorn2(X, Y, 0.05, stopThr=1e-12) - float(c)) <= 1e-9


def test_point_cloud_errors():
    X = np.zeros((3, 2))
    with pytest.raises(ValueError, match="metric"):
        mathprog.ot.empirical_sinkhorn(X, X, 0.1, metric="cosine")
    with pytest.raises(ValueError, match=r"\(n, d\)"):
        mathprog.ot.empirical_sinkhorn(X, np.zeros((3, 4)), 0.1)
    with pytest.raises(ValueError, match="NaN"):
        mathprog.ot.empirical_sinkhorn(np.full((3, 2), np.nan), X, 0.1)
    with pytest.raises(ValueError, match="isLazy"):
        mathprog.ot.empirical_sinkhorn(X, X, 0.1, isLazy=True)


@pytest.mark.parametrize("metric", ["sqeuclidean", "euclidean"])
def test_online_point_clouds_equal_the_dense_path(metric):
    rng = np.random.default_rng(11)
    X, Y = rng.random((300, 2)), rng.random((250, 2))
    dense = mathprog.ot.empirical_sinkhorn(X, Y, 0.01, metric=metric, stopThr=1e-10)
    P, log = mathprog.ot.empirical_sinkhorn(X, Y, 0.01, metric=metric, stopThr=1e-10,
                                            online=True, log=True)
    assert log["report"]["algorithm"] == "sns-online" and log["marginal_l1"] <= 1e-10
    np.testing.assert_allclose(P, dense, atol=1e-9)
    c = mathprog.ot.empirical_sinkhorn2(X, Y, 0.01, metric=metric, stopThr=1e-10, online=True)
    assert abs(c - float((P * ((np.abs(X[:, None] - Y[None]) ** 2).sum(-1) ** (
        1.0 if metric == "sqeuclidean" else 0.5))).sum())) <= 1e-9
