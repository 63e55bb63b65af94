"""The kernels of ``qed.kernels`` in any Array API namespace (torch, array_api_strict, …).

Same formulas and conventions as the numpy path: K = XYᵀ, (γXYᵀ + c₀)^degree and
exp(−γ‖x − y‖²) with ‖x − y‖² = ‖x‖² + ‖y‖² − 2xᵀy clipped at 0 (exact 0 on the diagonal
when Y is X); γ defaults to 1/n_features. The result stays in the caller's namespace and on
the caller's device; integer inputs become the namespace's float64 (float32 stays float32).
"""

from __future__ import annotations

import numbers
from typing import Any

from qed._array_api import device_of, float_dtype_of
from qed._validation import check_scalar

__all__ = [
    "check_pair_xp",
    "linear_kernel_xp",
    "polynomial_kernel_xp",
    "rbf_kernel_xp",
    "kernel_xp",
    "resolve_gamma",
]


def check_pair_xp(xp: Any, X: Any, Y: Any) -> tuple[Any, Any, bool]:
    """2-D, finite, same number of features, common float dtype. Returns (X, Y, same)."""
    same = Y is None or Y is X
    for name, A in (("X", X), ("Y", Y)):
        if A is None:
            continue
        if A.ndim != 2:
            raise ValueError(
                f"Expected 2D array, got {name} of shape {tuple(A.shape)}; reshape "
                "it with .reshape(-1, 1) for one feature."
            )
        if not xp.isdtype(A.dtype, ("real floating", "integral", "bool")):
            raise ValueError(f"{name} must be numeric, got dtype {A.dtype}.")
    dtype = float_dtype_of(xp, X)
    if not same and float_dtype_of(xp, Y) != dtype:
        dtype = xp.float64
    X = xp.astype(X, dtype)
    Y = X if same else xp.astype(Y, dtype)
    for name, A in (("X", X), ("Y", Y)):
        if not bool(xp.all(xp.isfinite(A))):
            raise ValueError(f"Input {name} contains NaN or infinity; remove or impute them.")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"Incompatible dimension for X and Y matrices: X.shape[1] == {X.shape[1]} while "
            f"Y.shape[1] == {Y.shape[1]}; both must have the same number of features."
        )
    return X, Y, same


def resolve_gamma(gamma: Any, d: int) -> float:
    """γ of the rbf and polynomial kernels: 1/n_features when None, else a positive float."""
    if gamma is None:
        return 1.0 / d
    check_scalar(
        gamma, "gamma", target_type=numbers.Real, min_val=0, include_min=False, allow_inf=False
    )
    return float(gamma)


def linear_kernel_xp(xp: Any, X: Any, Y: Any = None) -> Any:
    X, Y, _ = check_pair_xp(xp, X, Y)
    return X @ xp.matrix_transpose(Y)


def polynomial_kernel_xp(
    xp: Any, X: Any, Y: Any = None, degree: float = 3, gamma: float | None = None, coef0: float = 1
) -> Any:
    X, Y, _ = check_pair_xp(xp, X, Y)
    check_scalar(degree, "degree", target_type=numbers.Real, min_val=0, allow_inf=False)
    check_scalar(coef0, "coef0", target_type=numbers.Real, allow_inf=False)
    K = resolve_gamma(gamma, X.shape[1]) * (X @ xp.matrix_transpose(Y)) + float(coef0)
    return K ** float(degree)


def rbf_kernel_xp(xp: Any, X: Any, Y: Any = None, gamma: float | None = None) -> Any:
    X, Y, same = check_pair_xp(xp, X, Y)
    gamma = resolve_gamma(gamma, X.shape[1])
    out_dtype = X.dtype
    if out_dtype == xp.float32:  # accumulate distances in float64, as scikit-learn
        X = xp.astype(X, xp.float64)
        Y = X if same else xp.astype(Y, xp.float64)
    xx = xp.sum(X * X, axis=1)
    yy = xx if same else xp.sum(Y * Y, axis=1)
    D = xx[:, None] + yy[None, :] - 2.0 * (X @ xp.matrix_transpose(Y))
    D = xp.clip(D, min=0.0) if hasattr(xp, "clip") else xp.where(D > 0, D, 0.0)
    if same:
        eye = xp.eye(D.shape[0], dtype=xp.bool, device=device_of(X))
        D = xp.where(eye, xp.zeros_like(D), D)
    return xp.astype(xp.exp(-gamma * D), out_dtype)


_XP_KERNELS = {
    "linear": linear_kernel_xp,
    "poly": polynomial_kernel_xp,
    "polynomial": polynomial_kernel_xp,
    "rbf": rbf_kernel_xp,
}


def kernel_xp(xp: Any, name: str, X: Any, Y: Any = None, **params: Any) -> Any:
    """K(X, Y) for a kernel named as in ``qed.kernels.KERNELS``."""
    return _XP_KERNELS[name](xp, X, Y, **params)
