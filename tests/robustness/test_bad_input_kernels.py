"""Bad input to KernelRidge's "falkon" solver and to qed.kernels.Nystroem → clear errors.

Each row names the estimator, its parameters, the data, the exception and a regex that the
message must match (the problem, and where there is one, the fix).
"""

from __future__ import annotations

import numpy as np
import pytest

from qed.kernels import Nystroem
from qed.linear import KernelRidge

RNG = np.random.default_rng(0)
X = RNG.standard_normal((30, 3))
Y = np.sin(X[:, 0]) + 0.1 * RNG.standard_normal(30)
X_NAN = X.copy()
X_NAN[2, 1] = np.nan
X_INF = X.copy()
X_INF[0, 0] = np.inf
Y_NAN = Y.copy()
Y_NAN[4] = np.nan


def _falkon(**kw):
    return KernelRidge(**{"kernel": "rbf", "solver": "falkon", "random_state": 0, **kw})


CASES = [
    ("n_centers > n", _falkon(n_centers=31), X, Y, ValueError, r"n_centers=31 .*≤ 30"),
    ("n_centers = 0", _falkon(n_centers=0), X, Y, ValueError, "n_centers"),
    ("n_centers < 0", _falkon(n_centers=-3), X, Y, ValueError, "n_centers"),
    ("n_centers float", _falkon(n_centers=2.5), X, Y, TypeError, "n_centers"),
    ("tol = 0", _falkon(tol=0.0), X, Y, ValueError, "tol"),
    ("tol < 0", _falkon(tol=-1e-3), X, Y, ValueError, "tol"),
    ("tol nan", _falkon(tol=np.nan), X, Y, ValueError, "tol"),
    ("max_iter = 0", _falkon(max_iter=0), X, Y, ValueError, "max_iter"),
    (
        "unknown center_selection",
        _falkon(center_selection="kmeans"),
        X,
        Y,
        ValueError,
        r"center_selection='kmeans'.*'leverage'",
    ),
    (
        "leverage at alpha = 0",
        _falkon(center_selection="leverage", alpha=0.0),
        X,
        Y,
        ValueError,
        "alpha > 0.*uniform",
    ),
    (
        "leverage, bad random_state",
        _falkon(center_selection="leverage", random_state="x"),
        X,
        Y,
        TypeError,
        "random_state",
    ),
    ("unknown solver", KernelRidge(solver="lu"), X, Y, ValueError, "solver='lu'"),
    ("NaN in X", _falkon(), X_NAN, Y, ValueError, "NaN"),
    ("inf in X", _falkon(), X_INF, Y, ValueError, "infinity"),
    ("NaN in y", _falkon(), X, Y_NAN, ValueError, "NaN"),
    ("precomputed", _falkon(kernel="precomputed"), X @ X.T, Y, ValueError, "cholesky"),
    ("unknown kernel", _falkon(kernel="chi2"), X, Y, ValueError, "not supported"),
    ("negative gamma", _falkon(gamma=-1.0), X, Y, ValueError, "gamma"),
    ("negative alpha", _falkon(alpha=-1.0), X, Y, ValueError, "alpha"),
    ("negative weight", _falkon(), X, Y, ValueError, "sample_weight|[Nn]egative"),
    ("Nystroem n_components = 0", Nystroem(n_components=0), X, None, ValueError, "n_components"),
    (
        "Nystroem unknown kernel",
        Nystroem(kernel="chi2", n_components=5),
        X,
        None,
        ValueError,
        "not supported",
    ),
    ("Nystroem NaN", Nystroem(n_components=5), X_NAN, None, ValueError, "NaN"),
    (
        "Nystroem random_state",
        Nystroem(n_components=5, random_state="x"),
        X,
        None,
        TypeError,
        "random_state",
    ),
    ("Nystroem gamma", Nystroem(n_components=5, gamma=0.0), X, None, ValueError, "gamma"),
]


@pytest.mark.parametrize("name, est, X_, y_, exc, match", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_named(name, est, X_, y_, exc, match):
    kwargs = {"sample_weight": -np.ones(30)} if name == "negative weight" else {}
    with pytest.raises(exc, match=match):
        est.fit(X_, y_, **kwargs)


def test_dask_non_finite_and_callable_kernel_are_named():
    da = pytest.importorskip("dask.array")
    with pytest.raises(ValueError, match="NaN or infinity"):
        _falkon().fit(da.from_array(X_NAN, chunks=(10, 3)), da.from_array(Y, chunks=10))

    def k(a, b):
        return float(a @ b)

    with pytest.raises(TypeError, match="callable kernel"):
        _falkon(kernel=k).fit(da.from_array(X, chunks=(10, 3)), Y)


def test_predict_and_certificate_misuse_are_named():
    model = _falkon(n_centers=10).fit(X, Y)
    with pytest.raises(ValueError, match="expecting 3 features"):
        model.predict(X[:, :2])
    with pytest.raises(ValueError, match="both X and y"):
        model.certificate(X)
    with pytest.raises(ValueError, match="targets"):
        model.certificate(X, np.column_stack([Y, Y]))
