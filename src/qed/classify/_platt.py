"""Probabilities from SVM decision values: Platt's sigmoid and pairwise coupling (libsvm).

Platt (1999), in the form of Lin, Lin & Weng (2007): P(y = +1 | f) = 1/(1 + exp(Af + B)),
with (A, B) minimising the cross entropy Σᵢ −tᵢ log pᵢ − (1 − tᵢ) log(1 − pᵢ) against the
smoothed targets tᵢ = (N₊ + 1)/(N₊ + 2) for yᵢ = +1 and 1/(N₋ + 2) for yᵢ = −1, fitted on
decision values f that the model did not see (5-fold cross-validation), so that they are not
the over-confident training values. The problem is convex; Newton's method with a
backtracking line search solves it.

For k > 2 classes, the pairwise estimates r_ab ≈ P(a | a or b, x) are coupled into one
distribution p by Wu, Lin & Weng (2004), method 2: min_p ½Σ_a Σ_{b≠a} (r_ba·p_a − r_ab·p_b)²
subject to Σp = 1, whose minimiser solves the linear system [Q 1; 1ᵀ 0][p; λ] = [0; 1] with
Q_aa = Σ_{b≠a} r_ba², Q_ab = −r_ba·r_ab (and is ≥ 0 without imposing it).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.special import expit

__all__ = [
    "platt_sigmoid",
    "cv_decision_values",
    "sigmoid_proba",
    "pairwise_coupling",
    "MIN_PROB",
]

MIN_PROB = 1e-7  # libsvm's clip of the pairwise probabilities before coupling


def platt_sigmoid(f: np.ndarray, y: np.ndarray, *, max_iter: int = 100) -> tuple[float, float]:
    """(A, B) of P(y = +1 | f) = 1/(1 + exp(Af + B)). f, y : (n,), y in ±1."""
    f = np.asarray(f, dtype=np.float64)
    pos = y > 0
    n1 = int(pos.sum())
    n0 = len(y) - n1
    t = np.where(pos, (n1 + 1.0) / (n1 + 2.0), 1.0 / (n0 + 2.0))
    A, B = 0.0, float(np.log((n0 + 1.0) / (n1 + 1.0)))

    def objective(A: float, B: float) -> float:
        z = f * A + B  # −log p = log(1 + eᶻ), −log(1 − p) = log(1 + eᶻ) − z
        return float(np.sum(np.logaddexp(0.0, z) + (t - 1.0) * z))

    value = objective(A, B)
    scale = max(1.0, float(np.abs(f).max(initial=0.0)))
    for _ in range(max_iter):
        p = expit(-(f * A + B))
        d1 = t - p  # ∂/∂z of the cross entropy
        gA, gB = float(f @ d1), float(d1.sum())
        if max(abs(gA) * scale, abs(gB)) <= 1e-11 * len(f) * scale:
            break
        w = p * (1.0 - p)
        h11 = float(f * f @ w) + 1e-12  # libsvm's σ keeps H positive definite
        h22 = float(w.sum()) + 1e-12
        h21 = float(f @ w)
        det = h11 * h22 - h21 * h21
        dA = -(h22 * gA - h21 * gB) / det
        dB = -(-h21 * gA + h11 * gB) / det
        slope = gA * dA + gB * dB
        step = 1.0
        while step >= 1e-10:
            new = objective(A + step * dA, B + step * dB)
            if new <= value + 1e-4 * step * slope:
                A, B, value = A + step * dA, B + step * dB, new
                break
            step /= 2
        else:
            break  # no decrease along the Newton direction: at the optimum up to rounding
    return A, B


def cv_decision_values(
    fit: Callable[[np.ndarray], object],
    decide: Callable[[object, np.ndarray, np.ndarray], np.ndarray],
    y: np.ndarray,
    rng: np.random.Generator,
    n_folds: int = 5,
) -> np.ndarray:
    """Out-of-fold decision values, shape (n,), for a two-class problem with y in ±1.

    ``fit(train)`` fits on the samples ``train`` (indices); ``decide(model, train, test)``
    returns f on ``test``. A fold whose training part has one class gets f = ±1 (libsvm).
    """
    n = len(y)
    perm = rng.permutation(n)
    dec = np.empty(n)
    for k in range(n_folds):
        test = perm[k * n // n_folds : (k + 1) * n // n_folds]
        train = np.r_[perm[: k * n // n_folds], perm[(k + 1) * n // n_folds :]]
        n_pos = int((y[train] > 0).sum())
        if n_pos == 0 or n_pos == len(train):
            dec[test] = 1.0 if n_pos else -1.0
            continue
        dec[test] = decide(fit(train), train, test)
    return dec


def sigmoid_proba(dec: np.ndarray, A: np.ndarray, B: np.ndarray) -> np.ndarray:
    """r = 1/(1 + exp(A·f + B)) per column (pair) of dec (n, n_pairs), clipped to
    [MIN_PROB, 1 − MIN_PROB] as libsvm does."""
    r = expit(-(dec * A + B))
    return np.clip(r, MIN_PROB, 1.0 - MIN_PROB)


def pairwise_coupling(r: np.ndarray, k: int) -> np.ndarray:
    """Class probabilities (n, k) from the pairwise r (n, k(k − 1)/2), r[:, (a, b)] = P(a | a or b).

    Two classes: (r, 1 − r). More: Wu, Lin & Weng's method 2, one (k + 1)² solve per row.
    """
    n = len(r)
    if k == 2:
        return np.column_stack([r[:, 0], 1.0 - r[:, 0]])
    R = np.zeros((n, k, k))  # R[:, a, b] = r_ab
    col = 0
    for a in range(k):
        for b in range(a + 1, k):
            R[:, a, b] = r[:, col]
            R[:, b, a] = 1.0 - r[:, col]
            col += 1
    Rt = np.swapaxes(R, 1, 2)  # Rt[:, a, b] = r_ba
    M = np.zeros((n, k + 1, k + 1))
    M[:, :k, :k] = -Rt * R
    diag = np.einsum("nab,nab->na", Rt, Rt)  # Σ_b r_ba² (r_aa = 0)
    idx = np.arange(k)
    M[:, idx, idx] = diag
    M[:, :k, k] = 1.0
    M[:, k, :k] = 1.0
    rhs = np.zeros((n, k + 1, 1))
    rhs[:, k, 0] = 1.0
    p = np.linalg.solve(M, rhs)[:, :k, 0]
    # the minimiser is ≥ 0 (Wu et al., Theorem 2); clip the rounding and renormalise
    p = np.maximum(p, 0.0)
    return p / p.sum(axis=1, keepdims=True)
