"""The smoothness lab on real networks: Hessian-vector products of a network's loss equal
torch's, β = ‖∇²f‖₂ equals the eigenvalues of torch's full Hessian (and the closed form on a
linear model), the descent lemma on a network, and sharpness along GD equal to torch's."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qed import nn, theory
from qed.nn import functional as F
from qed.theory.network import flat_parameters, hessian_vector_product

torch.set_default_dtype(torch.float64)


def _data(seed, n=30, d=4, k=3):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), rng.integers(0, k, n), rng.standard_normal((n, 1))


def _pair(kind, seed):
    """The same small network in qed and torch (weights copied with load_state_dict)."""
    if kind == "tanh":
        q = nn.Sequential(nn.Linear(4, 5, rng=seed), nn.Tanh(), nn.Linear(5, 3, rng=seed + 1))
        t = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Tanh(), torch.nn.Linear(5, 3))
    elif kind == "layernorm_gelu":
        q = nn.Sequential(
            nn.Linear(4, 6, rng=seed), nn.LayerNorm(6), nn.GELU(), nn.Linear(6, 3, rng=seed + 1)
        )
        t = torch.nn.Sequential(
            torch.nn.Linear(4, 6), torch.nn.LayerNorm(6), torch.nn.GELU(), torch.nn.Linear(6, 3)
        )
    else:  # batchnorm + softplus, evaluated with batch statistics (training mode)
        q = nn.Sequential(
            nn.Linear(4, 6, rng=seed), nn.BatchNorm1d(6), nn.Softplus(), nn.Linear(6, 3, rng=2)
        )
        t = torch.nn.Sequential(
            torch.nn.Linear(4, 6),
            torch.nn.BatchNorm1d(6),
            torch.nn.Softplus(),
            torch.nn.Linear(6, 3),
        )
    t.load_state_dict({k: torch.tensor(v) for k, v in q.state_dict().items()})
    return q, t


def _torch_loss(t, X, y, loss):
    names = [n for n, _ in t.named_parameters()]
    Xt = torch.tensor(X)

    def f(*flat):
        out = torch.func.functional_call(t, dict(zip(names, flat, strict=True)), (Xt,))
        if loss == "cross_entropy":
            return torch.nn.functional.cross_entropy(out, torch.tensor(y))
        return torch.nn.functional.mse_loss(out, torch.tensor(y))

    return f, [p.detach().clone() for p in t.parameters()]


@pytest.mark.parametrize("kind", ["tanh", "layernorm_gelu", "batchnorm_softplus"])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_network_hvp_equals_torch(kind, loss):
    X, yc, yr = _data(1)
    y = yc if loss == "cross_entropy" else np.tile(yr, (1, 3))
    q, t = _pair(kind, 0)
    value, g, hvp = hessian_vector_product(q, X, y, loss)
    f, params = _torch_loss(t, X, y, loss)
    v = np.random.default_rng(2).standard_normal(g.size)
    splits, offset = [], 0
    for p in params:
        splits.append(torch.tensor(v[offset : offset + p.numel()]).reshape(p.shape))
        offset += p.numel()
    tval, thv = torch.autograd.functional.hvp(f, tuple(params), tuple(splits))
    tg = torch.autograd.grad(f(*[p.requires_grad_() for p in params]), params)
    assert value == pytest.approx(tval.item(), rel=1e-13)
    # atol: the bias before batch norm has gradient 0, both sides give rounding noise there
    flat_tg = np.concatenate([x.numpy().ravel() for x in tg])
    np.testing.assert_allclose(g, flat_tg, rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(
        hvp(v), np.concatenate([x.numpy().ravel() for x in thv]), rtol=1e-10, atol=1e-13
    )


@pytest.mark.parametrize("kind", ["tanh", "layernorm_gelu"])
def test_network_smoothness_equals_torch_hessian_norm(kind):
    """β = max|λ(∇²f)| of torch's full Hessian: dense exactly, power iteration to 1e-6."""
    X, y, _ = _data(3)
    q, t = _pair(kind, 4)
    f, params = _torch_loss(t, X, y, "cross_entropy")
    flat = torch.cat([p.reshape(-1) for p in params])
    shapes = [p.shape for p in params]

    def f_flat(w):
        parts, offset = [], 0
        for s in shapes:
            n = int(np.prod(s))
            parts.append(w[offset : offset + n].reshape(s))
            offset += n
        return f(*parts)

    H = torch.autograd.functional.hessian(f_flat, flat).numpy()
    ref = np.max(np.abs(np.linalg.eigvalsh(H)))
    dense = theory.smoothness_constant(q, X, y, loss="cross_entropy", method="dense")
    assert dense == pytest.approx(ref, rel=1e-10)
    power = theory.smoothness_constant(q, X, y, loss="cross_entropy", random_state=0)
    assert power == pytest.approx(ref, rel=1e-6)
    # a callable loss (qed.nn.functional.cross_entropy has a second derivative) agrees
    assert theory.smoothness_constant(
        q, X, y, loss=F.cross_entropy, method="dense"
    ) == pytest.approx(ref, rel=1e-10)


def test_linear_model_smoothness_is_the_closed_form():
    """A bias-free Linear(d, 1) under MSE is the notes' least squares: β = 2·λ_max(XᵀX)/n."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((50, 6)), rng.standard_normal(50)
    model = nn.Linear(6, 1, bias=False, rng=0)
    beta = theory.smoothness_constant(model, X, y, loss="mse", random_state=0)
    assert beta == pytest.approx(theory.smoothness_constant(X), rel=1e-7)


def test_descent_lemma_on_a_network():
    """η < 2/β: the lemma holds at every step and f decreases; the model is left unchanged."""
    X, y, _ = _data(6, n=40)
    q, _ = _pair("tanh", 7)
    before = flat_parameters(q)[1]
    beta = theory.smoothness_constant(q, X, y, loss="cross_entropy", random_state=0)
    r = theory.descent_lemma_check(q, X, y, loss="cross_entropy", lr=1.0 / beta, n_steps=25)
    assert r["beta"] == pytest.approx(beta)
    assert r["holds"] and r["decreasing"] and not r["diverged"]
    np.testing.assert_array_equal(flat_parameters(q)[1], before)
    assert r["f"][0] == pytest.approx(F.cross_entropy(q(X), y).item(), rel=1e-14)


def test_descent_lemma_on_a_linear_model_equals_the_matrix_run():
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((30, 4)), rng.standard_normal(30)
    model = nn.Linear(4, 1, bias=False, rng=0)
    model.weight.data[...] = 0.0
    beta = theory.smoothness_constant(X)
    net = theory.descent_lemma_check(model, X, y, lr=1.5 / beta, beta=beta, n_steps=20)
    ref = theory.descent_lemma_check(X, y, lr=1.5 / beta, n_steps=20)
    np.testing.assert_allclose(net["f"], ref["f"], rtol=1e-12)
    np.testing.assert_allclose(net["slack"], ref["slack"], rtol=1e-9, atol=1e-14)


def test_sharpness_along_training_equals_torch_gd():
    """λ_max(∇²f(θ_t)) at each measured GD step equals torch's Hessian along torch's GD."""
    X, y, _ = _data(9, n=25)
    q, t = _pair("tanh", 10)
    before = flat_parameters(q)[1]
    lr = 1.5
    r = theory.sharpness_along_training(
        q, X, y, loss="cross_entropy", lr=lr, n_steps=6, every=2, random_state=0
    )
    np.testing.assert_array_equal(flat_parameters(q)[1], before)
    assert list(r["step"]) == [0, 2, 4, 6] and r["loss"].shape == (7,)
    assert r["threshold"] == 2 / lr and r["steps"] == 6 and not r["diverged"]
    f, params = _torch_loss(t, X, y, "cross_entropy")
    shapes = [p.shape for p in params]
    w = torch.cat([p.reshape(-1) for p in params])

    def f_flat(w):
        parts, offset = [], 0
        for s in shapes:
            n = int(np.prod(s))
            parts.append(w[offset : offset + n].reshape(s))
            offset += n
        return f(*parts)

    for step in range(7):
        if step % 2 == 0:
            H = torch.autograd.functional.hessian(f_flat, w).numpy()
            k = list(r["step"]).index(step)
            assert r["sharpness"][k] == pytest.approx(np.linalg.eigvalsh(H)[-1], rel=1e-9)
        wg = w.clone().requires_grad_()
        value = f_flat(wg)
        assert r["loss"][step] == pytest.approx(value.item(), rel=1e-12)
        (g,) = torch.autograd.grad(value, wg)
        w = (w - lr * g).detach()
    np.testing.assert_array_equal(r["above_threshold"], r["sharpness"] > 2 / lr)


def test_sharpness_of_a_quadratic_is_constant_and_gd_diverges_above_two_over_eta():
    """Linear model + MSE: ∇²f = 2XᵀX/n at every θ; with η > 2/β the run diverges."""
    rng = np.random.default_rng(11)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal(40)
    model = nn.Linear(3, 1, bias=False, rng=0)
    beta = theory.smoothness_constant(X)
    calm = theory.sharpness_along_training(model, X, y, lr=1.0 / beta, n_steps=10, every=5)
    np.testing.assert_allclose(calm["sharpness"], beta, rtol=1e-10)
    assert not calm["above_threshold"].any() and np.all(np.diff(calm["loss"]) <= 1e-15)
    wild = theory.sharpness_along_training(model, X, y, lr=2.5 / beta, n_steps=2000, every=500)
    assert wild["diverged"] and wild["above_threshold"].all()


def test_network_theory_bad_input():
    X, y, _ = _data(0)
    q, _ = _pair("tanh", 0)
    with pytest.raises(ValueError, match="not supported for a network"):
        theory.smoothness_constant(q, X, y, loss="hinge")
    with pytest.raises(TypeError, match="needs X and y"):
        theory.smoothness_constant(q, X)
    with pytest.raises(ValueError, match="rows"):
        theory.smoothness_constant(q, X, y[:5], loss="cross_entropy")
    with pytest.raises(ValueError, match="trainable"):
        theory.smoothness_constant(q.requires_grad_(False), X, y, loss="cross_entropy")
    with pytest.raises(ValueError, match="lr"):
        theory.sharpness_along_training(q, X, y, lr=0.0)
