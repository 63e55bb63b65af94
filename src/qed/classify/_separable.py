"""Is a two-class data set strictly separable by a hyperplane? One feasibility LP decides it."""

from __future__ import annotations

import numpy as np
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
    res = linprog(np.zeros(p + 1), A_ub=A, b_ub=-np.ones(n), bounds=(None, None),
                  method="highs")
    return res.status == 0
