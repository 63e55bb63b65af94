"""Input validation shared by every qed estimator and function.

Hyperparameter checks live in ``qed._params`` and are re-exported here.

Every check raises a ``ValueError`` or ``TypeError`` whose message names the argument, the
problem and the fix, so that bad input never reaches numpy or LAPACK.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from qed._params import check_bool, check_random_state, check_scalar

__all__ = [
    "NotFittedError",
    "ConvergenceWarning",
    "DataConversionWarning",
    "check_array",
    "check_X_y",
    "check_y",
    "check_sample_weight",
    "check_scalar",
    "check_random_state",
    "column_or_1d",
    "encode_labels",
    "check_bool",
    "record_features",
]

FLOAT_DTYPES = (np.float64, np.float32)


class NotFittedError(ValueError, AttributeError):
    """Raised when a method that needs a fitted model is called before ``fit``.

    Estimators raise ``qed.base.NotFittedError``, which is this class and scikit-learn's.
    """


class ConvergenceWarning(UserWarning):
    """An iterative solver stopped at ``max_iter`` before reaching its tolerance."""


class DataConversionWarning(UserWarning):
    """The input was converted, e.g. a column vector y was flattened."""


def _estimator_name(estimator: Any) -> str:
    if estimator is None:
        return "this function"
    return type(estimator).__name__ if not isinstance(estimator, str) else estimator


def _feature_names(X: Any) -> np.ndarray | None:
    """Column names of a DataFrame-like X when all are strings, else None."""
    columns = getattr(X, "columns", None)
    if columns is None or not hasattr(X, "iloc"):
        return None
    names = np.asarray(list(columns), dtype=object)
    if len(names) and all(isinstance(n, str) for n in names):
        return names
    if any(isinstance(n, str) for n in names):
        raise TypeError(
            "Feature names are only supported if all input features have string names, but "
            f"your input has {sorted({type(n).__name__ for n in names})} as feature name / "
            "column name types; convert all column names to str, e.g. X.columns = "
            "X.columns.astype(str)."
        )
    return None


def _to_numeric(X: Any, dtype: Any, input_name: str) -> np.ndarray:
    """Convert to a float array, turning numpy's conversion errors into clear ones."""
    if hasattr(X, "iloc") and hasattr(X, "to_numpy"):  # pandas DataFrame or Series
        try:
            X = X.to_numpy(dtype=dtype if dtype is not None else None)
        except (TypeError, ValueError):
            X = X.to_numpy(dtype=object)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            arr = np.asarray(X)
            if dtype is None:
                target = arr.dtype if arr.dtype in FLOAT_DTYPES else np.float64
            else:
                target = dtype
            if arr.dtype.kind == "c":
                raise ValueError(
                    f"Complex data not supported: {input_name} has a complex dtype; pass its "
                    "real part (np.real) or its modulus (np.abs) instead."
                )
            if arr.dtype.kind in "US":
                raise ValueError(
                    f"{input_name} contains strings ({arr.dtype}); qed needs numbers. Encode "
                    "categorical columns as numbers first (e.g. one-hot encoding)."
                )
            return np.asarray(arr, dtype=target)
    except np.exceptions.ComplexWarning as exc:
        raise ValueError(
            f"Complex data not supported: {input_name} holds complex numbers; pass real values."
        ) from exc
    except TypeError as exc:
        raise TypeError(
            f"{input_name} holds values that are not numbers ({exc}); every entry must be a "
            "real number: argument must be a string or a number."
        ) from exc
    except ValueError as exc:
        if "Complex data" in str(exc) or "contains strings" in str(exc):
            raise
        raise ValueError(
            f"{input_name} could not be converted to numbers ({exc}); it must be a numeric "
            "array of consistent shape. Encode text/categorical columns as numbers first."
        ) from exc


def check_array(
    X: Any,
    *,
    input_name: str = "X",
    dtype: Any = "numeric",
    ensure_2d: bool = True,
    allow_nd: bool = False,
    ensure_min_samples: int = 1,
    ensure_min_features: int = 1,
    ensure_finite: bool = True,
    copy: bool = False,
    estimator: Any = None,
    reset: bool | None = None,
    accept_sparse: bool = False,
) -> np.ndarray:
    """Validate an array-like and return it as a float ndarray.

    Parameters
    ----------
    X : array-like (list, ndarray, pandas DataFrame)
    dtype : "numeric" keeps float32/float64 and turns anything else into float64; a numpy
        dtype forces it; None keeps the array's own dtype.
    estimator : optional estimator. With ``reset=True`` (fit) its ``n_features_in_`` and
        ``feature_names_in_`` are recorded; with ``reset=False`` (predict) they are checked.
    accept_sparse : a scipy.sparse matrix or array is returned as a CSR matrix (COO, LIL, DOK,
        CSC … converted), its stored values checked; otherwise it is refused by name.

    Returns
    -------
    ndarray of shape (n_samples, n_features) when ``ensure_2d``.
    """
    if X is None:
        raise ValueError(
            f"{input_name} is None; {_estimator_name(estimator)} requires an array-like "
            f"{input_name} (Expected array-like (array or non-string sequence), got None)."
        )
    if isinstance(X, str):
        raise ValueError(
            f"{input_name} is the string {X!r}; pass an array of numbers instead "
            "(Expected 2D array, got a string)."
        )
    if hasattr(X, "tocsr") and hasattr(X, "nnz"):
        if not accept_sparse:
            raise TypeError(
                f"Sparse matrices are not supported for {input_name} by "
                f"{_estimator_name(estimator)}; convert with {input_name}.toarray()."
            )
        return _check_sparse(X, input_name, dtype, estimator, reset)
    names = _feature_names(X)
    if dtype == "numeric":
        dtype = None
    arr = _to_numeric(X, dtype, input_name)
    if arr.dtype not in FLOAT_DTYPES and dtype is None:
        arr = arr.astype(np.float64)
    if ensure_2d:
        if arr.ndim == 0:
            raise ValueError(
                f"Expected 2D array, got scalar array instead: {input_name}={arr!r}. Reshape "
                "your data, e.g. np.array([[value]])."
            )
        if arr.ndim == 1:
            raise ValueError(
                f"Expected 2D array, got 1D array instead: {input_name} has shape {arr.shape}. "
                "Reshape your data either using array.reshape(-1, 1) if your data has a single "
                "feature or array.reshape(1, -1) if it contains a single sample."
            )
        if arr.ndim > 2 and not allow_nd:
            raise ValueError(
                f"Found array with dim {arr.ndim}: {input_name} has shape {arr.shape}, but a 2D "
                "array (n_samples, n_features) is expected; reshape it, e.g. X.reshape(len(X), -1)."
            )
    if ensure_min_samples > 0 and arr.ndim >= 1:
        n = arr.shape[0]
        if n < ensure_min_samples:
            raise ValueError(
                f"Found array with {n} sample(s) (shape={arr.shape}) while a minimum of "
                f"{ensure_min_samples} is required by {_estimator_name(estimator)}; "
                f"{input_name} needs at least {ensure_min_samples} row(s)."
            )
    if ensure_min_features > 0 and arr.ndim == 2:
        d = arr.shape[1]
        if d < ensure_min_features:
            raise ValueError(
                f"Found array with {d} feature(s) (shape={arr.shape}) while a minimum of "
                f"{ensure_min_features} is required by {_estimator_name(estimator)}; "
                f"{input_name} needs at least {ensure_min_features} column(s)."
            )
    if ensure_finite and arr.dtype.kind == "f":
        _assert_all_finite(arr, input_name)
    if copy and np.may_share_memory(arr, X if isinstance(X, np.ndarray) else arr):
        arr = arr.copy()
    if estimator is not None and reset is not None and arr.ndim == 2:
        record_features(estimator, X if names is not None else arr, reset=reset)
    return arr


def _check_sparse(X: Any, input_name: str, dtype: Any, estimator: Any, reset: bool | None) -> Any:
    """A sparse X as a CSR matrix of float32/float64, 2-D, non-empty, stored values finite."""
    from scipy import sparse

    if X.ndim != 2:
        raise ValueError(f"Expected a 2D sparse {input_name}, got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(
            f"{input_name} is a sparse matrix of dtype {X.dtype}; qed needs real numbers."
        )
    target = X.dtype if dtype in ("numeric", None) and X.dtype in FLOAT_DTYPES else np.float64
    if dtype not in ("numeric", None):
        target = dtype
    X = sparse.csr_matrix(X, dtype=target)  # COO, LIL, DOK, CSC and sparse arrays alike
    if not X.has_canonical_format:  # summed on a copy: the caller's matrix is left as given
        X = X.copy()
        X.sum_duplicates()
    if X.shape[0] < 1 or X.shape[1] < 1:
        raise ValueError(
            f"Found array with shape {X.shape} while at least 1 sample and 1 feature are "
            f"required by {_estimator_name(estimator)}."
        )
    # always: no solver path re-checks a sparse X (the stored values are a cheap pass)
    _assert_all_finite(X.data, f"{input_name}.data (the stored values of the sparse matrix)")
    if estimator is not None and reset is not None:
        record_features(estimator, X, reset=reset)
    return X


def _assert_all_finite(arr: np.ndarray, input_name: str) -> None:
    # sum is one fused pass and is non-finite iff some entry is (overflow aside, checked below)
    with np.errstate(over="ignore", invalid="ignore"):
        total = np.sum(arr)
    if np.isfinite(total):
        return
    if np.isnan(arr).any():
        count = int(np.isnan(arr).sum())
        raise ValueError(
            f"Input {input_name} contains NaN ({count} entr{'y' if count == 1 else 'ies'}); "
            "remove or impute the missing values first (e.g. with column means)."
        )
    if np.isinf(arr).any():
        raise ValueError(
            f"Input {input_name} contains infinity or a value too large for {arr.dtype}; "
            "remove or clip the infinite entries first."
        )


def record_features(estimator: Any, X: Any, *, reset: bool) -> None:
    """scikit-learn's fit/predict bookkeeping of ``n_features_in_`` and ``feature_names_in_``.

    Delegates to ``sklearn.utils.validation.validate_data(..., skip_check_array=True)`` — the
    array itself was validated by qed — and adds the fix to its shape-mismatch message. X is
    the user's input (a DataFrame keeps its column names), already known to be 2-D.
    """
    from sklearn.utils.validation import validate_data

    try:
        validate_data(estimator, X, skip_check_array=True, reset=reset)
    except ValueError as exc:
        fix = (
            "pass the columns in the order used in fit"
            if "feature names" in str(exc)
            else "pass data with the same columns as in fit"
        )
        raise ValueError(f"{str(exc).rstrip('.')}; {fix}.") from None


def column_or_1d(y: Any, *, input_name: str = "y", warn: bool = False) -> np.ndarray:
    """Ravel a column vector of shape (n, 1) to (n,); reject other 2-D shapes."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        if warn:
            warnings.warn(
                f"A column-vector {input_name} was passed when a 1d array was expected; it was "
                "flattened. Pass y.ravel() to silence this warning.",
                DataConversionWarning,
                stacklevel=3,
            )
        return y.ravel()
    if y.ndim != 1:
        raise ValueError(
            f"{input_name} should be a 1d array, got an array of shape {y.shape} instead; "
            f"pass {input_name}.ravel() for a single target."
        )
    return y


def check_y(
    y: Any,
    *,
    multi_output: bool = False,
    y_numeric: bool = True,
    estimator: Any = None,
    input_name: str = "y",
) -> np.ndarray:
    """Validate a target: numeric and finite when ``y_numeric``, 1-D unless ``multi_output``."""
    if y is None:
        raise ValueError(
            f"{_estimator_name(estimator)} requires y to be passed, but the target y is None; "
            "pass the targets as the second argument of fit."
        )
    if hasattr(y, "to_numpy"):
        y = y.to_numpy()
    if y_numeric:
        y = check_array(
            y, input_name=input_name, ensure_2d=False, ensure_min_features=0, estimator=estimator
        )
    else:
        y = np.asarray(y)
        if y.dtype.kind == "f":
            _assert_all_finite(y, input_name)
        if y.dtype.kind == "O":
            for value in y.ravel():
                if value is None or (isinstance(value, float) and not np.isfinite(value)):
                    raise ValueError(
                        f"Input {input_name} contains NaN or None; every sample needs a label."
                    )
    if y.ndim == 0:
        raise ValueError(f"{input_name} must be an array of targets, got the scalar {y!r}.")
    if multi_output:
        if y.ndim > 2:
            raise ValueError(
                f"{input_name} must be 1-D or 2-D (n_samples, n_targets), got shape {y.shape}."
            )
        return y
    return column_or_1d(y, input_name=input_name, warn=True)


def check_X_y(
    X: Any,
    y: Any,
    *,
    estimator: Any = None,
    multi_output: bool = False,
    y_numeric: bool = True,
    dtype: Any = "numeric",
    ensure_min_samples: int = 1,
    reset: bool = True,
    accept_sparse: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """Validate X (2-D, numeric, finite; scipy.sparse if ``accept_sparse``) and y (see
    ``check_y``) and their lengths.

    With an ``estimator`` and ``reset=True``, records ``n_features_in_`` and
    ``feature_names_in_`` on it (the fit-time half of sklearn's contract).
    """
    if y is None:
        raise ValueError(
            f"{_estimator_name(estimator)} requires y to be passed, but the target y is None; "
            "pass the targets as the second argument of fit."
        )
    X = check_array(
        X,
        dtype=dtype,
        estimator=estimator,
        reset=reset if estimator is not None else None,
        ensure_min_samples=ensure_min_samples,
        accept_sparse=accept_sparse,
    )
    y = check_y(y, multi_output=multi_output, y_numeric=y_numeric, estimator=estimator)
    check_same_rows(X.shape[0], y.shape[0])
    if y_numeric and y.dtype != X.dtype and y.dtype.kind == "f":
        y = y.astype(X.dtype, copy=False)
    return X, y


def check_same_rows(n_x: int, n_y: int) -> None:
    """Raise a ValueError naming both counts unless X and y have as many rows."""
    if n_x != n_y:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has {n_x} rows but "
            f"y has {n_y}; X and y must describe the same samples."
        )


def check_sample_weight(
    sample_weight: Any, X: np.ndarray, *, dtype: Any = None, only_positive: bool = False
) -> np.ndarray:
    """Return sample weights of shape (n_samples,): ones when None, else validated."""
    n = X.shape[0]
    dtype = X.dtype if dtype is None else dtype
    if sample_weight is None:
        return np.ones(n, dtype=dtype)
    if isinstance(sample_weight, numbers.Number):
        return np.full(n, float(sample_weight), dtype=dtype)
    w = check_array(sample_weight, input_name="sample_weight", ensure_2d=False, dtype=dtype)
    if w.ndim != 1:
        raise ValueError(
            f"sample_weight must be 1D array or scalar, got shape {w.shape}; pass one weight "
            "per sample."
        )
    if w.shape[0] != n:
        raise ValueError(
            f"sample_weight.shape == {w.shape}, expected ({n},): one weight per sample of X."
        )
    if (w < 0).any():
        raise ValueError("Negative values in data passed to sample_weight; weights must be ≥ 0.")
    if only_positive and not (w > 0).any():
        raise ValueError("sample_weight is zero everywhere; at least one weight must be > 0.")
    return w


def encode_labels(y: np.ndarray, estimator: Any = None) -> tuple[np.ndarray, np.ndarray]:
    """Class labels of any single type → ``(classes, codes)`` with ``classes[codes] == y``.

    y : ndarray of shape (n_samples,). Raises ValueError for continuous (non-integer float)
    targets and for fewer than 2 classes, TypeError for labels of mixed types.
    """
    name = _estimator_name(estimator)
    y = np.asarray(y)
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError(
            f"Unknown label type: continuous. {name} is a classifier and needs discrete class "
            "labels; for a real-valued target use a regressor, or bin y into classes."
        )
    if y.dtype.kind == "O":
        kinds = {type(v) for v in y.ravel()}
        if len({str if issubclass(k, str) else "number" for k in kinds}) > 1:
            raise TypeError(
                f"Unknown label type: {name} got labels of mixed types "
                f"{sorted(k.__name__ for k in kinds)}; use labels of a single type (all str "
                "or all numbers)."
            )
    lo, hi = (int(y.min()), int(y.max())) if y.dtype.kind in "iub" and y.size else (0, -1)
    if lo <= hi and -(2**62) < lo and hi < 2**62 and hi - lo < 4 * y.size + 1024:
        # integer labels in a compact range: counting, O(n), instead of np.unique's sort
        offset = y.astype(np.intp) - lo
        present = np.bincount(offset) > 0
        classes = (np.flatnonzero(present) + lo).astype(y.dtype)
        codes = (np.cumsum(present) - 1)[offset]
    else:
        classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data, but the data contains "
            f"only one class: {classes[0]!r}. Add samples of another class."
        )
    return classes, codes.reshape(-1).astype(np.intp)
