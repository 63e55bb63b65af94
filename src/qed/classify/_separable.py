"""Is a two-class data set strictly separable by a hyperplane? One feasibility LP decides it."""

from __future__ import annotations

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

__all__ = ["separable"]


def separable(F: np.ndarray, y: np.ndarray) -> bool:
    """True iff some (w, b) has yᵢ(wᵀfᵢ + b) ≥ 1 for every row fᵢ of F (y in ±1).

    That system is feasible exactly when the classes are strictly linearly separable (scale
    any strict separator up), which is when the hard-margin SVM's dual is bounded. Solved as
    an LP with zero objective by HiGHS. F : (n, p); y : (n,).
    """
    n, p = F.shape
    A = -y[:, None] * np.column_stack([F, np.ones(n)])
    res = linprog(np.zeros(p + 1), A_ub=A, b_ub=-np.ones(n), bounds=(None, None), method="highs")
    return res.status == 0


def separating_direction(
    X: np.ndarray, codes: np.ndarray, n_classes: int, fit_intercept: bool
) -> bool:
    """True iff the classes are (quasi-)separable, i.e. the unpenalised MLE does not exist.

    Albert & Anderson (1984): the logistic / softmax likelihood has no finite maximiser iff a
    direction D ≠ 0 has (D_{yᵢ} − D_k)ᵀx̃ᵢ ≥ 0 for every sample i and class k (for two classes
    yᵢ·dᵀx̃ᵢ ≥ 0), with at least one inequality strict: moving along D never lowers any pᵢ(yᵢ)
    and raises some, so the loss keeps falling. Decided by one LP over the box |D| ≤ 1 that
    maximises the total slack. X : (n, d); codes : (n,) in 0 … k−1.
    """
    n = X.shape[0]
    if sparse.issparse(X) and n_classes == 2:
        Xt = sparse.hstack([X, np.ones((n, 1))], format="csr") if fit_intercept else X
        scale = float(np.abs(Xt.data).max(initial=0.0)) * n
        A = Xt.multiply(-(2.0 * codes - 1.0)[:, None]).tocsr()
        c = np.asarray(A.sum(axis=0)).ravel()
        res = linprog(c, A_ub=A, b_ub=np.zeros(n), bounds=(-1, 1), method="highs")
        return res.status == 0 and res.fun < -1e-7 * max(scale, 1.0)
    if sparse.issparse(X):  # the softmax's LP is assembled from dense rows (C = ∞ only)
        X = X.toarray()
    Xt = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    p = Xt.shape[1]
    scale = float(np.abs(Xt).max(initial=0.0)) * n
    if n_classes == 2:
        A = -(2.0 * codes - 1.0)[:, None] * Xt
        c = A.sum(axis=0)
    else:
        k = n_classes
        rows, cols, vals = [], [], []
        r = 0
        for other in range(k):
            mask = codes != other
            idx = np.flatnonzero(mask)
            m = len(idx)
            row = r + np.arange(m)
            # −(D_{yᵢ} − D_other)ᵀx̃ᵢ ≤ 0
            rows += [np.repeat(row, p), np.repeat(row, p)]
            cols += [
                (codes[idx][:, None] * p + np.arange(p)).ravel(),
                (other * p + np.arange(p))[None, :].repeat(m, 0).ravel(),
            ]
            vals += [-Xt[idx].ravel(), Xt[idx].ravel()]
            r += m
        A = sparse.csr_matrix(
            (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(r, k * p)
        )
        c = np.asarray(A.sum(axis=0)).ravel()
    res = linprog(c, A_ub=A, b_ub=np.zeros(A.shape[0]), bounds=(-1, 1), method="highs")
    return res.status == 0 and res.fun < -1e-7 * max(scale, 1.0)
