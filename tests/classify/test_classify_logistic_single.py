"""CG's Hessian-vector products in float32 (``_logistic_solvers._Curvature.matvec``).

The products only steer Newton's search directions, so float32 is used where it is safe; the
oracle is the float64 product of ``_logistic_loss`` on the same point (itself checked against
torch's autograd Hessian in ``test_classify_logistic_loss``). Where max|X| is outside
[1e-10, 1e10] float32 could overflow or flush to zero: there the float64 product is used, to
the bit, and a fit on such data still matches scikit-learn through the scaling identity
coef(cX, C) = coef(X, c²C)/c.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression as SkLogistic

from qed.classify import LogisticRegression
from qed.classify import _logistic_loss as L
from qed.classify._logistic_solvers import LogisticProblem


def _problem(seed, n, d, k, scale, sparse):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * scale
    if sparse:
        X = sp.csr_matrix(X * (rng.random((n, d)) < 0.3))
    codes = rng.integers(0, k, n)
    sw = rng.uniform(0.5, 2.0, n)
    return LogisticProblem(X, codes, sw, 0.7, True, k), rng.standard_normal(
        (1 if k == 2 else k, d + 1)
    )


def _float64_product(pb, curv, V):
    if pb.binary:
        return L.binary_hessp(V, pb.X, curv.aux, pb.alpha, pb.fit_intercept)
    return L.multinomial_hessp(V, pb.X, curv.aux, pb.sw, pb.alpha, pb.fit_intercept)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(("k", "sparse"), [(2, False), (3, False), (2, True), (4, True)])
def test_single_products_are_within_float32_rounding_of_float64(seed, k, sparse):
    pb, V = _problem(seed, 3000, 20, k, 1.0, sparse)
    curv = pb(np.zeros_like(V) + 0.1)[2]
    assert pb.single_is_safe()  # the float32 path is the one measured
    want = _float64_product(pb, curv, V)
    got = curv.matvec(V)
    assert got.dtype == np.float64
    assert np.abs(got - want).max() <= 1e-5 * np.abs(want).max()


@pytest.mark.parametrize("scale", [1e12, 1e-12])
@pytest.mark.parametrize(("k", "sparse"), [(2, False), (3, False), (2, True), (4, True)])
def test_extreme_scales_keep_float64_products(scale, k, sparse):
    pb, V = _problem(3, 500, 6, k, scale, sparse)
    curv = pb(np.zeros_like(V))[2]
    assert not pb.single_is_safe()
    np.testing.assert_array_equal(curv.matvec(V), _float64_product(pb, curv, V))
    assert np.isfinite(curv.preconditioner()(V)).all()


@pytest.mark.parametrize("seed", [0, 1])
def test_cg_fit_with_single_products_equals_sklearn_dense_softmax(seed):
    """20,000 × 30, three classes: enough rows × parameters that Newton takes the CG path
    (with float32 products); the answer is the float64 optimum all the same."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((20_000, 30))
    y = (X[:, :3] @ rng.standard_normal((3, 3)) + rng.gumbel(size=(20_000, 3))).argmax(axis=1)
    ours = LogisticRegression(C=0.5, tol=1e-10).fit(X, y)
    ref = SkLogistic(C=0.5, tol=1e-12, max_iter=10_000, solver="newton-cholesky").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
def test_cg_fit_with_single_products_equals_sklearn_sparse_binary(seed):
    rng = np.random.default_rng(seed)
    X = sp.random(5_000, 3_000, density=0.01, format="csr", random_state=seed)
    y = (X @ rng.standard_normal(3_000) + 0.3 * rng.logistic(size=5_000) > 0).astype(int)
    ours = LogisticRegression(C=2.0, tol=1e-10).fit(X, y)
    ref = SkLogistic(C=2.0, tol=1e-12, max_iter=10_000, solver="newton-cg").fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-7, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, rtol=1e-7, atol=1e-8)


def test_nearly_flat_direction_switches_to_float64_products(monkeypatch):
    """Two features equal to 1e-6 and C = 1e8: float32 products leave Newton crawling along
    the nearly flat direction until a full step is rejected; from then on the products are
    float64, and the answer matches the float64-only fit."""
    import qed.classify._logistic_solvers as solvers

    rng = np.random.default_rng(0)
    n, d = 40_000, 50
    X = rng.standard_normal((n, d))
    X[:, 1] = X[:, 0] + 1e-6 * rng.standard_normal(n)
    X[:, 2] = X[:, 3] * 100 + 1e-3 * rng.standard_normal(n)
    rng.standard_normal((6, 2)), rng.gumbel(size=(n, 2))  # the draw that showed it
    y = (X[:, :6] @ rng.standard_normal((6, 4)) + rng.gumbel(size=(n, 4))).argmax(1)
    switched = []
    real = solvers.LogisticProblem.exact_products

    def spy(self):
        switched.append(len(self.y))
        real(self)

    monkeypatch.setattr(solvers.LogisticProblem, "exact_products", spy)
    ours = LogisticRegression(C=1e8, tol=1e-8).fit(X, y)
    assert n in switched
    monkeypatch.setattr(solvers, "SINGLE_MAX_ABS", 0.0)  # float64 products throughout
    ref = LogisticRegression(C=1e8, tol=1e-8).fit(X, y)
    scale = np.abs(ref.coef_).max()
    assert np.abs(ours.coef_ - ref.coef_).max() <= 1e-5 * scale
    assert ours.certificate(X, y).holds
