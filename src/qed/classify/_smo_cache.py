"""The SMO's cache of kernel rows, kept in the solver's working order.

The solver (``_smo``) keeps the samples in a working order whose first n_active positions
are the active (unshrunk) ones, and shrinks by swapping samples behind that prefix. A cached
row holds K(xᵢ, x_orig[p]) for the positions p of a valid prefix of that order, in float32
or float64 (the caller's choice of array). It is extended, not recomputed, when the prefix
it is asked for is longer, and it follows the swaps of the last ``RING`` shrinkings lazily,
when it is next used (libsvm swaps the entries of every cached row at once instead).
Slots are given back least recently used first.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed.classify._svm_kernels import _fill

__all__ = ["RING", "new_store", "row"]

RING = 8  # shrinkings remembered; a cached row older than that is recomputed


@njit(cache=True)
def new_store(cache):
    """The cache's bookkeeping around ``cache`` (m_rows, n): (rows, slot of each sample by
    original index or −1, sample of each slot, last use, valid prefix, epoch of the order,
    the use counter). Every use gets a new tick, so the rows a step holds are never the
    least recently used (a shared clock let a step's second row evict its first)."""
    m_rows, n = cache.shape
    return (
        cache,
        -np.ones(n, dtype=np.int64),
        -np.ones(m_rows, dtype=np.int64),
        np.zeros(m_rows, dtype=np.int64),
        np.zeros(m_rows, dtype=np.int64),
        np.zeros(m_rows, dtype=np.int64),
        np.zeros(1, dtype=np.int64),
    )


@njit(cache=True)
def _carry(row, length, since, epoch, ring, ring_n):
    """Move a cached row from the working order of epoch ``since`` to that of ``epoch``.

    Each epoch's shrinking is a list of swaps (p, q), p < q, applied in turn; a swap that
    would bring an entry the row does not have into its valid prefix cuts the prefix at p.
    Returns the new valid length (0 when the row is too old to carry).
    """
    if epoch - since > RING:
        return 0
    for e in range(since + 1, epoch + 1):
        swaps = ring[e % RING]
        for r in range(ring_n[e % RING]):
            p = swaps[r, 0]
            q = swaps[r, 1]
            if q < length:
                v = row[p]
                row[p] = row[q]
                row[q] = v
            elif p < length:
                length = p
    return length


@njit(cache=True)
def row(i, need, epoch, cx):
    """K(x_orig[i], x_orig[p]) for the positions p < need, from the cache, completing it.

    cx = (X, XT, orig, kern, store, ring, ring_n, work): the data in original order and its
    transpose in working order, the working order, the kernel, the cache (``new_store``),
    the last shrinkings' swaps and their counts, and scratch (acc, bits, counts).
    """
    X, XT, orig, kern, store, ring, ring_n, work = cx
    cache, slot_of, owner, stamp, valid, since, tick = store
    acc, bits, counts = work
    o = orig[i]
    s = slot_of[o]
    if s < 0:
        s = 0
        for t in range(1, len(owner)):
            if stamp[t] < stamp[s]:
                s = t
        if owner[s] >= 0:
            slot_of[owner[s]] = -1
        owner[s] = o
        slot_of[o] = s
        length = 0
    else:
        length = valid[s]
        if since[s] != epoch:
            length = _carry(cache[s], length, since[s], epoch, ring, ring_n)
    row = cache[s]
    if length < need:
        counts[0] += 1
        counts[1] += need - length
        if kern[0] == 4:  # precomputed: read the row of the Gram matrix in working order
            xo = X[o]
            for p in range(length, need):
                row[p] = xo[orig[p]]
        else:
            _fill(X[o], XT, length, need, kern, row, acc, bits)
        length = need
    valid[s] = length
    since[s] = epoch
    tick[0] += 1
    stamp[s] = tick[0]
    return row
