"""The certificate of a (ridge-)regularised least-squares fit: its first-order conditions.

The notes: ∇_β(‖y − Xβ − b‖² + α‖β‖²) = −2[Xᵀ(y − Xβ − b) − αβ] = 0 and, for the
unpenalised intercept, ∂/∂b = −2Σ(y − Xβ − b) = 0. Weighted: replace the sums by Σwᵢ(·).
Both residuals are compared with ``scaled_tolerance`` of the size of the terms summed.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from qed._array_api import to_numpy
from qed._validation import check_array, check_same_rows, check_sample_weight, check_y
from qed.bounds import EIGEN_DENSE_MAX, rounding
from qed.certificate import Certificate, scaled_tolerance
from qed.linear._ls_bounds import least_squares_bounds
from qed.linear._solvers import NormalStats, centered_gram, normal_residual

__all__ = ["least_squares_certificate"]


def _as_2d(coef: np.ndarray, intercept) -> tuple[np.ndarray, np.ndarray]:
    """coef_ (d,) or (t, d) → B (d, t); intercept_ scalar or (t,) → (t,)."""
    B = coef[:, None] if coef.ndim == 1 else coef.T
    b = np.broadcast_to(np.asarray(intercept, dtype=B.dtype), (B.shape[1],))
    return B, b


def least_squares_certificate(
    estimator,
    stats: NormalStats,
    *,
    alpha: np.ndarray | float = 0.0,
    X=None,
    y=None,
    sample_weight=None,
) -> Certificate:
    """Measure the normal equations (and the intercept condition) of a fitted linear model.

    Without data, they are measured on the sufficient statistics recorded during ``fit``
    (X_cᵀWX_c, X_cᵀWy_c, the weighted means): this checks the recorded ``coef_`` and
    ``intercept_`` against the training problem without keeping the training data. With
    ``X`` and ``y`` they are recomputed from scratch on that data: r = y − Xβ − b,
    g = XᵀWr − αβ, s = Σwr.
    """
    name = type(estimator).__name__
    # to_numpy: a model fitted on GPU tensors is certified on host copies of its d × t arrays
    B, b = _as_2d(to_numpy(estimator.coef_), to_numpy(estimator.intercept_))
    dtype = B.dtype  # the conditions' tolerances: the precision the coefficients are kept in
    # every residual is evaluated in float64; what stays inexact is the data's statistics,
    # formed at fit in ``stats_dtype`` (float32 for float32 data), which the bounds add
    B, b = B.astype(np.float64), b.astype(np.float64)
    stats_dtype = np.float64
    alpha_vec = np.broadcast_to(np.asarray(alpha, dtype=np.float64), (B.shape[1],))
    cert = Certificate(name)
    if X is None and y is None:
        if "gram" not in stats and "xw" not in stats:
            raise ValueError(
                f"This {name} was solved by conjugate gradients on the Gram as an operator of "
                "X (sparse X with many features, or solver='cg'), so no d × d statistics were "
                "kept; pass the training data: certificate(X, y)."
            )
        n = int(stats["n_samples"])
        stats_dtype = (stats["gram"] if "gram" in stats else stats["xw"]).dtype
        stats = {
            k: v.astype(np.float64) if isinstance(v, np.ndarray) else v for k, v in stats.items()
        }
        grad, scale = normal_residual(stats, B, alpha_vec)
        value = float(np.linalg.norm(grad))
        sw_sum = float(stats["sw_sum"])
        x_mean, y_mean = stats["x_mean"], stats["y_mean"]
        offset = b + x_mean @ B - y_mean  # c = b − ȳ + x̄ᵀβ, zero at the optimum
        intercept_res = sw_sum * np.abs(offset)
        intercept_scale = sw_sum * float(
            np.sum(np.abs(y_mean) + np.abs(x_mean) @ np.abs(B) + np.abs(b))
        )
        gram = stats.get("gram")  # None when the solver kept √W·X_c (d > n: singular)
        row_norm_max = None
    elif X is None or y is None:
        raise ValueError(
            f"{name}.certificate needs both X and y (or neither, to use the training data); "
            "pass certificate(X, y)."
        )
    else:
        # measured in float64 whatever the model's dtype: float32 coefficients are certified
        # against the exact optimum of the float32 data, not against float32 rounding noise
        X = check_array(X, dtype=np.float64, accept_sparse=True)  # sparse: never densified
        y = check_y(y, multi_output=True)
        check_same_rows(X.shape[0], y.shape[0])
        Y = y.reshape(len(y), -1).astype(np.float64, copy=False)
        if X.shape[1] != B.shape[0] or Y.shape[1] != B.shape[1]:
            raise ValueError(
                f"{name} was fitted on {B.shape[0]} features and {B.shape[1]} target(s), but "
                f"certificate got X with {X.shape[1]} features and y with {Y.shape[1]}."
            )
        n = X.shape[0]
        w = check_sample_weight(sample_weight, X)
        R = Y - np.asarray(X @ B) - b
        WR = R * w[:, None]
        g = np.asarray(X.T @ WR) - alpha_vec * B
        value = float(np.linalg.norm(g))
        root = np.sqrt(w)[:, None]
        squares = X.multiply(X) if sparse.issparse(X) else X * X
        x_norm = float(np.sqrt(w @ np.asarray(squares.sum(axis=1)).ravel()))
        y_norm = float(np.linalg.norm(Y * root))
        beta = float(np.linalg.norm(B))
        scale = (
            x_norm * (x_norm * beta + y_norm + np.sqrt(w.sum()) * np.linalg.norm(b))
            + float(np.max(alpha_vec, initial=0.0)) * beta
        )
        intercept_res = np.abs(WR.sum(axis=0))
        intercept_scale = float(
            w @ np.abs(Y).sum(axis=1)
            + np.asarray(abs(X).T @ w).ravel() @ np.abs(B).sum(axis=1)
            + w.sum() * np.abs(b).sum()
        )
        sw_sum = float(w.sum())
        fit_intercept = bool(getattr(estimator, "fit_intercept", False))
        x_mean = np.asarray(X.T @ w).ravel() / sw_sum if fit_intercept else np.zeros(X.shape[1])
        offset = -WR.sum(axis=0) / sw_sum if fit_intercept else np.zeros(B.shape[1])
        # centered: X_cᵀWr = XᵀWr − x̄·Σwr (Σw·x_c = 0)
        grad = g + np.outer(x_mean, offset * sw_sum) if fit_intercept else g
        gram = _centered_gram(X, Y, w, fit_intercept)
        squares_c = np.asarray(squares.sum(axis=1)).ravel() - 2 * np.asarray(X @ x_mean).ravel()
        row_norm_max = float(np.sqrt(max(np.max(squares_c + x_mean @ x_mean, initial=0.0), 0.0)))
    has_alpha = bool(np.any(alpha_vec != 0))
    cert.add(
        "normal_equations",
        value,
        scaled_tolerance(scale, dtype=dtype, n=n),
        "‖XᵀW(y − Xβ − b) − αβ‖ = 0" if has_alpha else "‖XᵀW(y − Xβ − b)‖ = 0",
    )
    if getattr(estimator, "fit_intercept", False):
        cert.add(
            "intercept",
            float(np.max(intercept_res, initial=0.0)),
            scaled_tolerance(intercept_scale, dtype=dtype, n=n),
            "Σw(y − Xβ − b) = 0 (the unpenalised intercept)",
        )
    bounds, note = least_squares_bounds(
        gram if gram is not None and gram.shape[0] <= EIGEN_DENSE_MAX else None,
        grad,
        offset,
        alpha_vec,
        x_mean=x_mean,
        sw_sum=sw_sum,
        n_samples=n,
        grad_error=2 * rounding(n + B.shape[0] + 4, scale, stats_dtype),
        c_error=rounding(n + B.shape[0] + 4, intercept_scale, stats_dtype) / max(sw_sum, 1e-300),
        dtype=stats_dtype,
        row_norm_max=row_norm_max,
    )
    cert.set_bounds(bounds, note)
    return cert


def _centered_gram(X, Y, w, fit_intercept):
    """X_cᵀWX_c for the bounds' μ (None when d > n, where it is singular, or too large)."""
    n, d = X.shape
    if d > min(n, EIGEN_DENSE_MAX):
        return None
    if sparse.issparse(X):
        from qed.linear._sparse import sparse_statistics

        return sparse_statistics(X, Y, w, fit_intercept, operator=False)["gram"]
    return centered_gram(X, Y, w, fit_intercept)["gram"]
