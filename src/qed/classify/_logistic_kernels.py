"""Per-sample terms of the logistic / softmax loss, fused into single compiled passes.

numpy would spend four transcendental calls and a temporary per element on what one exp and
one log1p per element give (the loss, the residual σ − y and the IRLS weight σ(1 − σ) all
follow from e = exp(−|z|): −log σ(±z) = log1p(e) + max(∓z, 0), σ(z) = 1/(1 + e) for z ≥ 0 and
e/(1 + e) otherwise, σ(z)σ(−z) = e/(1 + e)²: no overflow, no cancellation; the exponentials
(and the softmax's logs) of a block of rows are taken together by ``qed._vmath``. The two
matrix products of a gradient or of a Hessian-vector product are fused into one sweep over X,
for the sigmoid and, on a dense X, for the softmax. The dense kernels are serial on purpose
(numba's thread pool spinning against OpenBLAS's on a small shared machine cost far more than
the second core gave) and release the GIL, so that callers may run several on threads
(``LogisticRegressionCV(n_jobs=)``). The sparse pass (``binary_sparse_pass``) runs its row blocks
on ``qed._sparse_kernels.run_blocks``'s threads, which never spin, under one BLAS thread
(``blas_single_thread``): on the 200,000 × 50,000 benchmark a pass takes 20 ms on one core and
10 ms on two.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed import _sparse_kernels as SK
from qed._vmath import vexp, vlog

__all__ = [
    "binary_pass",
    "binary_sparse_pass",
    "binary_hessp_pass",
    "pad8",
    "softmax_pass",
    "softmax_hessp_pass",
    "softmax_terms",
    "softmax_hess_terms",
    "max_abs",
]

# reassociation lets the row dot products vectorise; no assumption about NaN/inf is made
FASTMATH = {"reassoc", "contract", "nsz"}
CHUNK = 2048  # rows per partial gradient: bounds the rounding of the long sums
BLOCK = 256  # rows whose exponentials are taken together (``vexp``); 100 KB of X at d = 50


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _dots4(x0, x1, x2, x3, w, b):
    """bᵢ + xᵢᵀw for four rows on one sweep over w: four independent sums per loaded wⱼ
    (a row at a time left the pass a third slower than reading X)."""
    u0 = u1 = u2 = u3 = b
    for j in range(w.size):
        wj = w[j]
        u0 += x0[j] * wj
        u1 += x1[j] * wj
        u2 += x2[j] * wj
        u3 += x3[j] * wj
    return u0, u1, u2, u3


@njit(cache=True, fastmath=FASTMATH, inline="always")
def _axpy4(g, x0, x1, x2, x3, r0, r1, r2, r3):
    """g ← g + Σₐ rₐ[xₐ, 1] for four rows (g has the intercept's entry last)."""
    d = x0.size
    for j in range(d):
        g[j] += (r0 * x0[j] + r1 * x1[j]) + (r2 * x2[j] + r3 * x3[j])
    g[d] += (r0 + r1) + (r2 + r3)


@njit(cache=True, error_model="numpy", fastmath=False)
def _sigmoid_terms(z, e, bits, y, sw, lo, r, wts, s0, e_min, prod):
    """The per-sample terms of a block of scores z (rows lo … lo + len(z)): rₐ = s(σ − y)
    and the IRLS weights s·σσ' (into ``wts`` at the rows), from one ``vexp`` of −|z| for the
    block. Returns (Σ of the loss terms taken directly, the running product Π(1 + eᵢ)).

    The terms sᵢ·log1p(eᵢ) of the rows with the common weight s₀ (all rows, without sample
    weights) are summed as s₀·log Πᵢ(1 + eᵢ) by the caller: one log per ~2⁵⁰⁰ of product
    instead of one log1p per row. That adds at most s₀·eps/2 of absolute rounding per row
    (rounding 1 + eᵢ and the product), below the rounding of the n-term sum (n·eps·f) for
    rows with log1p(eᵢ) ≥ 2/n; so only rows with eᵢ ≥ e_min = 4/n take the product, the
    others (and other weights) log1p.
    """
    m = z.size
    for a in range(m):
        e[a] = -abs(z[a])
    vexp(e[:m], bits[:m])
    f = 0.0
    for a in range(m):
        i = lo + a
        za, ea = z[a], e[a]
        inv = 1.0 / (1.0 + ea)
        sig = inv if za >= 0 else ea * inv
        t = za if y[i] > 0.5 else -za
        s = sw[i]
        if s == s0 and ea >= e_min:
            prod *= 1.0 + ea
            if prod > 1e150:  # 1 + e ≤ 2: renormalise long before overflow
                f += s0 * np.log(prod)
                prod = 1.0
            f += s * (-t if t < 0 else 0.0)
        else:
            f += s * (np.log1p(ea) + (-t if t < 0 else 0.0))
        r[a] = s * (sig - y[i])
        wts[i] = s * ea * inv * inv
    return f, prod


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
def binary_pass(X, w, b, y, sw, find_max):
    """One pass over X for the sigmoid: zᵢ = wᵀxᵢ + b, then (Σ sᵢ(−log pᵢ), ∇ (d + 1,), s·σσ',
    max|xᵢⱼ| or 0.0).

    Fuses the two matrix-vector products of the gradient Σ sᵢ(σᵢ − yᵢ)[xᵢ, 1] into a single
    sweep over the rows, with one exp per sample (see the module docstring), taken for a
    block of ``BLOCK`` rows at once by ``vexp`` (numba's scalar exp was half of the pass);
    the block's rows are still in cache when their residuals are scattered back. With
    ``find_max`` it records max|X| on the way: the gradient's rounding level needs it once,
    and a pass of its own would read X once more. The loss terms: ``_sigmoid_terms``.
    """
    n, d = X.shape
    nchunks = (n + CHUNK - 1) // CHUNK
    G = np.zeros((nchunks, d + 1))
    F = np.zeros(nchunks)
    col_max = np.zeros(d)
    wts = np.empty(n)
    z = np.empty(BLOCK)
    e = np.empty(BLOCK)
    r = np.empty(BLOCK)
    bits = np.empty(BLOCK, dtype=np.int64)
    e_min = 4.0 / n if n >= 8 else 2.0  # e ≤ 1: 2.0 sends every row to log1p
    s0 = sw[0] if n else 1.0
    for c in range(nchunks):
        f = 0.0
        prod = 1.0
        stop = min(n, (c + 1) * CHUNK)
        for lo in range(c * CHUNK, stop, BLOCK):
            m = min(BLOCK, stop - lo)
            a = 0
            if not find_max:
                while a + 4 <= m:
                    i = lo + a
                    z[a], z[a + 1], z[a + 2], z[a + 3] = _dots4(
                        X[i], X[i + 1], X[i + 2], X[i + 3], w, b
                    )
                    a += 4
            while a < m:
                i = lo + a
                acc = b
                if find_max:  # per-column maxima keep the dot product vectorised
                    for j in range(d):
                        x = X[i, j]
                        acc += x * w[j]
                        col_max[j] = max(col_max[j], abs(x))
                else:
                    for j in range(d):
                        acc += X[i, j] * w[j]
                z[a] = acc
                a += 1
            df, prod = _sigmoid_terms(z[:m], e, bits, y, sw, lo, r, wts, s0, e_min, prod)
            f += df
            g = G[c]
            a = 0
            while a + 4 <= m:
                i = lo + a
                _axpy4(g, X[i], X[i + 1], X[i + 2], X[i + 3], r[a], r[a + 1], r[a + 2], r[a + 3])
                a += 4
            while a < m:
                ra = r[a]
                for j in range(d):
                    g[j] += ra * X[lo + a, j]
                g[d] += ra
                a += 1
        F[c] = f + s0 * np.log(prod)
    return F.sum(), G.sum(axis=0), wts, col_max.max() if d else 0.0


@njit(nogil=True, cache=True, error_model="numpy")
def _binary_sparse_block(indptr, indices, data, w, b, y, sw, lo, hi, acc, wts):  # pragma: no cover
    """Rows lo … hi of ``binary_sparse_pass``: scores gathered ``BLOCK`` rows at a time, their
    terms from one ``vexp`` (``_sigmoid_terms``), the residuals scattered back."""
    d = w.size
    n = indptr.size - 1
    z, e, r = np.empty(BLOCK), np.empty(BLOCK), np.empty(BLOCK)
    bits = np.empty(BLOCK, dtype=np.int64)
    e_min = 4.0 / n if n >= 8 else 2.0
    s0 = sw[0]
    f, prod = 0.0, 1.0
    for start in range(lo, hi, BLOCK):
        m = min(BLOCK, hi - start)
        for a in range(m):
            acc_z = b
            for k in range(indptr[start + a], indptr[start + a + 1]):
                acc_z += data[k] * w[indices[k]]
            z[a] = acc_z
        df, prod = _sigmoid_terms(z[:m], e, bits, y, sw, start, r, wts, s0, e_min, prod)
        f += df
        for a in range(m):
            ra = r[a]
            for k in range(indptr[start + a], indptr[start + a + 1]):
                acc[indices[k]] += ra * data[k]
            acc[d] += ra
    return f + s0 * np.log(prod)


def binary_sparse_pass(indptr, indices, data, w, b, y, sw, bounds):
    """``binary_pass`` for a CSR X: (Σ sᵢ(−log pᵢ), ∇ (d + 1,), s·σσ') in one pass.

    Row i's score zᵢ = wᵀxᵢ + b is gathered and its residual sᵢ(σᵢ − yᵢ) scattered back as
    rᵢxᵢ while the row is in cache, where two sparse products would read X twice. The rows
    are cut into the fixed blocks ``bounds`` (``qed._sparse_kernels.row_blocks``), each with
    its own partial gradient, run on ``run_blocks``'s threads and added in order: the result
    does not depend on the number of threads. ``indptr`` and ``indices`` as given by
    ``qed._sparse_kernels.csr_arrays``.
    """
    nb, d = bounds.size - 1, w.size
    acc, F = np.zeros((nb, d + 1)), np.zeros(nb)
    wts = np.empty(indptr.size - 1)

    def job(blk):
        lo, hi = bounds[blk], bounds[blk + 1]
        F[blk] = _binary_sparse_block(indptr, indices, data, w, b, y, sw, lo, hi, acc[blk], wts)

    SK.run_blocks(job, nb)
    return float(F.sum()), SK.sum_blocks(acc, np.empty(d + 1)), wts


@njit(cache=True, fastmath=FASTMATH, nogil=True)
def binary_hessp_pass(X, v, vb, s):
    """One pass over X: Σᵢ sᵢ(vᵀxᵢ + v_b)[xᵢ, 1], the product X̃ᵀ diag(s) X̃ [v, v_b].

    Summed in X's dtype (v, v_b and s given in it): float32 is ~4× faster at 40,000 × 50."""
    n, d = X.shape
    nchunks = (n + CHUNK - 1) // CHUNK
    G = np.zeros((nchunks, d + 1), dtype=X.dtype)
    for c in range(nchunks):
        g = G[c]
        i, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        while i + 4 <= hi:  # four rows at a time (``_dots4``): 0.54 → 0.36 ms at 40,000 × 50
            x0, x1, x2, x3 = X[i], X[i + 1], X[i + 2], X[i + 3]
            u0, u1, u2, u3 = _dots4(x0, x1, x2, x3, v, vb)
            _axpy4(g, x0, x1, x2, x3, s[i] * u0, s[i + 1] * u1, s[i + 2] * u2, s[i + 3] * u3)
            i += 4
        while i < hi:
            u = vb
            for j in range(d):
                u += X[i, j] * v[j]
            r = s[i] * u
            for j in range(d):
                g[j] += r * X[i, j]
            g[d] += r
            i += 1
    return G.sum(axis=0)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _scores8(row, W8, b8, z):
    """z[q] = b8[q] + W8[q]·row for every q: ``_scores8x2`` with the row as both rows (the
    passes take rows in pairs; this serves a chunk's odd last row)."""
    _scores8x2(row, row, W8, b8, z, z)


def pad8(W, b):
    """(W8, b8): W (k, d) and b (k,) padded with zero rows to a multiple of 8 (``_scores8``)."""
    k, d = W.shape
    kp = -(-k // 8) * 8
    W8, b8 = np.zeros((kp, d), dtype=W.dtype), np.zeros(kp, dtype=W.dtype)
    W8[:k], b8[:k] = W, b
    return W8, b8


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
def softmax_pass(X, W8, b8, k, codes, sw):
    """One pass over a dense X for the softmax: (Σ sᵢ(−log p_{i,yᵢ}), the data part of ∇f
    (k, d + 1), P (n, k)), zᵢ = Wxᵢ + b for the k classes (W8, b8 from ``pad8``).

    Per block of ``BLOCK`` rows: the k scores of each row as k dot products over the row,
    shifted by their maximum (log-sum-exp), exponentiated together by ``vexp``, normalised,
    and the residuals sᵢ(pᵢ − yᵢ) scattered back as Σᵢ rᵢₘx̃ᵢ while the block is in cache.
    Where BLAS did XWᵀ and RᵀX as two skinny products (reading X twice) and numba's scalar
    exp did the rest, this pass took less than half the time at k = 5, d = 50.
    """
    n, d = X.shape
    nchunks = (n + CHUNK - 1) // CHUNK
    G = np.zeros((nchunks, k, d + 1))
    F = np.zeros(nchunks)
    P = np.empty((n, k))
    z = np.empty(W8.shape[0])
    z1 = np.empty(W8.shape[0])
    e = np.empty(BLOCK * k)
    logs, tots = np.empty(BLOCK), np.empty(BLOCK)
    bits = np.empty(BLOCK * k, dtype=np.int64)
    for c in range(nchunks):
        f = 0.0
        stop = min(n, (c + 1) * CHUNK)
        for lo in range(c * CHUNK, stop, BLOCK):
            m = min(BLOCK, stop - lo)
            for a in range(m):
                i = lo + a
                if a % 2 == 0:  # the scores of rows a and a + 1 in one sweep
                    if a + 1 < m:
                        _scores8x2(X[i], X[i + 1], W8, b8, z, z1)
                    else:
                        _scores8(X[i], W8, b8, z)
                else:
                    z[:k] = z1[:k]
                top = -np.inf
                for q in range(k):
                    e[a * k + q] = z[q]
                    top = max(top, z[q])
                f += sw[i] * (top - e[a * k + codes[i]])
                for q in range(k):
                    e[a * k + q] -= top
            vexp(e[: m * k], bits[: m * k])
            for a in range(m):
                total = 0.0
                for q in range(k):
                    total += e[a * k + q]
                tots[a] = total
                logs[a] = total
            vlog(logs[:m], bits[:m])
            for a in range(m):
                i = lo + a
                inv = 1.0 / tots[a]
                si = sw[i]
                f += si * logs[a]
                for q in range(k):
                    p = e[a * k + q] * inv
                    P[i, q] = p
                    e[a * k + q] = si * p
                e[a * k + codes[i]] -= si
            Gc = G[c]
            a = 0
            while a + 2 <= m:  # rows in pairs: one load of G's row for both
                r0, r1 = X[lo + a], X[lo + a + 1]
                for q in range(k):
                    p0, p1 = e[a * k + q], e[(a + 1) * k + q]
                    gq = Gc[q]
                    for j in range(d):
                        gq[j] += p0 * r0[j] + p1 * r1[j]
                    gq[d] += p0 + p1
                a += 2
            if a < m:
                row = X[lo + a]
                for q in range(k):
                    rq = e[a * k + q]
                    gq = Gc[q]
                    for j in range(d):
                        gq[j] += rq * row[j]
                    gq[d] += rq
        F[c] = f
    return F.sum(), G.sum(axis=0), P


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", nogil=True)
def softmax_hessp_pass(X, V8, vb8, P, sw):
    """One pass over a dense X: the data part of the softmax's ∇²f·[V vb] (k, d + 1), with
    V8, vb8 from ``pad8`` and k = P.shape[1].

    Row i: uᵢ = Vxᵢ + vb (``_scores8``), rᵢ = sᵢ(pᵢ ⊙ uᵢ − pᵢ(pᵢᵀuᵢ)), then Σᵢ rᵢₘx̃ᵢ. Rows go
    in pairs (``_scores8x2``, one load of G's row for both): 4.2 → 3.3 ms at 40,000 × 50,
    k = 5. Computed in X's dtype: float32 arrays throughout give a float32 pass (~20% faster
    there), for CG's search directions (``_logistic_solvers._Curvature.matvec``).
    """
    n, d = X.shape
    k = P.shape[1]
    nchunks = (n + CHUNK - 1) // CHUNK
    G = np.zeros((nchunks, k, d + 1), dtype=X.dtype)
    u0 = np.empty(V8.shape[0], dtype=X.dtype)
    u1 = np.empty(V8.shape[0], dtype=X.dtype)
    zero = np.zeros(1, dtype=X.dtype)[0]  # a 0.0 literal would promote float32 sums to float64
    for c in range(nchunks):
        Gc = G[c]
        i, hi = c * CHUNK, min(n, (c + 1) * CHUNK)
        while i + 2 <= hi:
            x0, x1 = X[i], X[i + 1]
            _scores8x2(x0, x1, V8, vb8, u0, u1)
            dot0 = dot1 = zero
            for q in range(k):
                u0[q] *= P[i, q]
                dot0 += u0[q]
                u1[q] *= P[i + 1, q]
                dot1 += u1[q]
            s0, s1 = sw[i], sw[i + 1]
            for q in range(k):
                r0 = s0 * (u0[q] - P[i, q] * dot0)
                r1 = s1 * (u1[q] - P[i + 1, q] * dot1)
                gq = Gc[q]
                for j in range(d):
                    gq[j] += r0 * x0[j] + r1 * x1[j]
                gq[d] += r0 + r1
            i += 2
        if i < hi:  # the chunk's odd last row
            _softmax_hessp_row(X[i], V8, vb8, P[i], sw[i], u0, Gc, zero)
    return G.sum(axis=0)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _softmax_hessp_row(row, V8, vb8, p, si, u, Gc, zero):
    """Gc += rᵢx̃ᵢᵀ for one row: uᵢ = Vxᵢ + vb, rᵢ = sᵢ(pᵢ ⊙ uᵢ − pᵢ(pᵢᵀuᵢ)); ``zero`` in
    the row's dtype."""
    k, d = p.size, row.size
    _scores8(row, V8, vb8, u)
    dot = zero
    for q in range(k):
        u[q] *= p[q]
        dot += u[q]
    for q in range(k):
        rq = si * (u[q] - p[q] * dot)
        gq = Gc[q]
        for j in range(d):
            gq[j] += rq * row[j]
        gq[d] += rq


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _scores8x2(r0, r1, W8, b8, z0, z1):
    """z0[q] = b8[q] + W8[q]·r0 and z1[q] = b8[q] + W8[q]·r1 for every q, in one sweep.

    W8 (8·g, d) holds the k score vectors padded with zero rows to a multiple of 8, so that
    one load of each row entry feeds eight independent sums (LLVM vectorises each): a loop
    of k separate dot products took 1.75× as long at k = 5, d = 50. Each load of W8 then
    feeds both rows' sums.
    """
    d = r0.size
    for g in range(0, W8.shape[0], 8):
        w0, w1, w2, w3 = W8[g], W8[g + 1], W8[g + 2], W8[g + 3]
        w4, w5, w6, w7 = W8[g + 4], W8[g + 5], W8[g + 6], W8[g + 7]
        # each sum starts at its shift: typed like b8, so float32 data sum in float32
        a0 = c0 = b8[g]
        a1 = c1 = b8[g + 1]
        a2 = c2 = b8[g + 2]
        a3 = c3 = b8[g + 3]
        a4 = c4 = b8[g + 4]
        a5 = c5 = b8[g + 5]
        a6 = c6 = b8[g + 6]
        a7 = c7 = b8[g + 7]
        for j in range(d):
            x, y = r0[j], r1[j]
            a0 += x * w0[j]
            c0 += y * w0[j]
            a1 += x * w1[j]
            c1 += y * w1[j]
            a2 += x * w2[j]
            c2 += y * w2[j]
            a3 += x * w3[j]
            c3 += y * w3[j]
            a4 += x * w4[j]
            c4 += y * w4[j]
            a5 += x * w5[j]
            c5 += y * w5[j]
            a6 += x * w6[j]
            c6 += y * w6[j]
            a7 += x * w7[j]
            c7 += y * w7[j]
        _store8(z0, g, a0, a1, a2, a3, a4, a5, a6, a7)
        _store8(z1, g, c0, c1, c2, c3, c4, c5, c6, c7)


@njit(cache=True, fastmath=FASTMATH, error_model="numpy", inline="always")
def _store8(z, g, s0, s1, s2, s3, s4, s5, s6, s7):
    """z[g + q] = s_q for q < 8: one score group's sums."""
    z[g], z[g + 1], z[g + 2], z[g + 3] = s0, s1, s2, s3
    z[g + 4], z[g + 5], z[g + 6], z[g + 7] = s4, s5, s6, s7


@njit(cache=True)
def softmax_terms(Z, codes, sw):
    """Σᵢ sᵢ(−log p_{i,yᵢ}), P = softmax(Z) by rows and R = s·(P − Y); Z (n, k) unchanged.

    Each row is shifted by its maximum before exponentiating (log-sum-exp).
    """
    n, k = Z.shape
    P = np.empty((n, k))
    R = np.empty((n, k))
    total = 0.0
    for i in range(n):
        m = Z[i, 0]
        for c in range(1, k):
            if Z[i, c] > m:
                m = Z[i, c]
        s = 0.0
        for c in range(k):
            e = np.exp(Z[i, c] - m)
            P[i, c] = e
            s += e
        inv = 1.0 / s
        for c in range(k):
            P[i, c] *= inv
            R[i, c] = sw[i] * P[i, c]
        yi = codes[i]
        R[i, yi] -= sw[i]
        total += sw[i] * (np.log(s) + m - Z[i, yi])
    return total, P, R


@njit(cache=True)
def softmax_hess_terms(U, P, sw):
    """In place, row by row: uᵢ ← sᵢ·(pᵢ ⊙ uᵢ − pᵢ(pᵢᵀuᵢ)), the softmax Hessian's middle factor."""
    n, k = U.shape
    for i in range(n):
        dot = 0.0
        for c in range(k):
            U[i, c] *= P[i, c]
            dot += U[i, c]
        for c in range(k):
            U[i, c] = sw[i] * (U[i, c] - P[i, c] * dot)
    return U


@njit(cache=True, nogil=True)
def max_abs(X):
    """max |xᵢⱼ| in one pass, without numpy's n×d temporary for np.abs(X)."""
    m = 0.0
    flat = X.ravel()
    for i in range(flat.shape[0]):
        v = abs(flat[i])
        if v > m:
            m = v
    return m
