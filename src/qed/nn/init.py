"""``qed.nn.init``: Xavier (Glorot) and He (Kaiming) initialisation, in place.

The notes' derivation: for z = Σᵢ wᵢxᵢ over D_in inputs with i.i.d. zero-mean weights of
variance σ² independent of x, Var(z) = D_in·σ²·S where S = E[x²].

- Xavier keeps E[z²] = E[x²]: σ² = 1/D_in (``mode="fan_in"``). Glorot and PyTorch average
  the forward and backward conditions: σ² = 2/(fan_in + fan_out) (``mode="fan_avg"``, the
  default for Xavier).
- He keeps E[h²] = E[z²] through h = ReLU(z), which halves the second moment:
  σ² = 2/fan_in (``mode="fan_in"``, the default for He, as PyTorch's ``kaiming_*``).

A normal initialiser draws w ~ N(0, (gain·σ)²); a uniform one draws w ~ U(−b, b) with
b = √3·gain·σ, because Var U(−b, b) = b²/3.

Fans follow PyTorch: a weight of shape (fan_out, fan_in, *k) has fan_in = in·Πk and
fan_out = out·Πk. Each function fills ``tensor`` (a Tensor/Parameter or an ndarray) in place,
keeps its dtype, draws from ``rng`` (anything ``check_random_state`` accepts) and returns it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qed._validation import check_random_state
from qed.autograd.tensor import Tensor

__all__ = [
    "calculate_fans",
    "init_std",
    "xavier_normal_",
    "xavier_uniform_",
    "he_normal_",
    "he_uniform_",
    "kaiming_normal_",
    "kaiming_uniform_",
    "zeros_",
    "ones_",
    "uniform_",
    "normal_",
]

_MODES = ("fan_in", "fan_out", "fan_avg")


def _array(tensor: Any) -> np.ndarray:
    arr = tensor.data if isinstance(tensor, Tensor) else tensor
    if not isinstance(arr, np.ndarray) or arr.dtype.kind != "f":
        raise TypeError(
            "init: expected a Tensor or a floating ndarray to fill in place, got "
            f"{type(tensor).__name__}."
        )
    return arr


def calculate_fans(shape: tuple[int, ...]) -> tuple[int, int]:
    """(fan_in, fan_out) of a weight of shape (out, in, *kernel), as PyTorch computes them."""
    if len(shape) < 2:
        raise ValueError(
            f"fans need a weight with at least 2 dimensions (out_features, in_features), got "
            f"shape {tuple(shape)}; a bias is usually initialised with zeros_."
        )
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def init_std(shape: tuple[int, ...], scheme: str, mode: str, gain: float = 1.0) -> float:
    """σ of ``scheme`` ("xavier" or "he") for a weight of ``shape`` under ``mode``.

    xavier: σ² = 1/fan (fan_in or fan_out) or 2/(fan_in + fan_out) (fan_avg);
    he: σ² = 2/fan, with fan_avg meaning (fan_in + fan_out)/2. Times gain².
    """
    if mode not in _MODES:
        raise ValueError(f"mode must be one of {_MODES}, got {mode!r}.")
    if not (isinstance(gain, (int, float, np.floating)) and gain > 0 and math.isfinite(gain)):
        raise ValueError(f"gain must be a positive finite number, got {gain!r}.")
    fan_in, fan_out = calculate_fans(shape)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[mode]
    if fan == 0:
        raise ValueError(f"cannot initialise a weight with a zero fan (shape {tuple(shape)}).")
    numerator = {"xavier": 1.0, "he": 2.0}[scheme]
    return gain * math.sqrt(numerator / fan)


def _fill_normal(tensor: Any, std: float, rng: Any) -> Any:
    arr = _array(tensor)
    gen = check_random_state(rng)
    arr[...] = gen.normal(0.0, std, size=arr.shape)
    return tensor


def _fill_uniform(tensor: Any, bound: float, rng: Any) -> Any:
    arr = _array(tensor)
    gen = check_random_state(rng)
    values = gen.uniform(-bound, bound, size=arr.shape)
    # rounding to float32 may land on ±bound itself; keep the draw inside [−b, b]
    arr[...] = np.clip(values, -bound, bound)
    return tensor


def xavier_normal_(
    tensor: Any, gain: float = 1.0, *, mode: str = "fan_avg", rng: Any = None
) -> Any:
    """w ~ N(0, gain²·σ²), σ² = 2/(fan_in + fan_out) (fan_avg) or the notes' 1/D_in (fan_in)."""
    return _fill_normal(tensor, init_std(_array(tensor).shape, "xavier", mode, gain), rng)


def xavier_uniform_(
    tensor: Any, gain: float = 1.0, *, mode: str = "fan_avg", rng: Any = None
) -> Any:
    """w ~ U(−√3·gain·σ, √3·gain·σ) with Xavier's σ (see ``xavier_normal_``)."""
    std = init_std(_array(tensor).shape, "xavier", mode, gain)
    return _fill_uniform(tensor, math.sqrt(3.0) * std, rng)


def he_normal_(tensor: Any, gain: float = 1.0, *, mode: str = "fan_in", rng: Any = None) -> Any:
    """w ~ N(0, gain²·2/fan_in): keeps the second moment through a ReLU (the notes)."""
    return _fill_normal(tensor, init_std(_array(tensor).shape, "he", mode, gain), rng)


def he_uniform_(tensor: Any, gain: float = 1.0, *, mode: str = "fan_in", rng: Any = None) -> Any:
    """w ~ U(−√3·gain·σ, √3·gain·σ) with He's σ² = 2/fan_in."""
    std = init_std(_array(tensor).shape, "he", mode, gain)
    return _fill_uniform(tensor, math.sqrt(3.0) * std, rng)


kaiming_normal_ = he_normal_
kaiming_uniform_ = he_uniform_


def zeros_(tensor: Any) -> Any:
    _array(tensor)[...] = 0
    return tensor


def ones_(tensor: Any) -> Any:
    _array(tensor)[...] = 1
    return tensor


def uniform_(tensor: Any, a: float = 0.0, b: float = 1.0, *, rng: Any = None) -> Any:
    """w ~ U(a, b)."""
    arr = _array(tensor)
    arr[...] = check_random_state(rng).uniform(a, b, size=arr.shape)
    return tensor


def normal_(tensor: Any, mean: float = 0.0, std: float = 1.0, *, rng: Any = None) -> Any:
    """w ~ N(mean, std²)."""
    arr = _array(tensor)
    arr[...] = check_random_state(rng).normal(mean, std, size=arr.shape)
    return tensor
