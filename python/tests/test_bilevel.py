"""mathprog.bilevel: the built-in problems against their closed forms and the ridge tuning
against a grid search, and the errors."""
import numpy as np
import pytest

from mathprog import bilevel


@pytest.mark.parametrize("method", ["penalty", "aid"])
@pytest.mark.parametrize("seed", [1, 2])
def test_quadratic_reaches_the_closed_form(method, seed):
    r = bilevel.quadratic(4, 6, seed=seed, method=method, max_iter=5000)
    assert r.status == "converged"
    # The penalty solution is sigma-biased (closed form); AID solves the bilevel problem.
    bound = 2 * r.stats["penalty_bias"] + 1e-5 if method == "penalty" else 1e-4
    assert r.stats["x_star_distance"] <= bound
    assert r.residuals["stationarity"] <= 1e-6


def test_nonunique_lower_level():
    r = bilevel.nonunique(6, seed=3, max_iter=5000)
    assert r.status == "converged" and r.stats["x_star_distance"] <= 1e-3
    np.testing.assert_allclose(r.solution["x"], np.ones(6), atol=1e-3)


def ridge_data(seed, n=80, d=10):
    rng = np.random.default_rng(seed)
    w = rng.normal(size=d)
    X, Xv = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    return X, X @ w + 2 * rng.normal(size=n), Xv, Xv @ w + 2 * rng.normal(size=n)


def val_loss(X, y, Xv, yv, lam):
    n, d = X.shape
    w = np.linalg.solve(X.T @ X / n + lam * np.eye(d), X.T @ y / n)
    return np.sum((Xv @ w - yv) ** 2) / (2 * len(yv)), w


@pytest.mark.parametrize("seed", [0, 1])
def test_ridge_is_no_worse_than_a_grid(seed):
    X, y, Xv, yv = ridge_data(seed)
    r = bilevel.ridge(X, y, Xv, yv, max_iter=20000)
    lam = r.stats["lambda"]
    ours, w = val_loss(X, y, Xv, yv, lam)
    assert abs(ours - r.stats["validation_loss"]) <= 1e-8
    np.testing.assert_allclose(r.solution["z"], w, atol=1e-4)
    grid = min(val_loss(X, y, Xv, yv, g)[0] for g in np.logspace(-6, 3, 400))
    assert ours <= grid + 1e-6


def test_hyperclean_flags_flipped_labels():
    rng = np.random.default_rng(4)
    d, n = 10, 300
    w = rng.normal(size=d)
    X, Xv = rng.normal(size=(n, d)), rng.normal(size=(200, d))
    y, yv = np.sign(X @ w), np.sign(Xv @ w)
    flipped = rng.random(n) < 0.3
    y[flipped] *= -1
    r = bilevel.hyperclean(X, (y + 1) / 2, Xv, (yv + 1) / 2, max_iter=300)  # 0/1 labels
    flagged = np.array(r.stats["flagged"])
    assert flagged.size == n and r.stats["flagged_samples"] == flagged.sum()
    precision = (flagged & flipped).sum() / max(flagged.sum(), 1)
    recall = (flagged & flipped).sum() / flipped.sum()
    assert precision >= 0.8 and recall >= 0.5, (precision, recall)


def test_errors():
    X, y, Xv, yv = ridge_data(0)
    with pytest.raises(ValueError, match="features"):
        bilevel.ridge(X, y, Xv[:, :5], yv)
    with pytest.raises(ValueError, match="NaN"):
        bilevel.ridge(X, np.full_like(y, np.nan), Xv, yv)
    with pytest.raises(ValueError, match="method"):
        bilevel.quadratic(method="newton")
    with pytest.raises(ValueError, match="binary"):
        bilevel.hyperclean(X, np.arange(len(y)), Xv, np.sign(yv))
    with pytest.raises(ValueError, match="sigma"):
        bilevel.quadratic(sigma=-1.0)
