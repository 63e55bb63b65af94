"""Fused numba twins of the per-array rules of :mod:`qed.optim.rules`, updating in place.

One pass over memory per step instead of a chain of numpy temporaries: Adam reads x, g, m, v
and writes x, m, v once (28 bytes per float32 element), which is what makes the stateful
``Adam`` at least twice as fast as ``torch.optim.Adam`` on CPU (benchmarks/bench_optim.py).

Each twin does the same arithmetic as its pure rule, in the same order and in the parameter's
dtype (scalars are cast to that dtype first, as numpy does with Python scalars), so both give
the same bits; tests/optim/test_optim_fused.py checks it. The element-wise math is one inlined
scalar function shared by a serial loop (small arrays: no thread start-up) and a ``prange``
loop (large arrays). ``error_model="numpy"`` makes a division by zero give inf/nan as numpy
and torch do, instead of a ZeroDivisionError check per element that stops LLVM from
vectorising the loop (13× slower serial Adam on float32).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from qed.optim._kernels import nadam_coefficients

__all__ = [
    "fusable",
    "sgd_",
    "adagrad_",
    "rmsprop_",
    "adam_",
    "adam_scalars",
    "nadam_",
    "PARALLEL_MIN_SIZE",
]

# Below this many elements a parallel loop costs more than it saves: thread wake-up, and in a
# training loop contention with the BLAS threads that just ran the matmuls (a 784×256 layer
# took 1.8 ms parallel against 0.16 ms serial beside OpenBLAS on 2 cores). Arrays this large
# no longer fit in cache, so the step is bandwidth-bound and threads do pay.
PARALLEL_MIN_SIZE = 1 << 20


def fusable(*arrays: np.ndarray | None) -> bool:
    """True when every array is a C-contiguous float32/float64 ndarray of one dtype."""
    dtype = arrays[0].dtype
    if dtype != np.float32 and dtype != np.float64:
        return False
    for a in arrays:  # a loop, not all(genexpr): this runs for every parameter every step
        if a is None:
            continue
        if not isinstance(a, np.ndarray) or a.dtype != dtype:
            return False
        flags = a.flags
        if not (flags.c_contiguous and flags.writeable):
            return False
    return True


# ------------------------------------------------------------------------ SGD


@njit(inline="always", cache=True, error_model="numpy")
def _sgd_elem(xi, gi, bi, first, lr, mu, omd, nesterov, wd, has_mom):
    if wd != 0:
        gi = gi + wd * xi
    if has_mom:
        bi = gi if first else mu * bi + omd * gi
        gi = gi + mu * bi if nesterov else bi
    return xi - lr * gi, bi


@njit(cache=True, error_model="numpy")
def _sgd_serial(x, g, b, first, lr, mu, omd, nesterov, wd, has_mom):
    for i in range(x.size):
        x[i], bi = _sgd_elem(
            x[i], g[i], b[i] if has_mom else x[i], first, lr, mu, omd, nesterov, wd, has_mom
        )
        if has_mom:
            b[i] = bi


@njit(cache=True, parallel=True, error_model="numpy")
def _sgd_parallel(x, g, b, first, lr, mu, omd, nesterov, wd, has_mom):
    for i in prange(x.size):
        x[i], bi = _sgd_elem(
            x[i], g[i], b[i] if has_mom else x[i], first, lr, mu, omd, nesterov, wd, has_mom
        )
        if has_mom:
            b[i] = bi


def sgd_(x, g, buf, first, lr, momentum, dampening, nesterov, weight_decay):
    """In place twin of ``rules.sgd_array``: updates x (and buf when momentum ≠ 0)."""
    t = x.dtype.type
    has_mom = momentum != 0
    b = buf.reshape(-1) if has_mom else x.reshape(-1)[:0]
    kernel = _sgd_parallel if x.size >= PARALLEL_MIN_SIZE else _sgd_serial
    kernel(
        x.reshape(-1),
        g.reshape(-1),
        b,
        bool(first),
        t(lr),
        t(momentum),
        t(1 - dampening),
        bool(nesterov),
        t(weight_decay),
        has_mom,
    )


# ------------------------------------------------------------------------ AdaGrad


@njit(inline="always", cache=True, error_model="numpy")
def _adagrad_elem(xi, gi, ai, clr, wd, eps):
    if wd != 0:
        gi = gi + wd * xi
    ai = ai + gi * gi
    return xi - clr * (gi / (np.sqrt(ai) + eps)), ai


@njit(cache=True, error_model="numpy")
def _adagrad_serial(x, g, a, clr, wd, eps):
    for i in range(x.size):
        x[i], a[i] = _adagrad_elem(x[i], g[i], a[i], clr, wd, eps)


@njit(cache=True, parallel=True, error_model="numpy")
def _adagrad_parallel(x, g, a, clr, wd, eps):
    for i in prange(x.size):
        x[i], a[i] = _adagrad_elem(x[i], g[i], a[i], clr, wd, eps)


def adagrad_(x, g, acc, t, lr, lr_decay, weight_decay, eps):
    """In place twin of ``rules.adagrad_array``."""
    d = x.dtype.type
    clr = lr / (1 + (t - 1) * lr_decay)
    kernel = _adagrad_parallel if x.size >= PARALLEL_MIN_SIZE else _adagrad_serial
    kernel(x.reshape(-1), g.reshape(-1), acc.reshape(-1), d(clr), d(weight_decay), d(eps))


# ------------------------------------------------------------------------ RMSProp


@njit(inline="always", cache=True, error_model="numpy")
def _rmsprop_elem(xi, gi, si, bi, ci, lr, alpha, oma, eps, wd, mu, centered):
    if wd != 0:
        gi = gi + wd * xi
    si = alpha * si + oma * gi * gi
    if centered:
        ci = alpha * ci + oma * gi
        denom = np.sqrt(si - ci * ci) + eps
    else:
        denom = np.sqrt(si) + eps
    if mu > 0:
        bi = mu * bi + gi / denom
        return xi - lr * bi, si, bi, ci
    return xi - lr * (gi / denom), si, bi, ci


@njit(cache=True, error_model="numpy")
def _rmsprop_serial(x, g, s, b, c, lr, alpha, oma, eps, wd, mu, centered):
    has_mom = mu > 0
    for i in range(x.size):
        x[i], s[i], bi, ci = _rmsprop_elem(
            x[i],
            g[i],
            s[i],
            b[i] if has_mom else s[i],
            c[i] if centered else s[i],
            lr,
            alpha,
            oma,
            eps,
            wd,
            mu,
            centered,
        )
        if has_mom:
            b[i] = bi
        if centered:
            c[i] = ci


@njit(cache=True, parallel=True, error_model="numpy")
def _rmsprop_parallel(x, g, s, b, c, lr, alpha, oma, eps, wd, mu, centered):
    has_mom = mu > 0
    for i in prange(x.size):
        x[i], s[i], bi, ci = _rmsprop_elem(
            x[i],
            g[i],
            s[i],
            b[i] if has_mom else s[i],
            c[i] if centered else s[i],
            lr,
            alpha,
            oma,
            eps,
            wd,
            mu,
            centered,
        )
        if has_mom:
            b[i] = bi
        if centered:
            c[i] = ci


def rmsprop_(x, g, sq, buf, gavg, lr, alpha, eps, weight_decay, momentum, centered):
    """In place twin of ``rules.rmsprop_array``."""
    d = x.dtype.type
    empty = x.reshape(-1)[:0]
    b = buf.reshape(-1) if momentum > 0 else empty
    c = gavg.reshape(-1) if centered else empty
    kernel = _rmsprop_parallel if x.size >= PARALLEL_MIN_SIZE else _rmsprop_serial
    kernel(
        x.reshape(-1),
        g.reshape(-1),
        sq.reshape(-1),
        b,
        c,
        d(lr),
        d(alpha),
        d(1 - alpha),
        d(eps),
        d(weight_decay),
        d(momentum),
        bool(centered),
    )


# ------------------------------------------------------------------------ Adam


@njit(inline="always", cache=True, error_model="numpy")
def _adam_elem(
    xi, gi, mi, vi, wi, step_size, bc2_sqrt, b1, omb1, b2, omb2, eps, wd, shrink, mode, ams
):
    if mode == 1:  # L2: g ← g + λx
        gi = gi + wd * xi
    elif mode == 2:  # decoupled (AdamW): x ← x(1 − αλ)
        xi = xi * shrink
    mi = b1 * mi + omb1 * gi
    vi = b2 * vi + omb2 * gi * gi
    if ams:  # AMSGrad: divide by the running maximum of v
        wi = max(wi, vi)
        return xi - step_size * (mi / (np.sqrt(wi) / bc2_sqrt + eps)), mi, vi, wi
    return xi - step_size * (mi / (np.sqrt(vi) / bc2_sqrt + eps)), mi, vi, wi


@njit(cache=True, error_model="numpy")
def _adam_serial(x, g, m, v, w, step_size, bc2_sqrt, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    ams = w.size > 0
    for i in range(x.size):
        x[i], m[i], v[i], wi = _adam_elem(
            x[i],
            g[i],
            m[i],
            v[i],
            w[i] if ams else v[i],
            step_size,
            bc2_sqrt,
            b1,
            omb1,
            b2,
            omb2,
            eps,
            wd,
            shrink,
            mode,
            ams,
        )
        if ams:
            w[i] = wi


@njit(cache=True, parallel=True, error_model="numpy")
def _adam_parallel(x, g, m, v, w, step_size, bc2_sqrt, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    ams = w.size > 0
    for i in prange(x.size):
        x[i], m[i], v[i], wi = _adam_elem(
            x[i],
            g[i],
            m[i],
            v[i],
            w[i] if ams else v[i],
            step_size,
            bc2_sqrt,
            b1,
            omb1,
            b2,
            omb2,
            eps,
            wd,
            shrink,
            mode,
            ams,
        )
        if ams:
            w[i] = wi


def adam_scalars(dtype, t, lr, beta1, beta2, eps, weight_decay, decoupled) -> tuple:
    """The scalar arguments of the Adam kernels after ``w`` (``_adam_serial``): the step
    size, √(1 − β₂ᵗ), β₁, 1 − β₁, β₂, 1 − β₂, ε, λ and 1 − αλ in ``dtype``, then the mode of
    weight decay (0 none, 1 L2, 2 decoupled)."""
    d = np.dtype(dtype).type
    mode = 0 if weight_decay == 0 else (2 if decoupled else 1)
    step_size = lr / (1 - beta1**t)
    bc2_sqrt = (1 - beta2**t) ** 0.5
    return (
        d(step_size),
        d(bc2_sqrt),
        d(beta1),
        d(1 - beta1),
        d(beta2),
        d(1 - beta2),
        d(eps),
        d(weight_decay),
        d(1 - lr * weight_decay),
        mode,
    )


def adam_(x, g, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled, vmax=None):
    """In place twin of ``rules.adam_array`` (t ≥ 1 is the step after this update); with
    ``vmax`` (AMSGrad's running maximum of v) the twin of ``rules.adam_amsgrad_array``."""
    kernel = _adam_parallel if x.size >= PARALLEL_MIN_SIZE else _adam_serial
    kernel(
        x.reshape(-1),
        g.reshape(-1),
        m.reshape(-1),
        v.reshape(-1),
        x.reshape(-1)[:0] if vmax is None else vmax.reshape(-1),
        *adam_scalars(x.dtype, t, lr, beta1, beta2, eps, weight_decay, decoupled),
    )


# ------------------------------------------------------------------------ NAdam


@njit(inline="always", cache=True, error_model="numpy")
def _nadam_elem(xi, gi, mi, vi, c1, c2, bc2, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    if mode == 1:
        gi = gi + wd * xi
    elif mode == 2:
        xi = xi * shrink
    mi = b1 * mi + omb1 * gi
    vi = b2 * vi + omb2 * gi * gi
    denom = np.sqrt(vi / bc2) + eps
    xi = xi + c1 * (gi / denom)
    return xi + c2 * (mi / denom), mi, vi


@njit(cache=True, error_model="numpy")
def _nadam_serial(x, g, m, v, c1, c2, bc2, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    for i in range(x.size):
        x[i], m[i], v[i] = _nadam_elem(
            x[i], g[i], m[i], v[i], c1, c2, bc2, b1, omb1, b2, omb2, eps, wd, shrink, mode
        )


@njit(cache=True, parallel=True, error_model="numpy")
def _nadam_parallel(x, g, m, v, c1, c2, bc2, b1, omb1, b2, omb2, eps, wd, shrink, mode):
    for i in prange(x.size):
        x[i], m[i], v[i] = _nadam_elem(
            x[i], g[i], m[i], v[i], c1, c2, bc2, b1, omb1, b2, omb2, eps, wd, shrink, mode
        )


def nadam_(
    x, g, m, v, t, mu_product, lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled
):
    """In place twin of ``rules.nadam_array``; returns the new μ-product (a float)."""
    d = x.dtype.type
    mode = 0 if weight_decay == 0 else (2 if decoupled else 1)
    c1, c2, mu_product = nadam_coefficients(t, mu_product, lr, beta1, momentum_decay)
    kernel = _nadam_parallel if x.size >= PARALLEL_MIN_SIZE else _nadam_serial
    kernel(
        x.reshape(-1),
        g.reshape(-1),
        m.reshape(-1),
        v.reshape(-1),
        d(c1),
        d(c2),
        d(1 - beta2**t),
        d(beta1),
        d(1 - beta1),
        d(beta2),
        d(1 - beta2),
        d(eps),
        d(weight_decay),
        d(1 - lr * weight_decay),
        mode,
    )
    return mu_product
