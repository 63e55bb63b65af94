"""The atoms of a ``.qed`` tree (package-private; see ``qed.persist``): numpy scalars, dtypes,
scalar types, slices and object arrays, each as a small tagged JSON node.

Object arrays (``OneHotEncoder.categories_``, ``feature_names_in_``, ``SimpleImputer``'s
most frequent strings) are written element by element — ``None``, numbers and strings only —
so that no array is ever pickled. Decoding accepts exactly what encoding writes and raises
``ValueError`` for anything else.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

# numpy scalars and scalar types a file may hold: numbers, booleans, strings, dates
SCALAR_KINDS = frozenset("biufcSUmM")
# a dtype *value* may also be object (SimpleImputer keeps its fitted dtype); an object *array*
# never travels as .npy
DTYPE_KINDS = SCALAR_KINDS | {"O"}
PY_TYPES = {"bool": bool, "int": int, "float": float, "complex": complex, "str": str}


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _nonfinite(value: float) -> dict[str, Any]:
    return {"__kind__": "float", "value": repr(value)}


def encode_scalar(value: np.generic) -> dict[str, Any]:
    if value.dtype.kind not in SCALAR_KINDS:
        raise TypeError(f"qed.save cannot store a numpy scalar of dtype {value.dtype}.")
    item = value.item()
    if isinstance(item, float) and not math.isfinite(item):
        item = repr(item)
    elif isinstance(item, bytes):
        item = item.decode("latin-1")
    elif not isinstance(item, (bool, int, float, str)):
        raise TypeError(f"qed.save cannot store a numpy scalar of dtype {value.dtype}.")
    return {"__kind__": "scalar", "dtype": value.dtype.str, "value": item}


def encode_leaf(value: Any) -> Any:
    """One element of an object array: None, a number or a string."""
    if isinstance(value, np.generic):  # first: np.float64 and np.str_ subclass float and str
        return encode_scalar(value)
    if value is None or isinstance(value, (bool, str)) or is_int(value):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else _nonfinite(value)
    raise TypeError(
        f"qed.save cannot store object arrays holding a {type(value).__name__} ({value!r:.60}); "
        "object arrays may hold only None, numbers and strings (anything else needs pickle)."
    )


def encode_objarray(value: np.ndarray) -> dict[str, Any]:
    items = [encode_leaf(v) for v in value.flat]
    return {"__kind__": "objarray", "shape": list(value.shape), "items": items}


def encode_type(value: type) -> dict[str, Any]:
    for name, cls in PY_TYPES.items():
        if value is cls:
            return {"__kind__": "pytype", "name": name}
    if issubclass(value, np.generic):
        dtype = np.dtype(value)
        if dtype.kind in SCALAR_KINDS and dtype.type is value:
            return {"__kind__": "scalartype", "name": dtype.str}
    raise TypeError(
        f"qed.save cannot store the type {value!r}; only numpy scalar types (np.float64, ...) "
        "and bool/int/float/complex/str can be saved as values."
    )


def encode_dtype(value: np.dtype) -> dict[str, Any]:
    if value.kind not in DTYPE_KINDS or value.fields is not None or value.subdtype is not None:
        raise TypeError(f"qed.save cannot store the dtype {value}; only plain dtypes.")
    return {"__kind__": "dtype", "name": value.str}


def encode_slice(value: slice) -> dict[str, Any]:
    parts = (value.start, value.stop, value.step)
    if not all(p is None or isinstance(p, (int, np.integer)) for p in parts):
        raise TypeError(f"qed.save cannot store {value!r}: only slices of integers.")
    start, stop, step = (None if p is None else int(p) for p in parts)
    return {"__kind__": "slice", "start": start, "stop": stop, "step": step}


def check_dtype(name: Any, kinds: frozenset[str]) -> np.dtype:
    """The dtype called ``name``, if it is a plain one of ``kinds``."""
    if not isinstance(name, str) or len(name) > 32:
        raise ValueError(f"corrupted qed file: bad dtype name {str(name)[:40]!r}")
    dtype = np.dtype(name)
    if dtype.kind not in kinds or dtype.fields is not None or dtype.subdtype is not None:
        raise ValueError(f"qed file names the dtype {dtype}, which it may not hold; refusing.")
    return dtype


def decode_leaf(node: Any) -> Any:
    if node is None or isinstance(node, (bool, int, float, str)):
        return node
    kind = node.get("__kind__") if isinstance(node, dict) else None
    if kind == "float":
        if not isinstance(node["value"], str):
            raise ValueError("corrupted qed file: malformed float")
        return float(node["value"])
    if kind == "scalar":
        dtype = check_dtype(node["dtype"], SCALAR_KINDS)
        value = node["value"]
        if not isinstance(value, (bool, int, float, str)):
            raise ValueError("corrupted qed file: malformed scalar")
        if dtype.kind == "S":
            value = str(value).encode("latin-1")
        elif dtype.kind in "fc" and isinstance(value, str):
            value = float(value)
        return dtype.type(value)
    raise ValueError(f"corrupted qed file: unexpected array element {str(node)[:80]!r}")


def decode_objarray(node: dict[str, Any]) -> np.ndarray:
    items, shape = node["items"], node["shape"]
    if not isinstance(items, list) or not isinstance(shape, list):
        raise ValueError("corrupted qed file: malformed object array")
    if not all(is_int(n) and n >= 0 for n in shape) or math.prod(shape) != len(items):
        raise ValueError("corrupted qed file: object array shape does not match its items")
    out = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):  # one by one: numpy must not read a list as a row
        out[i] = decode_leaf(item)
    return out.reshape(shape)


def decode_type(node: dict[str, Any]) -> type:
    if node["__kind__"] == "scalartype":
        return check_dtype(node["name"], SCALAR_KINDS).type
    cls = PY_TYPES.get(node["name"]) if isinstance(node["name"], str) else None
    if cls is None:
        raise ValueError(f"corrupted qed file: unknown type value {str(node['name'])[:40]!r}")
    return cls


def decode_slice(node: dict[str, Any]) -> slice:
    parts = (node["start"], node["stop"], node["step"])
    if not all(p is None or is_int(p) for p in parts):
        raise ValueError("corrupted qed file: a slice holds non-integers")
    return slice(*parts)
