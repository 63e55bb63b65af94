"""Ordinary least squares: the notes' normal equations XᵀXβ = Xᵀy, and OLS as Gaussian MLE.

The notes: ‖y − Xβ‖² = yᵀy − 2βᵀXᵀy + βᵀXᵀXβ, ∇_β = −2Xᵀy + 2XᵀXβ = 0 ⇒ XᵀXβ = Xᵀy.
Under Y = Xβ + ε, ε ~ N(0, σ²I), the log-likelihood is −n/2·log(2πσ²) − ‖y − Xβ‖²/(2σ²):
maximal at the least-squares β, with σ̂² = RSS/n.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from qed._blockwise import is_dask_collection
from qed._validation import check_bool, check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate
from qed.linear._base import LinearPredictor
from qed.linear._certify import least_squares_certificate
from qed.linear._checks import (
    IllConditionedWarning,
    RankDeficiencyWarning,
    assert_finite,
    assert_finite_gram,
    check_fit_data,
)
from qed.linear._solvers import (
    NormalStats,
    centered_copy,
    centered_gram,
    lstsq_qr,
    lstsq_svd,
    normal_cond_limit,
    spd_solve,
)

__all__ = ["LinearRegression", "RankDeficiencyWarning", "IllConditionedWarning"]

_SOLVERS = ("auto", "normal", "qr", "svd")


class LinearRegression(LinearPredictor, RegressorMixin, BaseEstimator):
    """Ordinary least squares, minimising Σᵢ wᵢ(yᵢ − xᵢᵀβ − b)².

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit the unpenalised intercept b = ȳ − x̄ᵀβ (centering), else b = 0.
    solver : {"auto", "normal", "qr", "svd"}, default="auto"
        ``"normal"``: Cholesky of XᵀX (the notes' normal equations); ``"qr"``: pivoted
        Householder QR of X; ``"svd"``: minimum-norm least squares by SVD (LAPACK gelsd);
        ``"auto"``: the normal equations when XᵀX is well conditioned (κ < 1/√eps after
        Jacobi scaling), else SVD — with a ``RankDeficiencyWarning`` naming the rank when X is
        rank deficient.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,) or (n_targets, n_features)
    intercept_ : float or ndarray of shape (n_targets,)
    sigma2_ : float or ndarray of shape (n_targets,)
        Gaussian MLE of the noise variance, Σw(y − ŷ)²/Σw (RSS/n unweighted).
    rank_ : int
        Numerical rank of the centered X.
    singular_ : ndarray of shape (min(n_samples, n_features),)
        Singular values of the centered (weighted) X, decreasing (scikit-learn's name);
        ``singular_values_`` is the same array.
    solver_ : str
        The solver actually used ("normal", "qr" or "svd").
    n_features_in_, feature_names_in_ : as scikit-learn.

    Notes
    -----
    Scaling out (README, "Scaling out"): a row-chunked ``dask.array`` X and y are fitted by their
    per-block sufficient statistics summed on the cluster, ``predict`` on one is lazy, and
    ``partial_fit`` streams chunks; any other Array API array (a torch tensor on CPU or GPU,
    ``array_api_strict``) is fitted in its own library and device, ``coef_`` of that type.
    """

    def __init__(self, *, fit_intercept: bool = True, solver: str = "auto") -> None:
        self.fit_intercept = fit_intercept
        self.solver = solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit by the chosen solver. X (n_samples, n_features); y (n_samples[, n_targets])."""
        fitted = self._fit_elsewhere(X, y, sample_weight)
        if fitted is not None:
            return fitted
        if self.solver not in _SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not supported; choose one of {_SOLVERS}.")
        X, y, sw = check_fit_data(self, X, y, sample_weight)
        Y = y.reshape(len(y), -1)
        n, d = X.shape
        fit_intercept = check_bool(self.fit_intercept, "fit_intercept")
        coef = None
        if self.solver in ("auto", "normal") and n >= d:
            coef, stats, rcond = self._fit_normal(X, Y, sw, fit_intercept)
            if coef is not None:
                self.solver_ = "normal"
                self.rank_ = d
                s2 = np.linalg.eigvalsh(stats["gram"])[::-1]
                self.singular_ = np.sqrt(np.clip(s2, 0, None)).astype(X.dtype)
        if coef is None:
            coef, stats = self._fit_factorised(X, Y, sw, fit_intercept)
        self.coef_ = np.ravel(coef) if y.ndim == 1 else np.ascontiguousarray(coef.T)
        intercept = stats["y_mean"] - stats["x_mean"] @ coef
        if not fit_intercept:
            self.intercept_ = 0.0
        else:
            self.intercept_ = float(intercept[0]) if y.ndim == 1 else intercept
        self._stats = stats
        sigma2 = _residual_variance(stats, coef, X, Y, sw, fit_intercept)
        self.sigma2_ = float(sigma2[0]) if y.ndim == 1 else sigma2
        return self

    def _fit_normal(self, X, Y, sw, fit_intercept):
        """Cholesky on the centered Gram; (None, stats, rcond) when it must not be trusted."""
        stats = centered_gram(X, Y, sw, fit_intercept)
        assert_finite_gram(X, stats["gram"])
        try:
            coef, rcond = spd_solve(stats["gram"], stats["xty"], scale=True)
        except np.linalg.LinAlgError:
            coef, rcond = None, 0.0
        if coef is not None and (
            self.solver == "normal" or rcond * normal_cond_limit(X.dtype) >= 1
        ):
            if rcond * normal_cond_limit(X.dtype) < 1:
                warnings.warn(
                    f"solver='normal': XᵀX is ill-conditioned (κ ≈ {1 / max(rcond, 1e-300):.1e} "
                    "after scaling), so the normal equations lose accuracy; use solver='svd'.",
                    IllConditionedWarning,
                    stacklevel=3,
                )
            return coef, stats, rcond
        return None, stats, rcond

    def _fit_factorised(self, X, Y, sw, fit_intercept):
        """QR or SVD on the centered, weighted copy of X."""
        n, d = X.shape
        if self.solver not in ("auto", "normal") or n < d:  # else checked by _fit_normal
            assert_finite(X)
        Xc, Yc, x_mean, y_mean = centered_copy(X, Y, sw, fit_intercept)
        if n >= d:
            stats = NormalStats(gram=Xc.T @ Xc, xty=Xc.T @ Yc)
        else:  # the Gram would be larger than the data: keep the data instead
            stats = NormalStats(xw=Xc, yw=Yc)
        stats.update(
            x_mean=x_mean,
            y_mean=y_mean,
            n_samples=n,
            sw_sum=float(n if sw is None else sw.sum()),
            yty=np.einsum("ij,ij->j", Yc, Yc),
        )
        result = lstsq_qr(Xc, Yc) if self.solver == "qr" else None
        if result is not None:
            self.solver_ = "qr"
        else:
            result = lstsq_svd(Xc, Yc)
            self.solver_ = "svd"
        coef, rank, s = result
        if rank < d and self.solver != "svd":
            warnings.warn(
                f"X is rank deficient: rank {rank} < {d} features (after centering), so some "
                "columns are linear combinations of others (e.g. a duplicated or constant "
                f"column); solver={self.solver!r} switched to SVD and returned the "
                "minimum-norm least-squares solution.",
                RankDeficiencyWarning,
                stacklevel=3,
            )
        elif self.solver == "normal" and n >= d:
            warnings.warn(
                "solver='normal': Cholesky of XᵀX failed (numerically singular, κ(X)² beyond "
                "1/eps) although X has full rank; solved by SVD instead.",
                IllConditionedWarning,
                stacklevel=3,
            )
        self.rank_ = rank
        self.singular_ = s
        return coef, stats

    @property
    def singular_values_(self) -> np.ndarray:
        """Singular values of the centered (weighted) X (alias of ``singular_``)."""
        self._check_fitted("singular_")
        return self.singular_

    def log_likelihood(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Gaussian log-likelihood Σᵢ wᵢ log N(yᵢ; xᵢᵀβ + b, σ²) with σ² = ``sigma2_``.

        Summed over targets for multi-output y (independent noise per target).
        """
        self._check_fitted("coef_")
        X, y = check_X_y(X, y, multi_output=True)
        w = check_sample_weight(sample_weight, X, dtype=np.float64)
        R = (y.reshape(len(y), -1) - self.predict(X).reshape(len(y), -1)).astype(np.float64)
        sigma2 = np.broadcast_to(np.asarray(self.sigma2_, dtype=np.float64), (R.shape[1],))
        if np.any(sigma2 <= 0):
            raise ValueError(
                "sigma2_ is 0 (the training data were fitted exactly), so the Gaussian "
                "likelihood is degenerate; add noise or use fewer features than samples."
            )
        rss = w @ (R**2)
        return float(np.sum(-0.5 * w.sum() * np.log(2 * np.pi * sigma2) - rss / (2 * sigma2)))

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The normal equations XᵀW(y − Xβ − b) = 0 and Σw(y − Xβ − b) = 0.

        Without arguments they are measured on the training problem (its sufficient
        statistics recorded at fit); with X and y, recomputed on that data.
        """
        self._check_fitted("coef_")
        if is_dask_collection(X) or is_dask_collection(y):  # measured on the cluster
            from qed.linear._dask import certificate_dask

            return certificate_dask(self, X, y, sample_weight)
        return least_squares_certificate(self, self._stats, X=X, y=y, sample_weight=sample_weight)

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags


def _residual_variance(stats, coef, X, Y, sw, fit_intercept) -> np.ndarray:
    """σ̂² = Σw(y − ŷ)²/Σw per target.

    From the statistics, RSS = y_cᵀWy_c − 2βᵀX_cᵀWy_c + βᵀX_cᵀWX_cβ at no cost; that
    formula cancels digits when the fit is nearly exact, so below 1e-6·y_cᵀWy_c (where it
    would keep fewer than ~10 digits) the residuals are recomputed from the data.
    """
    yty = stats["yty"]
    if "gram" in stats:
        rss = (
            yty
            - 2 * np.einsum("dt,dt->t", coef, stats["xty"])
            + np.einsum("dt,dt->t", coef, stats["gram"] @ coef)
        )
    else:
        rss = np.zeros_like(yty)
    if "gram" not in stats or np.any(rss < 1e-6 * yty):
        b = stats["y_mean"] - stats["x_mean"] @ coef
        R = Y - X @ coef - b
        w = np.ones(len(X), X.dtype) if sw is None else sw
        rss = w @ (R * R)
    return np.maximum(rss, 0) / stats["sw_sum"]
