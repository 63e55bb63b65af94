"""scipy.sparse input for LinearRegression and Ridge: equal to the dense fit (and to
scikit-learn's), never densifying X — the Gram matrix for moderate d, conjugate gradients on
the Gram as an operator beyond it."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
import sklearn.linear_model as skl

import qed.linear._least_squares as least_squares
from qed.linear import LinearRegression, Ridge

FORMATS = ["csr", "csc", "coo", "lil", "dok"]


def _problem(seed, n=300, d=30, t=None, density=0.15):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, format="csr")
    X.data = rng.standard_normal(X.nnz) + 1.0
    B = rng.standard_normal((d,) if t is None else (d, t))
    y = X @ B + 0.1 * rng.standard_normal((n,) if t is None else (n, t)) + 3.0
    return X, y, rng.uniform(0.3, 2.0, n)


def _close(a, b, rtol=1e-8):
    a, b = np.asarray(a), np.asarray(b)
    assert np.max(np.abs(a - b)) <= rtol * max(np.max(np.abs(b)), 1e-300)


MODELS = [
    lambda: LinearRegression(),
    lambda: LinearRegression(fit_intercept=False),
    lambda: Ridge(alpha=0.7),
    lambda: Ridge(alpha=np.array([0.5, 3.0])),
    lambda: LinearRegression(solver="cg"),
    lambda: Ridge(alpha=0.7, solver="cg"),
]


@pytest.mark.parametrize("make", MODELS)
@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("weighted", [False, True])
def test_sparse_fit_equals_dense_fit(make, fmt, seed, weighted):
    t = 2 if isinstance(getattr(make(), "alpha", None), np.ndarray) else None
    X, y, w = _problem(seed, t=t)
    sw = w if weighted else None
    dense = make().fit(X.toarray(), y, sample_weight=sw)
    ours = make().fit(X.asformat(fmt), y, sample_weight=sw)
    _close(ours.coef_, dense.coef_)
    _close(ours.intercept_, dense.intercept_)
    _close(ours.predict(X.asformat(fmt)), dense.predict(X.toarray()), rtol=1e-10)
    assert ours.certificate(X, y, sw).holds


@pytest.mark.parametrize("seed", [0, 1])
def test_sparse_ridge_equals_sklearn(seed):
    X, y, w = _problem(seed)
    ours = Ridge(alpha=1.5).fit(X, y, sample_weight=w)
    ref = skl.Ridge(alpha=1.5, solver="sparse_cg", tol=1e-14, max_iter=10_000).fit(
        X, y, sample_weight=w
    )
    _close(ours.coef_, ref.coef_, rtol=1e-8)
    _close(ours.intercept_, ref.intercept_, rtol=1e-8)


def test_many_features_switch_to_conjugate_gradients(monkeypatch):
    """Beyond GRAM_LIMIT features the d × d Gram is never formed: CG on its operator."""
    monkeypatch.setattr(least_squares, "GRAM_LIMIT", 10)
    X, y, w = _problem(2, n=200, d=40)
    model = Ridge(alpha=0.3).fit(X, y, sample_weight=w)
    assert model.solver_ == "cg" and "gram" not in model._stats
    dense = Ridge(alpha=0.3).fit(X.toarray(), y, sample_weight=w)
    _close(model.coef_, dense.coef_)
    assert model.certificate(X, y, w).holds
    with pytest.raises(ValueError, match="certificate\\(X, y\\)"):
        model.certificate()


def test_partial_fit_takes_sparse_chunks():
    X, y, _ = _problem(3)
    model = Ridge(alpha=0.5)
    for rows in np.array_split(np.arange(X.shape[0]), 4):
        model.partial_fit(X[rows], y[rows])
    _close(model.coef_, Ridge(alpha=0.5).fit(X.toarray(), y).coef_)


def test_other_estimators_refuse_sparse_clearly():
    from qed.classify import SVC  # LogisticRegression takes sparse X since issue 13

    with pytest.raises(TypeError, match="toarray"):
        SVC().fit(sp.csr_matrix(np.eye(4)), [0, 1, 0, 1])
