"""LinearRegression against scikit-learn, and the notes' identities for least squares."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.linear_model import LinearRegression as SkLinearRegression

from qed.linear import LinearRegression, RankDeficiencyWarning

SOLVERS = ["auto", "normal", "qr", "svd"]


def _data(seed, n, d, n_targets=None, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) + offset
    beta = rng.standard_normal((d,) if n_targets is None else (d, n_targets))
    noise = rng.standard_normal((n,) if n_targets is None else (n, n_targets))
    y = X @ beta + 0.3 * noise + 2.0
    w = rng.uniform(0.1, 3.0, n)
    return X, y, w


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a, float), np.asarray(b, float)
    scale = max(np.max(np.abs(b)), 1.0)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * scale)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(200, 5, None), (60, 12, 3), (500, 30, None), (40, 3, 1)])
@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn(seed, shape, solver, fit_intercept, weighted):
    """coef_, intercept_ and predictions equal sklearn's LinearRegression to ~1e-8."""
    n, d, t = shape
    X, y, w = _data(seed, n, d, t, offset=seed)  # offset ≠ 0 exercises the centering
    sw = w if weighted else None
    ours = LinearRegression(fit_intercept=fit_intercept, solver=solver).fit(X, y, sw)
    ref = SkLinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    assert ours.coef_.shape == ref.coef_.shape
    assert np.shape(ours.intercept_) == np.shape(ref.intercept_)
    _close(ours.coef_, ref.coef_)
    _close(ours.intercept_, ref.intercept_)
    _close(ours.predict(X), ref.predict(X))
    assert ours.rank_ == ref.rank_ == d
    _close(ours.singular_, ref.singular_, rtol=1e-7)
    assert ours.solver_ == ("normal" if solver == "auto" else solver)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("solver", SOLVERS)
def test_underdetermined_matches_sklearn_minimum_norm(seed, solver):
    """d > n: infinitely many solutions; ours is the minimum-norm one, as sklearn's."""
    X, y, _ = _data(seed, 15, 40)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        ours = LinearRegression(solver=solver).fit(X, y)
    ref = SkLinearRegression().fit(X, y)
    _close(ours.coef_, ref.coef_)
    _close(ours.intercept_, ref.intercept_)
    _close(ours.predict(X), y)  # interpolates
    assert ours.rank_ == ref.rank_ == 14  # n − 1 after centering


@pytest.mark.parametrize("solver", ["auto", "normal", "qr"])
def test_duplicated_column_warns_and_gives_minimum_norm(solver):
    """A duplicated column makes XᵀX singular: no crash, SVD fallback naming the rank."""
    X, y, _ = _data(3, 100, 4)
    X = np.column_stack([X, X[:, 1]])
    with pytest.warns(RankDeficiencyWarning, match="rank 4 < 5"):
        ours = LinearRegression(solver=solver).fit(X, y)
    ref = SkLinearRegression().fit(X, y)
    _close(ours.coef_, ref.coef_)
    assert ours.coef_[1] == pytest.approx(ours.coef_[4], rel=1e-10)  # split evenly
    assert ours.rank_ == 4 and ours.solver_ == "svd"
    assert ours.certificate().holds


def test_ill_conditioned_full_rank_uses_svd_silently():
    """Auto leaves the normal equations when κ(XᵀX) > 1/√eps, without a spurious warning."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((300, 3))
    X = np.column_stack([X, X[:, 0] + 1e-6 * rng.standard_normal(300)])
    y = X @ np.array([1.0, 2.0, 3.0, 4.0]) + 0.01 * rng.standard_normal(300)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ours = LinearRegression().fit(X, y)
    assert ours.solver_ == "svd"
    ref = SkLinearRegression(tol=1e-15).fit(X, y)
    _close(ours.coef_, ref.coef_, rtol=1e-6)  # κ(X) ≈ 1e6: both lose ~6 digits


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32_stays_float32(solver):
    X, y, _ = _data(0, 300, 6)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    ours = LinearRegression(solver=solver).fit(X32, y32)
    ref = SkLinearRegression().fit(X32, y32)
    assert ours.coef_.dtype == np.float32 and ours.predict(X32).dtype == np.float32
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=2e-4, atol=2e-4)
    assert ours.certificate().holds


def test_large_means_take_the_exact_path():
    """Columns with mean ≫ spread: XᵀX − n x̄x̄ᵀ would cancel, so X is centered first."""
    X, y, _ = _data(5, 400, 4)
    X = X + 1e5
    ours = LinearRegression(solver="normal").fit(X, y)
    ref = SkLinearRegression().fit(X, y)
    _close(ours.coef_, ref.coef_)
    _close(ours.intercept_, ref.intercept_)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ols_is_the_gaussian_mle(seed):
    """Notes: under y = Xβ + ε, ε ~ N(0, σ²I), OLS maximises the likelihood; σ̂² = RSS/n.

    Checked against scipy.stats.norm.logpdf, and the log-likelihood drops when β or σ²
    move away from the fit.
    """
    X, y, _ = _data(seed, 150, 4)
    model = LinearRegression().fit(X, y)
    resid = y - model.predict(X)
    assert model.sigma2_ == pytest.approx(np.sum(resid**2) / len(y), rel=1e-10)
    expected = stats.norm.logpdf(y, loc=model.predict(X), scale=np.sqrt(model.sigma2_)).sum()
    assert model.log_likelihood(X, y) == pytest.approx(expected, rel=1e-10)
    best = model.log_likelihood(X, y)
    rng = np.random.default_rng(seed)
    for _ in range(5):
        moved = LinearRegression().fit(X, y)
        moved.coef_ = moved.coef_ + 1e-3 * rng.standard_normal(4)
        assert moved.log_likelihood(X, y) < best
        moved = LinearRegression().fit(X, y)
        moved.sigma2_ = model.sigma2_ * rng.choice([0.9, 1.1])
        assert moved.log_likelihood(X, y) < best


def test_sigma2_exact_for_near_perfect_fit():
    """RSS from the statistics cancels for tiny residuals; the fallback recomputes it."""
    X, _, _ = _data(7, 200, 3)
    y = X @ np.array([1.0, -2.0, 0.5]) + 1e-9 * np.random.default_rng(1).standard_normal(200)
    model = LinearRegression().fit(X, y)
    resid = y - model.predict(X)
    assert model.sigma2_ == pytest.approx(np.mean(resid**2), rel=1e-6)


def test_weighted_sigma2_and_multi_output():
    X, y, w = _data(2, 120, 3, 2)
    model = LinearRegression().fit(X, y, w)
    resid = y - model.predict(X)
    np.testing.assert_allclose(model.sigma2_, (w @ resid**2) / w.sum(), rtol=1e-10)
    assert model.sigma2_.shape == (2,)


def test_integer_weights_equal_repetition():
    """sample_weight = k is the same as repeating the sample k times (sklearn's semantics)."""
    X, y, _ = _data(4, 50, 3)
    k = np.random.default_rng(0).integers(1, 4, 50)
    weighted = LinearRegression().fit(X, y, sample_weight=k)
    repeated = LinearRegression().fit(np.repeat(X, k, axis=0), np.repeat(y, k))
    _close(weighted.coef_, repeated.coef_, rtol=1e-10)
    assert weighted.sigma2_ == pytest.approx(repeated.sigma2_, rel=1e-10)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("weighted", [False, True])
def test_certificate_holds_and_fails_when_perturbed(solver, weighted):
    """The normal equations hold at the fit and fail when coef_ or intercept_ move."""
    X, y, w = _data(1, 300, 8, offset=2.0)
    sw = w if weighted else None
    model = LinearRegression(solver=solver).fit(X, y, sw)
    for cert in (model.certificate(), model.certificate(X, y, sw)):
        assert cert.holds, cert
        assert {c.name for c in cert.conditions} == {"normal_equations", "intercept"}
    model.coef_ = model.coef_ * (1 + 1e-6)
    assert not model.certificate().holds
    assert not model.certificate(X, y, sw)["normal_equations"].holds
    model = LinearRegression(solver=solver).fit(X, y, sw)
    model.intercept_ += 1e-6
    assert not model.certificate()["intercept"].holds
    assert not model.certificate(X, y, sw)["intercept"].holds


@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(5, 40),
    d=st.integers(1, 6),
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([1e-3, 1.0, 1e3]),
)
def test_certificate_holds_on_random_problems(n, d, seed, scale):
    """Property: whatever the data's scale and shape, the fit certifies itself."""
    rng = np.random.default_rng(seed)
    X = scale * rng.standard_normal((n, d))
    y = rng.standard_normal(n) * scale
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        model = LinearRegression().fit(X, y)
    assert model.certificate().holds
    assert model.certificate(X, y).holds


def test_residuals_orthogonal_to_columns_on_real_data():
    """On the diabetes data (sklearn's copy), Xᵀ(y − ŷ) = 0 and Σ(y − ŷ) = 0."""
    from sklearn.datasets import load_diabetes

    X, y = load_diabetes(return_X_y=True)
    model = LinearRegression().fit(X, y)
    resid = y - model.predict(X)
    assert np.abs(X.T @ resid).max() < 1e-9 * np.abs(X.T @ y).max()
    assert abs(resid.sum()) < 1e-9 * np.abs(y).sum()
    assert model.score(X, y) == pytest.approx(SkLinearRegression().fit(X, y).score(X, y))


@pytest.mark.parametrize(
    "X, y, match",
    [
        ([[1.0, np.nan], [2.0, 1.0]], [1.0, 2.0], "NaN"),
        ([[1.0, np.inf], [2.0, 1.0]], [1.0, 2.0], "infinity"),
        ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0], "Expected 2D array"),
        ([[1.0], [2.0]], [1.0, 2.0, 3.0], "inconsistent numbers of samples"),
        (np.empty((0, 2)), [], "0 sample"),
        ([["a", "b"], ["c", "d"]], [1.0, 2.0], "strings"),
        ([[1.0], [2.0]], [1.0, np.nan], "NaN"),
    ],
)
def test_bad_input_gives_clear_errors(X, y, match):
    with pytest.raises(ValueError, match=match):
        LinearRegression().fit(X, y)


def test_bad_parameters_and_predict_errors():
    X, y, _ = _data(0, 20, 3)
    with pytest.raises(ValueError, match="solver='cholesky' is not supported"):
        LinearRegression(solver="cholesky").fit(X, y)
    with pytest.raises(ValueError, match="not fitted yet"):
        LinearRegression().predict(X)
    model = LinearRegression().fit(X, y)
    with pytest.raises(ValueError, match="X has 2 features, but LinearRegression is expecting 3"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="weights must be ≥ 0"):
        LinearRegression().fit(X, y, sample_weight=-np.ones(20))
    with pytest.raises(ValueError, match="needs both X and y"):
        model.certificate(X)
    with pytest.raises(ValueError, match="fitted exactly"):
        LinearRegression().fit(X, np.zeros(20)).log_likelihood(X, np.zeros(20))
