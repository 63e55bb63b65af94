"""The fused sigmoid pass (loss as the log of a product, max|X| on the way) against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, log_expit

from qed.classify import _logistic_loss as L


def _reference(Theta, X, y, sw, alpha):
    """f, ∇f, s·σ(1 − σ) straight from scipy's log_expit / expit, with the intercept."""
    z = X @ Theta[0, :-1] + Theta[0, -1]
    f = -float(sw @ log_expit((2.0 * y - 1.0) * z)) + 0.5 * alpha * float(
        Theta[0, :-1] @ Theta[0, :-1]
    )
    r = sw * (expit(z) - y)
    G = np.append(r @ X + alpha * Theta[0, :-1], r.sum())[None, :]
    return f, G, sw * expit(z) * expit(-z)


@pytest.mark.parametrize("n", [1, 5, 8, 300, 9000])
@pytest.mark.parametrize("weights", ["none", "mixed", "scaled"])
@pytest.mark.parametrize("scale", [0.1, 3.0, 40.0])
def test_binary_loss_grad_matches_scipy(n, weights, scale):
    # scale 40 pushes most |z| far beyond log(n/4), where eᵢ < 4/n takes log1p; 0.1 keeps
    # every row on the product; "mixed" weights send the rows with sᵢ ≠ s₁ to log1p
    rng = np.random.default_rng(n)
    d = 7
    X = rng.standard_normal((n, d))
    y = (rng.random(n) < 0.5).astype(np.int64)
    sw = {
        "none": np.ones(n),
        "scaled": np.full(n, 7.75),
        "mixed": np.where(rng.random(n) < 0.5, 1.0, rng.random(n) * 3),
    }[weights]
    Theta = scale * rng.standard_normal((1, d + 1)) / np.sqrt(d)
    found: list = []
    f, G, w = L.binary_loss_grad(Theta, X, y, sw, 0.5, True, found)
    f_ref, G_ref, w_ref = _reference(Theta, X, y.astype(float), sw, 0.5)
    eps = np.finfo(float).eps
    # rounding of an n-term sum of terms of size ≤ |f|; the product adds ≤ eps/2 per row
    assert abs(f - f_ref) <= 4 * n * eps * abs(f_ref) + 1e-300
    np.testing.assert_allclose(G, G_ref, rtol=1e-12, atol=1e-12 * np.abs(G_ref).max())
    np.testing.assert_allclose(w, w_ref, rtol=1e-12, atol=0)
    assert found == [np.abs(X).max()]


def test_tiny_losses_keep_their_relative_precision():
    # every row predicted with e ~ 1e-20: 1 + e rounds to 1, so these rows must take log1p
    rng = np.random.default_rng(0)
    n, d = 5000, 3
    X = rng.standard_normal((n, d))
    w = np.array([50.0, 0.0, 0.0])
    y = (X @ w > 0).astype(np.int64)
    X[:, 0] += np.where(y == 1, 1.0, -1.0)  # margin ≥ 1: |z| ≥ 50
    Theta = np.append(w, 0.0)[None, :]
    f, _, _ = L.binary_loss_grad(Theta, X, y, np.ones(n), 0.0, True)
    f_ref = -float(np.sum(log_expit((2.0 * y - 1.0) * (X @ w))))
    assert 0 < f_ref < 1e-15
    assert abs(f - f_ref) <= 1e-12 * f_ref
