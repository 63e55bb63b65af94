"""A qed network and the same torch network (float64, same weights) agree to 1e-8:
forward, loss, input gradient, every parameter gradient, optimizer trajectories, batch-norm
running statistics, and evaluation mode."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qed import nn, optim
from qed.autograd import Tensor, no_grad
from qed.nn import functional as F

TOL = dict(rtol=1e-8, atol=1e-10)


def _pair(seed: int, d_in: int, hidden: tuple[int, int], k: int, momentum: float = 0.1):
    torch.manual_seed(seed)
    tnet = torch.nn.Sequential(
        torch.nn.Linear(d_in, hidden[0]),
        torch.nn.BatchNorm1d(hidden[0], momentum=momentum),
        torch.nn.ReLU(),
        torch.nn.Linear(hidden[0], hidden[1]),
        torch.nn.BatchNorm1d(hidden[1], momentum=momentum),
        torch.nn.Tanh(),
        torch.nn.Linear(hidden[1], k),
    ).double()
    qnet = nn.Sequential(
        nn.Linear(d_in, hidden[0], rng=seed),
        nn.BatchNorm1d(hidden[0], momentum=momentum),
        nn.ReLU(),
        nn.Linear(hidden[0], hidden[1], rng=seed),
        nn.BatchNorm1d(hidden[1], momentum=momentum),
        nn.Tanh(),
        nn.Linear(hidden[1], k, rng=seed),
    )
    with torch.no_grad():  # non-trivial batch-norm affine parameters
        for m in tnet:
            if isinstance(m, torch.nn.BatchNorm1d):
                m.weight.uniform_(0.5, 1.5)
                m.bias.uniform_(-0.5, 0.5)
    qnet.load_state_dict(tnet.state_dict())
    return qnet, tnet


def _assert_same_state(qnet, tnet):
    tstate = tnet.state_dict()
    qstate = qnet.state_dict()
    assert list(qstate) == list(tstate)
    for key, value in tstate.items():
        np.testing.assert_allclose(qstate[key], value.numpy(), err_msg=key, **TOL)


@pytest.mark.parametrize(
    "seed, n, d_in, hidden, k",
    [
        (0, 16, 5, (8, 6), 3),
        (1, 33, 12, (20, 10), 4),
        (2, 7, 3, (5, 5), 2),
    ],
)
def test_forward_loss_and_all_gradients_match_torch(seed, n, d_in, hidden, k):
    """Linear → BN → ReLU → Linear → BN → tanh → Linear, cross entropy: every number agrees."""
    qnet, tnet = _pair(seed, d_in, hidden, k)
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d_in)) * 2.0
    y = rng.integers(0, k, n)

    tx = torch.tensor(X, requires_grad=True)
    tout = tnet(tx)
    tloss = torch.nn.functional.cross_entropy(tout, torch.tensor(y))
    tloss.backward()

    qx = Tensor(X, requires_grad=True)
    qout = qnet(qx)
    qloss = F.cross_entropy(qout, y)
    qloss.backward()

    np.testing.assert_allclose(qout.data, tout.detach().numpy(), **TOL)
    assert float(qloss.data) == pytest.approx(tloss.item(), rel=1e-12)
    np.testing.assert_allclose(qx.grad, tx.grad.numpy(), **TOL)
    tparams = dict(tnet.named_parameters())
    for name, p in qnet.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), err_msg=name, **TOL)
    _assert_same_state(qnet, tnet)  # running statistics after one training forward


@pytest.mark.parametrize("opt_name", ["adam", "sgd_momentum", "rmsprop"])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_training_steps_track_torch(opt_name, momentum):
    """After several optimizer steps (qed.optim vs torch.optim) weights and running stats agree."""
    qnet, tnet = _pair(3, 6, (10, 7), 3, momentum=momentum)
    if opt_name == "adam":
        qopt = optim.Adam(qnet.parameters(), lr=1e-2)
        topt = torch.optim.Adam(tnet.parameters(), lr=1e-2)
    elif opt_name == "sgd_momentum":
        qopt = optim.SGD(qnet.parameters(), lr=5e-2, momentum=0.9)
        topt = torch.optim.SGD(tnet.parameters(), lr=5e-2, momentum=0.9)
    else:
        qopt = optim.RMSProp(qnet.parameters(), lr=1e-3)
        topt = torch.optim.RMSprop(tnet.parameters(), lr=1e-3)
    rng = np.random.default_rng(5)
    for _ in range(8):
        X = rng.standard_normal((24, 6))
        y = rng.integers(0, 3, 24)
        qopt.zero_grad()
        F.cross_entropy(qnet(Tensor(X)), y).backward()
        qopt.step()
        topt.zero_grad()
        torch.nn.functional.cross_entropy(tnet(torch.tensor(X)), torch.tensor(y)).backward()
        topt.step()
    _assert_same_state(qnet, tnet)
    # evaluation mode uses the running statistics in both
    qnet.eval()
    tnet.eval()
    X = rng.standard_normal((9, 6))
    with no_grad():
        qout = qnet(Tensor(X)).data
    with torch.no_grad():
        tout = tnet(torch.tensor(X)).numpy()
    np.testing.assert_allclose(qout, tout, **TOL)
    _assert_same_state(qnet, tnet)  # eval forward leaves the running statistics alone


def test_eval_mode_gradients_match_torch():
    """In evaluation mode batch norm is an affine map: input and parameter gradients agree."""
    qnet, tnet = _pair(4, 5, (6, 4), 3)
    rng = np.random.default_rng(4)
    for _ in range(3):  # move the running statistics away from (0, 1)
        X = rng.standard_normal((10, 5))
        qnet(Tensor(X))
        tnet(torch.tensor(X))
    qnet.eval()
    tnet.eval()
    X = rng.standard_normal((7, 5))
    y = rng.integers(0, 3, 7)
    qx, tx = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    F.cross_entropy(qnet(qx), y).backward()
    torch.nn.functional.cross_entropy(tnet(tx), torch.tensor(y)).backward()
    np.testing.assert_allclose(qx.grad, tx.grad.numpy(), **TOL)
    tparams = dict(tnet.named_parameters())
    for name, p in qnet.named_parameters():
        np.testing.assert_allclose(p.grad, tparams[name].grad.numpy(), err_msg=name, **TOL)


def test_batchnorm_running_update_is_pytorch_convention():
    """running ← (1 − momentum)·running + momentum·batch (the notes' m = 1 − momentum), with
    the unbiased batch variance in the running estimate and the biased one to normalise."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((5, 3)) * 3 + 1
    bn = nn.BatchNorm1d(3, momentum=0.25)
    out = bn(Tensor(X)).data
    m = 1 - 0.25  # the notes' m
    mu, var_biased, var_unbiased = X.mean(0), X.var(0), X.var(0, ddof=1)
    np.testing.assert_allclose(bn.running_mean, m * 0.0 + (1 - m) * mu, rtol=1e-14)
    np.testing.assert_allclose(bn.running_var, m * 1.0 + (1 - m) * var_unbiased, rtol=1e-14)
    np.testing.assert_allclose(out, (X - mu) / np.sqrt(var_biased + 1e-5), rtol=1e-12)
    assert int(bn.num_batches_tracked) == 1


def test_batchnorm_3d_input_matches_torch():
    """(N, C, L) input: statistics over N and L, as torch's BatchNorm1d."""
    rng = np.random.default_rng(1)
    X = rng.standard_normal((4, 3, 5))
    tbn = torch.nn.BatchNorm1d(3).double()
    qbn = nn.BatchNorm1d(3)
    qx, tx = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    w = rng.standard_normal(X.shape)
    (qbn(qx) * w).sum().backward()
    (tbn(tx) * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(qx.grad, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(qbn.running_var, tbn.running_var.numpy(), **TOL)


def test_float32_network_stays_float32():
    """net.to(np.float32): parameters, buffers, outputs and gradients in float32."""
    qnet, _ = _pair(0, 5, (6, 4), 3)
    qnet.to(np.float32)
    X = np.random.default_rng(0).standard_normal((8, 5)).astype(np.float32)
    out = qnet(Tensor(X))
    assert out.dtype == np.float32
    F.cross_entropy(out, np.arange(8) % 3).backward()
    assert all(p.grad.dtype == np.float32 for p in qnet.parameters())
    assert all(
        b.dtype == np.float32
        for name, b in qnet.named_buffers()
        if not name.endswith("num_batches_tracked")
    )


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(128, 37), (6, 5, 7)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm_training_pass_matches_torch_in_its_dtype(dtype, shape, affine):
    """The compiled training-mode passes (statistics summed in float64, values stored in the
    input's dtype) against torch's BatchNorm1d in the same dtype: output, input gradient,
    γ and β gradients and the running statistics, on data far from zero mean."""
    rng = np.random.default_rng(shape[0])
    X = (rng.standard_normal(shape) * 3 + 5).astype(dtype)
    w = rng.standard_normal(shape).astype(dtype)
    tbn = torch.nn.BatchNorm1d(shape[1], affine=affine).to(getattr(torch, np.dtype(dtype).name))
    qbn = nn.BatchNorm1d(shape[1], affine=affine, dtype=dtype)
    if affine:
        gamma = rng.uniform(0.5, 2.0, shape[1]).astype(dtype)
        beta = rng.standard_normal(shape[1]).astype(dtype)
        qbn.weight.data[...], qbn.bias.data[...] = gamma, beta
        with torch.no_grad():
            tbn.weight.copy_(torch.from_numpy(gamma))
            tbn.bias.copy_(torch.from_numpy(beta))
    qx, tx = Tensor(X, requires_grad=True), torch.tensor(X, requires_grad=True)
    qout, tout = qbn(qx), tbn(tx)
    (qout * w).sum().backward()
    (tout * torch.from_numpy(w)).sum().backward()
    tol = dict(rtol=1e-5, atol=1e-5) if dtype == np.float32 else TOL
    assert qout.dtype == dtype and qx.grad.dtype == dtype
    np.testing.assert_allclose(qout.data, tout.detach().numpy(), **tol)
    np.testing.assert_allclose(qx.grad, tx.grad.numpy(), **tol)
    np.testing.assert_allclose(qbn.running_mean, tbn.running_mean.numpy(), **tol)
    np.testing.assert_allclose(qbn.running_var, tbn.running_var.numpy(), **tol)
    if affine:
        np.testing.assert_allclose(qbn.weight.grad, tbn.weight.grad.numpy(), **tol)
        np.testing.assert_allclose(qbn.bias.grad, tbn.bias.grad.numpy(), **tol)
