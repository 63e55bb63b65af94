"""Property-based robustness (issue 8): random shapes, scales from 1e-8 to 1e8, duplicated
rows and columns, constant columns. Valid input never raises an undocumented exception and
never yields NaN or inf; results are invariant where the mathematics says so."""

from __future__ import annotations

import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qed import info
from qed.classify import LogisticRegression
from qed.linear import KernelRidge, LinearRegression, Ridge

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def design(draw, min_rows=3):
    n = draw(st.integers(min_rows, 40))
    d = draw(st.integers(1, 6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * 10.0 ** draw(st.integers(-8, 8))
    if d > 1 and draw(st.booleans()):
        X[:, -1] = X[:, 0]  # duplicated column
    if draw(st.booleans()):
        X[:, 0] = draw(st.floats(-1e3, 1e3))  # constant column
    if n > 3 and draw(st.booleans()):
        X[1] = X[0]  # duplicated row
    y = rng.standard_normal(n) * 10.0 ** draw(st.integers(-4, 4))
    return X, y, rng


def _quiet(fn):
    with warnings.catch_warnings():
        # rank deficiency and convergence warnings are documented outcomes here
        warnings.simplefilter("ignore", UserWarning)
        return fn()


@SETTINGS
@given(design())
def test_linear_models_give_finite_outputs_on_awkward_designs(data):
    X, y, _ = data
    for model in (LinearRegression(), Ridge(alpha=1.0), KernelRidge(alpha=1.0, kernel="rbf")):
        fitted = _quiet(lambda m=model: m.fit(X, y))
        pred = fitted.predict(X)
        assert pred.shape == y.shape and np.all(np.isfinite(pred))


@SETTINGS
@given(design(min_rows=4))
def test_ols_is_invariant_under_row_permutation(data):
    X, y, rng = data
    perm = rng.permutation(len(y))
    a = _quiet(lambda: LinearRegression().fit(X, y))
    b = _quiet(lambda: LinearRegression().fit(X[perm], y[perm]))
    scale = np.abs(y).max() + 1e-300
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=1e-6 * scale)


@SETTINGS
@given(design(min_rows=4), st.integers(-6, 6))
def test_ridge_is_invariant_under_row_permutation_and_finite(data, log_alpha):
    X, y, rng = data
    perm = rng.permutation(len(y))
    alpha = 10.0**log_alpha
    a = Ridge(alpha=alpha).fit(X, y)
    b = Ridge(alpha=alpha).fit(X[perm], y[perm])
    assert np.all(np.isfinite(a.coef_))
    np.testing.assert_allclose(
        a.predict(X), b.predict(X), atol=1e-6 * (np.abs(y).max() + 1e-300), rtol=1e-6
    )


@SETTINGS
@given(design(min_rows=6))
def test_logistic_probabilities_are_finite_and_normalised(data):
    X, _, rng = data
    y = np.arange(len(X)) % 2
    rng.shuffle(y)
    model = _quiet(lambda: LogisticRegression(C=1.0, max_iter=200).fit(X, y))
    proba = model.predict_proba(X)
    assert np.all(np.isfinite(proba)) and np.allclose(proba.sum(axis=1), 1.0)


@SETTINGS
@given(st.integers(1, 30), st.integers(0, 2**32 - 1), st.integers(-300, 0))
def test_information_measures_finite_for_tiny_probabilities(k, seed, log_min):
    rng = np.random.default_rng(seed)
    p = rng.random(k) * 10.0 ** rng.integers(log_min, 1, size=k)
    p /= p.sum()
    q = rng.random(k) + 1e-300
    q /= q.sum()
    for value in (info.entropy(p), info.kl_divergence(p, q), info.cross_entropy(p, q)):
        assert np.isfinite(value) and value >= 0
