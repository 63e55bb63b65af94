"""Timing shared by the benchmark scripts: the best of several runs (noise only ever adds)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best_time(fn: Callable[[], Any], repeats: int) -> float:
    """The smallest wall-clock time of ``repeats`` calls of ``fn``, in seconds."""
    return best_time_and_result(fn, repeats)[0]


def best_time_and_result(fn: Callable[[], Any], repeats: int) -> tuple[float, Any]:
    """``(best time, last result)`` of ``repeats`` calls of ``fn``."""
    best, out = float("inf"), None
    for _ in range(repeats):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out
