"""Scheduler objects against torch.optim.lr_scheduler: the lr (and momentum) of every step on
given metric sequences, to 1e-12; resuming through state_dict and qed.save; unbound recipes."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qed
from qed.autograd import Tensor
from qed.optim import SGD, Adam, schedules
from qed.optim import lr_scheduler as L

TL = torch.optim.lr_scheduler


def _ours(opt_cls=SGD, lrs=(0.1,), **kw):
    groups = [{"params": [Tensor(np.zeros(3), requires_grad=True)], "lr": lr} for lr in lrs]
    return opt_cls(groups, **kw)


def _theirs(opt_cls=torch.optim.SGD, lrs=(0.1,), **kw):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(3))], "lr": lr} for lr in lrs]
    return opt_cls(groups, **kw)


def _run(opt, sched, steps, metrics=None, key=None):
    """Values after construction and after each of ``steps`` scheduler steps."""

    def read():
        return [g[key] if key else g["lr"] for g in opt.param_groups]

    out = [read()]
    for k in range(steps):
        opt.step()
        if metrics is None:
            sched.step()
        else:
            sched.step(metrics[k])
        out.append(read())
    return np.array(out, dtype=float)


def _close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("gamma", [0.9, 0.5, 1.01])
def test_exponential_equals_torch(gamma):
    o, t = _ours(lrs=(0.1, 0.02)), _theirs(lrs=(0.1, 0.02))
    _close(_run(o, L.ExponentialLR(o, gamma), 150), _run(t, TL.ExponentialLR(t, gamma), 150))


@pytest.mark.parametrize("T_0, T_mult, eta_min", [(10, 1, 0.0), (7, 2, 1e-3), (1, 3, 0.0)])
def test_cosine_warm_restarts_equals_torch(T_0, T_mult, eta_min):
    o, t = _ours(lrs=(0.5,)), _theirs(lrs=(0.5,))
    ours = _run(o, L.CosineAnnealingWarmRestarts(o, T_0, T_mult, eta_min), 200)
    theirs = _run(t, TL.CosineAnnealingWarmRestarts(t, T_0, T_mult, eta_min), 200)
    _close(ours, theirs)


@pytest.mark.parametrize("anneal", ["cos", "linear"])
@pytest.mark.parametrize("three_phase", [False, True])
@pytest.mark.parametrize("adam", [False, True])
def test_one_cycle_lr_and_momentum_equal_torch(anneal, three_phase, adam):
    """The lr and the cycled momentum (SGD) or β₁ (Adam) of every step, to the last one."""
    kw = dict(total_steps=97, pct_start=0.25, anneal_strategy=anneal, three_phase=three_phase)
    if adam:
        o, t = _ours(Adam, lrs=(0.1, 0.3)), _theirs(torch.optim.Adam, lrs=(0.1, 0.3))
    else:
        o = _ours(SGD, lrs=(0.1, 0.3), momentum=0.9)
        t = _theirs(torch.optim.SGD, lrs=(0.1, 0.3), momentum=0.9)
    so, st = L.OneCycleLR(o, [0.4, 1.0], **kw), TL.OneCycleLR(t, [0.4, 1.0], **kw)
    lrs_o, lrs_t, mom_o, mom_t = [], [], [], []
    for _ in range(97):
        lrs_o.append([g["lr"] for g in o.param_groups])
        lrs_t.append([g["lr"] for g in t.param_groups])
        key = "betas" if adam else "momentum"
        mom_o.append([np.ravel(g[key])[0] for g in o.param_groups])
        mom_t.append([np.ravel(g[key])[0] for g in t.param_groups])
        o.step(), t.step()
        so.step(), st.step()
    _close(lrs_o, lrs_t)
    _close(mom_o, mom_t)
    with pytest.raises(ValueError, match="total_steps"):
        so.step()


def test_wrapped_pure_schedule_equals_lambda_lr():
    """LRScheduler(opt, s) sets lr = s(t): torch's LambdaLR with λ(t) = s(t)/lr₀."""
    s = schedules.warmup(schedules.cosine(0.2, 80), 20)
    o, t = _ours(lrs=(0.2,)), _theirs(lrs=(0.2,))
    ours = _run(o, L.LRScheduler(o, s), 120)
    theirs = _run(t, TL.LambdaLR(t, lambda k: s(k) / 0.2), 120)
    _close(ours, theirs)


def _metric_sequence(seed, n=120):
    """A noisy decreasing curve with exact ties and flat stretches (plateaus to detect)."""
    rng = np.random.default_rng(seed)
    m = np.round(2.0 + np.cumsum(rng.normal(-0.01, 0.03, n)), 2)
    m[n // 3 : n // 3 + n // 4] = m[n // 3]
    return [float(v) for v in m]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize(
    "kw",
    [
        {},
        {"mode": "max", "factor": 0.5, "patience": 2},
        {"threshold_mode": "abs", "threshold": 0.02, "patience": 3, "cooldown": 2},
        {"mode": "max", "threshold_mode": "abs", "patience": 0, "min_lr": [0.01, 0.0]},
        {"factor": 0.5, "patience": 1, "min_lr": 0.03, "eps": 1e-3},
    ],
)
def test_reduce_on_plateau_equals_torch_on_metric_sequences(seed, kw):
    metrics = _metric_sequence(seed)
    if kw.get("mode") == "max":
        metrics = [-m for m in metrics]
    o, t = _ours(lrs=(0.1, 0.05)), _theirs(lrs=(0.1, 0.05))
    so, st = L.ReduceLROnPlateau(o, **kw), TL.ReduceLROnPlateau(t, **kw)
    ours, theirs = _run(o, so, len(metrics), metrics), _run(t, st, len(metrics), metrics)
    _close(ours, theirs)
    assert ours[-1, 0] < 0.1  # the sequences do contain plateaus
    assert so.num_bad_epochs == st.num_bad_epochs and so.best == st.best


def test_sequential_equals_torch_sequential():
    o, t = _ours(lrs=(0.3,)), _theirs(lrs=(0.3,))
    so = L.SequentialLR(
        o,
        [L.ExponentialLR(o, 0.9), L.CosineAnnealingWarmRestarts(o, 10), L.ExponentialLR(o, 0.5)],
        [15, 42],
    )
    st = TL.SequentialLR(
        t,
        [TL.ExponentialLR(t, 0.9), TL.CosineAnnealingLR(t, 10), TL.ExponentialLR(t, 0.5)],
        [15, 42],
    )
    # CosineAnnealingLR and the warm restarts coincide over the first period (t < 10)
    ours, theirs = _run(o, so, 60), _run(t, st, 60)
    _close(ours[:25], theirs[:25])
    _close(ours[42:], theirs[42:])


@pytest.mark.parametrize("seed", [0, 3])
def test_warmup_then_plateau(seed):
    """pytorch/pytorch#68978: a linear warm-up over w steps, then plateau reduction. torch
    cannot put ReduceLROnPlateau in SequentialLR; by hand it is LambdaLR(t/w) for w steps,
    then ReduceLROnPlateau fed from step w on."""
    w, metrics = 8, _metric_sequence(seed)
    o = _ours(lrs=(0.1,))
    warm = L.LRScheduler(o, schedules.warmup(0.1, w))
    plateau = L.ReduceLROnPlateau(o, factor=0.5, patience=3)
    so = L.SequentialLR(o, [warm, plateau], milestones=[w])
    ours = _run(o, so, len(metrics), metrics)

    t = _theirs(lrs=(0.1,))
    lam = TL.LambdaLR(t, lambda k: k / w)
    tp = TL.ReduceLROnPlateau(t, factor=0.5, patience=3)
    theirs = [[t.param_groups[0]["lr"]]]
    for k, m in enumerate(metrics, start=1):
        t.step()
        if k <= w:
            lam.step()
        if k >= w:
            tp.step(m)
        theirs.append([t.param_groups[0]["lr"]])
    _close(ours, theirs)
    assert ours[0, 0] == 0.0 and ours[w, 0] == 0.1 and ours[-1, 0] < 0.1


def test_sequential_needs_the_metric_only_while_plateau_is_active():
    o = _ours()
    so = L.SequentialLR(
        o, [L.LRScheduler(o, schedules.warmup(0.1, 3)), L.ReduceLROnPlateau(o)], [3]
    )
    so.step(), so.step()  # warm-up: no metric needed
    so.step(1.0)
    with pytest.raises(ValueError, match="metric"):
        so.step()


def _make_all(opt):
    return {
        "exp": L.ExponentialLR(opt, 0.95),
        "sgdr": L.CosineAnnealingWarmRestarts(opt, 5, 2, 1e-3),
        "onecycle": L.OneCycleLR(opt, 0.5, total_steps=60),
        "plateau": L.ReduceLROnPlateau(opt, factor=0.5, patience=2, cooldown=1),
        "wrapped": L.LRScheduler(opt, schedules.cosine(0.1, 50)),
        "seq": L.SequentialLR(
            opt, [L.LRScheduler(opt, schedules.warmup(0.1, 4)), L.ReduceLROnPlateau(opt)], [4]
        ),
    }


@pytest.mark.parametrize("name", ["exp", "sgdr", "onecycle", "plateau", "wrapped", "seq"])
@pytest.mark.parametrize("through_file", [False, True])
def test_resume_from_state_dict_and_file(name, through_file, tmp_path):
    """k steps, snapshot (state_dict, or qed.save of optimizer and scheduler), k more steps ==
    2k uninterrupted steps."""
    metrics = _metric_sequence(5, 40)
    opt = _ours(SGD, momentum=0.9)
    full = _run(opt, _make_all(opt)[name], 40, metrics if name in ("plateau", "seq") else None)

    opt = _ours(SGD, momentum=0.9)
    sched = _make_all(opt)[name]
    needs = name in ("plateau", "seq")
    first = _run(opt, sched, 20, metrics[:20] if needs else None)
    if through_file:
        qed.save({"optimizer": opt, "scheduler": sched}, tmp_path / "s.qed")
        loaded = qed.load(tmp_path / "s.qed")
        opt2, sched2 = loaded["optimizer"], loaded["scheduler"]
        assert sched2.optimizer is opt2
    else:
        opt2 = _ours(SGD, momentum=0.9)
        sched2 = _make_all(opt2)[name]
        opt2.load_state_dict(opt.state_dict())
        sched2.load_state_dict(sched.state_dict())
    assert sched2.get_last_lr() == sched.get_last_lr()
    second = _run(opt2, sched2, 20, metrics[20:] if needs else None)
    np.testing.assert_array_equal(np.vstack([first, second[1:]]), full)


def test_unbound_recipe_binds_to_fresh_optimizers():
    recipe = L.ReduceLROnPlateau(factor=0.5, patience=0)
    assert not recipe.bound and "patience=0" in repr(recipe)
    with pytest.raises(ValueError, match="bind"):
        recipe.step(1.0)
    a, b = recipe.bind(_ours()), recipe.bind(_ours())
    a.step(1.0), a.step(2.0)
    assert a.get_last_lr() == [0.05] and b.get_last_lr() == [0.1]
    seq = L.SequentialLR(None, [L.ExponentialLR(gamma=0.5), L.ReduceLROnPlateau()], [2])
    bound = seq.bind(_ours())
    lrs = [bound.get_last_lr()[0]]
    for m in (None, 1.0, 1.0, 1.0):
        bound.step(m)
        lrs.append(bound.get_last_lr()[0])
    assert lrs == [0.1, 0.05, 0.1, 0.1, 0.1]  # exponential, then the plateau's base lr


def test_scheduler_refuses_an_optimizer_whose_lr_is_already_a_schedule():
    opt = SGD([Tensor(np.zeros(2), requires_grad=True)], lr=schedules.cosine(0.1, 10))
    with pytest.raises(TypeError, match="already a schedule"):
        L.ExponentialLR(opt, 0.9)
