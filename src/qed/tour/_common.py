"""Small helpers shared by the chapters of the tour."""

from __future__ import annotations

from typing import Any

import numpy as np

from qed.theory.plotting import new_figure

__all__ = ["new_figure", "standardize", "sklearn_version"]


def standardize(X: np.ndarray) -> np.ndarray:
    """Columns to mean 0 and standard deviation 1 (constant columns left at 0)."""
    X = np.asarray(X, dtype=float)
    std = X.std(axis=0)
    return (X - X.mean(axis=0)) / np.where(std > 0, std, 1.0)


def sklearn_version() -> Any:
    import sklearn

    return sklearn.__version__
