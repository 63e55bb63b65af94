"""Sums over rows, computed block by block: the key to data that outgrows memory.

The notes' normal equations need only XᵀX and Xᵀy, and the logistic gradient Σ(σᵢ − yᵢ)xᵢ
and Hessian XᵀSX are sums over rows too. Each is computed on every row block where the block
lives (a dask worker, or one chunk of a streamed CSV) and the small per-block results are
added. Nothing here pulls X to one process.

``map_reduce_rows(fn, X, y, ...)`` calls ``fn(X_block, y_block, ...)`` on each row block and
returns the sum of the results (tuples and dicts of arrays/floats are added element-wise).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

__all__ = ["is_dask_collection", "map_reduce_rows", "add_stats", "row_blocks_aligned"]


def is_dask_collection(x: Any) -> bool:
    """True for a dask array (or any dask collection), without importing dask."""
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def add_stats(a: Any, b: Any) -> Any:
    """Add two per-block results element-wise (arrays, numbers, tuples, lists, dicts)."""
    if isinstance(a, tuple):
        return tuple(add_stats(x, y) for x, y in zip(a, b))
    if isinstance(a, list):
        return [add_stats(x, y) for x, y in zip(a, b)]
    if isinstance(a, dict):
        return {k: add_stats(a[k], b[k]) for k in a}
    return a + b


def _tree_sum(items: list, add: Callable) -> Any:
    # pairwise so that the reduction has depth log2(blocks), as dask's own reductions do
    while len(items) > 1:
        items = [
            add(items[i], items[i + 1]) if i + 1 < len(items) else items[i]
            for i in range(0, len(items), 2)
        ]
    return items[0]


def row_blocks_aligned(X: Any, *others: Any) -> list:
    """Rechunk dask arrays in ``others`` so that their row chunks match X's; 1 column chunk."""
    if X.ndim == 2 and len(X.chunks[1]) > 1:
        X = X.rechunk({1: -1})
    aligned = [X]
    for other in others:
        if other is None:
            aligned.append(None)
            continue
        if not is_dask_collection(other):
            import dask.array as da

            other = da.from_array(np.asarray(other), chunks=(X.chunks[0],) + other.shape[1:])
        chunks = (X.chunks[0],) + tuple((s,) for s in other.shape[1:])
        if other.chunks != chunks:
            other = other.rechunk(chunks)
        aligned.append(other)
    return aligned


def map_reduce_rows(
    fn: Callable, X: Any, *arrays: Any, args: tuple = (), combine: Callable = add_stats
) -> Any:
    """Σ over row blocks of ``fn(X_b, *arrays_b, *args)``, computed where the blocks live.

    X : ndarray or dask array of shape (n_samples, n_features); ``arrays`` have n_samples rows
    (or are None). For a numpy X this is a single call. For a dask X each block's result is a
    delayed task, the results are summed pairwise on the cluster, and only the (small) total
    comes back to the client. ``combine(a, b)`` replaces the sum by any associative merge
    (e.g. Chan's update of means and co-moments, or a union of labels).
    """
    if not is_dask_collection(X):
        return fn(X, *arrays, *args)
    import dask

    X, *arrays = row_blocks_aligned(X, *arrays)
    x_blocks = X.to_delayed().ravel()
    other_blocks = [
        [None] * len(x_blocks) if a is None else list(a.to_delayed().ravel()) for a in arrays
    ]
    task = dask.delayed(fn, pure=True)
    parts = [task(xb, *(ob[i] for ob in other_blocks), *args) for i, xb in enumerate(x_blocks)]
    total = _tree_sum(parts, dask.delayed(combine, pure=True))
    return dask.compute(total)[0]
