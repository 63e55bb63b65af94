"""Layers: ``Linear`` and the activations ``ReLU``, ``Tanh``, ``Sigmoid`` (and ``Identity``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qed._validation import check_random_state
from qed.autograd import ops
from qed.autograd.tensor import Tensor, as_tensor
from qed.nn import init as _init
from qed.nn.functional import linear
from qed.nn.module import Module, Parameter

__all__ = ["Linear", "ReLU", "Tanh", "Sigmoid", "Identity", "INITS"]

# name -> how the weight (out, in) is drawn; biases start at zero except for "torch"
INITS = {
    "he": "N(0, 2/fan_in): He/Kaiming normal, for ReLU (the notes)",
    "he_uniform": "U(±√3·σ), σ² = 2/fan_in",
    "xavier": "N(0, 2/(fan_in + fan_out)): Glorot/PyTorch Xavier normal",
    "xavier_uniform": "U(±√3·σ), σ² = 2/(fan_in + fan_out)",
    "xavier_fan_in": "N(0, 1/fan_in): the notes' Xavier derivation (LeCun normal)",
    "torch": "PyTorch's nn.Linear default: weight and bias U(±1/√fan_in)",
}


def _check_int(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")
    return int(value)


class Linear(Module):
    """y = xWᵀ + b, with PyTorch's layout W : (out_features, in_features), b : (out_features,).

    Parameters
    ----------
    in_features, out_features : int
    bias : bool, default True
    init : str, default "he"
        One of ``INITS``: "he", "he_uniform", "xavier", "xavier_uniform", "xavier_fan_in",
        "torch".
    rng : None, int or numpy Generator
        Source of the initial weights.
    dtype : floating dtype, default float64

    The backward is the notes' matrix rule (∂L/∂x = g·W, ∂L/∂W = gᵀ·x) in one tape node.
    """

    def __init__(
        self,
        in_features: int,
        out_features: int,
        bias: bool = True,
        *,
        init: str = "he",
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        super().__init__()
        self.in_features = _check_int(in_features, "in_features")
        self.out_features = _check_int(out_features, "out_features")
        if init not in INITS:
            raise ValueError(f"Linear(init={init!r}) is unknown; use one of {sorted(INITS)}.")
        self.init = init
        gen = check_random_state(rng)
        weight = Parameter(np.empty((self.out_features, self.in_features), dtype=dtype))
        bias_p = Parameter(np.zeros(self.out_features, dtype=dtype)) if bias else None
        if init == "he":
            _init.he_normal_(weight, rng=gen)
        elif init == "he_uniform":
            _init.he_uniform_(weight, rng=gen)
        elif init == "xavier":
            _init.xavier_normal_(weight, rng=gen)
        elif init == "xavier_uniform":
            _init.xavier_uniform_(weight, rng=gen)
        elif init == "xavier_fan_in":
            _init.xavier_normal_(weight, mode="fan_in", rng=gen)
        else:  # "torch"
            bound = 1.0 / math.sqrt(self.in_features)
            _init.uniform_(weight, -bound, bound, rng=gen)
            if bias_p is not None:
                _init.uniform_(bias_p, -bound, bound, rng=gen)
        self.weight = weight
        self.bias = bias_p

    def forward(self, x: Any) -> Tensor:
        return linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return (
            f"in_features={self.in_features}, out_features={self.out_features}, "
            f"bias={self.bias is not None}"
        )


class ReLU(Module):
    """max(x, 0); derivative 1[x > 0]."""

    def forward(self, x: Any) -> Tensor:
        return ops.relu(as_tensor(x))


class Tanh(Module):
    """tanh x; derivative 1 − tanh²x."""

    def forward(self, x: Any) -> Tensor:
        return ops.tanh(as_tensor(x))


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ); derivative σ(1 − σ)."""

    def forward(self, x: Any) -> Tensor:
        return ops.sigmoid(as_tensor(x))


class Identity(Module):
    """x ↦ x."""

    def forward(self, x: Any) -> Tensor:
        return as_tensor(x)
