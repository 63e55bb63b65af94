"""Ridge with α chosen by exact leave-one-out, from one factorisation for every α.

The notes' ridge fit is linear in y: ŷ = Hy with the hat matrix H = X_c(X_cᵀWX_c + αI)⁻¹X_cᵀW
(plus the intercept's 1·wᵀ/Σw). Leaving sample i out and refitting changes its prediction in
closed form (the Sherman–Morrison identity), so the leave-one-out residual is

    eᵢ^(−i) = (yᵢ − ŷᵢ) / (1 − hᵢᵢ),

exact, with no refit. With X_cᵀWX_c = VΛVᵀ (n ≥ d) and Q = √W X_c V, both the predictions and
the leverages for every α are products with one matrix:

    ŷ(α) = Q·diag(1/(λ + α))·Qᵀy,   h(α) = (Q ∘ Q)·(1/(λ + α)) + w/Σw,

so all k values of α cost one O(n·d·k) matrix product after the O(n·d²) factorisation, where a
refit per α and per left-out row would cost O(k·n²·d²). For d > n the same holds with the
eigendecomposition of √W X_c X_cᵀ √W = UΛUᵀ and the factors λ/(λ + α).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg

from qed._validation import check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate, scaled_tolerance
from qed.linear._base import LinearPredictor
from qed.linear._certify import least_squares_certificate
from qed.linear._checks import check_fit_data
from qed.linear._least_squares import LeastSquaresFit, numpy_statistics, record_fit
from qed.linear._solvers import NormalStats

__all__ = ["RidgeCV", "ridge_loo", "kernel_loo", "check_alphas", "loo_scores"]


def check_alphas(alphas: Any, *, allow_zero: bool = False) -> np.ndarray:
    """The candidate penalties as a 1-D float array, every one finite and > 0 (≥ 0 if
    ``allow_zero``); a clear error for an empty or invalid grid."""
    if isinstance(alphas, (str, bool)) or not isinstance(
        alphas, (numbers.Real, np.ndarray, list, tuple)
    ):
        raise TypeError(f"alphas must be a float or a sequence of floats, got {alphas!r}.")
    arr = np.atleast_1d(np.asarray(alphas, dtype=np.float64))
    if arr.ndim != 1 or arr.size == 0:
        raise ValueError(
            f"alphas must be a non-empty 1-D sequence of penalties, got {alphas!r}; e.g. "
            "alphas=(0.1, 1.0, 10.0)."
        )
    low_ok = arr >= 0 if allow_zero else arr > 0
    if not np.all(np.isfinite(arr) & low_ok):
        bound = "≥ 0" if allow_zero else "> 0 (leave-one-out needs a penalty)"
        raise ValueError(f"every alpha must be finite and {bound}, got {alphas!r}.")
    return arr


def ridge_loo(
    Xw: np.ndarray,
    Yw: np.ndarray,
    sw: np.ndarray | None,
    alphas: np.ndarray,
    *,
    fit_intercept: bool,
    gram: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out residuals and coefficients of ridge for every α.

    Parameters
    ----------
    Xw : ndarray of shape (n_samples, n_features), √W·X_c (centered when ``fit_intercept``).
    Yw : ndarray of shape (n_samples, n_targets), √W·y_c.
    sw : ndarray of shape (n_samples,) or None, the sample weights.
    alphas : ndarray of shape (n_alphas,), all > 0.
    gram : optional ndarray of shape (n_features, n_features), Xwᵀ·Xw when already computed.

    Returns
    -------
    looe : ndarray of shape (n_samples, n_targets, n_alphas), √wᵢ·eᵢ^(−i) (scikit-learn's
        scale: the residuals of the √W-scaled problem).
    coef : ndarray of shape (n_features, n_targets, n_alphas), β(α) from the same
        factorisation.
    """
    n, d = Xw.shape
    w = np.ones(n) if sw is None else sw
    if n >= d:
        lam, V = linalg.eigh(Xw.T @ Xw if gram is None else gram, check_finite=False, driver="evd")
        if alphas.min() < np.sqrt(np.finfo(Xw.dtype).eps) * max(lam[-1], 0.0):
            # a tiny α resolves λ to below √eps·λ_max: take the spectrum from the data itself
            _, s, Vt = linalg.svd(Xw, full_matrices=False, check_finite=False)
            lam, V = s**2, Vt.T
        lam = np.clip(lam, 0, None)
        Q = Xw @ V  # n × d, column j has norm² λⱼ
        filters = 1.0 / (lam[:, None] + alphas[None, :])  # (d, k): ŷ = Q·diag(f)·Qᵀy
        leverage = (Q * Q) @ filters  # (n, k)
        if fit_intercept:
            leverage += (w / w.sum())[:, None]
        QtY = Q.T @ Yw  # (r, t)
        # ŷ for every (target, α) at once: Q @ (f ∘ Qᵀy), one (n × r)·(r × t·k) product
        fitted = Q @ (QtY[:, :, None] * filters[:, None, :]).reshape(d, -1)
        residual = Yw[:, :, None] - fitted.reshape(n, Yw.shape[1], alphas.size)
        looe = residual / (1.0 - leverage)[:, None, :]
        return looe, np.einsum("dr,rtk->dtk", V, QtY[:, :, None] * filters[:, None, :])
    # d > n: the kernel form, with K = √W X_c X_cᵀ √W and the intercept direction √w
    looe, dual = kernel_loo(
        Xw @ Xw.T, Yw, alphas, unpenalised=np.sqrt(w) if fit_intercept else None
    )
    return looe, np.einsum("nd,ntk->dtk", Xw, dual)


def kernel_loo(
    K: np.ndarray, Yw: np.ndarray, alphas: np.ndarray, *, unpenalised: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Leave-one-out residuals of kernel ridge, (K + αI)c = y, for every α from one
    eigendecomposition of K.

    I − H = α(K + αI)⁻¹, so the residual and 1 − hᵢᵢ share the factor α and
    eᵢ^(−i) = [G⁻¹y]ᵢ / [G⁻¹]ᵢᵢ with G = K + αI = U·diag(λ + α)·Uᵀ: no cancelling 1 − hᵢᵢ
    when the fit nearly interpolates. An ``unpenalised`` direction u (the intercept's √w, with
    Ku = 0) is added to K as uuᵀ, where it is an eigenvector well apart from the others, and
    dropped from G⁻¹.

    Parameters
    ----------
    K : ndarray of shape (n_samples, n_samples), symmetric positive semi-definite (√W K √W
        for weighted problems).
    Yw : ndarray of shape (n_samples, n_targets), √W·y.
    alphas : ndarray of shape (n_alphas,), all > 0.
    unpenalised : optional ndarray of shape (n_samples,).

    Returns
    -------
    looe : ndarray of shape (n_samples, n_targets, n_alphas), √wᵢ·eᵢ^(−i).
    dual : ndarray of shape (n_samples, n_targets, n_alphas), G⁻¹·√W y.
    """
    n = K.shape[0]
    if unpenalised is not None:
        K = K + np.outer(unpenalised, unpenalised)
    lam, U = linalg.eigh(K, check_finite=False, driver="evd")
    inverse = 1.0 / (np.clip(lam, 0, None)[:, None] + alphas[None, :])  # (n, k)
    if unpenalised is not None:
        inverse[np.argmax(np.abs(U.T @ unpenalised)), :] = 0.0
    UtY = U.T @ Yw
    dual = (U @ (UtY[:, :, None] * inverse[:, None, :]).reshape(n, -1)).reshape(
        n, Yw.shape[1], alphas.size
    )
    return dual / ((U * U) @ inverse)[:, None, :], dual


def loo_scores(
    looe: np.ndarray,
    predictions: Callable[[], np.ndarray],
    y: np.ndarray,
    scoring: Any,
    per_target: bool,
) -> np.ndarray:
    """The score of every α: −mean(looe²) without a scoring (scikit-learn's RidgeCV), else the
    scorer on the leave-one-out ``predictions()`` (n, t, k) against y.

    Returns ndarray of shape (n_alphas,), or (n_targets, n_alphas) when ``per_target``.
    """
    if scoring is None:
        sq = looe**2
        return -sq.mean(axis=0) if per_target else -sq.mean(axis=(0, 1))
    from sklearn.metrics import check_scoring

    scorer = check_scoring(_Identity(), scoring=scoring)
    pred = predictions()
    Y = y.reshape(len(y), -1)
    k = pred.shape[2]
    if per_target:
        return np.array(
            [
                [scorer(_Identity(), pred[:, j, i], Y[:, j]) for i in range(k)]
                for j in range(Y.shape[1])
            ]
        )
    if y.ndim == 1:
        return np.array([scorer(_Identity(), pred[:, 0, i], y) for i in range(k)])
    return np.array([scorer(_Identity(), pred[:, :, i], Y) for i in range(k)])


class _Identity(RegressorMixin, BaseEstimator):
    """A fitted 'regressor' whose predictions are its input: scores precomputed predictions."""

    def fit(self, X: Any, y: Any = None) -> _Identity:
        return self

    def predict(self, X: Any) -> Any:
        return X


class RidgeCV(RegressorMixin, BaseEstimator):
    """Ridge, ‖y − Xβ − b‖²_W + α‖β‖², with α chosen from ``alphas`` by cross-validation.

    With ``cv=None`` by exact, efficient leave-one-out (see the module docstring): one
    eigendecomposition serves every α. Otherwise by scikit-learn's ``GridSearchCV`` over
    ``qed.linear.Ridge`` with the given splitter. Parameters and attributes as scikit-learn's
    ``RidgeCV``.

    Parameters
    ----------
    alphas : array-like of shape (n_alphas,), default=(0.1, 1.0, 10.0); each > 0.
    fit_intercept : bool, default=True
    scoring : str, callable or None. None: the mean squared leave-one-out error of the
        √W-scaled problem (scikit-learn's convention); else a scikit-learn scorer applied to
        the leave-one-out predictions.
    cv : int, splitter or None (leave-one-out).
    gcv_mode : {None, "auto", "svd", "eigen"}; accepted for compatibility: qed chooses the
        factorisation by shape and conditioning.
    store_cv_results : bool, keep ``cv_results_`` (squared errors, or predictions with a scoring).
    alpha_per_target : bool, one α per target.

    Attributes
    ----------
    alpha_ : float or ndarray of shape (n_targets,)
    best_score_ : float or ndarray of shape (n_targets,)
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    cv_results_ : ndarray of shape (n_samples, n_alphas) or (n_samples, n_targets, n_alphas)
    """

    def __init__(
        self,
        alphas: Any = (0.1, 1.0, 10.0),
        *,
        fit_intercept: bool = True,
        scoring: Any = None,
        cv: Any = None,
        gcv_mode: str | None = None,
        store_cv_results: bool = False,
        alpha_per_target: bool = False,
    ) -> None:
        self.alphas = alphas
        self.fit_intercept = fit_intercept
        self.scoring = scoring
        self.cv = cv
        self.gcv_mode = gcv_mode
        self.store_cv_results = store_cv_results
        self.alpha_per_target = alpha_per_target

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> RidgeCV:
        """Choose α and fit. X (n_samples, n_features); y (n_samples[, n_targets])."""
        self._record_sample_weight(sample_weight)
        if self.gcv_mode not in (None, "auto", "svd", "eigen"):
            raise ValueError(
                f"gcv_mode={self.gcv_mode!r} is not supported; use None, 'auto', 'svd' or 'eigen'."
            )
        alphas = check_alphas(self.alphas, allow_zero=self.cv is not None)
        if self.cv is not None:
            check_fit_data(self, X, y, sample_weight)  # clear errors before any splitting
            return self._fit_grid_search(X, y, sample_weight, alphas)
        X, y, sw = check_fit_data(self, X, y, sample_weight)
        Y = y.reshape(len(y), -1)
        stats, data = numpy_statistics(X, Y, sw, bool(self.fit_intercept), form="data")
        Xw, Yw = data()
        gram = Xw.T @ Xw if X.shape[0] >= X.shape[1] else None
        looe, coefs = ridge_loo(
            Xw, Yw, sw, alphas, fit_intercept=bool(self.fit_intercept), gram=gram
        )
        per_target = self.alpha_per_target and Y.shape[1] > 1
        scores = loo_scores(  # (k,) or, per target, (t, k)
            looe, lambda: self._predictions(looe, Yw, sw, stats), y, self.scoring, per_target
        )
        best = np.argmax(scores, axis=-1)  # the first best α on ties, as scikit-learn
        if per_target:
            self.alpha_ = alphas[best]
            self.best_score_ = scores[np.arange(Y.shape[1]), best]
        else:
            self.alpha_ = float(alphas[best])
            self.best_score_ = float(scores[best])
        if self.store_cv_results:
            kept = looe**2 if self.scoring is None else self._predictions(looe, Yw, sw, stats)
            self.cv_results_ = kept[:, 0, :] if y.ndim == 1 else kept
        # the model at alpha_, from the factorisation that gave its leave-one-out errors
        if gram is not None:
            stats = NormalStats(stats, gram=gram, xty=Xw.T @ Yw)
            del stats["xw"], stats["yw"]
        t_index = np.arange(Y.shape[1])
        coef = coefs[:, t_index, best] if per_target else coefs[:, :, best]
        alpha_vec = np.broadcast_to(np.asarray(self.alpha_, dtype=np.float64), (Y.shape[1],))
        fit = LeastSquaresFit(coef, "eigen")
        record_fit(self, fit, stats, y_ndim=y.ndim, dtype=X.dtype, alpha=alpha_vec.copy())
        self._loo = looe[:, :, best] if not per_target else looe[:, np.arange(Y.shape[1]), best]
        return self

    predict = LinearPredictor.predict

    def _predictions(self, looe, Yw, sw, stats) -> np.ndarray:
        """Leave-one-out predictions on the original scale, (n, t, k)."""
        pred = Yw[:, :, None] - looe
        if sw is not None:
            pred /= np.sqrt(sw)[:, None, None]
        return pred + stats["y_mean"][None, :, None]

    def _fit_grid_search(self, X, y, sample_weight, alphas) -> RidgeCV:
        """k-fold (or any splitter) selection: scikit-learn's GridSearchCV over qed's Ridge."""
        from sklearn.model_selection import GridSearchCV
        from sklearn.utils.metadata_routing import _routing_enabled

        from qed.linear.ridge import Ridge

        if self.store_cv_results:
            raise ValueError("cv!=None and store_cv_results=True are incompatible; use cv=None.")
        if self.alpha_per_target:
            raise ValueError("cv!=None and alpha_per_target=True are incompatible; use cv=None.")
        ridge = Ridge(fit_intercept=self.fit_intercept)
        if _routing_enabled():
            ridge.set_fit_request(sample_weight=True)
        search = GridSearchCV(ridge, {"alpha": alphas}, cv=self.cv, scoring=self.scoring)
        params = {} if sample_weight is None else {"sample_weight": sample_weight}
        search.fit(X, y, **params)
        best = search.best_estimator_
        self.alpha_ = float(best.alpha)
        self.best_score_ = float(search.best_score_)
        names = ("coef_", "intercept_", "solver_", "n_features_in_", "feature_names_in_")
        for name in (*names, "_stats", "_alpha"):
            if hasattr(best, name):
                setattr(self, name, getattr(best, name))
        self._loo = None
        return self

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The ridge normal equations at ``alpha_`` and, given the training data, the
        leave-one-out identity eᵢ^(−i) = (yᵢ − ŷᵢ)/(1 − hᵢᵢ) checked against real refits with
        row i left out, for the three rows of largest leave-one-out error."""
        self._check_fitted("coef_")
        self._check_certificate_weights(X, sample_weight)
        cert = least_squares_certificate(self, self._stats, alpha=self._alpha)
        if X is None or self._loo is None:
            return cert
        from qed.linear.ridge import Ridge

        X, y = check_X_y(X, y, multi_output=True)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        if len(X) != len(self._loo):
            raise ValueError(
                f"certificate needs the training data of this RidgeCV ({len(self._loo)} rows); "
                f"got {len(X)} rows."
            )
        Y = y.reshape(len(y), -1)
        rows = np.argsort(np.abs(self._loo).sum(axis=1))[-3:]
        alpha = self._alpha if Y.shape[1] > 1 else float(self._alpha[0])
        worst = 0.0
        for i in rows:
            keep = np.arange(len(X)) != i
            refit = Ridge(alpha=alpha, fit_intercept=self.fit_intercept).fit(
                X[keep], Y[keep] if y.ndim == 2 else y[keep], sample_weight=sw[keep]
            )
            e_refit = np.sqrt(sw[i]) * (Y[i] - np.ravel(refit.predict(X[i : i + 1])))
            worst = max(worst, float(np.max(np.abs(e_refit - self._loo[i]))))
        scale = float(np.sqrt(sw.max()) * (np.abs(Y).max() + np.abs(self._loo).max()))
        cert.add(
            "loo_identity",
            worst,
            scaled_tolerance(scale, n=len(X), factor=1e5),
            "max |√wᵢ(yᵢ − ŷ₋ᵢ(xᵢ)) − looeᵢ| over 3 real refits without row i",
        )
        return cert

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
