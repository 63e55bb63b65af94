"""Reverse-mode automatic differentiation on numpy arrays (the notes' backpropagation).

``Tensor`` records a dynamic tape; ``backward()`` applies each op's local rule in reverse
topological order. ``no_grad()`` turns recording off; ``gradcheck`` compares the tape with
central differences.
"""

from qed.autograd import ops
from qed.autograd.gradcheck import gradcheck
from qed.autograd.tensor import Tensor, as_tensor, enable_grad, is_grad_enabled, no_grad

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "as_tensor", "gradcheck", "ops"]
