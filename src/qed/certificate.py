"""Certificates: the optimality conditions of a fit, measured on the user's data.

A ``Certificate`` is a named list of ``Condition``s. Each condition records a measured
residual (``value``), the ``tolerance`` it is compared with and whether it ``holds``
(value ≤ tolerance). Tolerances scale with the problem through ``scaled_tolerance``: a
backward-stable solver leaves a residual of order (machine epsilon) × (size of the data),
never a fixed magic number.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BOUND_NAMES", "Condition", "Certificate", "scaled_tolerance"]

#: The error bounds a certificate may carry, in the order they are shown.
BOUND_NAMES = ("objective_gap", "distance", "prediction")


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
    """One optimality condition: ``value`` (measured) ≤ ``tolerance`` means it ``holds``.

    ``name`` is a plain ASCII identifier (``"stationarity"``, ``"normal_equations"``,
    ``"kkt_box"``) so that ``cert["stationarity"]`` is typeable; the mathematics is in the
    ``description``.
    """

    name: str
    value: float
    tolerance: float
    description: str = ""

    def __post_init__(self) -> None:
        if not (isinstance(self.name, str) and self.name.isascii() and self.name.isidentifier()):
            raise ValueError(
                f"A condition's name must be a plain ASCII identifier such as "
                f"'stationarity', got {self.name!r}; put the mathematics in its description."
            )

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
    >>> cert = Certificate("demo", [Condition("stationarity", 1e-12, 1e-9, "‖∇f‖ = 0")])
    >>> cert.holds
    True
    """

    model: str
    conditions: list[Condition] = field(default_factory=list)
    #: Upper bounds on the error of the fit (``qed.bounds``): ``objective_gap`` ≥ f(θ) − f*,
    #: ``distance`` ≥ ‖θ − θ*‖₂ and, where predictions are linear in θ, ``prediction`` ≥
    #: max |ŷ − ŷ*| over the X certified. Empty for fits with no such bound (non-convex).
    bounds: dict[str, float] = field(default_factory=dict)
    #: What the bounds measure (which objective, which parameters) or why there are none.
    bounds_note: str = ""

    def add(self, name: str, value: float, tolerance: float, description: str = "") -> None:
        self.conditions.append(Condition(name, float(value), float(tolerance), description))

    def set_bounds(self, bounds: dict[str, float], note: str) -> None:
        """Record error bounds (keys among ``BOUND_NAMES``) and what they mean."""
        unknown = set(bounds) - set(BOUND_NAMES)
        if unknown:
            raise ValueError(f"unknown bound names {sorted(unknown)}; use {BOUND_NAMES}.")
        self.bounds = {k: float(bounds[k]) for k in BOUND_NAMES if k in bounds}
        self.bounds_note = note

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
            "bounds": dict(self.bounds),
            "bounds_note": self.bounds_note,
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
        if self.bounds:
            lines.append("  bounds: " + ", ".join(f"{k} ≤ {v:.3e}" for k, v in self.bounds.items()))
        if self.bounds_note:
            lines.append(f"  ({self.bounds_note})")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        """A table for notebooks: ✓/✗, condition, measured value, tolerance, meaning."""
        verdict = "holds" if self.holds else "FAILS"
        rows = "".join(
            "<tr>"
            f"<td style='color:{'green' if c.holds else 'crimson'}'>{'✓' if c.holds else '✗'}</td>"
            f"<td><code>{html.escape(c.name)}</code></td>"
            f"<td style='text-align:right'>{c.value:.3e}</td>"
            f"<td style='text-align:right'>{c.tolerance:.3e}</td>"
            f"<td>{html.escape(c.description)}</td>"
            "</tr>"
            for c in self.conditions
        )
        bounds = "".join(
            f"<tr><td></td><td><code>{html.escape(k)}</code></td>"
            f"<td style='text-align:right'>≤ {v:.3e}</td><td></td><td>error bound</td></tr>"
            for k, v in self.bounds.items()
        )
        note = (
            f"<tfoot><tr><td colspan='5'>{html.escape(self.bounds_note)}</td></tr></tfoot>"
            if self.bounds_note
            else ""
        )
        return (
            f"<table class='qed-certificate'><caption>Certificate({html.escape(self.model)}): "
            f"<b>{verdict}</b></caption><thead><tr><th></th><th>condition</th><th>measured</th>"
            f"<th>tolerance</th><th>meaning</th></tr></thead><tbody>{rows}{bounds}</tbody>{note}</table>"
        )
