"""The fused numba twins give the same bits as the pure per-array rules."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qed.optim import _fused
from qed.optim import rules as R

# a size on each side of the serial/parallel switch
SIZES = [1, 37, _fused.PARALLEL_MIN_SIZE + 3]
DTYPES = [np.float32, np.float64]


def _arrays(n, dtype, seed, k):
    rng = np.random.default_rng(seed)
    out = [rng.standard_normal(n).astype(dtype) for _ in range(k)]
    return out


def _hyper():
    return dict(
        lr=st.floats(1e-5, 1.0),
        wd=st.sampled_from([0.0, 1e-3, 0.5]),
        seed=st.integers(0, 2**16),
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("mode", ["plain", "l2", "decoupled"])
def test_adam_fused_equals_rule(n, dtype, mode):
    x, g, m = _arrays(n, dtype, n, 3)
    v = (x * x).astype(dtype)  # second moments are non-negative
    wd, dec = {"plain": (0.0, False), "l2": (0.1, False), "decoupled": (0.1, True)}[mode]
    for t in (1, 2, 50):
        px, pm, pv = R.adam_array(x, g, m, v, t, 3e-3, 0.9, 0.999, 1e-8, wd, dec)
        fx, fm, fv = x.copy(), m.copy(), v.copy()
        _fused.adam_(fx, g, fm, fv, t, 3e-3, 0.9, 0.999, 1e-8, wd, dec)
        for a, b in ((px, fx), (pm, fm), (pv, fv)):
            assert a.dtype == b.dtype == dtype
            np.testing.assert_array_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(
    b1=st.floats(0.0, 0.999),
    b2=st.floats(0.0, 0.9999),
    eps=st.floats(0.0, 1e-3),
    t=st.integers(1, 10_000),
    dec=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    **_hyper(),
)
def test_adam_fused_equals_rule_for_any_hyperparameters(b1, b2, eps, t, dec, dtype, lr, wd, seed):
    x, g, m = _arrays(64, dtype, seed, 3)
    v = (g * g).astype(dtype)
    px, pm, pv = R.adam_array(x, g, m, v, t, lr, b1, b2, eps, wd, dec)
    fx, fm, fv = x.copy(), m.copy(), v.copy()
    _fused.adam_(fx, g, fm, fv, t, lr, b1, b2, eps, wd, dec)
    for a, b in ((px, fx), (pm, fm), (pv, fv)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "momentum, dampening, nesterov",
    [(0.0, 0.0, False), (0.9, 0.0, False), (0.9, 0.3, False), (0.7, 0.0, True)],
)
def test_sgd_fused_equals_rule(n, dtype, momentum, dampening, nesterov):
    x, g, buf = _arrays(n, dtype, n + 1, 3)
    for first in (True, False):
        px, pb = R.sgd_array(x, g, buf, first, 0.05, momentum, dampening, nesterov, 0.01)
        fx, fb = x.copy(), buf.copy()
        _fused.sgd_(
            fx, g, fb if momentum else None, first, 0.05, momentum, dampening, nesterov, 0.01
        )
        np.testing.assert_array_equal(px, fx)
        if momentum:
            np.testing.assert_array_equal(pb, fb)


@settings(max_examples=25, deadline=None)
@given(
    mu=st.floats(0.0, 0.99),
    damp=st.floats(0.0, 1.0),
    first=st.booleans(),
    dtype=st.sampled_from(DTYPES),
    **_hyper(),
)
def test_sgd_fused_equals_rule_for_any_hyperparameters(mu, damp, first, dtype, lr, wd, seed):
    x, g, buf = _arrays(64, dtype, seed, 3)
    px, pb = R.sgd_array(x, g, buf, first, lr, mu, damp, False, wd)
    fx, fb = x.copy(), buf.copy()
    _fused.sgd_(fx, g, fb if mu else None, first, lr, mu, damp, False, wd)
    np.testing.assert_array_equal(px, fx)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("lr_decay, wd", [(0.0, 0.0), (0.1, 0.05)])
def test_adagrad_fused_equals_rule(n, dtype, lr_decay, wd):
    x, g, a = _arrays(n, dtype, n + 2, 3)
    acc = (a * a).astype(dtype)
    for t in (1, 7):
        px, pa = R.adagrad_array(x, g, acc, t, 0.1, lr_decay, wd, 1e-10)
        fx, fa = x.copy(), acc.copy()
        _fused.adagrad_(fx, g, fa, t, 0.1, lr_decay, wd, 1e-10)
        np.testing.assert_array_equal(px, fx)
        np.testing.assert_array_equal(pa, fa)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(
    "momentum, centered, wd",
    [(0.0, False, 0.0), (0.5, False, 0.1), (0.0, True, 0.0), (0.9, True, 0.01)],
)
def test_rmsprop_fused_equals_rule(n, dtype, momentum, centered, wd):
    x, g, b, c = _arrays(n, dtype, n + 3, 4)
    c = (0.1 * c).astype(dtype)
    sq = (c * c + np.abs(x)).astype(dtype)  # keeps E[g²] − E[g]² ≥ 0 for the centred form
    px, ps, pb, pc = R.rmsprop_array(x, g, sq, b, c, 0.01, 0.9, 1e-8, wd, momentum, centered)
    fx, fs, fb, fc = x.copy(), sq.copy(), b.copy(), c.copy()
    _fused.rmsprop_(
        fx,
        g,
        fs,
        fb if momentum else None,
        fc if centered else None,
        0.01,
        0.9,
        1e-8,
        wd,
        momentum,
        centered,
    )
    np.testing.assert_array_equal(px, fx)
    np.testing.assert_array_equal(ps, fs)
    if momentum:
        np.testing.assert_array_equal(pb, fb)
    if centered:
        np.testing.assert_array_equal(pc, fc)


def test_fusable():
    a = np.zeros((3, 4))
    assert _fused.fusable(a, np.ones((3, 4)), None)
    assert not _fused.fusable(a, np.ones((3, 4), np.float32))
    assert not _fused.fusable(np.asfortranarray(a))
    assert not _fused.fusable(a[:, ::2])
    assert not _fused.fusable(np.zeros(3, np.float16))
