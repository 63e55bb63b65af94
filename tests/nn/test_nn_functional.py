"""qed.nn.functional: gradcheck for every function and layer, torch parity, extreme inputs."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from qed import nn
from qed.autograd import Tensor, gradcheck
from qed.nn import functional as F

TF = torch.nn.functional
EXTREME = np.array([[-1000.0, -50.0, -1e-8, 0.0, 3.0, 50.0, 1000.0]])


def _torch_value_and_grad(tf, x, w):
    t = torch.tensor(x, requires_grad=True)
    out = tf(t)
    (out * torch.tensor(w)).sum().backward()
    return out.detach().numpy(), t.grad.numpy()


def _qed_value_and_grad(qf, x, w):
    q = Tensor(x, requires_grad=True)
    out = qf(q)
    (out * w).sum().backward()
    return out.data, q.grad


@pytest.mark.parametrize(
    "name, qf, tf",
    [
        ("sigmoid", F.sigmoid, torch.sigmoid),
        ("tanh", F.tanh, torch.tanh),
        ("relu", F.relu, torch.relu),
        ("softmax", lambda x: F.softmax(x, axis=-1), lambda x: TF.softmax(x, dim=-1)),
        ("log_softmax", lambda x: F.log_softmax(x, axis=-1), lambda x: TF.log_softmax(x, dim=-1)),
        ("logsumexp", lambda x: F.logsumexp(x, axis=-1), lambda x: torch.logsumexp(x, dim=-1)),
    ],
)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_activations_at_extreme_inputs_are_finite_and_match_torch(name, qf, tf, dtype):
    """σ, tanh, ReLU, softmax, log-softmax at ±1000: no overflow, no NaN, torch's values."""
    x = EXTREME.astype(dtype)
    w = np.linspace(-1, 1, x.size).reshape(x.shape).astype(dtype)
    if name in ("logsumexp",):
        w = np.ones(1, dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow warning would fail the test
        qv, qg = _qed_value_and_grad(qf, x, w)
    tv, tg = _torch_value_and_grad(tf, x, w)
    assert qv.dtype == dtype and qg.dtype == dtype
    assert np.all(np.isfinite(qv)) and np.all(np.isfinite(qg))
    rtol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(qv, tv, rtol=rtol, atol=rtol * 1e-3)
    # float32 gradients like 1 − tanh²(3) cancel: eps₃₂/(1 − tanh²) ≈ 2e-5 relative
    grtol = 1e-4 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(qg, tg, rtol=grtol, atol=grtol * 1e-3)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_cross_entropy_at_extreme_logits_matches_torch(dtype):
    """Fused log-sum-exp cross entropy stays finite for logits of ±1e4 (mean, sum, none)."""
    z = np.array(
        [[1e4, -1e4, 0.0], [-1000.0, 1000.0, 999.0], [0.1, 0.2, 0.3], [-1e4, -1e4, -1e4]],
        dtype=dtype,
    )
    y = np.array([1, 2, 0, 2])
    for reduction in ("mean", "sum", "none"):
        q = Tensor(z, requires_grad=True)
        out = F.cross_entropy(q, y, reduction=reduction)
        w = np.arange(1, out.data.size + 1, dtype=dtype).reshape(out.data.shape)
        (out * w).sum().backward()
        t = torch.tensor(z, requires_grad=True)
        tout = TF.cross_entropy(t, torch.tensor(y), reduction=reduction)
        (tout * torch.tensor(w)).sum().backward()
        assert np.all(np.isfinite(out.data)) and np.all(np.isfinite(q.grad))
        rtol = 1e-6 if dtype == np.float32 else 1e-12
        np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=rtol)
        np.testing.assert_allclose(q.grad, t.grad.numpy(), rtol=rtol, atol=rtol * 1e-3)
        assert q.grad.dtype == dtype


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_with_logits_and_mse_match_torch(reduction):
    """BCE with logits at ±1000 (soft targets, gradient to both) and MSE, against torch."""
    rng = np.random.default_rng(0)
    z = np.concatenate([EXTREME.ravel(), rng.standard_normal(5)])
    y = rng.uniform(0, 1, z.size)
    qz, qy = Tensor(z, requires_grad=True), Tensor(y, requires_grad=True)
    tz, ty = torch.tensor(z, requires_grad=True), torch.tensor(y, requires_grad=True)
    (F.binary_cross_entropy_with_logits(qz, qy, reduction) * 1.5).sum().backward()
    (TF.binary_cross_entropy_with_logits(tz, ty, reduction=reduction) * 1.5).sum().backward()
    np.testing.assert_allclose(qz.grad, tz.grad.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(qy.grad, ty.grad.numpy(), rtol=1e-12, atol=1e-15)
    assert np.all(np.isfinite(qz.grad))
    a, b = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    qa, qb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    qm, tm = F.mse_loss(qa, qb, reduction), TF.mse_loss(ta, tb, reduction=reduction)
    np.testing.assert_allclose(qm.data, tm.detach().numpy(), rtol=1e-13)
    qm.sum().backward()
    tm.sum().backward()
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-13)
    np.testing.assert_allclose(qb.grad, tb.grad.numpy(), rtol=1e-13)


def test_derivatives_are_the_notes():
    """σ' = σ(1 − σ), tanh' = 1 − tanh², ReLU' = 1[z > 0] (0 at z = 0)."""
    z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0])
    for f, d in [
        (F.sigmoid, lambda s: s * (1 - s)),
        (F.tanh, lambda t: 1 - t**2),
        (F.relu, lambda r: (z > 0).astype(float)),
    ]:
        q = Tensor(z, requires_grad=True)
        out = f(q)
        out.sum().backward()
        np.testing.assert_allclose(q.grad, d(out.data), rtol=1e-15)


GRADCHECKS = [
    ("sigmoid", lambda x: F.sigmoid(x), (3, 4)),
    ("tanh", lambda x: F.tanh(x), (3, 4)),
    ("softmax", lambda x: F.softmax(x, axis=1), (3, 4)),
    ("softmax_axis0", lambda x: F.softmax(x, axis=0), (3, 4)),
    ("log_softmax", lambda x: F.log_softmax(x), (3, 4)),
    ("logsumexp_keep", lambda x: F.logsumexp(x, axis=0, keepdims=True), (3, 4)),
    ("cross_entropy", lambda x: F.cross_entropy(x, np.array([0, 3, 1])), (3, 4)),
    ("cross_entropy_none", lambda x: F.cross_entropy(x, np.array([0, 3, 1]), "none"), (3, 4)),
    ("bce", lambda x: F.binary_cross_entropy_with_logits(x, np.full((3, 4), 0.3)), (3, 4)),
    ("mse", lambda x: F.mse_loss(x, np.ones((3, 4)), "sum"), (3, 4)),
]


@pytest.mark.parametrize("name, f, shape", GRADCHECKS, ids=[g[0] for g in GRADCHECKS])
def test_functional_gradcheck(name, f, shape):
    x = np.random.default_rng(len(name)).standard_normal(shape)
    assert gradcheck(f, x)


@pytest.mark.parametrize("bias", [True, False])
def test_linear_gradcheck_all_inputs(bias):
    """y = xWᵀ + b: gradients to x, W and b by central differences."""
    rng = np.random.default_rng(0)
    x, W, b = rng.standard_normal((4, 3)), rng.standard_normal((2, 3)), rng.standard_normal(2)
    if bias:
        assert gradcheck(lambda x, W, b: F.linear(x, W, b), x, W, b)
    else:
        assert gradcheck(lambda x, W: F.linear(x, W), x, W)


@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 2)])
def test_batch_norm_gradcheck(training, shape):
    """The fused batch-norm backward, train and eval, for (N, C) and (N, C, L) input."""
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    gamma, beta = rng.uniform(0.5, 1.5, 3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.uniform(0.5, 2, 3)

    def f(x, g, b):
        # fresh copies: gradcheck calls f many times and training mode updates them
        return F.batch_norm(x, rm.copy(), rv.copy(), g, b, training=training)

    assert gradcheck(f, x, gamma, beta)


@pytest.mark.parametrize(
    "layer",
    [
        lambda: nn.Linear(3, 2, rng=0),
        lambda: nn.ReLU(),
        lambda: nn.Tanh(),
        lambda: nn.Sigmoid(),
        lambda: nn.Identity(),
        lambda: nn.Sequential(
            nn.Linear(3, 4, rng=0), nn.BatchNorm1d(4), nn.Tanh(), nn.Linear(4, 2, rng=1)
        ),
    ],
    ids=["Linear", "ReLU", "Tanh", "Sigmoid", "Identity", "Sequential"],
)
def test_layer_gradcheck_input_and_parameters(layer):
    """Every layer: gradient to its input and (through the tape) to each parameter."""
    module = layer()
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 3))
    if isinstance(module, nn.ReLU):
        x = np.where(np.abs(x) < 0.1, 0.5, x)
    assert gradcheck(lambda x: module(x), x)
    for name, p in module.named_parameters():
        *path, attr = name.split(".")
        owner = module
        for part in path:
            owner = getattr(owner, part)

        def f(w, owner=owner, attr=attr, p=p):
            owner.__dict__[attr] = w  # the checked leaf stands in for the Parameter
            try:
                return module(Tensor(x))
            finally:
                owner.__dict__[attr] = p

        assert gradcheck(f, p.data.copy()), name


def test_cross_entropy_errors_name_the_problem():
    z = Tensor(np.zeros((3, 4)))
    with pytest.raises(ValueError, match=r"in \[0, 4\)"):
        F.cross_entropy(z, np.array([0, 4, 1]))
    with pytest.raises(ValueError, match="shape"):
        F.cross_entropy(z, np.array([0, 1]))
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(z, np.array([0.5, 1.0, 2.0]))
    with pytest.raises(ValueError, match="reduction"):
        F.cross_entropy(z, np.array([0, 1, 2]), reduction="avg")
    with pytest.raises(ValueError, match="same shape"):
        F.mse_loss(Tensor(np.zeros(3)), np.zeros((3, 1)))


def test_batch_norm_training_needs_two_samples():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="expects input of shape"):
        nn.BatchNorm1d(3)(np.zeros((4, 2)))


def test_loss_modules_equal_functions():
    rng = np.random.default_rng(0)
    z, y = rng.standard_normal((4, 3)), np.array([0, 2, 1, 1])
    assert nn.CrossEntropyLoss()(z, y).item() == F.cross_entropy(z, y).item()
    t = rng.uniform(size=(4, 3))
    assert (
        nn.BCEWithLogitsLoss("sum")(z, t).item()
        == F.binary_cross_entropy_with_logits(z, t, "sum").item()
    )
    assert nn.MSELoss()(z, t).item() == F.mse_loss(z, t).item()
