"""The vectorised exp and log (qed._vmath) against numpy's libm, and the fused dense logistic
passes against their definitions through numpy/BLAS products.

``vexp`` and ``vlog`` replace libm inside compiled loops, so they are held to a few ulp of
numpy's results over the whole range they are used on (exp on z ≤ 0; log on normal x > 0),
at the edges of the mantissa reduction (√2, powers of two) and on hypothesis-drawn values. The
softmax and sigmoid passes are compared with the formulas of ``_logistic_loss`` written with
numpy products, for class counts on both sides of the eight-score sweep (3, 8, 9, 17), with
and without sample weights and intercept.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import log_expit, softmax

from qed._vmath import vexp, vlog
from qed.classify import _logistic_loss as L


def _ulps(got, ref):
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def _vlog(x):
    out = np.array(x, dtype=np.float64)
    vlog(out, np.empty(out.size, dtype=np.int64))
    return out


def _vexp(z):
    out = np.array(z, dtype=np.float64)
    vexp(out, np.empty(out.size, dtype=np.int64))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_vlog_is_within_three_ulp_of_numpy_across_the_normal_range(seed):
    rng = np.random.default_rng(seed)
    x = np.concatenate(
        [
            np.exp(rng.uniform(-700, 700, 20_000)),
            rng.uniform(0.5, 2.0, 20_000),
            1.0 + rng.uniform(-1e-6, 1e-6, 1000),
            [np.sqrt(2.0), np.nextafter(np.sqrt(2.0), 2), np.nextafter(np.sqrt(2.0), 0)],
            [2.0**e for e in range(-1020, 1023, 7)],
            [np.finfo(float).tiny, np.finfo(float).max, 3.0, 10.0],
        ]
    )
    ref = np.log(x)
    got = _vlog(x)
    exact = ref == 0
    assert np.all(got[exact] == 0.0)
    assert _ulps(got[~exact], ref[~exact]).max() <= 3.0


@pytest.mark.parametrize("seed", [0, 1])
def test_vexp_is_within_two_ulp_of_numpy_on_nonpositive_arguments(seed):
    rng = np.random.default_rng(seed)
    z = np.concatenate([-rng.exponential(50.0, 20_000), -rng.random(5000), [0.0, -1e-300]])
    z = z[z > -708.0]
    assert _ulps(_vexp(z), np.exp(z)).max() <= 2.0
    assert _vexp(np.array([0.0]))[0] == 1.0


def test_a_fast_math_caller_does_not_change_vexp_or_vlog():
    """numba compiles a callee with unset flags under its caller's; the logistic passes use
    reassociation, which undid vexp's two-part ln 2 (118 ulp at exp(−500)) until the flags
    were stated."""
    from numba import njit

    # fresh dispatchers with the same options: a compiled overload would otherwise be reused
    opts = {k: v for k, v in vexp.targetoptions.items() if k not in ("cache", "nopython")}
    fresh_exp = njit(**opts)(vexp.py_func)
    opts = {k: v for k, v in vlog.targetoptions.items() if k not in ("cache", "nopython")}
    fresh_log = njit(**opts)(vlog.py_func)

    @njit(fastmath={"reassoc", "contract", "nsz"})
    def caller(z, x, bits):
        fresh_exp(z, bits)
        fresh_log(x, bits)

    z = -np.linspace(0.0, 700.0, 4001)
    x = np.exp(np.linspace(-700.0, 700.0, 4001))
    ez, lx = z.copy(), x.copy()
    caller(ez, lx, np.empty(z.size, dtype=np.int64))
    assert _ulps(ez, np.exp(z)).max() <= 2.0
    ref = np.log(x)
    assert _ulps(lx[ref != 0], ref[ref != 0]).max() <= 3.0


@settings(max_examples=60, deadline=None)
@given(st.floats(min_value=np.finfo(float).tiny, max_value=1e300, allow_subnormal=False))
def test_vlog_property(x):
    ref = np.log(x)
    got = _vlog([x])[0]
    assert got == ref or _ulps(np.array([got]), np.array([ref]))[0] <= 3.0


def _problem(n, d, k, seed, weighted):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    Theta = rng.standard_normal((k, d + 1)) * 0.7
    codes = rng.integers(0, k, n)
    codes[:k] = np.arange(k)
    sw = rng.uniform(0.1, 3.0, n) if weighted else np.ones(n)
    return X, Theta, codes, sw


@pytest.mark.parametrize("k", [3, 8, 9, 17])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_softmax_pass_equals_its_definition(k, weighted, fit_intercept):
    n, d = 3001, 13  # rows over one chunk and a ragged block; d not a multiple of the vector
    X, Theta, codes, sw = _problem(n, d, k, k, weighted)
    if not fit_intercept:
        Theta = Theta[:, :d]
    alpha = 0.3
    f, G, P = L.multinomial_loss_grad(Theta, X, codes, sw, alpha, fit_intercept)
    W = Theta[:, :d]
    Z = X @ W.T + (Theta[:, d] if fit_intercept else 0.0)
    P_ref = softmax(Z, axis=1)
    logP = (
        Z
        - np.log(np.exp(Z - Z.max(1, keepdims=True)).sum(1, keepdims=True))
        - Z.max(1, keepdims=True)
    )
    f_ref = -np.sum(sw * logP[np.arange(n), codes]) + 0.5 * alpha * np.sum(W * W)
    R = sw[:, None] * (P_ref - np.eye(k)[codes])
    G_ref = (
        np.hstack([R.T @ X + alpha * W, R.sum(0)[:, None]])
        if fit_intercept
        else R.T @ X + alpha * W
    )
    np.testing.assert_allclose(f, f_ref, rtol=1e-13)
    np.testing.assert_allclose(P, P_ref, rtol=1e-13, atol=1e-300)
    np.testing.assert_allclose(G, G_ref, rtol=1e-11, atol=1e-11 * np.abs(G_ref).max())


@pytest.mark.parametrize("k", [3, 8, 9, 17])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_softmax_hessian_product_equals_the_formed_hessian(k, fit_intercept):
    n, d = 2500, 6
    X, Theta, codes, sw = _problem(n, d, k, 10 + k, True)
    if not fit_intercept:
        Theta = Theta[:, :d]
    _, _, P = L.multinomial_loss_grad(Theta, X, codes, sw, 0.2, fit_intercept)
    V = np.random.default_rng(k).standard_normal(Theta.shape)
    H = L.multinomial_hessian(X, P, sw, 0.2, fit_intercept)
    HV = L.multinomial_hessp(V, X, P, sw, 0.2, fit_intercept)
    ref = (H @ V.ravel()).reshape(V.shape)
    np.testing.assert_allclose(HV, ref, rtol=1e-11, atol=1e-11 * np.abs(ref).max())


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0])
def test_binary_pass_equals_its_definition(weighted, scale):
    """Scores from near 0 to saturated (|z| in the hundreds: e below the product's cut)."""
    n, d = 5000, 9
    X, Theta, _, sw = _problem(n, d, 1, 7, weighted)
    Theta *= scale
    y = (np.random.default_rng(3).random(n) < 0.5).astype(np.float64)
    f, G, wts = L.binary_loss_grad(Theta, X, y, sw, 0.5, True)
    z = X @ Theta[0, :d] + Theta[0, d]
    sign = 2 * y - 1
    f_ref = -np.sum(sw * log_expit(sign * z)) + 0.25 * np.sum(Theta[0, :d] ** 2)
    sig = np.exp(log_expit(z))
    r = sw * (sig - y)
    G_ref = np.append(X.T @ r + 0.5 * Theta[0, :d], r.sum())
    np.testing.assert_allclose(f, f_ref, rtol=1e-13)
    np.testing.assert_allclose(G[0], G_ref, rtol=1e-11, atol=1e-11 * np.abs(G_ref).max())
    np.testing.assert_allclose(
        wts, sw * np.exp(log_expit(z) + log_expit(-z)), rtol=1e-12, atol=1e-300
    )


def test_prefetch_compiles_into_a_loop_and_changes_nothing():
    """``qed._prefetch.prefetch`` only hints the cache: the array and the sum are unchanged,
    including hints past the last row (never read, never a fault)."""
    from numba import njit

    from qed._prefetch import prefetch

    @njit
    def total(A, ahead):
        s = 0.0
        for i in range(A.shape[0]):
            prefetch(A, i + ahead, 0)
            for j in range(A.shape[1]):
                s += A[i, j]
        return s

    A = np.random.default_rng(0).standard_normal((1000, 7))
    before = A.copy()
    assert total(A, 4) == total(A, 0)
    np.testing.assert_allclose(total(A, 4), A.sum(), rtol=1e-12)
    np.testing.assert_array_equal(A, before)
