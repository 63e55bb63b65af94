"""Reverse-mode automatic differentiation on numpy arrays (the notes' backpropagation).

``Tensor`` records a dynamic tape; ``backward()`` applies each op's local rule in reverse
topological order. ``no_grad()`` turns recording off; ``gradcheck`` compares the tape with
central differences. ``grad(..., create_graph=True)`` and ``backward(create_graph=True)``
record the backward pass itself, for second derivatives (``hvp``).
"""

from qed.autograd import ops
from qed.autograd.backward import DoubleBackwardError
from qed.autograd.differentiate import grad, hvp
from qed.autograd.gradcheck import gradcheck
from qed.autograd.reduce import ValuesIndices
from qed.autograd.select import cat, stack, where
from qed.autograd.tensor import Tensor, as_tensor, enable_grad, is_grad_enabled, no_grad

__all__ = [
    "Tensor",
    "no_grad",
    "enable_grad",
    "is_grad_enabled",
    "as_tensor",
    "gradcheck",
    "ops",
    "grad",
    "hvp",
    "cat",
    "stack",
    "where",
    "ValuesIndices",
    "DoubleBackwardError",
]
