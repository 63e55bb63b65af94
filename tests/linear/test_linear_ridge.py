"""Ridge against every scikit-learn Ridge solver, and the notes' primal = dual identity."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.linear_model import Ridge as SkRidge

from qed.linear import LinearRegression, RankDeficiencyWarning, Ridge

# sklearn's iterative solvers run to a tolerance far below the comparison's.
SK_SOLVERS = {
    "svd": {},
    "cholesky": {},
    "lsqr": {"tol": 1e-14},
    "sparse_cg": {"tol": 1e-14},
    "sag": {"tol": 1e-13, "max_iter": 100_000, "random_state": 0},
    "saga": {"tol": 1e-13, "max_iter": 100_000, "random_state": 0},
}


def _data(seed, n, d, n_targets=None, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + offset
    beta = rng.standard_normal((d,) if n_targets is None else (d, n_targets))
    y = X @ beta + rng.standard_normal((n,) if n_targets is None else (n, n_targets)) + 1.0
    return X, y, rng.uniform(0.2, 2.0, n)


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(np.max(np.abs(b)), 1.0))


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(150, 6, None), (40, 90, None), (80, 10, 3), (20, 50, 2)])
@pytest.mark.parametrize("solver", ["auto", "primal", "dual"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_cholesky(seed, shape, solver, fit_intercept, weighted):
    """coef_, intercept_ and predictions equal sklearn's Ridge to ~1e-8 (n ≫ d, d > n, multi)."""
    n, d, t = shape
    X, y, w = _data(seed, n, d, t, offset=1.5)
    sw = w if weighted else None
    ours = Ridge(alpha=0.8, fit_intercept=fit_intercept, solver=solver).fit(X, y, sw)
    ref = SkRidge(alpha=0.8, fit_intercept=fit_intercept, solver="cholesky").fit(
        X, y, sample_weight=sw
    )
    assert ours.coef_.shape == ref.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    _close(ours.coef_, ref.coef_)
    _close(ours.intercept_, ref.intercept_)
    _close(ours.predict(X), ref.predict(X))
    expected = {"auto": "dual" if d > n else "primal"}.get(solver, solver)
    assert ours.solver_ == expected


@pytest.mark.parametrize("sk_solver", sorted(SK_SOLVERS))
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_every_sklearn_solver_agrees(sk_solver, fit_intercept):
    """All of sklearn's Ridge solvers converge to our (direct) solution."""
    X, y, _ = _data(3, 120, 5, offset=0.5)
    X /= np.linalg.norm(X, axis=0) / 4  # sag/saga converge fast on well-scaled columns
    ours = Ridge(alpha=2.0, fit_intercept=fit_intercept).fit(X, y)
    ref = SkRidge(
        alpha=2.0, fit_intercept=fit_intercept, solver=sk_solver, **SK_SOLVERS[sk_solver]
    ).fit(X, y)
    rtol = 1e-8 if sk_solver in ("svd", "cholesky", "lsqr", "sparse_cg") else 1e-7
    _close(ours.coef_, ref.coef_, rtol=rtol)
    _close(ours.intercept_, ref.intercept_, rtol=rtol)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(100, 8), (30, 60)])
@pytest.mark.parametrize("weighted", [False, True])
def test_primal_equals_dual(seed, shape, weighted):
    """Notes: (XᵀX + λI)⁻¹Xᵀy = Xᵀ(XXᵀ + λI)⁻¹y, for any shape."""
    X, y, w = _data(seed, *shape, n_targets=2, offset=1.0)
    sw = w if weighted else None
    primal = Ridge(alpha=0.5, solver="primal").fit(X, y, sw)
    dual = Ridge(alpha=0.5, solver="dual").fit(X, y, sw)
    _close(primal.coef_, dual.coef_, rtol=1e-9)
    _close(primal.intercept_, dual.intercept_, rtol=1e-9)


def test_alpha_per_target_matches_sklearn():
    X, y, _ = _data(0, 60, 5, n_targets=3)
    alpha = np.array([0.1, 1.0, 10.0])
    for solver in ("primal", "dual"):
        ours = Ridge(alpha=alpha, solver=solver).fit(X, y)
        ref = SkRidge(alpha=alpha).fit(X, y)
        _close(ours.coef_, ref.coef_)
        for k in range(3):  # each column is the single-alpha fit of its target
            _close(ours.coef_[k], Ridge(alpha=alpha[k]).fit(X, y[:, k]).coef_, rtol=1e-10)


def test_alpha_zero_is_ols_and_singular_falls_back():
    X, y, _ = _data(1, 50, 4)
    _close(Ridge(alpha=0.0).fit(X, y).coef_, LinearRegression().fit(X, y).coef_, rtol=1e-9)
    X_dup = np.column_stack([X, X[:, 0]])
    with pytest.warns(RankDeficiencyWarning, match="minimum-norm least-squares"):
        ours = Ridge(alpha=0.0).fit(X_dup, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkRidge(alpha=0.0, solver="svd").fit(X_dup, y)
    _close(ours.coef_, ref.coef_, rtol=1e-7)


def test_ridge_shrinks_towards_zero():
    """‖β(λ)‖ decreases as λ grows, and → 0 as λ → ∞ (the penalty of the notes)."""
    X, y, _ = _data(2, 80, 6)
    norms = [np.linalg.norm(Ridge(alpha=a).fit(X, y).coef_) for a in (0.0, 1.0, 10.0, 1e3, 1e8)]
    assert all(a > b for a, b in zip(norms, norms[1:], strict=False))
    assert norms[-1] < 1e-5 * norms[0]


def test_float32_stays_float32():
    X, y, _ = _data(0, 200, 5)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    for solver in ("primal", "dual"):
        ours = Ridge(solver=solver).fit(X32, y32)
        assert ours.coef_.dtype == np.float32 and ours.predict(X32).dtype == np.float32
        np.testing.assert_allclose(ours.coef_, SkRidge().fit(X32, y32).coef_, rtol=1e-4, atol=1e-4)
        assert ours.certificate().holds


@pytest.mark.parametrize("solver", ["primal", "dual"])
@pytest.mark.parametrize("weighted", [False, True])
def test_certificate_holds_and_fails_when_perturbed(solver, weighted):
    """‖XᵀW(y − Xβ − b) − αβ‖ ≈ 0 at the fit; a 1e-6 relative change of β breaks it."""
    X, y, w = _data(4, 60, 30, n_targets=2, offset=1.0)
    sw = w if weighted else None
    model = Ridge(alpha=3.0, solver=solver).fit(X, y, sw)
    assert model.certificate().holds
    assert model.certificate(X, y, sw).holds
    assert "α" in model.certificate()["normal_equations"].description
    model.coef_ = model.coef_ * (1 + 1e-6)
    assert not model.certificate().holds
    assert not model.certificate(X, y, sw).holds


@pytest.mark.parametrize(
    "alpha, error, match",
    [
        (-1.0, ValueError, "alpha must be finite and ≥ 0"),
        (np.nan, ValueError, "alpha must be finite"),
        ("big", TypeError, "alpha must be a float"),
        ([1.0, 2.0], ValueError, "Number of targets and number of penalties"),
    ],
)
def test_bad_alpha(alpha, error, match):
    X, y, _ = _data(0, 20, 3)
    with pytest.raises(error, match=match):
        Ridge(alpha=alpha).fit(X, y)


def test_bad_solver_and_input():
    X, y, _ = _data(0, 20, 3)
    with pytest.raises(ValueError, match="solver='lsqr' is not supported"):
        Ridge(solver="lsqr").fit(X, y)
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    for solver in ("primal", "dual"):
        with pytest.raises(ValueError, match="contains NaN"):
            Ridge(solver=solver).fit(X_nan, y)
    with pytest.raises(ValueError, match="not fitted yet"):
        Ridge().predict(X)
