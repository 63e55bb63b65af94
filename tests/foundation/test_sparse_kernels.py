"""qed._sparse_kernels against scipy's own sparse products, and the solvers built on them.

Each compiled product is compared with scipy.sparse's product on the same matrix: random CSR
matrices of several shapes and densities, with empty rows and columns, int32 and int64 index
arrays, float32 and float64 values, unsorted indices. The scattering kernels add their row
blocks in a fixed order, so their result must not change with numba's thread count (checked
bit for bit). The sparse logistic pass and the intercept-exact preconditioner are checked
against their dense definitions.
"""

from __future__ import annotations

import numba
import numpy as np
import pytest
import scipy.sparse as sp
from hypothesis import given, settings
from hypothesis import strategies as st

from qed import _sparse_kernels as SK
from qed.classify import _logistic_kernels as K
from qed.classify import _logistic_loss as L

SHAPES = [(1, 1), (7, 3), (3, 40), (60, 200), (500, 40), (3000, 700)]
DENSITIES = [0.0, 0.01, 0.3, 1.0]


def _csr(n, d, density, seed, dtype=np.float64, index_dtype=np.int32, unsorted=False):
    """A random CSR matrix with its first row and last column emptied (edge cases)."""
    rng = np.random.default_rng(seed)
    A = sp.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    A.data = rng.standard_normal(A.nnz)
    A = A.tolil()
    A[0, :] = 0
    if d > 1:
        A[:, d - 1] = 0
    A = A.tocsr()
    A.eliminate_zeros()
    A.data = A.data.astype(dtype)
    A.indices = A.indices.astype(index_dtype)
    A.indptr = A.indptr.astype(index_dtype)
    if unsorted and A.nnz:
        for i in range(n):  # reverse each row's entries: same matrix, unsorted indices
            lo, hi = A.indptr[i], A.indptr[i + 1]
            A.indices[lo:hi] = A.indices[lo:hi][::-1].copy()
            A.data[lo:hi] = A.data[lo:hi][::-1].copy()
        A.has_sorted_indices = False
    return A


def _scale(*arrays):
    return max(1.0, *(float(np.abs(a).max(initial=0.0)) for a in arrays))


CASES = [
    (shape, density, dtype, index_dtype)
    for shape in SHAPES
    for density in DENSITIES
    for dtype, index_dtype in [(np.float64, np.int32), (np.float32, np.int64)]
]


@pytest.mark.parametrize("shape, density, dtype, index_dtype", CASES)
def test_every_product_equals_scipys(shape, density, dtype, index_dtype):
    n, d = shape
    A = _csr(n, d, density, seed=n + d, dtype=dtype, index_dtype=index_dtype)
    rng = np.random.default_rng(1)
    v, u, s = rng.standard_normal(d), rng.standard_normal(n), rng.uniform(0.0, 2.0, n)
    indptr, indices, data, bounds = SK.csr_arrays(A)
    A64 = A.astype(np.float64)  # the kernels accumulate in float64: compare with that
    tol = 1e-13 * max(1, n, d)

    out = SK.csr_matvec(indptr, indices, data, v, np.empty(n))
    np.testing.assert_allclose(out, A64 @ v, rtol=0, atol=tol * _scale(A64 @ v))

    out = SK.csr_rmatvec(indptr, indices, data, u, d, bounds)
    np.testing.assert_allclose(out, A64.T @ u, rtol=0, atol=tol * _scale(A64.T @ u))

    shift = 0.7
    r = s * (A64 @ v + shift)
    out, total = SK.csr_weighted_gram_matvec(indptr, indices, data, v, shift, s, bounds)
    np.testing.assert_allclose(out, A64.T @ r, rtol=0, atol=tol * _scale(A64.T @ r))
    assert total == pytest.approx(r.sum(), abs=tol * _scale(r))

    if dtype == np.float32:  # float32 sums on request, within float32's rounding
        v32, s32 = v.astype(np.float32), s.astype(np.float32)
        out, total = SK.csr_weighted_gram_matvec(
            indptr, indices, data, v32, shift, s32, bounds, single=True
        )
        np.testing.assert_allclose(out, A64.T @ r, rtol=0, atol=1e-5 * _scale(A64.T @ r))
        assert total == pytest.approx(r.sum(), abs=1e-5 * max(n, 1) * _scale(r))

    first, second = SK.csr_weighted_column_moments(indptr, indices, data, s, d, bounds)
    np.testing.assert_allclose(first, A64.T @ s, rtol=0, atol=tol * _scale(A64.T @ s))
    squares = A64.multiply(A64).T @ s
    np.testing.assert_allclose(second, squares, rtol=0, atol=tol * _scale(squares))

    # the fused start-of-fit pass: the same sums, bit for bit, and max|A|
    g, c, dg, top = SK.csr_rmatvec_and_moments(indptr, indices, data, u, s, d, bounds)
    np.testing.assert_array_equal(g, SK.csr_rmatvec(indptr, indices, data, u, d, bounds))
    np.testing.assert_array_equal(c, first)
    np.testing.assert_array_equal(dg, second)
    assert top == (float(np.abs(A64.data).max()) if A64.nnz else 0.0)


@pytest.mark.parametrize("shape", [(60, 200), (3000, 700)])
def test_unsorted_indices_give_the_same_products(shape):
    n, d = shape
    A = _csr(n, d, 0.05, seed=3, unsorted=True)
    assert not A.has_sorted_indices
    rng = np.random.default_rng(2)
    v, s = rng.standard_normal(d), rng.uniform(0.0, 2.0, n)
    indptr, indices, data, bounds = SK.csr_arrays(A)
    out, _ = SK.csr_weighted_gram_matvec(indptr, indices, data, v, 0.0, s, bounds)
    ref = A.T @ (s * (A @ v))
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-12 * _scale(ref))


def test_row_blocks_partition_the_rows_by_the_matrix_alone():
    for n, d, density in [(1, 1, 1.0), (10, 5, 0.0), (3000, 700, 0.05), (20000, 50, 0.2)]:
        A = _csr(n, d, density, seed=0)
        bounds = SK.row_blocks(A)
        assert bounds[0] == 0 and bounds[-1] == n
        assert np.all(np.diff(bounds) >= 0)
        expected = int(min(SK.MAX_BLOCKS, max(1, A.nnz // (SK.BLOCK_WORK * d))))
        assert bounds.size - 1 == expected
    A = _csr(20000, 50, 0.2, seed=0)  # many nonzeros per column: the most blocks, balanced
    per_block = np.diff(A.indptr[SK.row_blocks(A)])
    assert per_block.size == SK.MAX_BLOCKS
    assert per_block.max() <= per_block.min() + 2 * np.diff(A.indptr).max()


def test_results_do_not_depend_on_the_thread_count():
    A = _csr(5000, 300, 0.05, seed=4)
    rng = np.random.default_rng(5)
    v, u, s = rng.standard_normal(300), rng.standard_normal(5000), rng.uniform(0, 1, 5000)
    indptr, indices, data, bounds = SK.csr_arrays(A)
    assert bounds.size - 1 > 1  # several blocks: the order of their sum is what is tested
    y = (rng.random(5000) < 0.5).astype(float)
    before = numba.get_num_threads()
    results = []
    try:
        for threads in sorted({1, numba.config.NUMBA_NUM_THREADS}):
            numba.set_num_threads(threads)
            results.append(
                (
                    SK.csr_weighted_gram_matvec(indptr, indices, data, v, 0.3, s, bounds)[0],
                    SK.csr_rmatvec(indptr, indices, data, u, 300, bounds),
                    SK.csr_matvec(indptr, indices, data, v, np.empty(5000)),
                    *SK.csr_weighted_column_moments(indptr, indices, data, s, 300, bounds),
                    K.binary_sparse_pass(indptr, indices, data, v, 0.1, y, s, bounds)[1],
                )
            )
    finally:
        numba.set_num_threads(before)
    for first, other in zip(results[0], results[-1]):
        np.testing.assert_array_equal(first, other)


@settings(max_examples=40, deadline=None)
@given(
    n=st.integers(1, 40),
    d=st.integers(1, 30),
    density=st.floats(0.0, 1.0),
    seed=st.integers(0, 2**16),
)
def test_fused_product_is_the_two_products_property(n, d, density, seed):
    A = _csr(n, d, density, seed)
    rng = np.random.default_rng(seed)
    v, s = rng.standard_normal(d), rng.uniform(0, 3, n)
    out, total = SK.csr_weighted_gram_matvec(*SK.csr_arrays(A)[:3], v, -0.5, s, SK.row_blocks(A))
    r = s * (A @ v - 0.5)
    np.testing.assert_allclose(out, A.T @ r, rtol=0, atol=1e-12 * _scale(A.T @ r))
    assert total == pytest.approx(r.sum(), abs=1e-12 * _scale(r) * n)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_logistic_pass_equals_the_dense_pass(seed, weighted):
    rng = np.random.default_rng(seed)
    A = _csr(800, 120, 0.05, seed)
    w, b = rng.standard_normal(120), 0.4
    y = (rng.random(800) < 0.4).astype(float)
    sw = rng.uniform(0.2, 3.0, 800) if weighted else np.ones(800)
    f, g, wts = K.binary_sparse_pass(*SK.csr_arrays(A)[:3], w, b, y, sw, SK.row_blocks(A))
    f_d, g_d, wts_d, _ = K.binary_pass(A.toarray(), w, b, y, sw, False)
    assert f == pytest.approx(f_d, rel=1e-13)
    np.testing.assert_allclose(g, g_d, rtol=0, atol=1e-12 * _scale(g_d))
    np.testing.assert_allclose(wts, wts_d, rtol=1e-14, atol=0)


def _hessian_block(Xd, wts, alpha, fit_intercept):
    """The dense [X 1]ᵀW[X 1] + α·diag(1, …, 1, 0) of one score."""
    Xt = np.hstack([Xd, np.ones((Xd.shape[0], 1))]) if fit_intercept else Xd
    H = Xt.T @ (Xt * wts[:, None])
    H[np.arange(Xd.shape[1]), np.arange(Xd.shape[1])] += alpha
    return H


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [1, 3])
def test_intercept_jacobi_inverts_its_stated_matrix(fit_intercept, k):
    rng = np.random.default_rng(k)
    A = _csr(300, 25, 0.2, seed=k)
    A.data = np.abs(A.data)  # non-negative, like tf-idf: the mean direction matters
    Xd = A.toarray()
    sw = rng.uniform(0.5, 2.0, 300)
    if k == 1:
        aux = rng.uniform(0.0, 0.25, 300)
        weights = [aux]
    else:
        aux = rng.dirichlet(np.ones(k), 300)
        weights = [sw * aux[:, m] * (1.0 - aux[:, m]) for m in range(k)]
    lift = 0.0 if k == 1 else 1.0 / k
    alpha = 0.5
    apply = L.intercept_jacobi(A, aux, sw, alpha, fit_intercept, lift)
    dense_apply = L.intercept_jacobi(Xd, aux, sw, alpha, fit_intercept, lift)
    p = 25 + int(fit_intercept)
    R = rng.standard_normal((k, p))
    Z = apply(R)
    np.testing.assert_allclose(Z, dense_apply(R), rtol=1e-12, atol=1e-12)
    for m, wm in enumerate(weights):
        H = _hessian_block(Xd, wm, alpha, fit_intercept)
        if not fit_intercept:
            P = np.diag(np.diag(H))
        else:
            c, sigma = H[:-1, -1], H[-1, -1] + lift
            A_diag = np.diag(H)[:-1] - c**2 / sigma
            P = np.block([[np.diag(A_diag) + np.outer(c, c) / sigma, c[:, None]], [c, sigma]])
            # P agrees with H on the intercept's row and off the diagonal only through ccᵀ/σ
            np.testing.assert_allclose(P[-1, :-1], H[-1, :-1])
            np.testing.assert_allclose(np.diag(P)[:-1], np.diag(H)[:-1], rtol=1e-12)
        assert np.linalg.eigvalsh(P).min() > 0
        np.testing.assert_allclose(P @ Z[m], R[m], rtol=0, atol=1e-10 * _scale(R))


@pytest.mark.parametrize("threads", [1, 2])
def test_run_blocks_runs_every_block_once_and_reraises(threads):
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(min(threads, numba.config.NUMBA_NUM_THREADS))
        seen = []
        SK.run_blocks(seen.append, 7)
        assert sorted(seen) == list(range(7))

        def fail(b):
            if b == 3:
                raise RuntimeError("block 3")

        with pytest.raises(RuntimeError, match="block 3"):
            SK.run_blocks(fail, 5)
    finally:
        numba.set_num_threads(before)


def test_blas_single_thread_limits_blas_only_for_real_work():
    from threadpoolctl import threadpool_info

    def blas_threads():
        return {lib["num_threads"] for lib in threadpool_info() if lib["user_api"] == "blas"}

    with SK.blas_single_thread(SK.BLAS_SWITCH_MIN_WORK):
        assert blas_threads() <= {1}
    outside = blas_threads()
    with SK.blas_single_thread(SK.BLAS_SWITCH_MIN_WORK / 2):
        assert blas_threads() == outside


def test_a_forked_child_runs_the_blocks_on_threads_of_its_own():
    import multiprocessing

    threads = min(2, numba.config.NUMBA_NUM_THREADS)  # 2 starts the parent's pool
    A = _csr(5000, 300, 0.05, seed=6)
    v = np.random.default_rng(6).standard_normal(300)
    parts = SK.csr_arrays(A)
    before = numba.get_num_threads()
    numba.set_num_threads(threads)
    try:
        ref = SK.csr_weighted_gram_matvec(*parts[:3], v, 0.0, np.ones(5000), parts[3])[0]
        ctx = multiprocessing.get_context("fork")
        with ctx.Pool(1) as pool:  # the parent's pool exists now; the child must not wait on it
            result = pool.apply_async(_child_product, (A, v, threads)).get(timeout=30)
    finally:
        numba.set_num_threads(before)
    np.testing.assert_array_equal(result, ref)


def _child_product(A, v, threads):
    numba.set_num_threads(threads)
    parts = SK.csr_arrays(A)
    return SK.csr_weighted_gram_matvec(*parts[:3], v, 0.0, np.ones(A.shape[0]), parts[3])[0]


@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_logistic_start_at_zero_equals_the_general_pass(weighted):
    rng = np.random.default_rng(7)
    A = _csr(600, 90, 0.05, seed=7)
    y = (rng.random(600) < 0.3).astype(float)
    sw = rng.uniform(0.2, 3.0, 600) if weighted else np.ones(600)
    zero = np.zeros((1, 91))
    f, G, wts = L.binary_loss_grad(zero, A, y, sw, 0.7, True)
    f_d, g_d, wts_d, _ = K.binary_pass(A.toarray(), np.zeros(90), 0.0, y, sw, False)
    assert f == pytest.approx(f_d, rel=1e-13)
    np.testing.assert_allclose(G[0], g_d, rtol=0, atol=1e-12 * _scale(g_d))
    np.testing.assert_allclose(wts, wts_d, rtol=1e-15, atol=0)
