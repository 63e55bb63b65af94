"""The Gaussian kernel exp(−γ‖aᵢ − bⱼ‖²) = exp(−γ·max(‖aᵢ‖² + ‖bⱼ‖² − 2aᵢᵀbⱼ, 0)).

``rbf_matrix`` (dense A, B) makes K a block of rows at a time: the block's Gram product by
BLAS, then its exponentials (``vexp``) while the block is still in cache, the blocks on
``run_blocks``'s threads. ``rbf_from_gram`` does the second half on a Gram matrix already
formed (sparse inputs). Shared by ``qed.kernels.rbf_kernel`` (kernel ridge, Nyström, the
tour) and the SVM's prediction kernel, so both compute every entry by the same formula (the
SVM's error bound, ``_svm_bounds.kernel_error``, is written for it). At 4,000 × 4,000, d = 10
on one core: 58 ms as a BLAS product and four numpy passes with numpy's exp; 43 ms as the
product and one compiled pass (the product alone took 23 ms: it writes 128 MB and
then that is read again); ~25 ms block by block.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed._sparse_kernels import MAX_BLOCKS, blas_single_thread, run_blocks
from qed._vmath import vexp

__all__ = ["rbf_matrix", "rbf_upper", "rbf_from_gram"]

# a block of K's rows, made and exponentiated while in L2: 1 MiB measured best on an EPYC
# (1 MiB L2) at n = 4,000, 1 thread: 64 KiB 97 ms, 256 KiB 59 ms, 1 MiB 47 ms, 2 MiB 47 ms
BLOCK_BYTES = 1 << 20


def rbf_matrix(A: np.ndarray, B: np.ndarray, gamma: float) -> np.ndarray:
    """K (n_a, n_b) float64 with K_ij = exp(−γ·max(‖aᵢ‖² + ‖bⱼ‖² − 2aᵢᵀbⱼ, 0)) for dense
    float64 A (n_a, d) and B (n_b, d) (B may be A itself)."""
    n_a, n_b = len(A), len(B)
    K = np.empty((n_a, n_b))
    sqa = np.einsum("ij,ij->i", A, A)
    sqb = sqa if B is A else np.einsum("ij,ij->i", B, B)
    BT = B.T
    rows = max(1, BLOCK_BYTES // (8 * max(n_b, 1)))
    bounds = np.linspace(0, n_a, min(MAX_BLOCKS, max(1, K.size // 2**16)) + 1).astype(np.int64)

    def job(b: int) -> None:
        for lo in range(bounds[b], bounds[b + 1], rows):
            hi = min(lo + rows, bounds[b + 1])
            np.matmul(A[lo:hi], BT, out=K[lo:hi])
            _rows(K, sqa, sqb, gamma, lo, hi, 0, n_b)

    # the blocks' products are small: one BLAS thread each, the blocks on the cores
    with blas_single_thread(float(K.size) * A.shape[1]):
        run_blocks(job, len(bounds) - 1)
    return K


def rbf_upper(A: np.ndarray, gamma: float) -> np.ndarray:
    """K (n, n) float64 whose upper triangle is exp(−γ·max(‖aᵢ‖² + ‖aⱼ‖² − 2aᵢᵀaⱼ, 0)) for
    dense float64 A (n, d), with the diagonal exactly 1; below the diagonal, 0 or K's value.

    Half the products and exponentials of ``rbf_matrix(A, A)``, for solvers that read one
    triangle (Cholesky, dsymv). Row block [lo, hi) makes columns [lo, n); the stripes of rows
    handed to the threads hold equal areas of the triangle (the k-th of B ends at
    n·(1 − √(1 − k/B))). The zeros are np.zeros' untouched pages: most of the lower triangle
    is never written.
    """
    n = len(A)
    K = np.zeros((n, n))
    sq = np.einsum("ij,ij->i", A, A)
    rows = max(1, BLOCK_BYTES // (8 * max(n, 1)))
    stripes = min(MAX_BLOCKS, max(1, n * n // 2**17))
    ends = n * (1.0 - np.sqrt(1.0 - np.arange(stripes + 1) / stripes))
    bounds = np.unique(np.rint(ends).astype(np.int64))

    def job(b: int) -> None:
        for lo in range(bounds[b], bounds[b + 1], rows):
            hi = min(lo + rows, bounds[b + 1])
            np.matmul(A[lo:hi], A[lo:].T, out=K[lo:hi, lo:])
            _rows(K, sq, sq, gamma, lo, hi, lo, n)

    with blas_single_thread(float(n) * n * A.shape[1] / 2):
        run_blocks(job, len(bounds) - 1)
    np.fill_diagonal(K, 1.0)  # ‖x − x‖ = 0 exactly, whatever the rounding of xᵀx
    return K


def rbf_from_gram(G: np.ndarray, sqa: np.ndarray, sqb: np.ndarray, gamma: float) -> np.ndarray:
    """G (n_a, n_b) float64 C-contiguous, overwritten with exp(−γ·max(sqa + sqb − 2G, 0));
    sqa (n_a,) and sqb (n_b,) the squared row norms. Returns G.

    The distance is floored at 0, which rounding can cross for near-equal rows."""
    n = len(G)
    bounds = np.linspace(0, n, min(MAX_BLOCKS, max(1, G.size // 2**16)) + 1).astype(np.int64)
    n_b = G.shape[1]
    run_blocks(
        lambda b: _rows(G, sqa, sqb, gamma, bounds[b], bounds[b + 1], 0, n_b), len(bounds) - 1
    )
    return G


@njit(cache=True, nogil=True)
def _rows(G, sqa, sqb, gamma, lo, hi, c0, c1):  # pragma: no cover - compiled
    """G[r, c0:c1] ← exp(−γ·max(sqa[r] + sqb[c0:c1] − 2G[r, c0:c1], 0)) for lo ≤ r < hi."""
    bits = np.empty(c1 - c0, dtype=np.int64)
    for r in range(lo, hi):
        g = G[r, c0:c1]
        s = sqa[r]
        for c in range(len(g)):
            g[c] = -gamma * max(s + sqb[c0 + c] - 2.0 * g[c], 0.0)
        vexp(g, bits)
