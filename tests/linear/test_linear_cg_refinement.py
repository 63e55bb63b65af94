"""Conjugate gradients in float32 inside float64 iterative refinement (``_sparse._refine``).

Each round solves A e = r/‖r‖ by float32 CG and measures the true residual b − Ax in
float64, so the answer is held to the same float64 test (‖b − Ax‖ ≤ 1e-10·‖b‖) as float64
CG; the oracles are scikit-learn's Ridge (sparse_cg at tol 1e-14) and qed's own float64 path.
Where float32 cannot gain (κ near 1/eps₃₂) the rounds hand over to float64 CG; where X's
values could overflow float32 no float32 operator is made at all.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn import linear_model as skl

import qed.linear._sparse as sparse_module
from qed.linear import LinearRegression, Ridge


def _spy(monkeypatch):
    calls = []
    real = sparse_module._refine

    def spy(*args):
        out = real(*args)
        calls.append(out[1])
        return out

    monkeypatch.setattr(sparse_module, "_refine", spy)
    return calls


def _tfidf(seed, n, d, density):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=seed)
    X.data = rng.exponential(1.0, X.nnz)
    y = X @ rng.standard_normal(d) + 0.1 * rng.standard_normal(n)
    return X, y, rng.uniform(0.5, 2.0, n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_refined_fit_equals_sklearn(seed, monkeypatch):
    calls = _spy(monkeypatch)
    X, y, w = _tfidf(seed, 6_000, 5_000, 0.002)  # > GRAM_LIMIT features: "cg"
    ours = Ridge(alpha=0.5).fit(X, y, sample_weight=w)
    assert ours.solver_ == "cg" and calls == [True]
    ref = skl.Ridge(alpha=0.5, solver="sparse_cg", tol=1e-14, max_iter=100_000).fit(
        X, y, sample_weight=w
    )
    scale = np.abs(ref.coef_).max()
    assert np.abs(ours.coef_ - ref.coef_).max() <= 1e-8 * scale
    assert abs(ours.intercept_ - ref.intercept_) <= 1e-8 * max(abs(ref.intercept_), 1.0)
    assert ours.certificate(X, y, w).holds


def test_ill_conditioned_rounds_hand_over_to_float64(monkeypatch):
    """Two columns equal to 1e-9: float32 cannot tell them apart, float64 CG finishes."""
    rng = np.random.default_rng(3)
    dense = rng.standard_normal((400, 6))
    dense[:, 1] = dense[:, 0] + 1e-9 * rng.standard_normal(400)
    X, y = sp.csr_matrix(dense), dense @ rng.standard_normal(6) + rng.standard_normal(400)
    calls = _spy(monkeypatch)
    ours = Ridge(alpha=1e-12, solver="cg").fit(X, y)
    assert calls == [False]
    monkeypatch.setattr(sparse_module, "SINGLE_MAX_ABS", 0.0)  # float64 CG alone
    ref = Ridge(alpha=1e-12, solver="cg").fit(X, y)
    assert len(calls) == 1
    np.testing.assert_allclose(ours.predict(X), ref.predict(X), rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("scale", [1e12, 1e-3])
def test_values_beyond_float32_make_no_single_operator(scale, monkeypatch):
    X, y, w = _tfidf(4, 500, 60, 0.1)
    X = X * scale
    calls = _spy(monkeypatch)
    ours = LinearRegression(solver="cg").fit(X, y, sample_weight=w)
    assert calls == ([] if scale > 1 else [True])
    ref = LinearRegression().fit(X.toarray(), y, sample_weight=w)
    np.testing.assert_allclose(ours.predict(X), ref.predict(X.toarray()), rtol=1e-8, atol=1e-8)


def test_refined_fit_saves_and_loads(tmp_path):
    """The float32 operator lives on the float64 one, which the fitted model does not keep:
    qed.save stores the model as any other."""
    from qed import persist

    X, y, w = _tfidf(5, 600, 5_000, 0.002)
    model = Ridge(alpha=0.5).fit(X, y, sample_weight=w)
    assert model.solver_ == "cg"
    persist.save(model, tmp_path / "ridge.qed")
    loaded = persist.load(tmp_path / "ridge.qed")
    np.testing.assert_array_equal(loaded.predict(X), model.predict(X))
