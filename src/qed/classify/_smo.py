"""Sequential minimal optimisation for the SVM dual, compiled with numba.

The notes' dual, written as a minimisation (Q_ij = yᵢyⱼK(xᵢ, xⱼ)):

    min_α ½αᵀQα − Σᵢαᵢ   subject to   0 ≤ αᵢ ≤ Cᵢ,   Σᵢαᵢyᵢ = 0.

Each SMO step changes the two multipliers (αᵢ, αⱼ) along the constraint Σαy = 0, exactly
(a one-dimensional quadratic, clipped to the box). The pair is chosen as libsvm does (Fan,
Chen & Lin 2005, "WSS 2"): i is the maximal violator −yᵢ∇ᵢ over I_up, j minimises the
second-order decrease −b²/a among the violators of I_low, with a = Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ and
b = (−yᵢ∇ᵢ) − (−yⱼ∇ⱼ). It stops when the KKT gap m(α) − M(α) = max_{I_up} −y∇ − min_{I_low} −y∇
falls below ``tol``. Kernel rows are computed on demand and kept in an LRU cache of rows;
libsvm's shrinking keeps the O(n) loops to the variables still able to move.
C = ∞ (hard margin) needs no special case: the upper-bound tests compare with inf.
"""

from __future__ import annotations

import numpy as np
from numba import njit

__all__ = ["KERNEL_CODES", "PRECOMPUTED", "smo", "kernel_matrix", "kernel_diag"]

# integer codes of the kernels the compiled solver evaluates itself; "precomputed" reads K
# from the matrix passed in place of X (a callable kernel is turned into that matrix first)
KERNEL_CODES = {"linear": 0, "poly": 1, "rbf": 2, "sigmoid": 3, "precomputed": 4}
PRECOMPUTED = KERNEL_CODES["precomputed"]
TAU = 1e-12  # libsvm's floor on the curvature a of a step, for a ≤ 0 (degenerate pairs)


FULL = -1  # generation tag of a cached row computed for every sample


@njit(cache=True)
def _entry(X, i, t, kern):
    """K(xᵢ, xₜ) for kern = (kind, γ, coef0, degree); kind 4 reads a precomputed K = X."""
    kind, gamma, coef0, degree = kern
    if kind == 4:
        return X[i, t]
    s = 0.0
    if kind == 2:
        for f in range(X.shape[1]):
            diff = X[i, f] - X[t, f]
            s += diff * diff
        return np.exp(-gamma * s)
    for f in range(X.shape[1]):
        s += X[i, f] * X[t, f]
    if kind == 1:
        return (gamma * s + coef0) ** degree
    if kind == 3:
        return np.tanh(gamma * s + coef0)
    return s


@njit(cache=True)
def _row(X, i, kern, store, clock, active, n_active, gen, full):
    """Row i of K from the LRU cache, computed on a miss into the least recently used slot.

    Like libsvm, a row is computed only on the active (unshrunk) samples unless ``full``;
    it stays valid while the active set only shrinks (generation ``gen`` unchanged).
    """
    cache, slot_of, owner, stamp, slot_gen = store
    n = X.shape[0]
    s = slot_of[i]
    if s >= 0:
        if slot_gen[s] == FULL or (not full and slot_gen[s] == gen):
            stamp[s] = clock
            return cache[s]
    else:
        s = 0
        for t in range(1, len(owner)):
            if stamp[t] < stamp[s]:
                s = t
        if owner[s] >= 0:
            slot_of[owner[s]] = -1
        owner[s] = i
        slot_of[i] = s
    row = cache[s]
    if full or n_active == n:
        for t in range(n):
            row[t] = _entry(X, i, t, kern)
        slot_gen[s] = FULL
    else:
        for a in range(n_active):
            t = active[a]
            row[t] = _entry(X, i, t, kern)
        slot_gen[s] = gen
    stamp[s] = clock
    return row


@njit(cache=True)
def _select(X, y, C, alpha, G, QD, active, n_active, kern, store, clock, gen):
    """WSS 2 over the active set: (i, j, m(α), −M(α)); j = −1 when no pair violates."""
    gmax = -np.inf
    i = -1
    for a in range(n_active):
        t = active[a]
        if y[t] > 0:
            if alpha[t] < C[t] and -G[t] >= gmax:
                gmax = -G[t]
                i = t
        elif alpha[t] > 0 and G[t] >= gmax:
            gmax = G[t]
            i = t
    gmax2 = -np.inf
    j = -1
    if i < 0:
        return i, j, gmax, gmax2
    Ki = _row(X, i, kern, store, clock, active, n_active, gen, False)
    best = np.inf
    for a in range(n_active):
        t = active[a]
        if y[t] > 0:
            if alpha[t] > 0:
                grad_diff = gmax + G[t]
                if G[t] >= gmax2:
                    gmax2 = G[t]
                if grad_diff > 0:
                    q = QD[i] + QD[t] - 2.0 * Ki[t]
                    obj = -(grad_diff * grad_diff) / (q if q > 0 else TAU)
                    if obj <= best:
                        best = obj
                        j = t
        elif alpha[t] < C[t]:
            grad_diff = gmax - G[t]
            if -G[t] >= gmax2:
                gmax2 = -G[t]
            if grad_diff > 0:
                q = QD[i] + QD[t] - 2.0 * Ki[t]
                obj = -(grad_diff * grad_diff) / (q if q > 0 else TAU)
                if obj <= best:
                    best = obj
                    j = t
    return i, j, gmax, gmax2


@njit(cache=True)
def _reconstruct(X, y, alpha, G, is_active, kern, store, clock, active, gen):
    """Recompute ∇ₜ = −1 + Σⱼ yₜyⱼαⱼKₜⱼ for the shrunk (inactive) t, from the SVs' full rows."""
    n = len(y)
    for t in range(n):
        if not is_active[t]:
            G[t] = -1.0
    for s in range(n):
        if alpha[s] > 0:
            Ks = _row(X, s, kern, store, clock, active, n, gen, True)
            ya = y[s] * alpha[s]
            for t in range(n):
                if not is_active[t]:
                    G[t] += y[t] * ya * Ks[t]


@njit(cache=True)
def _shrink(y, C, alpha, G, active, n_active, is_active, gmax1, gmax2):
    """libsvm's shrinking: set aside bounded αₜ whose gradient says they will stay there."""
    a = 0
    while a < n_active:
        t = active[a]
        out = False
        if alpha[t] >= C[t]:
            out = -G[t] > gmax1 if y[t] > 0 else -G[t] > gmax2
        elif alpha[t] <= 0:
            out = G[t] > gmax2 if y[t] > 0 else G[t] > gmax1
        if out:
            n_active -= 1
            active[a] = active[n_active]
            active[n_active] = t
            is_active[t] = False
        else:
            a += 1
    return n_active


@njit(cache=True)
def _step(i, j, y, C, alpha, G, QD, Ki, Kj, active, n_active):
    """The exact two-variable step of libsvm's solver, clipped to the box; updates α and ∇."""
    Ci = C[i]
    Cj = C[j]
    ai = alpha[i]
    aj = alpha[j]
    q = QD[i] + QD[j] - 2.0 * Ki[j]
    if q <= 0:
        q = TAU
    if y[i] != y[j]:
        delta = (-G[i] - G[j]) / q
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
        delta = (G[i] - G[j]) / q
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
    for a in range(n_active):
        t = active[a]
        G[t] += y[t] * (Ki[t] * di + Kj[t] * dj)


@njit(cache=True)
def smo(X, y, C, kind, gamma, coef0, degree, tol, max_iter, n_cache_rows, alpha, G, shrinking=True):
    """Solve the dual from the feasible start (alpha, G = Qα − 1), updated in place.

    X (n, d); y (n,) of ±1.0; C (n,) upper bounds (may be inf). Shrinking (libsvm's): every
    min(n, 1000) steps, multipliers stuck at a bound are set aside and ∇ is updated only on
    the rest; before stopping, ∇ is rebuilt for all and optimality rechecked on the full set.
    Returns (n_iter, status): status 0 = the gap reached tol, 1 = max_iter reached.
    """
    n = X.shape[0]
    kern = (kind, gamma, coef0, degree)
    QD = np.empty(n)
    for i in range(n):
        QD[i] = _entry(X, i, i, kern)
    m = max(2, min(n, n_cache_rows))
    store = (
        np.empty((m, n)),
        -np.ones(n, dtype=np.int64),
        -np.ones(m, dtype=np.int64),
        np.zeros(m, dtype=np.int64),
        np.zeros(m, dtype=np.int64),
    )
    active = np.arange(n)
    is_active = np.ones(n, dtype=np.bool_)
    n_active = n
    gen = 0  # bumped whenever the active set grows: partially computed rows go stale
    unshrunk = False
    period = min(n, 1000)
    counter = period + 1
    it = 0
    status = 1
    while it < max_iter:
        counter -= 1
        if shrinking and counter == 0:
            counter = period
            _, _, gmax1, gmax2 = _select(
                X, y, C, alpha, G, QD, active, n_active, kern, store, it, gen
            )
            if not unshrunk and gmax1 + gmax2 <= 10 * tol:
                unshrunk = True  # close to the end: let every variable back in once
                _reconstruct(X, y, alpha, G, is_active, kern, store, it, active, gen)
                n_active = n
                is_active[:] = True
                gen += 1
            n_active = _shrink(y, C, alpha, G, active, n_active, is_active, gmax1, gmax2)
        i, j, gmax, gmax2 = _select(
            X, y, C, alpha, G, QD, active, n_active, kern, store, it + 1, gen
        )
        if gmax + gmax2 < tol or j < 0:
            if n_active < n:
                # optimal on the active set: rebuild ∇, recheck on every variable
                _reconstruct(X, y, alpha, G, is_active, kern, store, it, active, gen)
                n_active = n
                is_active[:] = True
                gen += 1
                i, j, gmax, gmax2 = _select(
                    X, y, C, alpha, G, QD, active, n_active, kern, store, it + 1, gen
                )
                counter = 1  # shrink again at the next step
            if gmax + gmax2 < tol or j < 0:
                status = 0
                break
        it += 1
        Kj = _row(X, j, kern, store, it, active, n_active, gen, False)
        Ki = _row(X, i, kern, store, it, active, n_active, gen, False)
        _step(i, j, y, C, alpha, G, QD, Ki, Kj, active, n_active)
    if n_active < n:
        _reconstruct(X, y, alpha, G, is_active, kern, store, it, active, gen)
    return it, status


def kernel_matrix(A, B, kind, gamma, coef0, degree):
    """K(A, B) of shape (len(A), len(B)) with BLAS: linear ABᵀ, poly (γABᵀ + c₀)^degree,
    sigmoid tanh(γABᵀ + c₀), rbf exp(−γ‖a − b‖²) by ‖a‖² + ‖b‖² − 2aᵀb."""
    G = A @ B.T
    if kind == KERNEL_CODES["linear"]:
        return G
    if kind == KERNEL_CODES["poly"]:
        return (gamma * G + coef0) ** degree
    if kind == KERNEL_CODES["sigmoid"]:
        return np.tanh(gamma * G + coef0)
    sq = np.einsum("ij,ij->i", A, A)[:, None] + np.einsum("ij,ij->i", B, B)[None, :] - 2 * G
    np.maximum(sq, 0.0, out=sq)  # rounding can make a tiny distance negative
    return np.exp(-gamma * sq)


def kernel_diag(X, kind, gamma, coef0, degree):
    """K(xᵢ, xᵢ) for every row of X, shape (n,), without forming K."""
    s = np.einsum("ij,ij->i", X, X)
    if kind == KERNEL_CODES["linear"]:
        return s
    if kind == KERNEL_CODES["poly"]:
        return (gamma * s + coef0) ** degree
    if kind == KERNEL_CODES["sigmoid"]:
        return np.tanh(gamma * s + coef0)
    return np.ones(len(X))
