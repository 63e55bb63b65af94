"""class_weight and warm_start of LogisticRegression against scikit-learn.

Identity checked: with class weights c_m each sample's loss is scaled by c_{yᵢ}·sᵢ, so the
unique optimum equals scikit-learn's (same objective, same "balanced" weights from
``compute_class_weight`` with the sample weights), and equals a plain fit with
sample_weight = c_{yᵢ}·sᵢ.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression as SkLogistic

from qed.classify import LogisticRegression
from qed.datasets import make_classification

STRICT = pytest.mark.filterwarnings("error::qed._validation.ConvergenceWarning")


def _data(seed, k, n=300, d=5):
    X, y = make_classification(n, d, n_classes=k, class_sep=0.8, random_state=seed)
    y = np.where(np.arange(n) % 5 == 0, 0, y)  # unbalance the classes
    labels = np.array(["cat", "dog", "eel", "fox", "gnu"])[:k]
    return X, labels[y]


def _sklearn(X, y, C, cw, sw, solver):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLogistic(C=C, class_weight=cw, solver=solver, tol=1e-14, max_iter=1000).fit(
            X, y, sample_weight=sw
        )


@STRICT
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize("cw", ["balanced", {"cat": 3.0, "dog": 0.5}, {"dog": 0.2, "cat": 2.0}])
@pytest.mark.parametrize("weighted", [False, True])
def test_class_weight_matches_sklearn(seed, k, cw, weighted):
    X, y = _data(seed, k)
    sw = np.random.default_rng(seed).uniform(0.2, 3.0, len(y)) if weighted else None
    C = [0.1, 1.0, 10.0][seed]
    ours = LogisticRegression(C=C, class_weight=cw, tol=1e-10).fit(X, y, sample_weight=sw)
    ref = _sklearn(X, y, C, cw, sw, "newton-cholesky")
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    assert ours.certificate(X, y, sample_weight=sw).holds


@STRICT
@pytest.mark.parametrize("solver", ["lbfgs", "gd"])
def test_class_weight_other_solvers_match_newton(solver):
    X, y = _data(3, 3)
    ref = LogisticRegression(class_weight="balanced").fit(X, y)
    kw = {"max_iter": 20_000, "tol": 1e-7} if solver == "gd" else {"tol": 1e-10}
    ours = LogisticRegression(class_weight="balanced", solver=solver, **kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_class_weight_equals_sample_weight_times_class_factor():
    X, y = _data(4, 3)
    sw = np.random.default_rng(4).uniform(0.5, 2.0, len(y))
    cw = {"cat": 2.5, "dog": 0.25, "eel": 1.5}
    a = LogisticRegression(class_weight=cw).fit(X, y, sample_weight=sw)
    b = LogisticRegression().fit(X, y, sample_weight=sw * np.vectorize(cw.get)(y))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-12, atol=1e-12)
    # "balanced" on balanced-by-weight data is a no-op: weight each class to the same total
    counts = {c: np.sum(y == c) for c in np.unique(y)}
    balanced_sw = np.array([1.0 / counts[c] for c in y])
    c = LogisticRegression(class_weight="balanced").fit(X, y, sample_weight=balanced_sw)
    d = LogisticRegression().fit(X, y, sample_weight=balanced_sw)
    np.testing.assert_allclose(c.coef_ * 1.0, d.coef_, atol=1e-3 * np.abs(d.coef_).max())


@STRICT
@pytest.mark.parametrize("k", [2, 4])
def test_warm_start_resumes_from_previous_fit(k):
    X, y = _data(5, k)
    cold = LogisticRegression(C=1.0, tol=1e-10).fit(X, y)
    warm = LogisticRegression(C=0.5, tol=1e-10, warm_start=True).fit(X, y)
    warm.set_params(C=1.0).fit(X, y)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-8)
    # refitting at the optimum takes no Newton step
    warm.fit(X, y)
    assert warm.n_iter_[0] == 0
    assert cold.n_iter_[0] > 0


def test_warm_start_ignores_a_fit_with_other_features():
    X, y = _data(6, 2)
    est = LogisticRegression(warm_start=True).fit(X[:, :3], y)
    est.fit(X, y)
    ref = LogisticRegression().fit(X, y)
    np.testing.assert_allclose(est.coef_, ref.coef_, atol=1e-8)
