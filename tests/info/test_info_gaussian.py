"""Gaussian entropy and KL against scipy.stats.multivariate_normal and torch.distributions."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats
import torch
from torch.distributions import MultivariateNormal, kl_divergence

from qed import info


def _spd(rng, d, cond=1e3):
    """A random symmetric positive definite matrix with a chosen condition number."""
    Q, _ = np.linalg.qr(rng.standard_normal((d, d)))
    eig = np.exp(rng.uniform(0, np.log(cond), d)) * rng.uniform(0.1, 10)
    S = (Q * eig) @ Q.T
    return (S + S.T) / 2


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 2, 5, 20])
@pytest.mark.parametrize("base", [None, 2])
def test_gaussian_entropy_matches_scipy(seed, d, base):
    """½ log det(2πeΣ) by Cholesky equals multivariate_normal(μ, Σ).entropy() (eigh) to 1e-10."""
    rng = np.random.default_rng(seed)
    cov = _spd(rng, d)
    expected = scipy.stats.multivariate_normal(np.zeros(d), cov).entropy()
    expected = expected if base is None else expected / np.log(base)
    assert info.gaussian_entropy(cov, base=base) == pytest.approx(expected, rel=1e-10, abs=1e-12)


def test_gaussian_entropy_scalar_and_diagonal():
    assert info.gaussian_entropy(2.5) == pytest.approx(
        scipy.stats.norm(scale=np.sqrt(2.5)).entropy(), rel=1e-14
    )
    var = np.array([0.5, 2.0, 3.0])
    assert info.gaussian_entropy(var) == pytest.approx(
        scipy.stats.multivariate_normal(np.zeros(3), var).entropy(), rel=1e-13
    )


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("d", [1, 3, 8, 25])
def test_gaussian_kl_matches_torch(seed, d):
    """Closed-form KL through Cholesky equals torch.distributions.kl_divergence (float64)."""
    rng = np.random.default_rng(seed)
    mu0, mu1 = rng.standard_normal(d), rng.standard_normal(d)
    c0, c1 = _spd(rng, d), _spd(rng, d)
    p = MultivariateNormal(torch.tensor(mu0), covariance_matrix=torch.tensor(c0))
    q = MultivariateNormal(torch.tensor(mu1), covariance_matrix=torch.tensor(c1))
    expected = float(kl_divergence(p, q))
    assert info.gaussian_kl(mu0, c0, mu1, c1) == pytest.approx(expected, rel=1e-10, abs=1e-12)
    assert info.gaussian_kl(mu0, c0, mu1, c1, base=2) == pytest.approx(
        expected / np.log(2), rel=1e-10, abs=1e-12
    )


def test_gaussian_kl_one_dimensional_closed_form():
    """D_KL(N(μ₀, σ₀²)‖N(μ₁, σ₁²)) = log(σ₁/σ₀) + (σ₀² + (μ₀ − μ₁)²)/(2σ₁²) − ½."""
    m0, s0, m1, s1 = 0.3, 1.7, -1.2, 0.6
    expected = np.log(s1 / s0) + (s0**2 + (m0 - m1) ** 2) / (2 * s1**2) - 0.5
    assert info.gaussian_kl(m0, s0**2, m1, s1**2) == pytest.approx(expected, rel=1e-14)


def test_gaussian_kl_properties():
    rng = np.random.default_rng(7)
    mu, cov = rng.standard_normal(4), _spd(rng, 4)
    assert info.gaussian_kl(mu, cov, mu, cov) == pytest.approx(0.0, abs=1e-13)
    mu1, cov1 = rng.standard_normal(4), _spd(rng, 4)
    forward = info.gaussian_kl(mu, cov, mu1, cov1)
    backward = info.gaussian_kl(mu1, cov1, mu, cov)
    assert forward > 0 and backward > 0 and abs(forward - backward) > 1e-3  # not symmetric


def test_not_positive_definite_is_a_clear_error():
    with pytest.raises(ValueError, match="not positive definite.*ridge"):
        info.gaussian_entropy([[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="cov1 is not positive definite"):
        info.gaussian_kl([0, 0], np.eye(2), [0, 0], np.zeros((2, 2)))


@pytest.mark.parametrize(
    ("args", "match"),
    [
        (([0, 0], np.eye(2), [0, 0, 0], np.eye(2)), "mu1 has 3 entries"),
        (([0, 0], np.eye(2), [0, 0, 0], np.eye(3)), "same dimension"),
        (([0, 0], [[1.0, 0.5], [0.0, 1.0]], [0, 0], np.eye(2)), "cov0 is not symmetric"),
        (([0, 0], np.ones((2, 3)), [0, 0], np.eye(2)), "square"),
        (([0, np.nan], np.eye(2), [0, 0], np.eye(2)), "NaN"),
    ],
)
def test_gaussian_kl_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        info.gaussian_kl(*args)
