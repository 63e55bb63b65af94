"""Hyperparameter checks: a wrong type or range is an error that names the parameter."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

__all__ = ["check_scalar", "check_bool", "check_random_state"]


def check_scalar(
    value: Any,
    name: str,
    *,
    target_type: type | tuple = numbers.Real,
    min_val: float | None = None,
    max_val: float | None = None,
    include_min: bool = True,
    include_max: bool = True,
    allow_inf: bool = True,
) -> Any:
    """Check a hyperparameter's type and range; the error names the parameter and the range."""
    if isinstance(value, bool) and target_type in (numbers.Real, numbers.Integral, float, int):
        raise TypeError(f"{name} must be a number, got the bool {value!r}.")
    if not isinstance(value, target_type):
        expected = getattr(target_type, "__name__", str(target_type))
        raise TypeError(
            f"{name} must be an instance of {expected}, got {type(value).__name__} ({value!r})."
        )
    if isinstance(value, numbers.Real):
        if np.isnan(value):
            raise ValueError(f"{name} is NaN; pass a number.")
        if not allow_inf and np.isinf(value):
            raise ValueError(f"{name} = {value} must be finite.")
        low_ok = min_val is None or (value >= min_val if include_min else value > min_val)
        high_ok = max_val is None or (value <= max_val if include_max else value < max_val)
        if not (low_ok and high_ok):
            lo = "-inf" if min_val is None else min_val
            hi = "inf" if max_val is None else max_val
            left = "[" if include_min and min_val is not None else "("
            right = "]" if include_max and max_val is not None else ")"
            raise ValueError(f"{name} == {value}, must be in {left}{lo}, {hi}{right}.")
    return value


def check_bool(value: Any, name: str) -> bool:
    """A flag must be a bool (numpy bools too): "yes", 1 or None are rejected by name."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise TypeError(f"{name} must be True or False, got {type(value).__name__} ({value!r}).")


def check_random_state(seed: Any) -> np.random.Generator:
    """Turn None, an int, a SeedSequence or a Generator into a ``np.random.Generator``."""
    if seed is None or isinstance(seed, (numbers.Integral, np.random.SeedSequence)):
        if isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed < 0:
            raise ValueError(f"random_state must be a non-negative int, got {seed}.")
        return np.random.default_rng(seed)
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, np.random.RandomState):
        return np.random.default_rng(seed.randint(0, 2**31 - 1))
    raise TypeError(
        f"random_state must be None, an int or a numpy Generator, got {type(seed).__name__}."
    )
