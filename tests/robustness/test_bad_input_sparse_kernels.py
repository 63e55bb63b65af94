"""Awkward sparse input on the compiled sparse paths (sparse Ridge's CG, sparse Newton-CG).

Two tables. Bad input: a clear ValueError naming the problem and the fix (never a silent NaN
from an overflowing XᵀX). Awkward but valid structure — empty rows and columns, a single
stored value, explicit stored zeros, duplicates, unsorted or int64 indices, float32 values —
must give the fit of the dense copy of X.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from qed.classify import LogisticRegression
from qed.linear import Ridge

RNG = np.random.default_rng(0)
N, D = 120, 40
BASE = sparse.random(N, D, density=0.1, format="csr", random_state=0)
BASE.data = RNG.standard_normal(BASE.nnz)
Y = RNG.standard_normal(N)
LABELS = (BASE @ RNG.standard_normal(D) + 0.3 * RNG.standard_normal(N) > 0).astype(int)
# the iterative paths: CG for Ridge, Newton-CG (Hessian products) for the logistic fit
RIDGE = {"solver": "cg", "alpha": 0.5}


def _huge():
    X = BASE.copy()
    X.data *= 1e200
    return X


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: Ridge(**RIDGE).fit(_huge(), Y), ValueError, "overflows.*rescale the features"),
        (lambda: Ridge().fit(_huge(), Y), ValueError, "overflows.*rescale the features"),
    ],
    ids=["ridge-cg-overflow", "ridge-auto-overflow"],
)
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def _empty_rows_and_columns():
    X = BASE.tolil()
    X[:10, :] = 0
    X[:, -5:] = 0
    return X.tocsr()


def _single_value():
    return sparse.csr_matrix(([2.5], ([3], [7])), shape=(N, D))


def _stored_zeros():
    X = BASE.copy()
    X.data[::3] = 0.0  # kept as stored values
    return X


def _duplicates():
    coo = BASE.tocoo()
    half = coo.data / 2  # each value stored twice, as two halves
    return sparse.coo_matrix(
        (np.r_[half, half], (np.r_[coo.row, coo.row], np.r_[coo.col, coo.col])), shape=(N, D)
    ).tocsr()


def _unsorted():
    X = BASE.copy()
    for i in range(N):
        lo, hi = X.indptr[i], X.indptr[i + 1]
        X.indices[lo:hi] = X.indices[lo:hi][::-1].copy()
        X.data[lo:hi] = X.data[lo:hi][::-1].copy()
    X.has_sorted_indices = False
    return X


def _int64_indices():
    X = BASE.copy()
    X.indices = X.indices.astype(np.int64)
    X.indptr = X.indptr.astype(np.int64)
    return X


STRUCTURES = {
    "empty rows and columns": _empty_rows_and_columns,
    "single stored value": _single_value,
    "explicit stored zeros": _stored_zeros,
    "duplicate entries": _duplicates,
    "unsorted indices": _unsorted,
    "int64 indices": _int64_indices,
    "float32 values": lambda: BASE.astype(np.float32),
}


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_awkward_structure_gives_the_dense_ridge_fit(name):
    X = STRUCTURES[name]()
    ours = Ridge(**RIDGE).fit(X, Y)
    dense = Ridge(alpha=RIDGE["alpha"]).fit(X.toarray().astype(np.float64), Y)
    tol = 1e-5 if X.dtype == np.float32 else 1e-8  # float32 X: the fit is stored in float32
    scale = max(1.0, np.abs(dense.coef_).max())
    np.testing.assert_allclose(ours.coef_, dense.coef_, rtol=0, atol=tol * scale)
    assert ours.intercept_ == pytest.approx(dense.intercept_, abs=tol * scale)


@pytest.mark.parametrize("name", list(STRUCTURES))
def test_awkward_structure_gives_the_dense_logistic_fit(name, monkeypatch):
    from qed.classify import _logistic_solvers, _newton

    # Newton-CG on the fused Hessian products, preconditioned by intercept_jacobi
    monkeypatch.setattr(_newton, "DIRECT_MAX_FLOPS", 0.0)
    monkeypatch.setattr(_logistic_solvers, "SPARSE_DENSE_PRECOND_MAX", 0)
    X = STRUCTURES[name]()
    y = LABELS if name != "single stored value" else (np.arange(N) % 2)
    ours = LogisticRegression(tol=1e-10).fit(X, y)
    dense = LogisticRegression(tol=1e-10).fit(X.toarray().astype(np.float64), y)
    tol = 1e-5 if X.dtype == np.float32 else 1e-8
    scale = max(1.0, np.abs(dense.coef_).max())
    np.testing.assert_allclose(ours.coef_, dense.coef_, rtol=0, atol=tol * scale)
    np.testing.assert_allclose(ours.intercept_, dense.intercept_, rtol=0, atol=tol * scale)
