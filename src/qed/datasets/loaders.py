"""Loaders of the bundled real data sets (gzip CSV with a header row, target last)."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import numpy as np

__all__ = ["Bunch", "load_iris", "load_breast_cancer", "load_diabetes", "load_digits"]


class Bunch(dict):
    """A dict whose keys are also attributes: ``data``, ``target``, ``feature_names`` …"""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError as exc:
            raise AttributeError(key) from exc

    def __dir__(self) -> list[str]:
        return list(self.keys())


@cache
def _read(name: str) -> tuple[tuple[str, ...], np.ndarray]:
    path = resources.files("qed.datasets").joinpath("data", f"{name}.csv.gz")
    with resources.as_file(path) as file:
        import gzip

        with gzip.open(file, "rt") as fh:
            header = tuple(fh.readline().strip().split(","))
            table = np.loadtxt(fh, delimiter=",", dtype=np.float64)
    table.setflags(write=False)
    return header, table


def _load(
    name: str,
    target_names: list[str] | None,
    return_X_y: bool,
    as_frame: bool,
    target_dtype: Any = np.int64,
    transform: Any = None,
) -> Any:
    header, table = _read(name)
    X = np.array(table[:, :-1])
    y = table[:, -1].astype(target_dtype)
    if transform is not None:
        X = transform(X)
    feature_names = np.array(header[:-1], dtype=object)
    if as_frame:
        import pandas as pd

        X = pd.DataFrame(X, columns=list(feature_names))
        y = pd.Series(y, name="target")
    if return_X_y:
        return X, y
    bunch = Bunch(data=X, target=y, feature_names=feature_names, name=name)
    if target_names is not None:
        bunch["target_names"] = np.array(target_names, dtype=object)
    return bunch


def load_iris(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Fisher's iris: 150 samples × 4 features (cm), 3 classes (setosa, versicolor, virginica).

    Returns a ``Bunch`` (data of shape (150, 4), target of shape (150,), feature_names,
    target_names) or ``(X, y)`` with ``return_X_y=True``; pandas objects with ``as_frame``.
    """
    return _load("iris", ["setosa", "versicolor", "virginica"], return_X_y, as_frame)


def load_breast_cancer(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Wisconsin diagnostic breast cancer: 569 × 30, binary (0 = malignant, 1 = benign)."""
    return _load("breast_cancer", ["malignant", "benign"], return_X_y, as_frame)


def _scale_diabetes(X: np.ndarray) -> np.ndarray:
    # scikit-learn's convention: each column centred and scaled to unit Euclidean norm
    Xc = X - X.mean(axis=0)
    return Xc / (Xc.std(axis=0) * np.sqrt(X.shape[0]))


def load_diabetes(*, return_X_y: bool = False, as_frame: bool = False, scaled: bool = True) -> Any:
    """Diabetes progression (Efron et al. 2004): 442 × 10, a continuous target.

    With ``scaled=True`` (default, as scikit-learn) each feature is centred and scaled to
    unit norm; ``scaled=False`` gives the raw measurements.
    """
    return _load(
        "diabetes",
        None,
        return_X_y,
        as_frame,
        target_dtype=np.float64,
        transform=_scale_diabetes if scaled else None,
    )


def load_digits(*, return_X_y: bool = False, as_frame: bool = False) -> Any:
    """Handwritten digits: 1,797 images of 8 × 8 pixels (values 0–16), 10 classes."""
    bunch = _load("digits", [str(d) for d in range(10)], return_X_y, as_frame)
    if not return_X_y and not as_frame:
        bunch["images"] = bunch.data.reshape(-1, 8, 8)
    return bunch
