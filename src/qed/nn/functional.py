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

from qed.autograd import ops
from qed.autograd.tensor import Tensor, as_tensor

__all__ = [
    "sigmoid",
    "tanh",
    "relu",
    "softmax",
    "log_softmax",
    "linear",
    "logsumexp",
    "batch_norm",
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


def _logsumexp(z: np.ndarray, axis: int) -> np.ndarray:
    """log Σ exp(z) along ``axis`` (kept), shifted by the max so that nothing overflows."""
    m = np.max(z, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    return m + np.log(np.sum(np.exp(z - m), axis=axis, keepdims=True))


def logsumexp(x: Any, axis: int = -1, keepdims: bool = False) -> Tensor:
    """log Σⱼ exp(xⱼ) along ``axis`` ⇒ ∂/∂xⱼ = softmax(x)ⱼ."""
    x = as_tensor(x)
    lse = _logsumexp(x.data, axis)

    def backward(g):
        gk = g if keepdims else np.expand_dims(g, axis)
        return (gk * np.exp(x.data - lse),)

    out = lse if keepdims else np.squeeze(lse, axis=axis)
    return Tensor._make(np.asarray(out), (x,), backward)


def softmax(x: Any, axis: int = -1) -> Tensor:
    """sⱼ = exp(xⱼ)/Σₖ exp(xₖ) along ``axis`` ⇒ ∂L/∂x = s ⊙ (g − Σₖ gₖsₖ)."""
    x = as_tensor(x)
    z = x.data - np.max(x.data, axis=axis, keepdims=True)
    e = np.exp(z)
    s = e / np.sum(e, axis=axis, keepdims=True)

    def backward(g):
        return (s * (g - np.sum(g * s, axis=axis, keepdims=True)),)

    return Tensor._make(s, (x,), backward)


def log_softmax(x: Any, axis: int = -1) -> Tensor:
    """log sⱼ = xⱼ − log Σₖ exp(xₖ) (log-sum-exp) ⇒ ∂L/∂x = g − softmax(x)·Σₖ gₖ."""
    x = as_tensor(x)
    m = np.max(x.data, axis=axis, keepdims=True)
    z = x.data - np.where(np.isfinite(m), m, 0)
    # (x − m) − log Σ exp(x − m): subtracting the max first keeps the small result exact,
    # where x − (m + log Σ) would round it to the spacing of |m| (±1000 in float32)
    out = z - np.log(np.sum(np.exp(z), axis=axis, keepdims=True))

    def backward(g):
        return (g - np.exp(out) * np.sum(g, axis=axis, keepdims=True),)

    return Tensor._make(out, (x,), backward)


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

    return Tensor._make(out, parents, backward)


from qed.nn.batchnorm import batch_norm  # noqa: E402  (re-exports)
from qed.nn.losses import (  # noqa: E402
    binary_cross_entropy_with_logits,
    cross_entropy,
    mse_loss,
)
