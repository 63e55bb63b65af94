"""LogisticRegression (solver "newton") on row-chunked dask arrays, on a real LocalCluster.

Each Newton iteration sums the blocks' −log-likelihood, gradient Σ sᵢ(pᵢ − yᵢ)x̃ᵢ and Hessian
X̃ᵀSX̃ on the workers; the fitted model equals the in-memory fit (and scikit-learn's).
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from dask.distributed import get_task_stream
from sklearn.linear_model import LogisticRegression as SkLogisticRegression

from qed.classify import LogisticRegression

RTOL = 1e-10


def _data(seed, n=900, d=5, k=2):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 2.0, size=d)
    W = rng.normal(size=(d, k))
    y = np.argmax(X @ W + rng.gumbel(size=(n, k)), axis=1)
    return X, y, rng.uniform(0.2, 2.0, size=n)


def _close(a, b, rtol=RTOL):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b))) <= rtol * max(1.0, float(np.max(np.abs(b))))


@pytest.mark.parametrize("k", [2, 3, 4])
@pytest.mark.parametrize(("C", "fit_intercept"), [(1.0, True), (0.05, True), (2.0, False)])
@pytest.mark.parametrize("weighted", [False, True])
def test_dask_newton_equals_in_memory_newton(client, k, C, fit_intercept, weighted):
    X, y, w = _data(k * 10 + int(weighted), k=k)
    sw = w if weighted else None
    params = dict(C=C, fit_intercept=fit_intercept, tol=1e-12)
    ref = LogisticRegression(**params).fit(X, y, sample_weight=sw)
    Xd, yd = da.from_array(X, chunks=(250, 5)), da.from_array(y, chunks=250)
    swd = None if sw is None else da.from_array(sw, chunks=400)  # chunks realigned to X's
    with get_task_stream(client) as ts:
        model = LogisticRegression(**params).fit(Xd, yd, sample_weight=swd)
    assert len(ts.data) >= Xd.numblocks[0]
    assert type(model.coef_) is np.ndarray and model.coef_.shape == ref.coef_.shape
    assert _close(model.coef_, ref.coef_)
    assert _close(model.intercept_, ref.intercept_)
    np.testing.assert_array_equal(model.classes_, ref.classes_)
    assert model.certificate(X, y, sample_weight=sw).holds
    # one Newton driver: without a warm start (< 16 blocks) the iterations are the same
    assert model.n_iter_[0] == ref.n_iter_[0]
    np.testing.assert_allclose(model.loss_curve_, ref.loss_curve_, rtol=1e-12)


def test_pure_mle_on_separable_dask_data_raises(client):
    """C = inf on separable classes: the shared driver's separation test runs on the blocks."""
    rng = np.random.default_rng(3)
    X = rng.normal(size=(400, 3))
    y = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)
    Xd, yd = da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    with pytest.raises(ValueError, match="linearly separable.*finite C"):
        LogisticRegression(C=np.inf).fit(Xd, yd)
    with pytest.raises(ValueError, match="linearly separable.*finite C"):
        LogisticRegression(C=np.inf).fit(X, y)


def test_dask_fit_matches_sklearn_with_string_labels(client):
    """Labels found by a blockwise unique reduction; sklearn's lbfgs optimum to its tolerance."""
    X, codes, _ = _data(7, k=3)
    names = np.array(["setosa", "versicolor", "virginica"])
    y = names[codes]
    model = LogisticRegression(C=0.5).fit(
        da.from_array(X, chunks=100), da.from_array(y, chunks=100)
    )
    ref = SkLogisticRegression(C=0.5, tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_array_equal(model.classes_, names)
    np.testing.assert_allclose(model.coef_, ref.coef_, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(model.intercept_, ref.intercept_, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("k", [2, 3])
def test_predictions_on_dask_are_lazy_and_equal(client, k):
    X, y, _ = _data(8, k=k)
    model = LogisticRegression().fit(X, y)
    Xd = da.from_array(X, chunks=(200, 2))
    for method in ("decision_function", "predict_proba", "predict_log_proba", "predict"):
        lazy = getattr(model, method)(Xd)
        assert isinstance(lazy, da.Array), method
        expected = getattr(model, method)(X)
        assert lazy.shape == expected.shape
        if method == "predict":
            np.testing.assert_array_equal(lazy.compute(), expected)
        else:
            np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-12, atol=1e-14)


def test_dask_logistic_errors(client):
    X, y, _ = _data(9, n=200)
    Xd = da.from_array(X, chunks=50)
    with pytest.raises(ValueError, match="at least 2 classes"):
        LogisticRegression().fit(Xd, da.zeros(200, chunks=50))
    with pytest.raises(ValueError, match="continuous"):
        LogisticRegression().fit(Xd, da.from_array(X[:, 0], chunks=50))
    with pytest.raises(ValueError, match="solver='newton' only"):
        LogisticRegression(solver="lbfgs").fit(Xd, y)
    bad = X.copy()
    bad[3, 3] = np.inf
    with pytest.raises(ValueError, match="NaN or infinite"):
        LogisticRegression().fit(da.from_array(bad, chunks=50), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LogisticRegression().fit(Xd, y[:-1])
    model = LogisticRegression().fit(Xd, y)
    with pytest.raises(ValueError, match="expecting 5 features"):
        model.predict_proba(da.from_array(X[:, :4], chunks=50))


@pytest.mark.parametrize("k", [2, 3])
def test_many_blocks_warm_start_reaches_the_same_optimum(client, k):
    """≥ 16 blocks: Newton starts from the optimum on every 8th block, then polishes on all
    of them; the answer is still the in-memory optimum."""
    X, y, _ = _data(11 + k, n=4000, k=k)
    ref = LogisticRegression(tol=1e-12).fit(X, y)
    model = LogisticRegression(tol=1e-12).fit(
        da.from_array(X, chunks=200), da.from_array(y, chunks=200)
    )
    assert _close(model.coef_, ref.coef_)
    assert _close(model.intercept_, ref.intercept_)
    assert model.loss_curve_[0] < np.log(k)  # it started from the subsample's optimum


def test_certificate_on_dask_data(client):
    """The certificate's gradient and Hessian summed on the cluster, as in memory."""
    X, y, w = _data(12, k=3)
    model = LogisticRegression(C=0.5).fit(X, y, sample_weight=w)
    Xd, yd, wd = (da.from_array(a, chunks=300) for a in (X, y, w))
    lazy, eager = model.certificate(Xd, yd, sample_weight=wd), model.certificate(X, y, w)
    assert lazy.holds and eager.holds
    assert [c.name for c in lazy.conditions] == ["stationarity", "hessian_psd"]
    assert (
        lazy.to_dict()["conditions"][0]["tolerance"]
        == eager.to_dict()["conditions"][0]["tolerance"]
    )
    for a, b in zip(lazy.to_dict()["conditions"], eager.to_dict()["conditions"]):
        assert a["value"] == pytest.approx(b["value"], rel=1e-3, abs=1e-14)
    model.coef_ = model.coef_ + 1e-3
    assert not model.certificate(Xd, yd, sample_weight=wd).holds
