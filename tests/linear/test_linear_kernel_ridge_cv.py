"""KernelRidgeCV: exact leave-one-out for every λ from one eigendecomposition of K, against
scikit-learn's KernelRidge refitted n times without each row (the brute-force oracle)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.model_selection import GridSearchCV, LeaveOneOut
from sklearn.utils.estimator_checks import parametrize_with_checks

import qed
from qed.linear import KernelRidgeCV

ALPHAS = np.array([1e-3, 1e-2, 0.1, 1.0, 10.0])
KERNELS = [
    {"kernel": "rbf", "gamma": 0.4},
    {"kernel": "poly", "degree": 2, "coef0": 1.0},
    {"kernel": "linear"},
]


def _problem(seed, n=25, d=3, t=None):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, (n, d))
    f = np.sin(X[:, 0]) + X[:, 1] ** 2 / 4
    y = (
        f + 0.1 * rng.standard_normal(n)
        if t is None
        else np.column_stack([f + 0.1 * rng.standard_normal(n) for _ in range(t)])
    )
    return X, y, rng.uniform(0.3, 2.0, n)


def _brute_force_loo(X, y, w, alpha, params):
    """√wᵢ·(yᵢ − f₋ᵢ(xᵢ)) with scikit-learn's KernelRidge refitted without row i."""
    Y = y.reshape(len(y), -1)
    out = np.empty_like(Y)
    for i in range(len(X)):
        keep = np.arange(len(X)) != i
        model = SkKernelRidge(alpha=alpha, **params).fit(
            X[keep], Y[keep], sample_weight=None if w is None else w[keep]
        )
        out[i] = (1.0 if w is None else np.sqrt(w[i])) * (Y[i] - model.predict(X[i : i + 1]))
    return out


@pytest.mark.parametrize("params", KERNELS, ids=lambda p: p["kernel"])
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("t", [None, 2])
def test_leave_one_out_equals_sklearn_refits(params, seed, weighted, t):
    X, y, w = _problem(seed, t=t)
    sw = w if weighted else None
    model = KernelRidgeCV(ALPHAS, store_cv_results=True, **params).fit(X, y, sample_weight=sw)
    for k, alpha in enumerate(ALPHAS):
        expected = _brute_force_loo(X, y, sw, alpha, params) ** 2
        got = model.cv_results_[..., k].reshape(expected.shape)
        np.testing.assert_allclose(got, expected, rtol=1e-7, atol=1e-12 * expected.max())
    ref = SkKernelRidge(alpha=model.alpha_, **params).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(model.dual_coef_, ref.dual_coef_, rtol=1e-7, atol=1e-10)
    np.testing.assert_allclose(model.predict(X[:5]), ref.predict(X[:5]), rtol=1e-8)
    assert model.certificate().holds


@pytest.mark.parametrize("params", KERNELS[:2], ids=lambda p: p["kernel"])
def test_picks_what_grid_search_leave_one_out_picks(params):
    X, y, _ = _problem(3)
    ours = KernelRidgeCV(ALPHAS, **params).fit(X, y)
    search = GridSearchCV(
        SkKernelRidge(**params),
        {"alpha": ALPHAS},
        cv=LeaveOneOut(),
        scoring="neg_mean_squared_error",
    ).fit(X, y)
    assert ours.alpha_ == search.best_params_["alpha"]
    assert ours.best_score_ == pytest.approx(search.best_score_, rel=1e-8)


def test_scoring_and_precomputed():
    X, y, _ = _problem(4)
    params = {"kernel": "rbf", "gamma": 0.5}
    ours = KernelRidgeCV(ALPHAS, scoring="neg_mean_absolute_error", **params).fit(X, y)
    search = GridSearchCV(
        SkKernelRidge(**params),
        {"alpha": ALPHAS},
        cv=LeaveOneOut(),
        scoring="neg_mean_absolute_error",
    ).fit(X, y)
    assert ours.alpha_ == search.best_params_["alpha"]
    assert ours.best_score_ == pytest.approx(search.best_score_, rel=1e-8)
    from sklearn.metrics.pairwise import rbf_kernel

    K = rbf_kernel(X, gamma=0.5)
    pre = KernelRidgeCV(ALPHAS, kernel="precomputed").fit(K, y)
    assert pre.alpha_ == KernelRidgeCV(ALPHAS, **params).fit(X, y).alpha_
    assert pre.certificate().holds


def test_certificate_fails_when_the_fit_is_moved():
    X, y, _ = _problem(5)
    model = KernelRidgeCV(ALPHAS, kernel="rbf").fit(X, y)
    model.dual_coef_ = model.dual_coef_ * (1 + 1e-6)
    assert not model.certificate()["dual_equations"].holds


def test_save_load(tmp_path):
    X, y, _ = _problem(6)
    model = KernelRidgeCV(ALPHAS, kernel="rbf").fit(X, y)
    qed.save(model, tmp_path / "k.qed")
    X_new = X + 0.05  # not the training array itself (K(X, X) takes a symmetric fast path)
    np.testing.assert_array_equal(qed.load(tmp_path / "k.qed").predict(X_new), model.predict(X_new))


# Leave-one-out with a repeated row is not leave-one-out with a doubled weight (the twin stays
# in when its copy is left out), so the selected λ, hence the predictions, may differ: the
# check does not apply to leave-one-out selection.
_WEIGHTS = "leave-one-out on repeated rows differs from doubled weights by construction"
_MARK = parametrize_with_checks(
    [KernelRidgeCV(), KernelRidgeCV(kernel="rbf")],
    expected_failed_checks=lambda est: {"check_sample_weight_equivalence_on_dense_data": _WEIGHTS},
)
_CHECKS = [
    item
    for item in _MARK.args[1]
    if "check_array_api_input"
    not in getattr(
        getattr(item, "values", item)[1], "func", getattr(item, "values", item)[1]
    ).__name__
]


@pytest.mark.parametrize(_MARK.args[0], _CHECKS, ids=_MARK.kwargs.get("ids"))
def test_sklearn_compatible(estimator, check):
    check(estimator)
