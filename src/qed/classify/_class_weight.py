"""Class weights c_m for the classifiers' losses, scikit-learn's convention, validated."""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["class_weights"]


def class_weights(class_weight: Any, classes: np.ndarray, y: np.ndarray, sw: np.ndarray):
    """The weight c_m of each class (k,), scikit-learn's: "balanced" gives
    Σᵢsᵢ / (k·Σ_{yᵢ=m} sᵢ); a dict gives its value (1 for labels it omits).

    Raises ValueError for dict keys that are not labels of y and for negative or non-finite
    weights.
    """
    if isinstance(class_weight, dict):
        unknown = [key for key in class_weight if not np.any(classes == key)]
        if unknown:
            raise ValueError(
                f"class_weight has keys {unknown!r} that are not labels of y (classes "
                f"{classes.tolist()}); use the labels as keys."
            )
        values = np.array([float(v) for v in class_weight.values()], dtype=np.float64)
        if np.any(~np.isfinite(values)) or np.any(values < 0):
            raise ValueError(f"class_weight values must be finite and ≥ 0, got {class_weight!r}.")
    from sklearn.utils.class_weight import compute_class_weight

    return compute_class_weight(class_weight, classes=classes, y=y, sample_weight=sw)
