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
from numba import njit

__all__ = ["dcd", "projected_gradient"]


@njit(cache=True)
def _dot(dense, X, data, indices, indptr, i, w, bias, d):
    s = 0.0
    if dense:
        for f in range(d):
            s += X[i, f] * w[f]
    else:
        for p in range(indptr[i], indptr[i + 1]):
            s += data[p] * w[indices[p]]
    return s + bias * w[d]


@njit(cache=True)
def _axpy(dense, X, data, indices, indptr, i, w, bias, d, a):
    if dense:
        for f in range(d):
            w[f] += a * X[i, f]
    else:
        for p in range(indptr[i], indptr[i + 1]):
            w[indices[p]] += a * data[p]
    w[d] += a * bias


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
    n = len(y)
    np.random.seed(seed)  # noqa: NPY002 - numba offers only the legacy API (its own state)
    QD = np.empty(n)
    for i in range(n):
        if dense:
            s = 0.0
            for f in range(d):
                s += X[i, f] * X[i, f]
        else:
            s = 0.0
            for p in range(indptr[i], indptr[i + 1]):
                s += data[p] * data[p]
        QD[i] = s + bias * bias + Dii[i]
    index = np.arange(n)
    active = n
    pg_max_old = np.inf
    pg_min_old = -np.inf
    it = 0
    while it < max_iter:
        it += 1
        for a in range(active):  # a random permutation of the active set
            b = a + np.random.randint(active - a)  # noqa: NPY002
            index[a], index[b] = index[b], index[a]
        pg_max = -np.inf
        pg_min = np.inf
        a = 0
        while a < active:
            i = index[a]
            g = y[i] * _dot(dense, X, data, indices, indptr, i, w, bias, d) - 1.0
            g += Dii[i] * alpha[i]
            pg = 0.0
            if alpha[i] <= 0.0:
                if g > pg_max_old:  # at 0 and pushed below it: set aside
                    active -= 1
                    index[a], index[active] = index[active], index[a]
                    continue
                if g < 0.0:
                    pg = g
            elif alpha[i] >= U[i]:
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
            if abs(pg) > 1e-14 and QD[i] > 0.0:
                old = alpha[i]
                new = min(max(old - g / QD[i], 0.0), U[i])
                alpha[i] = new
                _axpy(dense, X, data, indices, indptr, i, w, bias, d, (new - old) * y[i])
            a += 1
        if pg_max - pg_min <= tol:
            if active < n:  # optimal on the active set: unshrink, recheck every sample
                active = n
                pg_max_old = np.inf
                pg_min_old = -np.inf
                continue
            # the pass saw PGs with a w still moving: confirm with the final w
            if _all_within(dense, X, data, indices, indptr, d, y, U, Dii, bias, tol, alpha, w):
                return it, 0
        pg_max_old = pg_max if pg_max > 0 else np.inf
        pg_min_old = pg_min if pg_min < 0 else -np.inf
    return it, 1


@njit(cache=True)
def _all_within(dense, X, data, indices, indptr, d, y, U, Dii, bias, tol, alpha, w):
    for i in range(len(y)):
        g = y[i] * _dot(dense, X, data, indices, indptr, i, w, bias, d) - 1.0 + Dii[i] * alpha[i]
        if abs(_pg(alpha[i], g, U[i])) > tol:
            return False
    return True


@njit(cache=True)
def projected_gradient(dense, X, data, indices, indptr, d, y, U, Dii, bias, alpha, w):
    """PGᵢ for every sample, shape (n,), at the given (α, w)."""
    out = np.empty(len(y))
    for i in range(len(y)):
        g = y[i] * _dot(dense, X, data, indices, indptr, i, w, bias, d) - 1.0 + Dii[i] * alpha[i]
        out[i] = _pg(alpha[i], g, U[i])
    return out
