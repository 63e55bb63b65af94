"""Issue 14's bad-input table for the SVMs: each row → a clear error naming problem and fix.

Each row: an id, a function doing the bad thing, the error type and a regex the message must
match. Nothing may crash inside numpy, return NaN or hang.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from qed.classify import SVC, LinearSVC

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = (X[:, 0] > 0).astype(int)
K = X @ X.T


def _fit(model, *args, **kw):
    def run():
        model.fit(*args, **kw)

    return run


def _predict_precomputed(K_test):
    def run():
        SVC(kernel="precomputed").fit(K, Y).predict(K_test)

    return run


ROWS = [
    ("precomputed not square", _fit(SVC(kernel="precomputed"), X, Y), ValueError, "square"),
    (
        "precomputed predict columns",
        _predict_precomputed(K[:, :30]),
        ValueError,
        r"expecting 40 features.*K\(X_test, X_train\)",
    ),
    (
        "callable kernel wrong shape",
        _fit(SVC(kernel=lambda A, B: A @ B.T[:, :3]), X, Y),
        ValueError,
        "callable kernel returned shape",
    ),
    (
        "callable kernel NaN",
        _fit(SVC(kernel=lambda A, B: np.full((len(A), len(B)), np.nan)), X, Y),
        ValueError,
        "NaN",
    ),
    ("kernel name", _fit(SVC(kernel="gaussian"), X, Y), ValueError, "kernel='gaussian'"),
    (
        "negative sample_weight",
        _fit(SVC(), X, Y, sample_weight=np.r_[-1.0, np.ones(39)]),
        ValueError,
        "Negative",
    ),
    ("all-zero sample_weight", _fit(SVC(), X, Y, sample_weight=np.zeros(40)), ValueError, "zero"),
    (
        "sample_weight length",
        _fit(SVC(), X, Y, sample_weight=np.ones(39)),
        ValueError,
        "one weight per sample",
    ),
    (
        "a class with zero weight",
        _fit(SVC(), X, Y, sample_weight=(Y == 1).astype(float)),
        ValueError,
        "no sample with a positive weight",
    ),
    (
        "class_weight names a missing class",
        _fit(SVC(class_weight={0: 1.0, 7: 2.0}), X, Y),
        ValueError,
        r"class_weight names \[7\]",
    ),
    (
        "class_weight string",
        _fit(SVC(class_weight="balance"), X, Y),
        ValueError,
        "balanced",
    ),
    ("probability not a bool", _fit(SVC(probability="yes"), X, Y), TypeError, "probability"),
    (
        "LinearSVC l1 with hinge",
        _fit(LinearSVC(penalty="l1", loss="hinge"), X, Y),
        ValueError,
        "penalty='l1' and loss='hinge' is not supported",
    ),
    ("LinearSVC l1", _fit(LinearSVC(penalty="l1"), X, Y), ValueError, "penalty='l2'"),
    (
        "LinearSVC primal hinge",
        _fit(LinearSVC(loss="hinge", dual=False), X, Y),
        ValueError,
        "dual=False",
    ),
    (
        "LinearSVC C=inf squared hinge",
        _fit(LinearSVC(C=np.inf), X, Y),
        ValueError,
        "loss='hinge'",
    ),
    ("LinearSVC loss name", _fit(LinearSVC(loss="log"), X, Y), ValueError, "squared_hinge"),
    (
        "LinearSVC sparse NaN",
        _fit(LinearSVC(), sparse.csr_matrix(np.where(X > 1.5, np.nan, X)), Y),
        ValueError,
        "NaN",
    ),
    (
        "LinearSVC sparse predict columns",
        lambda: LinearSVC().fit(sparse.csr_matrix(X), Y).predict(sparse.csr_matrix(X[:, :2])),
        ValueError,
        "expecting 3 features",
    ),
    (
        "LinearSVC negative sample_weight",
        _fit(LinearSVC(), X, Y, sample_weight=np.r_[-1.0, np.ones(39)]),
        ValueError,
        "Negative",
    ),
    (
        "LinearSVC class_weight missing class",
        _fit(LinearSVC(class_weight={3: 1.0}), X, Y),
        ValueError,
        r"class_weight names \[3\]",
    ),
    (
        "LinearSVC hard margin, not separable",
        _fit(LinearSVC(C=np.inf, loss="hinge"), X, 1 - Y * (RNG.random(40) < 0.7)),
        ValueError,
        "finite C",
    ),
]


@pytest.mark.parametrize("run,exc,match", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_gives_a_clear_error(run, exc, match):
    with pytest.raises(exc, match=match):
        run()
