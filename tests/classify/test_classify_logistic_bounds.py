"""The error bounds of LogisticRegression (binary and softmax) are honest and not vacuous.

Binary: the reference Θ* is found by Newton's method in 40-digit mpmath. Softmax: by qed's
Newton at tol 1e-14 in float64 — provably enough where used: its own certified distance bound
is at most 1e-3 of the error being measured, so the true error lies within 0.1% of
‖Θ − Θ_ref‖ (and the test adds the reference's bound before comparing). Fits stopped at loose
tolerances (gd, lbfgs at tol 1e-3 … 1e-6) must have true error ≤ bound ≤ 1000 × true error.
"""

import warnings

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import sparse

from qed.classify import LogisticRegression, LogisticRegressionCV


def _mp_newton_binary(X, y, sw, alpha, Theta0):
    """argmin Σ sᵢ log(1 + e^{−ỹᵢzᵢ}) + (α/2)‖w‖² in mpmath (intercept last, unpenalised)."""
    with mpmath.workdps(40):
        n, d = X.shape
        A = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] + [1] for row in X])
        s = [mpmath.mpf(float(v)) for v in sw]
        t = mpmath.matrix([mpmath.mpf(float(v)) for v in Theta0])
        for _ in range(30):
            g = mpmath.matrix(d + 1, 1)
            H = mpmath.matrix(d + 1, d + 1)
            for i in range(n):
                z = mpmath.fsum(A[i, j] * t[j] for j in range(d + 1))
                p = 1 / (1 + mpmath.exp(-z))
                r = s[i] * (p - int(y[i]))
                c = s[i] * p * (1 - p)
                for j in range(d + 1):
                    g[j] += r * A[i, j]
                    for k in range(d + 1):
                        H[j, k] += c * A[i, j] * A[i, k]
            for j in range(d):
                g[j] += alpha * t[j]
                H[j, j] += alpha
            step = mpmath.lu_solve(H, g)
            t -= step
            if mpmath.norm(step) < mpmath.mpf(10) ** -35:
                break
        return np.array([float(v) for v in t]), t


def _loose_fit(X, y, solver, tol, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a loose fit may warn that it stopped early
        return LogisticRegression(solver=solver, tol=tol, max_iter=100_000, **kw).fit(X, y)


def _theta(m):
    return np.column_stack([m.coef_, m.intercept_])


@settings(max_examples=20, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    d=st.integers(1, 3),
    solver=st.sampled_from(["gd", "lbfgs", "newton"]),
    tol=st.sampled_from([1e-3, 1e-4, 1e-5, 1e-6]),
    C=st.sampled_from([0.3, 1.0, 10.0]),
)
def test_binary_bounds_against_mpmath(seed, d, solver, tol, C):
    rng = np.random.default_rng(seed)
    n = 30
    X = rng.normal(size=(n, d))
    y = (X @ rng.normal(size=d) + 0.8 * rng.normal(size=n) > 0).astype(int)
    if len(np.unique(y)) < 2:
        y[:2] = [0, 1]
    model = _loose_fit(X, y, solver, tol, C=C)
    tight = LogisticRegression(C=C, tol=1e-14, max_iter=1000).fit(X, y)
    _, star = _mp_newton_binary(X, y, np.ones(n), mpmath.mpf(1) / C, _theta(tight).ravel())
    theta = _theta(model).ravel()
    with mpmath.workdps(40):
        diff = [mpmath.mpf(float(theta[j])) - star[j] for j in range(d + 1)]
        true_dist = float(mpmath.sqrt(mpmath.fsum(v * v for v in diff)))
        true_pred = float(
            max(
                abs(mpmath.fsum(float(X[i, j]) * diff[j] for j in range(d)) + diff[d])
                for i in range(n)
            )
        )
    cert = model.certificate(X, y)
    b = cert.bounds
    assert true_dist <= b["distance"] and true_pred <= b["prediction"]
    if true_dist > 1e-9:  # stopped short of the optimum (Newton often overshoots to 1e-12)
        assert b["distance"] <= 1e3 * true_dist
        assert b["prediction"] <= 1e3 * true_pred
    # the objective gap, by the float64 objective difference (error ~1e-15·f*) and its bound
    f = lambda m: _objective(m, X, y, C)  # noqa: E731
    true_gap = f(model) - f(tight)
    assert true_gap <= b["objective_gap"] + 1e-13 * abs(f(tight))


def _objective(m, X, y, C):
    from scipy.special import log_softmax

    Z = m.decision_function(X)
    logp = (
        np.column_stack([-np.logaddexp(0, Z), -np.logaddexp(0, -Z)])
        if Z.ndim == 1
        else log_softmax(Z, axis=1)
    )
    codes = np.searchsorted(m.classes_, y)
    return float(-logp[np.arange(len(y)), codes].sum() + 0.5 * np.sum(m.coef_**2) / C)


def _identifiable(D):
    D = D.copy()
    D[:, -1] -= D[:, -1].mean()  # the intercepts' shared shift is not identified
    return D


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    k=st.integers(3, 4),
    solver=st.sampled_from(["gd", "lbfgs"]),
    tol=st.sampled_from([1e-3, 1e-4, 1e-6]),
    weighted=st.booleans(),
)
def test_softmax_bounds_against_a_certified_reference(seed, k, solver, tol, weighted):
    rng = np.random.default_rng(seed)
    n, d = 60, 3
    X = rng.normal(size=(n, d))
    y = np.argmax(X @ rng.normal(size=(d, k)) + rng.gumbel(size=(n, k)), axis=1)
    y[:k] = np.arange(k)
    sw = rng.uniform(0.5, 2.0, size=n) if weighted else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LogisticRegression(solver=solver, tol=tol, max_iter=100_000).fit(X, y, sw)
    ref = LogisticRegression(tol=1e-14, max_iter=1000).fit(X, y, sw)
    ref_bound = ref.certificate(X, y, sw).bounds["distance"]
    measured = float(np.linalg.norm(_identifiable(_theta(model) - _theta(ref))))
    b = model.certificate(X, y, sw).bounds
    assert measured + ref_bound <= b["distance"]
    Z = lambda m: m.predict_log_proba(X)  # noqa: E731
    assert np.abs(Z(model) - Z(ref)).max() <= b["prediction"] + ref_bound * 2 * 3
    if measured > 1e-8:
        assert ref_bound <= 1e-3 * measured  # the reference is provably precise enough
        assert b["distance"] <= 1e3 * (measured - ref_bound)


def test_cv_sparse_and_separable_cases():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 4))
    y = (X[:, 0] + 0.5 * rng.normal(size=200) > 0).astype(int)
    cv = LogisticRegressionCV(Cs=4, cv=3).fit(X, y)
    assert np.isfinite(cv.certificate(X, y).bounds["distance"])
    dense = LogisticRegression(tol=1e-4, solver="lbfgs").fit(X, y)
    sp = LogisticRegression(tol=1e-4, solver="lbfgs").fit(sparse.csr_matrix(X), y)
    sp.coef_, sp.intercept_ = dense.coef_, dense.intercept_
    bd = dense.certificate(X, y).bounds
    bs = sp.certificate(sparse.csr_matrix(X), y).bounds
    for key in bd:
        assert bs[key] == pytest.approx(bd[key], rel=1e-9)
    # separable data with C = inf: no optimum exists, so no ball can hold one: infinite bounds
    Xs, ys = np.array([[-2.0], [-1.0], [1.0], [2.0]]), np.array([0, 0, 1, 1])
    m = LogisticRegression(C=np.inf).fit(np.vstack([Xs, [[0.5], [-0.5]]]), np.r_[ys, 0, 1])
    cert = m.certificate(Xs, ys)
    assert cert.bounds["distance"] == np.inf and "infinite" in cert.bounds_note
