"""The fused numba kernels: their vectorised logarithm against mpmath, their sums against numpy."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import scipy.special

from qed.info import _kernels

mpmath.mp.dps = 40


def _ulps(got, exact):
    """|got − exact| in units of the spacing of float64 at ``exact``."""
    return float(abs(mpmath.mpf(float(got)) - exact) / np.spacing(abs(float(exact))))


def _samples(rng):
    special = [
        5e-324,
        1e-310,
        2.2250738585072014e-308,
        1e-300,
        0.5,
        1.0,
        2.0,
        np.sqrt(2),
        np.nextafter(np.sqrt(2), 0),
        np.nextafter(np.sqrt(0.5), 0),
        np.sqrt(0.5),
        np.nextafter(1.0, 0),
        np.nextafter(1.0, 2),
        1.7976931348623157e308,
        np.e,
    ]
    return np.concatenate(
        [
            special,
            rng.random(300),
            np.exp(rng.uniform(-744, 709, 300)),
            1 + rng.uniform(-1e-3, 1e-3, 200),
        ]
    )


def test_log_is_within_one_ulp_of_mpmath():
    """fdlibm's log (the kernels' own, SIMD-friendly) is accurate to < 1 ulp, subnormals included."""
    x = _samples(np.random.default_rng(0))
    got = _kernels.log_array(x)
    worst = max(_ulps(g, mpmath.log(mpmath.mpf(float(v)))) for g, v in zip(got, x) if v != 1.0)
    assert worst < 1.0
    assert _kernels.log_array(np.array([1.0]))[0] == 0.0


def test_log_ratio_is_accurate_without_overflow():
    """log(x/y) from mantissas and exponents, even where x/y overflows or underflows: the
    rounding of mₓ/m_y (relative ≤ 2⁻⁵³) moves the log by ≤ 2⁻⁵³, the log adds < 1 ulp."""
    rng = np.random.default_rng(1)
    x = _samples(rng)
    for y in (rng.permutation(x), x * (1 - rng.uniform(0, 1e-9, x.size))):  # no overflow at FMAX
        got = _kernels.log_ratio_array(x, y)
        for g, a, b in zip(got, x, y):
            exact = mpmath.log(mpmath.mpf(float(a)) / mpmath.mpf(float(b)))
            bound = np.spacing(abs(float(exact))) + 2.0**-53
            assert float(abs(mpmath.mpf(float(g)) - exact)) <= bound


@pytest.mark.parametrize("n", [1, 7, 31, 4095, 4096, 4097, 12_289])
@pytest.mark.parametrize("m", [1, 3])
def test_fused_kernels_equal_the_numpy_formulas(n, m):
    """One pass gives Σp, the count of invalid entries and Σ p·log(·), across block edges."""
    rng = np.random.default_rng(n + m)
    P = rng.random((m, n)) * (rng.random((m, n)) > 0.3)
    Q = rng.random((m, n)) * (rng.random((m, n)) > 0.3)
    sums, bad, acc = _kernels.entropy_rows(P)
    np.testing.assert_allclose(sums, P.sum(axis=1), rtol=1e-13)
    np.testing.assert_array_equal(bad, 0)
    np.testing.assert_allclose(acc, scipy.special.xlogy(P, P).sum(axis=1), rtol=1e-12, atol=1e-300)
    sp, sq, bad, inf, kl = _kernels.kl_rows(P, Q)
    np.testing.assert_allclose(sq, Q.sum(axis=1), rtol=1e-13)
    np.testing.assert_array_equal(inf, ((P > 0) & (Q == 0)).sum(axis=1))
    finite = np.where(Q > 0, scipy.special.rel_entr(P, Q), 0.0).sum(axis=1)
    np.testing.assert_allclose(kl, finite, rtol=1e-11, atol=1e-12)
    _, _, _, inf, ce = _kernels.cross_rows(P, Q)
    np.testing.assert_allclose(
        ce, np.where(Q > 0, scipy.special.xlogy(P, Q), 0.0).sum(axis=1), rtol=1e-12, atol=1e-300
    )


@pytest.mark.parametrize("value", [np.nan, np.inf, -np.inf, -1e-300, -5.0])
def test_fused_kernels_flag_invalid_entries(value):
    P = np.full((2, 5000), 1 / 5000)
    P[1, 4321] = value
    _, bad, _ = _kernels.entropy_rows(P)
    np.testing.assert_array_equal(bad, [0, 1])
    _, _, bad, _, _ = _kernels.kl_rows(P, P[::-1].copy())
    np.testing.assert_array_equal(bad, [1, 1])


def test_large_sum_is_accurate():
    """Blocked accumulation: the sum of 10⁶ entries is within a few ulps of math.fsum."""
    import math

    p = np.random.default_rng(5).random(1_000_000)
    sums, _, acc = _kernels.entropy_rows(p.reshape(1, -1))
    assert abs(sums[0] - math.fsum(p)) <= 1e-14 * math.fsum(p)
    assert abs(acc[0] - math.fsum(scipy.special.xlogy(p, p))) <= 1e-13 * abs(acc[0])
