"""Class labels: any hashable type in, integer codes 0 … k−1 out, ``classes_`` kept."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["encode_labels"]


def encode_labels(y: np.ndarray, estimator: str) -> tuple[np.ndarray, np.ndarray]:
    """Return ``(classes, codes)`` with ``classes[codes] == y``; reject regression targets.

    y : ndarray of shape (n_samples,), of any label type (ints, strings, bools, objects).
    Raises ValueError for continuous (non-integer float) targets and for a single class.
    """
    y = np.asarray(y)
    if y.dtype.kind == "f" and np.any(y != np.round(y)):
        raise ValueError(
            f"Unknown label type: continuous. {estimator} is a classifier and needs discrete "
            "class labels; for a real-valued target use a regressor, or bin y into classes."
        )
    if y.dtype.kind == "O":
        _reject_mixed(y, estimator)
    classes, codes = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise ValueError(
            f"{estimator} needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes[0]!r}. Add samples of another class."
        )
    return classes, codes.reshape(-1).astype(np.intp)


def _reject_mixed(y: np.ndarray, estimator: str) -> None:
    kinds: set[Any] = {type(v) for v in y.ravel()}
    if str in kinds and len(kinds) > 1:
        raise TypeError(
            f"Unknown label type: {estimator} got labels of mixed types "
            f"{sorted(k.__name__ for k in kinds)}; use labels of a single type (all str or "
            "all numbers)."
        )
