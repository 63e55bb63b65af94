"""Fused numba passes behind ``qed.info``: validate and accumulate in one read of the data.

Each kernel walks the rows of a C-contiguous ``(m, n)`` float64 array once and returns, per
row, the sum of the entries (for the sum-to-1 check, applied by the caller after the pass),
the number of entries that are not finite and ≥ 0, and the accumulated Σ p·log(·).

Why a hand-written logarithm: libm's ``log`` is an opaque call, so a loop that uses it runs
one element at a time (≈ 3 ns each, no faster than SciPy's ufuncs). Below, ``log`` is
the classic argument reduction plus the atanh series (error < 1 ulp), written as straight-line
arithmetic on the float's bits, which LLVM turns into SIMD code; together with
``error_model="numpy"`` (no ZeroDivisionError branch) and ``fastmath={"reassoc"}`` (only so
that the sums may be split across vector lanes) the whole pass vectorises.
``log(x/y)`` is taken as log(mₓ/m_y) + (eₓ − e_y)·ln 2 from the mantissas and exponents, so it
neither overflows nor underflows even for x = 1, y = 1e-320, where ``x/y`` would.
Sums are accumulated per block of ``_BLOCK`` entries and the block sums added, which keeps
the rounding error of a 10⁷-entry sum near that of pairwise summation.
"""

from __future__ import annotations

import decimal
import math

import numba
import numpy as np
from llvmlite import ir
from numba import types
from numba.extending import intrinsic

__all__ = [
    "entropy_rows",
    "kl_rows",
    "cross_rows",
    "log",
    "log_ratio",
    "log_array",
    "log_ratio_array",
]

_BLOCK = 4096
_FMAX = 1.7976931348623157e308
_TINY = 2.2250738585072014e-308  # smallest normal float64
_TWO54 = 18014398509481984.0
_SQRT2 = 1.4142135623730951
_SQRT1_2 = 0.7071067811865476
# ln 2 split as hi + lo: hi keeps 32 significant bits so that k·hi is exact for |k| < 2²⁰,
# lo is the rest of ln 2 (from its decimal expansion, to beyond double precision).
_LN2_HI = math.ldexp(math.floor(math.ldexp(math.log(2.0), 32)), -32)
_LN2_LO = float(
    decimal.Decimal("0.69314718055994530941723212145817656807550013436026")
    - decimal.Decimal(_LN2_HI)
)
# log(1 + f) = 2·atanh(s), s = f/(2 + f): 2s + s·R(s²) with the Taylor series
# R(z) = Σₖ 2zᵏ/(2k + 1). For |s| ≤ 3 − 2√2 (m in [√2/2, √2]) z ≤ 0.0295 and ten terms leave
# a truncation error below 10⁻¹⁸ relative.
_R = tuple(2.0 / (2 * k + 1) for k in range(1, 11))

_JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"reassoc"}}


@intrinsic
def _bits(typingctx, x):  # noqa: ARG001 - numba's intrinsic signature
    """The IEEE-754 bit pattern of a float64 as an int64 (a no-op reinterpretation)."""
    sig = types.int64(types.float64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(64))

    return sig, codegen


@intrinsic
def _from_bits(typingctx, x):  # noqa: ARG001
    """The float64 whose IEEE-754 bit pattern is the int64 ``x``."""
    sig = types.float64(types.int64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.DoubleType())

    return sig, codegen


@numba.njit(inline="always", error_model="numpy")
def _frexp(x):
    """x > 0 finite ↦ (m, e) with x = m·2ᵉ and 1 ≤ m < 2; subnormals are scaled by 2⁵⁴ first."""
    sub = x < _TINY
    xs = x * _TWO54 if sub else x
    b = _bits(xs)
    e = ((b >> 52) & 0x7FF) - 1023 - (54 if sub else 0)
    m = _from_bits((b & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    return m, e


@numba.njit(inline="always", error_model="numpy")
def _log_core(m, k):
    """log(m) + k·ln 2 for 1/2 < m < 2 (the atanh series, error < 1 ulp).

    m is first brought into [√2/2, √2] (exact scalings by 2), so that with f = m − 1 (exact,
    Sterbenz) and s = f/(2 + f), log(1 + f) = 2s + 2s³/3 + … = f − f²/2 + s(f²/2 + R(s²)).
    """
    big = m > _SQRT2
    small = m < _SQRT1_2
    m = m * 0.5 if big else (m * 2.0 if small else m)
    k = k + (1 if big else (-1 if small else 0))
    f = m - 1.0
    s = f / (2.0 + f)
    dk = float(k)
    z = s * s
    c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 = _R
    r = z * (
        c1
        + z
        * (
            c2
            + z * (c3 + z * (c4 + z * (c5 + z * (c6 + z * (c7 + z * (c8 + z * (c9 + z * c10)))))))
        )
    )
    # 2s = f − s·f, so log(1 + f) = f − f²/2 + s(f²/2 + R): the large terms stay exact
    hfsq = 0.5 * f * f
    return dk * _LN2_HI - ((hfsq - (s * (hfsq + r) + dk * _LN2_LO)) - f)


@numba.njit(inline="always", error_model="numpy")
def log(x):
    """Natural log of a finite x > 0 (< 1 ulp); the caller guarantees the domain."""
    m, e = _frexp(x)
    return _log_core(m, e)


@numba.njit(inline="always", error_model="numpy")
def log_ratio(x, y):
    """log(x/y) for finite x, y > 0, with no overflow or underflow of x/y."""
    mx, ex = _frexp(x)
    my, ey = _frexp(y)
    return _log_core(mx / my, ex - ey)


@numba.njit(**_JIT)
def entropy_rows(P):
    """Per row of P (m, n): (Σp, #invalid, Σ p·log p) with 0·log 0 = 0."""
    m, n = P.shape
    sums = np.zeros(m)
    acc = np.zeros(m)
    bad = np.zeros(m, dtype=np.int64)
    for r in range(m):
        pr = P[r]
        s = 0.0
        h = 0.0
        c = 0
        for start in range(0, n, _BLOCK):
            bs = 0.0
            bh = 0.0
            pb = pr[start : start + _BLOCK]  # see kl_rows: slices keep the loop vectorisable
            for i in range(pb.size):
                x = pb[i]
                c += 0 if (x >= 0.0 and x <= _FMAX) else 1  # NaN fails both comparisons
                bs += x
                pos = x > 0.0
                lx = log(x if pos else 1.0)  # evaluated branch-free; masked below
                bh += x * lx if pos else 0.0
            s += bs
            h += bh
        sums[r] = s
        acc[r] = h
        bad[r] = c
    return sums, bad, acc


@numba.njit(**_JIT)
def _pair_rows(P, Q, cross):
    """Per row: (Σp, Σq, #invalid, #{q = 0 < p}, Σ_{p>0, q>0} p·t) with t = log(p/q), or
    t = log q when ``cross``. ``cross`` is the same for every element, so LLVM unswitches the
    loop and each version vectorises as if written alone."""
    m, n = P.shape
    sp = np.zeros(m)
    sq = np.zeros(m)
    acc = np.zeros(m)
    bad = np.zeros(m, dtype=np.int64)
    inf = np.zeros(m, dtype=np.int64)
    for r in range(m):
        pr = P[r]
        qr = Q[r]
        s = 0.0
        t = 0.0
        h = 0.0
        c = 0
        z = 0
        for start in range(0, n, _BLOCK):
            bs = 0.0
            bt = 0.0
            bh = 0.0
            # a fresh slice per block: indices from 0 let numba drop its negative-index
            # wraparound select, without which LLVM does not vectorise the loop
            pb = pr[start : start + _BLOCK]
            qb = qr[start : start + _BLOCK]
            for i in range(pb.size):
                x = pb[i]
                y = qb[i]
                ok = x >= 0.0 and x <= _FMAX and y >= 0.0 and y <= _FMAX
                c += 0 if ok else 1
                bs += x
                bt += y
                px = x > 0.0
                py = y > 0.0
                z += 1 if (px and not py) else 0
                yy = y if py else 1.0
                lt = log(yy) if cross else log_ratio(x if px else 1.0, yy)
                bh += x * lt if (px and py) else 0.0
            s += bs
            t += bt
            h += bh
        sp[r] = s
        sq[r] = t
        acc[r] = h
        bad[r] = c
        inf[r] = z
    return sp, sq, bad, inf, acc


@numba.njit(**_JIT)
def kl_rows(P, Q):
    """Per row: (Σp, Σq, #invalid, #{q = 0 < p}, Σ_{p>0, q>0} p·log(p/q))."""
    return _pair_rows(P, Q, False)


@numba.njit(**_JIT)
def cross_rows(P, Q):
    """Per row: (Σp, Σq, #invalid, #{q = 0 < p}, Σ_{p>0, q>0} p·log q)."""
    return _pair_rows(P, Q, True)


@numba.njit(**_JIT)  # the same flags as the kernels, so the accuracy tests see their code
def log_array(x):
    """Elementwise ``log`` of positive finite entries (exposed for the accuracy tests)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = log(x[i])
    return out


@numba.njit(**_JIT)
def log_ratio_array(x, y):
    """Elementwise ``log_ratio`` (exposed for the accuracy tests)."""
    out = np.empty_like(x)
    for i in range(x.size):
        out[i] = log_ratio(x[i], y[i])
    return out
