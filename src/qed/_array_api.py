"""Array API support: compute in the caller's array library, on the caller's device.

numpy stays the default and fast path (scipy's LAPACK); any other Array API array (a torch
tensor, ``array_api_strict``, …) is handled through ``array_api_compat.array_namespace`` with
the standard's own ``linalg`` extension, and results come back as the caller's array type.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "get_namespace",
    "device_of",
    "float_dtype_of",
    "to_numpy",
]


def get_namespace(*arrays: Any) -> tuple[Any, bool]:
    """``(xp, is_numpy)`` for the arrays given; lists and numpy arrays give numpy.

    Raises ``TypeError`` when the arrays come from different libraries.
    """
    candidates = [a for a in arrays if a is not None and not isinstance(a, (list, tuple))]
    if not candidates or all(isinstance(a, (np.ndarray, np.generic)) for a in candidates):
        return np, True
    if any(hasattr(a, "iloc") for a in candidates):  # pandas goes through numpy
        return np, True
    try:
        from array_api_compat import array_namespace
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise TypeError(
            f"qed got a {type(candidates[0]).__name__}; non-numpy arrays need the package "
            "array-api-compat (pip install array-api-compat), or pass numpy arrays."
        ) from exc
    from array_api_compat import is_array_api_obj

    # objects that only convert to numpy (array-likes with __array__, scalars) go through numpy
    candidates = [a for a in candidates if is_array_api_obj(a)]
    if not candidates or all(isinstance(a, (np.ndarray, np.generic)) for a in candidates):
        return np, True
    try:
        xp = array_namespace(*candidates)
    except TypeError as exc:
        raise TypeError(
            f"qed cannot mix array libraries ({sorted({type(a).__name__ for a in candidates})})"
            "; convert all inputs to one library first."
        ) from exc
    return xp, _is_numpy(xp)


def _is_numpy(xp: Any) -> bool:
    name = getattr(xp, "__name__", "")
    return name in ("numpy", "array_api_compat.numpy") or name.startswith("numpy")


def device_of(x: Any) -> Any:
    from array_api_compat import device

    return device(x)


def float_dtype_of(xp: Any, x: Any) -> Any:
    """x's dtype when it is real floating, else the namespace's float64."""
    if xp.isdtype(x.dtype, "real floating"):
        return x.dtype
    return xp.float64


def to_numpy(x: Any) -> np.ndarray:
    """A (small) array of any namespace as numpy, copied off its device if needed."""
    if hasattr(x, "detach"):  # torch: possibly on a GPU
        return x.detach().cpu().numpy()
    try:
        return np.asarray(x)
    except (TypeError, ValueError, RuntimeError):
        return np.from_dlpack(x)
