"""Activation and normalising layers beyond ReLU/Tanh/Sigmoid, with PyTorch's names and
defaults: ``GELU``, ``LeakyReLU``, ``ELU``, ``Softplus``, ``Softmax``, ``LogSoftmax``.

Each is a thin Module over the function of :mod:`qed.nn.functional` that holds the
mathematics (and the derivative beside it):

- GELU(x) = x·Φ(x), or its tanh approximation ½x(1 + tanh(√(2/π)(x + 0.044715x³)));
- LeakyReLU(x) = x for x > 0, negative_slope·x otherwise;
- ELU(x) = x for x > 0, α(eˣ − 1) otherwise;
- Softplus(x) = (1/β)·log(1 + e^{βx}), linear where βx > threshold;
- Softmax / LogSoftmax along ``dim``.
"""

from __future__ import annotations

from typing import Any

from qed.autograd.tensor import Tensor
from qed.nn import functional as F
from qed.nn.module import Module

__all__ = ["GELU", "LeakyReLU", "ELU", "Softplus", "Softmax", "LogSoftmax"]


class GELU(Module):
    """x·Φ(x) (``approximate="none"``) or the tanh approximation (``"tanh"``)."""

    def __init__(self, approximate: str = "none") -> None:
        super().__init__()
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be 'none' or 'tanh', got {approximate!r}.")
        self.approximate = approximate

    def forward(self, x: Any) -> Tensor:
        return F.gelu(x, self.approximate)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class LeakyReLU(Module):
    """x for x > 0, negative_slope·x otherwise (derivative negative_slope at 0, as PyTorch)."""

    def __init__(self, negative_slope: float = 0.01) -> None:
        super().__init__()
        self.negative_slope = float(negative_slope)

    def forward(self, x: Any) -> Tensor:
        return F.leaky_relu(x, self.negative_slope)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}"


class ELU(Module):
    """x for x > 0, α(eˣ − 1) otherwise."""

    def __init__(self, alpha: float = 1.0) -> None:
        super().__init__()
        self.alpha = float(alpha)

    def forward(self, x: Any) -> Tensor:
        return F.elu(x, self.alpha)

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}"


class Softplus(Module):
    """(1/β)·log(1 + e^{βx}), and x where βx > threshold (PyTorch's numerical reversion)."""

    def __init__(self, beta: float = 1.0, threshold: float = 20.0) -> None:
        super().__init__()
        if not beta > 0:
            raise ValueError(f"Softplus: beta must be positive, got {beta!r}.")
        self.beta = float(beta)
        self.threshold = float(threshold)

    def forward(self, x: Any) -> Tensor:
        return F.softplus(x, self.beta, self.threshold)

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"


class Softmax(Module):
    """exp(xⱼ)/Σₖexp(xₖ) along ``dim`` (−1 when None)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.softmax(x, -1 if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


class LogSoftmax(Module):
    """xⱼ − log Σₖexp(xₖ) along ``dim`` (−1 when None)."""

    def __init__(self, dim: int | None = None) -> None:
        super().__init__()
        self.dim = dim

    def forward(self, x: Any) -> Tensor:
        return F.log_softmax(x, -1 if self.dim is None else self.dim)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
