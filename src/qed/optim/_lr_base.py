"""The scheduler base class and the closed-form schedulers of :mod:`qed.optim.lr_scheduler`
(the public module; see its docstring): ``LRScheduler`` (binding, stepping, state dicts),
``ExponentialLR``, ``CosineAnnealingWarmRestarts`` and ``OneCycleLR``."""

from __future__ import annotations

import copy
import math
import numbers
from collections.abc import Sequence
from typing import Any

from qed._validation import check_scalar
from qed.optim.schedules import Schedule
from qed.persist import register

__all__ = ["LRScheduler", "ExponentialLR", "CosineAnnealingWarmRestarts", "OneCycleLR"]


def _positive_int(value: Any, name: str, min_val: int = 1) -> int:
    check_scalar(value, name, target_type=numbers.Integral, min_val=min_val)
    return int(value)


def _per_group(value: Any, n: int, name: str) -> list[float]:
    """A float for every group, or a list with one float per group."""
    values = list(value) if isinstance(value, (list, tuple)) else [value] * n
    if len(values) != n:
        raise ValueError(f"{name} has {len(values)} entries but the optimizer has {n} groups.")
    for v in values:
        check_scalar(v, name, min_val=0.0, allow_inf=False)
    return [float(v) for v in values]


@register
class LRScheduler:
    """Sets every group's lr to ``schedule(t)`` at step t = 0, 1, … (t = ``last_epoch``).

    Parameters
    ----------
    optimizer : a ``qed.optim`` optimizer with float learning rates, or None (unbound)
    schedule : a ``qed.optim.schedules`` schedule (step -> lr), or a list with one per group

    Subclasses compute their own ``_lrs(t)`` from ``base_lrs`` (each group's lr when the first
    scheduler was attached, kept in the group as ``initial_lr`` as torch does).
    """

    def __init__(self, optimizer: Any = None, schedule: Any = None) -> None:
        if isinstance(schedule, Schedule):
            schedule = [schedule]
        if not isinstance(schedule, (list, tuple)) or not all(
            isinstance(s, Schedule) for s in schedule
        ):
            raise TypeError(
                f"schedule must be a qed.optim.schedules schedule (or a list, one per group), "
                f"got {schedule!r}; e.g. schedules.warmup(schedules.cosine(0.1, 100), 10)."
            )
        self.schedule = list(schedule)
        self._bind(optimizer, {"schedule": self.schedule})

    # ------------------------------------------------------------------ binding
    def _bind(self, optimizer: Any, config: dict[str, Any]) -> None:
        """Record the constructor arguments; attach to ``optimizer`` unless it is None."""
        self._config = config
        self.optimizer = optimizer
        if optimizer is None:
            return
        groups = getattr(optimizer, "param_groups", None)
        if not isinstance(groups, list) or not groups:
            raise TypeError(
                f"{type(self).__name__} needs a qed.optim optimizer, got "
                f"{type(optimizer).__name__}."
            )
        for i, group in enumerate(groups):
            if callable(group["lr"]):
                raise TypeError(
                    f"param_groups[{i}]['lr'] is already a schedule ({group['lr']!r}); a "
                    f"scheduler sets the lr itself: give the optimizer a float lr, or wrap the "
                    f"schedule as LRScheduler(optimizer, schedule)."
                )
            group.setdefault("initial_lr", float(group["lr"]))
        self.base_lrs = [float(g["initial_lr"]) for g in groups]
        self._setup()
        self.last_epoch = 0
        self._apply(self._lrs(0))

    def _setup(self) -> None:
        """Per-optimizer checks and state (after base_lrs, before the first lr)."""
        if len(self.schedule) not in (1, len(self.base_lrs)):
            raise ValueError(
                f"schedule has {len(self.schedule)} entries but the optimizer has "
                f"{len(self.base_lrs)} groups; pass one schedule, or one per group."
            )

    def bind(self, optimizer: Any) -> LRScheduler:
        """A new scheduler with this one's arguments, attached to ``optimizer``."""
        return type(self)(optimizer, **copy.deepcopy(self._config))

    @property
    def bound(self) -> bool:
        """Whether the scheduler is attached to an optimizer."""
        return self.optimizer is not None

    def _check_bound(self) -> None:
        if self.optimizer is None:
            raise ValueError(
                f"this {type(self).__name__} has no optimizer; build it as "
                f"{type(self).__name__}(optimizer, ...) or call .bind(optimizer) first."
            )

    # ------------------------------------------------------------------ stepping
    def _lrs(self, t: int) -> list[float]:
        n = len(self.base_lrs)
        schedules = self.schedule * n if len(self.schedule) == 1 else self.schedule
        return [float(s(t)) for s in schedules]

    def _apply(self, lrs: list[float]) -> None:
        for group, lr in zip(self.optimizer.param_groups, lrs, strict=True):
            group["lr"] = lr
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def step(self) -> None:
        """Advance one step: every group's lr becomes its value at t = last_epoch + 1."""
        self._check_bound()
        self.last_epoch += 1
        self._apply(self._lrs(self.last_epoch))

    def _restart(self, metrics: Any = None) -> None:
        """Start again at t = 0 (used by SequentialLR at a milestone)."""
        self.last_epoch = 0
        self._apply(self._lrs(0))

    def get_last_lr(self) -> list[float]:
        """The learning rate of each group set by the last step (or construction)."""
        self._check_bound()
        return list(self._last_lr)

    # ------------------------------------------------------------------ state
    _state_keys: tuple[str, ...] = ("base_lrs", "last_epoch", "_last_lr")

    def state_dict(self) -> dict[str, Any]:
        """The counters and learning rates (not the optimizer), enough to resume exactly."""
        self._check_bound()
        return {k: copy.deepcopy(getattr(self, k)) for k in self._state_keys}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned (the optimizer's lrs come from its own
        state dict)."""
        self._check_bound()
        missing = set(self._state_keys) - set(state_dict)
        if missing:
            raise ValueError(
                f"state_dict lacks {sorted(missing)}: pass what {type(self).__name__}"
                ".state_dict() returned."
            )
        for k in self._state_keys:
            setattr(self, k, copy.deepcopy(state_dict[k]))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._config.items())
        return f"{type(self).__name__}({args})"


@register
class ExponentialLR(LRScheduler):
    """αₜ = α₀·γᵗ (torch.optim.lr_scheduler.ExponentialLR)."""

    def __init__(self, optimizer: Any = None, gamma: float = 0.1) -> None:
        check_scalar(gamma, "gamma", min_val=0.0, include_min=False, allow_inf=False)
        self.gamma = float(gamma)
        self._bind(optimizer, {"gamma": self.gamma})

    def _setup(self) -> None:
        pass

    def _lrs(self, t: int) -> list[float]:
        return [b * self.gamma**t for b in self.base_lrs]


@register
class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR: αₜ = η_min + ½(α₀ − η_min)(1 + cos(π·T_cur/T_i)).

    T_cur counts the steps since the last restart; the first period is T_i = T₀ steps and each
    restart multiplies it by T_mult (torch.optim.lr_scheduler.CosineAnnealingWarmRestarts).
    """

    def __init__(
        self, optimizer: Any = None, T_0: int = 10, T_mult: int = 1, eta_min: float = 0.0
    ) -> None:
        self.T_0 = _positive_int(T_0, "T_0")
        self.T_mult = _positive_int(T_mult, "T_mult")
        check_scalar(eta_min, "eta_min", min_val=0.0, allow_inf=False)
        self.eta_min = float(eta_min)
        self._bind(optimizer, {"T_0": self.T_0, "T_mult": self.T_mult, "eta_min": self.eta_min})

    def _setup(self) -> None:
        pass

    def _period(self, t: int) -> tuple[int, int]:
        """(T_cur, T_i) after t steps."""
        t_cur, t_i = t, self.T_0
        while t_cur >= t_i:
            t_cur -= t_i
            t_i *= self.T_mult
        return t_cur, t_i

    def _lrs(self, t: int) -> list[float]:
        t_cur, t_i = self._period(t)
        c = 1 + math.cos(math.pi * t_cur / t_i)
        return [self.eta_min + (b - self.eta_min) * c / 2 for b in self.base_lrs]


@register
class OneCycleLR(LRScheduler):
    """The 1cycle policy (torch.optim.lr_scheduler.OneCycleLR), stepped after every batch.

    Phase 1 (the first ``pct_start`` of ``total_steps``) anneals the lr from max_lr/div_factor
    up to max_lr, phase 2 down to max_lr/(div_factor·final_div_factor); ``three_phase`` goes
    back to max_lr/div_factor before the final descent. Annealing is ``"cos"``
    (a + (b − a)(1 − cos πp)/2) or ``"linear"``. With ``cycle_momentum`` the momentum (SGD) or
    β₁ (Adam) moves the opposite way between ``max_momentum`` and ``base_momentum``.
    Stepping past ``total_steps`` raises ValueError.
    """

    def __init__(
        self,
        optimizer: Any = None,
        max_lr: float | Sequence[float] = 0.01,
        total_steps: int | None = None,
        epochs: int | None = None,
        steps_per_epoch: int | None = None,
        pct_start: float = 0.3,
        anneal_strategy: str = "cos",
        cycle_momentum: bool = True,
        base_momentum: float = 0.85,
        max_momentum: float = 0.95,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        three_phase: bool = False,
    ) -> None:
        if total_steps is not None:
            self.total_steps = _positive_int(total_steps, "total_steps")
        elif epochs is not None and steps_per_epoch is not None:
            e, s = (
                _positive_int(epochs, "epochs"),
                _positive_int(steps_per_epoch, "steps_per_epoch"),
            )
            self.total_steps = e * s
        else:
            raise ValueError("OneCycleLR needs total_steps, or both epochs and steps_per_epoch.")
        check_scalar(pct_start, "pct_start", min_val=0.0, max_val=1.0)
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        for name, v in (("div_factor", div_factor), ("final_div_factor", final_div_factor)):
            check_scalar(v, name, min_val=0.0, include_min=False, allow_inf=False)
        for name, v in (("base_momentum", base_momentum), ("max_momentum", max_momentum)):
            check_scalar(v, name, min_val=0.0, max_val=1.0, include_max=False)
        self.max_lr = max_lr
        self.pct_start, self.anneal_strategy = float(pct_start), anneal_strategy
        self.cycle_momentum, self.three_phase = bool(cycle_momentum), bool(three_phase)
        self.base_momentum, self.max_momentum = float(base_momentum), float(max_momentum)
        self.div_factor, self.final_div_factor = float(div_factor), float(final_div_factor)
        config = dict(
            max_lr=max_lr,
            total_steps=self.total_steps,
            pct_start=self.pct_start,
            anneal_strategy=anneal_strategy,
            cycle_momentum=self.cycle_momentum,
            base_momentum=self.base_momentum,
            max_momentum=self.max_momentum,
            div_factor=self.div_factor,
            final_div_factor=self.final_div_factor,
            three_phase=self.three_phase,
        )
        self._bind(optimizer, config)

    def _setup(self) -> None:
        groups = self.optimizer.param_groups
        self.max_lrs = _per_group(self.max_lr, len(groups), "max_lr")
        # torch overwrites initial_lr: the cycle starts at max_lr/div_factor whatever lr was
        for group, m in zip(groups, self.max_lrs, strict=True):
            group["initial_lr"] = m / self.div_factor
        self.base_lrs = [m / self.div_factor for m in self.max_lrs]
        if self.cycle_momentum:
            defaults = getattr(self.optimizer, "defaults", {})
            if "momentum" not in defaults and "betas" not in defaults:
                raise ValueError(
                    "OneCycleLR(cycle_momentum=True) needs an optimizer with momentum or "
                    "betas (SGD, Adam, RMSProp); pass cycle_momentum=False."
                )
            self._use_beta1 = "betas" in defaults
        total, p = self.total_steps, self.pct_start
        if self.three_phase:
            # (end step, start lr, end lr, start momentum, end momentum) per phase
            self._phases = [
                (p * total - 1, "initial", "max", "max_m", "base_m"),
                (2 * p * total - 2, "max", "initial", "base_m", "max_m"),
                (total - 1, "initial", "min", "max_m", "max_m"),
            ]
        else:
            self._phases = [
                (p * total - 1, "initial", "max", "max_m", "base_m"),
                (total - 1, "max", "min", "base_m", "max_m"),
            ]

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def _values(self, t: int, max_lr: float) -> tuple[float, float]:
        if t > self.total_steps:
            raise ValueError(
                f"OneCycleLR was stepped {t} times but total_steps={self.total_steps}; build it "
                "with the number of optimizer steps you will take."
            )
        initial = max_lr / self.div_factor
        points = {
            "initial": initial,
            "max": max_lr,
            "min": initial / self.final_div_factor,
            "max_m": self.max_momentum,
            "base_m": self.base_momentum,
        }
        start = 0.0
        for i, (end, lr_a, lr_b, m_a, m_b) in enumerate(self._phases):
            if t <= end or i == len(self._phases) - 1:
                pct = (t - start) / (end - start)
                return (
                    self._anneal(points[lr_a], points[lr_b], pct),
                    self._anneal(points[m_a], points[m_b], pct),
                )
            start = end
        raise AssertionError("unreachable")  # pragma: no cover

    def _lrs(self, t: int) -> list[float]:
        out = []
        for group, m in zip(self.optimizer.param_groups, self.max_lrs, strict=True):
            lr, momentum = self._values(t, m)
            if self.cycle_momentum:
                if self._use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
            out.append(lr)
        return out

    _state_keys = ("base_lrs", "last_epoch", "_last_lr", "max_lrs")
