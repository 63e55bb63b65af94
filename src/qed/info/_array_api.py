"""``qed.info`` in any Array API namespace (torch, array_api_strict, …), on the data's device.

The numba kernels of ``qed.info._kernels`` are numpy-only; here the same measures are
written with the standard's operations, 0·log 0 = 0 taken as where(p > 0, p·log p, 0):

    H(p) = −Σ p log p,   D(p‖q) = Σ p(log p − log q),   H_p(q) = −Σ p log q,
    H(Y|X) = −Σ p(x, y) log(p(x, y)/p(x)),   I(X; Y) = Σ p(x, y) log((p(x, y)/p(x))/p(y)),
    h(N(μ, Σ)) = ½ log det(2πeΣ),   D(N₀‖N₁) = ½[‖L₁⁻¹L₀‖²_F + ‖L₁⁻¹(μ₁ − μ₀)‖² − d + log det Σ₁/Σ₀].

Inputs are validated as on the numpy path (same messages: NaN, infinity, negative entries,
sums ≠ 1 beyond 64·eps·√n). Results are arrays of the input's namespace and device: 0-d for
a single distribution. The standard has no triangular solve, so L₁⁻¹ is applied by
``linalg.solve``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from qed._array_api import device_of, float_dtype_of, to_numpy
from qed.info._common import _log_base, _sum_tolerance

__all__ = [
    "self_information",
    "entropy",
    "joint_entropy",
    "conditional_entropy",
    "mutual_information",
    "kl_divergence",
    "cross_entropy",
    "gaussian_entropy",
    "gaussian_kl",
]


def _np_dtype(xp: Any, dtype: Any) -> Any:
    return np.float32 if dtype == xp.float32 else np.float64


def _prob(xp: Any, p: Any, name: str) -> Any:
    if p.ndim == 0:
        raise ValueError(
            f"{name} must be at least 1-D (a distribution over outcomes), got a scalar."
        )
    if math.prod(p.shape) == 0:
        raise ValueError(f"{name} is empty; a distribution needs at least one outcome.")
    arr = xp.astype(p, float_dtype_of(xp, p))
    if bool(xp.any(xp.isnan(arr))):
        nan = int(xp.sum(xp.astype(xp.isnan(arr), xp.int64)))
        raise ValueError(
            f"{name} contains NaN ({nan} entr{'y' if nan == 1 else 'ies'}); a "
            "probability must be a number in [0, 1]. Remove or impute the missing "
            "values first."
        )
    if bool(xp.any(xp.isinf(arr))):
        raise ValueError(f"{name} contains infinity; a probability must be a number in [0, 1].")
    if bool(xp.any(arr < 0)):
        raise ValueError(
            f"{name} has negative entries (min {float(xp.min(arr)):.3g}); "
            "probabilities must be ≥ 0."
        )
    return arr


def _rows(xp: Any, arr: Any, axis: Any, name: str) -> tuple[Any, tuple]:
    """(m, n) rows, one distribution each, and the shape of the result."""
    if axis is None:
        return xp.reshape(arr, (1, -1)), ()
    if (
        isinstance(axis, bool)
        or not isinstance(axis, (int, np.integer))
        or not (-arr.ndim <= int(axis) < arr.ndim)
    ):
        raise ValueError(f"axis {axis!r} is out of bounds for {name} of dimension {arr.ndim}.")
    moved = xp.moveaxis(arr, int(axis), -1)
    shape = tuple(moved.shape[:-1])
    return xp.reshape(moved, (-1, moved.shape[-1])), shape


def _sums(xp: Any, rows: Any, name: str, axis: Any, normalize: bool) -> Any:
    """Check the sums (= 1, or > 0 when normalising); return the rows to measure."""
    sums = xp.sum(rows, axis=1)
    s = np.asarray([float(v) for v in sums]) if sums.shape[0] <= 64 else to_numpy(sums)
    where = "in total" if axis is None else f"along axis {axis}"
    if normalize:
        if np.any(s <= 0):
            raise ValueError(f"{name} sums to 0 {where}; there is nothing to normalise.")
        return rows / sums[:, None]
    tol = _sum_tolerance(rows.shape[1], _np_dtype(xp, rows.dtype))
    worst = float(np.max(np.abs(s - 1.0)))
    if not worst <= tol:
        raise ValueError(
            f"{name} does not sum to 1 {where} (off by {worst:.3g}, tolerance {tol:.1g}); pass "
            "a normalised distribution, or normalize=True to divide by the sum (SciPy's "
            "behaviour)."
        )
    return rows


def _plogq(xp: Any, p: Any, q: Any) -> Any:
    """p·log q with 0·log q = 0 (q = 0 < p gives −inf)."""
    positive = p > 0
    usable = positive & (q > 0)  # log only where it is finite: no divide-by-zero warnings
    value = xp.where(usable, p * xp.log(xp.where(usable, q, xp.ones_like(q))), xp.zeros_like(p))
    return xp.where(positive & (q <= 0), xp.full_like(p, -math.inf), value)


def _finish(xp: Any, values: Any, shape: tuple, log_base: float) -> Any:
    out = xp.where(values > 0, values, xp.zeros_like(values)) / log_base
    return xp.reshape(out, shape)


def self_information(xp: Any, p: Any, *, base: Any = None) -> Any:
    log_base = _log_base(base)
    arr = xp.astype(p, float_dtype_of(xp, p))
    if bool(xp.any(xp.isnan(arr))) or bool(xp.any(arr < 0)) or bool(xp.any(arr > 1)):
        raise ValueError("p must hold probabilities in [0, 1] (no NaN).")
    return -xp.log(arr) / log_base + 0.0


def entropy(xp: Any, p: Any, *, base: Any = None, axis: Any = 0, normalize: bool = False) -> Any:
    log_base = _log_base(base)
    rows, shape = _rows(xp, _prob(xp, p, "p"), axis, "p")
    rows = _sums(xp, rows, "p", axis, normalize)
    return _finish(xp, -xp.sum(_plogq(xp, rows, rows), axis=1), shape, log_base)


def joint_entropy(xp: Any, pxy: Any, *, base: Any = None, normalize: bool = False) -> Any:
    return entropy(xp, pxy, base=base, axis=None, normalize=normalize)


def _table(xp: Any, pxy: Any, normalize: bool) -> Any:
    table = _prob(xp, pxy, "pxy")
    if table.ndim != 2:
        raise ValueError(
            f"pxy must be a 2-D joint table (n_x, n_y), got shape {tuple(table.shape)}."
        )
    rows = _sums(xp, xp.reshape(table, (1, -1)), "pxy", None, normalize)
    return xp.reshape(rows, table.shape)


def conditional_entropy(xp: Any, pxy: Any, *, base: Any = None, normalize: bool = False) -> Any:
    log_base = _log_base(base)
    table = _table(xp, pxy, normalize)
    px = xp.sum(table, axis=1, keepdims=True)
    safe_px = xp.where(px > 0, px, xp.ones_like(px))
    value = -xp.sum(_plogq(xp, table, table / safe_px))
    return _finish(xp, value, (), log_base)


def mutual_information(xp: Any, pxy: Any, *, base: Any = None, normalize: bool = False) -> Any:
    log_base = _log_base(base)
    table = _table(xp, pxy, normalize)
    px = xp.sum(table, axis=1, keepdims=True)
    py = xp.sum(table, axis=0, keepdims=True)
    one = xp.ones_like(table)
    # (p(x, y)/p(x))/p(y), never the underflowing product p(x)p(y)
    ratio = (table / xp.where(px > 0, px, one[:, :1])) / xp.where(py > 0, py, one[:1, :])
    return _finish(xp, xp.sum(_plogq(xp, table, ratio)), (), log_base)


def _pair(xp: Any, p: Any, q: Any, axis: Any, normalize: bool) -> tuple[Any, Any, tuple]:
    P, Q = _prob(xp, p, "p"), _prob(xp, q, "q")
    if tuple(P.shape) != tuple(Q.shape):
        raise ValueError(
            f"p has shape {tuple(P.shape)} but q has shape {tuple(Q.shape)}; both "
            "must give a probability to the same outcomes (same shape)."
        )
    prow, shape = _rows(xp, P, axis, "p")
    qrow, _ = _rows(xp, Q, axis, "q")
    return _sums(xp, prow, "p", axis, normalize), _sums(xp, qrow, "q", axis, normalize), shape


def kl_divergence(
    xp: Any, p: Any, q: Any, *, base: Any = None, axis: Any = 0, normalize: bool = False
) -> Any:
    log_base = _log_base(base)
    P, Q, shape = _pair(xp, p, q, axis, normalize)
    return _finish(xp, xp.sum(_plogq(xp, P, P) - _plogq(xp, P, Q), axis=1), shape, log_base)


def cross_entropy(
    xp: Any, p: Any, q: Any, *, base: Any = None, axis: Any = 0, normalize: bool = False
) -> Any:
    log_base = _log_base(base)
    P, Q, shape = _pair(xp, p, q, axis, normalize)
    return _finish(xp, -xp.sum(_plogq(xp, P, Q), axis=1), shape, log_base)


def _cholesky(xp: Any, cov: Any, name: str) -> Any:
    arr = xp.astype(cov, float_dtype_of(xp, cov))
    if arr.ndim == 0:
        arr = xp.reshape(arr, (1, 1))
    elif arr.ndim == 1:  # a vector of variances
        arr = xp.eye(arr.shape[0], dtype=arr.dtype, device=device_of(arr)) * arr[None, :]
    if arr.ndim != 2 or arr.shape[0] != arr.shape[1] or arr.shape[0] == 0:
        raise ValueError(
            f"{name} must be a square (d, d) covariance matrix (or a vector of "
            f"variances), got shape {tuple(arr.shape)}."
        )
    if not bool(xp.all(xp.isfinite(arr))):
        raise ValueError(f"{name} contains NaN or infinity.")
    scale = float(xp.max(xp.abs(arr)))
    asym = float(xp.max(xp.abs(arr - xp.matrix_transpose(arr))))
    eps = float(np.finfo(_np_dtype(xp, arr.dtype)).eps)
    if asym > 64 * eps * max(scale, 1e-300) * arr.shape[0]:
        raise ValueError(
            f"{name} is not symmetric (max |Σ − Σᵀ| = {asym:.3g}); a covariance "
            f"matrix is symmetric: pass ({name} + {name}.T) / 2."
        )
    try:
        L = xp.linalg.cholesky(arr)
        ok = bool(xp.all(xp.isfinite(L))) and bool(xp.all(xp.linalg.diagonal(L) > 0))
    except Exception:  # noqa: BLE001 - each library raises its own LinAlgError
        ok = False
    if not ok:
        raise ValueError(
            f"{name} is not positive definite (its Cholesky factorisation failed). "
            "A Gaussian's covariance must be symmetric positive definite; for a "
            f"(nearly) singular one add a small ridge, e.g. {name} + 1e-9·I."
        )
    return L


def gaussian_entropy(xp: Any, cov: Any, *, base: Any = None) -> Any:
    log_base = _log_base(base)
    L = _cholesky(xp, cov, "cov")
    d = L.shape[0]
    h = 0.5 * d * (1.0 + math.log(2 * math.pi)) + xp.sum(xp.log(xp.linalg.diagonal(L)))
    return h / log_base


def gaussian_kl(xp: Any, mu0: Any, cov0: Any, mu1: Any, cov1: Any, *, base: Any = None) -> Any:
    log_base = _log_base(base)
    L0, L1 = _cholesky(xp, cov0, "cov0"), _cholesky(xp, cov1, "cov1")
    if L0.shape != L1.shape:
        raise ValueError(
            f"cov0 is {L0.shape[0]}×{L0.shape[0]} but cov1 is {L1.shape[0]}×"
            f"{L1.shape[0]}; both Gaussians must live in the same dimension."
        )
    d = L0.shape[0]
    means = []
    for name, mu in (("mu0", mu0), ("mu1", mu1)):
        m = xp.reshape(xp.astype(xp.asarray(mu, device=device_of(L0)), L0.dtype), (-1,))
        if m.shape[0] != d:
            raise ValueError(
                f"{name} has {m.shape[0]} entries but the covariance is {d}×{d}; "
                f"pass a mean of length {d}."
            )
        means.append(m)
    M = xp.linalg.solve(L1, L0)  # L₁⁻¹L₀
    z = xp.linalg.solve(L1, (means[1] - means[0])[:, None])  # L₁⁻¹(μ₁ − μ₀)
    logdet = 2.0 * (xp.sum(xp.log(xp.linalg.diagonal(L1))) - xp.sum(xp.log(xp.linalg.diagonal(L0))))
    kl = 0.5 * (xp.sum(M * M) + xp.sum(z * z) - d + logdet)
    return xp.where(kl > 0, kl, xp.zeros_like(kl)) / log_base
