"""FALKON's Nyström centres: drawn uniformly, or by approximate ridge leverage scores.

Any m centres C give a valid Nyström problem (``qed.linear._falkon``); how close its
solution comes to the exact kernel ridge depends on how well the span of K(·, C) carries K.
Uniform sampling needs m of the order of the effective dimension times its coherence; the
ridge leverage scores

    ℓᵢ(λ) = [K(K + λI)⁻¹]ᵢᵢ,        Σᵢ ℓᵢ(λ) = d_eff(λ),

measure how much each row matters at regularisation λ (``KernelRidge``'s alpha), and drawing
centres with probability pᵢ ∝ ℓᵢ needs only m of the order of d_eff (Rudi, Camoriano and
Rosasco, 2015; Rudi, Carratino and Rosasco, 2017). ℓᵢ itself needs the n × n inverse, so it
is approximated from a uniform subsample J of q rows, each standing for n/q rows (the
one-level estimate of Rudi, Calandriello, Carratino and Rosasco, 2018):

    ℓ̃ᵢ = (Kᵢᵢ − K_iJ (K_JJ + (q/n)λI)⁻¹ K_Ji) / λ,

exact when J is every row (then it is λ⁻¹[K − K(K + λI)⁻¹K]ᵢᵢ = ℓᵢ). It costs a Cholesky
factor of the q × q matrix and one triangular solve per row block, O(q·(q + d)) flops a row;
the rows scored are a uniform pool of 10·m candidates (all rows when n ≤ 10·m), so the
draw costs O(m³) flops whatever n is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import linalg

from qed._array_api import device_of, get_namespace, to_numpy
from qed._blockwise import is_dask_collection
from qed.kernels import pairwise_kernel, random_source, sample_rows
from qed.linear._falkon import _cholesky_upper

__all__ = ["uniform_centers", "leverage_centers", "approximate_leverage_scores", "take_rows"]

# Bytes of one row block of K(X_b, J) while the scores are computed: the block and its
# triangular solve stay this small whatever n is.
SCORE_BLOCK_BYTES = 16 * 2**20
# candidate rows scored per centre (``leverage_centers``)
POOL = 10


def take_rows(X: Any, idx: np.ndarray) -> Any:
    """X[idx] in X's own library (numpy, dask → numpy, or an Array API namespace)."""
    if is_dask_collection(X):
        return np.asarray(X[idx].compute())
    if isinstance(X, np.ndarray):
        return X[idx]
    xp, _ = get_namespace(X)
    return xp.take(X, xp.asarray(idx, device=device_of(X)), axis=0)


def uniform_centers(X: Any, m: int, random_state: Any) -> tuple[Any, np.ndarray]:
    """m rows of X drawn uniformly without replacement, and their indices.

    The draw is ``qed.kernels.sample_rows``: an int seed picks the same rows as
    scikit-learn's Nystroem with that random_state, hence the same Nyström problem.
    """
    idx = sample_rows(X.shape[0], m, random_state)
    return take_rows(X, idx), idx


def _diagonal(kern: Any, Xb: np.ndarray) -> np.ndarray:
    """k(xᵢ, xᵢ) for each row of Xb (rows, d), float64."""
    Xb = np.asarray(Xb, dtype=np.float64)
    if not isinstance(kern.kernel, str):
        return np.array(
            [pairwise_kernel(x[None], x[None], kern.kernel, **kern.kernel_params)[0, 0] for x in Xb]
        )
    if kern.kernel == "rbf":
        return np.ones(Xb.shape[0])
    sq = np.einsum("ij,ij->i", Xb, Xb)
    if kern.kernel == "linear":
        return sq
    return (kern.gamma * sq + float(kern.coef0)) ** float(kern.degree)


def _block_scores(Xb: Any, kern: Any, L: np.ndarray, alpha: float) -> np.ndarray:
    """ℓ̃ for the rows of one block: (k(x, x) − ‖L⁻¹K_Jx‖²)/λ, floored at 0."""
    Xn = to_numpy(Xb)
    rows = max(1, SCORE_BLOCK_BYTES // (8 * max(L.shape[0], 1)))
    out = np.empty(Xn.shape[0])
    for s in range(0, Xn.shape[0], rows):
        part = Xb[s : s + rows]
        KbJ = to_numpy(kern.block(part)).astype(np.float64, copy=False)
        B = linalg.solve_triangular(L, KbJ.T, lower=True, check_finite=False)
        explained = np.einsum("ij,ij->j", B, B)
        out[s : s + rows] = (_diagonal(kern, Xn[s : s + rows]) - explained) / alpha
    return np.clip(out, 0.0, 1.0)


def approximate_leverage_scores(
    kern_J: Any, X: Any, alpha: float, n: int | None = None
) -> np.ndarray:
    """ℓ̃ (rows,) for every row of X (rows, d), from the kernel ``kern_J`` on the q subsample
    rows, each standing for n/q rows of the data (n defaults to X's rows).

    kern_J : ``NystroemKernel`` whose centres are the rows J. alpha : λ > 0 (KernelRidge's
    alpha, unscaled). X : numpy or Array API rows (scored in blocks of ``SCORE_BLOCK_BYTES``).
    """
    n = int(X.shape[0]) if n is None else int(n)
    q = kern_J.m
    KJJ = to_numpy(kern_J.block(kern_J.centers)).astype(np.float64)
    KJJ = 0.5 * (KJJ + KJJ.T)
    KJJ.flat[:: q + 1] += alpha * q / n
    # a rank-deficient K_JJ (a linear kernel with q > d) and a tiny λ leave it singular to
    # rounding: the factor then carries the smallest jitter that succeeds, as K_mm's does
    L = _cholesky_upper(KJJ).T
    return _block_scores(X, kern_J, L, alpha)


def leverage_centers(
    X: Any, m: int, alpha: float, kernel_of: Any, random_state: Any
) -> tuple[Any, np.ndarray, np.ndarray]:
    """m rows of X drawn without replacement with probability ∝ ℓ̃ᵢ, their indices, and
    their weights 1/(n·pⱼ) for FALKON's preconditioner (1 for a uniform draw; clipped to
    [1e-6, 1e6]), with pⱼ the probability of row j among all n rows.

    One permutation of the rows (``random_source(random_state)``; an int seed fixes every
    draw) gives the subsample J, its first q = m rows (those ``uniform_centers`` would
    take), and the pool of candidates, its first min(n, ``POOL``·m) rows; the same source
    then draws the centres from the pool. Scoring the pool instead of all n rows bounds the
    cost by O(m³) flops whatever n is: at n = 10⁶, m = 5,000 all rows would take ~10 minutes
    here. ``kernel_of(C)`` makes the kernel on C. Rows whose score is 0 (explained to
    round-off by J) get a floor of 10⁻¹² of the mean score, so that m distinct rows can
    always be drawn.
    """
    n = int(X.shape[0])
    rng = random_source(random_state)
    order = rng.permutation(n)
    J, pool = np.sort(order[:m]), np.sort(order[: min(n, POOL * m)])
    scores = approximate_leverage_scores(kernel_of(take_rows(X, J)), take_rows(X, pool), alpha, n)
    total = float(scores.sum())
    if not np.isfinite(total) or total <= 0.0:
        p = np.full(pool.size, 1.0 / pool.size)
    else:
        p = scores + 1e-12 * total / pool.size
        p /= p.sum()
    pick = rng.choice(pool.size, size=m, replace=False, p=p)
    idx = pool[pick]
    # pool.size/n of the rows are candidates, each drawn with p[pick]: 1/(n·pⱼ) overall
    weights = np.clip(1.0 / (pool.size * p[pick]), 1e-6, 1e6)
    return take_rows(X, idx), idx, weights
