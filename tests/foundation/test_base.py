"""qed's estimators are scikit-learn estimators: its BaseEstimator and mixins, not a copy."""

import numpy as np
import pytest
import sklearn.base
from sklearn.base import clone

from qed.base import BaseEstimator, RegressorMixin


class Inner(BaseEstimator):
    def __init__(self, k=3):
        self.k = k


class Outer(RegressorMixin, BaseEstimator):
    def __init__(self, alpha=1.0, *, inner=None, solver="auto"):
        self.alpha = alpha
        self.inner = inner
        self.solver = solver

    def fit(self, X, y):
        self.mean_ = np.mean(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.mean_)


def test_bases_are_sklearns_own():
    assert issubclass(BaseEstimator, sklearn.base.BaseEstimator)
    assert RegressorMixin is sklearn.base.RegressorMixin
    assert sklearn.base.is_regressor(Outer())


def test_params_nested_and_set():
    est = Outer(inner=Inner(k=5))
    params = est.get_params()
    assert params["alpha"] == 1.0 and params["inner__k"] == 5
    est.set_params(alpha=2.0, inner__k=7)
    assert est.alpha == 2.0 and est.inner.k == 7
    with pytest.raises(ValueError, match="Invalid parameter 'beta'"):
        est.set_params(beta=1)


def test_repr_shows_non_defaults():
    assert repr(Outer(alpha=3.0)) == "Outer(alpha=3.0)"
    assert repr(Outer()) == "Outer()"


def test_clone():
    est = Outer(alpha=0.1, inner=Inner(2)).fit([[1]], [1.0])
    c = clone(est)
    assert c.alpha == 0.1 and c.inner.k == 2 and c.inner is not est.inner
    assert not hasattr(c, "mean_")
