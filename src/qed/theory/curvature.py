"""The extreme eigenvalues of a Hessian known only through Hessian-vector products: Lanczos
with a fixed budget of products, for second-order stationarity checks of non-convex fits.

At a point θ with ∇f(θ) ≈ 0, f has a local minimum only if ∇²f(θ) ⪰ 0; a direction u with
uᵀ∇²f(θ)u < 0 is a direction of descent that the gradient does not see (a saddle point). The
smallest eigenvalue λ_min(∇²f(θ)) is estimated here by k steps of the Lanczos process on
v ↦ ∇²f(θ)·v: from a random unit q₁ it builds an orthonormal basis Q_k of the Krylov space
span{q₁, Hq₁, …, H^{k−1}q₁} and the tridiagonal T_k = Q_kᵀ H Q_k, whose eigenvalues (the Ritz
values) approximate H's extreme eigenvalues first. Every Ritz value lies in [λ_min, λ_max]
(Cauchy interlacing), so the smallest Ritz value can only over-estimate λ_min: it is an
estimate, not a bound. Each step is one product; the basis is reorthogonalised in full (twice,
classical Gram–Schmidt), which keeps Q_k orthonormal to rounding. When k ≥ d the Krylov
space is the whole space and the Ritz values are H's eigenvalues up to rounding.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from scipy import linalg

from qed._validation import check_random_state, check_scalar

__all__ = ["LanczosEstimate", "extreme_eigenvalues"]


class LanczosEstimate(NamedTuple):
    """The extreme Ritz values of k Lanczos steps.

    ``smallest`` ≥ λ_min and ``largest`` ≤ λ_max (interlacing); ``residual`` = ‖Hx − θx‖ for
    the Ritz pair (θ, x) of ``smallest`` (H has an eigenvalue within ``residual`` of it);
    ``n_products`` the Hessian-vector products spent.
    """

    smallest: float
    largest: float
    residual: float
    n_products: int


def extreme_eigenvalues(
    hvp: Callable[[np.ndarray], np.ndarray],
    dim: int,
    *,
    n_products: int = 40,
    random_state: Any = None,
) -> LanczosEstimate:
    """The smallest and largest eigenvalues of a symmetric operator ``v ↦ Hv`` by Lanczos.

    Parameters
    ----------
    hvp : callable
        Maps a vector of shape (dim,) to H @ v of shape (dim,); H must be symmetric.
    dim : int
        The dimension d of the operator.
    n_products : int, default 40
        The budget k: k = min(n_products, d) products. With k ≥ d the result is exact up to
        rounding; with k < d the extreme Ritz values converge first, fastest where the
        extreme eigenvalue is well separated from the rest.
    random_state : int, Generator or None
        The random start q₁ ~ N(0, I)/‖·‖ (and the restart vectors, when the Krylov space
        closes early on an invariant subspace).

    Returns
    -------
    LanczosEstimate
        (smallest, largest, residual, n_products).
    """
    dim = check_scalar(dim, "dim", target_type=numbers.Integral, min_val=1)
    n_products = check_scalar(n_products, "n_products", target_type=numbers.Integral, min_val=1)
    rng = check_random_state(random_state)
    k = min(int(n_products), int(dim))
    Q = np.zeros((k, dim))
    alpha = np.zeros(k)
    beta = np.zeros(k)  # beta[j] couples q_j and q_{j+1}; beta[k-1] is the last residual
    q = rng.standard_normal(dim)
    q /= np.linalg.norm(q)
    scale = 0.0
    for j in range(k):
        Q[j] = q
        w = np.asarray(hvp(q), dtype=np.float64).reshape(-1)
        if w.shape != (dim,):
            raise ValueError(f"hvp must return a vector of shape ({dim},), got {w.shape}.")
        if not np.all(np.isfinite(w)):
            raise ValueError(
                "the Hessian-vector product is not finite; the loss or its derivatives "
                "overflowed at these parameters."
            )
        alpha[j] = q @ w
        basis = Q[: j + 1]
        for _ in range(2):  # twice is enough (Kahan–Parlett): Q stays orthonormal to rounding
            w -= basis.T @ (basis @ w)
        beta[j] = np.linalg.norm(w)
        scale = max(scale, abs(alpha[j]), beta[j])
        if j + 1 == k:
            break
        if beta[j] > 1e-12 * scale:
            q = w / beta[j]
            continue
        # The Krylov space closed on an invariant subspace: restart orthogonally to it, and T
        # splits into blocks (β_j = 0), whose eigenvalues are still Ritz values of H.
        beta[j] = 0.0
        q = rng.standard_normal(dim)
        for _ in range(2):
            q -= basis.T @ (basis @ q)
        q /= np.linalg.norm(q)
    if k == 1:
        theta, S = alpha[:1], np.ones((1, 1))
    else:
        theta, S = linalg.eigh_tridiagonal(alpha, beta[:-1])
    # ‖HQs − θQs‖ = |β_k|·|s_k| for the Ritz pair (θ, Qs) of the last block
    residual = float(abs(beta[k - 1] * S[k - 1, 0]))
    return LanczosEstimate(float(theta[0]), float(theta[-1]), residual, k)
