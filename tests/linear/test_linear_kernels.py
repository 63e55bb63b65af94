"""qed.kernels against sklearn.metrics.pairwise, and the defining kernel properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import pairwise

from qed.kernels import linear_kernel, pairwise_kernel, polynomial_kernel, rbf_kernel

CASES = [
    (linear_kernel, pairwise.linear_kernel, {}),
    (polynomial_kernel, pairwise.polynomial_kernel, {}),
    (polynomial_kernel, pairwise.polynomial_kernel, {"degree": 2, "gamma": 0.3, "coef0": 0.5}),
    (polynomial_kernel, pairwise.polynomial_kernel, {"degree": 4, "gamma": 1.0, "coef0": 0.0}),
    (rbf_kernel, pairwise.rbf_kernel, {}),
    (rbf_kernel, pairwise.rbf_kernel, {"gamma": 0.05}),
    (rbf_kernel, pairwise.rbf_kernel, {"gamma": 3.0}),
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shapes", [((30, 4), (11, 4)), ((5, 20), (50, 20)), ((1, 1), (3, 1))])
@pytest.mark.parametrize("ours, ref, params", CASES)
def test_matches_sklearn_pairwise(seed, shapes, ours, ref, params):
    """K(X, Y) and K(X) equal sklearn's to ~1e-8 relative, γ defaulting to 1/n_features."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal(shapes[0]) + 0.5
    Y = rng.standard_normal(shapes[1])
    for got, want in (
        (ours(X, Y, **params), ref(X, Y, **params)),
        (ours(X, **params), ref(X, **params)),
    ):
        assert got.shape == want.shape and got.dtype == np.float64
        np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-12 * np.abs(want).max())


@pytest.mark.parametrize("ours, ref, params", CASES)
def test_float32_in_float32_out(ours, ref, params):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((20, 3)).astype(np.float32)
    got = ours(X, X[:7], **params)
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, ref(X, X[:7], **params), rtol=1e-4, atol=1e-5)


def test_rbf_diagonal_is_exactly_one_and_values_in_unit_interval():
    X = np.random.default_rng(1).standard_normal((40, 6)) * 100
    K = rbf_kernel(X, gamma=1e-4)
    assert np.all(np.diag(K) == 1.0)
    assert np.all((K >= 0) & (K <= 1))


@settings(max_examples=30, deadline=None)
@given(
    n=st.integers(1, 25),
    d=st.integers(1, 5),
    seed=st.integers(0, 2**16),
    gamma=st.floats(1e-3, 10.0),
)
def test_kernel_matrices_are_symmetric_psd(n, d, seed, gamma):
    """Property: K(X, X) = φ(X)ᵀφ(X) is symmetric positive semi-definite (Mercer)."""
    X = np.random.default_rng(seed).standard_normal((n, d))
    for K in (
        linear_kernel(X),
        rbf_kernel(X, gamma=gamma),
        polynomial_kernel(X, degree=2, gamma=gamma, coef0=1.0),
    ):
        np.testing.assert_allclose(K, K.T, rtol=1e-12, atol=1e-12)
        eig = np.linalg.eigvalsh(K)
        assert eig.min() >= -1e-9 * max(eig.max(), 1.0)


def test_polynomial_kernel_is_a_feature_map():
    """(xᵀy + 1)² = φ(x)ᵀφ(y) with φ(x) = (1, √2x₁, √2x₂, x₁², √2x₁x₂, x₂²)."""
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((6, 2)), rng.standard_normal((4, 2))

    def phi(Z):
        a, b = Z[:, 0], Z[:, 1]
        r = np.sqrt(2)
        return np.column_stack([np.ones(len(Z)), r * a, r * b, a * a, r * a * b, b * b])

    np.testing.assert_allclose(
        polynomial_kernel(X, Y, degree=2, gamma=1.0, coef0=1.0),
        phi(X) @ phi(Y).T,
        rtol=1e-12,
        atol=1e-14,
    )


def test_pairwise_kernel_dispatch_and_callable():
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((8, 3)), rng.standard_normal((5, 3))
    np.testing.assert_array_equal(
        pairwise_kernel(X, Y, "rbf", gamma=0.2, degree=9), rbf_kernel(X, Y, gamma=0.2)
    )

    def laplace(x, y, scale=1.0):
        return float(np.exp(-np.abs(x - y).sum() / scale))

    got = pairwise_kernel(X, Y, laplace, scale=2.0)
    want = pairwise.pairwise_kernels(X, Y, metric=laplace, scale=2.0)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    np.testing.assert_allclose(
        pairwise_kernel(X, None, laplace), pairwise.pairwise_kernels(X, metric=laplace), rtol=1e-12
    )


@pytest.mark.parametrize(
    "call, error, match",
    [
        (lambda X: linear_kernel(X, X[:, :2]), ValueError, "Incompatible dimension"),
        (lambda X: rbf_kernel(X, gamma=-1.0), ValueError, "gamma == -1.0"),
        (lambda X: rbf_kernel(X, gamma=0.0), ValueError, "gamma"),
        (lambda X: polynomial_kernel(X, degree=-2), ValueError, "degree"),
        (lambda X: rbf_kernel(X[:, 0]), ValueError, "Expected 2D array"),
        (lambda X: linear_kernel(np.where(X > 0, np.nan, X)), ValueError, "NaN"),
        (lambda X: pairwise_kernel(X, kernel="cosine"), ValueError, "Unknown kernel"),
        (lambda X: pairwise_kernel(X, kernel=3), TypeError, "string or a callable"),
    ],
)
def test_bad_input(call, error, match):
    X = np.random.default_rng(0).standard_normal((5, 3))
    with pytest.raises(error, match=match):
        call(X)


def test_one_gamma_rule_for_numpy_and_array_api():
    """γ = 1/n_features by default, else positive: one definition serves both code paths."""
    import qed._kernels_xp
    import qed.kernels

    assert qed.kernels.resolve_gamma is qed._kernels_xp.resolve_gamma
    assert qed.kernels.resolve_gamma(None, 4) == 0.25
    with pytest.raises(ValueError, match="gamma"):
        qed.kernels.resolve_gamma(0.0, 4)


@pytest.mark.parametrize("name", ["linear_kernel", "polynomial_kernel", "rbf_kernel"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_sparse_inputs_match_sklearn(name, dtype):
    """Sparse X and Y (CSR, CSC) give scikit-learn's kernel on the same sparse input."""
    from scipy import sparse

    import qed.kernels as K

    rng = np.random.default_rng(9)
    X, Y = rng.normal(size=(20, 6)), rng.normal(size=(7, 6))
    X[X < 0.3], Y[Y < 0.3] = 0.0, 0.0
    Xs, Ys = sparse.csr_matrix(X, dtype=dtype), sparse.csc_matrix(Y, dtype=dtype)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for args in ((Xs,), (Xs, Ys)):
        ours, ref = getattr(K, name)(*args), getattr(pairwise, name)(*args)
        assert isinstance(ours, np.ndarray) and ours.dtype == dtype
        np.testing.assert_allclose(ours, ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("shapes", [((700, 5), (900, 5)), ((1200, 3), None), ((3, 2), (5000, 2))])
def test_rbf_in_blocks_matches_sklearn(dtype, shapes):
    """Shapes that span many row blocks and both threads of ``qed._rbf.rbf_matrix`` (a block's
    product by BLAS, then its exponentials): equal to scikit-learn's rbf_kernel, with the
    diagonal exactly 1 when Y is X."""
    rng = np.random.default_rng(len(shapes[0]))
    X = (rng.standard_normal(shapes[0]) + 0.5).astype(dtype)
    Y = None if shapes[1] is None else rng.standard_normal(shapes[1]).astype(dtype)
    got, want = rbf_kernel(X, Y, gamma=0.3), pairwise.rbf_kernel(X, Y, gamma=0.3)
    assert got.dtype == dtype
    tol = dict(rtol=1e-5, atol=1e-6) if dtype == np.float32 else dict(rtol=1e-8, atol=1e-12)
    np.testing.assert_allclose(got, want, **tol)
    if Y is None:
        np.testing.assert_array_equal(np.diag(got), 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_callable_kernel_gets_a_gamma_given_in_kernel_params(seed):
    """kernel_params={"gamma": …} reaches a callable, as in scikit-learn's KernelRidge."""
    from sklearn.kernel_ridge import KernelRidge as SkKernelRidge

    from qed.linear import KernelRidge

    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((30, 3)), rng.standard_normal(30)

    def k(a, b, gamma):
        return float(np.exp(-gamma * np.abs(a - b).sum()))

    kw = {"alpha": 0.5, "kernel": k, "kernel_params": {"gamma": 0.4}}
    ours, ref = KernelRidge(**kw).fit(X, y), SkKernelRidge(**kw).fit(X, y)
    np.testing.assert_allclose(ours.predict(X[:5]), ref.predict(X[:5]), rtol=1e-10)
    got = pairwise_kernel(X, None, k, gamma=0.4)
    np.testing.assert_allclose(got, pairwise.pairwise_kernels(X, metric=k, gamma=0.4), rtol=1e-12)


@pytest.mark.parametrize("seed", [0, 7, 2**31 - 1])
def test_random_source_follows_sklearn_check_random_state(seed):
    """An int seeds RandomState as scikit-learn's check_random_state does (same stream); a
    Generator or RandomState is used as given; None gives a fresh Generator."""
    from sklearn.utils import check_random_state

    from qed.kernels import random_source

    np.testing.assert_array_equal(
        random_source(seed).permutation(50), check_random_state(seed).permutation(50)
    )
    gen, rs = np.random.default_rng(seed), np.random.RandomState(seed)
    assert random_source(gen) is gen and random_source(rs) is rs
    assert isinstance(random_source(None), np.random.Generator)


@pytest.mark.parametrize("bad", ["x", 1.5, True, [1, 2]])
def test_random_source_refuses_other_types(bad):
    from qed.kernels import random_source

    with pytest.raises(TypeError, match="random_state must be None, an int"):
        random_source(bad)
