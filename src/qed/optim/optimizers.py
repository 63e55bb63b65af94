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
the rule. float32 parameters stay float32.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np

from qed.optim import _fused
from qed.optim import rules as R
from qed.persist import register

__all__ = ["Optimizer", "SGD", "AdaGrad", "Adagrad", "RMSProp", "RMSprop", "Adam", "AdamW"]


class _ParamState(MutableMapping):
    """``state[p]``: per-parameter state keyed by the parameter's identity (like torch)."""

    def __init__(self) -> None:
        self._d: dict[int, tuple[Any, dict]] = {}

    def __getitem__(self, p: Any) -> dict:
        return self._d[id(p)][1]

    def __setitem__(self, p: Any, value: dict) -> None:
        self._d[id(p)] = (p, value)

    def __delitem__(self, p: Any) -> None:
        del self._d[id(p)]

    def __iter__(self) -> Iterator[Any]:
        return (p for p, _ in self._d.values())

    def __len__(self) -> int:
        return len(self._d)


def _is_param(p: Any) -> bool:
    return hasattr(p, "data") and hasattr(p, "grad") and not isinstance(p, np.ndarray)


class Optimizer:
    """Base class: parameter groups, ``step``, ``zero_grad``, ``state_dict``.

    Subclasses set ``_hyper`` (hyperparameter names), ``_check_group`` and ``_update``.
    """

    _hyper: tuple[str, ...] = ("lr",)

    def __init__(self, params: Iterable[Any], defaults: dict[str, Any], fused: bool | None):
        if fused not in (None, True, False):
            raise ValueError(f"fused must be None, True or False, got {fused!r}.")
        self.defaults = dict(defaults)
        self.fused = fused
        self.param_groups: list[dict[str, Any]] = []
        self.state = _ParamState()
        self._step_count = 0
        if _is_param(params):
            raise TypeError(
                "params must be an iterable of parameters (e.g. model.parameters()) or of "
                "dicts; wrap a single parameter in a list."
            )
        groups = list(params)
        if not groups:
            raise ValueError("optimizer got an empty parameter list; pass model.parameters().")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    # -------------------------------------------------------------- groups
    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group ``{"params": [...], hyperparameter: value, ...}``; defaults fill the rest."""
        if not isinstance(param_group, dict) or "params" not in param_group:
            raise TypeError(f"a parameter group is a dict with a 'params' key, got {param_group!r}.")
        unknown = set(param_group) - set(self._hyper) - {"params"}
        if unknown:
            raise ValueError(
                f"unknown hyperparameter(s) {sorted(unknown)} for {type(self).__name__}; "
                f"its hyperparameters are {list(self._hyper)}."
            )
        params = param_group["params"]
        params = [params] if _is_param(params) else list(params)
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        for i, p in enumerate(params):
            if not _is_param(p):
                raise TypeError(
                    f"params[{i}] must have .data and .grad (e.g. a qed.autograd.Tensor), got "
                    f"{type(p).__name__}."
                )
            if not isinstance(p.data, np.ndarray) or p.data.dtype.kind != "f":
                raise TypeError(
                    f"params[{i}].data must be a floating-point ndarray, got "
                    f"{type(p.data).__name__} {getattr(p.data, 'dtype', '')}."
                )
            if self.fused and not _fused.fusable(p.data):
                raise ValueError(
                    f"fused=True needs C-contiguous float32/float64 parameters; params[{i}] is "
                    f"{p.data.dtype} (contiguous: {p.data.flags.c_contiguous}). Use fused=None."
                )
            if id(p) in seen:
                raise ValueError(f"params[{i}] appears in more than one parameter group.")
            seen.add(id(p))
        group = {**self.defaults, **param_group, "params": params}
        self._check_group(group)
        self.param_groups.append(group)

    def _check_group(self, group: dict[str, Any]) -> None:
        group["lr"] = R.check_lr(group["lr"])

    # -------------------------------------------------------------- stepping
    def zero_grad(self, set_to_none: bool = True) -> None:
        """Clear every parameter's grad (to None, or to zeros in place)."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def current_lr(self) -> list[float]:
        """The learning rate of each group for the next ``step()``."""
        return [R.lr_at(g["lr"], self._step_count) for g in self.param_groups]

    @property
    def step_count(self) -> int:
        """Number of ``step()`` calls so far (a schedule lr is evaluated at this step)."""
        return self._step_count

    def step(self, closure: Any = None) -> Any:
        """One update of every parameter with a grad; ``closure()`` (re)computes the loss."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            lr = R.lr_at(group["lr"], self._step_count)
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                x = p.data
                g = p.grad
                if not isinstance(g, np.ndarray) or g.dtype != x.dtype or not g.flags.c_contiguous:
                    g = np.ascontiguousarray(g, dtype=x.dtype)
                if g.shape != x.shape:
                    raise ValueError(
                        f"params[{i}].grad has shape {g.shape} but .data has shape {x.shape}."
                    )
                st = self.state.get(p)
                if st is None:
                    st = self.state[p] = self._init_state(x, group)
                fused = self.fused is not False and _fused.fusable(
                    x, g, *(v for v in st.values() if isinstance(v, np.ndarray))
                )
                self._update(x, g, st, group, lr, fused)
        self._step_count += 1
        return loss

    def _init_state(self, x: np.ndarray, group: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, x, g, st, group, lr, fused) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    # -------------------------------------------------------------- state dicts
    def state_dict(self) -> dict[str, Any]:
        """A snapshot (arrays copied): ``{"state": {index: {...}}, "param_groups": [...],
        "step_count": n}``; parameters are numbered in group order, as torch does."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            ids = []
            for p in group["params"]:
                index.setdefault(id(p), len(index))
                ids.append(index[id(p)])
            groups.append({**{k: group[k] for k in self._hyper}, "params": ids})
        state = {
            index[id(p)]: {k: (v.copy() if isinstance(v, np.ndarray) else v) for k, v in s.items()}
            for p, s in self.state.items()
        }
        return {"state": state, "param_groups": groups, "step_count": self._step_count}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what ``state_dict()`` returned, for the same parameters in the same order."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError("state_dict must be what Optimizer.state_dict() returned.")
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(
                f"state_dict has {len(saved)} parameter groups, this optimizer has "
                f"{len(self.param_groups)}."
            )
        params: dict[int, Any] = {}
        for k, (mine, theirs) in enumerate(zip(self.param_groups, saved, strict=True)):
            if len(mine["params"]) != len(theirs["params"]):
                raise ValueError(
                    f"parameter group {k} has {len(mine['params'])} parameters here but "
                    f"{len(theirs['params'])} in state_dict."
                )
            params.update(zip(theirs["params"], mine["params"], strict=True))
        new_groups = []
        for mine, theirs in zip(self.param_groups, saved, strict=True):
            group = {**mine, **{h: theirs[h] for h in self._hyper if h in theirs}}
            self._check_group(group)
            new_groups.append(group)
        new_state = _ParamState()
        for key, s in state_dict["state"].items():
            if key not in params:
                raise ValueError(f"state_dict has state for parameter {key}, which is unknown.")
            x = params[key].data
            entry = {}
            for name, v in s.items():
                if isinstance(v, np.ndarray):
                    if v.shape != x.shape:
                        raise ValueError(
                            f"state_dict {name!r} of parameter {key} has shape {v.shape}, the "
                            f"parameter has {x.shape}."
                        )
                    v = np.array(v, dtype=x.dtype, order="C")  # a copy, in the param's dtype
                entry[name] = v
            new_state[params[key]] = entry
        self.param_groups = new_groups
        self.state = new_state
        self._step_count = int(state_dict.get("step_count", 0))

    # -------------------------------------------------------------- qed.save support
    def __qed_state__(self) -> dict[str, Any]:
        return {
            "params": [list(g["params"]) for g in self.param_groups],
            "defaults": self.defaults,
            "fused": self.fused,
            "state_dict": self.state_dict(),
        }

    @classmethod
    def __qed_restore__(cls, state: dict[str, Any]) -> Optimizer:
        obj = cls.__new__(cls)
        obj.defaults, obj.fused = dict(state["defaults"]), state["fused"]
        obj.param_groups, obj.state, obj._step_count = [], _ParamState(), 0
        for params, saved in zip(state["params"], state["state_dict"]["param_groups"], strict=True):
            obj.add_param_group({**{h: saved[h] for h in cls._hyper}, "params": params})
        obj.load_state_dict(state["state_dict"])
        return obj

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]!r}" for k in self._hyper]
        return "\n".join(lines + [")"])


def _zeros(x: np.ndarray) -> np.ndarray:
    return np.zeros(x.shape, dtype=x.dtype)  # C-contiguous whatever x's layout


@register
class SGD(Optimizer):
    """Stochastic gradient descent with optional (Nesterov) momentum, PyTorch's formulas.

    g ← g + λx;  b ← g at the first step, else μb + (1 − d)g;  x ← x − α(g + μb) (Nesterov)
    or x ← x − αb (or x ← x − αg when μ = 0). This is the notes' momentum with v = −αb, and
    the notes' look-ahead Nesterov in the variable x + ρv (see ``qed.optim.rules``).
    """

    _hyper = ("lr", "momentum", "dampening", "nesterov", "weight_decay")

    def __init__(self, params, lr=1e-3, momentum=0.0, nesterov=False, weight_decay=0.0, *,
                 dampening=0.0, fused=None):
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      nesterov=nesterov, weight_decay=weight_decay), fused)

    def _check_group(self, group):
        R.sgd(group["lr"], group["momentum"], group["dampening"], group["nesterov"],
              group["weight_decay"])  # validates, naming the bad hyperparameter
        group["nesterov"] = bool(group["nesterov"])

    def _init_state(self, x, group):
        return {"step": 0, "momentum_buffer": _zeros(x) if group["momentum"] != 0 else None}

    def _update(self, x, g, st, group, lr, fused):
        mu, damp, nest, wd = (group[k] for k in ("momentum", "dampening", "nesterov",
                                                  "weight_decay"))
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

    _hyper = ("lr", "eps", "initial_accumulator_value", "lr_decay", "weight_decay")

    def __init__(self, params, lr=0.01, eps=1e-10, initial_accumulator_value=0.0, *,
                 lr_decay=0.0, weight_decay=0.0, fused=None):
        super().__init__(params, dict(lr=lr, eps=eps, lr_decay=lr_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      weight_decay=weight_decay), fused)

    def _check_group(self, group):
        R.adagrad(group["lr"], group["lr_decay"], group["weight_decay"],
                  group["initial_accumulator_value"], group["eps"])

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

    _hyper = ("lr", "alpha", "eps", "weight_decay", "momentum", "centered")

    def __init__(self, params, lr=0.01, alpha=0.99, eps=1e-8, *, weight_decay=0.0,
                 momentum=0.0, centered=False, fused=None):
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered), fused)

    def _check_group(self, group):
        R.rmsprop(group["lr"], group["alpha"], group["eps"], group["weight_decay"],
                  group["momentum"], group["centered"])
        group["centered"] = bool(group["centered"])

    def _init_state(self, x, group):
        return {"step": 0, "square_avg": _zeros(x),
                "momentum_buffer": _zeros(x) if group["momentum"] > 0 else None,
                "grad_avg": _zeros(x) if group["centered"] else None}

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
            state = R.RMSPropState(st["step"], [st["square_avg"]], [st["momentum_buffer"]],
                                   [st["grad_avg"]])
            (new,), s = rule.update([g], state, [x])
            x[...] = new
            st.update(square_avg=s.square_avg[0], momentum_buffer=s.momentum_buffer[0],
                      grad_avg=s.grad_avg[0])
        st["step"] += 1


@register
class Adam(Optimizer):
    """Adam, PyTorch's formulas (ε outside √v̂): m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g²,
    x ← x − α·m̂/(√v̂ + ε) with m̂ = m/(1 − β₁ᵗ), v̂ = v/(1 − β₂ᵗ). ``weight_decay`` λ is L2
    (g ← g + λx) or, with ``decoupled=True``, AdamW's x ← x(1 − αλ)."""

    _hyper = ("lr", "betas", "eps", "weight_decay", "decoupled")

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0,
                 decoupled=False, *, fused=None):
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled=decoupled), fused)

    def _check_group(self, group):
        R.adam(group["lr"], group["betas"], group["eps"], group["weight_decay"])
        group["betas"] = tuple(float(b) for b in group["betas"])
        group["decoupled"] = bool(group["decoupled"])

    def _init_state(self, x, group):
        return {"step": 0, "exp_avg": _zeros(x), "exp_avg_sq": _zeros(x)}

    def _update(self, x, g, st, group, lr, fused):
        t = st["step"] + 1
        hp = (group["betas"], group["eps"], group["weight_decay"], group["decoupled"])
        if fused:
            _fused.adam_(x, g, st["exp_avg"], st["exp_avg_sq"], t, lr, hp[0][0], hp[0][1],
                         *hp[1:])
        else:
            state = R.AdamState(st["step"], [st["exp_avg"]], [st["exp_avg_sq"]])
            (new,), s = R.adam(lr, *hp).update([g], state, [x])
            x[...] = new
            st["exp_avg"], st["exp_avg_sq"] = s.m[0], s.v[0]
        st["step"] = t


@register
class AdamW(Adam):
    """Adam with decoupled weight decay (default λ = 0.01), torch.optim.AdamW."""

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, *,
                 fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, decoupled=True, fused=fused)


# PyTorch's spellings.
Adagrad = AdaGrad
RMSprop = RMSProp
