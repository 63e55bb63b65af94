"""Layer normalisation: ``layer_norm`` (one fused tape node) and the ``LayerNorm`` layer.

Each sample is normalised over its trailing ``normalized_shape`` axes (m values), with the
biased variance, then scaled and shifted elementwise (Ba, Kiros & Hinton 2016; PyTorch's
``nn.LayerNorm``):

    x̃ = (x − μ)/√(σ² + ε),   μ = (1/m)Σx,  σ² = (1/m)Σ(x − μ)²,   y = γ ⊙ x̃ + β.

The backward is batch norm's closed form with the roles of the axes exchanged:

    ∂L/∂x = (1/(m·s))·(m·ĝ − Σĝ − x̃·Σĝx̃),   ĝ = γ ⊙ g,  s = √(σ² + ε)  (sums over the m axes),
    ∂L/∂γ = Σ_samples g ⊙ x̃,   ∂L/∂β = Σ_samples g.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed.autograd import ops
from qed.autograd.differentiate import double_via
from qed.autograd.tensor import Tensor, as_tensor
from qed.nn.module import Module, Parameter

__all__ = ["layer_norm", "LayerNorm"]


def _normalized_shape(shape: Any) -> tuple[int, ...]:
    dims = (shape,) if isinstance(shape, (int, np.integer)) else tuple(shape)
    if not dims or any(
        isinstance(d, bool) or not isinstance(d, (int, np.integer)) or d < 1 for d in dims
    ):
        raise ValueError(
            f"normalized_shape must be a positive int or a non-empty tuple of them, got {shape!r}."
        )
    return tuple(int(d) for d in dims)


def layer_norm(
    input: Any,  # noqa: A002 (PyTorch's name)
    normalized_shape: Any,
    weight: Tensor | None = None,
    bias: Tensor | None = None,
    eps: float = 1e-5,
) -> Tensor:
    """Normalise over the trailing ``normalized_shape`` axes (PyTorch's ``F.layer_norm``).

    input : (*, *normalized_shape); weight, bias : normalized_shape or None.
    """
    x = as_tensor(input)
    shape = _normalized_shape(normalized_shape)
    k = len(shape)
    if x.data.shape[x.data.ndim - k :] != shape or x.data.ndim < k:
        raise ValueError(
            f"layer_norm: the input's trailing axes {x.data.shape[-k:]} (input shape "
            f"{x.data.shape}) do not match normalized_shape {shape}; normalized_shape must be "
            "the last dimension(s) of the input."
        )
    axes = tuple(range(x.data.ndim - k, x.data.ndim))
    lead = tuple(range(x.data.ndim - k))
    m = int(np.prod(shape))
    mean = x.data.mean(axis=axes, keepdims=True)
    xc = x.data - mean
    var = np.mean(xc * xc, axis=axes, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    xhat = xc
    xhat *= inv_std
    out = xhat * weight.data if weight is not None else xhat.copy()
    if bias is not None:
        out += bias.data
    parents: tuple[Tensor, ...] = (x,) + tuple(t for t in (weight, bias) if t is not None)

    def backward(g):
        grads: list[np.ndarray | None] = []
        if x.requires_grad:
            gh = g * weight.data if weight is not None else g
            gx = xhat * np.sum(gh * xhat, axis=axes, keepdims=True)
            gx += np.sum(gh, axis=axes, keepdims=True)
            gx *= -1.0 / m
            gx += gh
            gx *= inv_std
            grads.append(gx)
        else:
            grads.append(None)
        if weight is not None:
            grads.append(np.sum(g * xhat, axis=lead) if weight.requires_grad else None)
        if bias is not None:
            grads.append(np.sum(g, axis=lead) if bias.requires_grad else None)
        return tuple(grads)

    def composite(x, *affine):
        c = ops.sub(x, ops.mean(x, axis=axes, keepdims=True))
        v = ops.mean(ops.mul(c, c), axis=axes, keepdims=True)
        y = ops.div(c, ops.sqrt(ops.add(v, eps)))
        if weight is not None:
            y = ops.mul(y, weight)
        if bias is not None:
            y = ops.add(y, bias)
        return y

    return Tensor._make(
        out.astype(x.data.dtype, copy=False), parents, backward, double_via(composite, parents)
    )


class LayerNorm(Module):
    """Layer normalisation over the trailing ``normalized_shape`` axes, PyTorch's layer.

    Parameters
    ----------
    normalized_shape : int or tuple of int
        The trailing shape of the inputs that each sample is normalised over.
    eps : float, default 1e-5
        Added to the variance inside the square root.
    elementwise_affine : bool, default True
        Learn γ (``weight``, ones) and β (``bias``, zeros) of ``normalized_shape``.
    bias : bool, default True
        Learn β (only with ``elementwise_affine``).
    dtype : floating dtype, default float64
    """

    def __init__(
        self,
        normalized_shape: Any,
        eps: float = 1e-5,
        elementwise_affine: bool = True,
        bias: bool = True,
        *,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.normalized_shape = _normalized_shape(normalized_shape)
        if not eps >= 0:
            raise ValueError(f"LayerNorm: eps must be non-negative, got {eps!r}.")
        self.eps = float(eps)
        self.elementwise_affine = bool(elementwise_affine)
        if self.elementwise_affine:
            self.weight = Parameter(np.ones(self.normalized_shape, dtype=dtype))
            self.bias = Parameter(np.zeros(self.normalized_shape, dtype=dtype)) if bias else None
        else:
            self.weight = None
            self.bias = None

    def forward(self, x: Any) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return (
            f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
        )
