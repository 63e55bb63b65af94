"""Error bounds of a (ridge-)regularised least-squares fit, from its normal-equation residual.

In the centered coordinates (β, c) with c = b − ȳ + x̄ᵀβ the objective of the notes splits
(Σwᵢx_cᵢ = 0 kills the cross term):

    f(β, b) = ‖y − Xβ − b‖²_W + α‖β‖² = ‖y_c − X_cβ‖²_W + α‖β‖² + Σw·c²,

a quadratic with Hessian 2·diag(X_cᵀWX_c + αI, Σw) and its minimum at c* = 0. With the
normal-equation residual g = X_cᵀW(y_c − X_cβ) − αβ = −(X_cᵀWX_c + αI)(β − β*) and
μ ≤ λ_min(X_cᵀWX_c) + α:

    f − f* = gᵀ(X_cᵀWX_c + αI)⁻¹g + Σw·c² ≤ ‖g‖²/μ + Σw·c²,
    ‖β − β*‖ ≤ ‖g‖/μ,   |b − b*| = |c − x̄ᵀ(β − β*)| ≤ |c| + ‖x̄‖·‖β − β*‖,
    |ŷᵢ − ŷᵢ*| = |x_cᵢᵀ(β − β*) + c| ≤ ‖x_cᵢ‖·‖β − β*‖ + |c|.

μ comes from ``qed.bounds.safe_min_eigenvalue`` of the centered Gram (kept at fit or formed
from X) plus α; when the Gram is too large to decompose, or singular (d > n), μ = α, exact
because the Gram is positive semidefinite.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed.bounds import EIGEN_DENSE_MAX, rounding, safe_min_eigenvalue

__all__ = ["least_squares_bounds", "kernel_ridge_bounds"]


def least_squares_bounds(
    gram: np.ndarray | None,
    grad: np.ndarray,
    c: np.ndarray,
    alpha: np.ndarray,
    *,
    x_mean: np.ndarray,
    sw_sum: float,
    n_samples: int,
    grad_error: float,
    c_error: float,
    row_norm_max: float | None = None,
    dtype: Any = np.float64,
) -> tuple[dict[str, float], str]:
    """The bounds above, summed over targets (``distance`` is the Euclidean norm over all
    coefficients and intercepts; ``prediction`` the largest over targets and rows).

    gram : (d, d) centered X_cᵀWX_c or None; grad : (d, t) the residual g; c : (t,) the
    intercept offsets (zeros without an intercept); alpha : (t,); ``grad_error`` and
    ``c_error`` bound the rounding of ‖gₜ‖ and |cₜ|; ``row_norm_max`` = max‖x_cᵢ‖ over the
    rows certified (None: no prediction bound, e.g. certified from statistics alone);
    ``dtype`` the precision the Gram was formed in.
    """
    lam = 0.0
    note_mu = "μ = α (the Gram is too large or singular to decompose)"
    if gram is not None:
        trace = float(np.trace(gram)) + sw_sum * float(x_mean @ x_mean)
        formation = rounding(n_samples + 2, trace, dtype)
        lam = max(safe_min_eigenvalue(gram, formation_error=formation), 0.0)
        note_mu = "μ = safe λ_min(X_cᵀWX_c) + α"
    mu = lam + np.asarray(alpha, dtype=np.float64)
    g = np.linalg.norm(grad, axis=0) + grad_error
    c_abs = np.abs(c) + c_error
    with np.errstate(divide="ignore", invalid="ignore"):
        dist_beta = np.where(mu > 0, g / np.where(mu > 0, mu, 1.0), np.inf)
        gap = np.where(mu > 0, g * dist_beta, np.inf) + sw_sum * c_abs**2
        dist_b = c_abs + float(np.linalg.norm(x_mean)) * dist_beta
    distance = float(np.sqrt(np.sum(dist_beta**2 + dist_b**2)))
    bounds = {"objective_gap": float(np.sum(gap)), "distance": distance}
    if row_norm_max is not None:
        bounds["prediction"] = float(np.max(row_norm_max * dist_beta + c_abs))
    rows = " and on max|ŷ − ŷ*| over the rows certified" if row_norm_max is not None else ""
    note = (
        "bounds on f(β, b) = ‖y − Xβ − b‖²_W + α‖β‖² (summed over targets), on ‖(β, b) − "
        f"(β*, b*)‖₂{rows}; {note_mu}"
    )
    if not np.all(mu > 0):
        note += "; μ = 0: X_c has no full column rank, so β* is not unique and no bound exists"
    return bounds, note


def kernel_ridge_bounds(
    K: np.ndarray, grad: np.ndarray, w: np.ndarray, alpha: np.ndarray, *, grad_error: float
) -> tuple[dict[str, float], str]:
    """Bounds for J(f) = ‖y − f(X)‖²_W + λ‖f‖²_H over the RKHS, at f = Σⱼ aⱼk(xⱼ, ·).

    The RKHS gradient of J is ∇J = −2Σᵢ gᵢk(xᵢ, ·) with g = W(y − Ka) − λa (the dual
    equations' residual), so ‖∇J‖²_H = 4gᵀKg. On the span of the k(xᵢ, ·), where f and f*
    lie, the data term's curvature is at least κ = λ_min(W^½KW^½) ≥ 0, so J is
    2(λ + κ)-strongly convex there: J − J* ≤ gᵀKg/(λ + κ), ‖f − f*‖_H ≤ √(gᵀKg)/(λ + κ) and,
    by the reproducing property, |f(x) − f*(x)| ≤ √k(x, x)·‖f − f*‖_H.

    K : (n, n); grad : (n, t); w : (n,); alpha : (t,); ``grad_error`` bounds the rounding
    of ‖gₜ‖.
    """
    n = K.shape[0]
    k_norm = float(np.linalg.norm(K))
    kappa = 0.0
    if n <= EIGEN_DENSE_MAX:
        root = np.sqrt(w)
        kappa = max(
            safe_min_eigenvalue(
                root[:, None] * K * root[None, :],
                formation_error=rounding(4, k_norm * float(np.max(w, initial=0.0))),
            ),
            0.0,
        )
    mu = kappa + np.asarray(alpha, dtype=np.float64)
    quad = np.einsum("it,it->t", grad, K @ grad)
    g_k = np.sqrt(np.maximum(quad, 0.0)) + np.sqrt(k_norm) * grad_error
    with np.errstate(divide="ignore"):
        dist = np.where(mu > 0, g_k / np.where(mu > 0, mu, 1.0), np.inf)
    diag = np.sqrt(np.maximum(np.diag(K), 0.0))
    bounds = {
        "objective_gap": float(np.sum(g_k * dist)),
        "distance": float(np.sqrt(np.sum(dist**2))),
        "prediction": float(np.max(diag, initial=0.0) * np.max(dist)),
    }
    note = (
        "bounds on J(f) = ‖y − f(X)‖²_W + λ‖f‖²_H (summed over targets), on ‖f − f*‖_H in "
        "the kernel's RKHS (f = Σαⱼk(xⱼ, ·); distance is not in the coordinates α) and on "
        "max|f(xᵢ) − f*(xᵢ)| over the training rows; μ = 2(λ + safe λ_min(W^½KW^½))"
    )
    return bounds, note
