"""One-vs-one bookkeeping of the SVC: libsvm's layout of the pairwise duals, and the votes.

For k classes SVC solves k(k − 1)/2 binary duals, pair (a, b) with a < b and class a as +1.
scikit-learn (after libsvm) stores them in one (k − 1, n_SV) array ``dual_coef_``: the
support vectors are grouped by class, and the coefficient of an SV of class c in the pair
(c, o) sits in row o − 1 if o > c, else in row o.
"""

from __future__ import annotations

import numpy as np

__all__ = ["intercept", "store_pairs", "pair_slices", "votes", "ovr_from_ovo"]


def intercept(alpha: np.ndarray, G: np.ndarray, y: np.ndarray, C: np.ndarray) -> float:
    """b = −ρ: the mean of yᵢ − wᵀxᵢ over free SVs (0 < αᵢ < Cᵢ), as the notes' b = yᵢ − wᵀxᵢ.

    With G = Qα − 1, yᵢGᵢ = wᵀxᵢ − yᵢ. Without free SVs, ρ is the midpoint of the interval
    the KKT conditions allow (libsvm's rule). alpha, G, y, C : (n,).
    """
    yG = y * G
    free = (alpha > 0) & (alpha < C)
    if free.any():
        return -float(yG[free].mean())
    upper = alpha >= C
    lower = alpha <= 0
    ub_mask = (upper & (y < 0)) | (lower & (y > 0))
    lb_mask = (upper & (y > 0)) | (lower & (y < 0))
    ub = yG[ub_mask].min(initial=np.inf)
    lb = yG[lb_mask].max(initial=-np.inf)
    return -0.5 * (ub + lb) if np.isfinite(ub + lb) else -float(ub if np.isfinite(ub) else lb)


def store_pairs(codes: np.ndarray, alphas: dict, intercepts: np.ndarray, k: int):
    """Lay the pairwise solutions out as libsvm / scikit-learn do.

    codes : (n,) class codes; alphas : {(a, b): (indices into X, αᵢyᵢ)}; intercepts : one b
    per pair. Returns (support_, n_support_, dual_coef_, intercept_) with scikit-learn's sign
    for two classes (positive predicts classes_[1]).
    """
    n = len(codes)
    sv_mask = np.zeros(n, dtype=bool)
    for idx, coef in alphas.values():
        sv_mask[idx[coef != 0]] = True
    support = np.concatenate([np.flatnonzero(sv_mask & (codes == c)) for c in range(k)])
    position = np.full(n, -1)
    position[support] = np.arange(len(support))
    dual = np.zeros((k - 1, len(support)))
    for (a, b), (idx, coef) in alphas.items():
        nz = coef != 0
        rows = np.where(codes[idx[nz]] == a, b - 1, a)
        dual[rows, position[idx[nz]]] = coef[nz]
    if k == 2:
        dual, intercepts = -dual, -intercepts
    n_support = np.bincount(codes[support], minlength=k).astype(np.int32)
    return support.astype(np.int32), n_support, dual, intercepts


def pair_slices(dual_coef: np.ndarray, n_support: np.ndarray) -> list:
    """For each pair (a, b): the SV positions of both classes and their coefficients."""
    k = len(n_support)
    bounds = np.concatenate([[0], np.cumsum(n_support)])
    out = []
    for a in range(k):
        for b in range(a + 1, k):
            pos = np.r_[bounds[a] : bounds[a + 1], bounds[b] : bounds[b + 1]]
            coef = np.r_[
                dual_coef[b - 1, bounds[a] : bounds[a + 1]],
                dual_coef[a, bounds[b] : bounds[b + 1]],
            ]
            out.append((pos, coef))
    return out


def votes(dec: np.ndarray, k: int) -> np.ndarray:
    """One-vs-one votes, shape (n, k): pair (a, b) votes a where f_ab > 0, else b (libsvm)."""
    v = np.zeros((len(dec), k), dtype=np.int64)
    col = 0
    for a in range(k):
        for b in range(a + 1, k):
            pos = dec[:, col] > 0
            v[pos, a] += 1
            v[~pos, b] += 1
            col += 1
    return v


def ovr_from_ovo(dec: np.ndarray, k: int) -> np.ndarray:
    """scikit-learn's one-vs-rest aggregation: votes plus confidences squashed into (−⅓, ⅓)."""
    v = np.zeros((len(dec), k))
    conf = np.zeros((len(dec), k))
    col = 0
    for a in range(k):
        for b in range(a + 1, k):
            conf[:, a] += dec[:, col]
            conf[:, b] -= dec[:, col]
            v[dec[:, col] >= 0, a] += 1
            v[dec[:, col] < 0, b] += 1
            col += 1
    return v + conf / (3 * (np.abs(conf) + 1))
