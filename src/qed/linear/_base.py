"""What LinearRegression and Ridge share: one fit over any input, ŷ = Xβ + b, streaming.

Each input reaches ``qed.linear._least_squares.fit_from_stats`` by its own way of computing
the sufficient statistics — numpy here, dask blocks on their cluster (``_dask``), an Array
API array on its device (``_array_api_path``); solver choice, fallbacks, warnings and the
fitted attributes are the same for all of them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse

from qed._array_api import get_namespace
from qed._blockwise import is_dask_collection
from qed._validation import check_array, check_bool
from qed.linear._checks import check_fit_data
from qed.linear._least_squares import (
    OLS_SOLVERS,
    RIDGE_SOLVERS,
    check_solver,
    fit_from_stats,
    input_statistics,
)


class LinearPredictor:
    """Mixin for fitted ``coef_`` (d,) or (t, d) and ``intercept_``: fit, predict, partial_fit."""

    def _fit(self, X: Any, y: Any, sample_weight: Any) -> Any:
        """Fit on numpy, dask or Array API input; see the module docstring."""
        self._record_sample_weight(sample_weight)
        ridge = hasattr(self, "alpha")
        check_solver(self.solver, RIDGE_SOLVERS if ridge else OLS_SOLVERS)
        check_bool(self.fit_intercept, "fit_intercept")
        if is_dask_collection(X) or is_dask_collection(y):
            from qed.linear._dask import fit_dask  # row blocks reduced on the cluster

            return fit_dask(self, X, y, sample_weight)
        xp, is_numpy = get_namespace(X, y)
        if not is_numpy:  # torch, array_api_strict, …: the statistics computed on X's device
            from qed.linear._array_api_path import fit_linear_xp

            return fit_linear_xp(self, xp, X, y, sample_weight)
        X, y, sw = check_fit_data(self, X, y, sample_weight, accept_sparse=True)
        Y = y.reshape(len(y), -1)
        n, d = X.shape
        if self.solver == "cg":
            form = "operator"
        elif sparse.issparse(X):
            form = "gram"  # the data form would densify X: the Gram (or its operator) instead
        elif ridge:
            form = "data" if self.solver == "dual" or (self.solver == "auto" and d > n) else "gram"
        else:
            form = "data" if d > n else "gram" if self.solver in ("auto", "normal") else "copy"
        stats, data = input_statistics(X, Y, sw, bool(self.fit_intercept), form=form)

        def rss(coef: np.ndarray) -> np.ndarray:
            R = Y - X @ coef - (stats["y_mean"] - stats["x_mean"] @ coef)
            return (R * R).sum(axis=0) if sw is None else sw @ (R * R)

        return fit_from_stats(self, stats, y_ndim=y.ndim, dtype=X.dtype, data=data, rss=rss)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Add one chunk of rows (numpy or dask) to the fit: streaming data, one pass.

        The chunks' sufficient statistics (Σw, means, centered co-moments) are merged by
        Chan's pairwise update and the normal equations re-solved, so after any sequence of
        chunks the model equals ``fit`` on all of them together (see ``qed.linear._dask``).
        """
        from qed.linear._dask import partial_fit

        weighted_before = hasattr(self, "coef_") and getattr(self, "_fit_weighted", False)
        self._record_sample_weight(sample_weight)
        self._fit_weighted = self._fit_weighted or weighted_before
        return partial_fit(self, X, y, sample_weight)

    def predict(self, X: Any) -> np.ndarray:
        """ŷ = Xβ + b, shape (n_samples,) or (n_samples, n_targets).

        A dask X gives a lazy dask array; any other Array API array gives that library's array
        on X's device.
        """
        self._check_fitted("coef_")
        if is_dask_collection(X):
            from qed.linear._dask import predict_dask

            return predict_dask(self, X)
        xp, is_numpy = get_namespace(X)
        if not is_numpy:
            from qed.linear._array_api_path import predict_linear_xp

            return predict_linear_xp(self, xp, X)
        X = check_array(X, estimator=self, reset=False, accept_sparse=True)
        return np.asarray(X @ self.coef_.astype(X.dtype, copy=False).T) + self.intercept_
