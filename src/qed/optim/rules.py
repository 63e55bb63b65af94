"""Pure update rules: each optimizer of the notes as an ``(init, update)`` pair.

A rule is ``Rule(init, update, grad_point)``:

- ``state = init(params)`` — ``params`` a list of arrays; ``state`` a NamedTuple whose field
  ``step`` counts the updates done so far (and whose other fields are lists, one array per
  parameter);
- ``new_params, new_state = update(grads, state, params)`` — mutates nothing;
- ``grad_point(state, params)`` — where the gradient must be taken: ``params`` for every rule
  but the notes' Nesterov, whose gradient is taken at the look-ahead point x + ρv.

``lr`` may be a float or a schedule (any callable ``step -> lr``); the k-th update
(k = ``state.step`` = 0, 1, …) uses ``lr(k)``.

The rules are written as the notes write them (``gd``, ``momentum``, ``nesterov``, ``adagrad``,
``rmsprop``, ``adam``). ``sgd`` is PyTorch's parametrisation of momentum (buffer b ← μb + g,
x ← x − αb), which the stateful shells of :mod:`qed.optim.optimizers` follow; with a constant α
it is the notes' momentum under v = −αb, and PyTorch's Nesterov is the notes' Nesterov in the
look-ahead variable y = x + ρv (tests/optim/test_optim_rules.py proves both). AdaGrad, RMSProp
and Adam put ε outside the square root, as PyTorch and the Adam paper do (ε = 0 gives the
notes' formulas exactly).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

import numpy as np

from qed._validation import check_scalar

# the per-array arithmetic (shared with the fused twins) lives in _kernels.py
from qed.optim._kernels import (
    adagrad_array,
    adam_amsgrad_array,
    adam_array,
    nadam_array,
    rmsprop_array,
    sgd_array,
)

__all__ = [
    "Rule",
    "GDState",
    "MomentumState",
    "SGDState",
    "AdaGradState",
    "RMSPropState",
    "AdamState",
    "NAdamState",
    "gd",
    "momentum",
    "nesterov",
    "sgd",
    "adagrad",
    "rmsprop",
    "adam",
    "adamw",
    "nadam",
    "trajectory",
]

LR = float | Callable[[int], float]


class Rule(NamedTuple):
    """An update rule: ``init(params) -> state``, ``update(grads, state, params)``."""

    init: Callable[[list], Any]
    update: Callable[[list, Any, list], tuple[list, Any]]
    grad_point: Callable[[Any, list], list]


class GDState(NamedTuple):
    step: int


class MomentumState(NamedTuple):
    step: int
    v: list  # the notes' velocity, one array per parameter


class SGDState(NamedTuple):
    step: int
    momentum_buffer: list  # torch's b (None entries when momentum = 0)


class AdaGradState(NamedTuple):
    step: int
    sum: list  # Σ g², started at initial_accumulator_value


class RMSPropState(NamedTuple):
    step: int
    square_avg: list  # E[g²]
    momentum_buffer: list  # None entries when momentum = 0
    grad_avg: list  # E[g] (None entries unless centered)


class AdamState(NamedTuple):
    step: int
    m: list  # first moments
    v: list  # second moments
    v_max: list | None = None  # AMSGrad's running maximum of v (None without amsgrad)


class NAdamState(NamedTuple):
    step: int
    m: list  # first moments
    v: list  # second moments
    mu_product: list  # Π μ_k so far, one float per parameter


# ---------------------------------------------------------------- validation (shared by shells)


def check_lr(lr: Any, name: str = "lr") -> Any:
    """A non-negative finite float, or a callable schedule; otherwise ValueError/TypeError."""
    if callable(lr):
        return lr
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real):
        raise TypeError(f"{name} must be a float or a schedule (step -> lr), got {lr!r}.")
    check_scalar(lr, name, min_val=0.0, allow_inf=False)
    return float(lr)


def check_unit(value: Any, name: str, *, include_max: bool = False) -> float:
    """A float in [0, 1) (or [0, 1] with include_max)."""
    check_scalar(value, name, min_val=0.0, max_val=1.0, include_max=include_max)
    return float(value)


def check_nonneg(value: Any, name: str) -> float:
    check_scalar(value, name, min_val=0.0, allow_inf=False)
    return float(value)


def check_betas(betas: Any) -> tuple[float, float]:
    if not isinstance(betas, Sequence) or len(betas) != 2:
        raise ValueError(f"betas must be a pair (beta1, beta2), got {betas!r}.")
    return check_unit(betas[0], "betas[0]"), check_unit(betas[1], "betas[1]")


def lr_at(lr: Any, step: int) -> float:
    """The learning rate of the ``step``-th update (0-based): ``lr(step)`` or ``lr``."""
    return float(lr(step)) if callable(lr) else lr


def _zeros(params: list) -> list:
    return [np.zeros_like(x) for x in params]


def _same(state: Any, params: list) -> list:
    return params


def _signed(grads: list, maximize: bool) -> list:
    """``maximize`` ascends: every rule then steps on −g (torch's ``maximize``)."""
    return [-g for g in grads] if maximize else grads


# ---------------------------------------------------------------- the notes' rules


def gd(lr: LR) -> Rule:
    """Gradient descent: xₜ₊₁ = xₜ − α∇f(xₜ)."""
    lr = check_lr(lr)

    def init(params):
        return GDState(0)

    def update(grads, state, params):
        a = lr_at(lr, state.step)
        return [x - a * g for x, g in zip(params, grads, strict=True)], GDState(state.step + 1)

    return Rule(init, update, _same)


def momentum(lr: LR, rho: float = 0.9) -> Rule:
    """Momentum, the notes' form: vₜ₊₁ = ρvₜ − α∇f(xₜ),  xₜ₊₁ = xₜ + vₜ₊₁  (v₀ = 0)."""
    lr, rho = check_lr(lr), check_unit(rho, "rho")

    def init(params):
        return MomentumState(0, _zeros(params))

    def update(grads, state, params):
        a = lr_at(lr, state.step)
        v = [rho * v - a * g for v, g in zip(state.v, grads, strict=True)]
        return [x + vi for x, vi in zip(params, v, strict=True)], MomentumState(state.step + 1, v)

    return Rule(init, update, _same)


def nesterov(lr: LR, rho: float = 0.9) -> Rule:
    """Nesterov momentum, the notes' look-ahead form:

    vₜ₊₁ = ρvₜ − α∇f(xₜ + ρvₜ),  xₜ₊₁ = xₜ + vₜ₊₁.

    ``grads`` passed to ``update`` must be taken at ``grad_point(state, params)`` = x + ρv.
    """
    lr, rho = check_lr(lr), check_unit(rho, "rho")

    def init(params):
        return MomentumState(0, _zeros(params))

    def grad_point(state, params):
        return [x + rho * v for x, v in zip(params, state.v, strict=True)]

    def update(grads, state, params):
        a = lr_at(lr, state.step)
        v = [rho * v - a * g for v, g in zip(state.v, grads, strict=True)]
        return [x + vi for x, vi in zip(params, v, strict=True)], MomentumState(state.step + 1, v)

    return Rule(init, update, grad_point)


def sgd(
    lr: LR,
    momentum: float = 0.0,
    dampening: float = 0.0,
    nesterov: bool = False,
    weight_decay: float = 0.0,
    maximize: bool = False,
) -> Rule:
    """PyTorch's SGD: g ← g + λx; b ← g (first step) or μb + (1 − d)g;
    x ← x − α(g + μb) with Nesterov, x ← x − αb without (x ← x − αg when μ = 0).

    With constant α and d = 0 this is the notes' momentum under v = −αb, and (Nesterov) the
    notes' look-ahead Nesterov in the variable y = x + ρv. ``maximize`` steps on −g (ascent),
    as does every torch-style rule below.
    """
    lr = check_lr(lr)
    mu, damp = (
        check_unit(momentum, "momentum"),
        check_unit(dampening, "dampening", include_max=True),
    )
    wd = check_nonneg(weight_decay, "weight_decay")
    if nesterov and (mu == 0 or damp != 0):
        raise ValueError("nesterov=True needs momentum > 0 and dampening = 0.")

    def init(params):
        return SGDState(0, _zeros(params) if mu != 0 else [None] * len(params))

    def update(grads, state, params):
        grads = _signed(grads, maximize)
        a, first = lr_at(lr, state.step), state.step == 0
        out = [
            sgd_array(x, g, b, first, a, mu, damp, nesterov, wd)
            for x, g, b in zip(params, grads, state.momentum_buffer, strict=True)
        ]
        return [o[0] for o in out], SGDState(state.step + 1, [o[1] for o in out])

    return Rule(init, update, _same)


def adagrad(
    lr: LR = 0.01,
    lr_decay: float = 0.0,
    weight_decay: float = 0.0,
    initial_accumulator_value: float = 0.0,
    eps: float = 1e-10,
    maximize: bool = False,
) -> Rule:
    """AdaGrad: Gₜ = Gₜ₋₁ + gₜ²,  xₜ₊₁ = xₜ − αₜ·gₜ/(√Gₜ + ε),  αₜ = α/(1 + (t − 1)·lr_decay).

    The notes' x ← x − α∇f/√Σ(∇f)²: steep directions slow down, flat ones speed up.
    """
    lr = check_lr(lr)
    lr_decay, wd = check_nonneg(lr_decay, "lr_decay"), check_nonneg(weight_decay, "weight_decay")
    acc0 = check_nonneg(initial_accumulator_value, "initial_accumulator_value")
    eps = check_nonneg(eps, "eps")

    def init(params):
        return AdaGradState(0, [np.full_like(x, acc0) for x in params])

    def update(grads, state, params):
        grads = _signed(grads, maximize)
        a, t = lr_at(lr, state.step), state.step + 1
        out = [
            adagrad_array(x, g, s, t, a, lr_decay, wd, eps)
            for x, g, s in zip(params, grads, state.sum, strict=True)
        ]
        return [o[0] for o in out], AdaGradState(t, [o[1] for o in out])

    return Rule(init, update, _same)


def rmsprop(
    lr: LR = 0.01,
    alpha: float = 0.99,
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum: float = 0.0,
    centered: bool = False,
    maximize: bool = False,
) -> Rule:
    """RMSProp: E[g²]ₜ = αE[g²]ₜ₋₁ + (1 − α)gₜ²,  xₜ₊₁ = xₜ − η·gₜ/(√E[g²]ₜ + ε).

    ``alpha`` is the notes' β (PyTorch's name). ``centered`` divides by √(E[g²] − E[g]²);
    ``momentum`` μ > 0 keeps b ← μb + g/(√E[g²] + ε) and steps x ← x − ηb (PyTorch's options).
    """
    lr = check_lr(lr)
    alpha, eps = check_unit(alpha, "alpha"), check_nonneg(eps, "eps")
    wd, mu = check_nonneg(weight_decay, "weight_decay"), check_unit(momentum, "momentum")
    centered = bool(centered)

    def init(params):
        n = len(params)
        return RMSPropState(
            0,
            _zeros(params),
            _zeros(params) if mu > 0 else [None] * n,
            _zeros(params) if centered else [None] * n,
        )

    def update(grads, state, params):
        grads = _signed(grads, maximize)
        a = lr_at(lr, state.step)
        out = [
            rmsprop_array(x, g, s, b, c, a, alpha, eps, wd, mu, centered)
            for x, g, s, b, c in zip(
                params, grads, state.square_avg, state.momentum_buffer, state.grad_avg, strict=True
            )
        ]
        new = RMSPropState(
            state.step + 1, [o[1] for o in out], [o[2] for o in out], [o[3] for o in out]
        )
        return [o[0] for o in out], new

    return Rule(init, update, _same)


def adam(
    lr: LR = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    decoupled: bool = False,
    amsgrad: bool = False,
    maximize: bool = False,
) -> Rule:
    """Adam with bias correction (m₀ = v₀ = 0, t = 1, 2, …):

    mₜ = β₁mₜ₋₁ + (1 − β₁)gₜ,   vₜ = β₂vₜ₋₁ + (1 − β₂)gₜ²,
    m̂ₜ = mₜ/(1 − β₁ᵗ),   v̂ₜ = vₜ/(1 − β₂ᵗ),   xₜ = xₜ₋₁ − α·m̂ₜ/(√v̂ₜ + ε).

    With a constant gradient g, mₜ = (1 − β₁ᵗ)g and vₜ = (1 − β₂ᵗ)g², so m̂ = g, v̂ = g² and
    every step (the first included) has size α per coordinate (ε → 0). ``weight_decay`` λ adds
    λx to g (L2), or with ``decoupled=True`` (AdamW) shrinks x ← x(1 − αλ) before the step.
    ``amsgrad`` (Reddi et al. 2018) divides by √(max_{k≤t} vₖ/(1 − β₂ᵗ)) instead of √v̂ₜ, so the
    effective per-coordinate step never grows.
    """
    lr = check_lr(lr)
    b1, b2 = check_betas(betas)
    eps, wd = check_nonneg(eps, "eps"), check_nonneg(weight_decay, "weight_decay")
    decoupled, amsgrad = bool(decoupled), bool(amsgrad)

    def init(params):
        return AdamState(0, _zeros(params), _zeros(params), _zeros(params) if amsgrad else None)

    def update(grads, state, params):
        grads = _signed(grads, maximize)
        a, t = lr_at(lr, state.step), state.step + 1
        if amsgrad:
            out = [
                adam_amsgrad_array(x, g, m, v, w, t, a, b1, b2, eps, wd, decoupled)
                for x, g, m, v, w in zip(params, grads, state.m, state.v, state.v_max, strict=True)
            ]
            new = AdamState(t, [o[1] for o in out], [o[2] for o in out], [o[3] for o in out])
            return [o[0] for o in out], new
        out = [
            adam_array(x, g, m, v, t, a, b1, b2, eps, wd, decoupled)
            for x, g, m, v in zip(params, grads, state.m, state.v, strict=True)
        ]
        return [o[0] for o in out], AdamState(t, [o[1] for o in out], [o[2] for o in out])

    return Rule(init, update, _same)


def adamw(
    lr: LR = 1e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 1e-2,
    amsgrad: bool = False,
    maximize: bool = False,
) -> Rule:
    """AdamW: Adam with decoupled weight decay, x ← x(1 − αλ) then the Adam step."""
    return adam(lr, betas, eps, weight_decay, True, amsgrad, maximize)


def nadam(
    lr: LR = 2e-3,
    betas: tuple[float, float] = (0.9, 0.999),
    eps: float = 1e-8,
    weight_decay: float = 0.0,
    momentum_decay: float = 4e-3,
    decoupled: bool = False,
    maximize: bool = False,
) -> Rule:
    """NAdam, Adam with Nesterov momentum (Dozat 2016; torch.optim.NAdam), t = 1, 2, …:

    μₜ = β₁(1 − ½·0.96^(tψ)) (ψ = ``momentum_decay``),  mₜ, vₜ as in Adam,
    xₜ = xₜ₋₁ − α[(1 − μₜ)/(1 − Πₖ≤ₜ μₖ)·gₜ + μₜ₊₁/(1 − Πₖ≤ₜ₊₁ μₖ)·mₜ] / (√(vₜ/(1 − β₂ᵗ)) + ε):

    the look-ahead of Nesterov applied to Adam's first moment. ``decoupled`` is NAdamW's
    x ← x(1 − αλ) instead of the L2 gradient term.
    """
    lr = check_lr(lr)
    b1, b2 = check_betas(betas)
    eps, wd = check_nonneg(eps, "eps"), check_nonneg(weight_decay, "weight_decay")
    psi, decoupled = check_nonneg(momentum_decay, "momentum_decay"), bool(decoupled)

    def init(params):
        return NAdamState(0, _zeros(params), _zeros(params), [1.0] * len(params))

    def update(grads, state, params):
        grads = _signed(grads, maximize)
        a, t = lr_at(lr, state.step), state.step + 1
        out = [
            nadam_array(x, g, m, v, t, p, a, b1, b2, eps, wd, psi, decoupled)
            for x, g, m, v, p in zip(params, grads, state.m, state.v, state.mu_product, strict=True)
        ]
        new = NAdamState(t, [o[1] for o in out], [o[2] for o in out], [o[3] for o in out])
        return [o[0] for o in out], new

    return Rule(init, update, _same)


def trajectory(
    rule: Rule, grad: Callable[[np.ndarray], np.ndarray], x0: Any, steps: int
) -> np.ndarray:
    """Iterates x₀, x₁, …, x_steps of ``rule`` on one array parameter; shape (steps + 1, *x0.shape).

    grad : x -> ∇f(x), evaluated where the rule asks (the look-ahead point for ``nesterov``).
    """
    check_scalar(steps, "steps", target_type=numbers.Integral, min_val=0)
    x = np.asarray(x0)
    x = np.array(x, dtype=x.dtype if x.dtype.kind == "f" else np.float64)  # a copy
    params = [x]
    state = rule.init(params)
    out = np.empty((steps + 1,) + x.shape, dtype=x.dtype)
    out[0] = x
    for k in range(steps):
        point = rule.grad_point(state, params)
        params, state = rule.update([np.asarray(grad(point[0]), dtype=x.dtype)], state, params)
        out[k + 1] = params[0]
    return out
