"""The Array API path: torch tensors and array_api_strict arrays, float64 and float32.

LinearRegression, Ridge, KernelRidge, the kernels and qed.info compute in the caller's
namespace, on its device, and return that type; the numbers equal the numpy path's (float64
to 1e-10, float32 to float32 tolerances), which the linear and info suites prove against
scikit-learn and SciPy.
"""

from __future__ import annotations

import array_api_strict
import numpy as np
import pytest
import torch
from array_api_compat import device

from qed import info
from qed._array_api import get_namespace, to_numpy
from qed.kernels import linear_kernel, polynomial_kernel, rbf_kernel
from qed.linear import KernelRidge, LinearRegression, RankDeficiencyWarning, Ridge

BACKENDS = [
    ("array_api_strict", "float64"),
    ("array_api_strict", "float32"),
    ("torch", "float64"),
    ("torch", "float32"),
]
if torch.cuda.is_available():  # the same suite on GPU tensors where a GPU exists
    BACKENDS += [("torch-cuda", "float64"), ("torch-cuda", "float32")]
IDS = [f"{lib}-{dt}" for lib, dt in BACKENDS]


def _conv(lib, dt):
    if lib.startswith("torch"):
        dev = "cuda" if lib == "torch-cuda" else "cpu"
        return lambda a: torch.asarray(np.array(a), dtype=getattr(torch, dt), device=dev)
    return lambda a: array_api_strict.asarray(np.asarray(a), dtype=getattr(array_api_strict, dt))


def _rtol(dt):
    return 1e-10 if dt == "float64" else 2e-4


def _same_kind(out, like):
    """out is an array of like's library, dtype and device."""
    assert type(out) is type(like), type(out)
    assert out.dtype == like.dtype
    assert device(out) == device(like)


def _close(out, ref, dt, scale=None):
    got, ref = to_numpy(out).astype(np.float64), np.asarray(ref, np.float64)
    assert got.shape == ref.shape
    finite = np.isfinite(ref)  # D(p‖q) = inf where q = 0 < p: the same entries, both inf
    np.testing.assert_array_equal(got[~finite], ref[~finite])
    got, ref = got[finite], ref[finite]
    scale = max(float(np.max(np.abs(ref), initial=0.0)), 1.0) if scale is None else scale
    assert float(np.max(np.abs(got - ref), initial=0.0)) <= _rtol(dt) * scale


def _data(seed=0, n=60, d=4, t=None):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2, size=d) + 1.0
    B = rng.normal(size=(d,) if t is None else (d, t))
    y = X @ B + 0.3 * rng.normal(size=(n,) if t is None else (n, t))
    return X, y, rng.uniform(0.3, 2.0, size=n)


LINEAR = [
    lambda: LinearRegression(),
    lambda: LinearRegression(solver="qr"),
    lambda: LinearRegression(solver="svd"),
    lambda: LinearRegression(fit_intercept=False),
    lambda: Ridge(alpha=1.3),
    lambda: Ridge(alpha=0.5, solver="dual"),
    lambda: Ridge(alpha=2.0, fit_intercept=False),
]


@pytest.mark.parametrize(("lib", "dt"), BACKENDS, ids=IDS)
@pytest.mark.parametrize("make", LINEAR)
@pytest.mark.parametrize("t", [None, 2])
@pytest.mark.parametrize("weighted", [False, True])
def test_linear_models_in_the_callers_namespace(lib, dt, make, t, weighted):
    X, y, w = _data(1, t=t)
    conv = _conv(lib, dt)
    sw = w if weighted else None
    ref = make().fit(X, y, sample_weight=sw)
    Xa = conv(X)
    model = make().fit(Xa, conv(y), sample_weight=None if sw is None else conv(sw))
    _same_kind(model.coef_, Xa)
    _close(model.coef_, ref.coef_, dt)
    if model.fit_intercept:
        _same_kind(model.intercept_, Xa)
        _close(model.intercept_, ref.intercept_, dt)
    pred = model.predict(Xa)
    _same_kind(pred, Xa)
    _close(pred, ref.predict(X), dt)
    if isinstance(model, LinearRegression):
        _close(model.sigma2_, ref.sigma2_, dt, scale=float(np.max(ref.sigma2_)))
    assert model.certificate().holds
    assert model.n_features_in_ == 4


@pytest.mark.parametrize("lib", ["array_api_strict", "torch"])
def test_rank_deficient_least_squares_is_the_minimum_norm_solution(lib):
    X, y, _ = _data(2)
    X = np.column_stack([X, X[:, 0]])  # a duplicated column
    with pytest.warns(RankDeficiencyWarning):
        ref = LinearRegression().fit(X, y)
    with pytest.warns(RankDeficiencyWarning, match="rank 4 < 5"):
        model = LinearRegression().fit(_conv(lib, "float64")(X), _conv(lib, "float64")(y))
    _close(model.coef_, ref.coef_, "float64")
    assert model.rank_ == ref.rank_ == 4


@pytest.mark.parametrize(("lib", "dt"), BACKENDS, ids=IDS)
@pytest.mark.parametrize(
    ("kernel", "params"),
    [("linear", {}), ("rbf", {"gamma": 0.3}), ("poly", {"degree": 2, "coef0": 0.5})],
)
def test_kernel_ridge_and_kernels_in_the_callers_namespace(lib, dt, kernel, params):
    X, y, w = _data(3, n=40, t=2)
    conv = _conv(lib, dt)
    Xa = conv(X)
    ref = KernelRidge(alpha=0.7, kernel=kernel, **params).fit(X, y, sample_weight=w)
    model = KernelRidge(alpha=0.7, kernel=kernel, **params).fit(Xa, conv(y), sample_weight=conv(w))
    _same_kind(model.dual_coef_, Xa)
    _close(model.dual_coef_, ref.dual_coef_, dt)
    Z = X[:7] + 0.1
    pred = model.predict(conv(Z))
    _same_kind(pred, Xa)
    _close(pred, ref.predict(Z), dt)
    assert model.certificate().holds
    fn = {"linear": linear_kernel, "rbf": rbf_kernel, "poly": polynomial_kernel}[kernel]
    for args in ((X,), (X, Z)):
        K = fn(*[conv(a) for a in args], **params)
        _same_kind(K, Xa)
        _close(K, fn(*args, **params), dt)


def _distributions(seed):
    rng = np.random.default_rng(seed)
    p = rng.dirichlet(np.ones(7), size=3).T
    q = rng.dirichlet(np.ones(7), size=3).T
    p[2, 1] = 0.0
    p[:, 1] /= p[:, 1].sum()
    table = rng.dirichlet(np.ones(12)).reshape(3, 4)
    table[1, 2] = 0.0
    table /= table.sum()
    A, B = rng.normal(size=(3, 3)), rng.normal(size=(3, 3))
    return p, q, table, A @ A.T + np.eye(3), B @ B.T + np.eye(3)


INFO_CASES = [
    ("entropy", lambda p, q, t, c0, c1: (p,), {}),
    ("entropy", lambda p, q, t, c0, c1: (p,), {"axis": None, "normalize": True, "base": 2}),
    ("entropy", lambda p, q, t, c0, c1: (p.T,), {"axis": 1}),
    ("kl_divergence", lambda p, q, t, c0, c1: (p, q), {}),
    ("kl_divergence", lambda p, q, t, c0, c1: (q.T * 3, p.T * 2), {"axis": -1, "normalize": True}),
    ("cross_entropy", lambda p, q, t, c0, c1: (p, q), {"base": 2}),
    ("joint_entropy", lambda p, q, t, c0, c1: (t,), {}),
    ("conditional_entropy", lambda p, q, t, c0, c1: (t,), {"base": 10}),
    ("mutual_information", lambda p, q, t, c0, c1: (t,), {}),
    ("mutual_information", lambda p, q, t, c0, c1: (t * 50,), {"normalize": True}),
    ("self_information", lambda p, q, t, c0, c1: (q,), {"base": 2}),
    ("gaussian_entropy", lambda p, q, t, c0, c1: (c0,), {}),
    ("gaussian_entropy", lambda p, q, t, c0, c1: (np.diag(c1),), {"base": 2}),
    ("gaussian_kl", lambda p, q, t, c0, c1: (np.ones(3), c0, np.zeros(3), c1), {}),
]


@pytest.mark.parametrize(("lib", "dt"), BACKENDS, ids=IDS)
@pytest.mark.parametrize(("name", "args", "kwargs"), INFO_CASES)
@pytest.mark.parametrize("seed", [0, 1])
def test_info_in_the_callers_namespace(lib, dt, name, args, kwargs, seed):
    values = args(*_distributions(seed))
    ref = getattr(info, name)(*values, **kwargs)
    conv = _conv(lib, dt)
    xs = [conv(v) for v in values]
    out = getattr(info, name)(*xs, **kwargs)
    _same_kind(out, xs[0])
    _close(out, ref, dt)


@pytest.mark.parametrize("lib", ["array_api_strict", "torch"])
def test_info_edge_values_and_errors(lib):
    conv = _conv(lib, "float64")
    assert float(info.kl_divergence(conv([0.5, 0.5]), conv([1.0, 0.0]))) == np.inf
    assert float(info.cross_entropy(conv([0.0, 1.0]), conv([0.0, 1.0]))) == 0.0
    assert float(info.entropy(conv([1.0, 0.0, 0.0]))) == 0.0
    with pytest.raises(ValueError, match="NaN"):
        info.entropy(conv([0.5, np.nan]))
    with pytest.raises(ValueError, match="negative"):
        info.entropy(conv([1.5, -0.5]))
    with pytest.raises(ValueError, match="does not sum to 1"):
        info.entropy(conv([0.5, 0.6]))
    with pytest.raises(ValueError, match="same shape"):
        info.kl_divergence(conv([0.5, 0.5]), conv([0.2, 0.3, 0.5]))
    with pytest.raises(ValueError, match="positive definite"):
        info.gaussian_entropy(conv([[1.0, 2.0], [2.0, 1.0]]))
    with pytest.raises(ValueError, match="not symmetric"):
        info.gaussian_entropy(conv([[1.0, 0.5], [0.0, 1.0]]))


def test_linear_errors_and_namespace_rules():
    X, y, _ = _data(4)
    with pytest.raises(TypeError, match="cannot mix array libraries"):
        LinearRegression().fit(torch.asarray(X), array_api_strict.asarray(y))
    with pytest.raises(ValueError, match="NaN or infinity"):
        bad = X.copy()
        bad[0, 0] = np.inf
        Ridge().fit(torch.asarray(bad), torch.asarray(y))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        Ridge().fit(torch.asarray(X), torch.asarray(y[:-1]))
    model = LinearRegression().fit(torch.asarray(X), torch.asarray(y))
    with pytest.raises(ValueError, match="expecting 4 features"):
        model.predict(torch.asarray(X[:, :3]))
    # integer tensors are fitted in the namespace's float64, as numpy ints are
    ints = LinearRegression().fit(
        torch.asarray(np.round(X * 10).astype(np.int64)), torch.asarray(y)
    )
    assert ints.coef_.dtype == torch.float64
    assert get_namespace(np.ones(2), [1, 2])[1]
