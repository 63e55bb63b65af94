"""Learning-rate schedulers as objects, PyTorch's ``torch.optim.lr_scheduler`` API.

A scheduler owns an optimizer's learning rates: construction sets each group's lr to its value
at step 0, every ``step()`` (called after ``optimizer.step()``, usually once per epoch) moves to
the next value, ``get_last_lr()`` returns the current ones, ``state_dict()`` /
``load_state_dict()`` snapshot and restore the counters, and ``qed.save`` stores a scheduler
with its optimizer. Each scheduler computes its lr in closed form from the step t (torch
mostly updates recursively; the two agree to rounding, tested to 1e-12):

- ``LRScheduler(optimizer, schedule)`` — any pure ``qed.optim.schedules`` schedule: αₜ = s(t);
- ``ExponentialLR`` — αₜ = α₀γᵗ;
- ``CosineAnnealingWarmRestarts`` — αₜ = η_min + ½(α₀ − η_min)(1 + cos(πT_cur/T_i)), restarting
  after T₀, T₀T_mult, T₀T_mult², … steps (SGDR);
- ``OneCycleLR`` — up from max_lr/div_factor to max_lr, then down to a tiny floor (cycling the
  momentum, or Adam's β₁, the other way);
- ``ReduceLROnPlateau`` — α ← max(α·factor, min_lr) once the monitored metric has not improved
  for more than ``patience`` steps: ``step(metric)``;
- ``SequentialLR`` — one scheduler after another at the milestones, ``ReduceLROnPlateau``
  included (a warm-up followed by plateau reduction; torch refuses it, pytorch/pytorch#68978).

Every scheduler can also be built without an optimizer (``ReduceLROnPlateau(patience=3)``): such
an *unbound* scheduler is a recipe that ``bind(optimizer)`` turns into a working one. This is how
an estimator takes a scheduler as a hyperparameter (``MLPClassifier(schedule=...)``): the
optimizer does not exist until ``fit``.
"""

from __future__ import annotations

import bisect
import math
import numbers
from collections.abc import Sequence
from typing import Any

from qed._validation import check_scalar
from qed.optim._lr_base import (
    CosineAnnealingWarmRestarts,
    ExponentialLR,
    LRScheduler,
    OneCycleLR,
    _per_group,
    _positive_int,
)
from qed.persist import register

__all__ = [
    "LRScheduler",
    "ExponentialLR",
    "CosineAnnealingWarmRestarts",
    "OneCycleLR",
    "ReduceLROnPlateau",
    "SequentialLR",
]


@register
class ReduceLROnPlateau(LRScheduler):
    """Reduce the lr when a metric stops improving (torch.optim.lr_scheduler.ReduceLROnPlateau).

    ``step(metric)``: the metric is *better* than the best so far when
    metric < best·(1 − threshold) (mode "min", threshold_mode "rel"), metric < best − threshold
    ("min", "abs"), metric > best·(1 + threshold) ("max", "rel") or metric > best + threshold
    ("max", "abs"). After more than ``patience`` steps without a better metric every group's lr
    becomes max(lr·factor, min_lr) (unchanged if that moves it by no more than ``eps``), and
    ``cooldown`` steps follow in which bad steps are not counted.
    """

    def __init__(
        self,
        optimizer: Any = None,
        mode: str = "min",
        factor: float = 0.1,
        patience: int = 10,
        threshold: float = 1e-4,
        threshold_mode: str = "rel",
        cooldown: int = 0,
        min_lr: float | Sequence[float] = 0.0,
        eps: float = 1e-8,
    ) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}.")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}.")
        check_scalar(factor, "factor", min_val=0.0, max_val=1.0, include_max=False)
        self.mode, self.threshold_mode, self.factor = mode, threshold_mode, float(factor)
        self.patience = _positive_int(patience, "patience", min_val=0)
        self.cooldown = _positive_int(cooldown, "cooldown", min_val=0)
        check_scalar(threshold, "threshold", min_val=0.0, allow_inf=False)
        check_scalar(eps, "eps", min_val=0.0, allow_inf=False)
        self.threshold, self.eps, self.min_lr = float(threshold), float(eps), min_lr
        self._bind(
            optimizer,
            dict(
                mode=mode,
                factor=self.factor,
                patience=self.patience,
                threshold=self.threshold,
                threshold_mode=threshold_mode,
                cooldown=self.cooldown,
                min_lr=min_lr,
                eps=self.eps,
            ),
        )

    def _setup(self) -> None:
        self.min_lrs = _per_group(self.min_lr, len(self.base_lrs), "min_lr")
        self._reset()

    def _reset(self) -> None:
        self.best = math.inf if self.mode == "min" else -math.inf
        self.num_bad_epochs = 0
        self.cooldown_counter = 0

    def _lrs(self, t: int) -> list[float]:
        # a plateau scheduler starts from the base lrs and only ever lowers them on step(metric)
        return list(self.base_lrs)

    def is_better(self, a: float, best: float) -> bool:
        """Whether ``a`` improves on ``best`` by more than the threshold."""
        if self.mode == "min":
            return a < (
                best * (1.0 - self.threshold)
                if self.threshold_mode == "rel"
                else best - self.threshold
            )
        return a > (
            best * (self.threshold + 1.0) if self.threshold_mode == "rel" else best + self.threshold
        )

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        """Record one value of the monitored metric and lower the lr on a plateau."""
        self._check_bound()
        if metrics is None:
            raise ValueError(
                "ReduceLROnPlateau.step() needs the monitored metric: call "
                "scheduler.step(val_loss) once per epoch with the value to watch."
            )
        if isinstance(metrics, bool) or not isinstance(metrics, numbers.Real):
            try:
                current = float(metrics)
            except (TypeError, ValueError) as exc:
                raise TypeError(
                    f"ReduceLROnPlateau.step() needs a number, got {type(metrics).__name__}."
                ) from exc
        else:
            current = float(metrics)
        if math.isnan(current):
            raise ValueError(
                "ReduceLROnPlateau.step() got NaN as the metric; the training diverged — lower "
                "the learning rate or check the data."
            )
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad steps in cooldown do not count
        if self.num_bad_epochs > self.patience:
            for i, group in enumerate(self.optimizer.param_groups):
                old = float(group["lr"])
                new = max(old * self.factor, self.min_lrs[i])
                if old - new > self.eps:
                    group["lr"] = new
            self.cooldown_counter, self.num_bad_epochs = self.cooldown, 0
        self._last_lr = [float(g["lr"]) for g in self.optimizer.param_groups]

    def _restart(self, metrics: Any = None) -> None:
        """Back to the base lrs with fresh counters; ``metrics`` (if given) is the first value."""
        self._reset()
        self.last_epoch = 0
        self._apply(self._lrs(0))
        if metrics is not None:
            self.step(metrics)
            self.last_epoch = 0

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    _state_keys = (
        "base_lrs",
        "last_epoch",
        "_last_lr",
        "min_lrs",
        "best",
        "num_bad_epochs",
        "cooldown_counter",
    )


@register
class SequentialLR(LRScheduler):
    """Run ``schedulers[i]`` from ``milestones[i-1]`` on, restarted at its own step 0.

    At global step t the active scheduler is the i-th, i = number of milestones ≤ t; when t
    reaches a milestone the next scheduler restarts from its base lrs (torch's SequentialLR).
    Unlike torch, a ``ReduceLROnPlateau`` may be one of them: ``step(metric)`` passes the metric
    to it while it is active (and ignores it before), so a linear warm-up followed by plateau
    reduction is ``SequentialLR(opt, [LRScheduler(opt, warmup(constant(lr), w)),
    ReduceLROnPlateau(opt)], milestones=[w])``. The metric given at the milestone step is the
    plateau scheduler's first observation.
    """

    def __init__(
        self, optimizer: Any = None, schedulers: Sequence[LRScheduler] = (), milestones: Any = ()
    ) -> None:
        schedulers = list(schedulers)
        if not schedulers or not all(isinstance(s, LRScheduler) for s in schedulers):
            raise TypeError(
                f"schedulers must be a non-empty list of qed.optim.lr_scheduler schedulers, "
                f"got {schedulers!r}."
            )
        if isinstance(milestones, numbers.Integral):
            milestones = [milestones]
        ms = [_positive_int(m, "milestones[i]") for m in milestones]
        if len(ms) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR needs one milestone between each pair of schedulers: got "
                f"{len(schedulers)} schedulers and {len(ms)} milestones."
            )
        if any(a >= b for a, b in zip(ms, ms[1:], strict=False)):
            raise ValueError(f"milestones must be strictly increasing, got {ms}.")
        for i, s in enumerate(schedulers):
            if s.optimizer is not optimizer:
                raise ValueError(
                    f"schedulers[{i}] belongs to another optimizer; build every scheduler on "
                    "the optimizer given to SequentialLR (or leave them all unbound)."
                )
        self.schedulers, self.milestones = schedulers, ms
        self._bind(optimizer, {"schedulers": schedulers, "milestones": ms})

    def bind(self, optimizer: Any) -> SequentialLR:
        return SequentialLR(
            optimizer, [s.bind(optimizer) for s in self.schedulers], list(self.milestones)
        )

    def _bind(self, optimizer: Any, config: dict[str, Any]) -> None:
        self._config, self.optimizer = config, optimizer
        if optimizer is None:
            return
        self.last_epoch = 0
        self.base_lrs = list(self.schedulers[0].base_lrs)
        self.schedulers[0]._restart()
        self._last_lr = self.schedulers[0].get_last_lr()

    def step(self, metrics: Any = None) -> None:  # type: ignore[override]
        """Advance one step; ``metrics`` goes to an active ``ReduceLROnPlateau``."""
        self._check_bound()
        self.last_epoch += 1
        i = bisect.bisect_right(self.milestones, self.last_epoch)
        active = self.schedulers[i]
        plateau = isinstance(active, ReduceLROnPlateau)
        if i > 0 and self.milestones[i - 1] == self.last_epoch:
            active._restart(metrics if plateau else None)
        elif plateau:
            active.step(metrics)
        else:
            active.step()
        self._last_lr = active.get_last_lr()

    def state_dict(self) -> dict[str, Any]:
        self._check_bound()
        return {
            "last_epoch": self.last_epoch,
            "_last_lr": list(self._last_lr),
            "schedulers": [s.state_dict() for s in self.schedulers],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._check_bound()
        if len(state_dict.get("schedulers", ())) != len(self.schedulers):
            raise ValueError("state_dict is not a SequentialLR state of this many schedulers.")
        self.last_epoch, self._last_lr = state_dict["last_epoch"], list(state_dict["_last_lr"])
        for s, d in zip(self.schedulers, state_dict["schedulers"], strict=True):
            s.load_state_dict(d)
