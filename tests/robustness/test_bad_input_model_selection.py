"""Bad input for the model-selection estimators and sparse linear fits: a clear ValueError or
TypeError that names the problem and the fix (RidgeCV, KernelRidgeCV, LogisticRegressionCV's
n_jobs, sparse X in Ridge)."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp

from qed.classify import LogisticRegressionCV
from qed.linear import KernelRidgeCV, Ridge, RidgeCV


def _rproblem(n, d):
    rng = np.random.default_rng(6)
    X = rng.standard_normal((n, d))
    return X, X @ rng.standard_normal(d) + rng.standard_normal(n)


def _kproblem(n):
    rng = np.random.default_rng(7)
    X = rng.uniform(-2, 2, (n, 3))
    return X, np.sin(X[:, 0])


@pytest.mark.parametrize(
    ("params", "exc", "match"),
    [
        ({"alphas": []}, ValueError, "non-empty"),
        ({"alphas": [1.0, 0.0]}, ValueError, "> 0"),
        ({"alphas": [1.0, -2.0]}, ValueError, "> 0"),
        ({"alphas": [np.nan]}, ValueError, "finite"),
        ({"alphas": "many"}, TypeError, "sequence of floats"),
        ({"alphas": [[1.0, 2.0]]}, ValueError, "1-D"),
        ({"gcv_mode": "qr"}, ValueError, "gcv_mode"),
        ({"cv": 3, "store_cv_results": True}, ValueError, "incompatible"),
        ({"cv": 3, "alpha_per_target": True}, ValueError, "incompatible"),
    ],
)
def test_ridge_cv_bad_input(params, exc, match):
    X, y = _rproblem(20, 3)
    with pytest.raises(exc, match=match):
        RidgeCV(**params).fit(X, y)


@pytest.mark.parametrize(
    ("n_jobs", "exc", "match"),
    [
        (0, ValueError, "n_jobs=0 runs nothing"),
        (1.5, TypeError, "n_jobs must be None or an int"),
        ("2", TypeError, "n_jobs must be None or an int"),
        (True, TypeError, "n_jobs must be None or an int"),
        (np.float64(2.0), TypeError, "n_jobs must be None or an int"),
    ],
)
def test_logistic_cv_bad_n_jobs(n_jobs, exc, match):
    rng = np.random.default_rng(8)
    X = rng.standard_normal((40, 3))
    y = (X[:, 0] > 0).astype(int)
    with pytest.raises(exc, match=match):
        LogisticRegressionCV(Cs=3, cv=3, n_jobs=n_jobs).fit(X, y)


def test_ridge_cv_k_fold_larger_than_n_is_refused_clearly():
    X, y = _rproblem(6, 2)
    with pytest.raises(ValueError, match="n_splits"):
        RidgeCV(cv=10).fit(X, y)


@pytest.mark.parametrize(
    ("params", "X", "exc", "match"),
    [
        ({"alphas": []}, None, ValueError, "non-empty"),
        ({"alphas": [0.0, 1.0]}, None, ValueError, "> 0"),
        ({"kernel": "precomputed"}, np.ones((4, 3)), ValueError, "square"),
        ({"kernel": "sigmoidal"}, None, ValueError, "not supported"),
    ],
)
def test_kernel_ridge_cv_bad_input(params, X, exc, match):
    X0, y = _kproblem(4)
    with pytest.raises(exc, match=match):
        KernelRidgeCV(**params).fit(X0 if X is None else X, y)


@pytest.mark.parametrize(
    ("X", "y", "exc", "match"),
    [
        (sp.csr_matrix(np.array([[1.0, np.nan], [0.0, 1.0]])), [1.0, 2.0], ValueError, "NaN"),
        (sp.csr_matrix(np.array([[1.0, np.inf], [0.0, 1.0]])), [1.0, 2.0], ValueError, "infinity"),
        (sp.csr_matrix(np.eye(2)), sp.csr_matrix([[1.0], [2.0]]), TypeError, "y is a sparse"),
        (sp.csr_matrix((0, 3)), [], ValueError, "at least 1 sample"),
        (sp.csr_matrix(np.eye(2, dtype=complex)), [1.0, 2.0], ValueError, "real numbers"),
    ],
)
def test_sparse_linear_bad_input(X, y, exc, match):
    with pytest.raises(exc, match=match):
        Ridge().fit(X, y)
