"""Kernels K(x₁, x₂) = φ(x₁)ᵀφ(x₂) of the notes: linear, polynomial and Gaussian (RBF).

Each function takes X (n_x, d) and optional Y (n_y, d) (Y = X when omitted) and returns the
(n_x, n_y) matrix K with K_ij = k(xᵢ, yⱼ), with scikit-learn's conventions:

- linear:      k(x, y) = xᵀy
- polynomial:  k(x, y) = (γ xᵀy + c₀)^degree
- rbf:         k(x, y) = exp(−γ‖x − y‖²)

γ defaults to 1/n_features. X and Y may be scipy.sparse: the products XYᵀ and the row norms
are sparse operations, only the (n_x, n_y) kernel is dense. float32 inputs give float32 kernels (distances are accumulated
in float64 for accuracy, as scikit-learn does); anything else gives float64.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg, sparse

from qed._array_api import get_namespace
from qed._kernels_xp import resolve_gamma
from qed._rbf import rbf_from_gram, rbf_matrix
from qed._validation import check_array, check_scalar
from qed.base import BaseEstimator, TransformerMixin

__all__ = [
    "linear_kernel",
    "polynomial_kernel",
    "rbf_kernel",
    "pairwise_kernel",
    "KERNELS",
    "Nystroem",
    "resolve_gamma",
    "sample_rows",
    "random_source",
]


def _check_pair(X: Any, Y: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Validate X and Y; cast both to float64 unless both are float32. Returns (X, Y, same)."""
    X = check_array(X, input_name="X", accept_sparse=True)
    same = Y is None or Y is X
    Y = X if same else check_array(Y, input_name="Y", accept_sparse=True)
    if X.shape[1] != Y.shape[1]:
        raise ValueError(
            f"Incompatible dimension for X and Y matrices: X.shape[1] == {X.shape[1]} while "
            f"Y.shape[1] == {Y.shape[1]}; both must have the same number of features."
        )
    dtype = np.float32 if X.dtype == Y.dtype == np.float32 else np.float64
    X = X.astype(dtype, copy=False)
    Y = X if same else Y.astype(dtype, copy=False)
    return X, Y, same


def _product(X: Any, Y: Any) -> np.ndarray:
    """XYᵀ as a dense (n_x, n_y) array, for dense or sparse X and Y (Y None: X itself)."""
    Y = X if Y is None else Y
    K = X @ Y.T
    return K.toarray() if sparse.issparse(K) else np.asarray(K)


def _row_squares(X: Any) -> np.ndarray:
    """‖xᵢ‖² per row, dense or sparse, shape (n,)."""
    if sparse.issparse(X):
        return np.asarray(X.multiply(X).sum(axis=1)).ravel()
    return np.einsum("ij,ij->i", X, X)


def linear_kernel(X: Any, Y: Any = None) -> np.ndarray:
    """K = XYᵀ, shape (n_x, n_y)."""
    xp, is_numpy = get_namespace(X, Y)
    if not is_numpy:  # another Array API library: compute there, on its device
        from qed._kernels_xp import linear_kernel_xp

        return linear_kernel_xp(xp, X, Y)
    X, Y, same = _check_pair(X, Y)
    return _product(X, None if same else Y)


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
    gamma = resolve_gamma(gamma, X.shape[1])
    K = _product(X, None if same else Y)
    K *= gamma
    K += coef0
    K **= degree
    return K


def rbf_kernel(X: Any, Y: Any = None, gamma: float | None = None) -> np.ndarray:
    """K = exp(−γ‖x − y‖²), shape (n_x, n_y); γ defaults to 1/n_features.

    ‖x − y‖² = ‖x‖² + ‖y‖² − 2xᵀy is formed in place in one matrix (no (n_x, n_y, d)
    temporary), clipped at 0 against round-off, and exact 0 on the diagonal when Y is X;
    the exponentials in one compiled pass per row block, on all cores (``qed._rbf``).
    """
    xp, is_numpy = get_namespace(X, Y)
    if not is_numpy:
        from qed._kernels_xp import rbf_kernel_xp

        return rbf_kernel_xp(xp, X, Y, gamma=gamma)
    X, Y, same = _check_pair(X, Y)
    gamma = resolve_gamma(gamma, X.shape[1])
    out_dtype = X.dtype
    if out_dtype == np.float32:  # accumulate distances in float64, as scikit-learn
        X = X.astype(np.float64)
        Y = X if same else Y.astype(np.float64)
    K = _rbf_inplace(X, None if same else Y, gamma)
    return K.astype(out_dtype, copy=False)


def _rbf_inplace(X: np.ndarray, Y: np.ndarray | None, gamma: float) -> np.ndarray:
    """exp(−γ‖xᵢ − yⱼ‖²) from the product XYᵀ in place (``qed._rbf``, one compiled pass per
    row block on all cores), the distance ‖x‖² + ‖y‖² − 2xᵀy floored at 0."""
    if sparse.issparse(X) or sparse.issparse(Y):
        K = _product(X, Y)
        xx = _row_squares(X)
        rbf_from_gram(K, xx, xx if Y is None else _row_squares(Y), gamma)
    else:
        K = rbf_matrix(X, X if Y is None else Y, gamma)
    if Y is None:
        np.fill_diagonal(K, 1.0)  # ‖x − x‖ = 0 exactly, whatever the rounding of xᵀx
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
    **params: Any,
) -> np.ndarray:
    """K(X, Y) for a named kernel (``KERNELS``) or a callable ``k(x, y) -> float``.

    Named kernels take only their own parameters (``gamma`` for rbf; ``gamma``, ``degree``
    (default 3), ``coef0`` (default 1) for poly), as scikit-learn's
    ``pairwise_kernels(filter_params=True)``. A callable gets every parameter given,
    ``gamma`` included, and is evaluated on every pair of rows.
    """
    if isinstance(kernel, str):
        if kernel not in KERNELS:
            raise ValueError(
                f"Unknown kernel {kernel!r}; choose one of {sorted(KERNELS)} or 'precomputed', "
                "or pass a callable k(x, y) -> float."
            )
        given = {"gamma": None, "degree": 3, "coef0": 1, **params}
        return KERNELS[kernel](X, Y, **{k: given[k] for k in _KERNEL_PARAMS[kernel]})
    if not callable(kernel):
        raise TypeError(f"kernel must be a string or a callable, got {type(kernel).__name__}.")
    X, Y, same = _check_pair(X, Y)
    K = np.empty((X.shape[0], Y.shape[0]), dtype=np.float64)
    # a callable sees plain 1-D rows; a sparse row is expanded alone, never the whole matrix
    row = (lambda A, i: A[i].toarray().ravel()) if sparse.issparse(X) else (lambda A, i: A[i])
    for i in range(X.shape[0]):
        xi = row(X, i)
        for j in range(i if same else 0, Y.shape[0]):
            K[i, j] = kernel(xi, row(Y, j), **params)
            if same:
                K[j, i] = K[i, j]
    return K


class Nystroem(TransformerMixin, BaseEstimator):
    """Nyström feature map z(x) = K_mm^{-1/2} K(C, x): z(x)ᵀz(y) approximates k(x, y).

    The m components C are rows of X drawn uniformly; with K_mm = USVᵀ (eigenvalues clipped
    at 1e-12), K_mm^{-1/2} = US^{-1/2}Vᵀ, so ZZᵀ = K_nm K_mm⁻¹ K_mn, the Nyström approximation
    of K. Same parameters, attributes and output as scikit-learn's
    ``sklearn.kernel_approximation.Nystroem``; an int ``random_state`` draws the same
    components as scikit-learn's with that seed.

    Parameters
    ----------
    kernel : {"linear", "poly", "polynomial", "rbf"} or callable, default="rbf"
    gamma, coef0, degree : kernel parameters (None: the kernel's defaults, γ = 1/n_features).
    kernel_params : dict, optional, extra arguments of a callable kernel.
    n_components : int, default=100, m (at most n_samples).
    random_state : None, int, numpy Generator or RandomState.

    Attributes
    ----------
    components_ : ndarray of shape (m, n_features), C.
    component_indices_ : ndarray of shape (m,), rows of X taken as C.
    normalization_ : ndarray of shape (m, m), K_mm^{-1/2}.
    """

    def __init__(
        self,
        kernel: str | Callable = "rbf",
        *,
        gamma: float | None = None,
        coef0: float | None = None,
        degree: float | None = None,
        kernel_params: dict | None = None,
        n_components: int = 100,
        random_state: Any = None,
    ) -> None:
        self.kernel = kernel
        self.gamma = gamma
        self.coef0 = coef0
        self.degree = degree
        self.kernel_params = kernel_params
        self.n_components = n_components
        self.random_state = random_state

    def _kernel(self, X: np.ndarray, Y: np.ndarray) -> np.ndarray:
        if callable(self.kernel):
            if any(p is not None for p in (self.gamma, self.coef0, self.degree)):
                raise ValueError(
                    "Don't pass gamma, coef0 or degree to Nystroem with a callable kernel; "
                    "pass them through kernel_params instead."
                )
            return pairwise_kernel(X, Y, self.kernel, **(self.kernel_params or {}))
        if not isinstance(self.kernel, str) or self.kernel not in KERNELS:
            raise ValueError(
                f"kernel={self.kernel!r} is not supported; choose one of {sorted(KERNELS)} "
                "or pass a callable k(x, y) -> float."
            )
        given = {"gamma": self.gamma, "degree": self.degree, "coef0": self.coef0}
        params = {k: given[k] for k in _KERNEL_PARAMS[self.kernel] if given[k] is not None}
        params.update(self.kernel_params or {})
        return KERNELS[self.kernel](X, Y, **params)

    def fit(self, X: Any, y: Any = None) -> Nystroem:
        """Draw m rows of X as components and factor K_mm^{-1/2}. X (n_samples, n_features)."""
        X = check_array(X, estimator=self, reset=True)
        check_scalar(self.n_components, "n_components", target_type=numbers.Integral, min_val=1)
        n = X.shape[0]
        m = int(self.n_components)
        if m > n:
            warnings.warn(
                f"n_components={m} > n_samples={n}: using n_components = n_samples, which "
                "evaluates the full kernel.",
                UserWarning,
                stacklevel=2,
            )
            m = n
        inds = sample_rows(n, m, self.random_state)
        basis = X[inds]
        U, S, Vt = linalg.svd(self._kernel(basis, basis))
        S = np.maximum(S, 1e-12)
        self.normalization_ = (U / np.sqrt(S)) @ Vt
        self.components_ = basis
        self.component_indices_ = inds
        self._n_features_out = m
        return self

    def transform(self, X: Any) -> np.ndarray:
        """z(x) = K_mm^{-1/2}K(C, x) for each row: shape (n_samples, n_components)."""
        self._check_fitted("normalization_")
        X = check_array(X, estimator=self, reset=False)
        return self._kernel(X, self.components_) @ self.normalization_.T

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """["nystroem0", "nystroem1", …], as scikit-learn."""
        self._check_fitted("normalization_")
        return np.asarray([f"nystroem{i}" for i in range(self._n_features_out)], dtype=object)


def sample_rows(n: int, m: int, random_state: Any = None) -> np.ndarray:
    """m of range(n) uniformly without replacement: the first m of a random permutation.

    An int seeds numpy's RandomState exactly as scikit-learn's Nystroem does, so the same
    seed draws the same rows there and here; a Generator or RandomState is used as given.
    """
    return random_source(random_state).permutation(n)[:m]


def random_source(random_state: Any = None) -> np.random.Generator | np.random.RandomState:
    """The generator behind ``random_state``: a Generator or RandomState as given, an int as
    ``RandomState(int)`` (scikit-learn's convention), None as a fresh ``default_rng()``."""
    if isinstance(random_state, (np.random.Generator, np.random.RandomState)):
        return random_state
    if random_state is None:
        return np.random.default_rng()
    if not isinstance(random_state, numbers.Integral) or isinstance(random_state, bool):
        raise TypeError(
            "random_state must be None, an int, a numpy Generator or RandomState, got "
            f"{type(random_state).__name__}."
        )
    return np.random.RandomState(int(random_state))
