"""``ModuleList``: a list of submodules, registered so that their parameters are found.

Like PyTorch's, it has no ``forward``: the owning module iterates over it. Submodules are
named ``"0"``, ``"1"``, … so that ``state_dict`` keys match PyTorch's.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

from qed.nn.module import Module

__all__ = ["ModuleList"]


def _check(module: Any, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"ModuleList.{where}: expected a Module, got {type(module).__name__}.")
    return module


class ModuleList(Module):
    """Holds submodules in a list: indexable, iterable, ``append``/``extend``/``insert``."""

    def __init__(self, modules: Iterable[Module] | None = None) -> None:
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _items(self) -> list[Module]:
        return [self.__dict__[name] for name in self._module_names]

    def _reset(self, items: list[Module]) -> None:
        for name in list(self._module_names):
            self._forget(name)
            del self.__dict__[name]
        for i, module in enumerate(items):
            setattr(self, str(i), module)

    def __len__(self) -> int:
        return len(self._module_names)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._items())

    def __getitem__(self, index: int | slice) -> Any:
        items = self._items()
        if isinstance(index, slice):
            return ModuleList(items[index])
        return items[index]

    def __setitem__(self, index: int, module: Module) -> None:
        items = self._items()
        items[index] = _check(module, "__setitem__")
        self._reset(items)

    def __delitem__(self, index: int | slice) -> None:
        items = self._items()
        del items[index]
        self._reset(items)

    def append(self, module: Module) -> ModuleList:
        setattr(self, str(len(self)), _check(module, "append"))
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        for module in modules:
            self.append(module)
        return self

    def insert(self, index: int, module: Module) -> None:
        items = self._items()
        items.insert(index, _check(module, "insert"))
        self._reset(items)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(
            "ModuleList has no forward(): iterate over it in the owning module's forward."
        )
