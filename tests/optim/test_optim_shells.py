"""The stateful optimizers against torch.optim: trajectories, groups, state dicts, dtypes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qed
from qed.optim import (
    SGD,
    AdaGrad,
    Adagrad,
    Adam,
    AdamW,
    RMSProp,
    RMSprop,
    clip_grad_norm,
    cosine,
    step_decay,
    warmup,
)

try:
    from qed.autograd import Tensor as Param
except ImportError:  # the autograd package not written yet: any .data/.grad holder will do

    class Param:  # type: ignore[no-redef]
        def __init__(self, data):
            self.data = np.array(data)
            self.grad = None


N_STEPS = 60


def _problem(seed: int, dtype=np.float64):
    """f(W, b) = (1/n)·Σ softplus(−yᵢ zᵢ₀) + ‖Z‖²/(4n) with Z = XW + b (W 3×2, b of 2):
    a logistic loss on the first output plus a ridge-like term; gradients in closed form."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((40, 3))
    y = np.where(rng.random(40) < 0.5, -1.0, 1.0)
    W0 = rng.standard_normal((3, 2))
    b0 = rng.standard_normal(2)
    n = len(y)

    def grads(W, b):
        Z = X @ np.asarray(W, np.float64) + np.asarray(b, np.float64)
        dZ = Z / (2 * n)
        dZ[:, 0] += -y / (1.0 + np.exp(y * Z[:, 0])) / n  # d softplus(−yz)/dz = −y·σ(−yz)
        return (X.T @ dZ).astype(dtype), dZ.sum(axis=0).astype(dtype)

    return W0.astype(dtype), b0.astype(dtype), grads


def _run_qed(cls, kwargs, seed, steps=N_STEPS, dtype=np.float64, fused=None, groups=None):
    W0, b0, grads = _problem(seed, dtype)
    W, b = Param(W0.copy()), Param(b0.copy())
    params = (
        [W, b] if groups is None else [{"params": [W], **groups[0]}, {"params": [b], **groups[1]}]
    )
    opt = cls(params, fused=fused, **kwargs)
    traj = []
    for _ in range(steps):
        W.grad, b.grad = grads(W.data, b.data)
        opt.step()
        traj.append(np.concatenate([W.data.ravel(), b.data.ravel()]))
    return np.array(traj), (W, b), opt


def _run_torch(cls, kwargs, seed, steps=N_STEPS, groups=None, scheduler=None):
    W0, b0, grads = _problem(seed)
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(b0, requires_grad=True)
    params = (
        [W, b] if groups is None else [{"params": [W], **groups[0]}, {"params": [b], **groups[1]}]
    )
    opt = cls(params, **kwargs)
    sched = scheduler(opt) if scheduler is not None else None
    traj = []
    for _ in range(steps):
        gW, gb = grads(W.detach().numpy(), b.detach().numpy())
        W.grad, b.grad = torch.from_numpy(gW), torch.from_numpy(gb)
        opt.step()
        if sched is not None:
            sched.step()
        traj.append(np.concatenate([W.detach().numpy().ravel(), b.detach().numpy().ravel()]))
    return np.array(traj)


def _random_hyper(name: str, seed: int) -> tuple[type, type, dict]:
    """A random hyperparameter setting for each optimizer (qed class, torch class, kwargs)."""
    rng = np.random.default_rng(1000 + seed)
    lr = float(10 ** rng.uniform(-3, -1))
    wd = float(rng.choice([0.0, 10 ** rng.uniform(-3, -1)]))
    if name == "sgd":
        kw = dict(lr=lr, weight_decay=wd)
        return SGD, torch.optim.SGD, kw
    if name == "momentum":
        kw = dict(
            lr=lr,
            momentum=float(rng.uniform(0.1, 0.95)),
            weight_decay=wd,
            dampening=float(rng.choice([0.0, rng.uniform(0, 0.5)])),
        )
        return SGD, torch.optim.SGD, kw
    if name == "nesterov":
        kw = dict(lr=lr, momentum=float(rng.uniform(0.1, 0.95)), nesterov=True, weight_decay=wd)
        return SGD, torch.optim.SGD, kw
    if name == "adagrad":
        kw = dict(
            lr=lr * 10,
            eps=float(10 ** rng.uniform(-10, -6)),
            weight_decay=wd,
            lr_decay=float(rng.choice([0.0, rng.uniform(0, 0.1)])),
            initial_accumulator_value=float(rng.choice([0.0, rng.uniform(0, 1)])),
        )
        return AdaGrad, torch.optim.Adagrad, kw
    if name == "rmsprop":
        kw = dict(
            lr=lr,
            alpha=float(rng.uniform(0.8, 0.999)),
            eps=float(10 ** rng.uniform(-8, -4)),
            weight_decay=wd,
            momentum=float(rng.choice([0.0, rng.uniform(0.1, 0.9)])),
            centered=bool(rng.integers(2)),
        )
        return RMSProp, torch.optim.RMSprop, kw
    betas = (float(rng.uniform(0.5, 0.95)), float(rng.uniform(0.9, 0.9999)))
    kw = dict(lr=lr, betas=betas, eps=float(10 ** rng.uniform(-8, -4)), weight_decay=wd)
    if name == "adam":
        return Adam, torch.optim.Adam, kw
    return AdamW, torch.optim.AdamW, kw


NAMES = ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adamw"]


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_trajectory_equals_torch(name, seed, fused):
    """Every step of 60 on a float64 logistic problem equals torch.optim to 1e-6 relative."""
    cls, tcls, kw = _random_hyper(name, seed)
    ours, _, _ = _run_qed(cls, kw, seed, fused=fused)
    theirs = _run_torch(tcls, kw, seed)
    assert np.abs(ours[-1] - ours[0]).max() > 1e-4  # the run actually moved
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)


def test_adam_decoupled_is_adamw():
    """Adam(decoupled=True) is AdamW; Adam(weight_decay=λ) is L2 and differs from it."""
    kw = dict(lr=0.05, weight_decay=0.1)
    a, _, _ = _run_qed(Adam, {**kw, "decoupled": True}, 3)
    b, _, _ = _run_qed(AdamW, kw, 3)
    c, _, _ = _run_qed(Adam, kw, 3)
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-6


def test_torch_spellings_are_aliases():
    assert Adagrad is AdaGrad and RMSprop is RMSProp


@pytest.mark.parametrize("name", ["momentum", "rmsprop", "adam"])
def test_param_groups_equal_torch(name):
    """Two groups with their own hyperparameters equal torch's param groups."""
    cls, tcls, kw = _random_hyper(name, 5)
    groups = [{"lr": kw["lr"] * 3}, {"lr": kw["lr"] / 2, "weight_decay": 0.05}]
    if name == "momentum":
        groups[1]["momentum"] = 0.5
    ours, _, opt = _run_qed(cls, kw, 5, groups=groups)
    theirs = _run_torch(tcls, kw, 5, groups=groups)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    assert [g["lr"] for g in opt.param_groups] == [kw["lr"] * 3, kw["lr"] / 2]


def test_param_with_no_grad_is_skipped_like_torch():
    """A parameter whose grad is None is not touched and its step count does not advance."""
    W0, b0, grads = _problem(7)
    ours = [Param(W0.copy()), Param(b0.copy())]
    theirs = [torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt, topt = Adam(ours, lr=0.05), torch.optim.Adam(theirs, lr=0.05)
    for k in range(30):
        gW, gb = grads(ours[0].data, ours[1].data)
        ours[0].grad, theirs[0].grad = gW, torch.from_numpy(gW.copy())
        ours[1].grad, theirs[1].grad = (gb, torch.from_numpy(gb.copy())) if k % 3 else (None, None)
        before = ours[1].data.copy()
        opt.step()
        topt.step()
        if k % 3 == 0:
            np.testing.assert_array_equal(ours[1].data, before)
    for p, t in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-6, atol=1e-9)
    assert opt.state[ours[1]]["step"] == topt.state[theirs[1]]["step"].item() == 20


@pytest.mark.parametrize(
    "lr, scheduler",
    [
        (
            step_decay(0.1, [10, 25], 0.3),
            lambda o: torch.optim.lr_scheduler.MultiStepLR(o, [10, 25], 0.3),
        ),
        (cosine(0.1, N_STEPS), lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, N_STEPS)),
        (
            warmup(0.1, 10),
            lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: min(t / 10, 1.0)),
        ),
    ],
)
@pytest.mark.parametrize("name", ["momentum", "adam"])
def test_schedule_lr_equals_torch_scheduler(name, lr, scheduler):
    """lr given as a schedule = torch's optimizer + lr_scheduler stepped after each step."""
    cls, tcls, kw = _random_hyper(name, 11)
    ours, _, opt = _run_qed(cls, {**kw, "lr": lr}, 11)
    theirs = _run_torch(tcls, {**kw, "lr": 0.1}, 11, scheduler=scheduler)
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-9)
    assert opt.step_count == N_STEPS and opt.current_lr() == [lr(N_STEPS)]


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("name", NAMES)
def test_state_dict_resume_is_bit_for_bit(name, fused):
    """20 steps, state_dict, a fresh optimizer on copies, load, 20 more = 40 uninterrupted."""
    cls, _, kw = _random_hyper(name, 4)
    kw = {**kw, "lr": warmup(cosine(kw["lr"], 40), 5)}  # the step counter matters too
    full, _, _ = _run_qed(cls, kw, 4, steps=40, fused=fused)
    _, (W, b), opt = _run_qed(cls, kw, 4, steps=20, fused=fused)
    sd = opt.state_dict()
    W2, b2 = Param(W.data.copy()), Param(b.data.copy())
    W.data[...] = np.nan  # the snapshot must not alias the old optimizer's arrays
    for s in opt.state.values():
        for v in s.values():
            if isinstance(v, np.ndarray):
                v[...] = np.nan
    opt2 = cls([W2, b2], fused=fused, **{**kw, "lr": 1.0})
    opt2.load_state_dict(sd)
    _, _, grads = _problem(4)
    for k in range(20):
        W2.grad, b2.grad = grads(W2.data, b2.data)
        opt2.step()
        np.testing.assert_array_equal(
            np.concatenate([W2.data.ravel(), b2.data.ravel()]), full[20 + k]
        )


def test_qed_save_load_resumes_bit_for_bit(tmp_path):
    """qed.save((params, optimizer)) and qed.load continue exactly as the original."""
    kw = dict(lr=warmup(cosine(0.05, 40), 5), betas=(0.8, 0.99), weight_decay=0.01)
    _, (W, b), opt = _run_qed(Adam, kw, 9, steps=15)
    path = tmp_path / "run.qed"
    qed.save(([W, b], opt), path)
    (W2, b2), opt2 = qed.load(path)
    assert opt2.param_groups[0]["params"][0] is W2 and repr(opt2) == repr(opt)
    _, _, grads = _problem(9)
    for _ in range(15):
        for params, o in (((W, b), opt), ((W2, b2), opt2)):
            params[0].grad, params[1].grad = grads(params[0].data, params[1].data)
            o.step()
    np.testing.assert_array_equal(W2.data, W.data)
    np.testing.assert_array_equal(b2.data, b.data)
    assert opt2.step_count == 30


@pytest.mark.parametrize("fused", [None, False])
@pytest.mark.parametrize("name", NAMES)
def test_float32_stays_float32_and_tracks_torch(name, fused):
    """float32 parameters (given float64 grads even) stay float32, state included, and
    follow torch's float32 run to float32 accuracy."""
    cls, tcls, kw = _random_hyper(name, 2)
    W0, b0, grads = _problem(2, np.float32)
    ours = [Param(W0.copy()), Param(b0.copy())]
    theirs = [torch.tensor(W0, requires_grad=True), torch.tensor(b0, requires_grad=True)]
    opt, topt = cls(ours, fused=fused, **kw), tcls(theirs, **kw)
    for _ in range(30):
        gW, gb = grads(ours[0].data, ours[1].data)
        ours[0].grad, ours[1].grad = gW.astype(np.float64), gb  # a float64 grad is cast
        gW, gb = grads(theirs[0].detach().numpy(), theirs[1].detach().numpy())
        theirs[0].grad, theirs[1].grad = torch.from_numpy(gW), torch.from_numpy(gb)
        opt.step()
        topt.step()
    for p, t in zip(ours, theirs, strict=True):
        assert p.data.dtype == np.float32
        assert all(
            v.dtype == np.float32 for v in opt.state[p].values() if isinstance(v, np.ndarray)
        )
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=2e-4, atol=2e-5)


def test_zero_grad():
    p = Param(np.ones(3))
    opt = SGD([p], lr=0.1)
    p.grad = np.ones(3)
    opt.zero_grad(set_to_none=False)
    np.testing.assert_array_equal(p.grad, np.zeros(3))
    opt.zero_grad()
    assert p.grad is None


@pytest.mark.parametrize(
    "cls, kwargs, name",
    [
        (SGD, dict(lr=-0.1), "lr"),
        (SGD, dict(lr=0.1, momentum=1.0), "momentum"),
        (SGD, dict(lr=0.1, momentum=-0.5), "momentum"),
        (SGD, dict(lr=0.1, weight_decay=-1e-3), "weight_decay"),
        (SGD, dict(lr=0.1, nesterov=True), "nesterov"),
        (SGD, dict(lr=0.1, momentum=0.9, dampening=1.5), "dampening"),
        (AdaGrad, dict(eps=-1e-10), "eps"),
        (AdaGrad, dict(initial_accumulator_value=-1.0), "initial_accumulator_value"),
        (AdaGrad, dict(lr_decay=-1.0), "lr_decay"),
        (RMSProp, dict(alpha=1.0), "alpha"),
        (RMSProp, dict(eps=-1.0), "eps"),
        (RMSProp, dict(momentum=2.0), "momentum"),
        (Adam, dict(lr=float("nan")), "lr"),
        (Adam, dict(betas=(1.0, 0.999)), r"betas\[0\]"),
        (Adam, dict(betas=(0.9, -0.1)), r"betas\[1\]"),
        (Adam, dict(betas=(0.9,)), "betas"),
        (Adam, dict(eps=-1e-8), "eps"),
        (AdamW, dict(weight_decay=-0.01), "weight_decay"),
    ],
)
def test_bad_hyperparameters_raise_naming_the_parameter(cls, kwargs, name):
    with pytest.raises(ValueError, match=name):
        cls([Param(np.ones(2))], **kwargs)


def test_bad_params_and_groups_raise():
    with pytest.raises(TypeError, match="params"):
        Adam([np.ones(3)])
    with pytest.raises(TypeError, match="lr"):
        Adam([Param(np.ones(3))], lr="0.1")
    with pytest.raises(ValueError, match="empty"):
        Adam([])
    p = Param(np.ones(3))
    with pytest.raises(ValueError, match="more than one"):
        Adam([{"params": [p]}, {"params": [p]}])
    with pytest.raises(ValueError, match="unknown hyperparameter"):
        Adam([{"params": [p], "momentum": 0.9}])
    with pytest.raises(ValueError, match="lr"):  # a group's own hyperparameters are checked
        Adam([{"params": [p], "lr": -1.0}])
    opt = Adam([p])
    p.grad = np.ones(4)
    with pytest.raises(ValueError, match="shape"):
        opt.step()
    with pytest.raises(ValueError, match="parameter groups"):
        opt.load_state_dict({"state": {}, "param_groups": []})


def test_step_closure_returns_loss():
    p = Param(np.array([3.0]))
    opt = SGD([p], lr=0.25)

    def closure():
        p.grad = 2 * p.data
        return float(p.data[0] ** 2)

    assert opt.step(closure) == 9.0
    np.testing.assert_array_equal(p.data, [1.5])


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("max_norm", [0.1, 1e3])
def test_clip_grad_norm_equals_torch(norm_type, max_norm):
    rng = np.random.default_rng(int(max_norm))
    grads = [rng.standard_normal((4, 3)), rng.standard_normal(5)]
    ours = [Param(np.zeros_like(g)) for g in grads] + [Param(np.zeros(2))]
    for p, g in zip(ours, grads, strict=False):
        p.grad = g.copy()
    theirs = [torch.zeros(g.shape, dtype=torch.float64, requires_grad=True) for g in grads]
    for t, g in zip(theirs, grads, strict=True):
        t.grad = torch.from_numpy(g.copy())
    total = clip_grad_norm(ours, max_norm, norm_type)
    ttotal = torch.nn.utils.clip_grad_norm_(theirs, max_norm, norm_type)
    assert total == pytest.approx(ttotal.item(), rel=1e-12)
    for p, t in zip(ours, theirs, strict=False):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=1e-12)
    assert ours[-1].grad is None


@pytest.mark.parametrize("name", NAMES)
def test_non_contiguous_parameter_takes_the_pure_path_in_place(name):
    """A Fortran-ordered parameter cannot use the fused kernel: fused=None falls back to the
    pure rule (updating .data in place, same numbers), fused=True refuses at construction."""
    cls, _, kw = _random_hyper(name, 6)
    rng = np.random.default_rng(6)
    x0, grads = rng.standard_normal((5, 4)), [rng.standard_normal((5, 4)) for _ in range(5)]
    a, b = Param(np.asfortranarray(x0)), Param(x0.copy())
    data_a = a.data
    oa, ob = cls([a], **kw), cls([b], fused=True, **kw)
    for g in grads:
        a.grad, b.grad = np.asfortranarray(g), g
        oa.step()
        ob.step()
    assert a.data is data_a and a.data.flags.f_contiguous
    np.testing.assert_array_equal(a.data, b.data)
    with pytest.raises(ValueError, match="fused=True"):
        cls([Param(np.asfortranarray(x0))], fused=True, **kw)
