"""Dual coordinate descent for the linear SVM (Hsieh, Chang, Lin, Keerthi & Sundararajan 2008).

The notes' dual with the bias folded into w (x̃ = [x, s], liblinear's intercept_scaling s):

    min_α ½αᵀQ̄α − Σᵢαᵢ   subject to   0 ≤ αᵢ ≤ Uᵢ,   Q̄ = Q + D,  Q_ij = yᵢyⱼx̃ᵢᵀx̃ⱼ,

hinge loss: Uᵢ = Cᵢ, D = 0; squared hinge: Uᵢ = ∞, Dᵢᵢ = 1/(2Cᵢ); hard margin: Uᵢ = ∞,
D = 0. The primal w = Σᵢαᵢyᵢx̃ᵢ is kept up to date, so one coordinate step costs one sparse
dot product and one axpy: ∇ᵢ = yᵢwᵀx̃ᵢ − 1 + Dᵢᵢαᵢ, αᵢ ← clip(αᵢ − ∇ᵢ/Q̄ᵢᵢ, 0, Uᵢ),
w ← w + (Δαᵢ)yᵢx̃ᵢ. Coordinates are visited in a random order each pass; those at a bound
whose gradient pushes them further out are shrunk (set aside) until the active problem is
solved, then all are checked again. It stops when every projected gradient, measured in one
clean pass over all samples with the final w, is at most ``tol`` in absolute value.
"""

from __future__ import annotations

import numpy as np
from numba import literally, njit

from qed._prefetch import prefetch

__all__ = ["dcd", "projected_gradient"]

# rows are prefetched this many visits ahead: a row visited in random order otherwise waits on
# memory (on 200,000 × 50,000 at 0.1%, 20 passes took 2.7 s without and 1.2 s with it; 3 to 16
# ahead measured alike)
AHEAD = 4


@njit(cache=True)
def _interleave(data, indices):
    """CSR entries as (column, value) pairs in one array (nnz, 2), liblinear's layout: a row
    visited in random order then costs one run of cache lines instead of two."""
    nz = np.empty((len(data), 2))
    for p in range(len(data)):
        nz[p, 0] = indices[p]
        nz[p, 1] = data[p]
    return nz


@njit(cache=True)
def _dot(dense, X, nz, indptr, i, w, bias, d):
    s = 0.0
    if dense:
        for f in range(d):
            s += X[i, f] * w[f]
    else:
        for p in range(indptr[i], indptr[i + 1]):
            s += nz[p, 1] * w[np.int64(nz[p, 0])]
    return s + bias * w[d]


@njit(cache=True)
def _axpy(dense, X, nz, indptr, i, w, bias, d, a):
    if dense:
        for f in range(d):
            w[f] += a * X[i, f]
    else:
        for p in range(indptr[i], indptr[i + 1]):
            w[np.int64(nz[p, 0])] += a * nz[p, 1]
    w[d] += a * bias


@njit(cache=True)
def _below(state, bound):
    """A pseudo-random integer in [0, bound) from xorshift64* (Vigna 2016), state (1,) uint64.

    numba's np.random.randint cost as much as the rest of a sparse coordinate step; this is
    a few integer operations, and Lemire's multiply-shift maps it to [0, bound).
    """
    s = state[0]
    s ^= s >> np.uint64(12)
    s ^= s << np.uint64(25)
    s ^= s >> np.uint64(27)
    state[0] = s
    r = (s * np.uint64(0x2545F4914F6CDD1D)) >> np.uint64(32)
    return np.int64((r * np.uint64(bound)) >> np.uint64(32))


@njit(cache=True)
def _prefetch_row(dense, X, nz, indptr, R, i, d):
    """Start fetching sample i's scalars and its row's cache lines (8 values, or 4 pairs, a
    line)."""
    prefetch(R, i, 0)
    if dense:
        for f in range(0, d, 8):
            prefetch(X, i, f)
    else:
        for p in range(indptr[i], indptr[i + 1], 4):
            prefetch(nz, p, 0)


@njit(cache=True)
def _pg(alpha_i, g, upper):
    """Projected gradient of coordinate i at a bound or inside the box."""
    if alpha_i <= 0.0:
        return min(g, 0.0)
    if alpha_i >= upper:
        return max(g, 0.0)
    return g


@njit(cache=True)
def dcd(dense, X, data, indices, indptr, d, y, U, Dii, bias, tol, max_iter, seed, alpha, w):
    """Solve the dual in place from (alpha, w = Σαᵢyᵢx̃ᵢ). X dense (n, d) when ``dense``, else
    CSR (data, indices, indptr); y (n,) ±1; U, Dii (n,); w (d + 1,), w[d] the bias weight.
    Returns (passes, status): status 0 = every |PGᵢ| ≤ tol, 1 = max_iter passes reached."""
    # compiled once per value of ``dense``, the other layout's branches pruned: with the flag
    # a runtime value, the sparse loop ran 3-5× slower (40,000 × 10,000: 0.45 → 0.25 s;
    # 200,000 × 50,000, C = 1: 16.1 → 9.0 s; same steps, same bits). (Inlining the helpers
    # as well made the dense loop 30% slower and the sparse one no faster.)
    literally(dense)
    n = len(y)
    state = np.empty(1, dtype=np.uint64)
    state[0] = np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1)  # never 0
    nz = _interleave(data, indices)
    # per-sample scalars side by side (y, U, D, Q̄ᵢᵢ, α): one cache line per random visit
    R = np.empty((n, 5))
    for i in range(n):
        s = 0.0
        if dense:
            for f in range(d):
                s += X[i, f] * X[i, f]
        else:
            for p in range(indptr[i], indptr[i + 1]):
                s += data[p] * data[p]
        R[i, 0] = y[i]
        R[i, 1] = U[i]
        R[i, 2] = Dii[i]
        R[i, 3] = s + bias * bias + Dii[i]
        R[i, 4] = alpha[i]
    index = np.arange(n)
    active = n
    pg_max_old = np.inf
    pg_min_old = -np.inf
    it = 0
    while it < max_iter:
        it += 1
        for a in range(active):  # a random permutation of the active set
            b = a + _below(state, active - a)
            index[a], index[b] = index[b], index[a]
        pg_max = -np.inf
        pg_min = np.inf
        a = 0
        while a < active:
            i = index[a]
            if a + AHEAD < active:
                _prefetch_row(dense, X, nz, indptr, R, index[a + AHEAD], d)
            yi, ui, di, qi, ai = R[i, 0], R[i, 1], R[i, 2], R[i, 3], R[i, 4]
            g = yi * _dot(dense, X, nz, indptr, i, w, bias, d) - 1.0 + di * ai
            pg = 0.0
            if ai <= 0.0:
                if g > pg_max_old:  # at 0 and pushed below it: set aside
                    active -= 1
                    index[a], index[active] = index[active], index[a]
                    continue
                if g < 0.0:
                    pg = g
            elif ai >= ui:
                if g < pg_min_old:  # at U and pushed above it
                    active -= 1
                    index[a], index[active] = index[active], index[a]
                    continue
                if g > 0.0:
                    pg = g
            else:
                pg = g
            pg_max = max(pg_max, pg)
            pg_min = min(pg_min, pg)
            if abs(pg) > 1e-14 and qi > 0.0:
                new = min(max(ai - g / qi, 0.0), ui)
                R[i, 4] = new
                _axpy(dense, X, nz, indptr, i, w, bias, d, (new - ai) * yi)
            a += 1
        if pg_max - pg_min <= tol:
            if active < n:  # optimal on the active set: unshrink, recheck every sample
                active = n
                pg_max_old = np.inf
                pg_min_old = -np.inf
                continue
            # the pass saw PGs with a w still moving: confirm with the final w
            alpha[:] = R[:, 4]
            if _all_within(dense, X, nz, indptr, d, y, U, Dii, bias, tol, alpha, w):
                return it, 0
        pg_max_old = pg_max if pg_max > 0 else np.inf
        pg_min_old = pg_min if pg_min < 0 else -np.inf
    alpha[:] = R[:, 4]
    return it, 1


@njit(cache=True)
def _all_within(dense, X, nz, indptr, d, y, U, Dii, bias, tol, alpha, w):
    for i in range(len(y)):
        g = y[i] * _dot(dense, X, nz, indptr, i, w, bias, d) - 1.0 + Dii[i] * alpha[i]
        if abs(_pg(alpha[i], g, U[i])) > tol:
            return False
    return True


@njit(cache=True)
def projected_gradient(dense, X, data, indices, indptr, d, y, U, Dii, bias, alpha, w):
    """PGᵢ for every sample, shape (n,), at the given (α, w)."""
    out = np.empty(len(y))
    nz = _interleave(data, indices)
    for i in range(len(y)):
        g = y[i] * _dot(dense, X, nz, indptr, i, w, bias, d) - 1.0 + Dii[i] * alpha[i]
        out[i] = _pg(alpha[i], g, U[i])
    return out
