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
  says they will stay there are set aside — swaps each of them with the last sample kept, in
  every per-sample array and in the columns of Xᵀ. Every O(n) loop (``_smo_passes``) is then
  a forward pass over contiguous memory, without an index array.
- It keeps F = −y ⊙ ∇ instead of ∇, so a step changes F by −(Kᵢdᵢ + Kⱼdⱼ) without the
  labels, and the gradient update and the choice of the next i share one pass.
- Kernel rows live in an LRU cache (``_smo_cache``); for an rbf kernel whose rows would not
  all fit, in float32 as libsvm's (twice the rows in the same memory). ``solve_dual`` then
  recomputes ∇ exactly in float64 and, should the KKT gap measured on it exceed tol,
  finishes with a float64 cache: the answer meets tol on the exact problem, not only on the
  rounded one. Close to the end (gap ≤ 10·tol), where libsvm rebuilds the set-aside part of ∇
  from its rows, a float32 phase rebuilds all of ∇ exactly instead, so the drift of the large
  early steps is gone before the finish.
"""

from __future__ import annotations

import numpy as np
from numba import njit, objmode

from qed.classify._smo_cache import RING, fetch, hit, new_store
from qed.classify._smo_exact import exact_F, exact_gradient, kkt_gap
from qed.classify._smo_passes import TAU, low_gap, select_i, select_j, update_select
from qed.classify._svm_kernels import KERNEL_CODES, PRECOMPUTED, _entry

__all__ = ["smo", "solve_dual"]

SINGLE_TOL = 1e-8  # the float32 phase stops here at the tightest
SINGLE_STEPS = 1_000_000  # ... or after max(this, 100n) steps
RECHECKS = 3  # exact-gradient restarts of a float32 phase before float64 takes over


@njit(cache=True, inline="always")
def _flag(t, y, C, alpha, up, low):
    """Membership of I_up = {y = +1, α < C} ∪ {y = −1, α > 0} and of I_low (the mirror)."""
    if y[t] > 0:
        up[t] = alpha[t] < C[t]
        low[t] = alpha[t] > 0
    else:
        up[t] = alpha[t] > 0
        low[t] = alpha[t] < C[t]


@njit(cache=True, inline="always")
def _step(i, j, y, C, alpha, F, QD, Kij):
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
    q = QD[i] + QD[j] - 2.0 * Kij
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
def _exact(X, y, a, F, orig, kern):
    """F ← the exact float64 −y∇ (``exact_F``), in a function of its own: two objmode
    blocks in ``smo`` made numba emit invalid LLVM IR."""
    with objmode():  # the exact gradient runs its blocks on Python threads
        exact_F(X, y, a, F, orig, kern)


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
def _reconstruct(n_active, y, alpha, F, epoch, cx, G):
    """F = −y∇ on the set-aside positions, ∇ₜ = −1 + Σₛ yₜyₛαₛKₜₛ from the SVs' full rows."""
    n = len(y)
    g = G[n_active:]  # slices, not range(n_active, n): see _svm_kernels._fill
    yo = y[n_active:]
    g[:] = -1.0
    for s in range(n):
        if alpha[s] > 0:
            h = hit(s, n, epoch, cx[1], cx[2], cx[3])
            Ks = cx[0][h if h >= 0 else fetch(s, n, epoch, *cx)]
            ks = Ks[n_active:]
            ya = y[s] * alpha[s]
            for t in range(n - n_active):
                g[t] += yo[t] * ya * ks[t]
    F[n_active:] = -yo * g


@njit(cache=True)
def _working_pair(n_active, epoch, F, up, low, QD, v, low_f, cx):
    """(i, m(α), j, −M(α)) chosen afresh over the active prefix (j = −1: no violating pair)."""
    i, m = select_i(F, up, n_active, v)
    if i < 0:
        return i, m, -1, -np.inf
    si = hit(i, n_active, epoch, cx[1], cx[2], cx[3])
    if si < 0:
        si = fetch(i, n_active, epoch, *cx)
    j, gmax2 = select_j(i, m, F, low, QD, cx[0], si, n_active, v, low_f)
    return i, m, j, gmax2


@njit(cache=True)
def smo(X, y, C, kind, gamma, coef0, degree, tol, max_iter, cache, alpha, G, shrinking, counts):
    """Solve the dual from the feasible start (alpha, G = Qα − 1), updated in place.

    X (n, d), or the (n, n) Gram matrix when kind is precomputed; y (n,) of ±1.0; C (n,)
    upper bounds (may be inf). Before stopping on the active set, ∇ is rebuilt for all and
    optimality rechecked on the full set. Returns (n_iter, status): status 0 = the gap
    reached tol (with float32 rows: on the exact gradient, or within a drift bound that
    keeps it below tol), 1 = max_iter reached, or float32 rows could not certify the stop
    within RECHECKS exact restarts. counts (3,) int64 accumulates, for profiling: kernel
    rows computed or extended, kernel entries computed, and Σ over steps of the active-set
    size (the length of the O(n) loops).
    """
    n = X.shape[0]
    kern = (kind, gamma, coef0, degree)
    # the diagonal rounded as the cached rows are: one consistent (float32) Q for the steps
    # and the gradient updates (a float64 diagonal beside float32 rows kept some tiny
    # problems from ever reaching a tight tol)
    QDc = np.empty(n, dtype=cache.dtype)
    for t in range(n):
        QDc[t] = _entry(X, t, t, kern)
    QD = QDc.astype(np.float64)
    slot_of, meta = new_store(cache.shape[0], n)
    ring = np.empty((RING, n // 2 + 1, 2), dtype=np.int64)  # each epoch's swaps
    ring_n = np.zeros(RING, dtype=np.int64)
    epoch = 0
    XT = np.ascontiguousarray(X.T) if kind != PRECOMPUTED else np.empty((0, 0))
    acc, bits = np.empty(n), np.empty(n, dtype=np.int64)  # scratch of the kernel rows
    Gbuf = np.empty(n)
    v, low_f = np.empty(n), np.empty(n)  # the selection passes' scratch
    orig = np.arange(n)
    cx = (cache, slot_of, meta, orig, X, XT, kern, ring, ring_n, acc, bits, counts)
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
    i, m = select_i(F, up, n_active, v)
    rechecks = RECHECKS if cache.itemsize == 4 else -1
    exact = rechecks < 0  # float64 rows: the gradient is the exact one
    # after an exact restart: |F − F_exact| ≤ u·max K·Σ(|dᵢ| + |dⱼ|), u = 2⁻²⁴ (rows rounded
    # to float32), as long as nothing is shrunk (a rebuild would bring float32 rows back in);
    # a long finish shrinks as usual and is checked on the exact gradient again
    tracked = False
    moved = 0.0
    drift_unit = 2.0**-24 * QD.max() if n > 0 else 0.0
    while it < max_iter:
        counter -= 1
        if shrinking and counter == 0:
            counter = period
            gmax2 = low_gap(F, low, n_active)
            if not unshrunk and m + gmax2 <= 10 * tol:
                unshrunk = True  # close to the end: let every variable back in once
                if rechecks >= 0:
                    # float32 rows: rebuild all of F exactly instead, which clears the drift
                    # of the large early steps, so the finish meets tol on the exact gradient
                    # without a restart (rbf n = 20k, C = 10, tol 1e-6: 248k → 213k steps)
                    _exact(X, y, a, F, orig, kern)
                    gmax2 = low_gap(F, low, n)
                    m = select_i(F, up, n, v)[1]
                else:
                    _reconstruct(n_active, y, a, F, epoch, cx, Gbuf)
                n_active = n
            swaps = ring[(epoch + 1) % RING]
            kept, k = _shrink(n_active, m, gmax2, y, C, a, F, QD, up, low, orig, XT, swaps)
            if kept < n_active:
                tracked = False  # a later rebuild brings float32 rows back: no drift bound
            if k > 0:
                epoch += 1
                ring_n[epoch % RING] = k
            n_active = kept
            i, m = select_i(F, up, n_active, v)
        j, gmax2 = -1, -np.inf
        if i >= 0:
            si = hit(i, n_active, epoch, slot_of, meta, orig)
            if si < 0:
                si = fetch(i, n_active, epoch, *cx)
            j, gmax2 = select_j(i, m, F, low, QD, cache, si, n_active, v, low_f)
        if m + gmax2 < tol or j < 0:
            if n_active < n:
                # optimal on the active set: rebuild ∇, recheck on every variable
                _reconstruct(n_active, y, a, F, epoch, cx, Gbuf)
                n_active = n
                i, m, j, gmax2 = _working_pair(n_active, epoch, F, up, low, QD, v, low_f, cx)
                counter = 1  # shrink again at the next step
            if tracked and (m + gmax2 < tol or j < 0):
                # the gap holds for the exact gradient too if the drift cannot close it
                # (4×: the intercept, made from this F, must meet tol as well)
                exact = max(m + gmax2, 0.0) + 4.0 * drift_unit * moved + 1e-12 < tol
            if (m + gmax2 < tol or j < 0) and not exact and rechecks > 0:
                # float32 rows: measure the gap again on the exact float64 gradient, and go
                # on from it (with the same rows) if it is not met there
                rechecks -= 1
                _exact(X, y, a, F, orig, kern)
                i, m, j, gmax2 = _working_pair(n_active, epoch, F, up, low, QD, v, low_f, cx)
                exact = m + gmax2 < tol or j < 0
                tracked = True
                moved = 0.0
                counter = period  # a short finish runs unshrunk, under the drift bound
            if m + gmax2 < tol or j < 0:
                status = 0 if exact else 1
                break
        it += 1
        exact = rechecks < 0
        counts[2] += n_active
        sj = hit(j, n_active, epoch, slot_of, meta, orig)
        if sj < 0:
            sj = fetch(j, n_active, epoch, *cx)
        si = hit(i, n_active, epoch, slot_of, meta, orig)
        if si < 0:
            si = fetch(i, n_active, epoch, *cx)
        di, dj = _step(i, j, y, C, a, F, QD, cache[si, j])
        _flag(i, y, C, a, up, low)
        _flag(j, y, C, a, up, low)
        moved += abs(di) + abs(dj)
        i, m = update_select(F, up, cache, si, sj, di, dj, n_active, v)
    if n_active < n:
        _reconstruct(n_active, y, a, F, epoch, cx, Gbuf)
    for t in range(n):
        alpha[orig[t]] = a[t]
        G[orig[t]] = -y[t] * F[t]
    return it, status


def solve_dual(X, y, C, kern, tol, max_iter, cache_mb, alpha, G, shrinking, counts):
    """Run ``smo`` from (alpha, G) with a row cache of ``cache_mb`` MB. With float32 rows,
    then make ∇ exact and, if its KKT gap is ≥ tol, go on with a float64 cache. Returns
    (steps, status)."""
    n = len(y)

    def cache(dt):
        rows = int(cache_mb * 2**20 // (np.dtype(dt).itemsize * n))
        return np.empty((max(2, min(n, rows)), n), dtype=dt)

    # float32 rows where they pay: an rbf kernel (full rank, so rounding Q to float32 keeps
    # it positive definite) whose float64 rows would not all fit. Low-rank kernels (linear,
    # poly) turn slightly indefinite in float32 and then need up to 4× the steps.
    single = kern[0] == KERNEL_CODES["rbf"] and cache_mb * 2**20 < 8.0 * n * n
    dtype = np.float32 if single else np.float64
    # below 1e-8 the float32 model's own error dominates; a phase that cannot finish hands
    # over to float64 after a budget
    tol32 = max(tol, SINGLE_TOL) if single else tol
    budget = min(max_iter, max(SINGLE_STEPS, 100 * n)) if single else max_iter

    it, status = smo(X, y, C, *kern, tol32, budget, cache(dtype), alpha, G, shrinking, counts)
    # status 0 at tol32 = tol: smo certified the stop on the exact gradient already
    if single and (status or tol32 > tol):
        G[:] = exact_gradient(X, y, alpha, kern)
        if kkt_gap(y, C, alpha, G) < tol:
            status = 0
        elif it < max_iter:
            more, status = smo(
                X, y, C, *kern, tol, max_iter - it, cache(np.float64), alpha, G, shrinking, counts
            )
            it += more
    return it, status
