"""KL divergence and cross entropy of discrete distributions (the notes' KL and cross-entropy
sections).

    D_KL(p‖q) = Σₓ p(x) log(p(x)/q(x)) ≥ 0,   = 0 iff p = q;   not symmetric, no triangle
    inequality. Proof (Jensen, −log convex): E_p[−log(q/p)] ≥ −log E_p[q/p] = −log Σ q = 0.

    H_p(q) = E_p[−log q(x)] = −Σₓ p(x) log q(x),   D_KL(p‖q) = H_p(q) − H(p).

Conventions: terms with p(x) = 0 contribute 0 (whatever q(x)); where q(x) = 0 < p(x) the
divergence and the cross entropy are ``inf``. Validation, ``base``, ``axis`` and
``normalize`` as in :func:`qed.info.entropy`; p and q must have the same shape.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._array_api import get_namespace
from qed.info import _kernels
from qed.info._common import _as_array, _check_sums, _diagnose, _finish, _log_base, _rows

__all__ = ["kl_divergence", "cross_entropy"]


def _pair(p: Any, q: Any, axis: Any, normalize: bool, kernel: Any):
    """Validate p and q in the kernel's single pass; rerun on the normalised rows if asked.

    Returns (#{q = 0 < p} per row, Σ p·log(·) per row, result shape).
    """
    P = _as_array(p, "p")
    Q = _as_array(q, "q")
    if P.shape != Q.shape:
        raise ValueError(
            f"p has shape {P.shape} but q has shape {Q.shape}; both must give a probability "
            "to the same outcomes (same shape)."
        )
    prow, shape = _rows(P, axis, "p")
    qrow, _ = _rows(Q, axis, "q")
    sp, sq, bad, inf, acc = kernel(prow, qrow)
    if bad.any():
        for rows, name in ((prow, "p"), (qrow, "q")):
            if not ((rows >= 0) & np.isfinite(rows)).all():
                _diagnose(rows, name)
    n = prow.shape[1]
    _check_sums(sp, n, P.dtype, "p", axis, normalize)
    _check_sums(sq, n, Q.dtype, "q", axis, normalize)
    if normalize:
        sp, sq, bad, inf, acc = kernel(prow / sp[:, None], qrow / sq[:, None])
    return inf, acc, shape


def kl_divergence(
    p: Any, q: Any, *, base: float | None = None, axis: int | None = 0, normalize: bool = False
) -> Any:
    """Kullback–Leibler divergence D_KL(p‖q) = Σₓ p(x) log(p(x)/q(x)).

    Equals ``scipy.stats.entropy(p, q)`` for normalised inputs. ≥ 0 with equality iff p = q
    (a rounding residue below 0 is clipped to 0); ``inf`` where q(x) = 0 < p(x).

    Parameters
    ----------
    p, q : array-like of the same shape; each slice along ``axis`` a distribution.
    base : None (nats) or the logarithm's base (2 gives bits).
    axis : the outcome axis (as in ``scipy.stats.entropy``); None flattens.
    normalize : divide p and q by their sums first (SciPy's behaviour).

    Returns
    -------
    numpy float for one pair of distributions, else ndarray of p's shape without ``axis``.

    Examples
    --------
    >>> float(kl_divergence([0.5, 0.5], [0.5, 0.5]))
    0.0
    >>> bool(kl_divergence([0.9, 0.1], [0.5, 0.5]) != kl_divergence([0.5, 0.5], [0.9, 0.1]))
    True
    """
    xp, is_numpy = get_namespace(p, q)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.kl_divergence(xp, p, q, base=base, axis=axis, normalize=normalize)
    log_base = _log_base(base)
    inf, acc, shape = _pair(p, q, axis, normalize, _kernels.kl_rows)
    values = np.where(inf > 0, np.inf, acc)
    return _finish(values, shape, log_base)


def cross_entropy(
    p: Any, q: Any, *, base: float | None = None, axis: int | None = 0, normalize: bool = False
) -> Any:
    """Cross entropy H_p(q) = −Σₓ p(x) log q(x) = H(p) + D_KL(p‖q) ≥ H(p).

    The expected code length (or log loss) of outcomes drawn from p when coded (predicted)
    with q; ``inf`` where q(x) = 0 < p(x).

    Parameters
    ----------
    p, q : array-like of the same shape; each slice along ``axis`` a distribution.
    base, axis, normalize : as in :func:`kl_divergence`.

    Examples
    --------
    >>> float(cross_entropy([1.0, 0.0], [0.5, 0.5], base=2))
    1.0
    """
    xp, is_numpy = get_namespace(p, q)
    if not is_numpy:  # torch, array_api_strict, …: computed there, on that device
        from qed.info import _array_api

        return _array_api.cross_entropy(xp, p, q, base=base, axis=axis, normalize=normalize)
    log_base = _log_base(base)
    inf, acc, shape = _pair(p, q, axis, normalize, _kernels.cross_rows)
    values = np.where(inf > 0, np.inf, -acc)
    return _finish(values, shape, log_base)
