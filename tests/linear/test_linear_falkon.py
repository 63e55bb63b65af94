"""KernelRidge(solver="falkon"): the Nyström kernel ridge problem, solved by FALKON's CG.

The peer: scikit-learn's Nystroem + Ridge(fit_intercept=False) on the same centres minimises
‖y − Zw‖²_W + λ‖w‖² over Z = K_nm K_mm^{-1/2}, which is the Nyström problem
‖y − K_nmβ‖²_W + λβᵀK_mmβ with β = K_mm^{-1/2}w: both give the same predictor. With every
sample a centre the Nyström problem is the exact kernel ridge problem (sklearn's KernelRidge).
"""

from __future__ import annotations

import warnings

import numba
import numpy as np
import pytest
from sklearn.kernel_approximation import Nystroem as SkNystroem
from sklearn.kernel_ridge import KernelRidge as SkKernelRidge
from sklearn.linear_model import Ridge as SkRidge
from sklearn.metrics.pairwise import pairwise_kernels
from sklearn.utils.estimator_checks import parametrize_with_checks

import qed.linear._falkon as falkon_module
import qed.linear.kernel_ridge as kernel_ridge_module
from qed._validation import ConvergenceWarning
from qed.linear import KernelRidge


def _data(seed, n, d, n_targets=None):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = np.sin(X @ rng.standard_normal(d)) + 0.3 * np.cos(X[:, 0])
    if n_targets is not None:
        y = np.column_stack([y * (k + 1) - k for k in range(n_targets)])
    y = y + 0.1 * rng.standard_normal(y.shape)
    return X, y, rng.uniform(0.2, 2.0, n), rng.standard_normal((40, d))


def _close(a, b, rtol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * max(np.max(np.abs(b)), 1.0))


def _sklearn_nystroem_ridge(model, X, y, sw, kernel_kw, alpha):
    """sklearn's Nystroem fitted on exactly our centres (all of them), then Ridge."""
    C = X[model.center_indices_]
    ny = SkNystroem(n_components=len(C), random_state=0, **kernel_kw).fit(C)
    ridge = SkRidge(alpha=alpha, fit_intercept=False, solver="cholesky")
    ridge.fit(ny.transform(X), y, sample_weight=sw)
    return lambda Z: ridge.predict(ny.transform(Z))


KERNELS = [
    {"kernel": "rbf", "gamma": 0.5},
    {"kernel": "rbf"},
    {"kernel": "poly", "degree": 2, "gamma": 0.3, "coef0": 1.0},
]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kernel_kw", KERNELS)
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_nystroem_ridge(seed, kernel_kw, weighted):
    """f(x) = K(x, C)β equals sklearn's Nystroem + Ridge on the same centres to ~1e-7."""
    X, y, w, X_new = _data(seed, 400, 3)
    sw = w if weighted else None
    m = 6 if kernel_kw["kernel"] == "poly" else 40  # poly degree 2 in d = 3: rank 10
    model = KernelRidge(
        alpha=0.3,
        solver="falkon",
        n_centers=m,
        random_state=seed,
        tol=1e-12,
        max_iter=500,
        **kernel_kw,
    ).fit(X, y, sw)
    ref = _sklearn_nystroem_ridge(model, X, y, sw, kernel_kw, 0.3)
    assert model.solver_ == "falkon" and model.dual_coef_.shape == (m,)
    np.testing.assert_array_equal(model.X_fit_, X[model.center_indices_])
    _close(model.predict(X_new), ref(X_new), rtol=1e-7)
    cert = model.certificate()
    assert cert.holds
    assert [c.name for c in cert.conditions] == ["nystroem_normal_equations"]


def test_multi_target_alpha_per_target_matches_sklearn():
    X, y, w, X_new = _data(3, 300, 3, n_targets=3)
    alpha = np.array([0.05, 1.0, 10.0])
    model = KernelRidge(
        alpha=alpha,
        kernel="rbf",
        gamma=0.4,
        solver="falkon",
        n_centers=30,
        random_state=0,
        tol=1e-12,
        max_iter=500,
    ).fit(X, y, w)
    ref = _sklearn_nystroem_ridge(model, X, y, w, {"kernel": "rbf", "gamma": 0.4}, alpha)
    assert model.predict(X_new).shape == (40, 3)
    _close(model.predict(X_new), ref(X_new), rtol=1e-7)
    assert model.certificate().holds


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_every_sample_a_centre_is_exact_kernel_ridge(seed, weighted):
    """C = X: K(K + λI)β = Ky, so β = α of sklearn's exact KernelRidge."""
    X, y, w, X_new = _data(seed, 150, 4)
    sw = w if weighted else None
    model = KernelRidge(
        alpha=0.2,
        kernel="rbf",
        solver="falkon",
        n_centers=150,
        random_state=seed,
        tol=1e-13,
        max_iter=500,
    ).fit(X, y, sw)
    ref = SkKernelRidge(alpha=0.2, kernel="rbf").fit(X, y, sample_weight=sw)
    _close(model.predict(X_new), ref.predict(X_new), rtol=1e-8)


def test_blocks_do_not_change_the_answer(monkeypatch):
    """Row blocks of one row each (in 16 stripes) give the same products as one block of all
    rows."""
    X, y, _, X_new = _data(4, 200, 3)
    kw = {"kernel": "rbf", "solver": "falkon", "n_centers": 25, "random_state": 1, "tol": 1e-12}
    monkeypatch.setattr(falkon_module, "CACHE_BYTES", 2**30)
    one = KernelRidge(**kw).fit(X, y)
    monkeypatch.setattr(falkon_module, "BLOCK_BYTES", 1)
    monkeypatch.setattr(falkon_module, "CACHE_BYTES", 1)
    many = KernelRidge(**kw).fit(X, y)
    _close(many.predict(X_new), one.predict(X_new), rtol=1e-10)


@pytest.mark.parametrize("kernel", ["rbf", "poly"])
def test_threads_do_not_change_a_bit(kernel):
    """The stripes are fixed by n, not by the thread count, and summed in order: the products,
    hence the fit, are the same to the bit on one thread or two, with K_nm's first rows kept
    between passes or not; and equal to K_nmᵀWK_nmU formed densely."""
    X, y, sw, _ = _data(6, 3000, 4)
    kern = falkon_module.NystroemKernel(kernel, X[:300], 0.4)
    U = np.random.default_rng(0).standard_normal((300, 2))
    before = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        one = falkon_module.nystroem_products(kern, X, y, sw, U)
        numba.set_num_threads(min(2, numba.config.NUMBA_NUM_THREADS))
        two = falkon_module.nystroem_products(kern, X, y, sw, U)
    finally:
        numba.set_num_threads(before)
    assert np.array_equal(one["hu"], two["hu"]) and np.array_equal(one["rhs"], two["rhs"])
    # a cache of the first rows (here 1,000 of them), filled by one pass and read by the
    # next, changes no bit either
    cache = falkon_module.BlockCache(kern, X, budget=1000 * 300 * 8)
    assert cache.rows == 1000
    for _ in range(2):
        cached = falkon_module.nystroem_products(kern, X, y, sw, U, cache)
        assert np.array_equal(cached["hu"], one["hu"]) and np.array_equal(cached["rhs"], one["rhs"])
    assert 0 < sum(len(K) for K in cache.blocks.values()) <= 1000
    extra = {"degree": 3, "coef0": 1} if kernel == "poly" else {}
    K = pairwise_kernels(X, X[:300], metric=kernel, gamma=0.4, **extra)
    _close(one["hu"], K.T @ (sw[:, None] * (K @ U)), rtol=1e-12)
    _close(one["rhs"], K.T @ (sw * y)[:, None], rtol=1e-12)


def test_auto_switches_to_falkon_above_the_threshold(monkeypatch):
    X, y, _, _ = _data(5, 120, 3)
    assert KernelRidge(kernel="rbf").fit(X, y).solver_ == "cholesky"
    monkeypatch.setattr(kernel_ridge_module, "_AUTO_MAX_N", 100)
    model = KernelRidge(kernel="rbf", random_state=0).fit(X, y)
    assert model.solver_ == "falkon"
    assert len(model.X_fit_) == int(np.ceil(5 * np.sqrt(120)))  # the default m = ⌈5√n⌉
    assert KernelRidge(kernel="precomputed").fit(X @ X.T, y).solver_ == "cholesky"


def test_certificate_fails_when_perturbed_and_checks_given_data():
    X, y, w, _ = _data(6, 300, 3)
    model = KernelRidge(kernel="rbf", solver="falkon", n_centers=30, random_state=0).fit(X, y, w)
    assert model.certificate().holds
    assert model.certificate(X, y, w).holds
    assert not model.certificate(X, y + 0.1, w).holds
    # the weights are part of the problem: without them, a clear error; with others, a failure
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        model.certificate(X, y)
    assert not model.certificate(X, y, np.ones(len(X))).holds
    model.dual_coef_ = model.dual_coef_ * (1 + 1e-4)
    assert not model.certificate(X, y, w).holds
    with pytest.raises(ValueError, match="changed since fit"):
        model.certificate()


def test_tol_and_max_iter_are_honoured():
    X, y, _, _ = _data(7, 400, 3)
    kw = {"kernel": "rbf", "gamma": 2.0, "solver": "falkon", "n_centers": 60, "random_state": 0}
    loose = KernelRidge(alpha=1e-3, tol=1e-2, **kw).fit(X, y)
    tight = KernelRidge(alpha=1e-3, tol=1e-10, max_iter=1000, **kw).fit(X, y)
    assert loose.n_iter_ < tight.n_iter_
    residual, rhs = loose._residual
    assert residual / rhs <= 1e-2 * 1.01
    with pytest.warns(ConvergenceWarning, match="max_iter=1"):
        stopped = KernelRidge(alpha=1e-3, tol=1e-10, max_iter=1, **kw).fit(X, y)
    assert stopped.n_iter_ == 1
    assert not stopped.certificate().holds


def test_callable_kernel_is_supported():
    X, y, _, X_new = _data(8, 120, 2)

    def rbf(a, b, g=0.5):
        return float(np.exp(-g * np.sum((a - b) ** 2)))

    kw = {"solver": "falkon", "n_centers": 15, "random_state": 0, "tol": 1e-12}
    ours = KernelRidge(kernel=rbf, kernel_params={"g": 0.7}, **kw).fit(X, y)
    named = KernelRidge(kernel="rbf", gamma=0.7, **kw).fit(X, y)
    _close(ours.predict(X_new), named.predict(X_new), rtol=1e-9)


def test_float32_stays_float32_and_close():
    X, y, _, X_new = _data(9, 300, 3)
    kw = {"kernel": "rbf", "solver": "falkon", "n_centers": 40, "random_state": 0}
    f32 = KernelRidge(**kw).fit(X.astype(np.float32), y.astype(np.float32))
    f64 = KernelRidge(**kw).fit(X, y)
    assert f32.dual_coef_.dtype == np.float32
    assert f32.predict(X_new.astype(np.float32)).dtype == np.float32
    assert f32.certificate().holds
    _close(f32.predict(X_new), f64.predict(X_new), rtol=1e-3)


def test_dask_fit_equals_in_memory_fit():
    da = pytest.importorskip("dask.array")
    X, y, w, X_new = _data(10, 500, 3, n_targets=2)
    kw = {"kernel": "rbf", "solver": "falkon", "n_centers": 50, "random_state": 3, "tol": 1e-12}
    mem = KernelRidge(alpha=np.array([0.3, 2.0]), max_iter=500, **kw).fit(X, y, w)
    Xd, yd, wd = da.from_array(X, chunks=(120, 3)), da.from_array(y, chunks=(90, 2)), w
    dist = KernelRidge(alpha=np.array([0.3, 2.0]), max_iter=500, **kw).fit(Xd, yd, wd)
    np.testing.assert_array_equal(dist.center_indices_, mem.center_indices_)
    _close(dist.predict(X_new), mem.predict(X_new), rtol=1e-9)
    assert dist.certificate().holds
    assert mem.certificate(Xd, yd, wd).holds
    pred = dist.predict(da.from_array(X_new, chunks=(15, 3)))
    _close(pred.compute(), mem.predict(X_new), rtol=1e-12)
    auto = KernelRidge(kernel="rbf", random_state=0, n_centers=20).fit(Xd, yd[:, 0])
    assert auto.solver_ == "falkon"
    with pytest.raises(ValueError, match="solver='falkon'"):
        KernelRidge(solver="cholesky").fit(Xd, yd)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_tensors_fit_in_torch(dtype):
    torch = pytest.importorskip("torch")
    X, y, w, X_new = _data(11, 300, 3)
    kw = {"kernel": "rbf", "solver": "falkon", "n_centers": 40, "random_state": 2, "tol": 1e-12}
    if dtype == "float32":
        kw["tol"] = 1e-4
    ref = KernelRidge(max_iter=500, **kw).fit(X.astype(dtype), y.astype(dtype), w)
    t = {"dtype": getattr(torch, dtype)}
    model = KernelRidge(max_iter=500, **kw).fit(
        torch.tensor(X, **t), torch.tensor(y, **t), torch.tensor(w, **t)
    )
    assert isinstance(model.dual_coef_, torch.Tensor) and isinstance(model.X_fit_, torch.Tensor)
    pred = model.predict(torch.tensor(X_new, **t))
    assert isinstance(pred, torch.Tensor) and pred.dtype == t["dtype"]
    _close(
        pred.numpy(), ref.predict(X_new.astype(dtype)), rtol=1e-8 if dtype == "float64" else 1e-3
    )
    assert model.certificate().holds


_MARK = parametrize_with_checks(
    [
        KernelRidge(kernel="rbf", solver="falkon"),
        KernelRidge(kernel="poly", solver="falkon"),
        KernelRidge(kernel="rbf", solver="falkon", center_selection="leverage"),
    ],
    expected_failed_checks=lambda est: {
        "check_sample_weight_equivalence_on_dense_data": (
            "the centres are drawn from the rows: repeating a row instead of weighting it "
            "changes which rows are drawn, hence the Nyström problem"
        )
    },
)
# check_array_api_input only runs when SCIPY_ARRAY_API=1 was set before SciPy was imported
# (else it skips itself); the torch path is tested above, so it is left out, not skipped.
_CHECKS = [
    case  # a (estimator, check) pair, or a pytest.param marked xfail
    for case in _MARK.args[1]
    if "check_array_api_input"
    not in getattr(
        getattr(case, "values", case)[1], "func", getattr(case, "values", case)[1]
    ).__name__
]


@pytest.mark.parametrize(_MARK.args[0], _CHECKS, ids=_MARK.kwargs.get("ids"))
def test_sklearn_compatible(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_array_api_strict_fits_in_its_namespace():
    xps = pytest.importorskip("array_api_strict")
    X, y, w, X_new = _data(12, 200, 3)
    kw = {"kernel": "poly", "degree": 2, "solver": "falkon", "n_centers": 8, "random_state": 0}
    ref = KernelRidge(tol=1e-12, max_iter=300, **kw).fit(X, y, w)
    model = KernelRidge(tol=1e-12, max_iter=300, **kw).fit(
        xps.asarray(X), xps.asarray(y), xps.asarray(w)
    )
    pred = model.predict(xps.asarray(X_new))
    assert isinstance(pred, type(xps.asarray(X)))
    _close(np.asarray(pred), ref.predict(X_new), rtol=1e-8)
    assert model.certificate().holds


@pytest.mark.parametrize("seed", [0, 5])
def test_same_seed_same_problem_as_sklearn_pipeline(seed):
    """An int random_state draws sklearn Nystroem's components: the pipelines agree."""
    X, y, _, X_new = _data(seed, 300, 3)
    model = KernelRidge(
        alpha=0.5,
        kernel="rbf",
        gamma=0.5,
        solver="falkon",
        n_centers=30,
        random_state=seed,
        tol=1e-12,
        max_iter=500,
    ).fit(X, y)
    ny = SkNystroem(gamma=0.5, n_components=30, random_state=seed).fit(X)
    np.testing.assert_array_equal(model.center_indices_, ny.component_indices_)
    ridge = SkRidge(alpha=0.5, fit_intercept=False).fit(ny.transform(X), y)
    _close(model.predict(X_new), ridge.predict(ny.transform(X_new)), rtol=1e-7)
