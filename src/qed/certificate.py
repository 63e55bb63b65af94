"""Certificates: the optimality conditions of a fit, measured on the user's data.

A ``Certificate`` is a named list of ``Condition``s. Each condition records a measured
residual (``value``), the ``tolerance`` it is compared with and whether it ``holds``
(value ≤ tolerance). Tolerances scale with the problem through ``scaled_tolerance``: a
backward-stable solver leaves a residual of order (machine epsilon) × (size of the data),
never a fixed magic number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Condition", "Certificate", "scaled_tolerance"]


def scaled_tolerance(scale: float, *, dtype: Any = np.float64, n: int = 1, factor: float = 1e3):
    """A residual tolerance ``factor · eps(dtype) · √n · scale``.

    ``scale`` is the natural size of the quantity being checked (e.g. ‖X‖·‖y‖ for the normal
    equations); ``n`` the number of terms summed into it; ``factor`` absorbs the condition of
    the solver's steps. Returns a positive float.
    """
    eps = np.finfo(np.dtype(dtype) if np.dtype(dtype).kind == "f" else np.float64).eps
    scale = float(scale) if np.isfinite(scale) else 0.0
    return max(factor * eps * np.sqrt(max(n, 1)) * max(scale, 1e-300), np.finfo(float).tiny)


@dataclass(frozen=True)
class Condition:
    """One optimality condition: ``value`` (measured) ≤ ``tolerance`` means it ``holds``."""

    name: str
    value: float
    tolerance: float
    description: str = ""

    @property
    def holds(self) -> bool:
        return bool(np.isfinite(self.value) and self.value <= self.tolerance)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "value": float(self.value),
            "tolerance": float(self.tolerance),
            "holds": self.holds,
            "description": self.description,
        }


@dataclass
class Certificate:
    """The named optimality conditions of a fitted model.

    Examples
    --------
    >>> cert = Certificate("demo", [Condition("‖∇f‖", 1e-12, 1e-9)])
    >>> cert.holds
    True
    """

    model: str
    conditions: list[Condition] = field(default_factory=list)

    def add(self, name: str, value: float, tolerance: float, description: str = "") -> None:
        self.conditions.append(Condition(name, float(value), float(tolerance), description))

    @property
    def holds(self) -> bool:
        return bool(self.conditions) and all(c.holds for c in self.conditions)

    def __bool__(self) -> bool:
        return self.holds

    def __getitem__(self, name: str) -> Condition:
        for c in self.conditions:
            if c.name == name:
                return c
        raise KeyError(f"no condition named {name!r}; have {[c.name for c in self.conditions]}")

    def failing(self) -> list[Condition]:
        return [c for c in self.conditions if not c.holds]

    def to_dict(self) -> dict[str, Any]:
        return {
            "model": self.model,
            "holds": self.holds,
            "conditions": [c.to_dict() for c in self.conditions],
        }

    def __repr__(self) -> str:
        verdict = "holds" if self.holds else "FAILS"
        width = max([len(c.name) for c in self.conditions] + [9])
        lines = [f"Certificate({self.model}): {verdict}"]
        for c in self.conditions:
            mark = "✓" if c.holds else "✗"
            lines.append(
                f"  {mark} {c.name:<{width}}  {c.value:10.3e} ≤ {c.tolerance:9.3e}"
                + (f"  {c.description}" if c.description else "")
            )
        return "\n".join(lines)
