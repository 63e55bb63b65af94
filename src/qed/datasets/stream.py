"""Streaming a CSV in chunks, for ``partial_fit`` on data that never fits in memory."""

from __future__ import annotations

import numbers
import os
from collections.abc import Iterator
from typing import Any

import numpy as np

from qed._validation import check_array, check_scalar

__all__ = ["iter_csv"]


def iter_csv(
    path: str | os.PathLike,
    chunksize: int = 100_000,
    *,
    target: str | None = None,
    columns: list[str] | None = None,
    dtype: Any = np.float64,
) -> Iterator[Any]:
    """Yield a CSV file as numeric chunks of at most ``chunksize`` rows.

    Parameters
    ----------
    path : path of a CSV file with a header row (compressed files are read by pandas).
    chunksize : rows per chunk.
    target : name of the target column; when given, yields ``(X, y)`` with X of shape
        (rows, n_features) and y of shape (rows,), else X alone.
    columns : feature columns to keep (default: every column but the target).

    Every chunk is validated (numeric, finite); an error names the rows of the chunk.
    """
    try:
        import pandas as pd
    except ImportError as exc:  # pragma: no cover - pandas comes with the cli/test extras
        raise ImportError("iter_csv needs pandas: pip install 'qed[cli]'") from exc
    check_scalar(chunksize, "chunksize", target_type=numbers.Integral, min_val=1)
    if not os.path.exists(path):
        raise FileNotFoundError(f"no such CSV file: {os.fspath(path)!r}")
    header = list(pd.read_csv(path, nrows=0).columns)
    if target is not None and target not in header:
        raise ValueError(
            f"target column {target!r} is not in {os.fspath(path)!r}; it has {header}."
        )
    features = columns if columns is not None else [c for c in header if c != target]
    missing = [c for c in features if c not in header]
    if missing:
        raise ValueError(f"columns {missing} are not in {os.fspath(path)!r}; it has {header}.")
    start = 0
    for frame in pd.read_csv(path, chunksize=chunksize):
        rows = f"{os.path.basename(os.fspath(path))} rows {start}–{start + len(frame) - 1}"
        X = check_array(frame[features], input_name=f"X ({rows})", dtype=dtype)
        start += len(frame)
        if target is None:
            yield X
        else:
            y = check_array(
                frame[target].to_numpy(), input_name=f"y ({rows})", ensure_2d=False, dtype=None
            )
            yield X, y
