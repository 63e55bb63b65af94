"""The SVM's kernels for the compiled SMO: integer codes, single entries, whole rows.

K(x, z) is xᵀz (linear), (γxᵀz + c₀)^degree (poly), exp(−γ‖x − z‖²) (rbf), tanh(γxᵀz + c₀)
(sigmoid), or read from a precomputed Gram matrix. ``_fill`` computes a stretch of a row the
way the solver needs it (the samples in a range of its working order), and
``kernel_matrix`` a whole block with BLAS for prediction.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed._rbf import rbf_matrix
from qed._vmath import vexp as _vexp

__all__ = ["KERNEL_CODES", "PRECOMPUTED", "kernel_matrix", "kernel_diag", "cross_kernel"]

# integer codes of the kernels the compiled solver evaluates itself; "precomputed" reads K
# from the matrix passed in place of X (a callable kernel is turned into that matrix first)
KERNEL_CODES = {"linear": 0, "poly": 1, "rbf": 2, "sigmoid": 3, "precomputed": 4}
PRECOMPUTED = KERNEL_CODES["precomputed"]


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


FILL_CHUNK = 1024  # entries of a kernel row computed together (8 KB of float64 sums)


@njit(cache=True, inline="always")
def _add4(part, XT, x, f, lo, hi, squares):
    """part += the terms of features f … f + 3 for the samples lo … hi, in feature order:
    (xₜ − x)² for the rbf distance, x·xₜ for the dot products."""
    x0, x1, x2, x3 = x[f], x[f + 1], x[f + 2], x[f + 3]
    k0, k1, k2, k3 = XT[f, lo:hi], XT[f + 1, lo:hi], XT[f + 2, lo:hi], XT[f + 3, lo:hi]
    if squares:
        for a in range(hi - lo):
            p = part[a]
            t = k0[a] - x0
            p += t * t
            t = k1[a] - x1
            p += t * t
            t = k2[a] - x2
            p += t * t
            t = k3[a] - x3
            p += t * t
            part[a] = p
    else:
        for a in range(hi - lo):
            p = part[a]
            p += x0 * k0[a]
            p += x1 * k1[a]
            p += x2 * k2[a]
            p += x3 * k3[a]
            part[a] = p


@njit(cache=True)
def _fill(x, XT, lo, hi, kern, row, acc, bits):
    """row[lo:hi] = K(x, XT[:, t]) for t in [lo, hi); x (d,) one sample, XT (d, n) samples.

    The entries are computed in float64 in the scratch ``acc`` (n,) and then stored, so that
    a float32 ``row`` (the SMO's cache) holds the correctly rounded float64 value.

    The sums run over the features in order, as ``_entry``'s, but column by column of Xᵀ so
    that the loop over samples is contiguous and vectorises. (The loops run over slices from
    0: a range(lo, hi) index makes numba guard against negative indices, which stops LLVM's
    vectoriser and made a row four times slower.)
    """
    kind, gamma, coef0, degree = kern
    m = hi - lo
    out = acc[:m]
    out[:] = 0.0
    d = XT.shape[0]
    for c0 in range(0, m, FILL_CHUNK):
        # a chunk of the row stays in L1 while every feature is added in (the whole row,
        # swept once per feature, went through L2 each time: 92 → 68 µs a row, n = 20,000)
        c1 = min(m, c0 + FILL_CHUNK)
        part = out[c0:c1]
        f = 0
        while f + 4 <= d:
            # four features per sweep, added one after the other as _entry adds them (the
            # same sums, bit for bit), with one load and store of the partial sum: −17%
            _add4(part, XT, x, f, lo + c0, lo + c1, kind == 2)
            f += 4
        while f < d:
            xf = x[f]
            col = XT[f, lo + c0 : lo + c1]
            if kind == 2:
                for a in range(c1 - c0):
                    diff = col[a] - xf
                    part[a] += diff * diff
            else:
                for a in range(c1 - c0):
                    part[a] += xf * col[a]
            f += 1
    if kind == 2:
        for a in range(m):
            out[a] *= -gamma
        _vexp(out, bits[:m])
    elif kind == 1:
        if degree == np.floor(degree) and 0 <= degree <= 64:
            # an integer power by products, the order of libsvm's powi, instead of numba's
            # pow call per entry (which made poly rows several times slower than libsvm's)
            e = int(degree)
            for a in range(m):
                base = gamma * out[a] + coef0
                p = 1.0
                t = e
                while t > 0:
                    if t % 2 == 1:
                        p *= base
                    base *= base
                    t //= 2
                out[a] = p
        else:
            for a in range(m):
                out[a] = (gamma * out[a] + coef0) ** degree
    elif kind == 3:
        for a in range(m):
            out[a] = np.tanh(gamma * out[a] + coef0)
    row[lo:hi] = out


def kernel_matrix(A, B, kind, gamma, coef0, degree):
    """K(A, B) of shape (len(A), len(B)) with BLAS: linear ABᵀ, poly (γABᵀ + c₀)^degree,
    sigmoid tanh(γABᵀ + c₀), rbf exp(−γ‖a − b‖²) by ‖a‖² + ‖b‖² − 2aᵀb."""
    if kind == KERNEL_CODES["rbf"]:
        return rbf_matrix(A, B, gamma)
    G = A @ B.T
    if kind == KERNEL_CODES["linear"]:
        return G
    if kind == KERNEL_CODES["poly"]:
        return (gamma * G + coef0) ** degree
    if kind == KERNEL_CODES["sigmoid"]:
        return np.tanh(gamma * G + coef0)
    raise ValueError(f"unknown kernel code {kind}")


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


def cross_kernel(G, rows, cols, kern) -> np.ndarray:
    """K between samples rows and cols: a block of G when precomputed, else from X = G.

    kern = (kind, γ, coef0, degree); returns shape (len(rows), len(cols)).
    """
    if kern[0] == PRECOMPUTED:
        return G[np.ix_(rows, cols)]
    return kernel_matrix(G[rows], G[cols], *kern)
