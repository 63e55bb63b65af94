"""Issue 15's bad-input rows for the layers, ops and higher-order autograd: each case names
the call, the error type and a regex the message must match (naming the problem and, where
there is one, the fix). Nothing may crash inside numpy or return NaN."""

from __future__ import annotations

import numpy as np
import pytest

from qed import autograd as ag
from qed import nn
from qed.autograd import DoubleBackwardError, Tensor
from qed.nn import functional as F

X = Tensor(np.arange(12.0).reshape(3, 4) / 7, requires_grad=True)


def _no_double(t):
    return Tensor._make(t.data**2, (t,), lambda g: (2 * g * t.data,))


CASES = {
    "dropout p = 1": (lambda: nn.Dropout(1.0), ValueError, r"\[0, 1\)"),
    "dropout p < 0": (lambda: nn.Dropout(-0.1), ValueError, r"\[0, 1\)"),
    "dropout p > 1": (lambda: nn.Dropout(1.5), ValueError, r"\[0, 1\)"),
    "dropout p nan": (lambda: nn.Dropout(float("nan")), ValueError, r"\[0, 1\)"),
    "dropout p str": (lambda: nn.Dropout("0.5"), TypeError, "number"),
    "functional dropout p": (lambda: F.dropout(X, 1.0), ValueError, r"\[0, 1\)"),
    "layernorm shape mismatch": (
        lambda: nn.LayerNorm(5)(X),
        ValueError,
        r"do not match normalized_shape \(5,\)",
    ),
    "layernorm 2-d mismatch": (
        lambda: nn.LayerNorm((4, 3))(X),
        ValueError,
        "normalized_shape",
    ),
    "layernorm too many dims": (
        lambda: nn.LayerNorm((2, 3, 4))(X),
        ValueError,
        "normalized_shape",
    ),
    "layernorm bad shape": (lambda: nn.LayerNorm(0), ValueError, "positive int"),
    "layernorm negative eps": (lambda: nn.LayerNorm(4, eps=-1.0), ValueError, "eps"),
    "create_graph without double": (
        lambda: ag.grad(_no_double(X).sum(), X, create_graph=True),
        DoubleBackwardError,
        "'_no_double' has no second derivative",
    ),
    "backward create_graph without double": (
        lambda: _no_double(X).sum().backward(create_graph=True),
        DoubleBackwardError,
        "without create_graph",
    ),
    "grad of a constant": (
        lambda: ag.grad(Tensor([1.0]).sum(), X),
        RuntimeError,
        "does not require a gradient",
    ),
    "grad unused input": (
        lambda: ag.grad(X.sum(), [X, Tensor([1.0], requires_grad=True)]),
        RuntimeError,
        "allow_unused",
    ),
    "grad non-scalar without grad_outputs": (
        lambda: ag.grad(X * 2, X),
        RuntimeError,
        "non-scalar",
    ),
    "grad_outputs wrong shape": (
        lambda: ag.grad(X * 2, X, grad_outputs=np.ones(3)),
        ValueError,
        "shape",
    ),
    "gelu approximate": (lambda: nn.GELU("fast"), ValueError, "'none' or 'tanh'"),
    "softplus beta": (lambda: nn.Softplus(beta=0.0), ValueError, "beta"),
    "max of empty": (lambda: Tensor(np.zeros((0, 2))).max(), ValueError, "empty"),
    "max dim out of range": (lambda: X.max(dim=2), ValueError, "out of range"),
    "softmax dim out of range": (lambda: X.softmax(5), ValueError, "out of range"),
    "var too few values": (lambda: Tensor([1.0]).var(), ValueError, "correction"),
    "clamp no bounds": (lambda: X.clamp(), ValueError, "min and max"),
    "where non-boolean": (lambda: ag.where(X.data, X, 0.0), TypeError, "boolean"),
    "gather out of range": (
        lambda: X.gather(1, np.array([[4], [0], [0]])),
        ValueError,
        r"\[0, 4\)",
    ),
    "gather ndim": (lambda: X.gather(1, np.array([0, 1])), ValueError, "dimensions"),
    "gather float index": (lambda: X.gather(1, np.full((3, 1), 0.5)), TypeError, "integers"),
    "cat mismatch": (
        lambda: ag.cat([X, Tensor(np.zeros((3, 2)))], 0),
        ValueError,
        "only the size along dim",
    ),
    "cat not a list": (lambda: ag.cat(X), TypeError, "list"),
    "stack mismatch": (lambda: ag.stack([X, X[:2]]), ValueError, "equal shapes"),
    "modulelist non-module": (lambda: nn.ModuleList([nn.ReLU(), 3]), TypeError, "Module"),
}


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_raises_a_clear_error(case):
    call, error, pattern = CASES[case]
    with pytest.raises(error, match=pattern):
        call()
