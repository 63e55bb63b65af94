"""partial_fit: streaming chunks into LinearRegression, Ridge and BetaBernoulli equals one fit.

Chunks are merged by Chan's update of means and centered co-moments, so the order and size of
the chunks do not matter; a CSV streamed by ``qed.datasets.iter_csv`` gives the batch fit.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import Ridge as SkRidge

import qed
from qed.bayes import BetaBernoulli
from qed.datasets import iter_csv
from qed.linear import LinearRegression, Ridge

RTOL = 1e-10


def _data(seed, n=400, d=5, offset=0.0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + offset
    y = X @ rng.normal(size=d) + rng.normal(size=n) + 3.0
    return X, y


def _rel(a, b):
    return float(np.max(np.abs(np.asarray(a) - b)) / np.max(np.abs(b)))


@pytest.mark.parametrize(
    ("make", "offset"),
    [
        (LinearRegression, 0.0),
        (LinearRegression, 1e4),
        (lambda: Ridge(alpha=1.5), 0.0),
        (lambda: Ridge(alpha=1.5), 1e4),
        (lambda: Ridge(alpha=0.3, fit_intercept=False), 0.0),
    ],
)
def test_partial_fit_over_chunks_equals_fit(make, offset):
    X, y = _data(0, offset=offset)
    w = np.random.default_rng(1).uniform(0.2, 3, size=len(y))
    ref = make().fit(X, y, sample_weight=w)
    model = make()
    for lo, hi in [(0, 20), (20, 50), (50, 51), (51, 230), (230, 400)]:
        model.partial_fit(X[lo:hi], y[lo:hi], sample_weight=w[lo:hi])
    assert _rel(model.coef_, ref.coef_) < (RTOL if offset == 0 else 1e-8)
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-10)
    assert model.certificate().holds
    assert model.certificate(X, y, sample_weight=w).holds


@pytest.mark.filterwarnings("ignore::qed.linear.RankDeficiencyWarning")  # 1-row chunks
@settings(max_examples=20, deadline=None)
@given(cuts=st.lists(st.integers(1, 199), max_size=6, unique=True), seed=st.integers(0, 2**16))
def test_partial_fit_does_not_depend_on_the_chunking(cuts, seed):
    """Property: any split of the rows into chunks gives the same model (to rounding)."""
    X, y = _data(seed, n=200, d=3)
    bounds = [0, *sorted(cuts), 200]
    model = LinearRegression()
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        model.partial_fit(X[lo:hi], y[lo:hi])
    ref = LinearRegression().fit(X, y)
    assert _rel(model.coef_, ref.coef_) < RTOL
    assert model.sigma2_ == pytest.approx(ref.sigma2_, rel=1e-9)


def test_partial_fit_after_fit_continues_and_mixes_dask_chunks(client):
    """fit on the first rows, then partial_fit with a numpy chunk and a dask chunk."""
    X, y = _data(2, n=600)
    model = Ridge(alpha=2.0).fit(X[:200], y[:200])
    model.partial_fit(X[200:300], y[200:300])
    model.partial_fit(da.from_array(X[300:], chunks=70), da.from_array(y[300:], chunks=70))
    ref = SkRidge(alpha=2.0).fit(X, y)
    assert _rel(model.coef_, ref.coef_) < RTOL
    assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)


def test_partial_fit_survives_save_and_load(tmp_path):
    X, y = _data(3)
    model = LinearRegression().partial_fit(X[:150], y[:150])
    qed.save(model, tmp_path / "m.qed")
    loaded = qed.load(tmp_path / "m.qed").partial_fit(X[150:], y[150:])
    assert _rel(loaded.coef_, LinearRegression().fit(X, y).coef_) < RTOL


def test_streamed_csv_equals_batch_fit(tmp_path):
    """iter_csv → partial_fit in chunks of 64 rows equals fit on the whole file."""
    X, y = _data(4, n=1000, d=4)
    frame = pd.DataFrame(X, columns=[f"x{j}" for j in range(4)]).assign(target=y)
    path = tmp_path / "stream.csv"
    frame.to_csv(path, index=False, float_format="%.17g")
    for make in (LinearRegression, lambda: Ridge(alpha=3.0)):
        model = make()
        for Xc, yc in iter_csv(path, chunksize=64, target="target"):
            model.partial_fit(Xc, yc)
        ref = make().fit(X, y)
        assert _rel(model.coef_, ref.coef_) < RTOL
        assert model.intercept_ == pytest.approx(ref.intercept_, rel=1e-10)
        assert model.n_features_in_ == 4


def test_beta_bernoulli_partial_fit_streams_a_csv(tmp_path):
    """Beta(a + heads, b + tails) accumulated chunk by chunk is the batch posterior."""
    flips = np.random.default_rng(5).integers(0, 2, size=777)
    path = tmp_path / "flips.csv"
    pd.DataFrame({"flip": flips}).to_csv(path, index=False)
    model = BetaBernoulli(2.0, 3.0)
    for chunk in iter_csv(path, chunksize=100):
        model.partial_fit(chunk.ravel().astype(int))
    ref = BetaBernoulli(2.0, 3.0).fit(flips)
    assert (model.a_, model.b_) == (ref.a_, ref.b_) == (2.0 + flips.sum(), 3.0 + 777 - flips.sum())
    assert model.map_ == pytest.approx(ref.map_, rel=1e-15)


def test_partial_fit_errors():
    X, y = _data(6, n=50, d=3)
    model = LinearRegression().partial_fit(X, y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        model.partial_fit(X[:, :2], y)
    with pytest.raises(ValueError, match="target"):
        model.partial_fit(X, np.column_stack([y, y]))
    with pytest.raises(ValueError, match="NaN"):
        LinearRegression().partial_fit(np.full((3, 2), np.nan), [1.0, 2.0, 3.0])
