"""Input checks of the linear estimators' ``fit``, with the finiteness test folded into XᵀX.

Scanning X for NaN/inf is a full pass over the data; on the normal-equations path the
diagonal of XᵀX (Σᵢ xᵢⱼ², NaN or inf as soon as one entry is) already tells, for free. So
``check_fit_data`` validates everything but finiteness, and the solver path then calls
``assert_finite_gram`` (normal equations) or ``assert_finite`` (every other path).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from qed._validation import check_array, check_same_rows, check_sample_weight, check_y

__all__ = [
    "check_fit_data",
    "check_lengths",
    "check_alpha",
    "assert_finite",
    "assert_finite_gram",
    "RankDeficiencyWarning",
    "IllConditionedWarning",
]


class RankDeficiencyWarning(UserWarning):
    """X (or K + λI) is singular; the minimum-norm least-squares solution was returned."""


class IllConditionedWarning(UserWarning):
    """The requested solver loses accuracy on this ill-conditioned problem."""


def check_fit_data(
    estimator: Any, X: Any, y: Any, sample_weight: Any, *, accept_sparse: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Validate X (2-D numeric, finiteness deferred), y (1-D or 2-D numeric) and weights.

    Records n_features_in_/feature_names_in_ on the estimator. y is cast to X's dtype
    (float32 stays float32). Returns (X, y, sample weights or None).
    """
    if y is None:
        raise ValueError(
            f"{type(estimator).__name__} requires y to be passed, but the target y is None; "
            "pass the targets as the second argument of fit."
        )
    if hasattr(y, "tocsr") and hasattr(y, "nnz"):
        raise TypeError(
            "y is a sparse matrix; pass the targets as a dense array, e.g. y.toarray().ravel()."
        )
    X = check_array(
        X, estimator=estimator, reset=True, ensure_finite=False, accept_sparse=accept_sparse
    )
    y = check_y(y, multi_output=True, estimator=estimator)
    check_same_rows(X.shape[0], y.shape[0])
    y = y.astype(X.dtype, copy=False)
    sw = None
    if sample_weight is not None:
        sw = check_sample_weight(sample_weight, X, only_positive=True)
    return X, y, sw


def assert_finite(X: np.ndarray) -> None:
    """Raise the usual NaN/inf ValueError of ``check_array`` if X has one."""
    check_array(X, input_name="X", ensure_finite=True)


def assert_finite_gram(X: np.ndarray, gram: np.ndarray) -> None:
    """X is finite iff diag(XᵀX) is (unless XᵀX overflowed, which is reported as such)."""
    if np.all(np.isfinite(gram.diagonal())):
        return
    assert_finite(X)
    raise ValueError(
        f"XᵀX overflows {X.dtype} (max |X| = {np.max(np.abs(X)):.3g}); rescale the features "
        "(e.g. standardise them) before fitting."
    )


def check_lengths(X_shape: tuple, y_shape: tuple) -> None:
    """X (n, d) and y (n[, t]) describe the same n ≥ 1 samples of d ≥ 1 features.

    Shared by the paths that cannot use ``check_array`` (dask and Array API inputs).
    """
    check_same_rows(X_shape[0], y_shape[0])
    if X_shape[0] < 1 or X_shape[1] < 1:
        raise ValueError(
            f"Found array with shape {tuple(X_shape)}; at least 1 sample and 1 "
            "feature are required."
        )


def check_alpha(alpha: Any, n_targets: int) -> np.ndarray:
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
