"""Kernel ridge with λ chosen by exact leave-one-out, from one eigendecomposition of K.

The notes' kernel ridge α = (K + λI)⁻¹y predicts ŷ = K(K + λI)⁻¹y = Hy, and
I − H = λ(K + λI)⁻¹. Leaving sample i out and refitting changes its residual in closed form:

    eᵢ^(−i) = (yᵢ − ŷᵢ)/(1 − hᵢᵢ) = [(K + λI)⁻¹y]ᵢ / [(K + λI)⁻¹]ᵢᵢ,

and with K = UΛUᵀ every λ costs one O(n²) product after the single O(n³) factorisation:
the n refits of n − 1 rows per λ (O(k·n⁴)) are never run. Weighted, K becomes √W K √W and
y becomes √W y, as in ``KernelRidge``. No peer library offers this.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qed._validation import check_array, check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.bounds import rounding
from qed.certificate import Certificate, scaled_tolerance
from qed.linear._ls_bounds import kernel_ridge_bounds
from qed.linear.kernel_ridge import estimator_kernel
from qed.linear.ridge_cv import check_alphas, kernel_loo, loo_scores

__all__ = ["KernelRidgeCV"]


class KernelRidgeCV(RegressorMixin, BaseEstimator):
    """Kernel ridge regression, α = (K + λI)⁻¹y, with λ chosen from ``alphas`` by exact
    leave-one-out cross-validation.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=(0.1, 1.0, 10.0); each > 0.
    kernel : {"linear", "poly", "polynomial", "rbf", "precomputed"} or callable
    gamma, degree, coef0, kernel_params : the kernel's parameters, as ``KernelRidge``.
    scoring : str, callable or None. None: −mean of the squared (√w-scaled) leave-one-out
        errors; else a scikit-learn scorer on the leave-one-out predictions.
    store_cv_results : bool, keep ``cv_results_``.

    Attributes
    ----------
    alpha_ : float, the chosen λ.
    best_score_ : float
    dual_coef_ : ndarray of shape (n_samples,) or (n_samples, n_targets)
    X_fit_ : ndarray of shape (n_samples, n_features)
    cv_results_ : ndarray of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
        squared leave-one-out errors, or leave-one-out predictions with a ``scoring``.
    """

    def __init__(
        self,
        alphas: Any = (0.1, 1.0, 10.0),
        *,
        kernel: str | Callable = "linear",
        gamma: float | None = None,
        degree: float = 3,
        coef0: float = 1,
        kernel_params: dict | None = None,
        scoring: Any = None,
        store_cv_results: bool = False,
    ) -> None:
        self.alphas = alphas
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.kernel_params = kernel_params
        self.scoring = scoring
        self.store_cv_results = store_cv_results

    def _get_kernel(self, X: np.ndarray, Y: np.ndarray | None = None) -> np.ndarray:
        return estimator_kernel(self, X, Y)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> KernelRidgeCV:
        """Choose λ by leave-one-out and fit. X (n_samples, n_features); y (n[, n_targets])."""
        alphas = check_alphas(self.alphas)
        X, y = check_X_y(X, y, estimator=self, multi_output=True, y_numeric=True)
        if self.kernel == "precomputed" and X.shape[0] != X.shape[1]:
            raise ValueError(
                f"kernel='precomputed' needs the square training kernel K(X, X) as X, got "
                f"shape {X.shape}."
            )
        if X.shape[0] < 2:
            raise ValueError("Leave-one-out needs at least 2 samples, got n_samples = 1; add rows.")
        Y = y.reshape(len(y), -1).astype(np.float64)
        sw = (
            None
            if sample_weight is None
            else check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
        )
        root = np.ones(len(X)) if sw is None else np.sqrt(sw)
        K = np.asarray(self._get_kernel(X), dtype=np.float64)
        Kw = K * root[:, None] * root[None, :]
        looe, dual = kernel_loo(Kw, Y * root[:, None], alphas)
        scores = loo_scores(
            looe, lambda: Y[:, :, None] - looe / root[:, None, None], y, self.scoring, False
        )
        best = int(np.argmax(scores))
        self.alpha_ = float(alphas[best])
        self.best_score_ = float(scores[best])
        if self.store_cv_results:
            kept = looe**2 if self.scoring is None else Y[:, :, None] - looe / root[:, None, None]
            self.cv_results_ = kept[:, 0, :] if y.ndim == 1 else kept
        coef = (dual[:, :, best] * root[:, None]).astype(X.dtype, copy=False)  # √W G⁻¹ √W y
        self.dual_coef_ = coef.ravel() if y.ndim == 1 else coef
        self.X_fit_ = X
        self._y_fit, self._sw_fit, self._loo = Y, sw, looe[:, :, best]
        return self

    def predict(self, X: Any) -> np.ndarray:
        """f(x) = K(x, X_fit)α, shape (n_samples,) or (n_samples, n_targets)."""
        self._check_fitted("dual_coef_")
        X = check_array(X, estimator=self, reset=False)
        return self._get_kernel(X, self.X_fit_) @ self.dual_coef_.astype(np.float64)

    def certificate(self) -> Certificate:
        """On the training data: the dual equations W(y − Kα) = λα at λ = ``alpha_``, and the
        leave-one-out identity against real ``KernelRidge`` refits without row i, for the three
        rows of largest leave-one-out error."""
        from qed.linear.kernel_ridge import KernelRidge

        self._check_fitted("dual_coef_")
        X, Y, sw = self.X_fit_, self._y_fit, self._sw_fit
        w = np.ones(len(X)) if sw is None else sw
        K = np.asarray(self._get_kernel(X), dtype=np.float64)
        A = self.dual_coef_.reshape(len(X), -1).astype(np.float64)
        residual = w[:, None] * (Y - K @ A) - self.alpha_ * A
        scale = float(np.abs(K).max() * np.abs(A).sum(axis=0).max() * w.max() + np.abs(Y).max())
        cert = Certificate("KernelRidgeCV")
        cert.add(
            "dual_equations",
            float(np.abs(residual).max()),
            scaled_tolerance(scale, n=len(X), factor=1e4),
            "max |W(y − Kα) − λα| = 0, i.e. (√W K √W + λI)(√W⁻¹α) = √W y",
        )
        params = {k: getattr(self, k) for k in ("kernel", "gamma", "degree", "coef0")}
        worst = 0.0
        for i in np.argsort(np.abs(self._loo).sum(axis=1))[-3:]:
            keep = np.arange(len(X)) != i
            Xk = X[np.ix_(keep, keep)] if self.kernel == "precomputed" else X[keep]
            Xi = X[np.ix_([i], keep)] if self.kernel == "precomputed" else X[i : i + 1]
            refit = KernelRidge(alpha=self.alpha_, kernel_params=self.kernel_params, **params).fit(
                Xk, Y[keep], sample_weight=None if sw is None else sw[keep]
            )
            e = np.sqrt(w[i]) * (Y[i] - refit.predict(Xi).ravel())
            worst = max(worst, float(np.max(np.abs(e - self._loo[i]))))
        cert.add(
            "loo_identity",
            worst,
            scaled_tolerance(
                float(np.abs(Y).max() + np.abs(self._loo).max()), n=len(X), factor=1e5
            ),
            "max |√wᵢ(yᵢ − f₋ᵢ(xᵢ)) − looeᵢ| over 3 real refits without row i",
        )
        grad_scale = float(np.linalg.norm(K) * np.linalg.norm(A) * w.max() + np.linalg.norm(Y))
        cert.set_bounds(
            *kernel_ridge_bounds(
                K,
                residual,
                w,
                np.full(A.shape[1], self.alpha_),
                grad_error=rounding(len(X) + 4, grad_scale + self.alpha_ * np.linalg.norm(A)),
            )
        )
        return cert

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags
