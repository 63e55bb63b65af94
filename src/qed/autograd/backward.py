"""The reverse sweep of the tape: topological order, gradient accumulation, broadcasting.

``run_backward(roots, grads)`` visits the recorded graph once, outputs before inputs, calls
each node's local backward and sums the contributions reaching every node (a tensor used
twice gets both). The order is found by an iterative depth-first search, so a chain of any
depth works without touching Python's recursion limit.

Two sweeps share this walk. The first-order sweep moves ndarrays through each node's
``_backward``. The *graph* sweep (``create_graph=True``) moves Tensors through each node's
``_double``: the same local rule written with differentiable ops, so the gradients it
returns are themselves recorded and can be differentiated again (Hessian-vector products:
∇ₓ⟨∇ₓf, v⟩ = ∇²f·v). An op recorded without a ``_double`` has no second derivative in qed
and the graph sweep stops with ``DoubleBackwardError`` naming it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from qed.autograd.tensor import Tensor

__all__ = [
    "run_backward",
    "unbroadcast",
    "topological_order",
    "DoubleBackwardError",
    "op_name",
]


class DoubleBackwardError(RuntimeError):
    """``create_graph=True`` reached an op whose local backward is not differentiable."""


def op_name(node: Tensor) -> str:
    """The name of the op that produced ``node`` (the function that defined its backward)."""
    fn = node._backward
    qual = getattr(fn, "__qualname__", repr(fn))
    return qual.rsplit(".<locals>", 1)[0].rsplit(".", 1)[-1]


def unbroadcast(g: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``g`` over the axes numpy broadcast to reach ``g.shape`` from ``shape``."""
    if g.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        i + lead for i, n in enumerate(shape) if n == 1 and g.shape[i + lead] != 1
    )
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return g.reshape(shape)


def topological_order(roots: Tensor | Sequence[Tensor]) -> list[Tensor]:
    """Nodes that lead to ``roots``, each before all of its parents (roots first).

    Iterative depth-first search (an explicit stack, no recursion), so a chain of any depth
    works; each node is visited once, so the work is linear in the size of the graph.
    """
    if not isinstance(roots, (list, tuple)):
        roots = (roots,)
    order: list[Tensor] = []
    visited: set[int] = set()
    for root in roots:
        stack: list[tuple[Tensor, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if expanded:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for parent in node._parents:
                if id(parent) not in visited:
                    stack.append((parent, False))
    order.reverse()
    return order


def run_backward(
    root: Tensor | Sequence[Tensor],
    gradient: np.ndarray | Sequence[np.ndarray],
    *,
    create_graph: bool = False,
    capture: Sequence[Tensor] | None = None,
) -> list[Any] | None:
    """Propagate ``gradient`` = ∂L/∂root to every leaf that requires a gradient.

    Contributions to a node are summed (a node used twice gets both). ``owned`` marks the
    gradient arrays that this pass allocated itself, which may be added into in place; an
    op's backward may return the upstream array itself (or a view of it), which is never
    modified in place.

    With ``capture`` (``qed.autograd.grad``), nothing is accumulated into ``.grad``: the
    total gradient reaching each captured tensor is returned instead (None where none does).
    With ``create_graph`` the gradients are Tensors (see the module docstring).
    """
    roots = list(root) if isinstance(root, (list, tuple)) else [root]
    gradients = list(gradient) if isinstance(root, (list, tuple)) else [gradient]
    if create_graph:
        return _run_graph(roots, gradients, capture)
    grads: dict[int, np.ndarray] = {}
    owned: dict[int, bool] = {}
    for r, g in zip(roots, gradients, strict=True):
        if id(r) in grads:
            grads[id(r)] = grads[id(r)] + g
        else:
            grads[id(r)] = g
        owned[id(r)] = True
    wanted = {id(t): i for i, t in enumerate(capture)} if capture is not None else None
    captured: list[Any] = [None] * len(capture) if capture is not None else []
    for node in topological_order(roots):
        key = id(node)
        g = grads.pop(key, None)
        own = owned.pop(key, False)
        if g is None:
            continue
        if wanted is not None and key in wanted:
            captured[wanted[key]] = g if own else g.copy()
        backward = node._backward
        if backward is None:  # a leaf: accumulate into .grad
            if wanted is not None or not node.requires_grad:
                continue
            if type(g) is not np.ndarray:  # a numpy scalar from 0-d arithmetic
                g, own = np.asarray(g), True
            if g.dtype != node.data.dtype:
                g, own = g.astype(node.data.dtype), True
            if node.grad is None:
                node.grad = g if own else g.copy()
            else:
                node.grad += g
            continue
        parent_grads = backward(g)
        for parent, pg in zip(node._parents, parent_grads, strict=True):
            if pg is None or not parent.requires_grad:
                continue
            if pg.shape != parent.data.shape:
                reduced = unbroadcast(pg, parent.data.shape)
                fresh = reduced is not pg and reduced.base is None
                pg = reduced
            else:
                fresh = pg is not g and pg.base is None
            pkey = id(parent)
            previous = grads.get(pkey)
            if previous is None:
                grads[pkey] = pg
                owned[pkey] = fresh
            elif owned[pkey] and type(previous) is np.ndarray:
                previous += pg
            else:  # not ours, or a numpy scalar (0-d arithmetic), which += would not update
                grads[pkey] = previous + pg
                owned[pkey] = True
    return captured if capture is not None else None


def _run_graph(
    roots: list[Tensor], gradients: list[Tensor], capture: Sequence[Tensor] | None
) -> list[Any] | None:
    """The graph sweep: the same walk with Tensors and each node's differentiable ``_double``."""
    from qed.autograd import ops
    from qed.autograd.tensor import Tensor, enable_grad

    grads: dict[int, Tensor] = {}
    for r, g in zip(roots, gradients, strict=True):
        grads[id(r)] = ops.add(grads[id(r)], g) if id(r) in grads else g
    wanted = {id(t): i for i, t in enumerate(capture)} if capture is not None else None
    captured: list[Any] = [None] * len(capture) if capture is not None else []
    with enable_grad():
        for node in topological_order(roots):
            key = id(node)
            g = grads.pop(key, None)
            if g is None:
                continue
            if wanted is not None and key in wanted:
                captured[wanted[key]] = g
            if node._backward is None:
                if wanted is not None or not node.requires_grad:
                    continue
                if g.data.dtype != node.data.dtype:
                    g = ops.astype(g, node.data.dtype)
                if node.grad is None:
                    node.grad = g
                else:
                    prev = node.grad if isinstance(node.grad, Tensor) else Tensor(node.grad)
                    node.grad = ops.add(prev, g)
                continue
            double = node._double
            if double is None:
                raise DoubleBackwardError(
                    f"create_graph=True: the op {op_name(node)!r} has no second derivative in "
                    "qed (its local backward is not written with differentiable ops); build the "
                    "function from differentiable ops, or call backward()/grad() without "
                    "create_graph."
                )
            for parent, pg in zip(node._parents, double(g), strict=True):
                if pg is None or not parent.requires_grad:
                    continue
                if pg.data.shape != parent.data.shape:
                    pg = ops.sum_to(pg, parent.data.shape)
                pkey = id(parent)
                previous = grads.get(pkey)
                grads[pkey] = pg if previous is None else ops.add(previous, pg)
    return captured if capture is not None else None
