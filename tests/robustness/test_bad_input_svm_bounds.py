"""Issue 16's bad-input rows for the SVMs' certificates and their error bounds.

Each row: an id, a function doing the bad thing, the error type and a regex the message must
match. The bounds are only as good as the problem the certificate rebuilds, so a model fitted
with sample weights and certified without them must be refused, not certified wrongly.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.exceptions import NotFittedError

from qed.classify import SVC, LinearSVC

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = (X[:, 0] + 0.5 * RNG.standard_normal(40) > 0).astype(int)
W = RNG.uniform(0.5, 2.0, 40)


def _certify(model, X_cert, y_cert=Y, fit_kw=None, **cert_kw):
    def run():
        if fit_kw is not None:
            model.fit(X, Y, **fit_kw)
        model.certificate(X_cert, y_cert, **cert_kw)

    return run


ROWS = [
    ("SVC unfitted", _certify(SVC(), X), NotFittedError, "not fitted"),
    ("LinearSVC unfitted", _certify(LinearSVC(), X), NotFittedError, "not fitted"),
    (
        "SVC certified on fewer features",
        _certify(SVC(), X[:, :2], fit_kw={}),
        ValueError,
        "X has 2 features, but SVC is expecting 3 features",
    ),
    (
        "LinearSVC certified on more features",
        _certify(LinearSVC(), np.c_[X, X[:, :1]], fit_kw={}),
        ValueError,
        "X has 4 features, but LinearSVC is expecting 3 features",
    ),
    (
        "SVC fitted with sample_weight, certified without",
        _certify(SVC(), X, fit_kw={"sample_weight": W}),
        ValueError,
        "fitted with sample_weight.*pass the weights used in fit",
    ),
    (
        "LinearSVC fitted with sample_weight, certified without",
        _certify(LinearSVC(), X, fit_kw={"sample_weight": W}),
        ValueError,
        "fitted with sample_weight.*pass the weights used in fit",
    ),
    (
        "SVC precomputed certified on a non-Gram matrix",
        lambda: SVC(kernel="precomputed").fit(X @ X.T, Y).certificate((X @ X.T)[:30], Y[:30]),
        ValueError,
        r"training Gram matrix K\(X_train, X_train\) of shape \(40, 40\)",
    ),
]


@pytest.mark.parametrize("run,exc,match", [r[1:] for r in ROWS], ids=[r[0] for r in ROWS])
def test_bad_input_gives_a_clear_error(run, exc, match):
    with pytest.raises(exc, match=match):
        run()


@pytest.mark.parametrize("make", [SVC, LinearSVC])
def test_class_weight_needs_no_sample_weight_and_weights_passed_back_are_certified(make):
    """The other side of the weights row: class_weight is part of the model (certificate
    applies it itself) and needs no sample_weight; the fit's own weights passed back, or unit
    weights at fit, certify with finite bounds."""
    model = make(class_weight={0: 2.0, 1: 0.5}).fit(X, Y)
    cert = model.certificate(X, Y)
    assert cert.holds and np.isfinite(cert.bounds["objective_gap"])
    weighted = make().fit(X, Y, sample_weight=W)
    cert = weighted.certificate(X, Y, sample_weight=W)
    assert cert.holds and np.isfinite(cert.bounds["distance"])
    ones = make().fit(X, Y, sample_weight=np.ones(40))  # unit weights: the unweighted problem
    assert ones.certificate(X, Y).holds
