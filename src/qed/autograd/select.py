"""Selecting and joining ops: ``clamp``, ``where``, ``gather``, ``cat``, ``stack``.

Each is written as in :mod:`qed.autograd.ops`: forward, local ``backward`` on ndarrays and
``double`` on Tensors side by side. Their backwards route g to the entries that were chosen
(and zeros elsewhere), so they are linear in g and their second derivatives are the same
routing applied to a Tensor g. PyTorch's names and conventions: ``dim``, ``clamp(min, max)``
with gradient 1 on the closed interval [min, max], ``gather(dim, index)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from qed.autograd import ops
from qed.autograd.tensor import Tensor

__all__ = ["clamp", "where", "gather", "cat", "stack"]


def _dim(dim: Any, ndim: int, name: str) -> int:
    if isinstance(dim, bool) or not isinstance(dim, (int, np.integer)):
        raise TypeError(f"{name}: dim must be an int, got {dim!r}.")
    if not -ndim <= dim < max(ndim, 1):
        raise ValueError(
            f"{name}: dim={dim} is out of range for a tensor with {ndim} dimensions; use a "
            f"dim in [{-ndim}, {ndim - 1}]."
        )
    return int(dim) % max(ndim, 1)


def clamp(a: Tensor, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (torch's names)
    """out = min(max(a, lo), hi)  ⇒  ∂L/∂a = g ⊙ 1[lo ≤ a ≤ hi]  (PyTorch's closed mask)."""
    if min is None and max is None:
        raise ValueError("clamp: give at least one of min and max.")
    lo = -np.inf if min is None else np.asarray(min.data if isinstance(min, Tensor) else min)
    hi = np.inf if max is None else np.asarray(max.data if isinstance(max, Tensor) else max)
    out = np.minimum(np.maximum(a.data, lo), hi).astype(a.data.dtype, copy=False)
    mask = ((a.data >= lo) & (a.data <= hi)).astype(a.data.dtype)

    def backward(g):
        return (g * mask,)

    def double(g):
        return (ops.mul(g, mask),)

    return Tensor._make(out, (a,), backward, double)


def where(condition: Any, input: Any, other: Any) -> Tensor:  # noqa: A002 (torch's names)
    """out = input where ``condition`` else other  ⇒  ∂L/∂input = g ⊙ 1[c], ∂L/∂other = g ⊙ 1[¬c].

    ``condition`` is a boolean array (e.g. ``x > 0``); the three broadcast together.
    """
    cond = condition.data if isinstance(condition, Tensor) else np.asarray(condition)
    if cond.dtype != np.bool_:
        raise TypeError(
            f"where: condition must be a boolean array (e.g. x > 0), got dtype {cond.dtype}."
        )
    a, b = ops._pair(input, other)
    out = np.where(cond, a.data, b.data)

    def backward(g):
        ga = np.where(cond, g, 0) if a.requires_grad else None
        gb = np.where(cond, 0, g) if b.requires_grad else None
        return ga, gb

    def double(g):
        zero = np.zeros((), dtype=g.data.dtype)
        ga = where(cond, g, zero) if a.requires_grad else None
        gb = where(cond, zero, g) if b.requires_grad else None
        return ga, gb

    return Tensor._make(out, (a, b), backward, double)


def _as_index(index: Any, name: str) -> np.ndarray:
    idx = index.data if isinstance(index, Tensor) else np.asarray(index)
    if idx.dtype.kind == "f" and idx.size and np.all(np.mod(idx, 1) == 0):
        idx = idx.astype(np.int64)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{name}: index must hold integers, got dtype {idx.dtype}.")
    return idx


def gather(a: Tensor, dim: int, index: Any) -> Tensor:
    """out[i][j][k] = a[index[i][j][k]][j][k] for dim = 0 (and so on): PyTorch's ``gather``.

    ``index`` has a's number of dimensions and, on every other axis, at most a's size. The
    backward adds g into zeros at the gathered positions (repeated indices add up).
    """
    idx = _as_index(index, "gather")
    if idx.ndim != a.data.ndim:
        raise ValueError(
            f"gather: index has {idx.ndim} dimensions but the tensor has {a.data.ndim}; "
            "they must be equal."
        )
    d = _dim(dim, a.data.ndim, "gather")
    for ax, (ni, na) in enumerate(zip(idx.shape, a.data.shape, strict=True)):
        if ax != d and ni > na:
            raise ValueError(
                f"gather: index size {ni} on dim {ax} exceeds the tensor's size {na} there."
            )
    size = a.data.shape[d]
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise ValueError(
            f"gather: index values must lie in [0, {size}) along dim {d}, got values in "
            f"[{idx.min()}, {idx.max()}]."
        )
    full = list(np.indices(idx.shape, sparse=True))
    full[d] = idx
    return ops.getitem(a, tuple(full))


def _check_tensors(tensors: Sequence[Any], name: str) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name}: expected a non-empty list or tuple of tensors.")
    like = next((t for t in tensors if isinstance(t, Tensor)), None)
    return [ops._lift(t, like) for t in tensors]


def cat(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join tensors along an existing ``dim``  ⇒  each gets its slice of g back."""
    ts = _check_tensors(tensors, "cat")
    d = _dim(dim, ts[0].data.ndim, "cat")
    for i, t in enumerate(ts):
        if t.data.ndim != ts[0].data.ndim or any(
            n != m for ax, (n, m) in enumerate(zip(t.data.shape, ts[0].data.shape)) if ax != d
        ):
            raise ValueError(
                f"cat: tensor {i} has shape {t.data.shape}, which differs from tensor 0's "
                f"{ts[0].data.shape} off dim {d}; only the size along dim may differ."
            )
    out = np.concatenate([t.data for t in ts], axis=d)
    bounds = np.cumsum([0] + [t.data.shape[d] for t in ts])
    slices = [
        (slice(None),) * d + (slice(int(lo), int(hi)),)
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)
    ]

    def backward(g):
        return tuple(g[s] if t.requires_grad else None for s, t in zip(slices, ts, strict=True))

    def double(g):
        return tuple(
            ops.getitem(g, s) if t.requires_grad else None for s, t in zip(slices, ts, strict=True)
        )

    return Tensor._make(out, tuple(ts), backward, double)


def stack(tensors: Sequence[Any], dim: int = 0) -> Tensor:
    """Join equal-shaped tensors along a new ``dim``  ⇒  each gets its slice of g back."""
    ts = _check_tensors(tensors, "stack")
    for i, t in enumerate(ts):
        if t.data.shape != ts[0].data.shape:
            raise ValueError(
                f"stack: tensor {i} has shape {t.data.shape} but tensor 0 has "
                f"{ts[0].data.shape}; stack needs equal shapes."
            )
    d = _dim(dim, ts[0].data.ndim + 1, "stack")
    out = np.stack([t.data for t in ts], axis=d)
    picks = [(slice(None),) * d + (i,) for i in range(len(ts))]

    def backward(g):
        return tuple(g[s] if t.requires_grad else None for s, t in zip(picks, ts, strict=True))

    def double(g):
        return tuple(
            ops.getitem(g, s) if t.requires_grad else None for s, t in zip(picks, ts, strict=True)
        )

    return Tensor._make(out, tuple(ts), backward, double)
