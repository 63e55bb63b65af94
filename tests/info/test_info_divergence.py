"""KL divergence and cross entropy against scipy.stats.entropy(p, q), torch and mpmath."""

from __future__ import annotations

import mpmath
import numpy as np
import pytest
import scipy.special
import scipy.stats
import torch

from qed import info


def _pair(rng, shape, zeros=False):
    p = rng.dirichlet(np.full(shape[-1], 0.8), size=shape[:-1])
    q = rng.dirichlet(np.full(shape[-1], 0.8), size=shape[:-1])
    if zeros:  # zeros in p anywhere; zeros in q only where p = 0 (else KL = inf)
        p = np.where(rng.random(p.shape) < 0.3, 0.0, p)
        p[..., 0] += 1e-3
        p /= p.sum(axis=-1, keepdims=True)
        q = np.where((p == 0) & (rng.random(q.shape) < 0.5), 0.0, q)
        q /= q.sum(axis=-1, keepdims=True)
    return p, q


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("n", [1, 3, 64, 4095, 4096, 4097, 30_000])
@pytest.mark.parametrize("zeros", [False, True])
def test_kl_matches_scipy_1d(seed, n, zeros):
    """D_KL(p‖q) = Σ p log(p/q) equals scipy.stats.entropy(p, q) (= Σ rel_entr) to 1e-12."""
    p, q = _pair(np.random.default_rng(seed), (n,), zeros)
    assert info.kl_divergence(p, q) == pytest.approx(
        scipy.stats.entropy(p, q), rel=1e-11, abs=1e-13
    )


@pytest.mark.parametrize("base", [None, 2, 10])
@pytest.mark.parametrize("axis", [0, 1, -1, None])
@pytest.mark.parametrize("seed", range(3))
def test_kl_matches_scipy_with_axis_and_base(base, axis, seed):
    rng = np.random.default_rng(seed)
    p = rng.random((6, 9)) + 0.01
    q = rng.random((6, 9)) + 0.01
    expected = scipy.stats.entropy(p, q, base=base, axis=axis)
    got = info.kl_divergence(p, q, base=base, axis=axis, normalize=True)
    np.testing.assert_allclose(got, expected, rtol=1e-11, atol=1e-14)


@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("seed", range(3))
def test_cross_entropy_matches_its_definition(axis, seed):
    """H_p(q) = −Σ p log q with scipy.special.xlogy as the oracle (0·log q = 0)."""
    rng = np.random.default_rng(seed)
    p, q = _pair(rng, (5, 40), zeros=True)
    p, q = np.moveaxis(p, -1, axis), np.moveaxis(q, -1, axis)
    expected = -scipy.special.xlogy(p, q).sum(axis=axis)
    np.testing.assert_allclose(info.cross_entropy(p, q, axis=axis), expected, rtol=1e-12)


@pytest.mark.parametrize("seed", range(3))
def test_cross_entropy_matches_torch_cross_entropy_with_soft_targets(seed):
    """torch.nn.functional.cross_entropy(log q, p) with probability targets is −Σ p log q."""
    rng = np.random.default_rng(seed)
    p, q = _pair(rng, (8, 11))
    logits = torch.tensor(np.log(q), dtype=torch.float64)
    target = torch.tensor(p, dtype=torch.float64)
    expected = torch.nn.functional.cross_entropy(logits, target, reduction="none").numpy()
    np.testing.assert_allclose(info.cross_entropy(p, q, axis=1), expected, rtol=1e-12)


def test_infinite_where_q_vanishes_under_p():
    """q(x) = 0 < p(x) ⇒ D_KL = H_p(q) = ∞; p(x) = 0 terms contribute 0 whatever q(x)."""
    assert info.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert info.cross_entropy([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert info.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert info.kl_divergence([1.0, 0.0], [1.0, 0.0]) == 0.0
    rows = info.kl_divergence([[0.5, 0.5], [1.0, 0.0]], [[1.0, 0.0], [1.0, 0.0]], axis=1)
    assert rows[0] == np.inf and rows[1] == 0.0


def test_kl_of_identical_distributions_is_exactly_zero():
    p = np.random.default_rng(0).dirichlet(np.ones(1000))
    assert info.kl_divergence(p, p) == 0.0
    assert info.cross_entropy(p, p) == pytest.approx(info.entropy(p), rel=1e-14)


def test_kl_at_extremes_against_mpmath():
    """1e-300 and subnormal probabilities: log(p/q) must not overflow with p/q (p = 1,
    q = 1e-320: p/q = inf in floating point, the true term is 736.8…)."""
    mpmath.mp.dps = 50

    def exact(p, q):
        return float(
            sum(
                mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(a)) / mpmath.mpf(float(b)))
                for a, b in zip(p, q)
                if a > 0
            )
        )

    p = np.array([1.0, 0.0])
    q = np.array([1e-320, 1.0])
    assert info.kl_divergence(p, q) == pytest.approx(exact(p, q), rel=1e-14)
    with np.errstate(over="ignore"):
        assert np.isinf(p[0] / q[0])  # the naive ratio overflows
    p = np.array([0.5, 0.5, 1e-300, 1e-310])
    q = np.array([1e-300, 0.5, 0.5, 5e-324])
    assert info.kl_divergence(p, q) == pytest.approx(exact(p, q), rel=1e-14)
    rng = np.random.default_rng(1)
    p = np.exp(rng.uniform(-700, 0, 300))
    q = np.exp(rng.uniform(-700, 0, 300))
    p /= p.sum()
    q /= q.sum()
    assert info.kl_divergence(p, q) == pytest.approx(exact(p, q), rel=1e-13)
    cross = -float(
        sum(mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(b))) for a, b in zip(p, q) if a > 0)
    )
    assert info.cross_entropy(p, q) == pytest.approx(cross, rel=1e-13)


def test_kl_near_zero_keeps_relative_accuracy():
    """p and q a hair apart: D_KL ≈ ½ χ², small but accurate (log of the ratio, not a difference)."""
    mpmath.mp.dps = 50
    rng = np.random.default_rng(3)
    p = rng.dirichlet(np.ones(500))
    q = p * (1 + 1e-6 * rng.standard_normal(500))
    q /= q.sum()
    exact = float(
        sum(
            mpmath.mpf(float(a)) * mpmath.log(mpmath.mpf(float(a)) / mpmath.mpf(float(b)))
            for a, b in zip(p, q)
        )
    )
    assert info.kl_divergence(p, q) == pytest.approx(exact, rel=1e-6)
