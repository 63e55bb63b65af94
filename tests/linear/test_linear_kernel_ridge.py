"""KernelRidge against scikit-learn's, and the notes' kernel identity."""

from __future__ import annotations

import itertools
import warnings

import numpy as np
import pytest
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.metrics.pairwise import rbf_kernel as sk_rbf

from qed.kernels import rbf_kernel
from qed.linear import KernelRidge, RankDeficiencyWarning, Ridge


def _data(seed, n, d, n_targets=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d))
    if n_targets is not None:
        y = np.column_stack([y * (k + 1) for k in range(n_targets)])
    y = y + 0.1 * rng.standard_normal(y.shape)
    return X, y, rng.uniform(0.2, 2.0, n), rng.standard_normal((7, d))


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(np.max(np.abs(b)), 1.0))


PARAMS = [
    {"kernel": "linear"},
    {"kernel": "rbf"},
    {"kernel": "rbf", "gamma": 0.3},
    {"kernel": "poly", "degree": 2, "coef0": 0.5},
    {"kernel": "polynomial", "degree": 3, "gamma": 0.2},
]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("shape", [(60, 3, None), (30, 8, 2)])
@pytest.mark.parametrize("params", PARAMS)
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn(seed, shape, params, weighted):
    """dual_coef_ = (K + λI)⁻¹y and K(x, X)α equal sklearn's KernelRidge to ~1e-8."""
    X, y, w, X_new = _data(seed, *shape)
    sw = w if weighted else None
    ours = KernelRidge(alpha=0.7, **params).fit(X, y, sw)
    ref = SkKernelRidge(alpha=0.7, **params).fit(X, y, sample_weight=sw)
    assert ours.dual_coef_.shape == ref.dual_coef_.shape
    _close(ours.dual_coef_, ref.dual_coef_)
    _close(ours.predict(X_new), ref.predict(X_new))
    np.testing.assert_array_equal(ours.X_fit_, X)
    assert ours.certificate().holds


def test_alpha_per_target_and_precomputed():
    X, y, _, X_new = _data(2, 40, 3, n_targets=3)
    alpha = np.array([0.1, 1.0, 5.0])
    ours = KernelRidge(alpha=alpha, kernel="rbf").fit(X, y)
    ref = SkKernelRidge(alpha=alpha, kernel="rbf").fit(X, y)
    _close(ours.dual_coef_, ref.dual_coef_)
    K, K_new = rbf_kernel(X, gamma=0.4), rbf_kernel(X_new, X, gamma=0.4)
    K_before = K.copy()
    pre = KernelRidge(alpha=0.5, kernel="precomputed").fit(K, y)
    np.testing.assert_array_equal(K, K_before)  # the user's matrix is not overwritten
    direct = KernelRidge(alpha=0.5, kernel="rbf", gamma=0.4).fit(X, y)
    _close(pre.dual_coef_, direct.dual_coef_, rtol=1e-12)
    _close(pre.predict(K_new), direct.predict(X_new), rtol=1e-12)
    assert pre.certificate().holds


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(50, 4), (15, 30)])
def test_linear_kernel_equals_ridge_without_intercept(seed, shape):
    """Notes: β* = φ(X)(φ(X)ᵀφ(X) + λI)⁻¹y, so Xᵀα is ridge's β and K(x, X)α = xᵀβ."""
    X, y, _, X_new = _data(seed, *shape)
    krr = KernelRidge(alpha=1.3, kernel="linear").fit(X, y)
    ridge = Ridge(alpha=1.3, fit_intercept=False).fit(X, y)
    _close(X.T @ krr.dual_coef_, ridge.coef_, rtol=1e-9)
    _close(krr.predict(X_new), ridge.predict(X_new), rtol=1e-9)


def test_callable_kernel_matches_sklearn():
    X, y, _, X_new = _data(0, 25, 2)

    def quadratic(a, b, c=1.0):
        return float((a @ b + c) ** 2)

    ours = KernelRidge(kernel=quadratic, kernel_params={"c": 2.0}).fit(X, y)
    ref = SkKernelRidge(kernel=quadratic, kernel_params={"c": 2.0}).fit(X, y)
    _close(ours.dual_coef_, ref.dual_coef_)
    _close(ours.predict(X_new), ref.predict(X_new))


def test_float32_stays_float32():
    X, y, _, X_new = _data(1, 50, 3)
    ours = KernelRidge(kernel="rbf").fit(X.astype(np.float32), y.astype(np.float32))
    assert ours.dual_coef_.dtype == np.float32
    assert ours.predict(X_new.astype(np.float32)).dtype == np.float32
    ref = SkKernelRidge(kernel="rbf").fit(X, y)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-3, atol=1e-4)


def test_singular_system_falls_back_with_warning():
    X, y, _, _ = _data(0, 20, 2)
    X = np.vstack([X, X[:3]])  # repeated points: K singular when alpha = 0
    y = np.concatenate([y, y[:3]])
    with pytest.warns(RankDeficiencyWarning, match="least-squares"):
        ours = KernelRidge(alpha=0.0, kernel="linear").fit(X, y)
    with pytest.warns(UserWarning):
        ref = SkKernelRidge(alpha=0.0, kernel="linear").fit(X, y)
    _close(ours.predict(X), ref.predict(X), rtol=1e-6)


def test_certificate_fails_when_perturbed_and_checks_given_data():
    X, y, w, _ = _data(3, 40, 3)
    model = KernelRidge(alpha=0.5, kernel="rbf").fit(X, y, w)
    assert model.certificate().holds
    assert [c.name for c in model.certificate().conditions] == ["dual_equations"]
    assert model.solver_ == "cholesky" and model.n_iter_ == 1
    assert model.certificate(X, y, w).holds
    assert not model.certificate(X, y + 1e-3, w).holds
    model.dual_coef_ = model.dual_coef_ * (1 + 1e-6)
    assert not model.certificate().holds
    with pytest.raises(ValueError, match="training samples"):
        model.certificate(X[:10], y[:10], w[:10])


def test_bad_input():
    X, y, _, _ = _data(0, 10, 2)
    with pytest.raises(ValueError, match="not supported"):
        KernelRidge(kernel="chi3").fit(X, y)
    with pytest.raises(ValueError, match="square training kernel"):
        KernelRidge(kernel="precomputed").fit(X, y)
    with pytest.raises(ValueError, match="alpha must be finite"):
        KernelRidge(alpha=-1).fit(X, y)
    with pytest.raises(ValueError, match="not fitted yet"):
        KernelRidge().predict(X)
    with pytest.raises(ValueError, match="expecting 2 features"):
        KernelRidge().fit(X, y).predict(X[:, :1])


@pytest.mark.parametrize(
    "kernel, alpha",
    [
        ("rbf", 1.0),
        ("rbf", 1e-3),
        ("linear", 1.0),
        ("linear", 1e-3),
        ("rbf", 1e-5),
    ],  # κ(K + λI) ≈ 2e7 > 1/eps32: refinement declines, float64 Cholesky
)
def test_large_n_mixed_precision_path_matches_sklearn(kernel, alpha):
    """n ≥ 500 solves by float32 Cholesky + float64 refinement (dsposv's scheme) when
    K + λI is well conditioned, and in float64 when not: both agree with sklearn."""
    X, y, w, X_new = _data(5, 600, 4)
    for sw in (None, w):
        ours = KernelRidge(alpha=alpha, kernel=kernel).fit(X, y, sw)
        ref = SkKernelRidge(alpha=alpha, kernel=kernel).fit(X, y, sample_weight=sw)
        scale = np.abs(ref.predict(X_new)).max()
        np.testing.assert_allclose(
            ours.predict(X_new), ref.predict(X_new), rtol=1e-8, atol=1e-8 * scale
        )
        assert ours.certificate().holds


def test_upper_to_single_casts_the_upper_triangle_and_measures_the_inf_norm():
    """A's upper triangle in float32 (as numpy rounds it), written into A32's lower triangle,
    which spotrf reads; and ‖A‖∞ of the symmetric A, measured from that triangle alone."""
    from qed.linear._solvers import _upper_to_single

    rng = np.random.default_rng(1)
    for n in (1, 2, 7, 300):
        M = rng.standard_normal((n, n)) * 10.0 ** rng.uniform(-3, 3, (n, n))
        A = M + M.T
        A32 = np.full((n, n), np.nan, dtype=np.float32)
        norm = _upper_to_single(A, A32)
        upper = np.triu_indices(n)
        np.testing.assert_array_equal(A32.T[upper], A[upper].astype(np.float32))
        assert np.isnan(A32[np.triu_indices(n, 1)]).all()  # A32's upper triangle is not touched
        np.testing.assert_allclose(norm, np.abs(A).sum(axis=1).max(), rtol=1e-13)


@pytest.mark.parametrize("n", [40, 700])  # the float64 Cholesky and the refined float32 one
@pytest.mark.parametrize("alpha", [0.3, 0.0])  # 0.0: singular, the least-squares fallback
def test_solve_reads_only_the_upper_triangle(n, alpha):
    """solve_kernel_ridge reads K's upper triangle alone (as scipy's solve(assume_a="pos")):
    NaN below the diagonal changes nothing, on every path."""
    from qed.linear.kernel_ridge import solve_kernel_ridge

    rng = np.random.default_rng(n)
    X = rng.standard_normal((n, 3 if alpha == 0.0 else 6))
    K = X @ X.T if alpha == 0.0 else sk_rbf(X, gamma=0.2)
    Y = rng.standard_normal((n, 2))
    sw = rng.uniform(0.5, 2.0, n)
    full = solve_kernel_ridge(K.copy(), Y, np.full(2, alpha), sw)
    half = K.copy()
    half[np.tril_indices(n, -1)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RankDeficiencyWarning)
        got = solve_kernel_ridge(half, Y, np.full(2, alpha), sw)
    np.testing.assert_array_equal(got, full)


def test_rbf_upper_is_the_upper_triangle_of_the_rbf_kernel():
    """rbf_upper's upper triangle equals scikit-learn's rbf kernel (over stripes of equal
    area: n = 1300 makes 8 of them), diagonal exactly 1."""
    from qed._rbf import rbf_upper

    rng = np.random.default_rng(7)
    for n in (1, 3, 500, 1300):
        X = rng.standard_normal((n, 5))
        K = rbf_upper(X, 0.3)
        ref = sk_rbf(X, gamma=0.3)
        upper = np.triu_indices(n)
        np.testing.assert_allclose(K[upper], ref[upper], rtol=1e-14, atol=1e-15)
        assert np.all(np.diag(K) == 1.0)


def test_refined_solve_is_double_precision_or_declines():
    """spd_solve_refined reaches float64's backward error, or returns None (κ ≳ 1/eps32)."""
    from scipy import linalg

    from qed.linear._solvers import spd_solve_refined

    rng = np.random.default_rng(0)
    Q = np.linalg.qr(rng.standard_normal((300, 300)))[0]
    for (cond, solvable), t in itertools.product(((1e2, True), (1e5, True), (1e12, False)), (1, 2)):
        B = rng.standard_normal((300, t))  # one column: the residual by dsymv, else a product
        A = (Q * np.geomspace(1.0, 1.0 / cond, 300)) @ Q.T
        A = 0.5 * (A + A.T)
        X = spd_solve_refined(A, B)
        if not solvable:
            assert X is None
            continue
        exact = linalg.cho_solve(linalg.cho_factor(A), B)
        np.testing.assert_allclose(X, exact, rtol=cond * 1e-13, atol=0)
        residual = np.abs(B - A @ X).max() / (np.abs(A).sum(axis=1).max() * np.abs(X).max())
        assert residual <= np.sqrt(300) * np.finfo(float).eps


@pytest.mark.parametrize("kernel", ["linear", "rbf", "poly"])
@pytest.mark.parametrize("fmt", ["csr", "csc"])
def test_sparse_input_equals_dense_and_sklearn(kernel, fmt):
    """Sparse X: the kernels are sparse products (only K is dense), equal to the dense fit
    and to scikit-learn's KernelRidge on the same sparse X; certificate and saving work."""
    import tempfile
    from pathlib import Path

    from scipy import sparse
    from sklearn.kernel_ridge import KernelRidge as SkKernelRidge

    import qed

    rng = np.random.default_rng(5)
    X = rng.normal(size=(60, 7))
    X[X < 0.5] = 0.0
    y = X @ rng.normal(size=7) + 0.1 * rng.normal(size=60)
    Xs = sparse.csr_matrix(X).asformat(fmt)
    ours = KernelRidge(alpha=0.5, kernel=kernel, gamma=0.2).fit(Xs, y)
    dense = KernelRidge(alpha=0.5, kernel=kernel, gamma=0.2).fit(X, y)
    ref = SkKernelRidge(alpha=0.5, kernel=kernel, gamma=0.2).fit(Xs, y)
    np.testing.assert_allclose(ours.dual_coef_, dense.dual_coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(ours.predict(Xs[:9]), ref.predict(Xs[:9]), rtol=1e-8, atol=1e-10)
    assert ours.certificate().holds and ours.certificate(Xs, y).holds
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "m.qed"
        qed.save(ours, path)
        np.testing.assert_array_equal(qed.load(path).predict(Xs), ours.predict(Xs))


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_refined_solve_is_as_exact_as_float64_cholesky_when_ill_conditioned(seed):
    """A linear kernel on 4 features, n = 600, λ = 1e-3 (κ ≈ 10⁶): the dual solution is
    ill-conditioned but its predictions are the primal ridge's, a 4 × 4 well-conditioned
    solve. The mixed-precision solve (refinement one step past dsposv's test) is within 10κ·eps of that answer, about the floor of a float64 solve of the dual
    (scikit-learn's float64 Cholesky: 4e-11 to 4e-10); stopping at dsposv's test alone left
    1.6e-8 (seed 5, weighted)."""
    X, y, w, X_new = _data(seed, 600, 4)
    for sw in (None, w):
        W = np.ones(len(y)) if sw is None else sw
        beta = np.linalg.solve(X.T @ (W[:, None] * X) + 1e-3 * np.eye(4), X.T @ (W * y))
        truth = X_new @ beta
        ours = KernelRidge(alpha=1e-3, kernel="linear").fit(X, y, sw).predict(X_new)
        root = np.sqrt(W)
        top = np.linalg.eigvalsh((root[:, None] * X) @ (root[:, None] * X).T)[-1]
        kappa = (top + 1e-3) / 1e-3
        err = np.abs(ours - truth).max() / np.abs(truth).max()
        assert err <= 10 * kappa * np.finfo(float).eps, (err, kappa)
