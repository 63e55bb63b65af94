"""Ordinary least squares: the notes' normal equations XᵀXβ = Xᵀy, and OLS as Gaussian MLE.

The notes: ‖y − Xβ‖² = yᵀy − 2βᵀXᵀy + βᵀXᵀXβ, ∇_β = −2Xᵀy + 2XᵀXβ = 0 ⇒ XᵀXβ = Xᵀy.
Under Y = Xβ + ε, ε ~ N(0, σ²I), the log-likelihood is −n/2·log(2πσ²) − ‖y − Xβ‖²/(2σ²):
maximal at the least-squares β, with σ̂² = RSS/n.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._blockwise import is_dask_collection
from qed._validation import check_sample_weight, check_X_y
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate
from qed.linear._base import LinearPredictor
from qed.linear._certify import least_squares_certificate
from qed.linear._checks import IllConditionedWarning, RankDeficiencyWarning

__all__ = ["LinearRegression", "RankDeficiencyWarning", "IllConditionedWarning"]


class LinearRegression(LinearPredictor, RegressorMixin, BaseEstimator):
    """Ordinary least squares, minimising Σᵢ wᵢ(yᵢ − xᵢᵀβ − b)².

    Parameters
    ----------
    fit_intercept : bool, default=True
        Fit the unpenalised intercept b = ȳ − x̄ᵀβ (centering), else b = 0.
    solver : {"auto", "normal", "qr", "svd", "cg"}, default="auto"
        ``"normal"``: Cholesky of XᵀX (the notes' normal equations); ``"qr"``: pivoted
        Householder QR of X; ``"svd"``: minimum-norm least squares by SVD (LAPACK gelsd);
        ``"cg"``: Jacobi-preconditioned conjugate gradients on the normal equations, XᵀX
        kept as an operator (one pass over X per iteration; float32 passes over a float32
        copy of X's values, inside float64 iterative refinement), to a relative residual of
        1e-10; ``"auto"``: the normal equations when XᵀX is well conditioned (κ < 1/√eps
        after Jacobi scaling), else SVD — with a ``RankDeficiencyWarning`` naming the rank
        when X is rank deficient; "cg" for a sparse X with more than 4,096 features.

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
        return self._fit(X, y, sample_weight)

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
        self._check_certificate_weights(X, sample_weight)
        if is_dask_collection(X) or is_dask_collection(y):  # measured on the cluster
            from qed.linear._dask import certificate_dask

            return certificate_dask(self, X, y, sample_weight)
        return least_squares_certificate(self, self._stats, X=X, y=y, sample_weight=sample_weight)

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True  # scipy.sparse X: never densified (qed.linear._sparse)
        return tags
