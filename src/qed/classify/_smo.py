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

from qed.classify._svm_kernels import _entry, _fill

__all__ = ["smo"]

TAU = 1e-12  # libsvm's floor on the curvature a of a step, for a ≤ 0 (degenerate pairs)


FULL = -1  # generation tag of a cached row computed for every sample


@njit(cache=True)
def _row(X, XT, i, kern, store, clock, active, n_active, gen, full, work):
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
    acc, bits, counts = work
    counts[0] += 1
    counts[1] += n if (full or n_active == n) else n_active
    if kern[0] == 4:  # precomputed: the row is there already
        if full or n_active == n:
            row[:] = X[i]
        else:
            for a in range(n_active):
                row[active[a]] = X[i, active[a]]
    elif full or n_active == n:
        _fill(X, XT, i, kern, row, active, n, True, bits)
    else:
        _fill(X, XT, i, kern, acc, active, n_active, False, bits)
        for a in range(n_active):
            row[active[a]] = acc[a]
    slot_gen[s] = FULL if (full or n_active == n) else gen
    stamp[s] = clock
    return row


@njit(cache=True)
def _select(X, XT, y, C, alpha, G, QD, active, n_active, kern, store, clock, gen, work):
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
    Ki = _row(X, XT, i, kern, store, clock, active, n_active, gen, False, work)
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
def _reconstruct(X, XT, y, alpha, G, is_active, kern, store, clock, active, gen, work):
    """Recompute ∇ₜ = −1 + Σⱼ yₜyⱼαⱼKₜⱼ for the shrunk (inactive) t, from the SVs' full rows."""
    n = len(y)
    for t in range(n):
        if not is_active[t]:
            G[t] = -1.0
    for s in range(n):
        if alpha[s] > 0:
            Ks = _row(X, XT, s, kern, store, clock, active, n, gen, True, work)
            ya = y[s] * alpha[s]
            for t in range(n):
                if not is_active[t]:
                    G[t] += y[t] * ya * Ks[t]


@njit(cache=True)
def _shrink(y, C, alpha, G, active, n_active, is_active, gmax1, gmax2):
    """libsvm's shrinking: set aside bounded αₜ whose gradient says they will stay there.

    The kept indices stay in increasing order (a stable compaction), so that the O(n) loops
    of selection and update walk memory forwards instead of at random; libsvm gets the same
    by swapping the data themselves.
    """
    kept = 0
    for a in range(n_active):
        t = active[a]
        out = False
        if alpha[t] >= C[t]:
            out = -G[t] > gmax1 if y[t] > 0 else -G[t] > gmax2
        elif alpha[t] <= 0:
            out = G[t] > gmax2 if y[t] > 0 else G[t] > gmax1
        if out:
            is_active[t] = False
        else:
            active[kept] = t
            kept += 1
    n = len(y)
    rest = kept
    for t in range(n):  # the inactive ones after, in any order
        if not is_active[t]:
            active[rest] = t
            rest += 1
    return kept


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
def smo(
    X, y, C, kind, gamma, coef0, degree, tol, max_iter, n_cache_rows, alpha, G, shrinking, counts
):
    """Solve the dual from the feasible start (alpha, G = Qα − 1), updated in place.

    X (n, d); y (n,) of ±1.0; C (n,) upper bounds (may be inf). Shrinking (libsvm's): every
    min(n, 1000) steps, multipliers stuck at a bound are set aside and ∇ is updated only on
    the rest; before stopping, ∇ is rebuilt for all and optimality rechecked on the full set.
    Returns (n_iter, status): status 0 = the gap reached tol, 1 = max_iter reached.
    counts (3,) int64 accumulates, for profiling: kernel rows computed, kernel entries
    computed, and Σ over steps of the active-set size (the length of the O(n) loops).
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
    XT = np.ascontiguousarray(X.T) if kind != 4 else np.empty((0, 0))
    work = (np.empty(n), np.empty(n, dtype=np.int64), counts)
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
                X, XT, y, C, alpha, G, QD, active, n_active, kern, store, it, gen, work
            )
            if not unshrunk and gmax1 + gmax2 <= 10 * tol:
                unshrunk = True  # close to the end: let every variable back in once
                _reconstruct(X, XT, y, alpha, G, is_active, kern, store, it, active, gen, work)
                n_active = n
                is_active[:] = True
                active[:] = np.arange(n)
                gen += 1
            n_active = _shrink(y, C, alpha, G, active, n_active, is_active, gmax1, gmax2)
        i, j, gmax, gmax2 = _select(
            X, XT, y, C, alpha, G, QD, active, n_active, kern, store, it + 1, gen, work
        )
        if gmax + gmax2 < tol or j < 0:
            if n_active < n:
                # optimal on the active set: rebuild ∇, recheck on every variable
                _reconstruct(X, XT, y, alpha, G, is_active, kern, store, it, active, gen, work)
                n_active = n
                is_active[:] = True
                active[:] = np.arange(n)
                gen += 1
                i, j, gmax, gmax2 = _select(
                    X, XT, y, C, alpha, G, QD, active, n_active, kern, store, it + 1, gen, work
                )
                counter = 1  # shrink again at the next step
            if gmax + gmax2 < tol or j < 0:
                status = 0
                break
        it += 1
        counts[2] += n_active
        Kj = _row(X, XT, j, kern, store, it, active, n_active, gen, False, work)
        Ki = _row(X, XT, i, kern, store, it, active, n_active, gen, False, work)
        _step(i, j, y, C, alpha, G, QD, Ki, Kj, active, n_active)
    if n_active < n:
        _reconstruct(X, XT, y, alpha, G, is_active, kern, store, it, active, gen, work)
    return it, status
