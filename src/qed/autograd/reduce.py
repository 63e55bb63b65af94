"""Reductions beyond ``sum``/``mean``: ``max``/``min`` (with indices), ``var``/``std``
(with ``correction``), ``softmax``, ``log_softmax`` and ``logsumexp``, PyTorch's conventions.

Each is written as in :mod:`qed.autograd.ops`: forward, local ``backward`` on ndarrays and
``double`` on Tensors (differentiable ops) side by side.

- max over everything: ∂/∂a = 1[a = max]/#ties (PyTorch spreads g evenly over ties);
  along ``dim``: (values, indices) with g routed to the returned index (the first maximum).
- var = Σ(a − ā)²/(n − c)  ⇒  ∂/∂a = 2(a − ā)/(n − c);  std = √var.
- softmax sⱼ = exp(aⱼ)/Σₖexp(aₖ)  ⇒  ∂L/∂a = s ⊙ (g − Σₖgₖsₖ);
  log_softmax = a − logsumexp(a)  ⇒  ∂L/∂a = g − s·Σₖgₖ;  ∂ logsumexp/∂a = s.
"""

from __future__ import annotations

import builtins
from typing import Any, NamedTuple

import numpy as np

from qed.autograd import ops
from qed.autograd.select import _dim, gather
from qed.autograd.tensor import Tensor

__all__ = ["max", "min", "var", "std", "softmax", "log_softmax", "logsumexp", "ValuesIndices"]


class ValuesIndices(NamedTuple):
    """``max``/``min`` along a dim (PyTorch's ``torch.return_types.max``): the values (Tensor)
    and the int64 indices where they sit (an ndarray: indices carry no gradient)."""

    values: Tensor
    indices: np.ndarray


def _extreme(a: Tensor, dim: Any, keepdim: bool, largest: bool) -> Tensor | ValuesIndices:
    name = "max" if largest else "min"
    if a.data.size == 0:
        raise ValueError(f"{name}() of an empty tensor has no value; reduce a non-empty one.")
    if dim is None:
        out = a.data.max() if largest else a.data.min()
        mask = a.data == out
        share = (mask / builtins.max(int(mask.sum()), 1)).astype(a.data.dtype)

        def backward(g):
            return (g * share,)

        def double(g):
            return (ops.mul(g, share),)

        return Tensor._make(np.asarray(out), (a,), backward, double)
    d = _dim(dim, a.data.ndim, name)
    arg = np.argmax if largest else np.argmin
    idx = np.expand_dims(arg(a.data, axis=d), d).astype(np.int64)
    values = gather(a, d, idx)
    if not keepdim:
        values = ops.reshape(values, np.squeeze(idx, d).shape)
        idx = np.squeeze(idx, d)
    return ValuesIndices(values, idx)


def max(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The largest entry (a 0-d Tensor), or with ``dim`` the pair ``(values, indices)``."""
    return _extreme(a, dim, keepdim, True)


def min(a: Tensor, dim: int | None = None, keepdim: bool = False) -> Any:  # noqa: A001
    """The smallest entry (a 0-d Tensor), or with ``dim`` the pair ``(values, indices)``."""
    return _extreme(a, dim, keepdim, False)


def _axes(dim: Any, ndim: int) -> tuple[int, ...]:
    if dim is None:
        return tuple(range(ndim))
    dims = (dim,) if isinstance(dim, (int, np.integer)) else tuple(dim)
    return tuple(_dim(d, ndim, "var") for d in dims)


def var(a: Tensor, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
    """Σ(a − ā)²/(n − correction) over ``dim`` (all axes when None); PyTorch's ``var``.

    ``correction=1`` is Bessel's unbiased estimate, ``0`` the maximum-likelihood one.
    """
    axes = _axes(dim, a.data.ndim)
    n = 1
    for ax in axes:
        n *= a.data.shape[ax]
    dof = n - correction
    if dof <= 0:
        raise ValueError(
            f"var/std over {n} value(s) with correction={correction} divides by {dof}; reduce "
            "over more values or use correction=0."
        )
    centred = a.data - a.data.mean(axis=axes, keepdims=True)
    out = np.sum(centred * centred, axis=axes, keepdims=keepdim) / dof
    kept = tuple(1 if i in axes else s for i, s in enumerate(a.data.shape))

    def backward(g):
        return (g.reshape(kept) * centred * (2.0 / dof),)

    def double(g):
        c = ops.sub(a, ops.mean(a, axis=axes, keepdims=True))
        return (ops.mul(ops.reshape(g, kept), ops.mul(c, 2.0 / dof)),)

    return Tensor._make(np.asarray(out, dtype=a.data.dtype), (a,), backward, double)


def std(a: Tensor, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
    """√var(a, dim, correction)  ⇒  ∂/∂a = (a − ā)/((n − c)·std)."""
    return ops.sqrt(var(a, dim, correction=correction, keepdim=keepdim))


def _shifted(x: np.ndarray, d: int) -> np.ndarray:
    m = np.max(x, axis=d, keepdims=True)
    return x - np.where(np.isfinite(m), m, 0)


def softmax(a: Tensor, dim: int = -1) -> Tensor:
    """sⱼ = exp(aⱼ)/Σₖ exp(aₖ) along ``dim`` (max-shifted)  ⇒  ∂L/∂a = s ⊙ (g − Σₖ gₖsₖ)."""
    d = _dim(dim, a.data.ndim, "softmax")
    e = np.exp(_shifted(a.data, d))
    s = e / np.sum(e, axis=d, keepdims=True)

    def backward(g):
        return (s * (g - np.sum(g * s, axis=d, keepdims=True)),)

    def double(g):
        st = softmax(a, d)
        return (ops.mul(st, ops.sub(g, ops.sum(ops.mul(g, st), axis=d, keepdims=True))),)

    return Tensor._make(s, (a,), backward, double)


def log_softmax(a: Tensor, dim: int = -1) -> Tensor:
    """log sⱼ = (aⱼ − m) − log Σₖ exp(aₖ − m)  ⇒  ∂L/∂a = g − s·Σₖ gₖ."""
    d = _dim(dim, a.data.ndim, "log_softmax")
    z = _shifted(a.data, d)
    # subtracting the max first keeps small results exact (x − (m + log Σ) would round them)
    out = z - np.log(np.sum(np.exp(z), axis=d, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=d, keepdims=True),)

    def double(g):
        return (ops.sub(g, ops.mul(softmax(a, d), ops.sum(g, axis=d, keepdims=True))),)

    return Tensor._make(out, (a,), backward, double)


def logsumexp(a: Tensor, dim: int = -1, keepdim: bool = False) -> Tensor:
    """log Σⱼ exp(aⱼ) along ``dim`` (max-shifted)  ⇒  ∂/∂aⱼ = softmax(a)ⱼ."""
    d = _dim(dim, a.data.ndim, "logsumexp")
    m = np.max(a.data, axis=d, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    lse = m + np.log(np.sum(np.exp(a.data - m), axis=d, keepdims=True))
    kept = lse.shape

    def backward(g):
        return (g.reshape(kept) * np.exp(a.data - lse),)

    def double(g):
        return (ops.mul(ops.reshape(g, kept), softmax(a, d)),)

    out = lse if keepdim else np.squeeze(lse, axis=d)
    return Tensor._make(np.asarray(out), (a,), backward, double)
