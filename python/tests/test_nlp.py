"""mathprog.nlp.minimize against closed forms (KKT-constructed QPs, a sphere), across SciPy's
ways of giving derivatives and constraints, and its errors."""
import pickle

import numpy as np
import pytest

from mathprog.nlp import minimize


def kkt_qp(n, m, seed):
    """``min x^T Q x / 2 + c^T x s.t. A x = b`` and its solution from the KKT system."""
    rng = np.random.default_rng(seed)
    R = rng.normal(size=(n, n))
    Q = R @ R.T + np.eye(n)
    c, A, b = rng.normal(size=n), rng.normal(size=(m, n)), rng.normal(size=m)
    K = np.block([[Q, A.T], [A, np.zeros((m, m))]])
    sol = np.linalg.solve(K, np.concatenate([-c, b]))
    return Q, c, A, b, sol[:n], sol[n:]


DERIVATIVES = {
    "jac+hess": dict(jac=lambda Q, c: (lambda x: Q @ x + c), hess=lambda Q, c: (lambda x: Q)),
    "jac+hessp": dict(jac=lambda Q, c: (lambda x: Q @ x + c),
                      hessp=lambda Q, c: (lambda x, p: Q @ p)),
    "jac only": dict(jac=lambda Q, c: (lambda x: Q @ x + c)),
    "jac=True": dict(jac=lambda Q, c: True),
    "none": dict(),
}


@pytest.mark.parametrize("how", sorted(DERIVATIVES))
@pytest.mark.parametrize("seed", [1, 2])
def test_qp_matches_kkt_solution(how, seed):
    n, m = 8, 3
    Q, c, A, b, x_star, lam_star = kkt_qp(n, m, seed)
    kw = {k: v(Q, c) for k, v in DERIVATIVES[how].items()}
    fun = (lambda x: (0.5 * x @ Q @ x + c @ x, Q @ x + c)) if how == "jac=True" else \
        (lambda x: 0.5 * x @ Q @ x + c @ x)
    cons = {"type": "eq", "fun": lambda x: A @ x - b, "jac": lambda x: A}
    r = minimize(fun, np.zeros(n), constraints=cons, **kw, max_iter=200)
    assert r.success, r.message
    np.testing.assert_allclose(r.x, x_star, atol=1e-6)
    # Our multipliers: grad f + A^T lambda = 0, the KKT system's lambda.
    np.testing.assert_allclose(r.multipliers, lam_star, atol=1e-5)
    assert abs(r.fun - (0.5 * x_star @ Q @ x_star + c @ x_star)) < 1e-8


def test_sphere_closed_form_with_scipy_constraint_objects():
    from scipy.optimize import LinearConstraint, NonlinearConstraint
    rng = np.random.default_rng(3)
    c = rng.normal(size=5)
    # min c^T x on the unit sphere: x* = -c/|c|, value -|c|.
    sphere = NonlinearConstraint(lambda x: x @ x, 1.0, 1.0, jac=lambda x: 2 * x[None, :],
                                 hess=lambda x, v: 2 * v[0] * np.eye(5))
    r = minimize(lambda x: c @ x, np.ones(5) / np.sqrt(5), jac=lambda x: c,
                 hess=lambda x: np.zeros((5, 5)), constraints=[sphere])
    assert r.success and r.stats["kkt_solver"] == "direct"
    np.testing.assert_allclose(r.x, -c / np.linalg.norm(c), atol=1e-7)
    # The same without constraint Hessians (finite-difference products, projected CG), and a
    # LinearConstraint that the solution already meets: sum x = sum x*.
    s = float(np.sum(-c / np.linalg.norm(c)))
    # (From ones/sqrt(5) the two Jacobian rows would be parallel: a rank-deficient start.)
    r2 = minimize(lambda x: c @ x, rng.normal(size=5), jac=lambda x: c,
                  constraints=[NonlinearConstraint(lambda x: x @ x, 1.0, 1.0),
                               LinearConstraint(np.ones((1, 5)), s, s)])
    assert r2.success and r2.stats["kkt_solver"] == "cg"
    np.testing.assert_allclose(r2.x, r.x, atol=1e-6)


def test_rosenbrock_hs6_and_unconstrained():
    # HS6: min (1 - x0)^2 s.t. 10 (x1 - x0^2) = 0, x* = (1, 1).
    r = minimize(lambda x: (1 - x[0]) ** 2, [-1.2, 1.0],
                 constraints={"type": "eq", "fun": lambda x: [10 * (x[1] - x[0] ** 2)]})
    assert r.success
    np.testing.assert_allclose(r.x, [1, 1], atol=1e-6)
    from scipy.optimize import rosen, rosen_der, rosen_hess
    r = minimize(rosen, np.zeros(4), jac=rosen_der, hess=rosen_hess)
    assert r.success and r.nit > 1
    np.testing.assert_allclose(r.x, np.ones(4), atol=1e-6)


def test_args_options_pickle():
    r = minimize(lambda x, a: (x[0] - a) ** 2 + x[1] ** 2, [0.0, 0.0], args=(3.0,),
                 constraints={"type": "eq", "fun": lambda x, s: [x[0] + x[1] - s], "args": (1.0,)},
                 options={"maxiter": 50})
    # min (x0 - 3)^2 + x1^2 on x0 + x1 = 1: x = (2.5, -1.5)... at x0 = (3 + 1)/2 = 2, x1 = -1.
    np.testing.assert_allclose(r.x, [2.0, -1.0], atol=1e-7)
    r2 = pickle.loads(pickle.dumps(r))
    np.testing.assert_array_equal(r2.x, r.x)
    assert r2.success and r2.report == r.report


class Boom(Exception):
    pass


def test_errors():
    eq = {"type": "eq", "fun": lambda x: [x[0] - 1]}
    with pytest.raises(ValueError, match="equality constraints only"):
        minimize(lambda x: x @ x, [1.0, 2.0], constraints={"type": "ineq", "fun": lambda x: x})
    with pytest.raises(ValueError, match="bounds"):
        minimize(lambda x: x @ x, [1.0, 2.0], bounds=[(0, 1), (0, 1)], constraints=eq)
    with pytest.raises(ValueError, match="x0"):
        minimize(lambda x: x @ x, [np.nan, 2.0], constraints=eq)
    from scipy.optimize import NonlinearConstraint
    with pytest.raises(ValueError, match="lb == ub"):
        minimize(lambda x: x @ x, [1.0, 2.0], constraints=NonlinearConstraint(sum, 0, 1))

    def bad(x):
        if x[0] > 1.5:
            raise Boom("from the user's function")
        return x @ x
    with pytest.raises(Boom):
        minimize(bad, [1.0, 2.0], jac=lambda x: 2 * x, constraints={"type": "eq", "fun": lambda x: [x[0] - 2]})
    with pytest.raises(ValueError, match="returned 3 values, expected 2"):
        minimize(lambda x: x @ x, [1.0, 2.0], jac=lambda x: np.ones(3), constraints=eq)
    with pytest.raises(ValueError, match="shape"):
        minimize(lambda x: x @ x, [1.0, 2.0], jac=lambda x: 2 * x,
                 constraints={"type": "eq", "fun": lambda x: [x[0] - 1], "jac": lambda x: np.eye(2)})
    with pytest.raises(ValueError, match="kkt"):
        minimize(lambda x: x @ x, [1.0, 2.0], constraints=eq, kkt="direct")
