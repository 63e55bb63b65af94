"""``qed.save`` / ``qed.load``: a safe file format for models, modules, optimizers and pipelines.

A ``.qed`` file is a zip archive holding ``meta.json`` (format name and version, and the
object tree as tagged JSON), one ``.npy`` file per numeric array and a SHA-256 checksum of
both. Loading

- never unpickles: numeric arrays are read with their header checked before any allocation;
  object arrays (strings, ``None``, NaN, mixed) travel element by element as JSON;
- never imports anything named in the file: a type name is looked up in qed's own registry
  (filled by ``@register``, and by importing qed's own subpackages from a fixed list) or in a
  fixed allow-list of scikit-learn's preprocessing classes (``Pipeline``,
  ``ColumnTransformer``, ``StandardScaler``, ``MinMaxScaler``, ``OneHotEncoder``,
  ``SimpleImputer``, and ``FunctionTransformer`` without a function);
- raises ``ValueError`` for everything that is not a well-formed qed archive of this
  version: truncated or corrupted bytes, a checksum mismatch, unknown tags or types,
  malformed values, shapes that do not match the data, nesting deeper than 200 levels.

Writes are atomic: the archive is written to a temporary file in the same folder and moved
over the target with ``os.replace`` only once complete, so a crash mid-write leaves any
previous file intact.

An object is saved through ``__qed_state__()`` (returning any encodable tree) and restored
through the classmethod ``__qed_restore__(state)`` when it defines them; otherwise through
``__getstate__``/``__setstate__`` when its class defines them (scikit-learn's estimators do,
recording ``_sklearn_version``), and otherwise its instance ``__dict__`` is saved and restored.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

import numpy as np
from scipy import sparse

from qed import _persist_archive, _persist_sklearn
from qed import _persist_values as atoms

__all__ = ["save", "load", "register", "registered_types", "FORMAT", "VERSION"]

FORMAT = "qed-archive"
VERSION = 2  # 2: checksum member, object arrays, slices, scalar types, scikit-learn classes
MAX_DEPTH = 200
_REGISTRY: dict[str, type] = {}
# qed's own subpackages that may register types; imported (never a name from a file) on demand.
_SUBPACKAGES = (
    "qed.linear",
    "qed.bayes",
    "qed.classify",
    "qed.autograd",
    "qed.nn",
    "qed.optim",
    "qed.kernels",
    "qed.certificate",
)
_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "MT19937": np.random.MT19937,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


def register(cls: type) -> type:
    """Class decorator: allow ``cls`` to be saved and loaded by ``qed.save``/``qed.load``."""
    _REGISTRY[_type_name(cls)] = cls
    return cls


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_types() -> dict[str, type]:
    """Every qed type that ``qed.load`` may create, importing qed's subpackages first
    (the scikit-learn allow-list is ``qed._persist_sklearn.ALLOWED``)."""
    _import_subpackages()
    return dict(_REGISTRY)


def _import_subpackages() -> None:
    for name in _SUBPACKAGES:
        try:
            importlib.import_module(name)
        except ImportError:  # a subpackage not written yet, or an extra not installed
            continue


def _implicit_estimator(name: str) -> type | None:
    """The already-imported qed BaseEstimator subclass called ``name`` (they are saveable
    implicitly, so a fresh process must be able to load them too); imports nothing."""
    from qed.base import BaseEstimator

    stack = list(BaseEstimator.__subclasses__())
    while stack:
        cls = stack.pop()
        stack.extend(cls.__subclasses__())
        if cls.__module__.startswith("qed.") and _type_name(cls) == name:
            _REGISTRY[name] = cls
            return cls
    return None


def _saved_name(obj: Any) -> str | None:
    """The name ``obj``'s type is saved under, or None when it may not be saved."""
    name = _type_name(type(obj))
    if name in _REGISTRY:
        return name
    from qed.base import BaseEstimator

    # BaseEstimator subclasses inside qed are registered implicitly
    if isinstance(obj, BaseEstimator) and type(obj).__module__.startswith("qed."):
        _REGISTRY[name] = type(obj)
        return name
    return _persist_sklearn.public_name(obj)


def _custom(cls: type, method: str) -> bool:
    """Whether ``cls`` defines ``method`` itself rather than inheriting ``object``'s."""
    return getattr(cls, method, None) is not getattr(object, method, None)


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}
        self.keep: list[Any] = []  # states built by __getstate__ stay alive: ids stay unique
        self.depth = 0

    def encode(self, value: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ValueError(
                    f"qed.save cannot store values nested deeper than {MAX_DEPTH} levels."
                )
            return self._encode(value)
        finally:
            self.depth -= 1

    def _encode(self, value: Any) -> Any:
        if isinstance(value, (np.generic, float)) or value is None:
            return atoms.encode_leaf(value)  # numpy scalars before str: np.str_ is a str
        if isinstance(value, (bool, str)) or atoms.is_int(value):
            return value
        if isinstance(value, np.ndarray):
            return self._array(value)
        if sparse.issparse(value):  # three plain arrays; any other format is stored as CSR
            fmt = "csc" if value.format == "csc" else "csr"
            value = value.asformat(fmt)
            parts = {k: self._array(getattr(value, k)) for k in ("data", "indices", "indptr")}
            return {"__kind__": "sparse", "format": fmt, "shape": list(value.shape), **parts}
        if isinstance(value, np.dtype):
            return atoms.encode_dtype(value)
        if isinstance(value, type):
            return atoms.encode_type(value)
        if isinstance(value, slice):
            return atoms.encode_slice(value)
        if isinstance(value, tuple) and not hasattr(value, "_fields"):
            return {"__kind__": "tuple", "items": [self.encode(v) for v in value]}
        if isinstance(value, list):
            return [self.encode(v) for v in value]
        if isinstance(value, dict):
            return {
                "__kind__": "dict",
                "items": [[self.encode(k), self.encode(v)] for k, v in value.items()],
            }
        if isinstance(value, np.random.Generator):
            bg = value.bit_generator
            return {
                "__kind__": "generator",
                "bit_generator": type(bg).__name__,
                "state": self.encode(bg.state),
            }
        name = _saved_name(value)
        if name is not None:
            return self._object(value, name)
        raise TypeError(
            f"qed.save cannot store a {type(value).__name__} ({value!r:.80}); only numbers, "
            "strings, arrays, lists, dicts, qed objects and scikit-learn's standard "
            "preprocessing can be saved. A custom callable (e.g. a kernel function) cannot be "
            "saved safely: use a named kernel instead."
        )

    def _array(self, value: np.ndarray) -> Any:
        if value.dtype == object:  # element by element as JSON, never a pickled array
            return atoms.encode_objarray(value)
        if value.dtype.kind not in atoms.SCALAR_KINDS or value.dtype.itemsize == 0:
            raise TypeError(
                f"qed.save cannot store arrays of dtype {value.dtype} (object arrays other "
                "than of str/None/numbers, or records); convert to a numeric or string dtype."
            )
        key = f"a{len(self.arrays)}.npy"
        self.arrays[key] = value
        return {"__kind__": "array", "ref": key}

    def _object(self, obj: Any, name: str) -> Any:
        ident = id(obj)
        if ident in self.memo:
            return {"__kind__": "ref", "id": self.memo[ident]}
        if name in _persist_sklearn.ALLOWED:
            _persist_sklearn.check_saveable(obj, name)
        self.memo[ident] = len(self.memo)
        if hasattr(obj, "__qed_state__"):
            state = obj.__qed_state__()
        elif _custom(type(obj), "__getstate__"):
            state = obj.__getstate__()
        else:
            state = dict(vars(obj))
        self.keep.append(state)
        return {
            "__kind__": "object",
            "type": name,
            "id": self.memo[ident],
            "state": self.encode(state),
        }


class _Decoder:
    def __init__(self, archive: _persist_archive.Archive) -> None:
        self.archive = archive
        self.objects: dict[Any, Any] = {}
        self.depth = 0

    def decode(self, node: Any) -> Any:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                raise ValueError(f"corrupted qed file: nested deeper than {MAX_DEPTH} levels")
            return self._decode(node)
        finally:
            self.depth -= 1

    def _decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or "__kind__" not in node:
            raise ValueError(f"corrupted qed file: unexpected node {str(node)[:80]!r}")
        kind = node["__kind__"]
        if kind == "array":
            return self.archive.array(node["ref"])
        if kind == "objarray":
            return atoms.decode_objarray(node)
        if kind == "sparse":
            return self._sparse(node)
        if kind in ("float", "scalar"):
            return atoms.decode_leaf(node)
        if kind == "dtype":
            return atoms.check_dtype(node["name"], atoms.DTYPE_KINDS)
        if kind in ("scalartype", "pytype"):
            return atoms.decode_type(node)
        if kind == "slice":
            return atoms.decode_slice(node)
        if kind == "tuple":
            items = node["items"]
            if not isinstance(items, list):
                raise ValueError("corrupted qed file: malformed tuple")
            return tuple(self.decode(v) for v in items)
        if kind == "dict":
            return {self._key(self.decode(k)): self.decode(v) for k, v in node["items"]}
        if kind == "generator":
            cls = _BIT_GENERATORS.get(node["bit_generator"])
            if cls is None:
                raise ValueError(f"unknown bit generator {node['bit_generator']!r} in qed file")
            bg = cls()
            bg.state = self.decode(node["state"])
            return np.random.Generator(bg)
        if kind == "ref":
            if node["id"] not in self.objects:
                raise ValueError("corrupted qed file: reference to an object not yet defined")
            return self.objects[node["id"]]
        if kind == "object":
            return self._object(node)
        raise ValueError(f"corrupted qed file: unknown tag {str(kind)[:40]!r}")

    def _sparse(self, node: dict[str, Any]) -> Any:
        """A CSR/CSC matrix from its three arrays, its structure checked before use."""
        cls = {"csr": sparse.csr_matrix, "csc": sparse.csc_matrix}.get(node.get("format"))
        shape = node.get("shape")
        if cls is None or not (isinstance(shape, list) and len(shape) == 2):
            raise ValueError("corrupted qed file: malformed sparse matrix")
        parts = [self.archive.array(node[k]["ref"]) for k in ("data", "indices", "indptr")]
        try:
            out = cls(tuple(parts), shape=tuple(int(v) for v in shape))
            out.check_format(full_check=True)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"corrupted qed file: invalid sparse matrix ({exc})") from exc
        return out

    @staticmethod
    def _key(key: Any) -> Any:
        return tuple(key) if isinstance(key, list) else key

    def _object(self, node: dict) -> Any:
        name = node["type"]
        if not isinstance(name, str):
            raise ValueError("corrupted qed file: a type name is not a string")
        cls = _REGISTRY.get(name) or _persist_sklearn.resolve(name)
        if cls is None and not name.startswith("sklearn."):
            _import_subpackages()
            cls = _REGISTRY.get(name) or _implicit_estimator(name)
        if cls is None:
            raise ValueError(
                f"qed file names the type {name[:80]!r}, which is neither a registered qed type "
                "nor on qed's scikit-learn allow-list; refusing to create it (qed.load only "
                "builds qed's own models and scikit-learn's standard preprocessing)."
            )
        ident = node["id"]
        try:
            if hasattr(cls, "__qed_restore__"):
                obj = cls.__qed_restore__(self.decode(node["state"]))
                self.objects[ident] = obj
                return obj
            obj = cls.__new__(cls)
            self.objects[ident] = obj  # before decoding the state, so that cycles resolve
            state = self.decode(node["state"])
            if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
                raise ValueError(f"corrupted qed file: state of {name} is not a mapping")
            if _custom(cls, "__setstate__"):
                obj.__setstate__(state)
            else:
                obj.__dict__.update(state)
            if name in _persist_sklearn.ALLOWED:
                _persist_sklearn.check_loaded(obj, name)
            return obj
        except ValueError:
            raise
        except Exception as exc:  # a class's own restore code met a state it cannot take
            raise ValueError(
                f"corrupted qed file: the saved state of {name} cannot be restored "
                f"({type(exc).__name__}: {exc})"
            ) from exc


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a qed estimator, module, optimizer, a scikit-learn pipeline of them, or a tree of
    these to ``path``, atomically.

    Raises ``TypeError`` for values that cannot be stored without pickle, and ``ValueError``
    for scikit-learn objects that hold a function (a callable column selector, a
    ``FunctionTransformer`` with ``func``).
    """
    encoder = _Encoder()
    tree = encoder.encode(obj)
    meta = {"format": FORMAT, "version": VERSION, "root": tree}
    _persist_archive.write(os.fspath(path), meta, encoder.arrays)


def load(path: str | os.PathLike) -> Any:
    """Load what ``qed.save`` wrote. Never unpickles and never imports a name from the file.

    Raises ``ValueError`` for anything that is not a well-formed qed archive of this version.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such qed file: {path!r}")
    with _persist_archive.Archive(path) as archive:
        meta = archive.meta
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            found = meta.get("format") if isinstance(meta, dict) else None
            raise ValueError(f"{path!r} is not a qed archive (format {str(found)[:40]!r}).")
        if meta.get("version") != VERSION:
            raise ValueError(
                f"{path!r} has qed format version {str(meta.get('version'))[:20]!r}, but this "
                f"qed reads version {VERSION}; save it again with this version of qed."
            )
        try:
            return _Decoder(archive).decode(meta.get("root"))
        except ValueError as exc:
            raise ValueError(f"cannot load {path!r}: {exc}") from exc
        except (
            KeyError,
            TypeError,
            AttributeError,
            IndexError,
            OverflowError,
            RecursionError,
            MemoryError,
            UnicodeError,
        ) as exc:
            raise ValueError(f"{path!r} is corrupted ({type(exc).__name__}: {exc}).") from exc
