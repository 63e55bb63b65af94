"""The error bounds of LinearRegression, Ridge and KernelRidge are honest and not vacuous.

The reference θ* is the exact solution of the same normal equations in 50-digit mpmath. A
fit "stopped early" is the exact fit moved by a random δ of size 1e-3 … 1e-6 (what a solver
stopped at that tolerance leaves); the exact fits are certified too. Every time: the true
error ≤ the bound; for the stopped fits, bound ≤ 1000 × the true error.
"""

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics.pairwise import rbf_kernel

from qed.linear import KernelRidge, LinearRegression, Ridge

mpmath.mp.dps = 50


def _mp(A) -> mpmath.matrix:
    A = np.atleast_2d(A)
    return mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in A])


def _exact_least_squares(X, y, w, alpha, fit_intercept):
    """(β*, b*) of min ‖y − Xβ − b‖²_W + α‖β‖², and f* − in mpmath."""
    n, d = X.shape
    Xt = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    A, Wy = _mp(Xt), _mp((w * y)[:, None])
    W = mpmath.diag([mpmath.mpf(float(v)) for v in w])
    H = A.T * W * A
    for j in range(d):
        H[j, j] += mpmath.mpf(float(alpha))
    theta = mpmath.lu_solve(H, A.T * Wy)
    return theta


def _objective(X, y, w, alpha, theta, fit_intercept):
    """f(θ) in mpmath for a float64 or mpmath θ."""
    n, d = X.shape
    t = [
        mpmath.mpf(theta[j]) if not isinstance(theta[j], mpmath.mpf) else theta[j]
        for j in range(len(theta))
    ]
    total = mpmath.mpf(0)
    for i in range(n):
        r = mpmath.mpf(float(y[i])) - mpmath.fsum(
            mpmath.mpf(float(X[i, j])) * t[j] for j in range(d)
        )
        if fit_intercept:
            r -= t[d]
        total += mpmath.mpf(float(w[i])) * r * r
    return total + mpmath.mpf(float(alpha)) * mpmath.fsum(t[j] ** 2 for j in range(d))


def _problem(seed, n, d):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3.0, size=d) + rng.normal(size=d)
    y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n) + 1.0
    w = rng.uniform(0.2, 2.0, size=n)
    return X, y, w, rng


@settings(max_examples=30, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 4),
    ridge=st.booleans(),
    fit_intercept=st.booleans(),
    weighted=st.booleans(),
    log_step=st.sampled_from([None, -3.0, -4.5, -6.0]),
)
def test_least_squares_bounds_are_true_and_tight(seed, d, ridge, fit_intercept, weighted, log_step):
    X, y, w, rng = _problem(seed, 4 * d + 8, d)
    alpha = 0.7 if ridge else 0.0
    model = (Ridge(alpha=alpha) if ridge else LinearRegression()).set_params(
        fit_intercept=fit_intercept
    )
    sw = w if weighted else np.ones(len(y))
    model.fit(X, y, sample_weight=sw if weighted else None)
    if log_step is not None:  # stopped early: moved off the optimum by about 10^log_step
        model.coef_ = model.coef_ + 10.0**log_step * rng.normal(size=d)
        if fit_intercept:
            model.intercept_ = model.intercept_ + 10.0**log_step * rng.normal()
    star = _exact_least_squares(X, y, sw, alpha, fit_intercept)
    theta = list(model.coef_) + ([model.intercept_] if fit_intercept else [])
    diff = [mpmath.mpf(float(theta[j])) - star[j] for j in range(len(theta))]
    true_dist = float(mpmath.sqrt(mpmath.fsum(v * v for v in diff)))
    true_gap = float(
        _objective(X, y, sw, alpha, theta, fit_intercept)
        - _objective(X, y, sw, alpha, star, fit_intercept)
    )
    Xt = np.column_stack([X, np.ones(len(X))]) if fit_intercept else X
    Xm = _mp(Xt)
    dy = Xm * mpmath.matrix(diff)
    true_pred = float(max(abs(dy[i]) for i in range(len(X))))
    for cert in (
        model.certificate(X, y, sample_weight=sw if weighted else None),
        model.certificate(),
    ):
        b = cert.bounds
        assert true_dist <= b["distance"]
        assert true_gap <= b["objective_gap"]
        if "prediction" in b:
            assert true_pred <= b["prediction"]
        if log_step is not None:
            assert b["distance"] <= 1e3 * true_dist
            assert b["objective_gap"] <= 1e3 * true_gap
            if "prediction" in b:
                assert b["prediction"] <= 1e3 * true_pred


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    lam=st.sampled_from([0.1, 1.0, 10.0]),
    weighted=st.booleans(),
    log_step=st.sampled_from([None, -3.0, -6.0]),
)
def test_kernel_ridge_bounds_are_true_and_tight(seed, lam, weighted, log_step):
    """Reference a* = (WK + λI)⁻¹Wy in mpmath; the RKHS distance is √((a − a*)ᵀK(a − a*)),
    the objective ‖y − Ka‖²_W + λaᵀKa, the prediction max|K(a − a*)|."""
    rng = np.random.default_rng(seed)
    n = 25
    X = rng.normal(size=(n, 2))
    y = np.sin(2 * X[:, 0]) + 0.1 * rng.normal(size=n)
    w = rng.uniform(0.3, 2.0, size=n) if weighted else np.ones(n)
    model = KernelRidge(alpha=lam, kernel="rbf", gamma=0.7).fit(
        X, y, sample_weight=w if weighted else None
    )
    if log_step is not None:
        model.dual_coef_ = model.dual_coef_ + 10.0**log_step * rng.normal(size=n)
    K = rbf_kernel(X, X, gamma=0.7)
    Km, Wm = _mp(K), mpmath.diag([mpmath.mpf(float(v)) for v in w])
    A = Wm * Km
    for i in range(n):
        A[i, i] += mpmath.mpf(lam)
    star = mpmath.lu_solve(A, Wm * _mp(y[:, None]))
    delta = _mp(model.dual_coef_[:, None]) - star
    true_dist = float(mpmath.sqrt((delta.T * Km * delta)[0]))
    true_pred = float(max(abs(v) for v in Km * delta))

    def J(a):
        r = _mp(y[:, None]) - Km * a
        return (r.T * Wm * r)[0] + mpmath.mpf(lam) * (a.T * Km * a)[0]

    true_gap = float(J(_mp(model.dual_coef_[:, None])) - J(star))
    b = model.certificate().bounds
    assert true_dist <= b["distance"] and true_pred <= b["prediction"]
    assert true_gap <= b["objective_gap"]
    if log_step is not None:
        assert b["distance"] <= 1e3 * true_dist
        assert b["objective_gap"] <= 1e3 * true_gap
        assert b["prediction"] <= 1e3 * true_pred


def test_sparse_and_multi_target_bounds_match_dense():
    """Sparse X gives the same bounds as dense (no densifying path of its own); a second
    target adds its own terms."""
    from scipy import sparse

    X, y, w, rng = _problem(3, 60, 5)
    X[X < 0.3] = 0.0
    Y = np.column_stack([y, 2 * y + rng.normal(size=len(y))])
    dense = Ridge(alpha=1.0).fit(X, Y, sample_weight=w)
    sp = Ridge(alpha=1.0).fit(sparse.csr_matrix(X), Y, sample_weight=w)
    sp.coef_ = dense.coef_ = dense.coef_ + 1e-4
    sp.intercept_ = dense.intercept_
    bd = dense.certificate(X, Y, sample_weight=w).bounds
    bs = sp.certificate(sparse.csr_matrix(X), Y, sample_weight=w).bounds
    for key in bd:
        assert bs[key] == pytest.approx(bd[key], rel=1e-8)
    one = Ridge(alpha=1.0).fit(X, y, sample_weight=w)
    one.coef_ = one.coef_ + 1e-4
    assert one.certificate(X, y, sample_weight=w).bounds["distance"] < bd["distance"]


def test_rank_deficient_regression_says_no_bound():
    X, y, _, _ = _problem(1, 20, 3)
    X = np.column_stack([X, X[:, 0]])  # a repeated column: β* is not unique
    from qed.linear import RankDeficiencyWarning

    with pytest.warns(RankDeficiencyWarning):
        model = LinearRegression().fit(X, y)
    cert = model.certificate(X, y)
    assert cert.holds
    assert cert.bounds["distance"] == np.inf and "not unique" in cert.bounds_note


@pytest.mark.parametrize("seed", range(6))
def test_float32_models_are_certified_against_the_exact_problem(seed):
    """float32 data and coefficients: the residuals are evaluated in float64 and the float32
    statistics' rounding is added, so the bounds hold against the exact optimum of the float32
    values (solved here in float64), from the data and from the statistics alike."""
    rng = np.random.default_rng(seed)
    X = (rng.normal(size=(200, 5)) * 3 + 1).astype(np.float32)
    y = (X @ rng.normal(size=5) + rng.normal(size=200)).astype(np.float32)
    for model in (Ridge(alpha=1.0), LinearRegression()):
        model.fit(X, y)
        ref = type(model)(**model.get_params()).fit(X.astype(np.float64), y.astype(np.float64))
        true = np.hypot(np.linalg.norm(model.coef_ - ref.coef_), model.intercept_ - ref.intercept_)
        for cert in (model.certificate(X, y), model.certificate()):
            assert cert.holds and true <= cert.bounds["distance"]
    kr = KernelRidge(alpha=0.3, kernel="rbf", gamma=0.5).fit(X[:80], y[:80])
    K = rbf_kernel(X[:80].astype(np.float64), gamma=0.5)
    star = np.linalg.solve(K + 0.3 * np.eye(80), y[:80].astype(np.float64))
    delta = kr.dual_coef_.astype(np.float64) - star
    cert = kr.certificate()
    assert cert.holds and np.sqrt(delta @ K @ delta) <= cert.bounds["distance"]
