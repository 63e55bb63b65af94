"""Sequential minimal optimisation for the SVM dual, compiled with numba.

The notes' dual, written as a minimisation (Q_ij = yᵢyⱼK(xᵢ, xⱼ)):

    min_α ½αᵀQα − Σᵢαᵢ   subject to   0 ≤ αᵢ ≤ Cᵢ,   Σᵢαᵢyᵢ = 0.

Each SMO step changes the two multipliers (αᵢ, αⱼ) along the constraint Σαy = 0, exactly
(a one-dimensional quadratic, clipped to the box). The pair is chosen as libsvm does (Fan,
Chen & Lin 2005, "WSS 2"): i is the maximal violator −yᵢ∇ᵢ over I_up, j minimises the
second-order decrease −b²/a among the violators of I_low, with a = Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ and
b = (−yᵢ∇ᵢ) − (−yⱼ∇ⱼ). It stops when the KKT gap m(α) − M(α) = max_{I_up} −y∇ − min_{I_low} −y∇
falls below ``tol``. Kernel rows are computed on demand and kept in an LRU cache of rows.
C = ∞ (hard margin) needs no special case: the upper-bound tests compare with inf.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["KERNELS", "smo", "kernel_matrix"]

KERNELS = {"linear": 0, "poly": 1, "rbf": 2}
TAU = 1e-12  # libsvm's floor on the curvature a of a step, for a ≤ 0 (degenerate pairs)


@njit(cache=True)
def _kernel_row(X, i, kind, gamma, coef0, degree, out):
    n, d = X.shape
    for j in range(n):
        s = 0.0
        if kind == 2:
            for f in range(d):
                diff = X[i, f] - X[j, f]
                s += diff * diff
            out[j] = np.exp(-gamma * s)
        else:
            for f in range(d):
                s += X[i, f] * X[j, f]
            if kind == 1:
                out[j] = (gamma * s + coef0) ** degree
            else:
                out[j] = s


@njit(cache=True)
def _row(X, i, kind, gamma, coef0, degree, cache, slot_of, owner, stamp, clock):
    """Row i of K from the cache, computing it into the least recently used slot on a miss."""
    s = slot_of[i]
    if s < 0:
        s = 0
        for t in range(1, len(owner)):
            if stamp[t] < stamp[s]:
                s = t
        if owner[s] >= 0:
            slot_of[owner[s]] = -1
        owner[s] = i
        slot_of[i] = s
        _kernel_row(X, i, kind, gamma, coef0, degree, cache[s])
    stamp[s] = clock
    return cache[s]


@njit(cache=True)
def smo(X, y, C, kind, gamma, coef0, degree, tol, max_iter, n_cache_rows):
    """Solve the dual. X (n, d); y (n,) of ±1.0; C (n,) upper bounds (may be inf).

    Returns (alpha (n,), G (n,) the gradient Qα − 1, n_iter, status) with status 0 = the gap
    reached tol, 1 = max_iter reached.
    """
    n = X.shape[0]
    QD = np.empty(n)
    tmp = np.empty(n)
    for i in range(n):
        _kernel_row(X[i : i + 1], 0, kind, gamma, coef0, degree, tmp[:1])  # K(xᵢ, xᵢ)
        QD[i] = tmp[0]
    m = max(2, min(n, n_cache_rows))
    cache = np.empty((m, n))
    slot_of = -np.ones(n, dtype=np.int64)
    owner = -np.ones(m, dtype=np.int64)
    stamp = np.zeros(m, dtype=np.int64)
    alpha = np.zeros(n)
    G = -np.ones(n)
    it = 0
    while it < max_iter:
        # i: the maximal violator over I_up = {α < C, y = +1} ∪ {α > 0, y = −1}
        gmax = -np.inf
        i = -1
        for t in range(n):
            if y[t] > 0:
                if alpha[t] < C[t] and -G[t] >= gmax:
                    gmax = -G[t]
                    i = t
            elif alpha[t] > 0 and G[t] >= gmax:
                gmax = G[t]
                i = t
        if i < 0:
            return alpha, G, it, 0
        Ki = _row(X, i, kind, gamma, coef0, degree, cache, slot_of, owner, stamp, it + 1)
        # j: the largest second-order decrease among violators of I_low
        gmax2 = -np.inf
        j = -1
        best = np.inf
        for t in range(n):
            if y[t] > 0:
                if alpha[t] > 0:
                    grad_diff = gmax + G[t]
                    if G[t] >= gmax2:
                        gmax2 = G[t]
                    if grad_diff > 0:
                        a = QD[i] + QD[t] - 2.0 * Ki[t]
                        obj = -(grad_diff * grad_diff) / (a if a > 0 else TAU)
                        if obj <= best:
                            best = obj
                            j = t
            elif alpha[t] < C[t]:
                grad_diff = gmax - G[t]
                if -G[t] >= gmax2:
                    gmax2 = -G[t]
                if grad_diff > 0:
                    a = QD[i] + QD[t] - 2.0 * Ki[t]
                    obj = -(grad_diff * grad_diff) / (a if a > 0 else TAU)
                    if obj <= best:
                        best = obj
                        j = t
        if gmax + gmax2 < tol or j < 0:
            return alpha, G, it, 0
        it += 1
        Kj = _row(X, j, kind, gamma, coef0, degree, cache, slot_of, owner, stamp, it)
        Ki = _row(X, i, kind, gamma, coef0, degree, cache, slot_of, owner, stamp, it)
        Ci = C[i]
        Cj = C[j]
        ai = alpha[i]
        aj = alpha[j]
        a = QD[i] + QD[j] - 2.0 * Ki[j]
        if a <= 0:
            a = TAU
        if y[i] != y[j]:
            delta = (-G[i] - G[j]) / a
            diff = ai - aj
            ni = ai + delta
            nj = aj + delta
            if diff > 0:
                if nj < 0:
                    nj = 0.0
                    ni = diff
            elif ni < 0:
                ni = 0.0
                nj = -diff
            if diff > Ci - Cj:
                if ni > Ci:
                    ni = Ci
                    nj = Ci - diff
            elif nj > Cj:
                nj = Cj
                ni = Cj + diff
        else:
            delta = (G[i] - G[j]) / a
            total = ai + aj
            ni = ai - delta
            nj = aj + delta
            if total > Ci:
                if ni > Ci:
                    ni = Ci
                    nj = total - Ci
            elif nj < 0:
                nj = 0.0
                ni = total
            if total > Cj:
                if nj > Cj:
                    nj = Cj
                    ni = total - Cj
            elif ni < 0:
                ni = 0.0
                nj = total
        alpha[i] = ni
        alpha[j] = nj
        # ∇ = Qα − 1 changes by Q[:, i]Δαᵢ + Q[:, j]Δαⱼ, with Q[t, i] = y_t yᵢ K_ti
        di = (ni - ai) * y[i]
        dj = (nj - aj) * y[j]
        for t in range(n):
            G[t] += y[t] * (Ki[t] * di + Kj[t] * dj)
    return alpha, G, it, 1


def kernel_matrix(A, B, kind, gamma, coef0, degree):
    """K(A, B) of shape (len(A), len(B)) with BLAS: linear AᵀB, poly, rbf by ‖a‖² + ‖b‖² − 2aᵀb."""
    G = A @ B.T
    if kind == KERNELS["linear"]:
        return G
    if kind == KERNELS["poly"]:
        return (gamma * G + coef0) ** degree
    sq = np.einsum("ij,ij->i", A, A)[:, None] + np.einsum("ij,ij->i", B, B)[None, :] - 2 * G
    np.maximum(sq, 0.0, out=sq)  # rounding can make a tiny distance negative
    return np.exp(-gamma * sq)
