"""Ridge regression: the notes' regularised least squares ‖y − Xβ‖² + λ‖β‖².

The notes: ∇_β = 2[−Xᵀ(y − Xβ) + λβ] = 0 ⇒ (XᵀX + λI)β = Xᵀy (the primal, d × d), and by
the kernel identity β = Xᵀ(XXᵀ + λI)⁻¹y (the dual, n × n). The intercept is not penalised:
it is eliminated by centering, b = ȳ − x̄ᵀβ.
"""

from __future__ import annotations

from typing import Any

from qed._blockwise import is_dask_collection
from qed.base import BaseEstimator, RegressorMixin
from qed.certificate import Certificate
from qed.linear._base import LinearPredictor
from qed.linear._certify import least_squares_certificate

__all__ = ["Ridge"]


class Ridge(LinearPredictor, RegressorMixin, BaseEstimator):
    """Minimises Σᵢ wᵢ(yᵢ − xᵢᵀβ − b)² + α‖β‖²; the intercept b is not penalised.

    Parameters
    ----------
    alpha : float or ndarray of shape (n_targets,), default=1.0
        The penalty λ of the notes (≥ 0); one per target is allowed, as in scikit-learn.
    fit_intercept : bool, default=True
    solver : {"auto", "primal", "dual", "cg"}, default="auto"
        ``"primal"``: Cholesky of XᵀX + αI (d × d); ``"dual"``: β = Xᵀ(XXᵀ + αI)⁻¹y
        (n × n); ``"cg"``: Jacobi-preconditioned conjugate gradients on XᵀX + αI kept as an
        operator (one pass over X per iteration, ``qed.linear._sparse``; float32 passes
        over a float32 copy of X's values, inside float64 iterative refinement), to a
        relative residual of 1e-10; ``"auto"``: "cg" for a sparse X with more than 4,096 features,
        else dual when n_features > n_samples. A singular system (α = 0 and rank-deficient X) falls
        back to minimum-norm least squares with a warning.

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
        return self._fit(X, y, sample_weight)

    def certificate(self, X: Any = None, y: Any = None, sample_weight: Any = None) -> Certificate:
        """The ridge normal equations XᵀW(y − Xβ − b) = αβ and Σw(y − Xβ − b) = 0.

        Without arguments measured on the training problem (statistics recorded at fit);
        with X and y recomputed on that data.
        """
        self._check_fitted("coef_")
        self._check_certificate_weights(X, sample_weight)
        if is_dask_collection(X) or is_dask_collection(y):  # measured on the cluster
            from qed.linear._dask import certificate_dask

            return certificate_dask(self, X, y, sample_weight)
        return least_squares_certificate(
            self, self._stats, alpha=self._alpha, X=X, y=y, sample_weight=sample_weight
        )

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.input_tags.sparse = True  # scipy.sparse X: never densified (qed.linear._sparse)
        return tags
