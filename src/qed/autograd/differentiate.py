"""``grad`` and ``hvp``: gradients as values, and their derivatives (PyTorch's
``torch.autograd.grad`` and ``torch.autograd.functional.hvp``).

``grad(outputs, inputs, grad_outputs)`` returns Σₖ ⟨grad_outputsₖ, ∂outputsₖ/∂input⟩ for each
input without touching any ``.grad``. With ``create_graph=True`` the returned gradients are
recorded on the tape, so a second ``grad`` differentiates them: for a scalar f and a fixed
direction v, ∇ₓ⟨∇ₓf, v⟩ = ∇²f(x)·v, the Hessian-vector product at the cost of two backward
passes and without forming ∇²f (Pearlmutter's trick).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from qed.autograd.backward import run_backward
from qed.autograd.tensor import Tensor, _graph_gradient, enable_grad

__all__ = ["grad", "hvp", "double_via"]


def _as_list(x: Any, name: str) -> tuple[list[Tensor], bool]:
    single = isinstance(x, Tensor)
    items = [x] if single else list(x)
    for i, t in enumerate(items):
        if not isinstance(t, Tensor):
            raise TypeError(f"grad: {name}[{i}] is a {type(t).__name__}, not a Tensor.")
    return items, single


def grad(
    outputs: Tensor | Sequence[Tensor],
    inputs: Tensor | Sequence[Tensor],
    grad_outputs: Any = None,
    create_graph: bool = False,
    allow_unused: bool = False,
) -> tuple[Tensor | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as a tuple of Tensors.

    Parameters
    ----------
    outputs : Tensor or sequence of Tensors
        Differentiated quantities; scalars unless ``grad_outputs`` is given.
    inputs : Tensor or sequence of Tensors
        Tensors of the graph (leaves or intermediate) to differentiate with respect to.
    grad_outputs : array_like, Tensor or sequence of them, optional
        The vectors v in the vector-Jacobian products vᵀ∂output/∂input (default 1 for scalars).
    create_graph : bool, default False
        Record the computation of the gradients, so that they can be differentiated again.
    allow_unused : bool, default False
        Return None for an input that the outputs do not depend on, instead of raising.

    Returns
    -------
    tuple of Tensor (or None), one per input, each of its input's shape. ``.grad`` of the
    leaves is not modified.
    """
    outs, _ = _as_list(outputs, "outputs")
    ins, _ = _as_list(inputs, "inputs")
    if grad_outputs is None:
        gos: list[Any] = [None] * len(outs)
    elif isinstance(grad_outputs, (Tensor, np.ndarray)) or np.isscalar(grad_outputs):
        gos = [grad_outputs]
    else:
        gos = list(grad_outputs)
    if len(gos) != len(outs):
        raise ValueError(
            f"grad: {len(gos)} grad_outputs for {len(outs)} outputs; give one per output."
        )
    for i, o in enumerate(outs):
        if not o.requires_grad:
            raise RuntimeError(
                f"grad: outputs[{i}] does not require a gradient (no input of its computation "
                "had requires_grad=True, or it ran inside no_grad())."
            )
    seeds = [_graph_gradient(o, g) for o, g in zip(outs, gos, strict=True)]
    if create_graph:
        found = run_backward(outs, seeds, create_graph=True, capture=ins)
    else:
        arrays = [np.array(s.data, dtype=o.data.dtype) for s, o in zip(seeds, outs, strict=True)]
        found = run_backward(outs, arrays, capture=ins)
        found = [None if f is None else Tensor(f) for f in found]
    assert found is not None
    result: list[Tensor | None] = []
    for i, (t, f) in enumerate(zip(ins, found, strict=True)):
        if f is None and not allow_unused:
            raise RuntimeError(
                f"grad: inputs[{i}] was not used to compute the outputs; pass "
                "allow_unused=True to get None for it."
            )
        if f is not None and f.data.shape != t.data.shape:
            from qed.autograd.ops import sum_to

            f = sum_to(f, t.data.shape)
        result.append(f)
    return tuple(result)


def hvp(
    func: Callable[..., Tensor], inputs: Any, v: Any
) -> tuple[Tensor, tuple[np.ndarray, ...] | np.ndarray]:
    """(func(inputs), ∇²func(inputs)·v), as ``torch.autograd.functional.hvp``.

    ``inputs`` and ``v`` are an array/Tensor or equally long tuples of them; ``func`` returns
    a scalar Tensor. The product is ∇ₓ⟨∇ₓfunc, v⟩ by two reverse sweeps (``create_graph``).
    """
    single = not isinstance(inputs, (tuple, list))
    xs = [inputs] if single else list(inputs)
    vs = [v] if single else list(v)
    if len(xs) != len(vs):
        raise ValueError(f"hvp: {len(vs)} directions for {len(xs)} inputs; give one per input.")
    leaves = [
        Tensor(np.array(np.asarray(x.data if isinstance(x, Tensor) else x)), True) for x in xs
    ]
    with enable_grad():
        out = func(*leaves)
        if not isinstance(out, Tensor) or out.data.size != 1:
            raise ValueError("hvp: func must return a scalar Tensor.")
        gs = grad(out, leaves, create_graph=True, allow_unused=True)
        dot = None
        for g, d in zip(gs, vs, strict=True):
            if g is None:
                continue
            term = (g * np.asarray(d.data if isinstance(d, Tensor) else d, dtype=g.dtype)).sum()
            dot = term if dot is None else dot + term
        if dot is None or not dot.requires_grad:
            hv = [np.zeros_like(x.data) for x in leaves]
        else:
            second = grad(dot, leaves, allow_unused=True)
            hv = [
                np.zeros_like(x.data) if s is None else s.data
                for s, x in zip(second, leaves, strict=True)
            ]
    value = Tensor(out.data)
    return value, (hv[0] if single else tuple(hv))


def double_via(
    composite: Callable[..., Tensor], parents: Sequence[Tensor]
) -> Callable[[Tensor], tuple[Tensor | None, ...]]:
    """A ``double`` for a fused op: its value rebuilt from differentiable ops (``composite``,
    called with ``parents``), whose vector-Jacobian product with a Tensor g is recorded.

    A fused op keeps its fast hand-written ndarray backward for training; only
    ``create_graph`` pays for the elementary graph.
    """

    def double(g: Tensor) -> tuple[Tensor | None, ...]:
        need = [p for p in parents if p.requires_grad]
        with enable_grad():
            out = composite(*parents)
            found = iter(grad(out, need, g, create_graph=True, allow_unused=True))
        return tuple(next(found) if p.requires_grad else None for p in parents)

    return double
