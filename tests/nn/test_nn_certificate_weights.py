"""An MLP fitted with sample weights is certified on the same weighted loss: the weighted
mean over (X, w) equals the plain mean over the rows repeated w times, and certifying
without the weights is a clear error (the certificate would measure another objective)."""

from __future__ import annotations

import numpy as np
import pytest

from qed.nn import MLPClassifier, MLPRegressor


@pytest.mark.parametrize("cls", [MLPRegressor, MLPClassifier])
def test_weighted_certificate_equals_repeated_rows(cls):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    y = X[:, 0] - 0.5 * X[:, 1] + 0.1 * rng.normal(size=60)
    if cls is MLPClassifier:
        y = (y > 0).astype(int)
    w = rng.integers(1, 4, size=60).astype(float)
    model = cls(hidden_layer_sizes=(5,), epochs=30, random_state=0).fit(X, y, sample_weight=w)
    with pytest.raises(ValueError, match="fitted with sample_weight"):
        model.certificate(X, y)
    weighted = model.certificate(X, y, sample_weight=w, n_hvp=200)
    rows = np.repeat(np.arange(60), w.astype(int))
    repeated = model.certificate(X[rows], y[rows], sample_weight=np.ones(len(rows)), n_hvp=200)
    for name in ("stationarity", "hessian_min_eigenvalue", "loss_decrease"):
        assert weighted[name].value == pytest.approx(repeated[name].value, rel=1e-9, abs=1e-12)
    # and the weights matter: the unweighted loss has another gradient at this θ
    plain = model.certificate(X, y, sample_weight=np.ones(60), n_hvp=200)
    assert plain["stationarity"].value != pytest.approx(weighted["stationarity"].value, rel=1e-6)


def test_class_weight_needs_no_sample_weight():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] > 0.5).astype(int)
    model = MLPClassifier(hidden_layer_sizes=(4,), epochs=20, class_weight="balanced").fit(X, y)
    cert = model.certificate(X, y)
    assert np.isfinite(cert["stationarity"].value)
