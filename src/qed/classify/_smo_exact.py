"""The SVM dual's exact float64 gradient ∇ = Qα − 1 and KKT gap, for the SMO's checks.

When the SMO caches its kernel rows in float32 (``_smo``), its gradient carries their
rounding; these recompute it from the support vectors in float64, with the kernel entries
made as the solver's own (``_fill``), on all cores, never stored.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from qed.classify._svm_kernels import PRECOMPUTED, _fill

__all__ = ["exact_F", "exact_gradient", "kkt_gap"]


def exact_gradient(X, y, alpha, kern) -> np.ndarray:
    """∇ = Qα − 1 in float64, Qₜₛ = yₜyₛK(xₜ, xₛ), from the support vectors only; X (n, d) or
    the (n, n) Gram matrix; returns shape (n,). Kernel entries are made as the solver's
    (``_fill``), row by row on all cores, and never stored."""
    sv = np.flatnonzero(alpha > 0)
    coef = y[sv] * alpha[sv]
    if kern[0] == PRECOMPUTED:
        return y * (X[:, sv] @ coef) - 1.0
    G = np.empty(len(y))
    _gradient_rows(X, np.ascontiguousarray(X[sv].T), coef, y, kern, G)
    return G


@njit(cache=True)
def exact_F(X, y, a, F, orig, kern):
    """F ← −y ⊙ (Qα − 1) in float64, in the working order orig (y, a, F are in it)."""
    sv = np.flatnonzero(a > 0)
    coef = y[sv] * a[sv]
    XT_sv = np.empty((X.shape[1], len(sv)))
    for k in range(len(sv)):
        XT_sv[:, k] = X[orig[sv[k]]]
    Xw = np.empty_like(X)
    for t in range(len(orig)):
        Xw[t] = X[orig[t]]
    G = np.empty(len(y))
    _gradient_rows(Xw, XT_sv, coef, y, kern, G)
    for t in range(len(y)):
        F[t] = -y[t] * G[t]


@njit(cache=True, parallel=True)
def _gradient_rows(X, XT_sv, coef, y, kern, G):
    """G[t] = yₜ Σₛ K(xₜ, x_s) coefₛ − 1 for every row t of X; XT_sv (d, n_SV)."""
    n = X.shape[0]
    k = XT_sv.shape[1]
    rows = 64
    for blk in prange((n + rows - 1) // rows):
        out = np.empty(k)
        acc = np.empty(k)
        bits = np.empty(k, dtype=np.int64)
        for t in range(blk * rows, min(n, blk * rows + rows)):
            _fill(X[t], XT_sv, 0, k, kern, out, acc, bits)
            G[t] = y[t] * np.dot(out, coef) - 1.0


def kkt_gap(y, C, alpha, G) -> float:
    """m(α) − M(α) = max_{I_up}(−y∇) − min_{I_low}(−y∇) (−∞ when either set is empty)."""
    F = -y * G
    pos = y > 0
    up = np.where(pos, alpha < C, alpha > 0)
    low = np.where(pos, alpha > 0, alpha < C)
    if not up.any() or not low.any():
        return -np.inf
    return float(F[up].max() - F[low].min())
