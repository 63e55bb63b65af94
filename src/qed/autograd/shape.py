"""Shape and indexing ops of ``Tensor``: reshape, transpose, indexing and its adjoint
(scatter), broadcasting and its adjoint (sum_to), dtype conversion.

Each is linear, and its local backward is another op of this module (reshape ↔ reshape back,
getitem ↔ scatter, broadcast_to ↔ sum_to), so ``double`` is the same rule on Tensors.
"""

from __future__ import annotations

import builtins
from typing import Any

import numpy as np

from qed.autograd.backward import unbroadcast
from qed.autograd.tensor import Tensor

__all__ = [
    "reshape",
    "transpose",
    "getitem",
    "scatter",
    "astype",
    "broadcast_to",
    "sum_to",
]


def broadcast_to(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """out = a broadcast to ``shape`` (numpy's rules)  ⇒  ∂L/∂a = g summed back to a's shape."""
    src = a.data.shape

    def backward(g):
        return (unbroadcast(g, src),)

    def double(g):
        return (sum_to(g, src),)

    return Tensor._make(np.broadcast_to(a.data, shape).copy(), (a,), backward, double)


def sum_to(a: Tensor, shape: tuple[int, ...]) -> Tensor:
    """out = a summed over the axes that broadcasting added to reach a from ``shape``
    ⇒  ∂L/∂a = g broadcast back (the adjoint of ``broadcast_to``)."""
    src = a.data.shape

    def backward(g):
        return (np.broadcast_to(g, src),)

    def double(g):
        return (broadcast_to(g, src),)

    out = unbroadcast(a.data, tuple(shape))
    return Tensor._make(out if out is not a.data else out.copy(), (a,), backward, double)


def reshape(a: Tensor, shape: Any) -> Tensor:
    """out = a viewed with ``shape``  ⇒  ∂L/∂a = g reshaped back."""
    src = a.data.shape

    def backward(g):
        return (g.reshape(src),)

    def double(g):
        return (reshape(g, src),)

    return Tensor._make(a.data.reshape(shape), (a,), backward, double)


def transpose(a: Tensor, axes: Any = None) -> Tensor:
    """out = aᵀ (axes permuted)  ⇒  ∂L/∂a = g with the inverse permutation."""
    perm = tuple(range(a.data.ndim))[::-1] if axes is None else tuple(axes)
    inverse = tuple(int(i) for i in np.argsort(perm))

    def backward(g):
        return (g.transpose(inverse),)

    def double(g):
        return (transpose(g, inverse),)

    return Tensor._make(a.data.transpose(perm), (a,), backward, double)


def _is_basic_index(index: Any) -> bool:
    items = index if isinstance(index, tuple) else (index,)
    return builtins.all(
        isinstance(i, (int, np.integer, slice)) or i is None or i is Ellipsis for i in items
    )


def _plain_index(index: Any) -> Any:
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def getitem(a: Tensor, index: Any) -> Tensor:
    """out = a[index]  ⇒  ∂L/∂a = g scattered back into zeros; repeated indices add up."""
    index = _plain_index(index)
    basic = _is_basic_index(index)
    shape = a.data.shape

    def backward(g):
        grad = np.zeros_like(a.data)
        if basic:
            grad[index] += g
        else:
            np.add.at(grad, index, g)
        return (grad,)

    def double(g):
        return (scatter(g, index, shape),)

    out = a.data[index]
    return Tensor._make(np.asarray(out), (a,), backward, double)


def scatter(a: Tensor, index: Any, shape: tuple[int, ...]) -> Tensor:
    """out = zeros(shape) with a added at ``index`` (repeats add up): the adjoint of indexing,
    so ∂L/∂a = g[index]."""
    index = _plain_index(index)
    out = np.zeros(shape, dtype=a.data.dtype)
    if _is_basic_index(index):
        out[index] += a.data
    else:
        np.add.at(out, index, a.data)

    def backward(g):
        return (np.asarray(g[index]),)

    def double(g):
        return (getitem(g, index),)

    return Tensor._make(out, (a,), backward, double)


def astype(a: Tensor, dtype: Any) -> Tensor:
    """out = a converted to ``dtype``  ⇒  ∂L/∂a = g converted back to a's dtype."""
    src = a.data.dtype

    def backward(g):
        return (g.astype(src),)

    def double(g):
        return (astype(g, src),)

    return Tensor._make(a.data.astype(dtype), (a,), backward, double)
