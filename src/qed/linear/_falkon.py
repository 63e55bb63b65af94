"""FALKON: kernel ridge on m Nyström centres, solved by preconditioned conjugate gradients.

The notes' kernel ridge α = (K + λI)⁻¹y costs n³/3 flops and n² memory. Restricting the
solution to the span of m centres C ⊂ X, f(x) = K(x, C)β, the objective
‖y − K_nm β‖²_W + λ βᵀK_mm β has the normal equations

    (K_nmᵀ W K_nm + λ K_mm) β = K_nmᵀ W y                        (H β = b, m × m)

(λ is ``KernelRidge``'s alpha; FALKON's λ_F = λ/n). With C = X this is K(K + λI)β = Ky,
whose solution is the exact α. FALKON (Rudi, Carratino and Rosasco, 2017) solves it by
conjugate gradients preconditioned with B = T⁻¹A⁻¹, from two m × m Cholesky factors

    K_mm = TᵀT,    AᵀA = TTᵀ/m + (λ/s)I,      s = Σwᵢ (= n unweighted),

because K_nmᵀWK_nm ≈ (s/m)K_mm² for uniformly sampled centres, so BᵀHB/s ≈ I. CG runs on
(BᵀHB/s)γ = Bᵀb/s and β = Bγ. The only O(n) work is the product K_nmᵀWK_nm U, computed row
block by row block (``nystroem_products``): each block K_b = K(X_b, C) is formed with BLAS,
used for K_bᵀW_b(K_bU) and dropped, so memory is O(block·m + m²), never n × m — except
that up to ``CACHE_BUDGET`` bytes (2 GiB at most) of K_nm's leading rows are kept between
the passes of one fit (``BlockCache``), read back instead of made again.

A dask X is reduced chunk by chunk on its workers (``qed._blockwise.map_reduce_rows``; the
centres travel with the task); a torch X computes its blocks in torch, on its device. The
m-dimensional CG itself runs in float64 numpy.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numba import njit
from scipy import linalg

from qed._array_api import get_namespace, to_numpy
from qed._blockwise import map_reduce_rows
from qed._kernels_xp import resolve_gamma
from qed._sparse_kernels import blas_single_thread, run_blocks
from qed._vmath import exp_rows
from qed.kernels import pairwise_kernel

__all__ = ["NystroemKernel", "BlockCache", "nystroem_products", "falkon_cg", "FalkonResult"]

# Bytes of one row block of K(X_b, C) on the torch and callable-kernel paths: large enough
# that BLAS runs at speed, small enough that a million rows never hold more than this of the
# n × m matrix.
BLOCK_BYTES = 64 * 2**20
# The numpy path's block: made (one GEMM, then its exponentials), multiplied by U and by
# K_bᵀ while it is still in cache, then overwritten by the next block. At 64 MB blocks each
# pass wrote K to memory and read it back twice: 178 ms a pass at n = 20,000, m = 2,000.
CACHE_BYTES = 2 * 2**20


def _physical_memory() -> int:
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):  # pragma: no cover - not POSIX
        return 2**33


# Bytes of K_nm's leading rows kept between the passes of one fit (numpy, named kernel):
# those blocks are then read from memory instead of made again (a GEMM and m exponentials a
# row, ~2.4 ns an entry here, against ~0.3 ns to read one back); the rest is made each pass.
# 2 GiB, or an eighth of the machine's memory if less: the n = 100,000, m = 2,000 fit
# (1.6 GB of K_nm) took 8.8 s with 1 GiB kept and 6.5 s with all of it; at n = 10⁶, m =
# 5,000 the fit's peak grows from 1.2 GB to 3.3 GB.
CACHE_BUDGET = min(2**31, _physical_memory() // 8)
# Row stripes of a numpy pass, each a run of cache blocks on ``run_blocks``'s threads, summed
# in a fixed order: the stripes depend on n alone, so the result does not depend on threads.
MAX_STRIPES = 16


@dataclass
class NystroemKernel:
    """K(·, C) for one kernel and one set of centres C (m, d), evaluated block by block."""

    kernel: Any
    centers: Any
    gamma: float | None = None
    degree: float = 3
    coef0: float = 1
    kernel_params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        C = self.centers
        if isinstance(self.kernel, str) and self.kernel in ("rbf", "poly", "polynomial"):
            self.gamma = resolve_gamma(self.gamma, C.shape[1])
        if self.kernel == "rbf":
            # −γ‖x − c‖² = [√(2γ)x, 1, −γ‖x‖²]·[√(2γ)c, −γ‖c‖², 1]: one GEMM gives the exponent
            xp, _ = get_namespace(C)
            root = float(np.sqrt(2.0 * self.gamma))
            cc = xp.sum(C * C, axis=1)
            ones = xp.ones_like(cc)
            self._aug = xp.concat([C * root, (-self.gamma * cc)[:, None], ones[:, None]], axis=1)
            self._aug_t = xp.asarray(xp.matrix_transpose(self._aug), copy=True)

    @property
    def m(self) -> int:
        return int(self.centers.shape[0])

    def rows_per_block(self, itemsize: int, budget: int = BLOCK_BYTES) -> int:
        return max(1, budget // (max(self.m, 1) * itemsize))

    def block(self, Xb: Any, out: np.ndarray | None = None) -> Any:
        """K(X_b, C), shape (rows, m), in X_b's namespace and dtype (into ``out`` if given).

        ``out`` (numpy only) is a reused buffer: a fresh 64 MB array per block would cost
        its page faults on every pass.
        """
        C = self.centers
        if not isinstance(self.kernel, str):
            return pairwise_kernel(Xb, C, self.kernel, **self.kernel_params)
        xp, _ = get_namespace(Xb)
        numpy = isinstance(Xb, np.ndarray)
        if self.kernel in ("linear", "poly", "polynomial"):
            if numpy:
                K = np.matmul(Xb, C.T, out=out)
            else:
                K = Xb @ xp.matrix_transpose(C)
            if self.kernel == "linear":
                return K
            if numpy:
                K *= self.gamma
                K += float(self.coef0)
                return np.power(K, float(self.degree), out=K)
            return (self.gamma * K + float(self.coef0)) ** float(self.degree)
        root = float(np.sqrt(2.0 * self.gamma))
        xx = xp.sum(Xb * Xb, axis=1)
        Xa = xp.concat([Xb * root, xp.ones_like(xx)[:, None], (-self.gamma * xx)[:, None]], axis=1)
        # the exponent is ≤ 0 up to round-off; exp(+1e-16) = 1 + 1e-16 needs no clipping
        if numpy:
            K = np.matmul(Xa, self._aug_t.astype(Xa.dtype, copy=False), out=out)
            # float32: numpy's SIMD exp (0.55 ns an entry here); float64: vexp (1.4 ns
            # against numpy's 2.6 ns), which wants C-contiguous rows
            if K.dtype == np.float64 and K.flags.c_contiguous:
                return exp_rows(K)
            return np.exp(K, out=K)
        return xp.exp(Xa @ self._aug_t)


class BlockCache:
    """The blocks K(X_b, C) of X's first ``rows`` rows, kept by their first row across the
    passes over one X (numpy, named kernel): rows = ``CACHE_BUDGET`` // (m · itemsize).

    Which rows are kept is fixed up front, so stripes on several threads need no lock, and a
    kept block holds the same bits as one made again: the products do not depend on it.
    """

    def __init__(self, kern: NystroemKernel, X: Any, budget: int | None = None) -> None:
        budget = CACHE_BUDGET if budget is None else budget
        numpy = isinstance(X, np.ndarray) and isinstance(kern.kernel, str)
        itemsize = np.dtype(kern.centers.dtype).itemsize if numpy else 8
        self.rows = budget // (max(kern.m, 1) * itemsize) if numpy else 0
        self.blocks: dict[int, np.ndarray] = {}


def _block_products(
    Xb: Any, Yb: Any, swb: Any, kern: NystroemKernel, U: Any, cache: BlockCache | None = None
) -> dict:
    """Σ over row blocks of one chunk: {"hu": K_bᵀW_bK_bU, "rhs": K_bᵀW_bY_b}.

    A numpy chunk with a named kernel runs in cache-sized blocks (``CACHE_BYTES``), grouped in
    ``MAX_STRIPES`` stripes of rows on ``run_blocks``'s threads, one BLAS thread each: the
    exponentials then use every core too, and OpenBLAS's own threads, which lose 2-3× on a
    small loaded machine, stay idle.
    """
    xp, is_numpy = get_namespace(Xb)
    if is_numpy and isinstance(kern.centers, np.ndarray) and Xb.dtype != kern.centers.dtype:
        Xb = Xb.astype(kern.centers.dtype)  # the centres fix the model's precision
    n = Xb.shape[0]
    itemsize = np.dtype(Xb.dtype).itemsize if is_numpy else (4 if Xb.dtype == xp.float32 else 8)
    if not (is_numpy and isinstance(kern.kernel, str)):
        rows = kern.rows_per_block(itemsize)
        U_x = None if U is None else _like(xp, U, Xb)
        return _run_blocks(xp, Xb, Yb, swb, kern, U_x, range(0, n, rows), rows)
    rows = kern.rows_per_block(itemsize, CACHE_BYTES)
    starts = list(range(0, n, rows))
    if not starts:
        return {}
    cut = np.linspace(0, len(starts), min(MAX_STRIPES, len(starts)) + 1).astype(int)
    parts: list = [None] * (len(cut) - 1)

    def job(i: int) -> None:
        stripe = starts[cut[i] : cut[i + 1]]
        parts[i] = _numpy_stripe(Xb, Yb, swb, kern, U, stripe, rows, cache)

    with blas_single_thread(float(n) * kern.m * Xb.shape[1]):
        run_blocks(job, len(parts))
    out = parts[0]
    for part in parts[1:]:
        out = {k: out[k] + part[k] for k in out}
    return out


def _numpy_stripe(Xb, Yb, swb, kern, U, starts, rows, cache) -> dict:  # noqa: ANN001
    """The products over the blocks at ``starts``: each block made (or found in ``cache``),
    then every row of it read once from cache by ``_gram_rows``."""
    n, m = Xb.shape[0], kern.m
    Ut = np.zeros((0, m)) if U is None else np.ascontiguousarray(U.T, dtype=np.float64)
    ty = 0 if Yb is None else Yb.shape[1]
    acc = np.zeros((Ut.shape[0] + ty, m))
    buf = np.empty((min(rows, n), m), dtype=Xb.dtype)
    for s in starts:
        e = min(n, s + rows)
        K = None if cache is None else cache.blocks.get(s)
        if K is None:
            keep = cache is not None and e <= cache.rows
            K = kern.block(Xb[s:e], np.empty((e - s, m), Xb.dtype) if keep else buf[: e - s])
            if keep:
                cache.blocks[s] = K
        w = np.ones(e - s) if swb is None else np.asarray(swb[s:e], dtype=np.float64)
        Yw = np.zeros((e - s, 0)) if Yb is None else np.asarray(Yb[s:e], np.float64) * w[:, None]
        _gram_rows(K, Ut, w, Yw, acc)
    out = {}
    if U is not None:
        out["hu"] = acc[: Ut.shape[0]].T
    if Yb is not None:
        out["rhs"] = acc[Ut.shape[0] :].T
    return out


# reassociation lets the row's dot products run in SIMD lanes; the sums stay in float64
@njit(cache=True, nogil=True, error_model="numpy", fastmath={"reassoc", "contract"})
def _gram_rows(K, Ut, w, Yw, acc):  # pragma: no cover - compiled
    """acc (t_u + t_y, m) += [W·K·Utᵀ, Yw]ᵀK for a block K (r, m), each row of K read once
    from memory: its dot products with Ut's rows, then its scaled additions into acc."""
    r, m = K.shape
    tu, ty = Ut.shape[0], Yw.shape[1]
    for i in range(r):
        row = K[i]
        for j in range(tu):
            u = Ut[j]
            z = 0.0
            for c in range(m):
                z += row[c] * u[c]
            z *= w[i]
            a = acc[j]
            for c in range(m):
                a[c] += z * row[c]
        for j in range(ty):
            z = Yw[i, j]
            a = acc[tu + j]
            for c in range(m):
                a[c] += z * row[c]


def _run_blocks(xp, Xb, Yb, swb, kern, U_x, starts, rows) -> dict:  # noqa: ANN001
    """The products over the blocks at ``starts`` in X's namespace (torch, a callable
    kernel): each block by two matrix products."""
    n = Xb.shape[0]
    hu = rhs = None
    for s in starts:
        e = min(n, s + rows)
        K = kern.block(Xb[s:e, ...])
        w = None if swb is None else swb[s:e][:, None]
        cols = []
        if U_x is not None:
            Z = K @ U_x
            cols.append(Z if w is None else Z * w)
        if Yb is not None:
            Yw = Yb[s:e, ...]
            cols.append(Yw if w is None else Yw * w)
        P = K.T @ (cols[0] if len(cols) == 1 else xp.concat(cols, axis=1))
        P = to_numpy(P).astype(np.float64, copy=False)
        t = 0 if U_x is None else U_x.shape[1]
        if U_x is not None:
            hu = P[:, :t] if hu is None else hu + P[:, :t]
        if Yb is not None:
            rhs = P[:, t:] if rhs is None else rhs + P[:, t:]
    out = {"hu": hu, "rhs": rhs}
    return {k: v for k, v in out.items() if v is not None}  # dask adds the keys present


def _like(xp: Any, values: np.ndarray, like: Any) -> Any:
    if isinstance(like, np.ndarray):
        return np.asarray(values, dtype=like.dtype)
    from array_api_compat import device

    return xp.asarray(np.asarray(values), dtype=like.dtype, device=device(like))


def nystroem_products(
    kern: NystroemKernel,
    X: Any,
    Y: Any = None,
    sw: Any = None,
    U: np.ndarray | None = None,
    cache: BlockCache | None = None,
) -> dict:
    """K_nmᵀWK_nm U ("hu") and K_nmᵀWY ("rhs") in one pass over X's rows.

    X (n, d) numpy, Array API or dask array; Y (n, t) or None; sw (n,) or None; U (m, t) or
    None; ``cache`` a ``BlockCache`` made for this kern and this X (numpy only). Results
    are float64 numpy; a dask X is reduced on its workers.
    """
    Y2 = None if Y is None else (Y if Y.ndim == 2 else Y[:, None])
    if not isinstance(X, np.ndarray):
        cache = None
    return map_reduce_rows(_block_products, X, Y2, sw, args=(kern, U, cache))


@dataclass
class FalkonResult:
    beta: np.ndarray  # (m, t)
    n_iter: int
    residual: np.ndarray  # relative residual per target, from the CG recursion


def _cholesky_upper(M: np.ndarray) -> np.ndarray:
    """Upper Cholesky factor of an SPD M, adding the smallest jitter that makes it succeed.

    K_mm is only semi-definite (repeated centres, a linear kernel with m > d): the factor
    serves the preconditioner alone, so a jitter changes the speed of CG, not its answer.
    """
    m = M.shape[0]
    scale = max(float(np.mean(np.abs(np.diag(M)))), np.finfo(float).tiny)
    jitter = m * np.finfo(np.float64).eps * scale
    for _ in range(12):
        try:
            A = M.copy()
            A.flat[:: m + 1] += jitter
            return linalg.cholesky(A, lower=False, check_finite=False)
        except np.linalg.LinAlgError:
            jitter *= 100.0
    raise np.linalg.LinAlgError("K_mm + jitter·I is not positive definite; the kernel is invalid.")


def falkon_cg(
    products: Any,
    Kmm: np.ndarray,
    b: np.ndarray,
    alpha: np.ndarray,
    s: float,
    *,
    max_iter: int,
    tol: float,
    center_weights: np.ndarray | None = None,
) -> FalkonResult:
    """Solve (K_nmᵀWK_nm + λK_mm)β = b by FALKON's preconditioned CG, column by column.

    products(V) returns K_nmᵀWK_nmV (m, k) for V (m, k) — the only pass over the data, one per
    iteration for all targets together. Kmm (m, m), b (m, t), alpha (t,) per target, s = Σw.
    ``center_weights`` (m,) = 1/(n·pⱼ) for centres drawn with probabilities pⱼ (None:
    uniformly, all 1): then K_nmᵀWK_nm ≈ (s/m)·K_mm·diag(w)·K_mm, and A is factored from
    T·diag(w)·Tᵀ/m + (λ/s)I (FALKON's preconditioner for leverage-score sampling).
    A column stops once its residual ‖b − Hβ‖ ≤ tol·‖b‖ (tracked through the recursion:
    r = s·TᵀAᵀr̃ for the preconditioned residual r̃) or after max_iter iterations.
    """
    m, t = b.shape
    T = _cholesky_upper(Kmm)
    groups = {a: np.flatnonzero(alpha == a) for a in np.unique(alpha)}
    As = {}
    TD = T if center_weights is None else T * center_weights
    for a in groups:
        M = (TD @ T.T) / m  # symmetric: _cholesky_upper reads its upper triangle alone
        M.flat[:: m + 1] += a / s
        As[a] = _cholesky_upper(M)

    def apply_B(G: np.ndarray, cols: np.ndarray) -> np.ndarray:  # β = T⁻¹A⁻¹γ
        out = np.empty_like(G)
        for a, idx in groups.items():
            sel = np.flatnonzero(np.isin(cols, idx))
            if sel.size:
                Z = linalg.solve_triangular(As[a], G[:, sel], check_finite=False)
                out[:, sel] = linalg.solve_triangular(T, Z, check_finite=False)
        return out

    def apply_Bt(R: np.ndarray, cols: np.ndarray) -> np.ndarray:  # A⁻ᵀT⁻ᵀr
        out = np.empty_like(R)
        Z = linalg.solve_triangular(T, R, trans="T", check_finite=False)
        for a, idx in groups.items():
            sel = np.flatnonzero(np.isin(cols, idx))
            if sel.size:
                out[:, sel] = linalg.solve_triangular(
                    As[a], Z[:, sel], trans="T", check_finite=False
                )
        return out

    def true_residual_norm(R: np.ndarray, cols: np.ndarray) -> np.ndarray:  # ‖s·TᵀAᵀr̃‖
        out = np.empty(len(cols))
        for a, idx in groups.items():
            sel = np.flatnonzero(np.isin(cols, idx))
            if sel.size:
                out[sel] = s * np.linalg.norm(T.T @ (As[a].T @ R[:, sel]), axis=0)
        return out

    def operator(P: np.ndarray, cols: np.ndarray) -> np.ndarray:  # BᵀHBp / s
        V = apply_B(P, cols)
        HV = products(V) + (Kmm @ V) * alpha[cols]
        return apply_Bt(HV / s, cols)

    # the loop's BLAS calls are m-sized, memory-bound solves and products; OpenBLAS threads
    # left spinning after each one take the cores the passes' threads then need
    with blas_single_thread(float(m) * m * t):
        return _cg_loop(operator, apply_B, apply_Bt, true_residual_norm, b, s, max_iter, tol)


def _cg_loop(operator, apply_B, apply_Bt, true_residual_norm, b, s, max_iter, tol):  # noqa: ANN001
    m, t = b.shape
    all_cols = np.arange(t)
    b_norm = np.linalg.norm(b, axis=0)
    b_norm[b_norm == 0] = 1.0
    gamma = np.zeros((m, t))
    r = apply_Bt(b / s, all_cols)
    p = r.copy()
    rr = np.einsum("ij,ij->j", r, r)
    rel = true_residual_norm(r, all_cols) / b_norm
    active = rel > tol
    n_iter = 0
    while active.any() and n_iter < max_iter:
        cols = np.flatnonzero(active)
        Ap = operator(p[:, cols], cols)
        pAp = np.einsum("ij,ij->j", p[:, cols], Ap)
        step = np.where(pAp > 0, rr[cols] / np.where(pAp > 0, pAp, 1.0), 0.0)
        gamma[:, cols] += step * p[:, cols]
        r[:, cols] -= step * Ap
        rr_new = np.einsum("ij,ij->j", r[:, cols], r[:, cols])
        p[:, cols] = r[:, cols] + (rr_new / np.where(rr[cols] > 0, rr[cols], 1.0)) * p[:, cols]
        rr[cols] = rr_new
        rel[cols] = true_residual_norm(r[:, cols], cols) / b_norm[cols]
        active[cols] = (rel[cols] > tol) & (pAp > 0)
        n_iter += 1
    return FalkonResult(beta=apply_B(gamma, all_cols), n_iter=n_iter, residual=rel)
