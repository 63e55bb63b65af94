"""``Optimizer``: the base of qed's stateful optimizers (PyTorch's ``torch.optim.Optimizer``).

It owns what every optimizer shares: ``param_groups`` (dicts of parameters and their own
hyperparameters), per-parameter ``state``, the step counter a schedule ``lr`` is evaluated at,
``step`` / ``zero_grad``, ``state_dict`` / ``load_state_dict`` (snapshots that resume bit for
bit) and ``qed.save`` support. A subclass (see :mod:`qed.optim.optimizers`) names its
hyperparameters, validates a group, creates a parameter's state and updates one parameter.

A parameter is any object with ``.data`` (a floating ndarray, updated in place) and ``.grad``
(an ndarray or None), such as ``qed.autograd.Tensor`` or ``qed.nn.Parameter``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, MutableMapping
from typing import Any

import numpy as np

from qed.optim import _fused
from qed.optim import rules as R

__all__ = ["Optimizer"]


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

    Subclasses set ``_hyper`` (hyperparameter names), ``_check_group`` and ``_update``, and
    may update small fused arrays together (``_foreach``, ``_update_foreach``).
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
            raise TypeError(
                f"a parameter group is a dict with a 'params' key, got {param_group!r}."
            )
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
            batch = []  # fused small arrays, updated together by ``_update_foreach``
            for i, p in enumerate(group["params"]):
                if p.grad is None:
                    continue
                x = p.data
                g = p.grad
                if not isinstance(g, np.ndarray) or g.dtype != x.dtype or not g.flags.c_contiguous:
                    g = np.ascontiguousarray(g, dtype=x.dtype)
                if group.get("maximize", False):
                    g = np.negative(g)  # ascent: every rule steps on −g (torch's maximize)
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
                if fused and self._foreach(x):
                    batch.append((x, g, st))
                else:
                    self._update(x, g, st, group, lr, fused)
            if batch:
                self._update_foreach(batch, group, lr)
        self._step_count += 1
        return loss

    def _init_state(self, x: np.ndarray, group: dict) -> dict:  # pragma: no cover - abstract
        raise NotImplementedError

    def _update(self, x, g, st, group, lr, fused) -> None:  # pragma: no cover - abstract
        raise NotImplementedError

    def _foreach(self, x: np.ndarray) -> bool:
        """True when this fusable parameter is updated with others by ``_update_foreach``
        (one compiled call for many small arrays) instead of alone by ``_update``."""
        return False

    def _update_foreach(self, batch: list, group: dict, lr: float) -> None:  # pragma: no cover
        """Update each (x, g, state) of ``batch``; the same arithmetic as ``_update``."""
        raise NotImplementedError  # a rule whose _foreach accepts arrays defines it

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
            # hyperparameters added later (e.g. maximize) take their defaults in older files
            hyper = {h: saved[h] for h in cls._hyper if h in saved}
            obj.add_param_group({**hyper, "params": params})
        obj.load_state_dict(state["state_dict"])
        return obj

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {group[k]!r}" for k in self._hyper]
        return "\n".join(lines + [")"])
