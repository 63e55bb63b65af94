"""Mutual information and the contingency table it is usually computed from.

The notes:

    I(X; Y) = D_KL(p(x, y) ‖ p(x)p(y)) = Σ p(x, y) log(p(x, y) / (p(x)p(y)))
            = H(X) + H(Y) − H(X, Y) = H(X) − H(X|Y) ≥ 0,

with equality iff X and Y are independent (독립 vs 의존).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._array_api import get_namespace
from qed.info._common import _finish, _log_base, _validated_table

__all__ = ["mutual_information", "contingency"]

_MAX_CELLS = 100_000_000  # a larger dense table is almost surely continuous data by mistake


def mutual_information(pxy: Any, *, base: float | None = None, normalize: bool = False) -> Any:
    """I(X; Y) = Σₓ,ᵧ p(x, y) log(p(x, y) / (p(x)p(y))) for a joint table, X indexing rows.

    Equals ``sklearn.metrics.mutual_info_score(x, y)`` for ``pxy = contingency(x, y)``
    (both clip the rounding residue of an independent table, a few ulps below 0, to 0).

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y), entries ≥ 0 summing to 1 (see ``normalize``).
    base : None (nats) or the logarithm's base (2 gives bits).
    normalize : divide the table by its sum first (e.g. to pass a table of counts).

    Examples
    --------
    >>> float(mutual_information([[0.5, 0.0], [0.0, 0.5]], base=2))  # Y = X: one full bit
    1.0
    >>> float(mutual_information([[0.25, 0.25], [0.25, 0.25]]))      # independent
    0.0
    """
    xp, is_numpy = get_namespace(pxy)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.mutual_information(xp, pxy, base=base, normalize=normalize)
    log_base = _log_base(base)
    table = _validated_table(pxy, "pxy", normalize)
    px = table.sum(axis=1)
    py = table.sum(axis=0)
    i, j = np.nonzero(table)
    v = table[i, j]
    # (p(x, y)/p(x))/p(y) rather than p(x, y)/(p(x)p(y)): the product p(x)p(y) underflows
    # for p ~ 1e-160, while p(x, y)/p(x) ∈ (0, 1] never does.
    terms = v * np.log((v / px[i]) / py[j])
    return _finish(np.array([terms.sum()]), (), log_base)


def _labels(x: Any, name: str) -> np.ndarray:
    if x is None:
        raise ValueError(f"{name} is None; pass an array of labels, one per sample.")
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[1] == 1:
        arr = arr.ravel()
    if arr.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of labels, got shape {arr.shape}; pass one label per "
            "sample."
        )
    if arr.size == 0:
        raise ValueError(f"{name} is empty; a contingency table needs at least one sample.")
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"{name} contains NaN or infinity; every sample needs a finite label.")
    if arr.dtype.kind == "O" and any(v is None for v in arr):
        raise ValueError(f"{name} contains None; every sample needs a label.")
    return arr


def contingency(x: Any, y: Any, *, normalize: bool = True, return_labels: bool = False) -> Any:
    """The joint table of two label arrays: p(x, y) = #{i : xᵢ = x, yᵢ = y} / n.

    Parameters
    ----------
    x, y : array-like of shape (n_samples,), discrete labels (ints, strings, …).
    normalize : True gives probabilities (the table sums to 1); False the counts.
    return_labels : also return the sorted distinct labels of x (rows) and y (columns).

    Returns
    -------
    table : ndarray of shape (n_x_labels, n_y_labels), float64 (int64 counts if not
        ``normalize``); ``(table, x_labels, y_labels)`` with ``return_labels``.

    Examples
    --------
    >>> contingency([0, 0, 1, 1], ["a", "b", "b", "b"])
    array([[0.25, 0.25],
           [0.  , 0.5 ]])
    """
    xa = _labels(x, "x")
    ya = _labels(y, "y")
    if xa.shape[0] != ya.shape[0]:
        raise ValueError(
            f"x has {xa.shape[0]} labels but y has {ya.shape[0]}; they must label the same samples."
        )
    try:
        x_labels, ix = np.unique(xa, return_inverse=True)
        y_labels, iy = np.unique(ya, return_inverse=True)
    except TypeError as exc:
        raise TypeError(
            f"labels must be mutually comparable (all numbers or all strings): {exc}"
        ) from exc
    nx, ny = len(x_labels), len(y_labels)
    if nx * ny > _MAX_CELLS:
        raise ValueError(
            f"x has {nx} and y has {ny} distinct labels, a {nx}×{ny} table; contingency is for "
            "discrete labels. Bin continuous values first, e.g. with np.digitize."
        )
    counts = np.bincount(ix.ravel() * ny + iy.ravel(), minlength=nx * ny).reshape(nx, ny)
    table = counts / xa.shape[0] if normalize else counts.astype(np.int64)
    return (table, x_labels, y_labels) if return_labels else table
