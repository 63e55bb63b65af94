"""Sequential minimal optimisation for the SVM dual, compiled with numba.

The notes' dual, written as a minimisation (Q_ij = yᵢyⱼK(xᵢ, xⱼ)):

    min_α ½αᵀQα − Σᵢαᵢ   subject to   0 ≤ αᵢ ≤ Cᵢ,   Σᵢαᵢyᵢ = 0.

Each SMO step changes the two multipliers (αᵢ, αⱼ) along the constraint Σαy = 0, exactly
(a one-dimensional quadratic, clipped to the box). The pair is chosen as libsvm does (Fan,
Chen & Lin 2005, "WSS 2"): i is the maximal violator −yᵢ∇ᵢ over I_up, j minimises the
second-order decrease −b²/a among the violators of I_low, with a = Kᵢᵢ + Kⱼⱼ − 2Kᵢⱼ and
b = (−yᵢ∇ᵢ) − (−yⱼ∇ⱼ). It stops when the KKT gap m(α) − M(α) = max_{I_up} −y∇ − min_{I_low} −y∇
falls below ``tol``. C = ∞ (hard margin) needs no special case: the bound tests compare with inf.

How the work is laid out (libsvm's design, Chang & Lin 2011, §5):
- The solver keeps the samples in a working order in which the active (unshrunk) ones are a
  prefix. Shrinking — every min(n, 1000) steps, multipliers stuck at a bound whose gradient
  says they will stay there are set aside — is a stable partition of that prefix, applied to
  every per-sample array and to the columns of Xᵀ. Every O(n) loop is then a forward pass
  over contiguous memory, without an index array.
- It keeps F = −y ⊙ ∇ instead of ∇, so a step changes F by −(Kᵢdᵢ + Kⱼdⱼ) without the
  labels, and the gradient update and the choice of the next i share one pass.
- Kernel rows live in an LRU cache, each valid on a prefix of the working order; a row is
  extended, not recomputed, when the prefix it needs grows, and is carried through the last
  ``RING`` shrinking permutations lazily, when it is next used.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed.classify._svm_kernels import _entry, _fill

__all__ = ["smo"]

TAU = 1e-12  # libsvm's floor on the curvature a of a step, for a ≤ 0 (degenerate pairs)
RING = 8  # shrinking permutations remembered; a cached row older than that is recomputed


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
def _row(i, need, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work):
    """K(x_orig[i], x_orig[p]) for the positions p < need, from the cache, completing it."""
    cache, slot_of, owner, stamp, valid, since = store
    bits, counts = work
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
            _fill(X[o], XT, length, need, kern, row, bits)
        length = need
    valid[s] = length
    since[s] = epoch
    stamp[s] = clock
    return row


@njit(cache=True)
def _flag(t, y, C, alpha, up, low):
    """Membership of I_up = {y = +1, α < C} ∪ {y = −1, α > 0} and of I_low (the mirror)."""
    if y[t] > 0:
        up[t] = alpha[t] < C[t]
        low[t] = alpha[t] > 0
    else:
        up[t] = alpha[t] > 0
        low[t] = alpha[t] < C[t]


@njit(cache=True)
def _select_i(F, up, n_active):
    """(i, m(α)): the last position of the largest F over the active I_up; i = −1 if none."""
    m = -np.inf
    i = -1
    for t in range(n_active):
        v = F[t] if up[t] else -np.inf  # a select, not a branch: membership looks random
        if v >= m:
            m = v
            i = t
    if m == -np.inf:
        i = -1
    return i, m


@njit(cache=True)
def _select_j(i, m, F, low, QD, Ki, n_active):
    """(j, −M(α)): j maximises b²/a over the violators t ∈ I_low (b = m − F_t > 0), with
    a = K_ii + K_tt − 2K_it floored at TAU; −M(α) = max of −F over I_low. j = −1 if none.

    b²/a ≥ best is tested as b² ≥ best·a, so the loop divides only when j changes.
    """
    best = 0.0
    j = -1
    low_min = np.inf
    qi = QD[i]
    for t in range(n_active):
        f = F[t]
        lt = low[t]
        low_min = min(low_min, f if lt else np.inf)
        b = m - f
        q = qi + QD[t] - 2.0 * Ki[t]
        q = q if q > 0 else TAU
        bb = b * b if (lt and b > 0) else -1.0
        if bb >= best * q:
            best = bb / q
            j = t
    return j, -low_min


@njit(cache=True)
def _update_select(F, up, Ki, Kj, di, dj, n_active):
    """F ← F − (Kᵢdᵢ + Kⱼdⱼ) on the active prefix, and the next (i, m(α)) in the same pass."""
    m = -np.inf
    i = -1
    for t in range(n_active):
        f = F[t] - (Ki[t] * di + Kj[t] * dj)
        F[t] = f
        v = f if up[t] else -np.inf
        if v >= m:
            m = v
            i = t
    if m == -np.inf:
        i = -1
    return i, m


@njit(cache=True)
def _step(i, j, y, C, alpha, F, QD, Ki):
    """The exact two-variable step of libsvm's solver, clipped to the box.

    Updates αᵢ, αⱼ and returns (dᵢ, dⱼ) = (Δαᵢyᵢ, Δαⱼyⱼ): ∇ = Qα − 1 changes by
    yₜ(Kₜᵢdᵢ + Kₜⱼdⱼ), so F = −y∇ by −(Kₜᵢdᵢ + Kₜⱼdⱼ).
    """
    Ci = C[i]
    Cj = C[j]
    ai = alpha[i]
    aj = alpha[j]
    Gi = -y[i] * F[i]
    Gj = -y[j] * F[j]
    q = QD[i] + QD[j] - 2.0 * Ki[j]
    if q <= 0:
        q = TAU
    if y[i] != y[j]:
        delta = (-Gi - Gj) / q
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
        delta = (Gi - Gj) / q
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
    return (ni - ai) * y[i], (nj - aj) * y[j]


@njit(cache=True)
def _low_gap(F, low, n_active):
    """−M(α) = max of −F over the active I_low."""
    g = -np.inf
    for t in range(n_active):
        if low[t] and -F[t] > g:
            g = -F[t]
    return g


@njit(cache=True)
def _set_aside(t, y, C, alpha, F, gmax1, gmax2):
    """libsvm's ``be_shrunk``: αₜ is at a bound and its gradient says it will stay there."""
    g = -y[t] * F[t]
    if alpha[t] >= C[t]:
        return -g > gmax1 if y[t] > 0 else -g > gmax2
    if alpha[t] <= 0:
        return g > gmax2 if y[t] > 0 else g > gmax1
    return False


@njit(cache=True)
def _swap(p, q, y, C, alpha, F, QD, up, low, orig, XT):
    """Exchange the samples at working positions p and q in every per-sample array."""
    for arr in (y, C, alpha, F, QD):
        v = arr[p]
        arr[p] = arr[q]
        arr[q] = v
    for flags in (up, low):
        b = flags[p]
        flags[p] = flags[q]
        flags[q] = b
    o = orig[p]
    orig[p] = orig[q]
    orig[q] = o
    for f in range(XT.shape[0]):
        v = XT[f, p]
        XT[f, p] = XT[f, q]
        XT[f, q] = v


@njit(cache=True)
def _shrink(n_active, gmax1, gmax2, y, C, alpha, F, QD, up, low, orig, XT, swaps):
    """Move the samples to set aside behind the active prefix, each swapped with the last
    one kept (libsvm's order); the swaps go to ``swaps``. Returns (new n_active, #swaps)."""
    end = n_active
    k = 0
    t = 0
    while t < end:
        if _set_aside(t, y, C, alpha, F, gmax1, gmax2):
            end -= 1
            while end > t and _set_aside(end, y, C, alpha, F, gmax1, gmax2):
                end -= 1
            if end > t:
                _swap(t, end, y, C, alpha, F, QD, up, low, orig, XT)
                swaps[k, 0] = t
                swaps[k, 1] = end
                k += 1
        t += 1
    return end, k


@njit(cache=True)
def _reconstruct(
    n_active, X, XT, orig, y, alpha, F, kern, store, clock, epoch, ring, ring_n, work, G
):
    """F = −y∇ on the set-aside positions, ∇ₜ = −1 + Σₛ yₜyₛαₛKₜₛ from the SVs' full rows."""
    n = len(y)
    g = G[n_active:]  # slices, not range(n_active, n): see _svm_kernels._fill
    yo = y[n_active:]
    g[:] = -1.0
    for s in range(n):
        if alpha[s] > 0:
            Ks = _row(s, n, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work)
            ks = Ks[n_active:]
            ya = y[s] * alpha[s]
            for t in range(n - n_active):
                g[t] += yo[t] * ya * ks[t]
    F[n_active:] = -yo * g


@njit(cache=True)
def smo(
    X, y, C, kind, gamma, coef0, degree, tol, max_iter, n_cache_rows, alpha, G, shrinking, counts
):
    """Solve the dual from the feasible start (alpha, G = Qα − 1), updated in place.

    X (n, d), or the (n, n) Gram matrix when kind is precomputed; y (n,) of ±1.0; C (n,)
    upper bounds (may be inf). Before stopping on the active set, ∇ is rebuilt for all and
    optimality rechecked on the full set. Returns (n_iter, status): status 0 = the gap
    reached tol, 1 = max_iter reached. counts (3,) int64 accumulates, for profiling: kernel
    rows computed or extended, kernel entries computed, and Σ over steps of the active-set
    size (the length of the O(n) loops).
    """
    n = X.shape[0]
    kern = (kind, gamma, coef0, degree)
    QD = np.empty(n)
    for t in range(n):
        QD[t] = _entry(X, t, t, kern)
    m_rows = max(2, min(n, n_cache_rows))
    store = (
        np.empty((m_rows, n)),
        -np.ones(n, dtype=np.int64),  # slot of each sample's row (by original index), or −1
        -np.ones(m_rows, dtype=np.int64),  # sample whose row a slot holds
        np.zeros(m_rows, dtype=np.int64),  # last use, for LRU
        np.zeros(m_rows, dtype=np.int64),  # valid prefix of the row, in working order
        np.zeros(m_rows, dtype=np.int64),  # epoch of the working order the row is in
    )
    ring = np.empty((RING, n // 2 + 1, 2), dtype=np.int64)  # each epoch's swaps
    ring_n = np.zeros(RING, dtype=np.int64)
    epoch = 0
    XT = np.ascontiguousarray(X.T) if kind != 4 else np.empty((0, 0))
    work = (np.empty(n, dtype=np.int64), counts)
    Gbuf = np.empty(n)
    orig = np.arange(n)
    y = y.copy()
    C = C.copy()
    a = alpha.copy()
    F = -y * G
    up = np.empty(n, dtype=np.bool_)
    low = np.empty(n, dtype=np.bool_)
    for t in range(n):
        _flag(t, y, C, a, up, low)
    n_active = n
    unshrunk = False
    period = min(n, 1000)
    counter = period + 1
    it = 0
    status = 1
    i, m = _select_i(F, up, n_active)
    while it < max_iter:
        clock = it + 1
        counter -= 1
        if shrinking and counter == 0:
            counter = period
            gmax2 = _low_gap(F, low, n_active)
            if not unshrunk and m + gmax2 <= 10 * tol:
                unshrunk = True  # close to the end: let every variable back in once
                _reconstruct(
                    n_active,
                    X,
                    XT,
                    orig,
                    y,
                    a,
                    F,
                    kern,
                    store,
                    clock,
                    epoch,
                    ring,
                    ring_n,
                    work,
                    Gbuf,
                )
                n_active = n
            swaps = ring[(epoch + 1) % RING]
            kept, k = _shrink(n_active, m, gmax2, y, C, a, F, QD, up, low, orig, XT, swaps)
            if k > 0:
                epoch += 1
                ring_n[epoch % RING] = k
            n_active = kept
            i, m = _select_i(F, up, n_active)
        j, gmax2 = -1, -np.inf
        if i >= 0:
            Ki = _row(i, n_active, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work)
            j, gmax2 = _select_j(i, m, F, low, QD, Ki, n_active)
        if m + gmax2 < tol or j < 0:
            if n_active < n:
                # optimal on the active set: rebuild ∇, recheck on every variable
                _reconstruct(
                    n_active,
                    X,
                    XT,
                    orig,
                    y,
                    a,
                    F,
                    kern,
                    store,
                    clock,
                    epoch,
                    ring,
                    ring_n,
                    work,
                    Gbuf,
                )
                n_active = n
                i, m = _select_i(F, up, n_active)
                j, gmax2 = -1, -np.inf
                if i >= 0:
                    Ki = _row(i, n, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work)
                    j, gmax2 = _select_j(i, m, F, low, QD, Ki, n_active)
                counter = 1  # shrink again at the next step
            if m + gmax2 < tol or j < 0:
                status = 0
                break
        it += 1
        counts[2] += n_active
        Kj = _row(j, n_active, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work)
        Ki = _row(i, n_active, X, XT, orig, kern, store, clock, epoch, ring, ring_n, work)
        di, dj = _step(i, j, y, C, a, F, QD, Ki)
        _flag(i, y, C, a, up, low)
        _flag(j, y, C, a, up, low)
        i, m = _update_select(F, up, Ki, Kj, di, dj, n_active)
    if n_active < n:
        _reconstruct(
            n_active, X, XT, orig, y, a, F, kern, store, it + 1, epoch, ring, ring_n, work, Gbuf
        )
    for t in range(n):
        alpha[orig[t]] = a[t]
        G[orig[t]] = -y[t] * F[t]
    return it, status
