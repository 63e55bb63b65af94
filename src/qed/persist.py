"""``qed.save`` / ``qed.load``: a safe file format for models, modules and optimizers.

A ``.qed`` file is a zip archive holding ``meta.json`` (format name and version, and the
object tree as tagged JSON) and one ``.npy`` file per array. Loading

- never unpickles (arrays are read with ``allow_pickle=False``; object arrays are refused),
- never imports anything named in the file: a type name is looked up in qed's own registry
  (filled by ``@register``, and by importing qed's own subpackages from a fixed list),
- refuses unknown format versions, truncated or corrupted archives and unknown tags with a
  ``ValueError``.

Writes are atomic: the archive is written to a temporary file in the same folder and moved
over the target with ``os.replace`` only once complete, so a crash mid-write leaves any
previous file intact.

An object is saved through ``__qed_state__()`` (returning any encodable tree) and restored
through the classmethod ``__qed_restore__(state)`` when it defines them; otherwise its
instance ``__dict__`` is saved and restored as is.
"""

from __future__ import annotations

import importlib
import io
import json
import os
import tempfile
import zipfile
from typing import Any

import numpy as np

__all__ = ["save", "load", "register", "registered_types", "FORMAT", "VERSION"]

FORMAT = "qed-archive"
VERSION = 1
_MAX_MEMBERS = 100_000
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


def register(cls: type) -> type:
    """Class decorator: allow ``cls`` to be saved and loaded by ``qed.save``/``qed.load``."""
    _REGISTRY[_type_name(cls)] = cls
    return cls


def _type_name(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_types() -> dict[str, type]:
    """Every type that ``qed.load`` may create, importing qed's subpackages first."""
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


def _is_registered(obj: Any) -> bool:
    name = _type_name(type(obj))
    if name in _REGISTRY:
        return True
    # BaseEstimator subclasses inside qed are registered implicitly
    from qed.base import BaseEstimator

    if isinstance(obj, BaseEstimator) and type(obj).__module__.startswith("qed."):
        _REGISTRY[name] = type(obj)
        return True
    return False


class _Encoder:
    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}
        self.memo: dict[int, int] = {}

    def encode(self, value: Any) -> Any:
        if value is None or isinstance(value, (bool, str)):
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float):
            return value if np.isfinite(value) else {"__kind__": "float", "value": repr(value)}
        if isinstance(value, np.ndarray):
            if value.dtype.hasobject and all(isinstance(v, str) for v in value.flat):
                # e.g. feature_names_in_: strings travel as JSON, never as a pickled array
                return {
                    "__kind__": "strarray",
                    "shape": list(value.shape),
                    "items": [str(v) for v in value.flat],
                }
            if value.dtype.hasobject:
                raise TypeError(
                    "qed.save cannot store object arrays other than arrays of str (they would "
                    "need pickle); convert to a numeric or string dtype first."
                )
            key = f"a{len(self.arrays)}.npy"
            self.arrays[key] = value
            return {"__kind__": "array", "ref": key}
        if isinstance(value, np.generic):
            return {
                "__kind__": "scalar",
                "dtype": value.dtype.str,
                "value": value.item()
                if np.isfinite(value) or value.dtype.kind not in "fc"
                else repr(value.item()),
            }
        if isinstance(value, np.dtype):
            return {"__kind__": "dtype", "name": value.str}
        if isinstance(value, type) and issubclass(value, np.generic):
            return {"__kind__": "dtype", "name": np.dtype(value).str}
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
        if _is_registered(value):
            return self._encode_object(value)
        raise TypeError(
            f"qed.save cannot store a {type(value).__name__} ({value!r:.80}); only numbers, "
            "strings, arrays, lists, dicts and qed objects can be saved. A custom callable "
            "(e.g. a kernel function) cannot be saved safely: use a named kernel instead."
        )

    def _encode_object(self, obj: Any) -> Any:
        ident = id(obj)
        if ident in self.memo:
            return {"__kind__": "ref", "id": self.memo[ident]}
        self.memo[ident] = len(self.memo)
        state = obj.__qed_state__() if hasattr(obj, "__qed_state__") else dict(vars(obj))
        return {
            "__kind__": "object",
            "type": _type_name(type(obj)),
            "id": self.memo[ident],
            "state": self.encode(state),
        }


_BIT_GENERATORS = {
    "PCG64": np.random.PCG64,
    "MT19937": np.random.MT19937,
    "PCG64DXSM": np.random.PCG64DXSM,
    "Philox": np.random.Philox,
    "SFC64": np.random.SFC64,
}


class _Decoder:
    def __init__(self, archive: zipfile.ZipFile, names: set[str]) -> None:
        self.archive = archive
        self.names = names
        self.objects: dict[int, Any] = {}

    def decode(self, node: Any) -> Any:
        if node is None or isinstance(node, (bool, int, float, str)):
            return node
        if isinstance(node, list):
            return [self.decode(v) for v in node]
        if not isinstance(node, dict) or "__kind__" not in node:
            raise ValueError(f"corrupted qed file: unexpected node {str(node)[:80]!r}")
        kind = node["__kind__"]
        if kind == "float":
            return float(node["value"])
        if kind == "array":
            return self._array(node["ref"])
        if kind == "strarray":
            items = node["items"]
            if not all(isinstance(v, str) for v in items):
                raise ValueError("corrupted qed file: a string array holds non-strings")
            out = np.empty(len(items), dtype=object)
            out[:] = items
            return out.reshape(node["shape"])
        if kind == "scalar":
            dtype = np.dtype(node["dtype"])
            if dtype.hasobject:
                raise ValueError("qed file holds an object scalar; refusing to load it.")
            value = node["value"]
            return dtype.type(float(value) if isinstance(value, str) else value)
        if kind == "dtype":
            dtype = np.dtype(node["name"])
            if dtype.hasobject:
                raise ValueError("qed file names an object dtype; refusing to load it.")
            return dtype
        if kind == "tuple":
            return tuple(self.decode(v) for v in node["items"])
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
        raise ValueError(f"corrupted qed file: unknown tag {kind!r}")

    @staticmethod
    def _key(key: Any) -> Any:
        return tuple(key) if isinstance(key, list) else key

    def _array(self, ref: str) -> np.ndarray:
        if ref not in self.names:
            raise ValueError(f"corrupted qed file: array {ref!r} is missing")
        with self.archive.open(ref) as fh:
            data = io.BytesIO(fh.read())
        try:
            return np.load(data, allow_pickle=False)
        except ValueError as exc:
            raise ValueError(
                f"qed file array {ref!r} is not a plain numeric array ({exc}); refusing to load."
            ) from exc

    def _object(self, node: dict) -> Any:
        name = node.get("type")
        cls = _REGISTRY.get(name)
        if cls is None:
            _import_subpackages()
            cls = _REGISTRY.get(name) or _implicit_estimator(name)
        if cls is None:
            raise ValueError(
                f"qed file names the type {name!r}, which is not a registered qed type; "
                "refusing to create it (qed.load only builds qed's own models)."
            )
        ident = node.get("id")
        if hasattr(cls, "__qed_restore__"):
            obj = cls.__qed_restore__(self.decode(node["state"]))
            self.objects[ident] = obj
            return obj
        obj = cls.__new__(cls)
        self.objects[ident] = obj  # before decoding the state, so that cycles resolve
        state = self.decode(node["state"])
        if not isinstance(state, dict):
            raise ValueError(f"corrupted qed file: state of {name} is not a mapping")
        obj.__dict__.update(state)
        return obj


def save(obj: Any, path: str | os.PathLike) -> None:
    """Save a qed estimator, module, optimizer or a tree of them to ``path``, atomically.

    Raises ``TypeError`` for values that cannot be stored without pickle.
    """
    encoder = _Encoder()
    tree = encoder.encode(obj)
    meta = {"format": FORMAT, "version": VERSION, "root": tree}
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix=".qed-", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as raw, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr("meta.json", json.dumps(meta, allow_nan=False))
            for key, array in encoder.arrays.items():
                buf = io.BytesIO()
                np.save(buf, array, allow_pickle=False)
                zf.writestr(key, buf.getvalue())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def load(path: str | os.PathLike) -> Any:
    """Load what ``qed.save`` wrote. Never unpickles and never imports a name from the file.

    Raises ``ValueError`` for anything that is not a well-formed qed archive of this version.
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such qed file: {path!r}")
    try:
        archive = zipfile.ZipFile(path, "r")
    except (zipfile.BadZipFile, OSError) as exc:
        raise ValueError(
            f"{path!r} is not a qed file (not a zip archive: {exc}); qed.load reads only files "
            "written by qed.save."
        ) from exc
    with archive:
        infos = archive.infolist()
        if len(infos) > _MAX_MEMBERS:
            raise ValueError(f"{path!r} has {len(infos)} members; not a qed file.")
        names = {i.filename for i in infos}
        if "meta.json" not in names:
            raise ValueError(f"{path!r} has no meta.json; it was not written by qed.save.")
        try:
            bad = archive.testzip()
            meta = json.loads(archive.read("meta.json").decode("utf-8"))
        except (
            zipfile.BadZipFile,
            OSError,
            EOFError,
            UnicodeDecodeError,
            json.JSONDecodeError,
        ) as exc:
            raise ValueError(f"{path!r} is truncated or corrupted ({exc}).") from exc
        if bad is not None:
            raise ValueError(f"{path!r} is corrupted (bad CRC in {bad!r}).")
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise ValueError(f"{path!r} is not a qed archive (format {meta.get('format')!r}).")
        if meta.get("version") != VERSION:
            raise ValueError(
                f"{path!r} has qed format version {meta.get('version')!r}, but this qed reads "
                f"version {VERSION}; save it again with this version of qed."
            )
        try:
            return _Decoder(archive, names).decode(meta.get("root"))
        except (KeyError, TypeError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise ValueError(f"{path!r} is corrupted ({type(exc).__name__}: {exc}).") from exc
