"""The linear estimators follow scikit-learn's API: check_estimator, Pipeline, GridSearchCV,
and they survive qed.save / qed.load bit for bit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import Ridge as SkRidge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import qed
from qed.linear import KernelRidge, LinearRegression, PolynomialFeatures, Ridge

ESTIMATORS = [
    LinearRegression(),
    LinearRegression(solver="qr"),
    Ridge(),
    Ridge(solver="dual"),
    KernelRidge(),
    KernelRidge(kernel="rbf"),
    KernelRidge(kernel="precomputed"),
    PolynomialFeatures(),
]


_MARK = parametrize_with_checks(ESTIMATORS)
# check_array_api_input only runs when SCIPY_ARRAY_API=1 was set before SciPy was imported
# (else it skips itself); qed does not claim array-API dispatch, so it is left out here
# rather than reported as a skip.
_CHECKS = [
    (est, check)
    for est, check in _MARK.args[1]
    if "check_array_api_input" not in getattr(check, "func", check).__name__
]


@pytest.mark.parametrize(_MARK.args[0], _CHECKS, ids=_MARK.kwargs.get("ids"))
def test_sklearn_compatible(estimator, check):
    check(estimator)


def test_pipeline_and_grid_search_match_sklearn():
    """Poly → scale → ridge in a Pipeline, tuned by GridSearchCV, picks what sklearn picks."""
    rng = np.random.default_rng(0)
    X = rng.uniform(-2, 2, (120, 2))
    y = X[:, 0] ** 3 - X[:, 0] * X[:, 1] + 0.3 * rng.standard_normal(120)
    grid = {"polynomialfeatures__degree": [1, 2, 3], "ridge__alpha": [0.01, 1.0, 100.0]}
    ours = GridSearchCV(
        make_pipeline(PolynomialFeatures(), StandardScaler(), Ridge()), grid, cv=3
    ).fit(X, y)
    ref = GridSearchCV(
        make_pipeline(SkPolynomialFeatures(), StandardScaler(), SkRidge()), grid, cv=3
    ).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-8)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)


def test_dataframe_feature_names():
    df = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": [0.0, 1.0, 0.0, 2.0]})
    y = np.array([1.0, 3.0, 2.0, 6.0])
    model = LinearRegression().fit(df, y)
    assert list(model.feature_names_in_) == ["a", "b"]
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        model.predict(df.to_numpy())


@pytest.mark.parametrize(
    "make",
    [
        lambda: LinearRegression(),
        lambda: LinearRegression(solver="svd", fit_intercept=False),
        lambda: Ridge(alpha=np.array([0.5, 2.0])),
        lambda: Ridge(solver="dual"),
        lambda: KernelRidge(alpha=0.3, kernel="rbf", gamma=0.7),
        lambda: KernelRidge(kernel="poly", degree=2),
    ],
)
def test_save_load_round_trip_is_bit_for_bit(make, tmp_path):
    rng = np.random.default_rng(1)
    X, X_new = rng.standard_normal((40, 3)), rng.standard_normal((9, 3))
    y = rng.standard_normal((40, 2))
    model = make().fit(X, y)
    path = tmp_path / "model.qed"
    qed.save(model, path)
    loaded = qed.load(path)
    assert type(loaded) is type(model)
    np.testing.assert_array_equal(loaded.predict(X_new), model.predict(X_new))
    assert loaded.certificate().holds
    assert repr(loaded) == repr(model)


def test_polynomial_features_round_trip(tmp_path):
    X = np.random.default_rng(2).standard_normal((6, 3))
    model = PolynomialFeatures((1, 3), interaction_only=True).fit(X)
    qed.save(model, tmp_path / "poly.qed")
    np.testing.assert_array_equal(qed.load(tmp_path / "poly.qed").transform(X), model.transform(X))


def test_callable_kernel_cannot_be_saved(tmp_path):
    X = np.random.default_rng(3).standard_normal((6, 2))
    model = KernelRidge(kernel=lambda a, b: float(a @ b)).fit(X, X[:, 0])
    with pytest.raises(TypeError, match="cannot store"):
        qed.save(model, tmp_path / "k.qed")
