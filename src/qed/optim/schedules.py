"""Learning-rate schedules: pure callables ``step -> lr`` (the notes' "learning rate decay").

The notes list four decays and a warm-up, for the step t = 0, 1, 2, …:

① at a few fixed points  αₜ = α₀·γ^(number of milestones ≤ t)        ``step_decay``
② cosine                 αₜ = ½α₀(1 + cos(tπ/T))                      ``cosine``
③ linear                 αₜ = α₀(1 − t/T)                             ``linear``
④ inverse square root    αₜ = α₀/√t                                   ``inverse_sqrt``
linear warm-up           αₜ = α(0)·t/w for t < w, then α(t − w)       ``warmup``

Each schedule is a small class (so ``qed.save`` can store it: a closure could not be saved)
with a readable repr; they compose (``warmup(cosine(0.1, 1000), 100)``, ``join``). An
optimizer whose ``lr`` is a schedule evaluates it at its own step counter, so the k-th call of
``step()`` (k = 0, 1, …) uses ``schedule(k)``: exactly what ``torch.optim.lr_scheduler`` gives
when ``scheduler.step()`` follows each ``optimizer.step()``. Values equal torch's
``MultiStepLR``, ``CosineAnnealingLR`` (t ≤ T), ``LinearLR(start_factor=1, end_factor=0)``,
``LambdaLR`` and ``SequentialLR`` (see tests/optim/test_optim_schedules.py).
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Callable, Sequence
from typing import Any

from qed._validation import check_scalar
from qed.persist import register

__all__ = [
    "Schedule",
    "Constant",
    "StepDecay",
    "Cosine",
    "Linear",
    "InverseSqrt",
    "Warmup",
    "Join",
    "constant",
    "step_decay",
    "cosine",
    "linear",
    "inverse_sqrt",
    "warmup",
    "join",
    "as_schedule",
    "plot_schedules",
]


def _check_step(step: Any) -> int:
    if isinstance(step, bool) or not isinstance(step, numbers.Integral):
        raise TypeError(f"a schedule is evaluated at an integer step, got {step!r}.")
    if step < 0:
        raise ValueError(f"step must be >= 0, got {step}.")
    return int(step)


def _check_lr0(lr0: Any, name: str = "lr0") -> float:
    check_scalar(lr0, name, min_val=0.0, allow_inf=False)
    return float(lr0)


def _check_steps(value: Any, name: str, min_val: int = 1) -> int:
    check_scalar(value, name, target_type=numbers.Integral, min_val=min_val)
    return int(value)


class Schedule:
    """Base class: a learning rate as a function of the step, ``schedule(t) -> float``."""

    _name = "schedule"
    _fields: tuple[str, ...] = ()

    def __call__(self, step: int) -> float:
        return self._value(_check_step(step))

    def _value(self, t: int) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self) -> str:
        args = ", ".join(f"{f}={getattr(self, f)!r}" for f in self._fields)
        return f"{self._name}({args})"

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other) and all(
            getattr(self, f) == getattr(other, f) for f in self._fields
        )

    def __hash__(self) -> int:
        return hash((type(self).__name__,) + tuple(repr(getattr(self, f)) for f in self._fields))


@register
class Constant(Schedule):
    """αₜ = α₀ for every t."""

    _name = "constant"
    _fields = ("lr0",)

    def __init__(self, lr0: float) -> None:
        self.lr0 = _check_lr0(lr0)

    def _value(self, t: int) -> float:
        return self.lr0


@register
class StepDecay(Schedule):
    """Decay at fixed points: αₜ = α₀·γ^(number of milestones ≤ t) (torch's ``MultiStepLR``).

    milestones : non-negative ints (sorted here; a repeated milestone decays twice, as in
    torch); gamma : the factor, > 0.
    """

    _name = "step_decay"
    _fields = ("lr0", "milestones", "gamma")

    def __init__(self, lr0: float, milestones: Sequence[int], gamma: float = 0.1) -> None:
        self.lr0 = _check_lr0(lr0)
        if isinstance(milestones, numbers.Integral):
            milestones = [milestones]
        try:
            ms = [_check_steps(m, "milestones[i]", min_val=0) for m in milestones]
        except TypeError as exc:
            raise TypeError(
                f"milestones must be a list of non-negative ints, got {milestones!r}."
            ) from exc
        self.milestones = tuple(sorted(ms))
        check_scalar(gamma, "gamma", min_val=0.0, include_min=False, allow_inf=False)
        self.gamma = float(gamma)

    def _value(self, t: int) -> float:
        return self.lr0 * self.gamma ** bisect.bisect_right(self.milestones, t)


@register
class Cosine(Schedule):
    """Cosine decay: αₜ = lr_min + ½(α₀ − lr_min)(1 + cos(tπ/T)) for t ≤ T, lr_min after.

    With lr_min = 0 this is the notes' ½α₀(1 + cos(tπ/T)); it equals torch's
    ``CosineAnnealingLR(T_max=T, eta_min=lr_min)`` for t ≤ T (torch then rises again; a decay
    to a floor that stays there is what "total_steps" means here).
    """

    _name = "cosine"
    _fields = ("lr0", "total_steps", "lr_min")

    def __init__(self, lr0: float, total_steps: int, lr_min: float = 0.0) -> None:
        self.lr0 = _check_lr0(lr0)
        self.total_steps = _check_steps(total_steps, "total_steps")
        self.lr_min = _check_lr0(lr_min, "lr_min")

    def _value(self, t: int) -> float:
        if t >= self.total_steps:
            return self.lr_min
        if t == 0:  # exactly α₀ (the formula below can round it by an ulp), as torch gives
            return self.lr0
        return (
            self.lr_min
            + (self.lr0 - self.lr_min) * (1.0 + math.cos(math.pi * t / self.total_steps)) / 2.0
        )


@register
class Linear(Schedule):
    """Linear decay: αₜ = α₀(1 − t/T) for t ≤ T, 0 after (``LinearLR(1, 0, total_iters=T)``)."""

    _name = "linear"
    _fields = ("lr0", "total_steps")

    def __init__(self, lr0: float, total_steps: int) -> None:
        self.lr0 = _check_lr0(lr0)
        self.total_steps = _check_steps(total_steps, "total_steps")

    def _value(self, t: int) -> float:
        if t >= self.total_steps:
            return 0.0
        return self.lr0 * (1.0 - t / self.total_steps)


@register
class InverseSqrt(Schedule):
    """αₜ = α₀/√t for t ≥ 1, and α₀ at t = 0 (the notes' ④)."""

    _name = "inverse_sqrt"
    _fields = ("lr0",)

    def __init__(self, lr0: float) -> None:
        self.lr0 = _check_lr0(lr0)

    def _value(self, t: int) -> float:
        return self.lr0 if t == 0 else self.lr0 / math.sqrt(t)


@register
class Warmup(Schedule):
    """Linear warm-up: αₜ = s(0)·t/w for t < w, then s(t − w) (the inner schedule starts at w).

    schedule : a Schedule or a float (a constant); warmup_steps : w ≥ 0 (0 means none).
    """

    _name = "warmup"
    _fields = ("schedule", "warmup_steps")

    def __init__(self, schedule: Schedule | float, warmup_steps: int) -> None:
        self.schedule = as_schedule(schedule, "schedule")
        self.warmup_steps = _check_steps(warmup_steps, "warmup_steps", min_val=0)

    def _value(self, t: int) -> float:
        if t < self.warmup_steps:
            return self.schedule._value(0) * t / self.warmup_steps
        return self.schedule._value(t - self.warmup_steps)


@register
class Join(Schedule):
    """Run ``schedules[i]`` from ``boundaries[i-1]`` on, restarted at its own step 0.

    αₜ = sᵢ(t − bᵢ₋₁) where i = number of boundaries ≤ t and b₋₁ = 0 — torch's
    ``SequentialLR(schedulers, milestones=boundaries)``. Needs len(boundaries) =
    len(schedules) − 1, strictly increasing positive ints.
    """

    _name = "join"
    _fields = ("schedules", "boundaries")

    def __init__(self, schedules: Sequence[Schedule | float], boundaries: Sequence[int]) -> None:
        if isinstance(schedules, (Schedule, numbers.Real)) or len(schedules) == 0:
            raise ValueError(f"schedules must be a non-empty list of schedules, got {schedules!r}.")
        self.schedules = tuple(as_schedule(s, f"schedules[{i}]") for i, s in enumerate(schedules))
        if isinstance(boundaries, numbers.Integral):
            boundaries = [boundaries]
        bounds = tuple(_check_steps(b, "boundaries[i]") for b in boundaries)
        if len(bounds) != len(self.schedules) - 1:
            raise ValueError(
                f"join needs one boundary between each pair of schedules: got "
                f"{len(self.schedules)} schedules and {len(bounds)} boundaries {bounds}; pass "
                f"{len(self.schedules) - 1}."
            )
        if any(b >= c for b, c in zip(bounds, bounds[1:], strict=False)):
            raise ValueError(f"boundaries must be strictly increasing, got {bounds}.")
        self.boundaries = bounds

    def _value(self, t: int) -> float:
        i = bisect.bisect_right(self.boundaries, t)
        start = self.boundaries[i - 1] if i > 0 else 0
        return self.schedules[i]._value(t - start)


# The notes' (and optax's) lower-case names: each is the class, so isinstance still works.
constant = Constant
step_decay = StepDecay
cosine = Cosine
linear = Linear
inverse_sqrt = InverseSqrt
warmup = Warmup
join = Join


def as_schedule(lr: Schedule | float, name: str = "lr") -> Schedule:
    """A Schedule as is; a non-negative number as ``constant(lr)``; anything else raises."""
    if isinstance(lr, Schedule):
        return lr
    if isinstance(lr, numbers.Real) and not isinstance(lr, bool):
        return Constant(_check_lr0(lr, name))
    raise TypeError(f"{name} must be a float or a qed.optim.schedules schedule, got {lr!r}.")


def plot_schedules(
    schedules: Schedule | Sequence[Schedule] | dict[str, Callable[[int], float]],
    steps: int,
    ax: Any = None,
) -> Any:
    """Plot each schedule's αₜ for t = 0 … steps − 1; returns the matplotlib Figure.

    schedules : one schedule, a list (labelled by repr) or a dict label -> schedule.
    """
    import matplotlib.pyplot as plt  # lazily: matplotlib is an optional extra

    steps = _check_steps(steps, "steps")
    if isinstance(schedules, dict):
        items = list(schedules.items())
    elif callable(schedules):
        items = [(repr(schedules), schedules)]
    else:
        items = [(repr(s), s) for s in schedules]
    if ax is None:
        fig, ax = plt.subplots(figsize=(6, 3.5))
    else:
        fig = ax.figure
    ts = range(steps)
    for label, schedule in items:
        ax.plot(list(ts), [schedule(t) for t in ts], label=label)
    ax.set_xlabel("step t")
    ax.set_ylabel("learning rate")
    ax.legend(fontsize="small")
    return fig
