"""Compiled products of a CSR matrix A (n, d) with vectors, for the iterative sparse solvers.

The sparse solvers (ridge's conjugate gradients, logistic Newton-CG) spend their time in
products with A, each a pass over its nonzeros; on tf-idf-like data those passes are bound by
memory traffic and cache misses, not arithmetic. So the kernels here read A as few times as
the mathematics allows:

- ``csr_matvec``: Av, row blocks gathered in parallel (scipy's product runs on one core);
- ``csr_weighted_gram_matvec``: Aᵀ(s ⊙ (Av + c)) in **one** pass over the rows — row i's
  value uᵢ = sᵢ(aᵢᵀv + c) is computed and scattered back as uᵢaᵢ while aᵢ is in cache — where
  scipy reads A twice (and Aᵀu, a CSC product, scatters anyway);
- ``csr_rmatvec``: Aᵀu by the same scatter;
- ``csr_weighted_column_moments``: AᵀS1 and Σᵢ sᵢa²ᵢⱼ, the diagonal of AᵀSA (preconditioners,
  centering), together.

The scattering kernels split the rows into the blocks of ``row_blocks`` (a partition fixed by
the matrix, not by the number of threads), accumulate each block into its own length-d
vector and add the blocks in a fixed order: the result is the same, bit for bit, on one
thread or several. The block count is kept small enough that the per-block vectors cost a
fraction of the pass (each block holds at least ``BLOCK_WORK``·d nonzeros).

Index arrays may be int32 or int64 (scipy's choice by size); values float32 or float64, with
every sum accumulated in float64.

The blocks run on ``numba.get_num_threads()`` Python threads (``run_blocks``; numba's setting,
all cores by default, so ``numba.set_num_threads`` and ``NUMBA_NUM_THREADS`` govern it), each
block a compiled loop that releases the GIL. A solver that calls them runs under
``blas_single_thread``: OpenBLAS's threads, left spinning after a vector-sized BLAS call
between two passes, take the cores the passes need.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import numba
import numpy as np
from numba import njit

__all__ = [
    "blas_single_thread",
    "BLAS_SWITCH_MIN_WORK",
    "MAX_BLOCKS",
    "BLOCK_WORK",
    "row_blocks",
    "csr_arrays",
    "run_blocks",
    "sum_blocks",
    "csr_matvec",
    "csr_rmatvec",
    "csr_weighted_gram_matvec",
    "csr_weighted_column_moments",
    "csr_rmatvec_and_moments",
]

MAX_BLOCKS = 8  # row blocks of a scattering product: ≥ the cores of a small machine
BLOCK_WORK = 4  # nonzeros per block ≥ BLOCK_WORK·d: its accumulator costs ≤ 1/4 of its pass


_CONTROLLER = None
BLAS_SWITCH_MIN_WORK = 1e4


def blas_single_thread(work: float) -> AbstractContextManager:
    """One BLAS thread while an iterative fit runs (when threadpoolctl is available).

    work : the stored values of X times the scores (``X.size``·k': entries of a dense X,
    nonzeros of a sparse one).

    The solvers' BLAS calls are short (matrix-vector sized products, Hessians of row
    subsamples) and the heavy passes are numba loops, so BLAS threads gain little and, on a
    small machine shared with other work, lose a lot: measured on 2 cores under load, up to
    10× slower logistic fits with OpenBLAS's threads than with one. Beside the parallel sparse
    passes it is worse: OpenBLAS's threads left spinning by a dot product of d entries hold
    the cores numba's threads wait for, measured 0.5 s against 8 ms for a 20,000 × 5,000
    logistic fit (2·10⁵ nonzeros) and 0.99 s against 0.24 s for the sparse Ridge benchmark.
    The switch costs ~12 µs, so only fits too small to notice (work < 10⁴) skip it.
    """
    global _CONTROLLER
    if work < BLAS_SWITCH_MIN_WORK:
        return nullcontext()
    if _CONTROLLER is None:
        try:  # one scan of the loaded libraries per process, not one per fit
            from threadpoolctl import ThreadpoolController
        except ImportError:  # pragma: no cover - threadpoolctl ships with scikit-learn
            return nullcontext()
        _CONTROLLER = ThreadpoolController()
    return _CONTROLLER.limit(limits=1, user_api="blas")


def row_blocks(A: Any) -> np.ndarray:
    """Boundaries (B + 1,) of B row blocks of about equal nonzeros, B ∈ [1, MAX_BLOCKS].

    B = nnz/(BLOCK_WORK·d) clipped to [1, MAX_BLOCKS]: a function of the matrix only, so the
    scattering kernels' rounding never depends on the thread count.
    """
    n, d = A.shape
    blocks = int(min(MAX_BLOCKS, max(1, A.nnz // (BLOCK_WORK * max(d, 1)))))
    targets = np.linspace(0, A.nnz, blocks + 1)
    bounds = np.searchsorted(A.indptr, targets, side="left").astype(np.int64)
    bounds[0], bounds[-1] = 0, n
    return np.maximum.accumulate(bounds)


def csr_arrays(A: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(indptr, indices, data, row_blocks(A)) of a CSR matrix, the index arrays viewed (not
    copied) as unsigned integers.

    numba guards every access through a signed index against wrap-around (a compare and an
    add); a CSR matrix's indices are non-negative, so unsigned views drop the guard from the
    innermost loops: measured 30 → 17 ms per fused pass over 10⁷ nonzeros.
    """
    return _unsigned(A.indptr), _unsigned(A.indices), A.data, row_blocks(A)


def _unsigned(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype.itemsize == 4 else np.uint64)


def run_blocks(job: Callable[[int], Any], n_blocks: int) -> None:
    """Call ``job(b)`` for b = 0 … n_blocks − 1, on ``numba.get_num_threads()`` threads.

    The jobs are compiled functions that release the GIL, handed to a pool of Python threads
    that take the next block when they finish one. Not numba's ``prange``: its OpenMP team
    waits at a barrier for every member, spinning, and on a machine whose cores other work
    also wants a member waits for a core the spinning holds — measured 100 × slower passes
    (a 10 ms fit took 1.5 s) at a load average of 2.7 on 2 cores; a thread of this pool that
    gets no core just takes fewer blocks.
    """
    threads = min(numba.get_num_threads(), n_blocks)
    if threads <= 1:
        for b in range(n_blocks):
            job(b)
        return
    pool = _POOLS.get(threads)
    if pool is None:
        pool = _POOLS.setdefault(
            threads, ThreadPoolExecutor(threads, thread_name_prefix="qed-sparse")
        )
    for _ in pool.map(job, range(n_blocks)):  # re-raises a job's exception here
        pass


_POOLS: dict[int, ThreadPoolExecutor] = {}
# a forked child inherits the pools but not their threads: it starts its own
os.register_at_fork(after_in_child=_POOLS.clear)


@njit(nogil=True, cache=True, error_model="numpy")
def _matvec_block(indptr, indices, data, v, out, lo, hi):  # pragma: no cover - compiled
    for i in range(lo, hi):
        total = 0.0
        for k in range(indptr[i], indptr[i + 1]):
            total += data[k] * v[indices[k]]
        out[i] = total


def csr_matvec(
    indptr: np.ndarray, indices: np.ndarray, data: np.ndarray, v: np.ndarray, out: np.ndarray
) -> np.ndarray:
    """out[i] = Σₖ data[k]·v[indices[k]] over row i (out (n,) float64); each row's sum runs in
    storage order, whatever the thread count. Returns out."""
    n = indptr.size - 1
    bounds = np.linspace(0, n, min(MAX_BLOCKS, max(1, n // 1024)) + 1).astype(np.int64)
    run_blocks(
        lambda b: _matvec_block(indptr, indices, data, v, out, bounds[b], bounds[b + 1]),
        bounds.size - 1,
    )
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def sum_blocks(acc, out):  # pragma: no cover - compiled
    """out[j] = Σ_b acc[b, j], the blocks added in order."""
    nb, d = acc.shape
    for j in range(d):
        total = 0.0
        for b in range(nb):
            total += acc[b, j]
        out[j] = total
    return out


@njit(nogil=True, cache=True, error_model="numpy")
def _gram_block(indptr, indices, data, v, shift, s, lo, hi, acc):  # pragma: no cover
    total = 0.0
    for i in range(lo, hi):
        start, stop = indptr[i], indptr[i + 1]
        z = shift
        for k in range(start, stop):
            z += data[k] * v[indices[k]]
        u = s[i] * z
        total += u
        for k in range(start, stop):
            acc[indices[k]] += u * data[k]
    return total


def csr_weighted_gram_matvec(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    v: np.ndarray,
    shift: float,
    s: np.ndarray,
    bounds: np.ndarray,
    *,
    single: bool = False,
) -> tuple[np.ndarray, float]:
    """(Aᵀu (d,), Σᵢuᵢ) with uᵢ = sᵢ·(aᵢᵀv + shift), in one pass over the rows of A.

    The sums are float64; with ``single`` (data, v and s then float32) each block's are
    float32 (the blocks are then added in float64): the gathered v and the scattered sums
    take half the cache (400 KB together at d = 50,000),
    ~20% faster, for products that only steer a search (CG's, in logistic Newton).

    With s the IRLS weights this is the logistic Hessian's product X̃ᵀSX̃[v, c]; with s the
    sample weights and shift = −x̄ᵀv, the centered Gram's X_cᵀWX_cv = Aᵀu − x̄Σu.
    """
    nb, d = bounds.size - 1, v.size
    dtype = np.float32 if single else np.float64
    acc, sums = np.zeros((nb, d), dtype=dtype), np.zeros(nb)
    shift = dtype(shift)

    def job(b: int) -> None:
        lo, hi = bounds[b], bounds[b + 1]
        sums[b] = _gram_block(indptr, indices, data, v, shift, s, lo, hi, acc[b])

    run_blocks(job, nb)
    return sum_blocks(acc, np.empty(d)), float(sums.sum())


@njit(nogil=True, cache=True, error_model="numpy")
def _rmatvec_block(indptr, indices, data, u, lo, hi, acc):  # pragma: no cover - compiled
    for i in range(lo, hi):
        ui = u[i]
        for k in range(indptr[i], indptr[i + 1]):
            acc[indices[k]] += ui * data[k]


def csr_rmatvec(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    u: np.ndarray,
    d: int,
    bounds: np.ndarray,
) -> np.ndarray:
    """Aᵀu (d,) for A (n, d) in CSR form: each row's uᵢaᵢ scattered into its block's sum."""
    nb = bounds.size - 1
    acc = np.zeros((nb, d))
    run_blocks(
        lambda b: _rmatvec_block(indptr, indices, data, u, bounds[b], bounds[b + 1], acc[b]), nb
    )
    return sum_blocks(acc, np.empty(d))


@njit(nogil=True, cache=True, error_model="numpy")
def _moments_block(indptr, indices, data, s, lo, hi, acc):  # pragma: no cover - compiled
    # both sums of a column side by side: one cache line per stored value, not two
    for i in range(lo, hi):
        si = s[i]
        for k in range(indptr[i], indptr[i + 1]):
            x = si * data[k]
            j = indices[k]
            acc[j, 0] += x
            acc[j, 1] += x * data[k]


def csr_weighted_column_moments(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    s: np.ndarray,
    d: int,
    bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """(Σᵢ sᵢaᵢⱼ, Σᵢ sᵢa²ᵢⱼ) for every column j, each (d,), in one pass: AᵀS1 and the diagonal
    of AᵀSA for S = diag(s). A must be canonical (no duplicate entries): a duplicate's parts
    would be squared separately."""
    nb = bounds.size - 1
    acc = np.zeros((nb, d, 2))

    def job(b: int) -> None:
        _moments_block(indptr, indices, data, s, bounds[b], bounds[b + 1], acc[b])

    run_blocks(job, nb)
    both = sum_blocks(acc.reshape(nb, 2 * d), np.empty(2 * d)).reshape(d, 2)
    return np.ascontiguousarray(both[:, 0]), np.ascontiguousarray(both[:, 1])


@njit(nogil=True, cache=True, error_model="numpy")
def _rmatvec_moments_block(indptr, indices, data, u, s, lo, hi, acc):  # pragma: no cover
    # the arithmetic of _rmatvec_block and _moments_block, entry for entry, on one read
    top = 0.0
    for i in range(lo, hi):
        ui = u[i]
        si = s[i]
        for k in range(indptr[i], indptr[i + 1]):
            a = data[k]
            j = indices[k]
            x = si * a
            acc[j, 0] += x
            acc[j, 1] += x * a
            acc[j, 2] += ui * a
            top = max(top, abs(a))
    return top


def csr_rmatvec_and_moments(
    indptr: np.ndarray,
    indices: np.ndarray,
    data: np.ndarray,
    u: np.ndarray,
    s: np.ndarray,
    d: int,
    bounds: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, float]:
    """(Aᵀu, Aᵀs, diag AᵀSA, max|aᵢⱼ|) in one pass: ``csr_rmatvec`` and
    ``csr_weighted_column_moments`` (bit for bit: the same sums in the same order) and the
    largest stored value. A logistic fit at Θ = 0 needs all four (its gradient, its
    preconditioner, its rounding level) before anything else."""
    nb = bounds.size - 1
    acc = np.zeros((nb, d, 3))
    tops = np.zeros(nb)

    def job(b: int) -> None:
        tops[b] = _rmatvec_moments_block(
            indptr, indices, data, u, s, bounds[b], bounds[b + 1], acc[b]
        )

    run_blocks(job, nb)
    out = sum_blocks(acc.reshape(nb, 3 * d), np.empty(3 * d)).reshape(d, 3)
    parts = [np.ascontiguousarray(out[:, c]) for c in range(3)]
    return parts[2], parts[0], parts[1], float(tops.max(initial=0.0))
