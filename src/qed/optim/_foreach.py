"""Adam over many parameters in one compiled call (torch's ``foreach``), for small arrays.

A step of ``Adam`` on a network of small layers is mostly the price of calling: each array's
fused update (``_fused.adam_``) costs ~12 µs of Python and dispatch before any arithmetic,
so 10 arrays of a 784-256-128-10 MLP took 220 µs a step where their arithmetic takes ~100.
Here the arrays go to ``_adam_serial`` in tuples of ``GROUP`` (a shorter last tuple is padded
with empty arrays): numba compiles one signature per dtype, whatever the number of
parameters, and a call costs ~3 µs. The arithmetic is ``_adam_serial``'s, so the bits are
those of the per-array update.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed.optim._fused import _adam_serial, adam_scalars

__all__ = ["GROUP", "adam_foreach", "adam_batch"]

GROUP = 8  # arrays per compiled call


@njit(cache=True, error_model="numpy")
def _adam_tuple(xs, gs, ms, vs, ws, step_size, bc2_sqrt, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    for a in range(len(xs)):
        _adam_serial(
            xs[a], gs[a], ms[a], vs[a], ws[a], step_size, bc2_sqrt, b1, omb1, b2, omb2, eps, wd,
            shrink, mode,
        )  # fmt: skip


def adam_foreach(items: list, t: int, lr, beta1, beta2, eps, weight_decay, decoupled) -> None:
    """Update in place each (x, g, m, v, vmax) of ``items``: C-contiguous arrays of one dtype
    (vmax None without AMSGrad), all at step t (≥ 1, after this update)."""
    dtype = items[0][0].dtype
    scalars = adam_scalars(dtype, t, lr, beta1, beta2, eps, weight_decay, decoupled)
    empty = np.empty(0, dtype=dtype)
    flat = [
        (x.reshape(-1), g.reshape(-1), m.reshape(-1), v.reshape(-1),
         empty if w is None else w.reshape(-1))
        for x, g, m, v, w in items
    ]  # fmt: skip
    for start in range(0, len(flat), GROUP):
        chunk = flat[start : start + GROUP]
        chunk += [(empty,) * 5] * (GROUP - len(chunk))
        _adam_tuple(*(tuple(col) for col in zip(*chunk)), *scalars)


def adam_batch(batch: list, group: dict, lr: float) -> None:
    """``Adam``'s step for the (x, g, state) of ``batch`` (one parameter group): one
    ``adam_foreach`` per dtype and step count, then each state's step advanced."""
    ams = group["amsgrad"]
    parts: dict = {}
    for x, g, st in batch:
        if ams and "max_exp_avg_sq" not in st:  # amsgrad switched on after some steps
            st["max_exp_avg_sq"] = np.zeros(x.shape, dtype=x.dtype)
        item = (x, g, st["exp_avg"], st["exp_avg_sq"], st["max_exp_avg_sq"] if ams else None)
        parts.setdefault((x.dtype, st["step"] + 1), []).append((item, st))
    b1, b2 = group["betas"]
    hyper = (group["eps"], group["weight_decay"], group["decoupled"])
    for (_, t), part in parts.items():
        adam_foreach([item for item, _ in part], t, lr, b1, b2, *hyper)
        for _, st in part:
            st["step"] = t
