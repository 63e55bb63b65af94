"""The SVM dual's exact float64 gradient ∇ = Qα − 1 and KKT gap, for the SMO's checks.

When the SMO caches its kernel rows in float32 (``_smo``), its gradient carries their
rounding; these recompute it from the support vectors in float64, with the kernel entries
made as the solver's own (``_fill``), in blocks of rows on a pool of threads (not numba's
OpenMP prange, whose spinning barrier crawls on a loaded machine: see ``run_blocks``).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed._sparse_kernels import MAX_BLOCKS, run_blocks
from qed.classify._svm_kernels import PRECOMPUTED, _fill

__all__ = ["exact_F", "exact_gradient", "kkt_gap"]


def exact_gradient(X, y, alpha, kern) -> np.ndarray:
    """∇ = Qα − 1 in float64, Qₜₛ = yₜyₛK(xₜ, xₛ), from the support vectors only; X (n, d) or
    the (n, n) Gram matrix; returns shape (n,). Kernel entries are made as the solver's
    (``_fill``), in blocks of rows on all cores (``run_blocks``), and never stored."""
    sv = np.flatnonzero(alpha > 0)
    coef = y[sv] * alpha[sv]
    if kern[0] == PRECOMPUTED:
        return y * (X[:, sv] @ coef) - 1.0
    X = np.ascontiguousarray(X)
    XT_sv = np.ascontiguousarray(X[sv].T)
    G = np.empty(len(y))
    bounds = np.linspace(0, len(y), min(MAX_BLOCKS, max(1, len(y) // 256)) + 1).astype(np.int64)
    run_blocks(
        lambda b: _gradient_block(X, XT_sv, coef, y, kern, G, bounds[b], bounds[b + 1]),
        len(bounds) - 1,
    )
    return G


def exact_F(X, y, a, F, orig, kern) -> None:
    """F ← −y ⊙ (Qα − 1) in float64 on the SMO's working order orig (y, a, F are in it; X is
    in the original order). Called from the compiled solver through ``objmode``."""
    F[:] = -y * exact_gradient(X[orig], y, a, kern)


@njit(cache=True, nogil=True)
def _gradient_block(X, XT_sv, coef, y, kern, G, lo, hi):
    """G[t] = yₜ Σₛ K(xₜ, x_s) coefₛ − 1 for the rows lo ≤ t < hi of X; XT_sv (d, n_SV)."""
    k = XT_sv.shape[1]
    out = np.empty(k)
    acc = np.empty(k)
    bits = np.empty(k, dtype=np.int64)
    for t in range(lo, hi):
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
