"""LinearRegression and Ridge on row-chunked dask arrays, fitted on a real LocalCluster.

The notes' normal equations need only XᵀWX, XᵀWy, the means and Σw: summed block by block on
the workers (Chan's merge of centered co-moments), they give the in-memory fit to rounding.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from dask.distributed import get_task_stream
from sklearn.linear_model import LinearRegression as SkLinearRegression

from qed.linear import LinearRegression, Ridge

RTOL = 1e-10


def _data(seed, n=600, d=6, t=None, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + offset
    B = rng.normal(size=(d,) if t is None else (d, t))
    y = X @ B + rng.normal(size=(n,) if t is None else (n, t))
    return X, y, rng.uniform(0.1, 2.0, size=n)


def _rel(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


ESTIMATORS = [
    lambda: LinearRegression(),
    lambda: LinearRegression(fit_intercept=False),
    lambda: Ridge(alpha=0.7),
    lambda: Ridge(alpha=5.0, fit_intercept=False),
]


@pytest.mark.parametrize("make", ESTIMATORS)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", ["none", "numpy", "dask"])
def test_dask_fit_equals_in_memory_fit(client, make, seed, weighted):
    """coef_ and intercept_ from per-block statistics equal the numpy fit to 1e-10."""
    X, y, w = _data(seed)
    sw = None if weighted == "none" else w
    ref = make().fit(X, y, sample_weight=sw)
    Xd, yd = da.from_array(X, chunks=(97, 6)), da.from_array(y, chunks=97)
    swd = da.from_array(w, chunks=97) if weighted == "dask" else sw
    with get_task_stream(client) as ts:
        model = make().fit(Xd, yd, sample_weight=swd)
    assert len(ts.data) >= Xd.numblocks[0]  # the blocks were summarised on the workers
    assert type(model.coef_) is np.ndarray
    assert _rel(model.coef_, ref.coef_) < RTOL
    assert abs(model.intercept_ - ref.intercept_) <= RTOL * max(1.0, abs(ref.intercept_))
    if isinstance(model, LinearRegression):
        assert model.sigma2_ == pytest.approx(ref.sigma2_, rel=1e-9)
    assert model.certificate().holds
    assert model.certificate(X, y, sample_weight=sw).holds


def test_dask_fit_matches_sklearn_multi_output_and_uneven_chunks(client):
    """Multi-output y, uneven and column-split chunks, y given as numpy: sklearn's answer."""
    X, Y, _ = _data(3, n=500, d=5, t=3)
    Xd = da.from_array(X, chunks=((50, 150, 1, 299), (2, 3)))
    model = LinearRegression().fit(Xd, Y)
    ref = SkLinearRegression().fit(X, Y)
    assert model.coef_.shape == (3, 5)
    assert _rel(model.coef_, ref.coef_) < RTOL
    assert _rel(model.intercept_, ref.intercept_) < RTOL
    ridge = Ridge(alpha=np.array([0.1, 1.0, 10.0])).fit(Xd, da.from_array(Y, chunks=(125, 3)))
    assert _rel(ridge.coef_, Ridge(alpha=np.array([0.1, 1.0, 10.0])).fit(X, Y).coef_) < RTOL


def test_large_means_keep_their_digits(client):
    """Means 1e6 times the spread: Chan's merge of centered moments keeps the in-memory answer
    (adding raw XᵀX per block and centering at the end would lose ~12 digits)."""
    X, y, _ = _data(4, n=800, d=4, offset=1e6)
    ref = LinearRegression().fit(X, y)
    model = LinearRegression().fit(da.from_array(X, chunks=100), da.from_array(y, chunks=100))
    assert _rel(model.coef_, ref.coef_) < 1e-8
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-8)


@pytest.mark.parametrize("make", [LinearRegression, lambda: Ridge(alpha=2.0)])
@pytest.mark.parametrize("t", [None, 2])
def test_predict_on_dask_is_lazy_and_equal(client, make, t):
    X, y, _ = _data(5, t=t)
    model = make().fit(X, y)
    Xd = da.from_array(X, chunks=(128, 3))
    pred = model.predict(Xd)
    assert isinstance(pred, da.Array)
    assert pred.shape == model.predict(X).shape
    np.testing.assert_allclose(pred.compute(), model.predict(X), rtol=1e-13, atol=1e-12)
    assert model.score(X, y) == pytest.approx(
        make().fit(da.from_array(X, chunks=100), y).score(X, y), rel=1e-12
    )


def test_dask_input_errors(client):
    X, y, _ = _data(6, n=100, d=3)
    Xd = da.from_array(X, chunks=25)
    with pytest.raises(ValueError, match="NaN or infinity"):
        bad = X.copy()
        bad[7, 1] = np.nan
        LinearRegression().fit(da.from_array(bad, chunks=25), y)
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        LinearRegression().fit(Xd, y[:-1])
    with pytest.raises(ValueError, match="unknown chunk sizes"):
        Xu = Xd[Xd[:, 0] > -10]
        LinearRegression().fit(Xu, da.from_array(y, chunks=25)[Xd[:, 0] > -10])
    with pytest.raises(ValueError, match="negative"):
        w = np.ones(100)
        w[3] = -1
        Ridge().fit(Xd, y, sample_weight=da.from_array(w, chunks=25))
    model = LinearRegression().fit(Xd, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        model.predict(da.from_array(X[:, :2], chunks=25))


@pytest.mark.parametrize("make", [LinearRegression, lambda: Ridge(alpha=3.0)])
def test_certificate_on_dask_data(client, make):
    """certificate(X, y) on dask arrays: the data's statistics summed on the cluster."""
    X, y, w = _data(7)
    model = make().fit(X, y, sample_weight=w)
    Xd, yd = da.from_array(X, chunks=150), da.from_array(y, chunks=150)
    assert model.certificate(Xd, yd, sample_weight=w).holds
    model.coef_ = model.coef_ * (1 + 1e-6)
    assert not model.certificate(Xd, yd, sample_weight=w).holds
