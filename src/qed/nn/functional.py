"""``qed.nn.functional``: activations, softmax and the fused linear map, on Tensors.

Each function takes Tensors (or arrays, treated as constants) and returns a Tensor; the
derivatives are the notes': σ' = σ(1 − σ), tanh' = 1 − tanh², ReLU' = 1[z > 0]. The losses
(``cross_entropy``, ``binary_cross_entropy_with_logits``, ``mse_loss``) live in
:mod:`qed.nn.losses` and ``batch_norm`` in :mod:`qed.nn.batchnorm`; all are re-exported here,
as in ``torch.nn.functional``.

``linear``, ``softmax``, ``log_softmax`` and the losses are single tape nodes with a
hand-written local backward (one node instead of a chain of elementary ops), which keeps the
tape's Python overhead and its temporaries small.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import expit, ndtr

from qed.autograd import ops, select
from qed.autograd import reduce as _reduce
from qed.autograd.tensor import Tensor, as_tensor
from qed.nn._activation_kernels import gelu_float32

__all__ = [
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "gelu",
    "softmax",
    "log_softmax",
    "linear",
    "logsumexp",
    "batch_norm",
    "layer_norm",
    "dropout",
    "cross_entropy",
    "binary_cross_entropy_with_logits",
    "mse_loss",
]


def sigmoid(x: Any) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ), finite at ±1000 (no overflow); σ' = σ(1 − σ)."""
    return ops.sigmoid(as_tensor(x))


def tanh(x: Any) -> Tensor:
    """tanh(x); tanh' = 1 − tanh²."""
    return ops.tanh(as_tensor(x))


def relu(x: Any) -> Tensor:
    """max(x, 0); ReLU' = 1[x > 0]."""
    return ops.relu(as_tensor(x))


def _pick_dim(dim: int | None, axis: int | None) -> int:
    if dim is not None and axis is not None and dim != axis:
        raise TypeError(f"give dim or axis (its numpy name), not both: dim={dim}, axis={axis}.")
    return -1 if dim is None and axis is None else (dim if dim is not None else axis)


def logsumexp(
    x: Any,
    dim: int | None = None,
    keepdim: bool = False,
    *,
    axis: int | None = None,
    keepdims: bool | None = None,
) -> Tensor:
    """log Σⱼ exp(xⱼ) along ``dim`` (default −1) ⇒ ∂/∂xⱼ = softmax(x)ⱼ.

    ``axis``/``keepdims`` are numpy's names for ``dim``/``keepdim``.
    """
    keep = keepdim if keepdims is None else keepdims
    return _reduce.logsumexp(as_tensor(x), _pick_dim(dim, axis), keep)


def softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """sⱼ = exp(xⱼ)/Σₖ exp(xₖ) along ``dim`` (default −1) ⇒ ∂L/∂x = s ⊙ (g − Σₖ gₖsₖ)."""
    return _reduce.softmax(as_tensor(x), _pick_dim(dim, axis))


def log_softmax(x: Any, dim: int | None = None, *, axis: int | None = None) -> Tensor:
    """log sⱼ = xⱼ − log Σₖ exp(xₖ) (log-sum-exp) ⇒ ∂L/∂x = g − softmax(x)·Σₖ gₖ."""
    return _reduce.log_softmax(as_tensor(x), _pick_dim(dim, axis))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """x if x > 0 else negative_slope·x ⇒ derivative 1 or negative_slope (the latter at 0)."""
    x = as_tensor(x)
    a = x.data
    ns = float(negative_slope)
    # max(x, s·x) is the leaky ReLU for 0 ≤ s ≤ 1, in one pass instead of a select
    out = np.maximum(a, a * ns) if 0.0 <= ns <= 1.0 else np.where(a > 0, a, a * ns)

    def slope() -> np.ndarray:
        d = (a > 0).astype(a.dtype)
        d *= 1.0 - ns
        d += ns
        return d

    def backward(g):
        return (g * slope(),)

    def double(g):
        return (ops.mul(g, slope()),)

    return Tensor._make(out, (x,), backward, double)


def elu(x: Any, alpha: float = 1.0) -> Tensor:
    """x if x > 0 else α(eˣ − 1) ⇒ derivative 1 or αeˣ (α at 0, as PyTorch)."""
    x = as_tensor(x)
    a = x.data
    neg = np.minimum(a, 0)
    # max(x, 0) + α(e^{min(x, 0)} − 1): each term vanishes on the other's side
    out = np.expm1(neg)
    out *= alpha
    out += np.maximum(a, 0)
    pos = a > 0

    def backward(g):
        d = np.exp(neg)
        d *= alpha
        np.copyto(d, 1, where=pos)
        return (g * d,)

    def double(g):
        neg_part = ops.mul(ops.exp(select.clamp(x, max=0.0)), alpha)
        return (select.where(pos, g, ops.mul(g, neg_part)),)

    return Tensor._make(out, (x,), backward, double)


def softplus(x: Any, beta: float = 1.0, threshold: float = 20.0) -> Tensor:
    """(1/β)·log(1 + e^{βx}), and x itself where βx > threshold (PyTorch's Softplus);
    derivative σ(βx) (1 above the threshold)."""
    x = as_tensor(x)
    z = x.data * beta if beta != 1.0 else x.data
    linear_part = z > threshold
    # log(1 + eᶻ) = max(z, 0) + log1p(e^−|z|): never exponentiates a positive number
    soft = np.log1p(np.exp(-np.abs(z)))
    soft += np.maximum(z, 0)
    if beta != 1.0:
        soft /= beta
    out = np.where(linear_part, x.data, soft)

    def backward(g):
        d = expit(z)
        np.copyto(d, 1, where=linear_part)
        return (g * d,)

    def double(g):
        return (select.where(linear_part, g, ops.mul(g, ops.sigmoid(ops.mul(x, beta)))),)

    return Tensor._make(out, (x,), backward, double)


_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))
_INV_SQRT_2PI = float(1.0 / np.sqrt(2.0 * np.pi))


def gelu(x: Any, approximate: str = "none") -> Tensor:
    """x·Φ(x) (Φ the standard normal cdf); with ``approximate="tanh"`` Hendrycks & Gimpel's
    ½x(1 + tanh(√(2/π)(x + 0.044715x³))). Derivative Φ(x) + x·φ(x), or the tanh form's."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate must be 'none' or 'tanh', got {approximate!r}.")
    x = as_tensor(x)
    a = x.data
    if approximate == "none":
        if a.dtype == np.float32:  # one compiled pass gives both (``_activation_kernels``)
            out, slope = gelu_float32(a)
        else:
            cdf = ndtr(a)
            out, slope = a * cdf, None

        def backward(g):
            if slope is not None:
                return (g * slope,)
            d = a * a
            d *= -0.5
            np.exp(d, out=d)
            d *= a * _INV_SQRT_2PI
            d += cdf
            return (g * d,)

        def double(g):
            pdf = ops.mul(ops.exp(ops.mul(ops.mul(x, x), -0.5)), 1 / np.sqrt(2 * np.pi))
            return (ops.mul(g, ops.add(_ndtr_t(x), ops.mul(x, pdf))),)

    else:
        a2 = a * a
        inner = a2 * 0.044715  # a**3 would call pow per element, ~100× slower than products
        inner += 1
        inner *= a
        inner *= _SQRT_2_OVER_PI
        t = np.tanh(inner)
        out = t + 1
        out *= a
        out *= 0.5

        def backward(g):
            dinner = a2 * (3 * 0.044715 * _SQRT_2_OVER_PI)
            dinner += _SQRT_2_OVER_PI
            d = 1 - t * t
            d *= a
            d *= dinner
            d += 1 + t
            d *= 0.5
            return (g * d,)

        def double(g):
            tt = ops.tanh(ops.mul(ops.add(x, ops.mul(ops.pow(x, 3), 0.044715)), _SQRT_2_OVER_PI))
            dinner = ops.mul(ops.add(ops.mul(ops.mul(x, x), 3 * 0.044715), 1), _SQRT_2_OVER_PI)
            d = ops.add(
                ops.mul(ops.add(tt, 1), 0.5),
                ops.mul(ops.mul(ops.mul(x, 0.5), ops.sub(1, ops.mul(tt, tt))), dinner),
            )
            return (ops.mul(g, d),)

    return Tensor._make(np.asarray(out, dtype=a.dtype), (x,), backward, double)


def _ndtr_t(x: Tensor) -> Tensor:
    """Φ(x) as a tape node (Φ' = φ), so GELU's derivative can be differentiated again."""

    def backward(g):
        return (g * np.exp(-0.5 * x.data * x.data) / np.sqrt(2 * np.pi),)

    def double(g):
        return (ops.mul(g, ops.mul(ops.exp(ops.mul(ops.mul(x, x), -0.5)), 1 / np.sqrt(2 * np.pi))),)

    return Tensor._make(ndtr(x.data), (x,), backward, double)


def linear(x: Any, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = xWᵀ + b with PyTorch's layout W : (out_features, in_features), one tape node.

    By the notes' rule for W = XY:  ∂L/∂x = g·W,  ∂L/∂W = gᵀ·x,  ∂L/∂b = Σᵢ gᵢ.
    x : (n, in) ; returns (n, out). Only the gradients some parent needs are computed (the
    input's is skipped for a first layer fed with data).
    """
    x = as_tensor(x)
    out = x.data @ weight.data.T
    if bias is not None:
        out += bias.data
        parents: tuple[Tensor, ...] = (x, weight, bias)
    else:
        parents = (x, weight)

    def backward(g):
        gx = g @ weight.data if x.requires_grad else None
        if weight.requires_grad:
            g2 = g.reshape(-1, g.shape[-1])
            gw = g2.T @ x.data.reshape(-1, x.data.shape[-1])
        else:
            gw = None
        if bias is None:
            return gx, gw
        gb = g.reshape(-1, g.shape[-1]).sum(axis=0) if bias.requires_grad else None
        return gx, gw, gb

    def double(g):
        gx = ops.matmul(g, weight) if x.requires_grad else None
        if weight.requires_grad:
            g2 = ops.reshape(g, (-1, g.data.shape[-1]))
            gw = ops.matmul(ops.transpose(g2), ops.reshape(x, (-1, x.data.shape[-1])))
        else:
            gw = None
        if bias is None:
            return gx, gw
        gb = ops.sum(ops.reshape(g, (-1, g.data.shape[-1])), axis=0) if bias.requires_grad else None
        return gx, gw, gb

    return Tensor._make(out, parents, backward, double)


from qed.nn.batchnorm import batch_norm  # noqa: E402  (re-exports)
from qed.nn.dropout import dropout  # noqa: E402
from qed.nn.losses import (  # noqa: E402
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
from qed.nn.normalization import layer_norm  # noqa: E402
