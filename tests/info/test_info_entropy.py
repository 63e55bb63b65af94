"""Entropy, self-information, joint and conditional entropy against SciPy, closed forms and mpmath."""

from __future__ import annotations

import doctest
import importlib

import mpmath
import numpy as np
import pytest
import scipy.stats

from qed import info

BASES = [None, 2, 10, np.e, 1.5]


def _dirichlet(rng, shape, zeros=False):
    p = rng.dirichlet(np.full(shape[-1], 0.7), size=shape[:-1])
    if zeros:
        p = np.where(rng.random(p.shape) < 0.3, 0.0, p)
        p[..., 0] += 1e-3  # keep at least one positive entry per distribution
        p /= p.sum(axis=-1, keepdims=True)
    return p


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 2, 7, 100, 4096, 4097, 20_000])
@pytest.mark.parametrize("zeros", [False, True])
def test_entropy_matches_scipy_1d(seed, n, zeros):
    """H(p) = −Σ p log p equals scipy.stats.entropy(p) to 1e-12 (0·log 0 = 0 in both)."""
    p = _dirichlet(np.random.default_rng(seed), (n,), zeros)
    assert info.entropy(p) == pytest.approx(scipy.stats.entropy(p), rel=1e-12, abs=1e-13)


@pytest.mark.parametrize("base", BASES)
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -3, None])
@pytest.mark.parametrize("seed", range(3))
def test_entropy_matches_scipy_with_axis_and_base(base, axis, seed):
    rng = np.random.default_rng(seed)
    raw = rng.random((3, 5, 7)) * (rng.random((3, 5, 7)) > 0.2)
    raw[0, 0, 0] = raw[0, 0, 0] + 0.1
    raw[:, :, 0] += 0.01
    raw[:, 0, :] += 0.01
    raw[0, :, :] += 0.01
    expected = scipy.stats.entropy(raw, base=base, axis=axis)
    got = info.entropy(raw, base=base, axis=axis, normalize=True)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-13)
    # already-normalised input, no normalize flag needed
    norm = raw / (raw.sum() if axis is None else raw.sum(axis=axis, keepdims=True))
    np.testing.assert_allclose(
        info.entropy(norm, base=base, axis=axis), expected, rtol=1e-12, atol=1e-13
    )


def test_entropy_closed_forms():
    """0 for a point mass, log k for the uniform distribution (its maximum), 1 bit for a coin."""
    assert info.entropy([0.0, 1.0, 0.0]) == 0.0
    for k in (1, 2, 3, 10, 1000):
        assert info.entropy(np.full(k, 1 / k)) == pytest.approx(np.log(k), rel=1e-14, abs=0)
    assert info.entropy([0.5, 0.5], base=2) == pytest.approx(1.0, rel=1e-15)
    assert isinstance(info.entropy([0.5, 0.5]), np.floating)


def test_entropy_float32_and_lists_and_ints():
    p = np.array([0.25, 0.25, 0.5], dtype=np.float32)
    assert info.entropy(p) == pytest.approx(1.5 * np.log(2), rel=1e-7)
    assert info.entropy([1, 0]) == 0.0
    rng = np.random.default_rng(0)
    q = rng.random(1000).astype(np.float32)
    q /= q.sum()  # float32 rounding: the sum is off 1 by ~1e-7, within float32's tolerance
    assert info.entropy(q) == pytest.approx(scipy.stats.entropy(q.astype(np.float64)), rel=1e-6)


def test_entropy_at_extremes_against_mpmath():
    """Entries of 1e-300 and subnormals: compare with 50-digit mpmath on the same floats."""
    mpmath.mp.dps = 50
    p = np.array([1e-300, 5e-324, 1e-200, 0.25, 0.0, 0.75 - 1e-200])
    exact = -sum(mpmath.mpf(float(x)) * mpmath.log(mpmath.mpf(float(x))) for x in p if x > 0)
    assert info.entropy(p) == pytest.approx(float(exact), rel=1e-15)
    tiny = np.full(2000, 1e-300)
    tiny[0] = 1.0 - tiny[1:].sum()
    exact = -sum(mpmath.mpf(float(x)) * mpmath.log(mpmath.mpf(float(x))) for x in tiny)
    assert info.entropy(tiny) == pytest.approx(float(exact), rel=1e-13)


@pytest.mark.parametrize("base", [None, 2])
def test_self_information(base):
    """h(x) = −log p(x): 1 bit for probability 1/2, 0 for certainty, ∞ for the impossible."""
    got = info.self_information([0.5, 1.0, 0.0, 0.125], base=base)
    scale = 1.0 if base is None else np.log(2)
    np.testing.assert_allclose(got[:2], [np.log(2) / scale, 0.0], rtol=1e-15)
    assert got[2] == np.inf and got[1] == 0.0 and not np.signbit(got[1])
    assert info.self_information(0.125, base=2) == pytest.approx(3.0)
    assert info.self_information(np.full((2, 3), 0.5)).shape == (2, 3)


def test_self_information_is_additive_for_independent_events():
    """Notes: x, y independent ⇒ h(x, y) = h(x) + h(y)."""
    px, py = 0.3, 0.45
    assert info.self_information(px * py) == pytest.approx(
        info.self_information(px) + info.self_information(py), rel=1e-14
    )


@pytest.mark.parametrize("seed", range(5))
@pytest.mark.parametrize("shape", [(1, 1), (2, 3), (6, 4), (10, 1), (1, 8)])
def test_joint_and_conditional_entropy_against_definitions(seed, shape):
    """H(X,Y) = entropy of the flattened table (SciPy); H(Y|X) = Σₓ p(x) H(Y|X = x) (SciPy)."""
    rng = np.random.default_rng(seed)
    pxy = rng.random(shape) * (rng.random(shape) > 0.25)
    pxy.flat[0] += 0.05
    pxy /= pxy.sum()
    assert info.joint_entropy(pxy) == pytest.approx(
        scipy.stats.entropy(pxy.ravel()), rel=1e-12, abs=1e-14
    )
    px = pxy.sum(axis=1)
    expected = sum(px[i] * scipy.stats.entropy(pxy[i]) for i in range(shape[0]) if px[i] > 0)
    assert info.conditional_entropy(pxy) == pytest.approx(expected, rel=1e-12, abs=1e-14)
    assert info.conditional_entropy(pxy, base=2) == pytest.approx(
        expected / np.log(2), rel=1e-12, abs=1e-14
    )


def test_joint_entropy_of_independent_variables_adds():
    px = np.array([0.2, 0.3, 0.5])
    py = np.array([0.6, 0.4])
    pxy = np.outer(px, py)
    assert info.joint_entropy(pxy) == pytest.approx(info.entropy(px) + info.entropy(py), rel=1e-14)
    assert info.conditional_entropy(pxy) == pytest.approx(info.entropy(py), rel=1e-13)


def test_conditional_entropy_of_a_function_is_zero():
    """Y a function of X ⇒ H(Y|X) = 0."""
    pxy = np.array([[0.3, 0.0], [0.0, 0.2], [0.5, 0.0]])
    assert info.conditional_entropy(pxy) == 0.0


def test_normalize_accepts_counts():
    counts = np.array([[3, 1], [0, 4]])
    assert info.joint_entropy(counts, normalize=True) == pytest.approx(
        scipy.stats.entropy(counts.ravel()), rel=1e-14
    )
    with pytest.raises(ValueError, match="does not sum to 1"):
        info.joint_entropy(counts)


@pytest.mark.parametrize("module", ["entropy", "divergence", "mutual", "gaussian"])
def test_docstring_examples_run(module):
    # importlib: qed.info.entropy the attribute is the function, the module is shadowed
    module = importlib.import_module(f"qed.info.{module}")
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 1 and result.failed == 0
