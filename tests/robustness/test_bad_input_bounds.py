"""Bad input for certificates and their bounds: an unfitted model, data with another number of
features, a model fitted with sample weights certified without them — each a clear error
that names the problem and the fix (LinearRegression, Ridge, KernelRidge, LogisticRegression,
LogisticRegressionCV, BetaBernoulli)."""

from __future__ import annotations

import numpy as np
import pytest

from qed.base import NotFittedError
from qed.bayes import BetaBernoulli
from qed.classify import LogisticRegression, LogisticRegressionCV
from qed.linear import KernelRidge, LinearRegression, Ridge

MODELS = [
    LinearRegression(),
    Ridge(alpha=2.0),
    KernelRidge(alpha=1.0, kernel="rbf"),
    LogisticRegression(),
    LogisticRegressionCV(Cs=3, cv=3),
]


def _data(model, n=60, d=3):
    rng = np.random.default_rng(11)
    X = rng.normal(size=(n, d))
    y = X @ rng.normal(size=d) + 0.3 * rng.normal(size=n)
    if isinstance(model, (LogisticRegression, LogisticRegressionCV)):
        y = (y > 0).astype(int)
    return X, y, rng.uniform(0.5, 2.0, size=n)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_unfitted_model_has_no_certificate(model):
    X, y, _ = _data(model)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        model.certificate(X, y)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_other_number_of_features_is_named(model):
    X, y, _ = _data(model)
    model.fit(X, y)
    with pytest.raises(ValueError, match=r"4 features|features.*4|4.*features|training samples"):
        model.certificate(np.column_stack([X, X[:, 0]]), y)


@pytest.mark.parametrize("model", MODELS, ids=lambda m: type(m).__name__)
def test_weighted_fit_certified_without_weights_is_refused(model):
    X, y, w = _data(model)
    model.fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match=r"fitted with sample_weight.*sample_weight=w"):
        model.certificate(X, y)
    cert = model.certificate(X, y, sample_weight=w)  # the same problem: holds, with bounds
    assert cert.holds and np.isfinite(cert.bounds["distance"])
    # uniform unit weights are no weights: nothing to refuse
    model.fit(X, y, sample_weight=np.ones(len(y)))
    assert model.certificate(X, y).holds


def test_streamed_weights_are_remembered():
    X, y, w = _data(Ridge())
    model = Ridge().partial_fit(X[:30], y[:30], sample_weight=w[:30])
    model.partial_fit(X[30:], y[30:])
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        model.certificate(X, y)


def test_ridge_cv_loo_check_needs_the_fit_weights():
    from qed.linear import RidgeCV

    X, y, w = _data(Ridge())
    model = RidgeCV().fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        model.certificate(X, y)
    assert model.certificate(X, y, sample_weight=w).holds
    assert model.certificate().holds  # the statistics carry the weights themselves


def test_beta_bernoulli_certificate_needs_a_fit():
    with pytest.raises(NotFittedError, match="not fitted yet"):
        BetaBernoulli().certificate()
