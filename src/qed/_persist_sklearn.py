"""The scikit-learn classes ``qed.save``/``qed.load`` store (package-private; see ``qed.persist``).

A fixed allow-list: the standard preprocessing that pipelines around qed's estimators need.
A file names one of these by its public path (``"sklearn.preprocessing.StandardScaler"``),
which is looked up in this table; only the table's own modules are ever imported, and only
the exact classes (never a subclass, which could carry code of its own). scikit-learn is
imported lazily, so ``import qed`` does not pay for it.
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> (module to import, attribute): the complete list of sklearn types a file may name
ALLOWED: dict[str, tuple[str, str]] = {
    "sklearn.pipeline.Pipeline": ("sklearn.pipeline", "Pipeline"),
    "sklearn.compose.ColumnTransformer": ("sklearn.compose", "ColumnTransformer"),
    "sklearn.preprocessing.StandardScaler": ("sklearn.preprocessing", "StandardScaler"),
    "sklearn.preprocessing.MinMaxScaler": ("sklearn.preprocessing", "MinMaxScaler"),
    "sklearn.preprocessing.OneHotEncoder": ("sklearn.preprocessing", "OneHotEncoder"),
    # only as ColumnTransformer's fitted "passthrough" (func=None); a function is never stored
    "sklearn.preprocessing.FunctionTransformer": ("sklearn.preprocessing", "FunctionTransformer"),
    "sklearn.impute.SimpleImputer": ("sklearn.impute", "SimpleImputer"),
    # SimpleImputer(add_indicator=True) keeps one
    "sklearn.impute.MissingIndicator": ("sklearn.impute", "MissingIndicator"),
}
_BY_ATTR = {attr: name for name, (_, attr) in ALLOWED.items()}


def resolve(name: Any) -> type | None:
    """The allow-listed class called ``name``, or None; imports only modules of the table
    (``ValueError`` when scikit-learn is not installed)."""
    entry = ALLOWED.get(name) if isinstance(name, str) else None
    if entry is None:
        return None
    module, attr = entry
    try:
        return getattr(importlib.import_module(module), attr)
    except ImportError as exc:
        raise ValueError(
            f"this qed file holds a scikit-learn {attr}; install scikit-learn to load it."
        ) from exc


def public_name(obj: Any) -> str | None:
    """The allow-list name of ``obj``'s exact class, or None (cheap for non-sklearn objects)."""
    cls = type(obj)
    if not cls.__module__.startswith("sklearn."):
        return None
    name = _BY_ATTR.get(cls.__name__)
    if name is None or resolve(name) is not cls:
        return None
    return name


def check_saveable(obj: Any, name: str) -> None:
    """Refuse, at save time, the allow-listed objects that hold code (a callable)."""
    if name == "sklearn.compose.ColumnTransformer":
        for entry in list(obj.transformers) + list(getattr(obj, "transformers_", [])):
            columns = entry[2] if isinstance(entry, tuple) and len(entry) == 3 else None
            if callable(columns):
                raise ValueError(
                    f"qed.save cannot store the ColumnTransformer column selector {columns!r} "
                    f"of transformer {entry[0]!r}: it is a callable, and storing code would "
                    "need pickle. Select the columns by name, index, slice or boolean mask "
                    "instead (e.g. the list of names the selector picks)."
                )
    if name == "sklearn.preprocessing.FunctionTransformer":
        for attr in ("func", "inverse_func"):
            if getattr(obj, attr, None) is not None:
                raise ValueError(
                    f"qed.save cannot store a FunctionTransformer with {attr}="
                    f"{getattr(obj, attr)!r}: it holds a function, and storing code would need "
                    "pickle. Only the identity (func=None) can be saved."
                )


def check_loaded(obj: Any, name: str) -> None:
    """Validate a restored sklearn object's constructor parameters with sklearn's own rules
    (``InvalidParameterError`` is a ``ValueError``) and the no-code rule of ``check_saveable``."""
    validate = getattr(obj, "_validate_params", None)
    if callable(validate):
        validate()
    check_saveable(obj, name)
