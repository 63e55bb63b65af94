"""Stateful optimizers with PyTorch's API over the pure rules of :mod:`qed.optim.rules`.

``params`` is an iterable of parameters — any objects with ``.data`` (a floating ndarray,
updated in place) and ``.grad`` (an ndarray or None), such as ``qed.autograd.Tensor`` — or of
dicts ``{"params": [...], "lr": ..., ...}``, parameter groups with their own hyperparameters.
``step()`` updates every parameter whose grad is not None, ``zero_grad()`` clears the grads,
``state_dict()`` / ``load_state_dict()`` snapshot and restore everything (moments, per-parameter
step counts, hyperparameters, and the optimizer's step counter that a schedule ``lr`` is
evaluated at), so that training resumed from a state dict continues bit for bit.

The formulas are PyTorch's (torch.optim.SGD, Adagrad, RMSprop, Adam, AdamW), so trajectories
agree with torch to rounding; each step calls the pure rule, or by default (``fused=None``) its
fused numba twin, which updates ``.data`` and the state in one pass and is tested bit-equal to
the rule. float32 parameters stay float32. Every optimizer takes ``maximize`` (ascend: step
on −g, as torch does); Adam and AdamW take ``amsgrad``.
"""

from __future__ import annotations

import numpy as np

from qed.optim import _foreach, _fused
from qed.optim import rules as R
from qed.optim.optimizer import Optimizer
from qed.persist import register

__all__ = [
    "Optimizer",
    "SGD",
    "AdaGrad",
    "Adagrad",
    "RMSProp",
    "RMSprop",
    "Adam",
    "AdamW",
    "NAdam",
]


def _zeros(x: np.ndarray) -> np.ndarray:
    return np.zeros(x.shape, dtype=x.dtype)  # C-contiguous whatever x's layout


@register
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's formulas.

    g ← g + λx;  b ← g at the first step, else μb + (1 − d)g;  x ← x − α(g + μb) (Nesterov)
    or x ← x − αb (or x ← x − αg when μ = 0). This is the notes' momentum with v = −αb, and
    the notes' look-ahead Nesterov in the variable x + ρv (see ``qed.optim.rules``).
    """

    _hyper = ("lr", "momentum", "dampening", "nesterov", "weight_decay", "maximize")

    def __init__(
        self,
        params,
        lr=1e-3,
        momentum=0.0,
        nesterov=False,
        weight_decay=0.0,
        *,
        dampening=0.0,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                momentum=momentum,
                dampening=dampening,
                nesterov=nesterov,
                weight_decay=weight_decay,
                maximize=maximize,
            ),
            fused,
        )

    def _check_group(self, group):
        R.sgd(
            group["lr"],
            group["momentum"],
            group["dampening"],
            group["nesterov"],
            group["weight_decay"],
        )  # validates, naming the bad hyperparameter
        group["nesterov"] = bool(group["nesterov"])
        group["maximize"] = bool(group["maximize"])

    def _init_state(self, x, group):
        return {"step": 0, "momentum_buffer": _zeros(x) if group["momentum"] != 0 else None}

    def _update(self, x, g, st, group, lr, fused):
        mu, damp, nest, wd = (
            group[k] for k in ("momentum", "dampening", "nesterov", "weight_decay")
        )
        buf = st["momentum_buffer"]
        # torch starts the buffer as b = g when it has none yet (first step, or momentum
        # switched on later)
        first = st["step"] == 0 or buf is None
        if mu != 0 and buf is None:
            buf = st["momentum_buffer"] = _zeros(x)
        if fused:
            _fused.sgd_(x, g, buf, first, lr, mu, damp, nest, wd)
        else:
            rule = R.sgd(lr, mu, damp, nest, wd)
            (new,), s = rule.update([g], R.SGDState(0 if first else st["step"], [buf]), [x])
            x[...] = new
            st["momentum_buffer"] = s.momentum_buffer[0] if mu != 0 else None
        st["step"] += 1


@register
class AdaGrad(Optimizer):
    """AdaGrad, PyTorch's formulas: G ← G + g²,  x ← x − α/(1 + (t − 1)·lr_decay)·g/(√G + ε)."""

    _hyper = ("lr", "eps", "initial_accumulator_value", "lr_decay", "weight_decay", "maximize")

    def __init__(
        self,
        params,
        lr=0.01,
        eps=1e-10,
        initial_accumulator_value=0.0,
        *,
        lr_decay=0.0,
        weight_decay=0.0,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                eps=eps,
                lr_decay=lr_decay,
                initial_accumulator_value=initial_accumulator_value,
                weight_decay=weight_decay,
                maximize=maximize,
            ),
            fused,
        )

    def _check_group(self, group):
        R.adagrad(
            group["lr"],
            group["lr_decay"],
            group["weight_decay"],
            group["initial_accumulator_value"],
            group["eps"],
        )
        group["maximize"] = bool(group["maximize"])

    def _init_state(self, x, group):
        acc = np.full(x.shape, group["initial_accumulator_value"], dtype=x.dtype)
        return {"step": 0, "sum": acc}

    def _update(self, x, g, st, group, lr, fused):
        t = st["step"] + 1
        hp = (group["lr_decay"], group["weight_decay"], group["eps"])
        if fused:
            _fused.adagrad_(x, g, st["sum"], t, lr, *hp)
        else:
            rule = R.adagrad(lr, group["lr_decay"], group["weight_decay"], 0.0, group["eps"])
            (new,), s = rule.update([g], R.AdaGradState(st["step"], [st["sum"]]), [x])
            x[...] = new
            st["sum"] = s.sum[0]
        st["step"] = t


@register
class RMSProp(Optimizer):
    """RMSProp, PyTorch's formulas: E ← αE + (1 − α)g²,  x ← x − η·g/(√E + ε)
    (``centered``: √(E − E[g]²); ``momentum`` μ: b ← μb + g/(√E + ε), x ← x − ηb)."""

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered", "maximize")

    def __init__(
        self,
        params,
        lr=0.01,
        alpha=0.99,
        eps=1e-8,
        *,
        weight_decay=0.0,
        momentum=0.0,
        centered=False,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                alpha=alpha,
                eps=eps,
                weight_decay=weight_decay,
                momentum=momentum,
                centered=centered,
                maximize=maximize,
            ),
            fused,
        )

    def _check_group(self, group):
        R.rmsprop(
            group["lr"],
            group["alpha"],
            group["eps"],
            group["weight_decay"],
            group["momentum"],
            group["centered"],
        )
        group["centered"] = bool(group["centered"])
        group["maximize"] = bool(group["maximize"])

    def _init_state(self, x, group):
        return {
            "step": 0,
            "square_avg": _zeros(x),
            "momentum_buffer": _zeros(x) if group["momentum"] > 0 else None,
            "grad_avg": _zeros(x) if group["centered"] else None,
        }

    def _update(self, x, g, st, group, lr, fused):
        hp = [group[k] for k in ("alpha", "eps", "weight_decay", "momentum", "centered")]
        if hp[3] > 0 and st["momentum_buffer"] is None:
            st["momentum_buffer"] = _zeros(x)
        if hp[4] and st["grad_avg"] is None:
            st["grad_avg"] = _zeros(x)
        if fused:
            _fused.rmsprop_(x, g, st["square_avg"], st["momentum_buffer"], st["grad_avg"], lr, *hp)
        else:
            rule = R.rmsprop(lr, *hp)
            state = R.RMSPropState(
                st["step"], [st["square_avg"]], [st["momentum_buffer"]], [st["grad_avg"]]
            )
            (new,), s = rule.update([g], state, [x])
            x[...] = new
            st.update(
                square_avg=s.square_avg[0],
                momentum_buffer=s.momentum_buffer[0],
                grad_avg=s.grad_avg[0],
            )
        st["step"] += 1


@register
class Adam(Optimizer):
    """Adam, PyTorch's formulas (ε outside √v̂): m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    x ← x − α·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). ``weight_decay`` λ is L2
    (g ← g + λx) or, with ``decoupled=True``, AdamW's x ← x(1 − αλ). ``amsgrad`` divides by the
    running maximum of v instead (state ``max_exp_avg_sq``)."""

    _hyper = ("lr", "betas", "eps", "weight_decay", "decoupled", "amsgrad", "maximize")

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        decoupled=False,
        amsgrad=False,
        *,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                decoupled=decoupled,
                amsgrad=amsgrad,
                maximize=maximize,
            ),
            fused,
        )

    def _check_group(self, group):
        R.adam(group["lr"], group["betas"], group["eps"], group["weight_decay"])
        group["betas"] = tuple(float(b) for b in group["betas"])
        group["decoupled"] = bool(group["decoupled"])
        group["amsgrad"] = bool(group["amsgrad"])
        group["maximize"] = bool(group["maximize"])

    def _init_state(self, x, group):
        st = {"step": 0, "exp_avg": _zeros(x), "exp_avg_sq": _zeros(x)}
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = _zeros(x)
        return st

    def _foreach(self, x):
        return x.size < _fused.PARALLEL_MIN_SIZE  # large arrays take the parallel kernel

    def _update_foreach(self, batch, group, lr):
        _foreach.adam_batch(batch, group, lr)

    def _update(self, x, g, st, group, lr, fused):
        t = st["step"] + 1
        hp = (group["betas"], group["eps"], group["weight_decay"], group["decoupled"])
        ams = group["amsgrad"]
        if ams and "max_exp_avg_sq" not in st:  # amsgrad switched on after some steps
            st["max_exp_avg_sq"] = _zeros(x)
        vmax = st["max_exp_avg_sq"] if ams else None
        if fused:
            b1, b2 = hp[0]
            _fused.adam_(x, g, st["exp_avg"], st["exp_avg_sq"], t, lr, b1, b2, *hp[1:], vmax)
        else:
            state = R.AdamState(
                st["step"], [st["exp_avg"]], [st["exp_avg_sq"]], [vmax] if ams else None
            )
            (new,), s = R.adam(lr, *hp, amsgrad=ams).update([g], state, [x])
            x[...] = new
            st["exp_avg"], st["exp_avg_sq"] = s.m[0], s.v[0]
            if ams:
                st["max_exp_avg_sq"] = s.v_max[0]
        st["step"] = t


@register
class AdamW(Adam):
    """Adam with decoupled weight decay (default λ = 0.01), torch.optim.AdamW."""

    def __init__(
        self,
        params,
        lr=1e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=1e-2,
        amsgrad=False,
        *,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params, lr, betas, eps, weight_decay, True, amsgrad, maximize=maximize, fused=fused
        )


@register
class NAdam(Optimizer):
    """NAdam, PyTorch's formulas (torch.optim.NAdam): Adam whose step looks ahead with the
    momentum schedule μₜ = β₁(1 − ½·0.96^(tψ)) (see ``qed.optim.rules.nadam``).
    ``decoupled_weight_decay`` is NAdamW's x ← x(1 − αλ)."""

    _hyper = (
        "lr",
        "betas",
        "eps",
        "weight_decay",
        "momentum_decay",
        "decoupled_weight_decay",
        "maximize",
    )

    def __init__(
        self,
        params,
        lr=2e-3,
        betas=(0.9, 0.999),
        eps=1e-8,
        weight_decay=0.0,
        momentum_decay=4e-3,
        decoupled_weight_decay=False,
        *,
        maximize=False,
        fused=None,
    ):
        super().__init__(
            params,
            dict(
                lr=lr,
                betas=betas,
                eps=eps,
                weight_decay=weight_decay,
                momentum_decay=momentum_decay,
                decoupled_weight_decay=decoupled_weight_decay,
                maximize=maximize,
            ),
            fused,
        )

    def _check_group(self, group):
        R.nadam(
            group["lr"],
            group["betas"],
            group["eps"],
            group["weight_decay"],
            group["momentum_decay"],
        )
        group["betas"] = tuple(float(b) for b in group["betas"])
        group["decoupled_weight_decay"] = bool(group["decoupled_weight_decay"])
        group["maximize"] = bool(group["maximize"])

    def _init_state(self, x, group):
        return {"step": 0, "mu_product": 1.0, "exp_avg": _zeros(x), "exp_avg_sq": _zeros(x)}

    def _update(self, x, g, st, group, lr, fused):
        t = st["step"] + 1
        (b1, b2), eps, wd = group["betas"], group["eps"], group["weight_decay"]
        psi, dec = group["momentum_decay"], group["decoupled_weight_decay"]
        if fused:
            st["mu_product"] = _fused.nadam_(
                x,
                g,
                st["exp_avg"],
                st["exp_avg_sq"],
                t,
                st["mu_product"],
                lr,
                b1,
                b2,
                eps,
                wd,
                psi,
                dec,
            )
        else:
            state = R.NAdamState(
                st["step"], [st["exp_avg"]], [st["exp_avg_sq"]], [st["mu_product"]]
            )
            (new,), s = R.nadam(lr, (b1, b2), eps, wd, psi, dec).update([g], state, [x])
            x[...] = new
            st["exp_avg"], st["exp_avg_sq"], st["mu_product"] = s.m[0], s.v[0], s.mu_product[0]
        st["step"] = t


# PyTorch's spellings.
Adagrad = AdaGrad
RMSprop = RMSProp
