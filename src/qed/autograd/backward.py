"""The reverse sweep of the tape: topological order, gradient accumulation, broadcasting.

``run_backward(root, g)`` visits the recorded graph once, outputs before inputs, calls each
node's local backward and sums the contributions reaching every node (a tensor used twice
gets both). The order is found by an iterative depth-first search, so a chain of any depth
works without touching Python's recursion limit.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from qed.autograd.tensor import Tensor

__all__ = ["run_backward", "unbroadcast", "topological_order"]


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


def topological_order(root: Tensor) -> list[Tensor]:
    """Nodes that lead to ``root``, ``root`` first, each before all of its parents.

    Iterative depth-first search (an explicit stack, no recursion), so a chain of any depth
    works; each node is visited once, so the work is linear in the size of the graph.
    """
    order: list[Tensor] = []
    visited: set[int] = set()
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


def run_backward(root: Tensor, gradient: np.ndarray) -> None:
    """Propagate ``gradient`` = ∂L/∂root to every leaf that requires a gradient.

    Contributions to a node are summed (a node used twice gets both). ``owned`` marks the
    gradient arrays that this pass allocated itself, which may be added into in place; an
    op's backward may return the upstream array itself (or a view of it), which is never
    modified in place.
    """
    grads: dict[int, np.ndarray] = {id(root): gradient}
    owned: dict[int, bool] = {id(root): True}
    for node in topological_order(root):
        key = id(node)
        g = grads.pop(key, None)
        own = owned.pop(key, False)
        if g is None:
            continue
        backward = node._backward
        if backward is None:  # a leaf: accumulate into .grad
            if not node.requires_grad:
                continue
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
            elif owned[pkey]:
                previous += pg
            else:
                grads[pkey] = previous + pg
                owned[pkey] = True
