"""Gradient clipping by the global norm (torch.nn.utils.clip_grad_norm_)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from qed._validation import check_scalar

__all__ = ["clip_grad_norm", "clip_grad_norm_"]


def clip_grad_norm(
    params: Iterable[Any] | Any,
    max_norm: float,
    norm_type: float = 2.0,
    error_if_nonfinite: bool = False,
) -> float:
    """Scale all grads in place by min(1, max_norm/(‖g‖ + 1e-6)); return ‖g‖ before clipping.

    ‖g‖ is the ``norm_type``-norm of the concatenation of every parameter's grad (parameters
    whose grad is None are skipped) — torch's ``clip_grad_norm_``, including its 1e-6.
    params : parameters with ``.grad`` (or one parameter); norm_type : p ≥ 1 or ``inf``.
    """
    check_scalar(max_norm, "max_norm", min_val=0.0)
    check_scalar(norm_type, "norm_type", min_val=1.0)
    if hasattr(params, "grad") and not isinstance(params, np.ndarray):
        params = [params]
    params = [p for p in params if getattr(p, "grad", None) is not None]
    if not params:
        return 0.0
    grads = [np.asarray(p.grad) for p in params]
    if math.isinf(norm_type):
        total = max(float(np.max(np.abs(g))) if g.size else 0.0 for g in grads)
    elif norm_type == 2.0:
        total = math.sqrt(sum(float(np.linalg.norm(g.ravel())) ** 2 for g in grads))
    else:
        total = sum(float(np.linalg.norm(g.ravel(), norm_type)) ** norm_type for g in grads) ** (
            1.0 / norm_type
        )
    if not math.isfinite(total):
        if error_if_nonfinite:
            raise ValueError(
                f"the total norm of the gradients is {total}; clipping cannot fix a non-finite "
                "gradient (check the loss for overflow), or pass error_if_nonfinite=False."
            )
    coef = max_norm / (total + 1e-6)
    if coef < 1.0:
        for p, g in zip(params, grads, strict=True):
            if isinstance(p.grad, np.ndarray) and p.grad.flags.writeable:
                np.multiply(p.grad, coef, out=p.grad, casting="same_kind")
            else:
                p.grad = g * coef
    return total


clip_grad_norm_ = clip_grad_norm  # torch's in-place spelling
