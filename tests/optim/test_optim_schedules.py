"""Learning-rate schedules against torch.optim.lr_scheduler and the notes' formulas."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import qed
from qed.optim import schedules as S

STEPS = 120


def _torch_lrs(make_scheduler, lr0: float, steps: int = STEPS) -> list[float]:
    """lr of the t-th optimizer step, t = 0 … steps − 1, with scheduler.step() after each."""
    p = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=lr0)
    sched = make_scheduler(opt)
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def _close(ours, theirs, lr0):
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-12 * lr0)


@pytest.mark.parametrize(
    "lr0, milestones, gamma", [(0.1, [10, 40, 41], 0.5), (1.0, [0, 30], 0.1), (0.3, [50, 50], 0.9)]
)
def test_step_decay_equals_multistep(lr0, milestones, gamma):
    s = S.step_decay(lr0, milestones, gamma)
    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.MultiStepLR(o, milestones, gamma), lr0)
    _close([s(t) for t in range(STEPS)], theirs, lr0)


@pytest.mark.parametrize("lr0, T, lr_min", [(0.1, 120, 0.0), (1.0, 37, 0.01), (0.5, 1, 0.0)])
def test_cosine_equals_cosine_annealing(lr0, T, lr_min):
    """½(α₀ − lr_min)(1 + cos(tπ/T)) + lr_min = CosineAnnealingLR for t ≤ T, lr_min after."""
    s = S.cosine(lr0, T, lr_min)
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T, lr_min), lr0, T + 1
    )
    _close([s(t) for t in range(T + 1)], theirs, lr0)
    assert s(T + 5) == lr_min
    if lr_min == 0:  # the notes' ½α₀(1 + cos(tπ/T))
        assert s(T // 3) == pytest.approx(0.5 * lr0 * (1 + math.cos((T // 3) * math.pi / T)))


@pytest.mark.parametrize("lr0, T", [(0.1, 100), (2.0, 7)])
def test_linear_equals_linear_lr(lr0, T):
    s = S.linear(lr0, T)
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.LinearLR(
            o, start_factor=1.0, end_factor=0.0, total_iters=T
        ),
        lr0,
    )
    _close([s(t) for t in range(STEPS)], theirs, lr0)
    assert s(T // 2) == pytest.approx(lr0 * (1 - (T // 2) / T), rel=1e-15)


def test_constant_and_inverse_sqrt_equal_lambda_lr():
    s = S.inverse_sqrt(0.4)
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.LambdaLR(
            o, lambda t: 1 / math.sqrt(t) if t >= 1 else 1.0
        ),
        0.4,
    )
    _close([s(t) for t in range(STEPS)], theirs, 0.4)
    c = S.constant(0.3)
    _close(
        [c(t) for t in range(STEPS)],
        _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, lambda t: 1.0), 0.3),
        0.3,
    )


@pytest.mark.parametrize("w", [0, 1, 10])
def test_warmup_equals_lambda_lr(w):
    """Linear warm-up s(0)·t/w for t < w, then s(t − w)."""
    inner = S.cosine(0.2, 50)
    s = S.warmup(inner, w)

    def factor(t):
        return t / w if t < w else inner(t - w) / 0.2

    theirs = _torch_lrs(lambda o: torch.optim.lr_scheduler.LambdaLR(o, factor), 0.2, 60)
    _close([s(t) for t in range(60)], theirs, 0.2)
    if w:
        assert s(0) == 0.0 and s(w) == 0.2


def test_join_equals_sequential_lr():
    lr0 = 0.1
    ours = S.join(
        [S.step_decay(lr0, [2], 0.5), S.cosine(lr0, 10), S.step_decay(lr0, [3, 6], 0.5)], [5, 15]
    )
    theirs = _torch_lrs(
        lambda o: torch.optim.lr_scheduler.SequentialLR(
            o,
            [
                torch.optim.lr_scheduler.MultiStepLR(o, [2], 0.5),
                torch.optim.lr_scheduler.CosineAnnealingLR(o, 10),
                torch.optim.lr_scheduler.MultiStepLR(o, [3, 6], 0.5),
            ],
            milestones=[5, 15],
        ),
        lr0,
        40,
    )
    _close([ours(t) for t in range(40)], theirs, lr0)


def test_schedules_compose_and_repr():
    s = S.warmup(S.cosine(0.1, 1000), 100)
    assert (
        repr(s) == "warmup(schedule=cosine(lr0=0.1, total_steps=1000, lr_min=0.0), "
        "warmup_steps=100)"
    )
    assert s(50) == pytest.approx(0.05) and s(100) == pytest.approx(0.1)
    j = S.join([0.1, S.linear(0.1, 10)], [5])
    assert j(4) == 0.1 and j(5) == 0.1 and j(10) == pytest.approx(0.05)
    assert S.cosine(0.1, 10) == S.cosine(0.1, 10) != S.cosine(0.1, 11)
    assert S.constant is S.Constant and isinstance(S.step_decay(1.0, [1]), S.Schedule)


def test_schedules_save_and_load(tmp_path):
    s = S.join([S.warmup(S.inverse_sqrt(0.3), 4), S.step_decay(0.2, [3, 9], 0.3)], [20])
    path = tmp_path / "s.qed"
    qed.save(s, path)
    loaded = qed.load(path)
    assert loaded == s and repr(loaded) == repr(s)
    assert [loaded(t) for t in range(40)] == [s(t) for t in range(40)]


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (lambda: S.constant(-0.1), ValueError, "lr0"),
        (lambda: S.cosine(0.1, 0), ValueError, "total_steps"),
        (lambda: S.cosine(0.1, 10.5), TypeError, "total_steps"),
        (lambda: S.cosine(0.1, 10, lr_min=-1), ValueError, "lr_min"),
        (lambda: S.linear(float("inf"), 10), ValueError, "lr0"),
        (lambda: S.step_decay(0.1, [5], gamma=0.0), ValueError, "gamma"),
        (lambda: S.step_decay(0.1, [-1]), ValueError, "milestones"),
        (lambda: S.step_decay(0.1, ["a"]), TypeError, "milestones"),
        (lambda: S.warmup(S.constant(0.1), -1), ValueError, "warmup_steps"),
        (lambda: S.warmup("cosine", 3), TypeError, "schedule"),
        (lambda: S.join([0.1, 0.2], []), ValueError, "boundar"),
        (lambda: S.join([0.1, 0.2, 0.3], [5, 5]), ValueError, "increasing"),
        (lambda: S.join([], []), ValueError, "schedules"),
        (lambda: S.constant(0.1)(-1), ValueError, "step"),
        (lambda: S.constant(0.1)(1.5), TypeError, "integer"),
    ],
)
def test_bad_arguments_raise(call, exc, match):
    with pytest.raises(exc, match=match):
        call()


def test_plot_schedules_returns_a_figure():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = S.plot_schedules([S.cosine(0.1, 50), S.warmup(S.linear(0.1, 40), 10)], 60)
    ax = fig.axes[0]
    assert len(ax.lines) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [S.cosine(0.1, 50)(t) for t in range(60)])
    fig2 = S.plot_schedules({"inv": S.inverse_sqrt(1.0)}, 10, ax=ax)
    assert fig2 is fig and len(ax.lines) == 3
    plt.close(fig)


@settings(max_examples=40, deadline=None)
@given(
    lr0=st.floats(1e-6, 10.0),
    T=st.integers(1, 500),
    frac=st.floats(0.0, 1.0),
    gamma=st.floats(0.01, 1.0),
    ms=st.lists(st.integers(0, 600), max_size=4),
    w=st.integers(0, 50),
)
def test_decays_are_monotone_and_bounded(lr0, T, frac, gamma, ms, w):
    """Every decay of the notes is non-increasing in t, starts at α₀ and stays in
    [floor, α₀]; a warm-up rises to the inner schedule's start."""
    lr_min = frac * lr0
    for s, floor in (
        (S.cosine(lr0, T, lr_min), lr_min),
        (S.linear(lr0, T), 0.0),
        (S.step_decay(lr0, ms, gamma), 0.0),
        (S.inverse_sqrt(lr0), 0.0),
    ):
        values = np.array([s(t) for t in range(0, 2 * T + 2)])
        if not isinstance(s, S.StepDecay) or 0 not in ms:
            assert values[0] == lr0
        assert np.all(np.diff(values) <= 1e-15 * lr0)
        assert np.all((values >= floor * (1 - 1e-12)) & (values <= lr0))
    up = np.array([S.warmup(S.constant(lr0), w)(t) for t in range(w + 2)])
    assert np.all(np.diff(up) >= 0) and up[w] == lr0
