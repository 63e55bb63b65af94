"""Kernel ridge regression: the notes' dual solution of ridge in a feature space φ.

The notes: minimising ‖Y − φ(X)ᵀβ‖² + λ‖β‖² gives β* = φ(X)(φ(X)ᵀφ(X) + λI)⁻¹Y, so with
K = φ(X)ᵀφ(X) (K_ij = k(xᵢ, xⱼ)) the dual coefficients are α* = (K + λI)⁻¹y and the
prediction is f*(x) = K(x, X)α*. With sample weights W the system is (WK + λI)α = Wy
(scikit-learn's convention). No intercept, as in scikit-learn.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg

from qed._array_api import get_namespace
from qed._validation import check_array, check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate, scaled_tolerance
from qed.kernels import KERNELS, pairwise_kernel
from qed.linear._checks import RankDeficiencyWarning, check_alpha
from qed.linear._solvers import spd_solve_refined

__all__ = ["KernelRidge", "solve_kernel_ridge"]

# Below this size the float64 Cholesky costs under a millisecond; mixed precision only pays
# once the O(n³) factorisation dominates the O(n²) refinement steps.
_REFINE_MIN_N = 500


def solve_kernel_ridge(
    K: np.ndarray, Y: np.ndarray, alpha: np.ndarray, sw: np.ndarray | None = None
) -> np.ndarray:
    """α = (K + λI)⁻¹y by Cholesky, overwriting K; weighted: √W(√WK√W + λI)⁻¹√Wy.

    For float64 and n ≥ 500 the factorisation is done in float32 and refined to float64
    accuracy (``spd_solve_refined``, LAPACK dsposv's scheme), falling back to a float64
    Cholesky when K + λI is too ill-conditioned for that.

    K (n, n) symmetric positive semi-definite (both triangles filled), Y (n, t),
    alpha (t,) ≥ 0. Returns the dual coefficients (n, t). A singular K + λI (λ = 0) falls
    back to least squares with a warning, as scikit-learn.
    """
    n, t = Y.shape
    refine = K.dtype == np.float64 and n >= _REFINE_MIN_N
    if sw is not None:
        root = np.sqrt(sw)
        Y = Y * root[:, None]
        K *= root[:, None]
        K *= root[None, :]
    dual = np.empty((n, t), dtype=np.result_type(K.dtype, Y.dtype))
    alphas = np.unique(alpha)
    for i, a in enumerate(alphas):
        cols = np.flatnonzero(alpha == a)
        last = i == len(alphas) - 1
        A = K if last else K.copy()  # the last factorisation may destroy K
        A.flat[:: n + 1] += a
        if refine:
            solved = spd_solve_refined(A, Y[:, cols])
            if solved is not None:
                dual[:, cols] = solved
                continue
        try:
            c = linalg.cho_factor(A, lower=True, overwrite_a=True, check_finite=False)
            dual[:, cols] = linalg.cho_solve(c, Y[:, cols], check_finite=False)
        except np.linalg.LinAlgError:
            warnings.warn(
                "Singular matrix in solving dual problem (K + alpha·I is not positive "
                "definite). Using least-squares solution instead; a larger alpha fixes it.",
                RankDeficiencyWarning,
                stacklevel=3,
            )
            A = np.tril(A) + np.tril(A, -1).T  # potrf may have overwritten part of A
            dual[:, cols] = linalg.lstsq(A, Y[:, cols])[0]
    if sw is not None:
        dual *= root[:, None]
    return dual


class KernelRidge(RegressorMixin, BaseEstimator):
    """Kernel ridge regression: α = (K + λI)⁻¹y, f(x) = K(x, X)α.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
    kernel : {"linear", "poly", "polynomial", "rbf", "precomputed"} or callable
        A callable is ``k(x, y, **kernel_params) -> float`` on two rows. With
        "precomputed", X in fit is the (n, n) training kernel and X in predict K(test, train).
    gamma, degree, coef0 : kernel parameters (γ defaults to 1/n_features).
    kernel_params : dict, optional, extra arguments of a callable kernel.

    Attributes
    ----------
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
    X_fit_ : ndarray of shape (n_samples, n_features), the training data (or kernel).

    Array API arrays (torch on CPU or GPU, ``array_api_strict``) are fitted in their own
    library and device for the named kernels; fitted arrays are of that type.
    """

    def __init__(
        self,
        alpha: Any = 1.0,
        *,
        kernel: str | Callable = "linear",
        gamma: float | None = None,
        degree: float = 3,
        coef0: float = 1,
        kernel_params: dict | None = None,
    ) -> None:
        self.alpha = alpha
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params

    def _get_kernel(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        if self.kernel == "precomputed":
            return X
        if isinstance(self.kernel, str) and self.kernel not in KERNELS:
            raise ValueError(
                f"kernel={self.kernel!r} is not supported; choose one of "
                f"{sorted(KERNELS) + ['precomputed']} or pass a callable."
            )
        params = dict(self.kernel_params or {})
        return pairwise_kernel(
            X, Y, self.kernel, gamma=self.gamma, degree=self.degree, coef0=self.coef0, **params
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KernelRidge:
        """Solve (K + λI)α = y. X (n_samples, n_features); y (n_samples[, n_targets])."""
        xp, is_numpy = get_namespace(X, y)
        if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
            from qed.linear._array_api_path import fit_kernel_ridge_xp

            return fit_kernel_ridge_xp(self, xp, X, y, sample_weight)
        X, y = check_X_y(X, y, estimator=self, multi_output=True, y_numeric=True)
        y = y.astype(X.dtype, copy=False)
        Y = y.reshape(len(y), -1)
        alpha = check_alpha(self.alpha, Y.shape[1])
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"kernel='precomputed' needs the square training kernel K(X, X) as X, got "
                f"shape {X.shape}."
            )
        sw = (
            None
            if sample_weight is None
            else check_sample_weight(sample_weight, X, only_positive=True)
        )
        K = self._get_kernel(X)
        if K is X:  # precomputed: the user's matrix is not ours to overwrite
            K = X.copy()
        dual = solve_kernel_ridge(K, Y, alpha, sw).astype(X.dtype, copy=False)
        self.dual_coef_ = dual.ravel() if y.ndim == 1 else dual
        self.X_fit_ = X
        self._y_fit = Y  # kept for the certificate (n × t, small beside X_fit_)
        self._sw_fit = sw
        self._alpha = alpha
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f(x) = K(x, X_fit)α, shape (n_samples,) or (n_samples, n_targets)."""
        self._check_fitted("dual_coef_")
        xp, is_numpy = get_namespace(X)
        if not is_numpy:
            from qed.linear._array_api_path import predict_kernel_ridge_xp

            return predict_kernel_ridge_xp(self, xp, X)
        X = check_array(X, estimator=self, reset=False)
        K = self._get_kernel(X, self.X_fit_)
        return K @ self.dual_coef_.astype(K.dtype, copy=False)

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The dual optimality condition W(y − Kα) − λα = 0, i.e. (K + λI)α = y unweighted.

        Measured on the training data by default; given X and y (the training set, as α
        lives on its points), K is recomputed from them.
        """
        self._check_fitted("dual_coef_")
        if X is None and y is None:
            X, Y, w = self.X_fit_, self._y_fit, self._sw_fit
        elif X is None or y is None:
            raise ValueError("certificate needs both X and y (or neither, for the training data).")
        else:
            X, y = check_X_y(X, y, multi_output=True)
            Y = y.reshape(len(y), -1)
            w = (
                None
                if sample_weight is None
                else check_sample_weight(sample_weight, X, only_positive=True)
            )
        if not get_namespace(self.dual_coef_)[1]:  # fitted on torch/array_api_strict arrays
            from qed.linear._array_api_path import to_numpy

            X = to_numpy(X) if X is self.X_fit_ else X
            A = to_numpy(self.dual_coef_).reshape(self.dual_coef_.shape[0], -1)
        else:
            A = self.dual_coef_.reshape(len(self.dual_coef_), -1)
        if X.shape[0] != A.shape[0] or Y.shape[1] != A.shape[1]:
            raise ValueError(
                f"The dual coefficients live on the {A.shape[0]} training samples; pass the "
                f"training X and y to certificate (got {X.shape[0]} samples)."
            )
        K = np.asarray(self._get_kernel(X), dtype=np.float64)
        R = Y - K @ A
        w = np.ones(len(Y)) if w is None else w
        G = w[:, None] * R - self._alpha * A
        k_norm = float(np.linalg.norm(K))
        a_norm = float(np.linalg.norm(A))
        scale = (
            float(np.max(w, initial=1.0)) * (k_norm * a_norm + float(np.linalg.norm(Y)))
            + float(np.max(self._alpha, initial=0.0)) * a_norm
        )
        cert = Certificate(type(self).__name__)
        cert.add(
            "dual equations",
            float(np.linalg.norm(G)),
            scaled_tolerance(scale, dtype=A.dtype, n=K.shape[0]),
            "‖W(y − Kα) − λα‖ = 0, i.e. (K + λI)α = y",
        )
        return cert

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
