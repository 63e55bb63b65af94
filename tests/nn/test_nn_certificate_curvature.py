"""The second-order part of a network's certificate: λ_min(∇²L) by Lanczos on Hessian-vector
products (``qed.theory.curvature.extreme_eigenvalues``) equals PyTorch's dense Hessian
(``torch.autograd.functional.hessian``, ``eigvalsh``) on the same float64 weights; a saddle
point set by hand (zero gradient, negative curvature) fails the check; the certificate carries
no bounds and says why."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qed.nn import MLPClassifier, MLPRegressor
from qed.theory.curvature import extreme_eigenvalues

_TORCH_ACT = {"tanh": torch.tanh, "sigmoid": torch.sigmoid, "gelu": torch.nn.functional.gelu}


def _torch_hessian(model, X, y) -> np.ndarray:
    """∇²L at the model's weights, L written in torch from the same flat θ (float64)."""
    params = [p.data for p in model.module_.parameters()]
    shapes = [p.shape for p in params]
    theta = torch.tensor(np.concatenate([p.ravel() for p in params]), dtype=torch.float64)
    act = _TORCH_ACT[model.activation]
    Xt = torch.tensor(X, dtype=torch.float64)

    def loss(t):
        out, offset, h = [], 0, Xt
        for s in shapes:
            k = int(np.prod(s))
            out.append(t[offset : offset + k].reshape(s))
            offset += k
        layers = list(zip(out[::2], out[1::2], strict=True))
        for i, (W, b) in enumerate(layers):
            h = h @ W.T + b
            if i < len(layers) - 1:
                h = act(h)
        if isinstance(model, MLPClassifier):
            codes = torch.tensor(np.searchsorted(model.classes_, y))
            return torch.nn.functional.cross_entropy(h, codes)
        return torch.mean((h - torch.tensor(y, dtype=torch.float64).reshape(h.shape)) ** 2)

    return torch.autograd.functional.hessian(loss, theta).numpy()


def _problem(seed, kind, n=40, d=3):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    if kind == "regressor":
        return X, np.sin(X[:, 0]) + 0.5 * X[:, 1] * X[:, 2] + 0.1 * rng.standard_normal(n)
    return X, (X[:, 0] + X[:, 1] ** 2 > 0.5).astype(int) + (X[:, 2] > 1.0)


def _fit(seed, kind, activation, hidden=(4,)):
    X, y = _problem(seed, kind)
    cls = MLPRegressor if kind == "regressor" else MLPClassifier
    model = cls(hidden, activation=activation, epochs=15, learning_rate=1e-2, random_state=seed)
    return model.fit(X, y), X, y


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize(
    "kind, activation, hidden",
    [
        ("regressor", "tanh", (4,)),
        ("regressor", "sigmoid", (3, 2)),
        ("classifier", "tanh", (3,)),
        ("classifier", "gelu", (4,)),
    ],
)
def test_lanczos_extremes_equal_torch_dense_hessian(seed, kind, activation, hidden):
    """With as many products as parameters, the Krylov space is everything: the Ritz extremes
    are ∇²L's extreme eigenvalues, ≤ 1e-8·‖∇²L‖ from torch's eigvalsh."""
    model, X, y = _fit(seed, kind, activation, hidden)
    ref = np.linalg.eigvalsh(_torch_hessian(model, X, y))
    dim = ref.size
    cert = model.certificate(X, y, n_hvp=dim, random_state=seed)
    lam_min = -cert["hessian_min_eigenvalue"].value
    scale = np.max(np.abs(ref))
    assert lam_min == pytest.approx(ref[0], abs=1e-8 * scale)
    assert cert["hessian_min_eigenvalue"].tolerance == pytest.approx(1e-2 * abs(ref[-1]), rel=1e-8)
    assert f"all {dim} parameters" in cert.bounds_note


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fewer_products_never_go_below_lambda_min(seed):
    """Cauchy interlacing: with k < d products the smallest Ritz value is ≥ λ_min, and the
    extreme values have converged to 1e-3·‖∇²L‖ on these small networks with k = 40 < d."""
    model, X, y = _fit(seed, "regressor", "tanh", hidden=(8, 4))
    ref = np.linalg.eigvalsh(_torch_hessian(model, X, y))
    assert ref.size > 40
    cert = model.certificate(X, y, n_hvp=40, random_state=seed)
    lam_min = -cert["hessian_min_eigenvalue"].value
    scale = np.max(np.abs(ref))
    assert ref[0] - 1e-10 * scale <= lam_min <= ref[0] + 1e-3 * scale
    assert "Lanczos on 40 of" in cert.bounds_note


def _saddle(seed):
    """A tanh network with every weight zero and output bias b = ȳ is a stationary point of
    the mean squared error: hidden units output tanh(0) = 0, so ∂L/∂b = 2(b − ȳ) = 0 and
    every other partial derivative carries a factor 0. The Hessian couples the output weight
    w_j only with its unit's input weights W_j: ∂²L/∂w_j∂W_jk = −c_k, c = (2/n)·Σᵢ(yᵢ − ȳ)xᵢ
    (tanh'(0) = 1). So λ_min = −‖c‖ < 0 whenever y correlates with x: a saddle."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((50, 3))
    y = X @ rng.standard_normal(3) + 0.1 * rng.standard_normal(50)
    model = MLPRegressor((5,), activation="tanh", epochs=2, random_state=seed).fit(X, y)
    params = list(model.module_.parameters())
    for p in params:
        p.data[...] = 0.0
    params[-1].data[...] = y.mean()
    c = 2.0 / len(y) * (y - y.mean()) @ X
    return model, X, y, -np.linalg.norm(c)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_saddle_point_fails_the_curvature_check(seed):
    """Zero gradient, yet −λ_min = ‖c‖ ≫ htol·λ_max: the certificate fails on curvature only,
    and its λ_min is the closed form −‖c‖ (and torch's)."""
    model, X, y, lam_min = _saddle(seed)
    ref = np.linalg.eigvalsh(_torch_hessian(model, X, y))
    assert ref[0] == pytest.approx(lam_min, rel=1e-12)
    cert = model.certificate(X, y, random_state=seed)  # default n_hvp = 40 ≥ d = 26
    assert cert["stationarity"].value < 1e-12 and cert["stationarity"].holds  # rounding of ȳ
    assert not cert["hessian_min_eigenvalue"].holds
    assert -cert["hessian_min_eigenvalue"].value == pytest.approx(lam_min, rel=1e-10)
    assert not cert.holds
    assert "hessian_min_eigenvalue" in [c.name for c in cert.failing()]


def test_certificate_has_no_bounds_and_says_why():
    model, X, y = _fit(0, "classifier", "tanh")
    cert = model.certificate(X, y)
    assert cert.bounds == {}
    assert "not convex" in cert.bounds_note and "‖∇L‖₂" in cert.bounds_note
    d = cert.to_dict()
    assert d["bounds"] == {} and "global minimiser" in d["bounds_note"]
    assert [c["name"] for c in d["conditions"]] == [
        "loss_decrease",
        "stationarity",
        "hessian_min_eigenvalue",
    ]


def test_certificate_is_reproducible_and_leaves_the_model_unchanged():
    """A fixed random_state gives the same Lanczos start; gradients and mode are restored."""
    model, X, y = _fit(1, "regressor", "tanh", hidden=(16,))
    before = {k: v.copy() for k, v in model.module_.state_dict().items()}
    pred = model.predict(X)
    a = model.certificate(X, y, n_hvp=10, random_state=3)
    b = model.certificate(X, y, n_hvp=10, random_state=3)
    assert a.to_dict() == b.to_dict()
    assert "10 Hessian-vector products" in a["hessian_min_eigenvalue"].description
    after = model.module_.state_dict()
    assert all(np.array_equal(before[k], after[k]) for k in before)
    np.testing.assert_array_equal(model.predict(X), pred)


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
@pytest.mark.parametrize("dim", [1, 2, 7, 60])
def test_extreme_eigenvalues_of_symmetric_matrices(seed, dim):
    """On explicit symmetric matrices (one with a repeated eigenvalue, which closes the Krylov
    space early and forces a restart), k = d products reproduce eigvalsh's extremes."""
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((dim, dim))
    for H in (A + A.T, np.diag(np.repeat(rng.standard_normal(dim // 3 + 1), 3)[:dim])):
        ref = np.linalg.eigvalsh(H)
        est = extreme_eigenvalues(lambda v, H=H: H @ v, dim, n_products=dim, random_state=seed)
        scale = max(np.max(np.abs(ref)), 1e-300)
        assert est.smallest == pytest.approx(ref[0], abs=1e-10 * scale)
        assert est.largest == pytest.approx(ref[-1], abs=1e-10 * scale)
        assert est.n_products == dim
