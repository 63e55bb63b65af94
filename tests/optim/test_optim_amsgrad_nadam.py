"""AMSGrad, ``maximize`` and NAdam: trajectories against torch.optim (1e-6), the fused twins
bit for bit against the pure rules, resuming through state_dict and qed.save."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.special import expit

import qed
from qed.autograd import Tensor
from qed.optim import OPTIMIZERS, SGD, AdaGrad, Adam, AdamW, NAdam, RMSProp, _fused
from qed.optim import rules as R


def _problem(seed: int, dtype=np.float64):
    """A logistic loss on XW + b plus ‖XW + b‖²/(4n), gradients in closed form (float64)."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((40, 3)), np.where(rng.random(40) < 0.5, -1.0, 1.0)
    W0, b0, n = rng.standard_normal((3, 2)), rng.standard_normal(2), 40

    def grads(W, b):
        Z = X @ np.asarray(W, np.float64) + np.asarray(b, np.float64)
        dZ = Z / (2 * n)
        dZ[:, 0] += -y * expit(-y * Z[:, 0]) / n  # d softplus(−yz)/dz, without overflow
        return (X.T @ dZ).astype(dtype), dZ.sum(axis=0).astype(dtype)

    return W0.astype(dtype), b0.astype(dtype), grads


def _run_qed(cls, kwargs, seed, steps=60, dtype=np.float64, fused=None):
    W0, b0, grads = _problem(seed, dtype)
    W, b = Tensor(W0.copy()), Tensor(b0.copy())
    opt = cls([W, b], fused=fused, **kwargs)
    traj = []
    for _ in range(steps):
        W.grad, b.grad = grads(W.data, b.data)
        opt.step()
        traj.append(np.concatenate([W.data.ravel(), b.data.ravel()]))
    return np.array(traj), (W, b), opt


def _run_torch(cls, kwargs, seed, steps=60):
    W0, b0, grads = _problem(seed)
    W, b = torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)
    opt = cls([W, b], **kwargs)
    traj = []
    for _ in range(steps):
        gW, gb = grads(W.detach().numpy(), b.detach().numpy())
        W.grad, b.grad = torch.from_numpy(gW), torch.from_numpy(gb)
        opt.step()
        traj.append(np.concatenate([W.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(traj)


CASES = {
    "sgd": (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, weight_decay=1e-2)),
    "nesterov": (SGD, torch.optim.SGD, dict(lr=0.05, momentum=0.8, nesterov=True)),
    "adagrad": (AdaGrad, torch.optim.Adagrad, dict(lr=0.1, lr_decay=0.01, weight_decay=1e-2)),
    "rmsprop": (RMSProp, torch.optim.RMSprop, dict(lr=0.01, momentum=0.5, centered=True)),
    "adam": (Adam, torch.optim.Adam, dict(lr=0.02, weight_decay=1e-2)),
    "adamw": (AdamW, torch.optim.AdamW, dict(lr=0.02, weight_decay=0.1)),
    "nadam": (NAdam, torch.optim.NAdam, dict(lr=0.02)),
}


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("name", list(CASES))
def test_maximize_equals_torch_and_is_descent_on_minus_f(name, fused):
    """maximize=True ascends f: torch's trajectory, and the same as minimising −f."""
    cls, tcls, kw = CASES[name]
    ours, _, _ = _run_qed(cls, {**kw, "maximize": True}, 0, fused=fused)
    theirs = _run_torch(tcls, {**kw, "maximize": True}, 0)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    descent, _, _ = _run_qed(cls, kw, 0, fused=fused)
    assert np.abs(ours - descent).max() > 1e-3  # ascent and descent do differ


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("cls, tcls", [(Adam, torch.optim.Adam), (AdamW, torch.optim.AdamW)])
def test_amsgrad_equals_torch(cls, tcls, seed, fused):
    rng = np.random.default_rng(seed)
    kw = dict(
        lr=float(10 ** rng.uniform(-3, -1)),
        betas=(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.999))),
        eps=float(10 ** rng.uniform(-8, -5)),
        weight_decay=float(rng.choice([0.0, 0.05])),
        amsgrad=True,
    )
    ours, _, opt = _run_qed(cls, kw, seed, fused=fused)
    theirs = _run_torch(tcls, kw, seed)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    plain, _, _ = _run_qed(cls, {**kw, "amsgrad": False}, seed, fused=fused)
    assert np.abs(ours - plain).max() > 1e-6  # the running maximum did bind
    st_ = next(iter(opt.state.values()))
    assert np.all(st_["max_exp_avg_sq"] >= st_["exp_avg_sq"])


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("decoupled", [False, True])
def test_nadam_equals_torch(seed, decoupled, fused):
    rng = np.random.default_rng(10 + seed)
    kw = dict(
        lr=float(10 ** rng.uniform(-3, -1)),
        betas=(float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.999))),
        eps=float(10 ** rng.uniform(-8, -5)),
        weight_decay=float(rng.choice([0.0, 0.05])) if seed else 0.05,
        momentum_decay=float(rng.uniform(1e-3, 1e-2)),
        decoupled_weight_decay=decoupled,
    )
    ours, _, _ = _run_qed(NAdam, kw, seed, fused=fused)
    theirs = _run_torch(torch.optim.NAdam, kw, seed)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-4
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_nadam_float32_tracks_torch():
    W0, b0, grads = _problem(0, np.float32)
    ours, (W, _), _ = _run_qed(NAdam, dict(lr=0.01), 0, dtype=np.float32)
    theirs = _run_torch(torch.optim.NAdam, dict(lr=0.01), 0)
    assert W.data.dtype == np.float32
    np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)


DTYPES = [np.float32, np.float64]


@settings(max_examples=25, deadline=None)
@given(
    b1=st.floats(0.0, 0.999),
    b2=st.floats(0.0, 0.9999),
    t=st.integers(1, 5000),
    dec=st.booleans(),
    wd=st.sampled_from([0.0, 1e-3, 0.5]),
    dtype=st.sampled_from(DTYPES),
    n=st.sampled_from([1, 37, _fused.PARALLEL_MIN_SIZE + 3]),
    seed=st.integers(0, 2**16),
)
def test_amsgrad_fused_equals_rule(b1, b2, t, dec, wd, dtype, n, seed):
    rng = np.random.default_rng(seed)
    x, g, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    v, w = (g * g).astype(dtype), (rng.random(n) * 2).astype(dtype)
    pure = R.adam_amsgrad_array(x, g, m, v, w, t, 3e-3, b1, b2, 1e-8, wd, dec)
    fx, fm, fv, fw = x.copy(), m.copy(), v.copy(), w.copy()
    _fused.adam_(fx, g, fm, fv, t, 3e-3, b1, b2, 1e-8, wd, dec, fw)
    for a, b in zip(pure, (fx, fm, fv, fw), strict=True):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


@settings(max_examples=25, deadline=None)
@given(
    b1=st.floats(0.0, 0.999),
    b2=st.floats(0.0, 0.9999),
    t=st.integers(1, 5000),
    psi=st.floats(0.0, 0.05),
    dec=st.booleans(),
    wd=st.sampled_from([0.0, 1e-3, 0.5]),
    dtype=st.sampled_from(DTYPES),
    n=st.sampled_from([1, 37, _fused.PARALLEL_MIN_SIZE + 3]),
    seed=st.integers(0, 2**16),
)
def test_nadam_fused_equals_rule(b1, b2, t, psi, dec, wd, dtype, n, seed):
    rng = np.random.default_rng(seed)
    x, g, m = (rng.standard_normal(n).astype(dtype) for _ in range(3))
    v, mu_p = (g * g).astype(dtype), float(rng.uniform(0.01, 1.0))
    px, pm, pv, pp = R.nadam_array(x, g, m, v, t, mu_p, 3e-3, b1, b2, 1e-8, wd, psi, dec)
    fx, fm, fv = x.copy(), m.copy(), v.copy()
    fp = _fused.nadam_(fx, g, fm, fv, t, mu_p, 3e-3, b1, b2, 1e-8, wd, psi, dec)
    assert pp == fp
    for a, b in ((px, fx), (pm, fm), (pv, fv)):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(a, b)


def test_nadam_rule_is_pure_and_matches_the_shell():
    W0, b0, grads = _problem(1)
    rule = R.nadam(0.01, maximize=True)
    params = [W0.copy(), b0.copy()]
    state = rule.init(params)
    for _ in range(20):
        before = [p.copy() for p in params]
        params, state = rule.update(list(grads(*params)), state, params)
        assert not any(np.shares_memory(a, b) for a, b in zip(before, params, strict=True))
    ours, _, _ = _run_qed(NAdam, dict(lr=0.01, maximize=True), 1, steps=20, fused=False)
    np.testing.assert_array_equal(ours[-1], np.concatenate([p.ravel() for p in params]))


@pytest.mark.parametrize("cls, kw", [(NAdam, {}), (Adam, {"amsgrad": True}), (SGD, {})])
def test_resume_bit_for_bit_through_state_dict_and_file(cls, kw, tmp_path):
    kw = {**kw, "maximize": True, "lr": 0.01}
    full, _, _ = _run_qed(cls, kw, 2, steps=30)
    W0, b0, grads = _problem(2)
    W, b = Tensor(W0.copy()), Tensor(b0.copy())
    opt = cls([W, b], **kw)
    for _ in range(15):
        W.grad, b.grad = grads(W.data, b.data)
        opt.step()
    qed.save({"opt": opt, "W": W, "b": b}, tmp_path / "o.qed")
    loaded = qed.load(tmp_path / "o.qed")
    W, b, opt = loaded["W"], loaded["b"], loaded["opt"]
    assert opt.param_groups[0]["maximize"] is True
    for _ in range(15):
        W.grad, b.grad = grads(W.data, b.data)
        opt.step()
    np.testing.assert_array_equal(np.concatenate([W.data.ravel(), b.data.ravel()]), full[-1])


def test_optimizer_table_names_every_shell():
    assert OPTIMIZERS["nadam"] is NAdam and OPTIMIZERS["adamw"] is AdamW


@pytest.mark.parametrize(
    "kwargs, name",
    [
        ({"momentum_decay": -1.0}, "momentum_decay"),
        ({"betas": (0.9, 1.0)}, "betas"),
        ({"lr": -1.0}, "lr"),
    ],
)
def test_nadam_bad_hyperparameters_are_named(kwargs, name):
    with pytest.raises((ValueError, TypeError), match=name):
        NAdam([Tensor(np.zeros(2))], **kwargs)
