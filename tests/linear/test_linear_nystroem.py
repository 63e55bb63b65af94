"""qed.kernels.Nystroem against scikit-learn's Nystroem: same components, same features."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.kernel_approximation import Nystroem as SkNystroem
from sklearn.linear_model import Ridge as SkRidge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from qed.kernels import Nystroem, rbf_kernel
from qed.linear import Ridge


def _data(seed, n=150, d=4):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d)) + 0.1 * rng.standard_normal(n)
    return X, y, rng.standard_normal((25, d))


# (parameters, n_components): at most the kernel's rank in d = 4 (linear 4, quadratic 15,
# cubic 35), where K_mm is invertible; beyond it sklearn's 1e-12 eigenvalue clip amplifies
# round-off in both libraries alike.
PARAMS = [
    ({}, 10),
    ({}, 60),
    ({"gamma": 0.3}, 60),
    ({"kernel": "linear"}, 4),
    ({"kernel": "poly", "degree": 2, "gamma": 0.5, "coef0": 0.3}, 12),
    ({"kernel": "polynomial"}, 30),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("params, n_components", PARAMS)
def test_matches_sklearn(seed, params, n_components):
    """An int random_state draws the same components; the features agree to ~1e-10."""
    X, _, X_new = _data(seed)
    ours = Nystroem(n_components=n_components, random_state=seed, **params).fit(X)
    ref = SkNystroem(n_components=n_components, random_state=seed, **params).fit(X)
    np.testing.assert_array_equal(ours.component_indices_, ref.component_indices_)
    np.testing.assert_array_equal(ours.components_, ref.components_)
    np.testing.assert_allclose(ours.normalization_, ref.normalization_, rtol=1e-8, atol=1e-8)
    for Z in (X, X_new):
        np.testing.assert_allclose(ours.transform(Z), ref.transform(Z), rtol=1e-8, atol=1e-10)
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())


def test_callable_kernel_and_kernel_params_match_sklearn():
    X, _, X_new = _data(3)

    def laplace(a, b, scale=1.0):
        return float(np.exp(-np.abs(a - b).sum() / scale))

    ours = Nystroem(laplace, kernel_params={"scale": 2.0}, n_components=20, random_state=4)
    ref = SkNystroem(laplace, kernel_params={"scale": 2.0}, n_components=20, random_state=4)
    np.testing.assert_allclose(
        ours.fit(X).transform(X_new), ref.fit(X).transform(X_new), rtol=1e-9, atol=1e-12
    )
    with pytest.raises(ValueError, match="kernel_params"):
        Nystroem(laplace, gamma=1.0).fit(X)


def test_features_reproduce_the_nystroem_kernel():
    """ZZᵀ = K_nm K_mm⁻¹ K_mn, and = K exactly when every sample is a component."""
    X, _, _ = _data(5, n=40)
    Z = Nystroem(gamma=0.2, n_components=40, random_state=0).fit_transform(X)
    np.testing.assert_allclose(Z @ Z.T, rbf_kernel(X, gamma=0.2), atol=1e-6)


def test_more_components_than_samples_warns_as_sklearn():
    X, _, _ = _data(6, n=20)
    with pytest.warns(UserWarning, match="n_components"):
        ours = Nystroem(n_components=50, random_state=0).fit(X)
    with pytest.warns(UserWarning):
        ref = SkNystroem(n_components=50, random_state=0).fit(X)
    assert ours.transform(X).shape == ref.transform(X).shape == (20, 20)
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-8, atol=1e-10)


def test_generator_random_state_is_reproducible():
    X, _, _ = _data(7)
    a = Nystroem(n_components=30, random_state=np.random.default_rng(3)).fit(X)
    b = Nystroem(n_components=30, random_state=np.random.default_rng(3)).fit(X)
    np.testing.assert_array_equal(a.component_indices_, b.component_indices_)


def test_pipeline_and_grid_search_match_sklearn():
    """Nystroem → Ridge in a Pipeline, tuned by GridSearchCV, picks what sklearn picks."""
    X, y, X_new = _data(8, n=200, d=3)
    grid = {"nystroem__gamma": [0.1, 1.0], "ridge__alpha": [0.01, 1.0]}
    ours = GridSearchCV(
        make_pipeline(StandardScaler(), Nystroem(n_components=40, random_state=0), Ridge()),
        grid,
        cv=3,
    ).fit(X, y)
    ref = GridSearchCV(
        make_pipeline(StandardScaler(), SkNystroem(n_components=40, random_state=0), SkRidge()),
        grid,
        cv=3,
    ).fit(X, y)
    assert ours.best_params_ == ref.best_params_
    assert ours.best_score_ == pytest.approx(ref.best_score_, rel=1e-8)
    np.testing.assert_allclose(ours.predict(X_new), ref.predict(X_new), rtol=1e-8)


_MARK = parametrize_with_checks([Nystroem(n_components=5), Nystroem(kernel="poly", n_components=5)])
# check_array_api_input only runs when SCIPY_ARRAY_API=1 was set before SciPy was imported
# (else it skips itself); Nystroem takes numpy input, so it is left out, not skipped.
_CHECKS = [
    (est, check)
    for est, check in _MARK.args[1]
    if "check_array_api_input" not in getattr(check, "func", check).__name__
]


@pytest.mark.parametrize(_MARK.args[0], _CHECKS, ids=_MARK.kwargs.get("ids"))
def test_sklearn_compatible(estimator, check):
    check(estimator)
