"""One least-squares path: numpy, dask, partial_fit and Array API inputs of one awkward design
give the same coefficients, the same solver, the same attributes and the same warnings.

The designs are the ones where solvers must fall back: a duplicated column (XᵀX singular),
more features than samples (d > n), and ridge with alpha = 0 on both. The reference is the
minimum-norm least-squares solution from numpy's SVD-based ``lstsq`` on the centered data.
"""

from __future__ import annotations

import warnings

import array_api_strict
import dask.array as da
import numpy as np
import pytest

from qed.linear import LinearRegression, RankDeficiencyWarning, Ridge


def _design(kind: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    if kind == "duplicated_column":
        X = rng.standard_normal((40, 4))
        X = np.column_stack([X, X[:, 1]])
    else:  # d > n
        X = rng.standard_normal((12, 25))
    return X, X @ rng.standard_normal(X.shape[1]) + 0.1 * rng.standard_normal(len(X))


def _fits(make, X, y):
    """The four paths, each with the warnings it raised."""
    paths = {
        "numpy": lambda m: m.fit(X, y),
        "dask": lambda m: m.fit(da.from_array(X, chunks=(7, -1)), da.from_array(y, chunks=7)),
        "array_api": lambda m: m.fit(array_api_strict.asarray(X), array_api_strict.asarray(y)),
    }

    def streamed(m):
        # every call re-solves on the rows so far (and warns for them); compared: the last
        chunks = np.array_split(np.arange(len(X)), 3)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for rows in chunks[:-1]:
                m.partial_fit(X[rows], y[rows])
        return m.partial_fit(X[chunks[-1]], y[chunks[-1]])

    paths["partial_fit"] = streamed
    out = {}
    for name, run in paths.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = run(make())
        out[name] = (model, [(w.category, str(w.message)) for w in caught])
    return out


def _public(model) -> set[str]:
    return {k for k in vars(model) if k.endswith("_") and not k.startswith("_")}


@pytest.mark.parametrize("kind", ["duplicated_column", "d_greater_than_n"])
@pytest.mark.parametrize(
    "make", [LinearRegression, lambda: Ridge(alpha=0.0)], ids=["ols", "ridge_alpha0"]
)
@pytest.mark.parametrize("seed", [0, 1])
def test_every_path_agrees_on_an_awkward_design(kind, make, seed):
    X, y = _design(kind, seed)
    Xc = X - X.mean(axis=0)
    expected = np.linalg.lstsq(Xc, y - y.mean(), rcond=None)[0]  # minimum norm
    fits = _fits(make, X, y)
    ref_model, ref_warnings = fits["numpy"]
    assert [c for c, _ in ref_warnings] == [RankDeficiencyWarning]
    for name, (model, caught) in fits.items():
        coef = np.asarray(model.coef_)
        scale = np.linalg.norm(expected)
        assert np.linalg.norm(coef - expected) <= 1e-8 * scale, name
        assert float(model.intercept_) == pytest.approx(y.mean() - X.mean(axis=0) @ expected)
        assert caught == ref_warnings, name  # the same category and the same words
        assert model.solver_ == ref_model.solver_ == "svd", name
        assert _public(model) == _public(ref_model), name
        if isinstance(model, LinearRegression):
            assert model.rank_ == ref_model.rank_ == np.linalg.matrix_rank(Xc), name
            assert float(model.sigma2_) == pytest.approx(ref_model.sigma2_, rel=1e-6, abs=1e-12)
        assert model.certificate().holds, name


@pytest.mark.parametrize("make", [LinearRegression, lambda: Ridge(alpha=0.3)])
def test_every_path_agrees_on_a_plain_design_without_warnings(make):
    rng = np.random.default_rng(5)
    X = rng.standard_normal((50, 6)) + 3.0
    y = X @ rng.standard_normal(6) + rng.standard_normal(50)
    fits = _fits(make, X, y)
    ref_model = fits["numpy"][0]
    for name, (model, caught) in fits.items():
        assert caught == [], name
        np.testing.assert_allclose(np.asarray(model.coef_), ref_model.coef_, rtol=1e-10)
        assert model.solver_ == ref_model.solver_, name
        assert _public(model) == _public(ref_model), name
