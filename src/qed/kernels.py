"""Kernels K(x₁, x₂) = φ(x₁)ᵀφ(x₂) of the notes: linear, polynomial and Gaussian (RBF).

Each function takes X (n_x, d) and optional Y (n_y, d) (Y = X when omitted) and returns the
(n_x, n_y) matrix K with K_ij = k(xᵢ, yⱼ), with scikit-learn's conventions:

- linear:      k(x, y) = xᵀy
- polynomial:  k(x, y) = (γ xᵀy + c₀)^degree
- rbf:         k(x, y) = exp(−γ‖x − y‖²)

γ defaults to 1/n_features. float32 inputs give float32 kernels (distances are accumulated
in float64 for accuracy, as scikit-learn does); anything else gives float64.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from qed._array_api import get_namespace
from qed._validation import check_array, check_scalar

__all__ = [
    "linear_kernel",
    "polynomial_kernel",
    "rbf_kernel",
    "pairwise_kernel",
    "KERNELS",
]


def _check_pair(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate X and Y; cast both to float64 unless both are float32. Returns (X, Y, same)."""
    X = check_array(X, input_name="X")
    same = Y is None or Y is X
    Y = X if same else check_array(Y, input_name="Y")
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"Incompatible dimension for X and Y matrices: X.shape[1] == {X.shape[1]} while "
            f"Y.shape[1] == {Y.shape[1]}; both must have the same number of features."
        )
    dtype = np.float32 if X.dtype == Y.dtype == np.float32 else np.float64
    X = X.astype(dtype, copy=False)
    Y = X if same else Y.astype(dtype, copy=False)
    return X, Y, same


def _gamma(gamma: Any, n_features: int) -> float:
    if gamma is None:
        return 1.0 / n_features
    check_scalar(
        gamma, "gamma", target_type=numbers.Real, min_val=0, include_min=False, allow_inf=False
    )
    return float(gamma)


def linear_kernel(X: Any, Y: Any = None) -> np.ndarray:
    """K = XYᵀ, shape (n_x, n_y)."""
    xp, is_numpy = get_namespace(X, Y)
    if not is_numpy:  # another Array API library: compute there, on its device
        from qed._kernels_xp import linear_kernel_xp

        return linear_kernel_xp(xp, X, Y)
    X, Y, same = _check_pair(X, Y)
    return X @ X.T if same else X @ Y.T


def polynomial_kernel(
    X: Any, Y: Any = None, degree: float = 3, gamma: float | None = None, coef0: float = 1
) -> np.ndarray:
    """K = (γXYᵀ + c₀)^degree, shape (n_x, n_y); γ defaults to 1/n_features."""
    xp, is_numpy = get_namespace(X, Y)
    if not is_numpy:
        from qed._kernels_xp import polynomial_kernel_xp

        return polynomial_kernel_xp(xp, X, Y, degree=degree, gamma=gamma, coef0=coef0)
    X, Y, same = _check_pair(X, Y)
    check_scalar(degree, "degree", target_type=numbers.Real, min_val=0, allow_inf=False)
    check_scalar(coef0, "coef0", target_type=numbers.Real, allow_inf=False)
    gamma = _gamma(gamma, X.shape[1])
    K = X @ X.T if same else X @ Y.T
    K *= gamma
    K += coef0
    K **= degree
    return K


def rbf_kernel(X: Any, Y: Any = None, gamma: float | None = None) -> np.ndarray:
    """K = exp(−γ‖x − y‖²), shape (n_x, n_y); γ defaults to 1/n_features.

    ‖x − y‖² = ‖x‖² + ‖y‖² − 2xᵀy is formed in place in one matrix (no (n_x, n_y, d)
    temporary), clipped at 0 against round-off, and exact 0 on the diagonal when Y is X.
    """
    xp, is_numpy = get_namespace(X, Y)
    if not is_numpy:
        from qed._kernels_xp import rbf_kernel_xp

        return rbf_kernel_xp(xp, X, Y, gamma=gamma)
    X, Y, same = _check_pair(X, Y)
    gamma = _gamma(gamma, X.shape[1])
    out_dtype = X.dtype
    if out_dtype == np.float32:  # accumulate distances in float64, as scikit-learn
        X = X.astype(np.float64)
        Y = X if same else Y.astype(np.float64)
    K = _rbf_inplace(X, None if same else Y, gamma)
    return K.astype(out_dtype, copy=False)


def _rbf_inplace(X: np.ndarray, Y: np.ndarray | None, gamma: float) -> np.ndarray:
    """exp(−γ‖xᵢ − yⱼ‖²) with 4 passes over the n_x × n_y matrix and no temporaries.

    −γ‖x − y‖² = 2γxᵀy − γ‖x‖² − γ‖y‖²: the 2γ is folded into the matrix product by scaling
    the (small) inputs by √(2γ) first.
    """
    root = np.sqrt(2.0 * gamma)
    Xs = X * root
    xx = 0.5 * np.einsum("ij,ij->i", Xs, Xs)  # γ‖x‖²
    if Y is None:
        K = Xs @ Xs.T
        yy = xx
    else:
        Ys = Y * root
        K = Xs @ Ys.T
        yy = 0.5 * np.einsum("ij,ij->i", Ys, Ys)
    K -= xx[:, None]
    K -= yy[None, :]
    np.minimum(K, 0.0, out=K)
    if Y is None:
        np.fill_diagonal(K, 0.0)
    np.exp(K, out=K)
    return K


KERNELS: dict[str, Callable[..., np.ndarray]] = {
    "linear": linear_kernel,
    "poly": polynomial_kernel,
    "polynomial": polynomial_kernel,
    "rbf": rbf_kernel,
}
_KERNEL_PARAMS = {
    "linear": (),
    "poly": ("gamma", "degree", "coef0"),
    "polynomial": ("gamma", "degree", "coef0"),
    "rbf": ("gamma",),
}


def pairwise_kernel(
    X: Any,
    Y: Any = None,
    kernel: str | Callable = "linear",
    *,
    gamma: float | None = None,
    degree: float = 3,
    coef0: float = 1,
    **kernel_params: Any,
) -> np.ndarray:
    """K(X, Y) for a named kernel (``KERNELS``) or a callable ``k(x, y) -> float``.

    Named kernels take only their own parameters (γ for rbf; γ, degree, c₀ for poly), as
    scikit-learn's ``pairwise_kernels(filter_params=True)``. A callable gets
    ``kernel_params`` and is evaluated on every pair of rows.
    """
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(
                f"Unknown kernel {kernel!r}; choose one of {sorted(KERNELS)} or 'precomputed', "
                "or pass a callable k(x, y) -> float."
            )
        given = {"gamma": gamma, "degree": degree, "coef0": coef0}
        params = {k: given[k] for k in _KERNEL_PARAMS[kernel]}
        return KERNELS[kernel](X, Y, **params)
    if not callable(kernel):
        raise TypeError(f"kernel must be a string or a callable, got {type(kernel).__name__}.")
    X, Y, same = _check_pair(X, Y)
    K = np.empty((X.shape[0], Y.shape[0]), dtype=np.float64)
    for i in range(X.shape[0]):
        for j in range(i if same else 0, Y.shape[0]):
            K[i, j] = kernel(X[i], Y[j], **kernel_params)
            if same:
                K[j, i] = K[i, j]
    return K
