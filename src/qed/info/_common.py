"""The helpers every ``qed.info`` measure shares: the logarithm base, probability rows along
an axis, the sum-to-one test and its tolerance, and the error that names what is invalid.

Shared by ``entropy``, ``divergence``, ``mutual``, ``gaussian`` and the Array API path, which
import them from here (not from one another), so the package has no import cycle.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from qed._validation import check_array
from qed.info import _kernels

__all__ = [
    "_log_base",
    "_as_array",
    "_normalise_axis",
    "_rows",
    "_sum_tolerance",
    "_diagnose",
    "_check_sums",
    "_finish",
    "_validated_table",
]


def _log_base(base: Any) -> float:
    """ln(base), the divisor that turns nats into units of ``base``; 1 for base=None."""
    if base is None:
        return 1.0
    if isinstance(base, bool) or not isinstance(base, numbers.Real):
        raise TypeError(
            f"base must be a positive real number (e.g. 2 for bits) or None, got {base!r}."
        )
    base = float(base)
    if not (math.isfinite(base) and base > 0 and base != 1):
        raise ValueError(
            f"base = {base} is not a valid logarithm base; it must be finite, > 0 and ≠ 1 "
            "(None for nats, 2 for bits, 10 for hartleys)."
        )
    return math.log(base)


def _as_array(p: Any, name: str) -> np.ndarray:
    """Numeric ndarray (float32 kept, other numbers → float64) without the finite pass."""
    arr = check_array(
        p,
        input_name=name,
        ensure_2d=False,
        allow_nd=True,
        ensure_finite=False,
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    if arr.ndim == 0:
        raise ValueError(
            f"{name} must be an array of probabilities (one per outcome), got the scalar "
            f"{arr.item()!r}; pass e.g. [{arr.item()!r}, {1 - arr.item()!r}]."
        )
    if arr.size == 0:
        raise ValueError(
            f"{name} is empty (shape {arr.shape}); a distribution needs at least one outcome."
        )
    return arr


def _normalise_axis(axis: Any, ndim: int, name: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, numbers.Integral):
        raise TypeError(f"axis must be an int or None, got {axis!r}.")
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"axis {axis} is out of bounds for {name} with {ndim} dimension(s); use an axis in "
            f"[{-ndim}, {ndim - 1}] or axis=None for the whole array."
        )
    return int(axis) % ndim


def _rows(arr: np.ndarray, axis: Any, name: str) -> tuple[np.ndarray, tuple[int, ...]]:
    """Move the distribution axis last and view the array as C-contiguous float64 rows.

    Returns (rows of shape (m, n), the shape of the result). No copy for a 1-D float64 vector.
    """
    if axis is None:
        arr = arr.reshape(-1)
        axis = 0
    axis = _normalise_axis(axis, arr.ndim, name)
    moved = np.moveaxis(arr, axis, -1)
    n = moved.shape[-1]
    if n == 0:
        raise ValueError(f"{name} has no outcomes along axis {axis} (shape {arr.shape}).")
    rows = np.ascontiguousarray(moved, dtype=np.float64).reshape(-1, n)
    return rows, moved.shape[:-1]


def _sum_tolerance(n: int, dtype: np.dtype) -> float:
    """How far from 1 the sum of n valid probabilities of ``dtype`` may be: 64·eps·√n."""
    eps = np.finfo(dtype if np.dtype(dtype).kind == "f" else np.float64).eps
    return 64 * eps * max(math.sqrt(n), 1.0)


def _diagnose(rows: np.ndarray, name: str) -> None:
    """Raise the precise error for rows the fused pass found invalid (a cold path)."""
    nan = int(np.isnan(rows).sum())
    if nan:
        raise ValueError(
            f"{name} contains NaN ({nan} entr{'y' if nan == 1 else 'ies'}); a probability must "
            "be a number in [0, 1]. Remove or impute the missing values first."
        )
    if np.isinf(rows).any():
        raise ValueError(f"{name} contains infinity; a probability must be a number in [0, 1].")
    raise ValueError(
        f"{name} has negative entries (min {rows.min():.3g}); probabilities must be ≥ 0."
    )


def _check_sums(
    sums: np.ndarray, n: int, dtype: np.dtype, name: str, axis: Any, normalize: bool
) -> None:
    """The sum-to-1 check, applied after the fused pass (or the > 0 check when normalising)."""
    where = "in total" if axis is None else f"along axis {axis}"
    if normalize:
        if (sums <= 0).any():
            raise ValueError(f"{name} sums to 0 {where}; there is nothing to normalise.")
        if not np.isfinite(sums).all():
            raise ValueError(
                f"the sum of {name} {where} overflows float64; divide {name} by its largest "
                "entry first."
            )
        return
    tol = _sum_tolerance(n, dtype)
    worst = float(np.max(np.abs(sums - 1.0)))
    if not worst <= tol:
        raise ValueError(
            f"{name} does not sum to 1 {where} (off by {worst:.3g}, tolerance {tol:.1g}); pass "
            "a normalised distribution, or normalize=True to divide by the sum (SciPy's "
            "behaviour)."
        )


def _finish(values: np.ndarray, shape: tuple[int, ...], log_base: float) -> Any:
    """Clip rounding residues below 0 (these measures are ≥ 0 by theorem), convert units,
    and return a numpy float for a single distribution, an array of ``shape`` otherwise."""
    out = (np.maximum(values, 0.0) + 0.0) / log_base  # + 0.0 turns −0.0 into 0.0
    out = out.reshape(shape)
    return out[()] if out.ndim == 0 else out


def _validated_table(pxy: Any, name: str, normalize: bool, *, ndim: int | None = 2) -> np.ndarray:
    """A joint probability table as a float64 array, validated (or normalised) as a whole."""
    arr = _as_array(pxy, name)
    if ndim is not None and arr.ndim != ndim:
        raise ValueError(
            f"{name} must be a {ndim}-D joint probability table p(x, y) with X indexing rows, "
            f"got an array of shape {arr.shape}; build one from label arrays with "
            "qed.info.contingency(x, y)."
        )
    rows, _ = _rows(arr, None, name)
    sums, bad, _acc = _kernels.entropy_rows(rows)
    if bad.any():
        _diagnose(rows, name)
    _check_sums(sums, rows.shape[1], arr.dtype, name, None, normalize)
    table = rows.reshape(arr.shape)
    return table / sums[0] if normalize else table


# ------------------------------------------------------------------------- public functions
