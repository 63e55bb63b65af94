"""Dropout (inverted): ``dropout`` and the ``Dropout`` layer.

In training each entry is kept with probability 1 − p and scaled by 1/(1 − p), zeroed
otherwise: y = x ⊙ m/(1 − p) with mᵢ ~ Bernoulli(1 − p) independent, so E[y] = x and
evaluation needs no rescaling (the layer is the identity in eval mode). The backward routes
g through the same mask: ∂L/∂x = g ⊙ m/(1 − p). Randomness is explicit: the layer owns a
numpy Generator (``rng``), saved and restored with the module.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._validation import check_random_state
from qed.autograd import ops
from qed.autograd.tensor import Tensor, as_tensor
from qed.nn.module import Module

__all__ = ["dropout", "Dropout"]


def _check_p(p: Any) -> float:
    if isinstance(p, bool) or not isinstance(p, (int, float, np.integer, np.floating)):
        raise TypeError(f"dropout probability p must be a number in [0, 1), got {p!r}.")
    if not 0 <= p < 1:
        raise ValueError(
            f"dropout probability p must lie in [0, 1), got {p!r}: p is the fraction of "
            "entries zeroed, and p = 1 would zero every entry."
        )
    return float(p)


def dropout(input: Any, p: float = 0.5, training: bool = True, rng: Any = None) -> Tensor:  # noqa: A002
    """x ⊙ m/(1 − p) with mᵢ ~ Bernoulli(1 − p) when ``training``, x itself otherwise."""
    p = _check_p(p)
    x = as_tensor(input)
    if not training or p == 0.0:
        return x
    gen = check_random_state(rng)
    keep = gen.random(x.data.shape) >= p
    scaled = keep * np.asarray(1.0 / (1.0 - p), dtype=x.data.dtype)

    def backward(g):
        return (g * scaled,)

    def double(g):
        return (ops.mul(g, scaled),)

    return Tensor._make(x.data * scaled, (x,), backward, double)


class Dropout(Module):
    """Inverted dropout with rate ``p`` in training mode; the identity in eval mode.

    Parameters
    ----------
    p : float in [0, 1), default 0.5
        Probability that an entry is zeroed.
    rng : None, int or numpy Generator
        Source of the masks (a fresh nondeterministic one when None).
    """

    def __init__(self, p: float = 0.5, *, rng: Any = None) -> None:
        super().__init__()
        self.p = _check_p(p)
        self.rng = check_random_state(rng)

    def forward(self, x: Any) -> Tensor:
        return dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"
