"""Losses: cross entropy, binary cross entropy with logits, mean squared error.

Each is one fused tape node, stable at any logit:

- ``cross_entropy``: ℓᵢ = log Σₖ exp(zᵢₖ) − zᵢ,yᵢ (log-sum-exp), ∂ℓᵢ/∂zᵢ = softmax(zᵢ) − e_yᵢ,
  the notes' (prediction − truth).
- ``binary_cross_entropy_with_logits``: ℓ = max(z, 0) − z·y + log(1 + e^−|z|), which never
  exponentiates a positive number; ∂ℓ/∂z = σ(z) − y.
- ``mse_loss``: ℓ = (x − y)², ∂ℓ/∂x = 2(x − y).

``reduction`` is "mean" (default), "sum" or "none", as in PyTorch.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from qed.autograd import ops
from qed.autograd.reduce import softmax as _softmax
from qed.autograd.tensor import Tensor, as_tensor
from qed.nn.module import Module

__all__ = [
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
    "CrossEntropyLoss",
    "BCEWithLogitsLoss",
    "MSELoss",
]

_REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(reduction: str) -> None:
    if reduction not in _REDUCTIONS:
        raise ValueError(f"reduction must be one of {_REDUCTIONS}, got {reduction!r}.")


def _reduce(loss: np.ndarray, reduction: str) -> tuple[np.ndarray, float | None]:
    """The reduced loss, and the factor its gradient carries (None for "none")."""
    if reduction == "none":
        return loss, None
    total = np.sum(loss)
    if reduction == "sum":
        return np.asarray(total), 1.0
    return np.asarray(total / max(loss.size, 1), dtype=loss.dtype), 1.0 / max(loss.size, 1)


def _upstream(g: np.ndarray, factor: float | None) -> Any:
    return g * factor if factor is not None else g


def _upstream_t(g: Tensor, factor: float | None) -> Tensor:
    return ops.mul(g, factor) if factor is not None else g


def cross_entropy(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """Softmax cross entropy of logits (N, K) against integer class indices (N,) in [0, K).

    Fused log-softmax + negative log-likelihood: ℓᵢ = logsumexp(zᵢ) − zᵢ,yᵢ, finite for any
    finite logits; the gradient (softmax(z) − onehot(y))/N for "mean".
    """
    _check_reduction(reduction)
    z = as_tensor(input)
    t = target.data if isinstance(target, Tensor) else np.asarray(target)
    if z.data.ndim != 2:
        raise ValueError(
            f"cross_entropy: input must be logits of shape (N, K), got {z.data.shape}."
        )
    n, k = z.data.shape
    if t.shape != (n,):
        raise ValueError(
            f"cross_entropy: target must have shape ({n},) (one class index per "
            f"row of the logits), got {t.shape}."
        )
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and np.all(np.mod(t, 1) == 0):
            t = t.astype(np.int64)
        else:
            raise TypeError(
                f"cross_entropy: target must hold integer class indices, got dtype {t.dtype}."
            )
    if n and (t.min() < 0 or t.max() >= k):
        raise ValueError(
            f"cross_entropy: target indices must lie in [0, {k}), got values in "
            f"[{t.min()}, {t.max()}]."
        )
    rows = np.arange(n)
    shifted = z.data - np.max(z.data, axis=1, keepdims=True)
    e = np.exp(shifted)
    s = np.sum(e, axis=1, keepdims=True)
    loss = np.log(s[:, 0]) - shifted[rows, t]
    out, factor = _reduce(loss, reduction)

    def backward(grad):
        p = e / s  # softmax
        p[rows, t] -= 1
        if factor is None:
            p *= grad[:, None]
        else:
            p *= grad * factor
        return (p,)

    def double(grad):
        onehot = np.zeros_like(z.data)
        onehot[rows, t] = 1
        scale = ops.reshape(grad, (-1, 1)) if factor is None else ops.mul(grad, factor)
        return (ops.mul(ops.sub(_softmax(z, 1), onehot), scale),)

    return Tensor._make(out, (z,), backward, double)


def binary_cross_entropy_with_logits(
    input: Any,
    target: Any,  # noqa: A002
    reduction: str = "mean",
) -> Tensor:
    """ℓ = −[y·log σ(z) + (1 − y)·log(1 − σ(z))] = max(z, 0) − z·y + log(1 + e^−|z|).

    Stable for any z; ∂ℓ/∂z = σ(z) − y and ∂ℓ/∂y = −z (targets may be soft, in [0, 1]).
    """
    _check_reduction(reduction)
    z = as_tensor(input)
    y = as_tensor(target, dtype=z.data.dtype if not isinstance(target, Tensor) else None)
    if z.data.shape != y.data.shape:
        raise ValueError(
            f"binary_cross_entropy_with_logits: input {z.data.shape} and target "
            f"{y.data.shape} must have the same shape."
        )
    loss = np.maximum(z.data, 0) - z.data * y.data + np.log1p(np.exp(-np.abs(z.data)))
    out, factor = _reduce(loss, reduction)

    def backward(grad):
        g = _upstream(grad, factor)
        gz = g * (expit(z.data) - y.data) if z.requires_grad else None
        gy = -g * z.data if y.requires_grad else None
        return gz, gy

    def double(grad):
        g = _upstream_t(grad, factor)
        gz = ops.mul(g, ops.sub(ops.sigmoid(z), y)) if z.requires_grad else None
        gy = ops.neg(ops.mul(g, z)) if y.requires_grad else None
        return gz, gy

    return Tensor._make(out, (z, y), backward, double)


def mse_loss(input: Any, target: Any, reduction: str = "mean") -> Tensor:  # noqa: A002
    """ℓ = (x − y)² averaged (or summed) over every element; ∂ℓ/∂x = 2(x − y) = −∂ℓ/∂y."""
    _check_reduction(reduction)
    x = as_tensor(input)
    y = as_tensor(target, dtype=x.data.dtype if not isinstance(target, Tensor) else None)
    if x.data.shape != y.data.shape:
        raise ValueError(
            f"mse_loss: input {x.data.shape} and target {y.data.shape} must have "
            "the same shape (reshape the target, e.g. y.reshape(-1, 1))."
        )
    diff = x.data - y.data
    out, factor = _reduce(diff * diff, reduction)

    def backward(grad):
        g = 2 * _upstream(grad, factor) * diff
        return (g if x.requires_grad else None), (-g if y.requires_grad else None)

    def double(grad):
        g = ops.mul(ops.mul(_upstream_t(grad, factor), 2), ops.sub(x, y))
        return (g if x.requires_grad else None), (ops.neg(g) if y.requires_grad else None)

    return Tensor._make(out, (x, y), backward, double)


class CrossEntropyLoss(Module):
    """Module form of ``cross_entropy``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return cross_entropy(input, target, self.reduction)


class BCEWithLogitsLoss(Module):
    """Module form of ``binary_cross_entropy_with_logits``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return binary_cross_entropy_with_logits(input, target, self.reduction)


class MSELoss(Module):
    """Module form of ``mse_loss``."""

    def __init__(self, reduction: str = "mean") -> None:
        super().__init__()
        _check_reduction(reduction)
        self.reduction = reduction

    def forward(self, input: Any, target: Any) -> Tensor:  # noqa: A002
        return mse_loss(input, target, self.reduction)
