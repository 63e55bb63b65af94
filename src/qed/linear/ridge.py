"""Ridge regression: the notes' regularised least squares ‖y − Xβ‖² + λ‖β‖².

The notes: ∇_β = 2[−Xᵀ(y − Xβ) + λβ] = 0 ⇒ (XᵀX + λI)β = Xᵀy (the primal, d × d), and by
the kernel identity β = Xᵀ(XXᵀ + λI)⁻¹y (the dual, n × n). The intercept is not penalised:
it is eliminated by centering, b = ȳ − x̄ᵀβ.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from qed._blockwise import is_dask_collection
from qed._validation import check_bool
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate
from qed.linear._base import LinearPredictor
from qed.linear._certify import least_squares_certificate
from qed.linear._checks import (
    RankDeficiencyWarning,
    assert_finite,
    assert_finite_gram,
    check_fit_data,
)
from qed.linear._solvers import (
    NormalStats,
    centered_copy,
    centered_gram,
    lstsq_svd,
    ridge_dual,
    ridge_primal,
)

__all__ = ["Ridge"]

_SOLVERS = ("auto", "primal", "dual")


def _check_alpha(alpha: Any, n_targets: int) -> np.ndarray:
    """α as an array of shape (n_targets,): a scalar ≥ 0 or one value ≥ 0 per target."""
    if isinstance(alpha, (bool, np.bool_)) or not (
        isinstance(alpha, (numbers.Real, np.ndarray, list, tuple))
    ):
        raise TypeError(f"alpha must be a float ≥ 0 or an array of one per target, got {alpha!r}.")
    arr = np.asarray(alpha, dtype=np.float64)
    if arr.ndim > 1:
        raise ValueError(f"alpha must be a scalar or 1-D, got shape {arr.shape}.")
    if not np.all(np.isfinite(arr)) or np.any(arr < 0):
        raise ValueError(f"alpha must be finite and ≥ 0 (got {alpha!r}); e.g. alpha=1.0.")
    if arr.ndim == 1 and arr.size not in (1, n_targets):
        raise ValueError(
            f"Number of targets and number of penalties do not correspond: {arr.size} != "
            f"{n_targets}; pass one alpha per target (or a single float)."
        )
    return np.broadcast_to(arr.reshape(-1), (n_targets,)).copy()


class Ridge(LinearPredictor, RegressorMixin, BaseEstimator):
    """Minimises Σᵢ wᵢ(yᵢ − xᵢᵀβ − b)² + α‖β‖²; the intercept b is not penalised.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
        The penalty λ of the notes (≥ 0); one per target is allowed, as in scikit-learn.
    fit_intercept : bool, default=True
    solver : {"auto", "primal", "dual"}, default="auto"
        ``"primal"``: Cholesky of XᵀX + αI (d × d); ``"dual"``: β = Xᵀ(XXᵀ + αI)⁻¹y
        (n × n); ``"auto"``: dual when n_features > n_samples. A singular system (α = 0 and
        rank-deficient X) falls back to minimum-norm least squares with a warning.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    solver_ : str, the solver used.
    n_features_in_, feature_names_in_ : as scikit-learn.

    Notes
    -----
    Dask arrays, ``partial_fit`` and Array API arrays are handled as in ``LinearRegression``
    (README, "Scaling out"); dask and streaming fits use the primal solver.
    """

    def __init__(self, alpha: Any = 1.0, *, fit_intercept: bool = True, solver: str = "auto"):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Solve the ridge normal equations. X (n_samples, n_features); y (n[, n_targets])."""
        fitted = self._fit_elsewhere(X, y, sample_weight)
        if fitted is not None:
            return fitted
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not supported; choose one of {_SOLVERS}.")
        X, y, sw = check_fit_data(self, X, y, sample_weight)
        Y = y.reshape(len(y), -1)
        alpha = _check_alpha(self.alpha, Y.shape[1])
        n, d = X.shape
        fit_intercept = check_bool(self.fit_intercept, "fit_intercept")
        dual = self.solver == "dual" or (self.solver == "auto" and d > n)
        if dual:
            assert_finite(X)
            Xw, Yw, x_mean, y_mean = centered_copy(X, Y, sw, fit_intercept)
            stats = NormalStats(
                xw=Xw,
                yw=Yw,
                x_mean=x_mean,
                y_mean=y_mean,
                n_samples=n,
                sw_sum=float(n if sw is None else sw.sum()),
                yty=np.einsum("ij,ij->j", Yw, Yw),
            )
        else:
            stats = centered_gram(X, Y, sw, fit_intercept)
            assert_finite_gram(X, stats["gram"])
        try:
            if dual:
                coef = ridge_dual(stats["xw"], stats["yw"], alpha)
            else:
                coef = ridge_primal(stats["gram"], stats["xty"], alpha)
            self.solver_ = "dual" if dual else "primal"
        except np.linalg.LinAlgError:
            warnings.warn(
                f"Singular matrix in solving the {'dual' if dual else 'primal'} ridge problem "
                "(alpha = 0 and rank-deficient X); using the minimum-norm least-squares "
                "solution instead.",
                RankDeficiencyWarning,
                stacklevel=2,
            )
            Xw, Yw, _, _ = centered_copy(X, Y, sw, fit_intercept)
            coef = lstsq_svd(Xw, Yw)[0]
            self.solver_ = "svd"
        coef = coef.astype(X.dtype, copy=False)
        self._stats = stats
        self._alpha = alpha
        self.coef_ = np.ravel(coef) if y.ndim == 1 else np.ascontiguousarray(coef.T)
        intercept = (stats["y_mean"] - stats["x_mean"] @ coef).astype(X.dtype, copy=False)
        if not fit_intercept:
            self.intercept_ = 0.0
        else:
            self.intercept_ = float(intercept[0]) if y.ndim == 1 else intercept
        return self

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The ridge normal equations XᵀW(y − Xβ − b) = αβ and Σw(y − Xβ − b) = 0.

        Without arguments measured on the training problem (statistics recorded at fit);
        with X and y recomputed on that data.
        """
        self._check_fitted("coef_")
        if is_dask_collection(X) or is_dask_collection(y):  # measured on the cluster
            from qed.linear._dask import certificate_dask

            return certificate_dask(self, X, y, sample_weight)
        return least_squares_certificate(
            self, self._stats, alpha=self._alpha, X=X, y=y, sample_weight=sample_weight
        )

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
