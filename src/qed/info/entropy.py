"""Self-information and entropy: single, joint and conditional (the notes' 엔트로피 section).

    h(x) = −log p(x),    H(X) = E[−log p(X)] = −Σₓ p(x) log p(x) ≥ 0,
    H(X, Y) = H(X) + H(Y|X),   and h(x, y) = h(x) + h(y) when X and Y are independent.

Every function takes ``base`` (None: nats; 2: bits) and, where a single distribution is
reduced, ``axis`` as ``scipy.stats.entropy`` does. Inputs are *validated, not normalised*:
NaN, ±inf, negative entries or sums farther from 1 than 64·eps·√n raise ``ValueError``;
``normalize=True`` divides by the sum instead, as SciPy always does. 0·log 0 = 0.
The validation is fused with the computation (``qed.info._kernels``): one read of the data.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._array_api import get_namespace
from qed._validation import check_array
from qed.info import _kernels

__all__ = ["self_information", "entropy", "joint_entropy", "conditional_entropy"]


from qed.info._common import (
    _as_array,
    _check_sums,
    _diagnose,
    _finish,
    _log_base,
    _rows,
    _validated_table,
)


def self_information(p: Any, *, base: float | None = None) -> Any:
    """The surprise h(x) = −log p(x) of an outcome of probability p, elementwise.

    Parameters
    ----------
    p : float or array-like of any shape, entries in [0, 1].
    base : None (nats) or the logarithm's base (2 gives bits).

    Returns
    -------
    float or ndarray of p's shape; ``inf`` where p = 0 (an impossible outcome).

    Examples
    --------
    >>> float(self_information(0.5, base=2))
    1.0
    """
    xp, is_numpy = get_namespace(p)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.self_information(xp, p, base=base)
    log_base = _log_base(base)
    arr = check_array(
        p,
        input_name="p",
        ensure_2d=False,
        allow_nd=True,
        ensure_min_samples=0,
        ensure_min_features=0,
    )
    arr = np.asarray(arr, dtype=np.float64)
    if arr.size and ((arr < 0).any() or (arr > 1).any()):
        raise ValueError(
            f"p must hold probabilities in [0, 1], got values in [{arr.min():.3g}, "
            f"{arr.max():.3g}]."
        )
    with np.errstate(divide="ignore"):
        out = -np.log(arr) / log_base
    out = out + 0.0  # −log 1 = −0.0; report +0
    return out[()] if out.ndim == 0 else out


def entropy(
    p: Any, *, base: float | None = None, axis: int | None = 0, normalize: bool = False
) -> Any:
    """Shannon entropy H(p) = −Σₓ p(x) log p(x), with 0·log 0 = 0.

    0 ≤ H(p) ≤ log k for k outcomes: 0 for a point mass, log k for the uniform distribution.

    Parameters
    ----------
    p : array-like; each slice along ``axis`` is a distribution (finite, ≥ 0, summing to 1).
    base : None (nats) or the logarithm's base (2 gives bits).
    axis : the axis holding the outcomes (as in ``scipy.stats.entropy``); None flattens.
    normalize : divide each distribution by its sum first (SciPy's behaviour) instead of
        requiring it to sum to 1.

    Returns
    -------
    numpy float for one distribution, else ndarray of p's shape without ``axis``.

    Raises
    ------
    ValueError for NaN, infinite or negative entries, sums ≠ 1 beyond 64·eps·√n, empty input.

    Examples
    --------
    >>> float(entropy([0.5, 0.5], base=2))
    1.0
    """
    xp, is_numpy = get_namespace(p)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.entropy(xp, p, base=base, axis=axis, normalize=normalize)
    log_base = _log_base(base)
    arr = _as_array(p, "p")
    rows, shape = _rows(arr, axis, "p")
    sums, bad, acc = _kernels.entropy_rows(rows)
    if bad.any():
        _diagnose(rows, "p")
    _check_sums(sums, rows.shape[1], arr.dtype, "p", axis, normalize)
    if normalize:
        sums, bad, acc = _kernels.entropy_rows(rows / sums[:, None])
    return _finish(-acc, shape, log_base)


def joint_entropy(pxy: Any, *, base: float | None = None, normalize: bool = False) -> Any:
    """H(X, Y) = −Σₓ,ᵧ p(x, y) log p(x, y): the entropy of the whole joint table.

    Equals H(X) + H(Y|X) (the chain rule of the notes), and H(X) + H(Y) when X ⟂ Y.

    Parameters
    ----------
    pxy : array-like of any shape ≥ 1-D, e.g. (n_x, n_y); all entries together sum to 1.
    """
    xp, is_numpy = get_namespace(pxy)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.joint_entropy(xp, pxy, base=base, normalize=normalize)
    log_base = _log_base(base)
    table = _validated_table(pxy, "pxy", normalize, ndim=None)
    _sums, _bad, acc = _kernels.entropy_rows(table.reshape(1, -1))
    return _finish(-acc, (), log_base)


def conditional_entropy(pxy: Any, *, base: float | None = None, normalize: bool = False) -> Any:
    """H(Y|X) = −Σₓ,ᵧ p(x, y) log p(y|x), with X indexing the rows of ``pxy``.

    p(y|x) = p(x, y)/p(x) with p(x) = Σᵧ p(x, y). The notes' chain rule:
    H(X, Y) = H(X) + H(Y|X); 0 ≤ H(Y|X) ≤ H(Y), with H(Y|X) = H(Y) iff X ⟂ Y.
    For H(X|Y) pass ``pxy.T``.

    Parameters
    ----------
    pxy : array-like of shape (n_x, n_y), summing to 1.
    """
    xp, is_numpy = get_namespace(pxy)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.conditional_entropy(xp, pxy, base=base, normalize=normalize)
    log_base = _log_base(base)
    table = _validated_table(pxy, "pxy", normalize)
    px = table.sum(axis=1, keepdims=True)
    mask = table > 0
    # p(x, y) ≤ p(x) in floating point too (a sum of non-negative terms is ≥ each), so every
    # log below is ≤ 0 and the result ≥ 0 without cancellation.
    ratio = table[mask] / np.broadcast_to(px, table.shape)[mask]
    return _finish(np.array([-np.dot(table[mask], np.log(ratio))]), (), log_base)
