"""Smoothness constants and the descent lemma (the notes' Lemma 3.1)."""

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qed.theory import (
    descent_lemma_check,
    largest_eigenvalue,
    loss_and_gradient,
    smoothness_constant,
)


def _data(seed, n, d, labels=False):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) * rng.uniform(0.1, 3.0, d)
    y = (rng.random(n) < 0.5).astype(float) if labels else rng.standard_normal(n)
    return X, y


def _torch_hessian(X, y, loss, w):
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def f(w):
        z = Xt @ w
        if loss == "squared":
            return ((yt - z) ** 2).mean()
        return torch.nn.functional.binary_cross_entropy_with_logits(z, yt)

    return torch.autograd.functional.hessian(f, torch.tensor(w)).numpy()


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(50, 3), (200, 20), (30, 60)])
def test_squared_beta_is_lambda_max_of_the_hessian(seed, shape):
    """β = 2λ_max(XᵀX)/n equals λ_max of torch's Hessian of (1/n)‖y − Xw‖² (any w)."""
    X, y = _data(seed, *shape)
    w = np.random.default_rng(seed + 10).standard_normal(shape[1])
    H = _torch_hessian(X, y, "squared", w)
    assert smoothness_constant(X) == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-10)
    assert smoothness_constant(X) == pytest.approx(
        2 * np.linalg.eigvalsh(X.T @ X)[-1] / shape[0], rel=1e-10
    )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_logistic_beta_bounds_the_hessian_everywhere_and_is_attained_at_zero(seed):
    """∇²f = XᵀSX/n with S ⪯ I/4: λ_max ≤ λ_max(XᵀX)/(4n), with equality at w = 0 (σ = ½)."""
    X, y = _data(seed, 120, 6, labels=True)
    beta = smoothness_constant(X, loss="logistic")
    assert beta == pytest.approx(np.linalg.eigvalsh(X.T @ X)[-1] / (4 * 120), rel=1e-10)
    rng = np.random.default_rng(seed)
    at_zero = np.linalg.eigvalsh(_torch_hessian(X, y, "logistic", np.zeros(6)))[-1]
    assert at_zero == pytest.approx(beta, rel=1e-10)
    for _ in range(5):
        w = rng.standard_normal(6)
        lam = np.linalg.eigvalsh(_torch_hessian(X, y, "logistic", w))[-1]
        assert lam <= beta * (1 + 1e-12)


@pytest.mark.parametrize(
    "method, dim",
    [
        ("dense", 2),
        ("dense", 40),
        ("dense", 200),
        ("eigsh", 2),
        ("eigsh", 40),
        ("eigsh", 600),
        ("power", 2),
        ("power", 40),
        ("power", 600),
    ],
)
def test_eigensolvers_agree_with_lapack(method, dim):
    """max|λ(H)| by ARPACK, power iteration and dense LAPACK, for an indefinite symmetric H."""
    rng = np.random.default_rng(dim)
    Q = np.linalg.qr(rng.standard_normal((dim, dim)))[0]
    lam = np.linspace(-1.0, 1.0, dim)
    lam[0] = -3.0  # the largest in magnitude is negative: β is a norm, not the top eigenvalue
    H = (Q * lam) @ Q.T
    got = largest_eigenvalue(lambda v: H @ v, dim, method=method, random_state=0)
    assert got == pytest.approx(3.0, rel=1e-7)
    assert smoothness_constant(hvp=lambda v: H @ v, dim=dim, method=method) == pytest.approx(
        3.0, rel=1e-7
    )


def test_large_design_uses_eigsh_and_agrees():
    """For min(n, d) beyond the dense limit β comes from eigsh on v ↦ Xᵀ(Xv)."""
    X, _ = _data(3, 900, 450)
    ref = 2 * np.linalg.svd(X, compute_uv=False)[0] ** 2 / 900
    assert smoothness_constant(X) == pytest.approx(ref, rel=1e-8)
    assert smoothness_constant(X, method="power") == pytest.approx(ref, rel=1e-6)


def test_hvp_of_rosenbrock_matches_torch_hessian():
    """smoothness_constant(hvp=...) at a point is ‖∇²f(x)‖₂ of torch's Hessian there."""
    x0 = torch.tensor([-1.2, 1.0], dtype=torch.float64)

    def rosen(x):
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2

    H = torch.autograd.functional.hessian(rosen, x0).numpy()

    def hvp(v):
        return torch.autograd.functional.hvp(rosen, x0, torch.tensor(v))[1].numpy()

    assert smoothness_constant(hvp=hvp, dim=2) == pytest.approx(
        np.abs(np.linalg.eigvalsh(H)).max(), rel=1e-12
    )


@pytest.mark.parametrize("loss", ["squared", "logistic"])
def test_gradients_match_torch_autograd(loss):
    X, y = _data(5, 40, 4, labels=loss == "logistic")
    f, grad = loss_and_gradient(X, y, loss)
    w = np.random.default_rng(1).standard_normal(4)
    wt = torch.tensor(w, requires_grad=True)
    z = torch.tensor(X) @ wt
    yt = torch.tensor(y)
    ft = (
        ((yt - z) ** 2).mean()
        if loss == "squared"
        else (torch.nn.functional.binary_cross_entropy_with_logits(z, yt))
    )
    ft.backward()
    assert f(w) == pytest.approx(ft.item(), rel=1e-12)
    np.testing.assert_allclose(grad(w), wt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("loss", ["squared", "logistic"])
@pytest.mark.parametrize("factor", [0.3, 1.0, 1.9])
def test_descent_lemma_holds_and_gd_decreases_below_two_over_beta(loss, factor):
    """For η < 2/β every step satisfies f(x_{t+1}) ≤ f(x_t) − (η − βη²/2)‖∇f(x_t)‖² and f falls."""
    X, y = _data(7, 100, 5, labels=loss == "logistic")
    beta = smoothness_constant(X, loss)
    r = descent_lemma_check(X, y, loss=loss, lr=factor / beta, n_steps=60)
    assert r["holds"] and r["decreasing"] and not r["diverged"]
    assert r["steps"] == 60
    assert np.all(r["slack"] >= -r["tolerance"])
    # the guaranteed decrease is (η − βη²/2)‖∇f‖² > 0 at every step
    assert np.all(
        r["f"][1:]
        <= r["f"][:-1] - (r["lr"] - beta * r["lr"] ** 2 / 2) * r["grad_sq"] + r["tolerance"]
    )


def test_steps_beyond_two_over_beta_diverge_on_a_quadratic():
    """With η > 2/β the top eigen-direction of the squared loss grows by |1 − ηβ| > 1 per step."""
    X, y = _data(8, 100, 5)
    beta = smoothness_constant(X)
    r = descent_lemma_check(X, y, lr=2.05 / beta, n_steps=3000)
    assert r["diverged"] and not r["decreasing"]
    assert r["holds"]  # the inequality itself holds for every η; it no longer forces descent
    assert r["f"][-1] > 1e6 * r["f"][0]


def test_generic_function_interface():
    A = np.diag([1.0, 10.0])
    r = descent_lemma_check(
        f=lambda x: 0.5 * x @ A @ x, grad=lambda x: A @ x, w0=[1.0, 1.0], beta=10.0, n_steps=20
    )
    assert r["holds"] and r["decreasing"] and r["lr"] == pytest.approx(0.1)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(5, 40),
    d=st.integers(1, 6),
    factor=st.floats(0.05, 1.95),
)
def test_descent_lemma_property(seed, n, d, factor):
    X, y = _data(seed, n, d)
    r = descent_lemma_check(X, y, lr=factor / smoothness_constant(X), n_steps=15)
    assert r["holds"] and r["decreasing"]


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"X": np.ones((3, 2)), "loss": "hinge"}, "loss='hinge'"),
        ({}, "needs X"),
        ({"hvp": lambda v: v}, "dim="),
        ({"X": np.ones((3, 2)), "hvp": lambda v: v, "dim": 2}, "not both"),
    ],
)
def test_bad_arguments_name_the_fix(kwargs, match):
    with pytest.raises(ValueError, match=match):
        smoothness_constant(**kwargs)


def test_bad_labels_and_bad_hvp():
    with pytest.raises(ValueError, match="labels"):
        loss_and_gradient(np.ones((3, 2)), [0, 1, 2], "logistic")
    with pytest.raises(ValueError, match="shape"):
        largest_eigenvalue(lambda v: np.ones(3), 2)
    with pytest.raises(ValueError, match="beta="):
        descent_lemma_check(f=lambda x: 0.0, grad=lambda x: x)
