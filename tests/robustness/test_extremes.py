"""Numerical extremes (issue 8): scaled features, near-collinearity, α → 0, logits ±1000,
probabilities of 1e-300 — finite, correct results and no warnings leaking to the user."""

from __future__ import annotations

import warnings

import mpmath
import numpy as np
import pytest
import torch
from sklearn.linear_model import LinearRegression as SkOLS
from sklearn.linear_model import LogisticRegression as SkLogistic

from qed import info
from qed.autograd import Tensor
from qed.classify import SVC, LogisticRegression
from qed.linear import LinearRegression, Ridge
from qed.nn import functional as F

RNG = np.random.default_rng(7)


@pytest.fixture(autouse=True)
def no_warnings():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        yield


@pytest.mark.parametrize("scale", [1e-8, 1e-3, 1e3, 1e6])
def test_ols_is_equivariant_under_feature_scaling(scale):
    """Unpenalised OLS: scaling X by s scales β by 1/s and leaves predictions unchanged."""
    X = RNG.standard_normal((80, 5))
    y = X @ RNG.standard_normal(5) + 0.1 * RNG.standard_normal(80)
    base = LinearRegression().fit(X, y)
    scaled = LinearRegression().fit(X * scale, y)
    np.testing.assert_allclose(scaled.coef_ * scale, base.coef_, rtol=1e-7)
    np.testing.assert_allclose(scaled.predict(X * scale), base.predict(X), rtol=1e-8, atol=1e-10)
    assert scaled.certificate(X * scale, y).holds


def test_near_collinear_columns_fit_at_least_as_well_as_sklearn():
    """κ(X) ≈ 1e9: our least squares residual is no larger than scikit-learn's (which drops
    the tiny singular value after centring), and everything stays finite."""
    X = RNG.standard_normal((100, 3))
    X = np.c_[X, X[:, 0] + 1e-9 * RNG.standard_normal(100)]
    y = X[:, :3] @ np.array([1.0, 2.0, -1.0]) + 0.01 * RNG.standard_normal(100)
    ref = SkOLS().fit(X, y)
    rss_ref = np.sum((y - ref.predict(X)) ** 2)
    for solver in ("auto", "svd", "qr"):
        ours = LinearRegression(solver=solver).fit(X, y)
        assert np.all(np.isfinite(ours.coef_))
        assert np.sum((y - ours.predict(X)) ** 2) <= rss_ref * (1 + 1e-10)
        np.testing.assert_allclose(ours.predict(X), ref.predict(X), atol=1e-2)


@pytest.mark.parametrize("alpha", [1e-6, 1e-10, 1e-14])
def test_ridge_with_vanishing_alpha_tends_to_ols(alpha):
    X = RNG.standard_normal((50, 4))
    y = X @ np.array([1.0, -1.0, 0.5, 0.0]) + 0.1 * RNG.standard_normal(50)
    ridge = Ridge(alpha=alpha).fit(X, y)
    ols = LinearRegression().fit(X, y)
    np.testing.assert_allclose(ridge.coef_, ols.coef_, rtol=1e-4, atol=1e-8)
    for solver in ("primal", "dual"):
        assert np.all(np.isfinite(Ridge(alpha=alpha, solver=solver).fit(X, y).coef_))


@pytest.mark.parametrize("scale", [1e-8, 1e6])
def test_logistic_probabilities_stay_finite_at_extreme_scales(scale):
    X = RNG.standard_normal((120, 3))
    y = (X[:, 0] + 0.5 * RNG.standard_normal(120) > 0).astype(int)
    model = LogisticRegression(C=1.0).fit(X * scale, y)
    proba = model.predict_proba(X * scale)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)
    ref = SkLogistic(C=1.0, tol=1e-12, max_iter=10_000).fit(X * scale, y)
    np.testing.assert_allclose(proba, ref.predict_proba(X * scale), atol=1e-4)
    far = model.predict_proba(X * scale * 1e3)
    assert np.all(np.isfinite(far)) and np.all((far >= 0) & (far <= 1))


def test_svc_on_tiny_and_huge_features_is_finite():
    X = RNG.standard_normal((40, 2))
    y = np.where(X[:, 0] > 0, 1, -1)
    for scale in (1e-6, 1e6):
        m = SVC(kernel="linear", C=1.0).fit(X * scale, y)
        assert np.all(np.isfinite(m.decision_function(X * scale)))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_logits_of_plus_minus_1000(dtype):
    z = np.array([[1000.0, -1000.0, 0.0], [-1000.0, -1000.0, -1000.0]])
    zt = torch.tensor(z, dtype=dtype)
    npd = np.float32 if dtype == torch.float32 else np.float64
    zq = Tensor(z.astype(npd))
    np.testing.assert_allclose(F.softmax(zq, axis=1).data, torch.softmax(zt, 1).numpy(), atol=0)
    np.testing.assert_allclose(
        F.log_softmax(zq, axis=1).data, torch.log_softmax(zt, 1).numpy(), rtol=1e-6
    )
    target = np.array([1, 2])
    ours = F.cross_entropy(zq, target).data
    ref = torch.nn.functional.cross_entropy(zt, torch.tensor(target)).item()
    assert np.isfinite(ours) and ours == pytest.approx(ref, rel=1e-6)
    s = F.sigmoid(Tensor(np.array([-1000.0, 1000.0], dtype=npd))).data
    assert np.array_equal(s, [0.0, 1.0])


def test_information_measures_at_1e_300():
    """Entries of 1e-300 (and subnormals) against 50-digit mpmath."""
    mpmath.mp.dps = 50
    p = np.array([1e-300, 5e-324, 1.0 - 1e-12, 1e-12 - 1e-300 - 5e-324])
    q = np.array([1e-200, 1e-300, 0.5, 0.5 - 1e-200 - 1e-300])
    exact_h = -sum(mpmath.mpf(x) * mpmath.log(mpmath.mpf(x)) for x in p if x > 0)
    exact_kl = sum(
        mpmath.mpf(a) * mpmath.log(mpmath.mpf(a) / mpmath.mpf(b))
        for a, b in zip(p, q, strict=True)
        if a > 0
    )
    assert info.entropy(p) == pytest.approx(float(exact_h), rel=1e-12)
    assert info.kl_divergence(p, q) == pytest.approx(float(exact_kl), rel=1e-12)
    assert np.isfinite(info.cross_entropy(p, q))


def test_ill_conditioned_dual_ridge_matches_extended_precision():
    """d > n, features ~1e6, duplicated rows, α = 1: κ(XXᵀ + αI) ≈ 1e13. The dual solve must
    still give the exact ridge predictions (here: 60-digit mpmath), whatever the row order."""
    # the example hypothesis found (test_properties.py): rows 0 and 1 are the same sample
    X = np.array(
        [
            [125730.22109339, -132104.8632913, 640422.65044328, 104900.11715304, -535669.37316111],
            [125730.22109339, -132104.8632913, 640422.65044328, 104900.11715304, -535669.37316111],
            [
                -623274.46253735,
                41325.97934724,
                -2325030.77463883,
                -218791.66393255,
                -1245910.94725307,
            ],
            [
                -732267.35470345,
                -544258.98285731,
                -316300.15636915,
                411630.53637413,
                1042513.36944268,
            ],
        ]
    )
    y = np.array([-0.12853466, 1.36646347, -0.66519467, 0.35151007])
    mpmath.mp.dps = 60
    n, d = X.shape
    xbar = [mpmath.fsum(mpmath.mpf(X[i, j]) for i in range(n)) / n for j in range(d)]
    ybar = mpmath.fsum(mpmath.mpf(v) for v in y) / n
    Xc = mpmath.matrix([[mpmath.mpf(X[i, j]) - xbar[j] for j in range(d)] for i in range(n)])
    K = Xc * Xc.T + mpmath.eye(n)
    dual = mpmath.lu_solve(K, mpmath.matrix([mpmath.mpf(v) - ybar for v in y]))
    exact = np.array([float(v + ybar) for v in (Xc * (Xc.T * dual))])
    for order in (np.arange(n), np.arange(n)[::-1]):
        for solver in ("auto", "dual", "primal"):
            pred = Ridge(alpha=1.0, solver=solver).fit(X[order], y[order]).predict(X)
            np.testing.assert_allclose(pred, exact, rtol=1e-9, atol=1e-12)
