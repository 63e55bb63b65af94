"""What LinearRegression and Ridge share: ŷ = Xβ + b, and streaming by sufficient statistics."""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._array_api import get_namespace
from qed._blockwise import is_dask_collection
from qed._validation import check_array


class LinearPredictor:
    """Mixin for fitted ``coef_`` (d,) or (t, d) and ``intercept_``: predict and partial_fit."""

    def _fit_elsewhere(self, X: Any, y: Any, sample_weight: Any) -> Any:
        """Fit dask input on its cluster and other Array API input in its own library and
        device; returns the fitted estimator, or None for numpy input (the caller's path)."""
        if is_dask_collection(X) or is_dask_collection(y):
            from qed.linear._dask import fit_dask  # row blocks reduced on the cluster

            return fit_dask(self, X, y, sample_weight)
        xp, is_numpy = get_namespace(X, y)
        if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
            from qed.linear._array_api_path import fit_linear_xp

            return fit_linear_xp(self, xp, X, y, sample_weight)
        return None

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:
        """Add one chunk of rows (numpy or dask) to the fit: streaming data, one pass.

        The chunks' sufficient statistics (Σw, means, centered co-moments) are merged by
        Chan's pairwise update and the normal equations re-solved, so after any sequence of
        chunks the model equals ``fit`` on all of them together (see ``qed.linear._dask``).
        """
        from qed.linear._dask import partial_fit

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
        X = check_array(X, estimator=self, reset=False)
        return X @ self.coef_.astype(X.dtype, copy=False).T + self.intercept_
