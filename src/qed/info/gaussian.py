"""Entropy and KL divergence of multivariate normal distributions, in closed form.

With Σ = LLᵀ (Cholesky), log det Σ = 2 Σᵢ log Lᵢᵢ and no inverse is ever formed:

    H(N(μ, Σ)) = ½ log det(2πe Σ) = d/2 · (1 + log 2π) + Σᵢ log Lᵢᵢ

    D_KL(N₀ ‖ N₁) = ½ [ tr(Σ₁⁻¹Σ₀) + (μ₁ − μ₀)ᵀ Σ₁⁻¹ (μ₁ − μ₀) − d + log det Σ₁ − log det Σ₀ ]
                  = ½ [ ‖L₁⁻¹L₀‖_F² + ‖L₁⁻¹(μ₁ − μ₀)‖² − d + 2 Σᵢ (log L₁,ᵢᵢ − log L₀,ᵢᵢ) ]

where L₁⁻¹L₀ and L₁⁻¹(μ₁ − μ₀) are triangular solves. This is the continuous form of the notes'
D_KL(p‖q) = ∫ p log(p/q) dx ≥ 0.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError, cholesky, eigvalsh, solve_triangular

from qed._array_api import get_namespace
from qed._validation import check_array
from qed.certificate import scaled_tolerance
from qed.info._common import _log_base

__all__ = ["gaussian_entropy", "gaussian_kl"]


def _cholesky(cov: Any, name: str) -> np.ndarray:
    """Validate a covariance (scalar variance, 1-D diagonal, or (d, d)) and return its L."""
    arr = check_array(
        cov,
        input_name=name,
        ensure_2d=False,
        dtype=np.float64,
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    if arr.ndim == 0:
        arr = arr.reshape(1, 1)
    elif arr.ndim == 1:
        arr = np.diag(arr)  # a vector of variances, as scipy.stats.multivariate_normal reads it
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square (d, d) covariance matrix (or a vector of variances), got "
            f"shape {arr.shape}."
        )
    scale = float(np.max(np.abs(arr)))
    asym = float(np.max(np.abs(arr - arr.T)))
    tol = scaled_tolerance(scale, n=arr.shape[0])
    if asym > tol:
        raise ValueError(
            f"{name} is not symmetric (max |Σ − Σᵀ| = {asym:.3g}, tolerance {tol:.1g}); a "
            f"covariance matrix is symmetric: pass ({name} + {name}.T) / 2."
        )
    try:
        return cholesky(arr, lower=True, check_finite=False)
    except LinAlgError:
        smallest = float(eigvalsh(arr, check_finite=False)[0])
        raise ValueError(
            f"{name} is not positive definite (its Cholesky factorisation failed; smallest "
            f"eigenvalue {smallest:.3g}). A Gaussian's covariance must be symmetric positive "
            f"definite; for a (nearly) singular one add a small ridge, e.g. {name} + 1e-9·I."
        ) from None


def _mean(mu: Any, name: str, d: int) -> np.ndarray:
    arr = check_array(
        mu,
        input_name=name,
        ensure_2d=False,
        dtype=np.float64,
        ensure_min_samples=0,
        ensure_min_features=0,
    ).reshape(-1)
    if arr.shape != (d,):
        raise ValueError(
            f"{name} has {arr.size} entries but the covariance is {d}×{d}; pass a "
            f"mean of length {d}."
        )
    return arr


def gaussian_entropy(cov: Any, *, base: float | None = None) -> float:
    """Differential entropy of N(μ, Σ): ½ log det(2πe Σ) (independent of μ).

    Parameters
    ----------
    cov : array-like of shape (d, d), symmetric positive definite; a 1-D array is read as
        the diagonal, a scalar as a variance.
    base : None (nats) or the logarithm's base.

    Returns
    -------
    float; negative when det(2πeΣ) < 1 (differential entropy is not bounded below by 0).

    Examples
    --------
    >>> round(gaussian_entropy(1.0), 12) == round(0.5 * math.log(2 * math.pi * math.e), 12)
    True
    """
    xp, is_numpy = get_namespace(cov)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.gaussian_entropy(xp, cov, base=base)
    log_base = _log_base(base)
    L = _cholesky(cov, "cov")
    d = L.shape[0]
    h = 0.5 * d * (1.0 + math.log(2 * math.pi)) + float(np.sum(np.log(np.diag(L))))
    return h / log_base


def gaussian_kl(mu0: Any, cov0: Any, mu1: Any, cov1: Any, *, base: float | None = None) -> float:
    """D_KL(N(μ₀, Σ₀) ‖ N(μ₁, Σ₁)) in closed form through two Cholesky factorisations.

    Parameters
    ----------
    mu0, mu1 : array-like of shape (d,) (a scalar for d = 1).
    cov0, cov1 : array-like of shape (d, d), symmetric positive definite (1-D: diagonal).
    base : None (nats) or the logarithm's base.

    Returns
    -------
    float ≥ 0 (0 iff the two Gaussians are equal; a rounding residue below 0 is clipped).

    Examples
    --------
    >>> gaussian_kl([0.0], [[1.0]], [1.0], [[1.0]])   # ½(μ₁ − μ₀)²/σ²
    0.5
    """
    xp, is_numpy = get_namespace(mu0, cov0, mu1, cov1)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.gaussian_kl(xp, mu0, cov0, mu1, cov1, base=base)
    log_base = _log_base(base)
    L0 = _cholesky(cov0, "cov0")
    L1 = _cholesky(cov1, "cov1")
    if L0.shape != L1.shape:
        raise ValueError(
            f"cov0 is {L0.shape[0]}×{L0.shape[0]} but cov1 is {L1.shape[0]}×{L1.shape[0]}; "
            "both Gaussians must live in the same dimension."
        )
    d = L0.shape[0]
    m0 = _mean(mu0, "mu0", d)
    m1 = _mean(mu1, "mu1", d)
    M = solve_triangular(L1, L0, lower=True, check_finite=False)  # L₁⁻¹L₀
    z = solve_triangular(L1, m1 - m0, lower=True, check_finite=False)  # L₁⁻¹(μ₁ − μ₀)
    logdet = 2.0 * float(np.sum(np.log(np.diag(L1))) - np.sum(np.log(np.diag(L0))))
    kl = 0.5 * (float(np.sum(M * M)) + float(z @ z) - d + logdet)
    return max(kl, 0.0) / log_base
