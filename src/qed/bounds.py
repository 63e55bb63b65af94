"""Rigorous error bounds from a certificate's measured quantities.

The notes' strong convexity: if f is μ-strongly convex on a convex set holding θ and θ*, then

    f(θ) − f* ≤ ‖∇f(θ)‖²/(2μ)    and    ‖θ − θ*‖ ≤ ‖∇f(θ)‖/μ,

from f* ≥ f(θ) + ∇f(θ)ᵀ(θ* − θ) + (μ/2)‖θ* − θ‖² minimised over θ*, and from the monotone
gradient (∇f(θ) − ∇f(θ*))ᵀ(θ − θ*) ≥ μ‖θ − θ*‖². Both need a μ that is *safe*: never above
the true smallest eigenvalue of the Hessian. A computed λ_min can be off by rounding in either
direction, so ``safe_min_eigenvalue`` subtracts what the eigendecomposition's own residual
and the formation of H may have moved it by (Weyl's inequality). The measured gradient is
itself rounded: callers add a rounding bound to ‖∇f‖ before dividing (``rounding``).

For the non-quadratic objectives (logistic) the Hessian changes with θ: ``ball_strong_convexity``
finds a radius r and a μ that holds on the whole ball B(θ, r), with r large enough that θ*
must lie inside it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from scipy.linalg import cholesky, eigh, eigvalsh

__all__ = [
    "EIGEN_DENSE_MAX",
    "rounding",
    "safe_min_eigenvalue",
    "strongly_convex_bounds",
    "ball_strong_convexity",
]

#: Largest matrix whose eigendecomposition a certificate computes to find a safe μ; above it
#: the models fall back to a lower bound they know in closed form (the penalty α).
EIGEN_DENSE_MAX = 2048

_EPS = float(np.finfo(np.float64).eps)


def rounding(n_terms: int, size: float, dtype: Any = np.float64) -> float:
    """Higham's γₘ·size = m·eps/(1 − m·eps)·size: the rounding error of a sum (or dot
    product) of m terms whose absolute values add up to at most ``size``, computed in
    ``dtype`` (float32 statistics round 2²⁹ times coarser than float64 ones)."""
    eps = float(np.finfo(dtype).eps) if np.dtype(dtype).kind == "f" else _EPS
    m = max(int(n_terms), 1) * eps
    return float(m / (1.0 - m) * size) if m < 0.5 else np.inf


def safe_min_eigenvalue(H: np.ndarray, *, formation_error: float = 0.0) -> float:
    """A lower bound on λ_min of the exact symmetric matrix that H is a computed copy of.

    H : ndarray of shape (m, m); ``formation_error`` bounds ‖H − H_exact‖₂ (the rounding of
    forming H from data). The computed eigenvalues λ̂ (no vectors) suggest a shift τ just
    below λ̂_min, and a Cholesky factorisation of A = H − τI proves it: if it completes in
    floating point, RᵀR = A + E with |Eᵢⱼ| ≤ γₘ₊₁√(aᵢᵢaⱼⱼ) (Demmel), so ‖E‖₂ ≤ γ'·trace(A),
    A + E ⪰ 0 and λ_min(H) ≥ τ − γ'·trace(A) − (the rounding of forming A). Should no shift
    factor, the eigendecomposition itself is checked (``_weyl_lower_bound``). Returns −inf
    for a matrix with non-finite entries.
    """
    H = np.asarray(H, dtype=np.float64)
    m = H.shape[0]
    if m == 0:
        return np.inf
    if not np.all(np.isfinite(H)):
        return -np.inf
    Hs = 0.5 * (H + H.T)
    asymmetry = float(np.linalg.norm(H - Hs))  # the exact matrix is symmetric
    lam_min = float(eigvalsh(Hs, subset_by_index=[0, 0], check_finite=False)[0])
    diag = np.diag(Hs)
    scale = float(np.abs(diag).sum()) + m * abs(lam_min) + float(np.abs(Hs).max()) * m
    gamma = rounding(m + 1, 1.0) / (1.0 - rounding(m + 1, 1.0))
    delta = 4.0 * gamma * scale
    for _ in range(6):  # a shift too close to λ_min may not factor: step further down
        tau = lam_min - delta
        A = Hs - tau * np.eye(m)
        try:
            cholesky(A, lower=True, overwrite_a=True, check_finite=False)
        except np.linalg.LinAlgError:
            delta *= 8.0
            continue
        trace_a = float(np.sum(diag - tau))
        shift_rounding = rounding(2, float(np.max(np.abs(diag - tau))))
        lower = tau - gamma * trace_a - shift_rounding
        return lower - asymmetry - float(formation_error)
    return _weyl_lower_bound(Hs) - asymmetry - float(formation_error)


def _weyl_lower_bound(Hs: np.ndarray) -> float:
    """λ_min from the full eigendecomposition and its residual: with HV̂ ≈ V̂Λ̂, R = HV̂ − V̂Λ̂
    and η = ‖V̂ᵀV̂ − I‖₂, V̂ is η from an orthogonal Q, so QᵀHQ = Λ̂ + F with ‖F‖ ≤ ‖R‖ +
    (‖H‖ + ‖Λ̂‖)η, and Weyl's inequality gives λ_min ≥ λ̂_min − ‖F‖ (Frobenius norms bound
    the spectral ones; R's own rounding is added). −inf when V̂ is not nearly orthogonal."""
    m = Hs.shape[0]
    lam, V = eigh(Hs, check_finite=False)
    R = Hs @ V - V * lam
    eta = float(np.linalg.norm(V.T @ V - np.eye(m)))
    if eta >= 0.5:
        return -np.inf
    h_norm = float(np.linalg.norm(Hs))
    lam_norm = float(np.abs(lam).max())
    slack = (
        float(np.linalg.norm(R))
        + (h_norm + lam_norm) * eta
        + rounding(m + 2, 2.0 * (h_norm + lam_norm) * np.sqrt(m))
    )
    return float(lam[0]) - slack


def strongly_convex_bounds(
    grad_norm: float, mu: float, *, feature_norm: float | None = None
) -> dict[str, float]:
    """``objective_gap`` ‖g‖²/(2μ), ``distance`` ‖g‖/μ and, when ``feature_norm`` = max‖x̃ᵢ‖
    is given, ``prediction`` max‖x̃ᵢ‖·‖g‖/μ ≥ max|x̃ᵢᵀ(θ − θ*)|. ``grad_norm`` must already
    include its rounding; μ ≤ 0 (no strong convexity) gives infinite bounds."""
    if not (mu > 0 and np.isfinite(grad_norm)):
        out = {"objective_gap": np.inf, "distance": np.inf}
        if feature_norm is not None:
            out["prediction"] = np.inf
        return out
    distance = grad_norm / mu
    out = {"objective_gap": grad_norm * distance / 2.0, "distance": distance}
    if feature_norm is not None:
        out["prediction"] = feature_norm * distance
    return out


def ball_strong_convexity(
    grad_norm: float, mu_on_ball: Callable[[float], float], mu0: float, *, tries: int = 9
) -> tuple[float, float]:
    """A radius r and a μ > 0 valid on the ball B(θ, r), with θ* inside that ball.

    ``mu_on_ball(r)`` must return a safe lower bound on λ_min(∇²f) over all of B(θ, r) and
    ``mu0`` the one at θ itself. If f is μ_r-strongly convex on B(θ, r) and ‖∇f(θ)‖ < μ_r·r/2,
    every θ′ on the sphere has f(θ′) ≥ f(θ) − ‖g‖r + μ_r r²/2 > f(θ), so (f being convex) the
    minimiser lies inside, where the strongly convex bounds hold with μ_r. As μ_r ≤ μ₀, r
    must exceed 2‖g‖/μ₀; the radii tried grow from just above it by factors 1.1, 1.25, 1.5, 2,
    …, since μ_r·r rises and then falls with r. Returns (r, μ_r), or (inf, 0.0) when no
    radius works (θ far from the optimum, or no curvature).
    """
    if not (mu0 > 0 and np.isfinite(grad_norm)):
        return np.inf, 0.0
    if grad_norm == 0.0:
        return 0.0, mu0
    smallest = 2.0 * grad_norm / mu0
    for factor in (1.1, 1.25, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 100.0)[:tries]:
        r = factor * smallest
        mu = mu_on_ball(r)
        if mu > 0 and 2.0 * grad_norm < mu * r:
            return r, mu
    return np.inf, 0.0
