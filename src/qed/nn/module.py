"""``Module``, ``Parameter`` and ``Sequential``: PyTorch's container API over qed Tensors.

A ``Module`` records, in assignment order, its parameters (``Parameter`` attributes), its
buffers (ndarrays registered with ``register_buffer``, such as batch norm's running
statistics) and its submodules (``Module`` attributes). Everything is stored as a plain
attribute, so reading ``layer.weight`` costs nothing extra; names are dotted paths as in
PyTorch (``"0.weight"``, ``"1.running_mean"``) so that ``state_dict`` keys match PyTorch's
for the same architecture and weights copy across.

Modules (and Parameters) are saveable with ``qed.save``: every Module subclass defined in
qed is registered automatically, buffers included; a user's own subclass needs the
``@qed.persist.register`` decorator.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, NamedTuple

import numpy as np

from qed.autograd.tensor import Tensor
from qed.persist import register

__all__ = ["Parameter", "Module", "Sequential", "IncompatibleKeys"]


@register
class Parameter(Tensor):
    """A leaf Tensor that a Module owns and trains (``requires_grad=True`` by default)."""

    __slots__ = ()

    def __init__(self, data: Any, requires_grad: bool = True, *, dtype: Any = None) -> None:
        super().__init__(data, requires_grad=requires_grad, dtype=dtype)

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()


class IncompatibleKeys(NamedTuple):
    missing_keys: list[str]
    unexpected_keys: list[str]


def _to_numpy(value: Any) -> np.ndarray:
    if isinstance(value, Tensor):
        return value.data
    if hasattr(value, "detach") and hasattr(value, "cpu"):  # a torch tensor, duck-typed
        return value.detach().cpu().numpy()
    return np.asarray(value)


class Module:
    """Base class of layers and networks: subclasses set attributes and define ``forward``.

    Examples
    --------
    >>> class Affine(Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.w = Parameter(np.ones(3))
    ...     def forward(self, x):
    ...         return x * self.w
    >>> [name for name, _ in Affine().named_parameters()]
    ['w']
    """

    def __init__(self) -> None:
        d = self.__dict__
        d["training"] = True
        d["_param_names"] = []
        d["_buffer_names"] = []
        d["_module_names"] = []

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__module__.startswith("qed."):
            register(cls)

    # --- registration ----------------------------------------------------------------------
    def __setattr__(self, name: str, value: Any) -> None:
        d = self.__dict__
        if "_param_names" not in d:
            raise RuntimeError(
                f"{type(self).__name__}.__init__ must call super().__init__() before setting "
                "attributes, so that the Module can record its parameters."
            )
        if isinstance(value, Parameter):
            self._forget(name)
            d["_param_names"].append(name)
        elif isinstance(value, Module):
            self._forget(name)
            d["_module_names"].append(name)
        elif name in d["_buffer_names"]:
            if value is not None and not isinstance(value, np.ndarray):
                raise TypeError(f"buffer {name!r} must be an ndarray, got {type(value).__name__}")
        elif name in d["_param_names"] or name in d["_module_names"]:
            if value is not None:
                raise TypeError(
                    f"cannot assign a {type(value).__name__} to {name!r}, which is a "
                    f"{'parameter' if name in d['_param_names'] else 'submodule'}; assign a "
                    "Parameter (or Module), or None to remove it."
                )
            self._forget(name)
        d[name] = value

    def _forget(self, name: str) -> None:
        for names in (self._param_names, self._buffer_names, self._module_names):
            if name in names:
                names.remove(name)

    def register_buffer(self, name: str, array: np.ndarray | None) -> None:
        """Record ``array`` as state that is saved and converted but not trained."""
        if array is not None and not isinstance(array, np.ndarray):
            raise TypeError(
                f"register_buffer({name!r}): expected an ndarray, got {type(array).__name__}."
            )
        self._forget(name)
        self._buffer_names.append(name)
        self.__dict__[name] = array

    # --- traversal ------------------------------------------------------------------------
    def named_modules(
        self, memo: set[Module] | None = None, prefix: str = "", remove_duplicate: bool = True
    ) -> Iterator[tuple[str, Module]]:
        """This module and every submodule, pre-order, with dotted names (``""`` for self).

        PyTorch's signature: a module reachable twice is listed once unless
        ``remove_duplicate=False``; ``memo`` holds modules to skip.
        """
        stack: list[tuple[str, Module]] = [(prefix, self)]
        seen: set[int] = {id(m) for m in memo} if memo is not None else set()
        while stack:
            name, module = stack.pop()
            if remove_duplicate:
                if id(module) in seen:
                    continue
                seen.add(id(module))
            yield name, module
            children = [
                (f"{name}.{c}" if name else c, module.__dict__[c])
                for c in module._module_names
                if module.__dict__[c] is not None
            ]
            stack.extend(reversed(children))

    def modules(self) -> Iterator[Module]:
        for _, module in self.named_modules():
            yield module

    def children(self) -> Iterator[Module]:
        for name in self._module_names:
            if self.__dict__[name] is not None:
                yield self.__dict__[name]

    def named_parameters(
        self, prefix: str = "", recurse: bool = True
    ) -> Iterator[tuple[str, Parameter]]:
        """(dotted name, Parameter) pairs, each shared parameter once, in PyTorch's order."""
        seen: set[int] = set()
        modules = self.named_modules(prefix=prefix) if recurse else iter([(prefix, self)])
        for mname, module in modules:
            for pname in module._param_names:
                p = module.__dict__[pname]
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mname}.{pname}" if mname else pname), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for mname, module in self.named_modules(prefix=prefix):
            for bname in module._buffer_names:
                b = module.__dict__[bname]
                if b is not None:
                    yield (f"{mname}.{bname}" if mname else bname), b

    def buffers(self) -> Iterator[np.ndarray]:
        for _, b in self.named_buffers():
            yield b

    # --- modes, dtype, gradients ----------------------------------------------------------------
    def train(self, mode: bool = True) -> Module:
        """Training mode (batch statistics in batch norm); returns self."""
        for module in self.modules():
            module.__dict__["training"] = bool(mode)
        return self

    def eval(self) -> Module:
        """Evaluation mode (running statistics in batch norm); returns self."""
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Set every parameter's ``.grad`` to None (default, as PyTorch), or to zeros."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = np.zeros_like(p.data)

    def requires_grad_(self, requires_grad: bool = True) -> Module:
        """Turn gradient recording on or off for every parameter (freezing); returns self."""
        for p in self.parameters():
            p.requires_grad = bool(requires_grad)
        return self

    def apply(self, fn: Any) -> Module:
        """Call ``fn(module)`` on every submodule (children first) and then on self, as
        PyTorch does; the usual way to re-initialise weights. Returns self."""
        for child in list(self.children()):
            child.apply(fn)
        fn(self)
        return self

    def to(self, dtype: Any) -> Module:
        """Convert floating parameters (in place: the same Parameter objects, so optimizers
        keep them), their gradients and floating buffers to ``dtype``; returns self."""
        dtype = np.dtype(dtype)
        if dtype.kind != "f":
            raise TypeError(f"Module.to(dtype): dtype must be a floating type, got {dtype}.")
        for p in self.parameters():
            p.data = p.data.astype(dtype, copy=False)
            if p.grad is not None:
                p.grad = p.grad.astype(dtype, copy=False)
        for module in self.modules():
            for name in module._buffer_names:
                b = module.__dict__[name]
                if b is not None and b.dtype.kind == "f":
                    module.__dict__[name] = b.astype(dtype, copy=False)
        return self

    def float(self) -> Module:
        return self.to(np.float32)

    def double(self) -> Module:
        return self.to(np.float64)

    # --- state ------------------------------------------------------------------------------
    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed by dotted name (PyTorch's keys)."""
        out: dict[str, np.ndarray] = {}
        for mname, module in self.named_modules():
            for pname in module._param_names:
                p = module.__dict__[pname]
                if p is not None:
                    out[f"{mname}.{pname}" if mname else pname] = p.data.copy()
            for bname in module._buffer_names:
                b = module.__dict__[bname]
                if b is not None:
                    out[f"{mname}.{bname}" if mname else bname] = b.copy()
        return out

    def load_state_dict(self, state_dict: dict[str, Any], strict: bool = True) -> IncompatibleKeys:
        """Copy values into the parameters and buffers (keeping their dtypes and objects).

        Accepts ndarrays, Tensors or torch tensors. With ``strict``, missing or unexpected
        keys raise a ``KeyError`` listing them; a shape mismatch always raises ``ValueError``.
        """
        targets: dict[str, tuple[Module, str, bool]] = {}
        for mname, module in self.named_modules():
            for pname in module._param_names:
                if module.__dict__[pname] is not None:
                    targets[f"{mname}.{pname}" if mname else pname] = (module, pname, True)
            for bname in module._buffer_names:
                if module.__dict__[bname] is not None:
                    targets[f"{mname}.{bname}" if mname else bname] = (module, bname, False)
        missing = [k for k in targets if k not in state_dict]
        unexpected = [k for k in state_dict if k not in targets]
        if strict and (missing or unexpected):
            raise KeyError(
                f"load_state_dict: missing keys {missing}, unexpected keys {unexpected}; pass "
                "strict=False to load the matching ones only."
            )
        for key, (module, name, is_param) in targets.items():
            if key not in state_dict:
                continue
            value = _to_numpy(state_dict[key])
            current = module.__dict__[name]
            target = current.data if is_param else current
            if value.shape != target.shape:
                raise ValueError(
                    f"load_state_dict: {key!r} has shape {value.shape} in the state dict but "
                    f"{target.shape} in the module."
                )
            np.copyto(target, value, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # --- qed.save / qed.load ---------------------------------------------------------------
    def __qed_state__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        # the archive may store a 0-d buffer (num_batches_tracked) as 1-d: keep the shapes
        state["__buffer_shapes__"] = {
            name: tuple(self.__dict__[name].shape)
            for name in self._buffer_names
            if self.__dict__[name] is not None
        }
        return state

    @classmethod
    def __qed_restore__(cls, state: dict[str, Any]) -> Module:
        state = dict(state)
        shapes = state.pop("__buffer_shapes__", {})
        obj = cls.__new__(cls)
        obj.__dict__.update(state)
        for name, shape in shapes.items():
            obj.__dict__[name] = np.asarray(obj.__dict__[name]).reshape(shape)
        return obj

    # --- calling ----------------------------------------------------------------------------
    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward().")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        children = [(n, self.__dict__[n]) for n in self._module_names]
        if not children:
            return lines[0] + ")"
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        return "\n".join(lines) + "\n)"


class Sequential(Module):
    """Modules applied in order: ``Sequential(a, b, c)(x) = c(b(a(x)))``; indexable.

    Submodules are named ``"0"``, ``"1"``, … as in PyTorch.
    """

    def __init__(self, *modules: Module) -> None:
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(
                    f"Sequential: argument {i} is a {type(module).__name__}, not a Module."
                )
            setattr(self, str(i), module)

    def _layers(self) -> list[Module]:
        d = self.__dict__
        return [d[name] for name in self._module_names]

    def forward(self, x: Any) -> Any:
        d = self.__dict__
        for name in self._module_names:
            x = d[name](x)
        return x

    def __getitem__(self, index: int | slice) -> Any:
        layers = self._layers()
        if isinstance(index, slice):
            return Sequential(*layers[index])
        return layers[index]

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._layers())

    def append(self, module: Module) -> Sequential:
        setattr(self, str(len(self)), module)
        return self
