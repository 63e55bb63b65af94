"""LogisticRegression's own bad inputs, on numpy and on dask arrays: a clear error each.

The fit on dask arrays shares the in-memory fit's Newton driver and checks (issue 12): the
same hyperparameters, the same "no finite optimum" error for C = ∞ on separable classes,
and errors that name the problem for what only a blockwise scan can find.
"""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest

from qed import optim
from qed.classify import LogisticRegression

RNG = np.random.default_rng(0)
X = RNG.standard_normal((120, 3))
Y = (X @ np.array([1.0, -1.0, 0.5]) + RNG.logistic(size=120) > 0).astype(int)
Y_SEPARABLE = (X @ np.array([1.0, -2.0, 0.5]) > 0).astype(int)


def _dask(a):
    return da.from_array(a, chunks=40)


def _with(value):
    bad = X.copy()
    bad[5, 1] = value
    return bad


# (id, estimator, X, y, exception, message regex); every row runs on numpy and on dask
FIT_CASES = [
    ("C=inf separable", LogisticRegression(C=np.inf), X, Y_SEPARABLE, ValueError,
     "linearly separable.*finite C"),
    ("C=0", LogisticRegression(C=0.0), X, Y, ValueError, "C"),
    ("max_iter=0", LogisticRegression(max_iter=0), X, Y, ValueError, "max_iter"),
    ("solver unknown", LogisticRegression(solver="sag"), X, Y, ValueError, "solver"),
    ("fit_intercept=1", LogisticRegression(fit_intercept=1), X, Y, TypeError, "fit_intercept"),
    ("X nan", LogisticRegression(), _with(np.nan), Y, ValueError, "NaN"),
    ("X inf", LogisticRegression(), _with(np.inf), Y, ValueError, "NaN or infinit|infinity"),
    ("one class", LogisticRegression(), X, np.zeros(120, int), ValueError, "class"),
    ("continuous y", LogisticRegression(), X, X[:, 0], ValueError, "[Uu]nknown label type"),
    ("length mismatch", LogisticRegression(), X, Y[:-1], ValueError, "inconsistent numbers"),
]  # fmt: skip


@pytest.mark.parametrize("backend", ["numpy", "dask"])
@pytest.mark.parametrize(
    "est, X_, y, exc, match", [pytest.param(*c[1:], id=c[0]) for c in FIT_CASES]
)
def test_fit_rejects_bad_input_on_both_backends(backend, est, X_, y, exc, match):
    if backend == "dask":
        X_, y = _dask(X_), _dask(y)
    with pytest.raises(exc, match=match):
        est.fit(X_, y)


def test_dask_fit_supports_newton_only_and_says_so():
    with pytest.raises(ValueError, match="solver='newton' only"):
        LogisticRegression(solver="lbfgs").fit(_dask(X), _dask(Y))


@pytest.mark.parametrize(
    "optimizer, exc, match",
    [
        ("adamax", ValueError, "optimizer name 'adamax' is not known; use one of"),
        ({"lr": 0.1}, ValueError, "optimizer name '' is not known"),
        (3, TypeError, "optimizer must be None, a name"),
        (lambda params: object(), TypeError, r"no step\(\)/zero_grad\(\)"),
    ],
    ids=["unknown name", "dict without name", "number", "factory of a non-optimizer"],
)
def test_bad_optimizer_names_the_shared_table(optimizer, exc, match):
    with pytest.raises(exc, match=match) as info:
        LogisticRegression(solver="sgd", optimizer=optimizer).fit(X, Y)
    if exc is ValueError:
        for name in optim.OPTIMIZERS:
            assert repr(name) in str(info.value)


@pytest.mark.parametrize("backend", ["numpy", "dask"])
def test_certificate_rejects_unseen_labels_and_wrong_width(backend):
    model = LogisticRegression().fit(X, Y)
    wrap = _dask if backend == "dask" else np.asarray
    with pytest.raises(ValueError, match="not seen in fit"):
        model.certificate(wrap(X), wrap(np.where(Y == 1, 7, 0)))
    with pytest.raises(ValueError, match="3 features"):
        model.certificate(wrap(X[:, :2]), wrap(Y))


# class_weight / warm_start (issue 13): in-memory fits
CLASS_WEIGHT_CASES = [
    ("key not a label", {0: 1.0, 7: 2.0}, ValueError, "not labels of y.*\\[7\\]|\\[7\\].*not labels"),
    ("negative weight", {0: -1.0, 1: 1.0}, ValueError, "finite and ≥ 0"),
    ("nan weight", {0: np.nan}, ValueError, "finite and ≥ 0"),
    ("unknown string", "balance", ValueError, "class_weight.*balanced"),
    ("a list", [1.0, 2.0], ValueError, "class_weight"),
]  # fmt: skip


@pytest.mark.parametrize(
    "cw, exc, match", [pytest.param(*c[1:], id=c[0]) for c in CLASS_WEIGHT_CASES]
)
def test_bad_class_weight_is_named(cw, exc, match):
    with pytest.raises(exc, match=match):
        LogisticRegression(class_weight=cw).fit(X, Y)


def test_warm_start_must_be_bool_and_dask_refuses_class_weight():
    with pytest.raises(TypeError, match="warm_start"):
        LogisticRegression(warm_start="yes").fit(X, Y)
    with pytest.raises(ValueError, match="class_weight=None"):
        LogisticRegression(class_weight="balanced").fit(_dask(X), _dask(Y))


def _sparse_with(value):
    import scipy.sparse as sp

    bad = sp.csr_matrix(X)
    bad.data[7] = value
    return bad


SPARSE_CASES = [
    ("sparse X nan", _sparse_with(np.nan), Y, ValueError, "NaN"),
    ("sparse X inf", _sparse_with(np.inf), Y, ValueError, "infinit"),
    ("sparse y", X, "sparse", (ValueError, TypeError), "[Ss]parse|y"),
    ("sparse length mismatch", _sparse_with(1.0), Y[:-1], ValueError, "inconsistent numbers"),
]  # fmt: skip


@pytest.mark.parametrize("X_, y, exc, match", [pytest.param(*c[1:], id=c[0]) for c in SPARSE_CASES])
def test_bad_sparse_input_is_named(X_, y, exc, match):
    import scipy.sparse as sp

    if isinstance(y, str):
        y = sp.csr_matrix(Y.reshape(-1, 1))
    with pytest.raises(exc, match=match):
        LogisticRegression().fit(X_, y)
