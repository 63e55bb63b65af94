"""What qed gains by building on scikit-learn's base classes, checked against scikit-learn's own
estimators doing the same: pandas output, the HTML diagram, metadata routing, check_estimator."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import sklearn.linear_model as skl
import sklearn.preprocessing as skp
from sklearn.model_selection import GridSearchCV, KFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import check_estimator

from qed.bayes import BetaBernoulli
from qed.classify import SVC, LinearSVC, LogisticRegression, LogisticRegressionCV
from qed.kernels import Nystroem
from qed.linear import (
    KernelRidge,
    KernelRidgeCV,
    LinearRegression,
    PolynomialFeatures,
    Ridge,
    RidgeCV,
)
from qed.nn import MLPClassifier, MLPRegressor


@pytest.fixture
def routing():
    with sklearn.config_context(enable_metadata_routing=True):
        yield


def _frame(seed=0, n=60):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.standard_normal((n, 3)), columns=["age", "bmi", "bp"])
    return X, rng


def test_set_output_pandas_alone_and_in_a_pipeline_as_sklearns():
    X, _ = _frame()
    ours = PolynomialFeatures(degree=2).set_output(transform="pandas").fit_transform(X)
    theirs = skp.PolynomialFeatures(degree=2).set_output(transform="pandas").fit_transform(X)
    assert isinstance(ours, pd.DataFrame)
    assert list(ours.columns) == list(theirs.columns)
    np.testing.assert_allclose(ours.to_numpy(), theirs.to_numpy(), rtol=1e-14)
    pipe = make_pipeline(PolynomialFeatures(), skp.StandardScaler()).set_output(transform="pandas")
    ref = make_pipeline(skp.PolynomialFeatures(), skp.StandardScaler()).set_output(
        transform="pandas"
    )
    out, expected = pipe.fit_transform(X), ref.fit_transform(X)
    assert list(out.columns) == list(expected.columns) and out.index.equals(X.index)
    np.testing.assert_allclose(out.to_numpy(), expected.to_numpy(), rtol=1e-12, atol=1e-12)


def test_html_diagram_of_estimators_and_pipelines():
    for est in (Ridge(alpha=2.0), make_pipeline(PolynomialFeatures(3), Ridge())):
        page = est._repr_html_()
        assert "sk-top-container" in page and "Ridge" in page
    assert "PolynomialFeatures" in make_pipeline(PolynomialFeatures(3), Ridge())._repr_html_()


def _weighted_problem(classify: bool):
    X, rng = _frame(1, n=120)
    w = rng.uniform(0.2, 3.0, len(X))
    signal = X.to_numpy() @ np.array([1.0, -2.0, 0.5])
    y = (signal + rng.standard_normal(len(X)) > 0).astype(int) if classify else signal
    return X, y + (0 if classify else rng.standard_normal(len(X))), w


@pytest.mark.parametrize(
    ("ours", "theirs", "classify", "grid"),
    [
        (Ridge(), skl.Ridge(), False, {"alpha": [0.1, 1.0, 10.0]}),
        (LogisticRegression(), skl.LogisticRegression(tol=1e-10), True, {"C": [0.1, 1.0]}),
    ],
)
def test_sample_weight_routed_through_pipeline_gridsearch_and_cross_validate(
    routing, ours, theirs, classify, grid
):
    X, y, w = _weighted_problem(classify)
    cv = KFold(4, shuffle=True, random_state=0)
    results = []
    for est in (ours, theirs):
        est = sklearn.base.clone(est).set_fit_request(sample_weight=True)
        est = est.set_score_request(sample_weight=True)
        pipe = make_pipeline(skp.StandardScaler().set_fit_request(sample_weight=True), est)
        name = type(est).__name__.lower()
        search = GridSearchCV(pipe, {f"{name}__{k}": v for k, v in grid.items()}, cv=cv)
        search.fit(X, y, sample_weight=w)
        scores = cross_validate(pipe, X, y, cv=cv, params={"sample_weight": w})["test_score"]
        results.append((search.cv_results_["mean_test_score"], scores))
    (search_ours, cv_ours), (search_theirs, cv_theirs) = results
    np.testing.assert_allclose(search_ours, search_theirs, rtol=1e-6)
    np.testing.assert_allclose(cv_ours, cv_theirs, rtol=1e-6)
    # the weights did reach qed's estimator: its routed fit differs from an unweighted one
    routed = make_pipeline(
        skp.StandardScaler().set_fit_request(sample_weight=True),
        sklearn.base.clone(ours).set_fit_request(sample_weight=True),
    ).fit(X, y, sample_weight=w)
    plain = make_pipeline(skp.StandardScaler(), sklearn.base.clone(ours)).fit(X, y)
    assert not np.allclose(routed[-1].coef_, plain[-1].coef_, rtol=1e-6)


ESTIMATORS = [
    LinearRegression(),
    Ridge(),
    KernelRidge(),
    PolynomialFeatures(),
    LogisticRegression(),
    SVC(),
    MLPClassifier(),
    MLPRegressor(),
    RidgeCV(),
    KernelRidgeCV(),
    LinearSVC(random_state=0, tol=1e-12, max_iter=100_000),  # converged: weights = repeats
    LogisticRegressionCV(Cs=3, cv=3),
    Nystroem(n_components=5),
]
# scikit-learn marks the same checks as expected failures for its own estimators of these kinds
EXPECTED = {
    "SVC": {"check_sample_weight_equivalence_on_dense_data": "as sklearn's SVC (libsvm tol)"},
    "KernelRidgeCV": {
        "check_sample_weight_equivalence_on_dense_data": "leave-one-out on repeated rows"
    },
}


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_check_estimator_passes_without_a_warning_from_sklearn(est):
    """No 'does not inherit from BaseEstimator' or any other warning scikit-learn raises about
    the estimator. (scikit-learn skips its Array API check unless SCIPY_ARRAY_API is set
    before scipy is imported: an environment condition, not the estimator's.)"""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        results = check_estimator(
            est, on_fail=None, expected_failed_checks=EXPECTED.get(type(est).__name__)
        )
    failed = [(r["check_name"], repr(r["exception"])) for r in results if r["status"] == "failed"]
    assert failed == []
    from_sklearn = [
        f"{w.category.__name__}: {w.message}"
        for w in caught
        if w.category.__module__.startswith("sklearn") and "SCIPY_ARRAY_API" not in str(w.message)
    ]
    assert from_sklearn == []


def test_beta_bernoulli_is_a_sklearn_estimator():
    coin = BetaBernoulli(a=2, b=2)
    assert isinstance(coin, sklearn.base.BaseEstimator)
    assert sklearn.base.clone(coin).get_params() == {"a": 2, "b": 2}
