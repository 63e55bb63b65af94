"""The least-squares statistics of a scipy.sparse X, without ever densifying X.

Centering a sparse X would fill it in, so the intercept is eliminated in the d × d statistics
instead (with x̄ = XᵀW1/Σw, the weighted column means):

    X_cᵀWX_c = XᵀWX − Σw·x̄x̄ᵀ,    X_cᵀWy_c = XᵀW(y − ȳ)      (since Σw(y − ȳ) = 0).

Up to ``GRAM_LIMIT`` features the Gram matrix is formed (a sparse product, then d × d dense)
and solved like any other (``qed.linear._least_squares``). Beyond it — or when
``solver="cg"`` is named — the Gram is an operator v ↦ X_cᵀW(X_c v) = XᵀW(Xv − x̄ᵀv) − x̄·Σ(…),
one fused pass over the rows of X (``qed._sparse_kernels``), and the normal equations
(X_cᵀWX_c + αI)β = X_cᵀWy_c are solved by conjugate gradients preconditioned with their
diagonal (Jacobi): X_c has no mean direction left, so Jacobi leaves CG only the spread of the
centered spectrum (24 products at rtol 1e-10 on the 200,000 × 50,000 benchmark). Those
products run in float32 inside float64 iterative refinement (``_refine``): two rounds of
float32 CG, each closed by one float64 residual, meet the same float64 test ‖b − Aβ‖ ≤
rtol·‖b‖ (0.70 s against 1.1–1.3 s in float64 alone at 1 thread, where a float32 pass takes
26 ms and a float64 one 43 ms). The
subtraction Σw·x̄x̄ᵀ loses about log₁₀(diag(XᵀWX)/diag(X_cᵀWX_c)) digits: nothing for
tf-idf-like data, whose means are small beside their spread.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, cg

from qed import _sparse_kernels as SK
from qed._validation import ConvergenceWarning
from qed.linear._solvers import NormalStats

__all__ = ["GRAM_LIMIT", "sparse_statistics", "centered_gram_operator", "solve_cg"]

GRAM_LIMIT = 4096  # features; the d × d Gram is then at most 128 MiB in float64
# CG in float32 inside float64 iterative refinement (``_refine``) when X's values, the weights
# and the means are at most SINGLE_MAX_ABS: each round gains INNER_RTOL, and a round that gains less
# than MIN_GAIN hands over to float64 CG. At 200,000 × 50,000 a float32 pass takes 26 ms
# against 43 ms in float64 (1 thread).
SINGLE_MAX_ABS = 1e10
INNER_RTOL = 1e-5
MIN_GAIN = 0.1
MAX_ROUNDS = 8


def centered_gram_operator(
    X: Any, w: np.ndarray, x_mean: np.ndarray, *, single: bool = False
) -> LinearOperator:
    """v ↦ X_cᵀW X_c v for sparse (or dense) X of shape (n, d), never forming X_c.

    For a CSR X it is one pass over the rows (``csr_weighted_gram_matvec``): uᵢ =
    wᵢ(xᵢᵀv − x̄ᵀv) is formed and scattered back as uᵢxᵢ while row i is in cache, and
    X_cᵀu = Xᵀu − x̄Σuᵢ. No transposed copy of X is made. With ``single`` the operator works
    in float32 on a float32 copy of X (of a CSR X's values: its index arrays are shared).
    """
    n, d = X.shape
    if sparse.issparse(X):
        indptr, indices, data, bounds = SK.csr_arrays(X)
        dtype = np.float32 if single else np.float64
        data = data.astype(dtype, copy=False)
        w = np.ascontiguousarray(w, dtype=dtype)
        x_mean = x_mean.astype(dtype)

        def matvec(v: np.ndarray) -> np.ndarray:
            v = np.ascontiguousarray(np.ravel(v), dtype=dtype)
            xtu, u_sum = SK.csr_weighted_gram_matvec(
                indptr, indices, data, v, -float(x_mean @ v), w, bounds, single=single
            )
            return (xtu - x_mean * u_sum).astype(dtype, copy=False)

        return LinearOperator((d, d), matvec=matvec, rmatvec=matvec, dtype=dtype)

    dtype = np.float32 if single else np.float64
    Xd, w, x_mean = X.astype(dtype, copy=False), w.astype(dtype), x_mean.astype(dtype)

    def matvec(v: np.ndarray) -> np.ndarray:
        v = np.ravel(v).astype(dtype, copy=False)
        u = (Xd @ v - x_mean @ v) * w
        return Xd.T @ u - x_mean * u.sum()

    return LinearOperator((d, d), matvec=matvec, rmatvec=matvec, dtype=dtype)


def sparse_statistics(
    X: Any,
    Y: np.ndarray,
    sw: np.ndarray | None,
    fit_intercept: bool,
    *,
    operator: bool,
) -> NormalStats:
    """The centered, weighted statistics of sparse X (n, d) and dense Y (n, t); a dense X is
    accepted too, for ``solver="cg"`` on in-memory data.

    With ``operator`` the Gram is kept as ``centered_gram_operator`` (key ``operator``) with
    its diagonal (``gram_diag``) instead of the dense ``gram``.
    """
    with SK.blas_single_thread(float(X.shape[0]) * X.shape[1]):
        return _sparse_statistics(X, Y, sw, fit_intercept, operator)


def _sparse_statistics(X, Y, sw, fit_intercept, operator):
    n, d = X.shape
    w = np.ones(n) if sw is None else np.asarray(sw, dtype=np.float64)
    sw_sum = float(w.sum())
    is_sparse = sparse.issparse(X)
    X = X.astype(np.float64, copy=False)
    if is_sparse:
        X = sparse.csr_matrix(X, copy=False)
        arrays = SK.csr_arrays(X)
        # Σᵢwᵢxᵢⱼ and Σᵢwᵢx²ᵢⱼ in one pass over the stored values
        w_sum_x, w_sum_x2 = SK.csr_weighted_column_moments(*arrays[:3], w, d, arrays[3])
        if not np.all(np.isfinite(w_sum_x2)):  # X's values are finite (validated): overflow
            raise ValueError(
                f"XᵀX overflows float64 (max |X| = {np.abs(X.data).max():.3g}); rescale the "
                "features (e.g. standardise them, or scale each row) before fitting."
            )
    if fit_intercept:
        x_mean = (w_sum_x if is_sparse else X.T @ w) / sw_sum
        y_mean = (w @ Y) / sw_sum
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(Y.shape[1])
    Yc = Y - y_mean
    WYc = Yc * w[:, None]
    if is_sparse:  # Xᵀ(WY_c) by the rows' scatter: X's CSC form would be a copy
        xtwy = np.column_stack(
            [SK.csr_rmatvec(*arrays[:3], np.ascontiguousarray(col), d, arrays[3]) for col in WYc.T]
        ).reshape(d, -1)
    else:
        xtwy = X.T @ WYc
    stats = NormalStats(
        xty=xtwy - np.outer(x_mean, WYc.sum(axis=0)),
        x_mean=x_mean,
        y_mean=y_mean,
        sw_sum=sw_sum,
        yty=np.einsum("ij,ij->j", WYc, Yc),
        n_samples=n,
    )
    if operator:
        squares = w_sum_x2 if is_sparse else w @ (X * X)
        op = centered_gram_operator(X, w, x_mean)
        if _single_is_safe(squares, w, x_mean):  # its float32 twin, made when CG starts
            op.single = lambda: centered_gram_operator(X, w, x_mean, single=True)
        stats.update(operator=op, gram_diag=squares - sw_sum * x_mean**2)
    else:
        WX = sparse.diags(w) @ X if is_sparse else X * w[:, None]
        gram = (X.T @ WX).toarray() - sw_sum * np.outer(x_mean, x_mean)
        stats["gram"] = 0.5 * (gram + gram.T)
    return stats


def solve_cg(
    stats: NormalStats, alpha: np.ndarray, *, rtol: float = 1e-10, max_iter: int | None = None
) -> np.ndarray:
    """(X_cᵀWX_c + αI)β = X_cᵀWy_c per target by Jacobi-preconditioned conjugate gradients.

    alpha (t,) ≥ 0. Returns coef (d, t); warns ``ConvergenceWarning`` when a target stops at
    ``max_iter`` (default 10·d, at least 1000) above ``rtol``·‖X_cᵀWy_c‖.
    """
    with SK.blas_single_thread(float(stats["n_samples"]) * stats["xty"].shape[0]):
        return _solve_cg(stats, alpha, rtol, max_iter)


def _single_is_safe(w_sum_x2: np.ndarray, w: np.ndarray, x_mean: np.ndarray) -> bool:
    """float32 products cannot overflow: max|X| (bounded by the column moments Σᵢwᵢx²ᵢⱼ
    over the smallest positive weight, without a pass over X), the weights and the means
    all ≤ ``SINGLE_MAX_ABS``. Values too small for float32 only slow its rounds, which
    ``_refine`` then abandons."""
    positive = w[w > 0]
    if positive.size == 0:
        return False
    x2_max = float(w_sum_x2.max(initial=0.0)) / float(positive.min())
    return (
        x2_max <= SINGLE_MAX_ABS**2
        and float(w.max()) <= SINGLE_MAX_ABS
        and float(np.abs(x_mean).max(initial=0.0)) <= SINGLE_MAX_ABS
    )


def _shifted(op: LinearOperator, a: float) -> LinearOperator:
    # dtype given: without it scipy finds it by a product with a zero vector, a whole pass
    return LinearOperator(
        op.shape, matvec=lambda v: op.matvec(v) + a * np.ravel(v).astype(op.dtype), dtype=op.dtype
    )


def _refine(A, A32, inv_diag, b, rtol, max_iter):
    """x with ‖b − Ax‖ ≤ rtol·‖b‖ by iterative refinement: each round solves A e = r/‖r‖
    by float32 CG to ``INNER_RTOL`` and adds ‖r‖e in float64, then measures the true residual
    in float64. Returns (x, converged); unconverged (float32 no longer gains ``MIN_GAIN``
    a round: κ near 1/eps₃₂) it is a start for float64 CG.
    """
    x = np.zeros_like(b)
    r, goal = b.copy(), rtol * np.linalg.norm(b)
    M32 = sparse.diags(inv_diag.astype(np.float32))
    norm = np.linalg.norm(r)
    for _ in range(MAX_ROUNDS):
        if norm <= goal:
            return x, True
        e, _ = cg(A32, (r / norm).astype(np.float32), rtol=INNER_RTOL, atol=0.0,
                  maxiter=max_iter, M=M32)  # fmt: skip
        step = norm * e.astype(np.float64)
        r_new = b - A.matvec(x + step)
        new = np.linalg.norm(r_new)
        if not new <= MIN_GAIN * norm:  # no gain (or non-finite): float64 CG from x
            return x, False
        x += step
        r = r_new
        norm = new
    return x, norm <= goal


def _solve_cg(stats, alpha, rtol, max_iter):
    op, xty = stats["operator"], stats["xty"]
    d, t = xty.shape
    max_iter = max(1000, 10 * d) if max_iter is None else max_iter
    coef = np.zeros((d, t))
    single = getattr(op, "single", None)
    op32 = single() if single is not None else None
    for j in range(t):
        a = float(alpha[j])
        A = _shifted(op, a)
        diag = stats["gram_diag"] + a
        inv_diag = np.where(diag > 0, 1.0 / np.where(diag > 0, diag, 1.0), 1.0)
        x0, done = None, False
        if op32 is not None:
            x0, done = _refine(A, _shifted(op32, a), inv_diag, xty[:, j], rtol, max_iter)
        if done:
            coef[:, j], info = x0, 0
        else:
            M = sparse.diags(inv_diag)
            coef[:, j], info = cg(A, xty[:, j], x0=x0, rtol=rtol, atol=0.0, maxiter=max_iter, M=M)
        if info > 0:
            warnings.warn(
                f"Conjugate gradients stopped at max_iter={max_iter} before the relative "
                f"residual reached {rtol:g} (target {j}); the problem is ill-conditioned: "
                "increase alpha or standardise the features.",
                ConvergenceWarning,
                stacklevel=5,
            )
    return coef
