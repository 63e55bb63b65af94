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

from qed.classify._svm_kernels import PRECOMPUTED, _fill

__all__ = ["RING", "fetch", "hit", "new_store"]

RING = 8  # shrinkings remembered; a cached row older than that is recomputed


OWNER, STAMP, VALID, SINCE = range(4)  # the columns of ``meta``


@njit(cache=True)
def new_store(m_rows, n):
    """The bookkeeping of a cache of m_rows rows over n samples: (slot_of, meta).

    slot_of (n,): the slot holding each sample's row (by original index), or −1. meta
    (m_rows + 1, 4): per slot the sample it holds, its last use, its valid prefix and the
    epoch of the working order it is in; meta[m_rows, 0] counts uses. Every use gets a new
    tick, so the rows a step holds are never the least recently used (a shared clock let a
    step's second row evict its first).
    """
    meta = np.zeros((m_rows + 1, 4), dtype=np.int64)
    meta[:m_rows, OWNER] = -1
    return -np.ones(n, dtype=np.int64), meta


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
def hit(i, need, epoch, slot_of, meta, orig):
    """The slot of sample orig[i]'s row if it is cached, in the current order and valid on
    the positions p < need (the use is recorded); −1 if ``fetch`` must make it.

    The hot path of the cache, kept to a few scalar reads so that LLVM inlines it: a call
    that takes the dozen arrays of a fetch measured ~280 ns a hit, in reference counts.
    """
    s = slot_of[orig[i]]
    if s < 0 or meta[s, SINCE] != epoch or meta[s, VALID] < need:
        return -1
    _touch(meta, s)
    return s


@njit(cache=True)
def _touch(meta, s):
    """Record a use of slot s: the next tick of the use counter meta[-1, 0]."""
    m = meta.shape[0] - 1
    meta[m, 0] += 1
    meta[s, STAMP] = meta[m, 0]


@njit(cache=True)
def fetch(i, need, epoch, cache, slot_of, meta, orig, X, XT, kern, ring, ring_n, acc, bits, counts):
    """The slot of sample orig[i]'s row K(x_orig[i], x_orig[p]), carried to ``epoch`` and
    filled up to p < ``need``; a miss takes the least recently used slot.

    cache (m_rows, n) float32 or float64; X (n, d) the data in original order (or the Gram
    matrix), XT (d, n) its transpose in the working order ``orig``; ring/ring_n the last
    shrinkings' swaps; acc, bits scratch (n,); counts[0:2] += rows and entries computed.
    """
    o = orig[i]
    s = slot_of[o]
    m = meta.shape[0] - 1
    if s < 0:
        s = 0
        for t in range(1, m):
            if meta[t, STAMP] < meta[s, STAMP]:
                s = t
        if meta[s, OWNER] >= 0:
            slot_of[meta[s, OWNER]] = -1
        meta[s, OWNER] = o
        slot_of[o] = s
        length = 0
    else:
        length = meta[s, VALID]
        if meta[s, SINCE] != epoch:
            length = _carry(cache[s], length, meta[s, SINCE], epoch, ring, ring_n)
    meta[s, SINCE] = epoch
    if length < need:
        counts[0] += 1
        counts[1] += need - length
        if kern[0] == PRECOMPUTED:  # read the row of the Gram matrix in working order
            xo = X[o]
            r = cache[s]
            for p in range(length, need):
                r[p] = xo[orig[p]]
        else:
            _fill(X[o], XT, length, need, kern, cache[s], acc, bits)
        length = need
    meta[s, VALID] = length
    _touch(meta, s)
    return s
