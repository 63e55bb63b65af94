"""``gradcheck``: the tape's gradients against central differences in float64."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qed.autograd.tensor import Tensor, no_grad

__all__ = ["gradcheck", "GradcheckError"]


class GradcheckError(AssertionError):
    """The analytic (tape) and numerical Jacobians differ beyond the tolerance."""


def _as_output(value: Any) -> Tensor:
    if not isinstance(value, Tensor):
        raise TypeError(
            f"gradcheck: fn must return a Tensor, got {type(value).__name__}; build the "
            "output from the input tensors with qed.autograd operations."
        )
    return value


def gradcheck(
    fn: Callable[..., Tensor],
    *inputs: Any,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
) -> bool:
    """Compare ∂fn/∂inputs from the tape with central differences, in float64.

    Each input (Tensor or array) is copied to a float64 leaf; those given as Tensors with
    ``requires_grad=False`` are held constant, every other input is checked. For every output
    element i the tape gives row i of the Jacobian J (one ``backward`` with the unit vector
    eᵢ); every input entry j gives column j numerically,
    J[:, j] ≈ (fn(x + ε eⱼ) − fn(x − ε eⱼ)) / 2ε, with an error O(ε²).

    Parameters
    ----------
    fn : callable
        Maps the input tensors to one output Tensor (any shape).
    *inputs : Tensor or array_like
        The point at which to differentiate.
    eps : float
        The finite-difference step.
    atol, rtol : float
        Entries pass when |analytic − numeric| ≤ atol + rtol·|numeric|.

    Returns
    -------
    True when every entry passes.

    Raises
    ------
    GradcheckError
        Naming the input, the worst entry and both values.
    """
    leaves = []
    for x in inputs:
        check = not (isinstance(x, Tensor) and not x.requires_grad)
        data = x.data if isinstance(x, Tensor) else np.asarray(x)
        leaves.append(Tensor(np.array(data, dtype=np.float64), requires_grad=check))
    checked = [i for i, t in enumerate(leaves) if t.requires_grad]
    if not checked:
        raise ValueError(
            "gradcheck: no input requires a gradient; pass arrays or Tensors "
            "with requires_grad=True."
        )

    out = _as_output(fn(*leaves))
    n_out = out.data.size
    analytic = [np.zeros((n_out, leaves[i].data.size)) for i in checked]
    for k in range(n_out):
        for i in checked:
            leaves[i].grad = None
        seed = np.zeros(out.data.shape)
        seed.flat[k] = 1.0
        if out.requires_grad:
            out.backward(seed)
        for slot, i in enumerate(checked):
            if leaves[i].grad is not None:
                analytic[slot][k] = leaves[i].grad.ravel()

    with no_grad():
        for slot, i in enumerate(checked):
            x = leaves[i].data
            numeric = np.zeros_like(analytic[slot])
            for j in range(x.size):
                original = x.flat[j]
                x.flat[j] = original + eps
                plus = np.array(_as_output(fn(*leaves)).data, dtype=np.float64).ravel()
                x.flat[j] = original - eps
                minus = np.array(_as_output(fn(*leaves)).data, dtype=np.float64).ravel()
                x.flat[j] = original
                numeric[:, j] = (plus - minus) / (2 * eps)
            error = np.abs(analytic[slot] - numeric) - (atol + rtol * np.abs(numeric))
            if not np.all(np.isfinite(analytic[slot])) or np.any(error > 0):
                k, j = np.unravel_index(
                    np.nanargmax(np.where(np.isfinite(error), error, np.inf)), error.shape
                )
                raise GradcheckError(
                    f"gradcheck failed for input {i} (shape {x.shape}): d out[{k}] / d x[{j}] "
                    f"is {analytic[slot][k, j]!r} by the tape but {numeric[k, j]!r} by central "
                    f"differences (eps={eps}, atol={atol}, rtol={rtol})."
                )
    return True
