"""The differentiable operations of ``Tensor``, each forward next to its local backward.

Every op computes its output with numpy and returns it through ``Tensor._make`` together
with ``backward(g)``: given g = ∂L/∂out it returns (∂L/∂a, ∂L/∂b, …), one entry per parent
(None where a parent needs no gradient). Gradients of broadcast operands are returned in
the broadcast shape; the tape sums them back to the operand's shape. A backward returns
freshly allocated arrays, or the upstream ``g`` itself (or a view of it) — never an array
that something else owns — so that the tape may accumulate in place safely.

Non-Tensor operands (Python numbers, ndarrays) are constants. A Python number takes the
dtype of the tensor it meets, so float32 computations stay float32.

Beside ``backward`` each op passes ``double(g)``: the same local rule written with these
differentiable ops on Tensors (g a Tensor), which the graph sweep of
``backward(create_graph=True)`` and ``qed.autograd.grad`` use, so that gradients can be
differentiated again. The ndarray ``backward`` stays the fast path of first-order training.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit

from qed.autograd.shape import (
    astype,
    broadcast_to,
    getitem,
    reshape,
    scatter,
    sum_to,
    transpose,
)
from qed.autograd.tensor import Tensor

__all__ = [
    "add",
    "sub",
    "mul",
    "div",
    "neg",
    "pow",
    "matmul",
    "sum",
    "mean",
    "exp",
    "log",
    "tanh",
    "sigmoid",
    "relu",
    "abs",
    "reshape",
    "transpose",
    "getitem",
    "astype",
    "sqrt",
    "broadcast_to",
    "sum_to",
    "scatter",
]


def _lift(x: Any, like: Tensor | None) -> Tensor:
    """``x`` as a Tensor; numbers and integer arrays take ``like``'s dtype."""
    if isinstance(x, Tensor):
        return x
    arr = np.asarray(x)
    if like is not None and (arr.ndim == 0 or arr.dtype.kind not in "fc"):
        arr = arr.astype(like.data.dtype, copy=False)
    return Tensor(arr)


def _pair(a: Any, b: Any) -> tuple[Tensor, Tensor]:
    like = a if isinstance(a, Tensor) else b if isinstance(b, Tensor) else None
    return _lift(a, like), _lift(b, like)


def _need(t: Tensor) -> bool:
    return t.requires_grad


# --- arithmetic -------------------------------------------------------------------------------
def add(a: Any, b: Any) -> Tensor:
    """out = a + b  ⇒  ∂L/∂a = g, ∂L/∂b = g (summed over broadcast axes)."""
    a, b = _pair(a, b)

    def backward(g):
        return g, g

    def double(g):
        return g, g

    return Tensor._make(a.data + b.data, (a, b), backward, double)


def sub(a: Any, b: Any) -> Tensor:
    """out = a − b  ⇒  ∂L/∂a = g, ∂L/∂b = −g."""
    a, b = _pair(a, b)

    def backward(g):
        return g, (-g if _need(b) else None)

    def double(g):
        return g, (neg(g) if _need(b) else None)

    return Tensor._make(a.data - b.data, (a, b), backward, double)


def neg(a: Tensor) -> Tensor:
    """out = −a  ⇒  ∂L/∂a = −g."""

    def backward(g):
        return (-g,)

    def double(g):
        return (neg(g),)

    return Tensor._make(-a.data, (a,), backward, double)


def mul(a: Any, b: Any) -> Tensor:
    """out = a ⊙ b  ⇒  ∂L/∂a = g ⊙ b, ∂L/∂b = g ⊙ a."""
    a, b = _pair(a, b)

    def backward(g):
        return (g * b.data if _need(a) else None), (g * a.data if _need(b) else None)

    def double(g):
        return (mul(g, b) if _need(a) else None), (mul(g, a) if _need(b) else None)

    return Tensor._make(a.data * b.data, (a, b), backward, double)


def div(a: Any, b: Any) -> Tensor:
    """out = a / b  ⇒  ∂L/∂a = g / b, ∂L/∂b = −g ⊙ a / b² = −g ⊙ out / b."""
    a, b = _pair(a, b)
    out = a.data / b.data

    def backward(g):
        ga = g / b.data if _need(a) else None
        gb = -g * out / b.data if _need(b) else None
        return ga, gb

    def double(g):
        ga = div(g, b) if _need(a) else None
        gb = neg(div(mul(g, a), mul(b, b))) if _need(b) else None
        return ga, gb

    return Tensor._make(out, (a, b), backward, double)


def pow(a: Any, p: Any) -> Tensor:  # noqa: A001 (the operator's name)
    """out = aᵖ  ⇒  ∂L/∂a = g ⊙ p·aᵖ⁻¹, ∂L/∂p = g ⊙ aᵖ·log a (for a tensor exponent)."""
    if not isinstance(p, Tensor):  # constant exponent: the common case, keep it cheap
        a = _lift(a, None)
        p_arr = np.asarray(p)
        if p_arr.ndim == 0:
            p_arr = p_arr.astype(a.data.dtype)
        out = a.data**p_arr

        def backward_const(g):
            return (g * p_arr * a.data ** (p_arr - 1),)

        def double_const(g):
            return (mul(g, mul(pow(a, p_arr - 1), p_arr)),)

        return Tensor._make(out, (a,), backward_const, double_const)
    a, p = _pair(a, p)
    out = a.data**p.data

    def backward(g):
        ga = g * p.data * a.data ** (p.data - 1) if _need(a) else None
        gp = g * out * np.log(a.data) if _need(p) else None
        return ga, gp

    def double(g):
        ga = mul(g, mul(p, pow(a, sub(p, 1)))) if _need(a) else None
        gp = mul(g, mul(pow(a, p), log(a))) if _need(p) else None
        return ga, gp

    return Tensor._make(out, (a, p), backward, double)


def sqrt(a: Tensor) -> Tensor:
    """out = √a  ⇒  ∂L/∂a = g / (2√a)  (infinite at a = 0, as PyTorch)."""
    out = np.sqrt(a.data)

    def backward(g):
        return (g / (2 * out),)

    def double(g):
        return (div(g, mul(sqrt(a), 2)),)

    return Tensor._make(out, (a,), backward, double)


def _swap_last(t: Tensor) -> Tensor:
    perm = list(range(t.data.ndim))
    perm[-1], perm[-2] = perm[-2], perm[-1]
    return transpose(t, perm)


def matmul(a: Any, b: Any) -> Tensor:
    """W = XY  ⇒  ∂L/∂X = ∂L/∂W·Yᵀ,  ∂L/∂Y = Xᵀ·∂L/∂W  (the notes).

    numpy's rules for 1-D operands (a vector is a row on the left, a column on the right) and
    for stacks of matrices (batch axes broadcast) apply; both are handled by lifting vectors
    to matrices for the backward.
    """
    a, b = _pair(a, b)
    out = a.data @ b.data

    def backward(g):
        if a.data.ndim == 1 and b.data.ndim == 1:  # inner product: out = Σ aᵢbᵢ
            return (g * b.data if _need(a) else None), (g * a.data if _need(b) else None)
        x = a.data if a.data.ndim > 1 else a.data[None, :]
        y = b.data if b.data.ndim > 1 else b.data[:, None]
        g2 = g if a.data.ndim > 1 else np.expand_dims(g, -2)
        g2 = g2 if b.data.ndim > 1 else np.expand_dims(g2, -1)
        ga = gb = None
        if _need(a):
            ga = g2 @ np.swapaxes(y, -1, -2)
            ga = ga if a.data.ndim > 1 else ga[..., 0, :]  # batch axes: the tape sums them
        if _need(b):
            gb = np.swapaxes(x, -1, -2) @ g2
            gb = gb if b.data.ndim > 1 else gb[..., 0]
        return ga, gb

    def double(g):
        if a.data.ndim == 1 and b.data.ndim == 1:
            return (mul(g, b) if _need(a) else None), (mul(g, a) if _need(b) else None)
        x = a if a.data.ndim > 1 else reshape(a, (1, -1))
        y = b if b.data.ndim > 1 else reshape(b, (-1, 1))
        g2 = g if a.data.ndim > 1 else reshape(g, g.data.shape[:-1] + (1,) + g.data.shape[-1:])
        g2 = g2 if b.data.ndim > 1 else reshape(g2, g2.data.shape + (1,))
        ga = gb = None
        if _need(a):
            ga = matmul(g2, _swap_last(y))
            ga = ga if a.data.ndim > 1 else getitem(ga, (..., 0, slice(None)))
        if _need(b):
            gb = matmul(_swap_last(x), g2)
            gb = gb if b.data.ndim > 1 else getitem(gb, (..., 0))
        return ga, gb

    return Tensor._make(out, (a, b), backward, double)


# --- reductions ----------------------------------------------------------------
def _normalise_axis(axis: Any, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, (int, np.integer)) else tuple(axis)
    return tuple(int(ax) % ndim if ndim else 0 for ax in axes)


def _expanded_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """out = Σ a over ``axis``  ⇒  ∂L/∂a = g broadcast back over the summed axes."""
    out = np.sum(a.data, axis=axis, keepdims=keepdims)
    shape = a.data.shape
    axes = _normalise_axis(axis, a.data.ndim)

    def backward(g):
        if not keepdims:
            g = np.expand_dims(g, axes) if axes else g
        return (np.broadcast_to(g, shape),)

    def double(g):
        return (broadcast_to(reshape(g, _expanded_shape(shape, axes)), shape),)

    return Tensor._make(np.asarray(out), (a,), backward, double)


def mean(a: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """out = (1/n) Σ a over ``axis``  ⇒  ∂L/∂a = g / n broadcast back."""
    out = np.mean(a.data, axis=axis, keepdims=keepdims)
    shape = a.data.shape
    axes = _normalise_axis(axis, a.data.ndim)
    n = 1
    for ax in axes:
        n *= shape[ax]

    def backward(g):
        g = g / np.asarray(n, dtype=g.dtype)
        if not keepdims:
            g = np.expand_dims(g, axes) if axes else g
        return (np.broadcast_to(g, shape),)

    def double(g):
        return (broadcast_to(reshape(div(g, n), _expanded_shape(shape, axes)), shape),)

    return Tensor._make(np.asarray(out), (a,), backward, double)


# --- elementwise functions --------------------------------------------------------------------
def exp(a: Tensor) -> Tensor:
    """out = eᵃ  ⇒  ∂L/∂a = g ⊙ out."""
    out = np.exp(a.data)

    def backward(g):
        return (g * out,)

    def double(g):
        return (mul(g, exp(a)),)

    return Tensor._make(out, (a,), backward, double)


def log(a: Tensor) -> Tensor:
    """out = log a  ⇒  ∂L/∂a = g / a."""
    out = np.log(a.data)

    def backward(g):
        return (g / a.data,)

    def double(g):
        return (div(g, a),)

    return Tensor._make(out, (a,), backward, double)


def tanh(a: Tensor) -> Tensor:
    """out = tanh a  ⇒  ∂L/∂a = g ⊙ (1 − out²)  (the notes: tanh' = 1 − tanh²)."""
    out = np.tanh(a.data)

    def backward(g):
        return (g * (1 - out * out),)

    def double(g):
        t = tanh(a)
        return (mul(g, sub(1, mul(t, t))),)

    return Tensor._make(out, (a,), backward, double)


def sigmoid(a: Tensor) -> Tensor:
    """out = σ(a) = 1/(1 + e⁻ᵃ)  ⇒  ∂L/∂a = g ⊙ out(1 − out)  (σ' = σ(1 − σ)).

    ``scipy.special.expit`` evaluates σ without overflow at ±1000.
    """
    out = expit(a.data)

    def backward(g):
        return (g * out * (1 - out),)

    def double(g):
        s = sigmoid(a)
        return (mul(g, mul(s, sub(1, s))),)

    return Tensor._make(out, (a,), backward, double)


def relu(a: Tensor) -> Tensor:
    """out = max(a, 0)  ⇒  ∂L/∂a = g ⊙ 1[a > 0]  (ReLU' = 1[z > 0], 0 at z = 0 as PyTorch)."""
    out = np.maximum(a.data, 0)

    def backward(g):
        return (g * (a.data > 0),)

    def double(g):  # the mask is locally constant: ReLU'' = 0 almost everywhere
        return (mul(g, (a.data > 0).astype(a.data.dtype)),)

    return Tensor._make(out, (a,), backward, double)


def abs(a: Tensor) -> Tensor:  # noqa: A001
    """out = |a|  ⇒  ∂L/∂a = g ⊙ sign(a)  (0 at a = 0, as PyTorch)."""

    def backward(g):
        return (g * np.sign(a.data),)

    def double(g):
        return (mul(g, np.sign(a.data)),)

    return Tensor._make(np.abs(a.data), (a,), backward, double)


from qed.autograd.reduce import (  # noqa: E402  (they build on the ops above)
    ValuesIndices,
    log_softmax,
    logsumexp,
    max,
    min,
    softmax,
    std,
    var,
)
from qed.autograd.select import cat, clamp, gather, stack, where  # noqa: E402

__all__ += [
    "max",
    "min",
    "var",
    "std",
    "softmax",
    "log_softmax",
    "logsumexp",
    "clamp",
    "where",
    "gather",
    "cat",
    "stack",
    "ValuesIndices",
]
