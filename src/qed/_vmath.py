"""exp and log in loops that LLVM vectorises, for the compiled kernels.

numba's exp and log are scalar libm calls (~10–20 ns each). Shared by the SVM's rbf rows
(``classify._svm_kernels``) and the logistic passes (``classify._logistic_kernels``): in
both, the per-sample transcendental calls were a large part of a pass.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

__all__ = ["vexp", "vlog", "exp_rows"]

# exp(r) on |r| ≤ ln2/2 by its Taylor polynomial to degree 13 (remainder < 1e-17 relative)
_EXP_C = tuple(1.0 / math.factorial(k) for k in range(14))
_LOG2E = 1.4426950408889634
_LN2_HI = 6.93147180369123816490e-01  # ln 2 split in two so that k·ln2 is exact for |k| ≤ 2¹¹
_LN2_LO = 1.90821492927058770002e-10


# The flags are stated, not left as the default: numba compiles a callee whose flags are
# unset with its caller's, and the logistic passes use reassociation, which undid the split of
# ln 2 into two parts (118 ulp at exp(−500)); the tests call these after such a caller. Only
# contraction is allowed: a·b + c as one FMA, one rounding instead of two, so never less
# exact (measured 1.9 → 1.4 ns an entry: without it each Horner step is a multiply and an add)
@njit(cache=True, fastmath={"contract"})
def vexp(z, bits):
    """z ← exp(z) for z ≤ 0, within ~1 ulp of libm, in loops LLVM vectorises.

    numba's own exp is a scalar libm call, which made it most of the cost of an rbf row:
    exp(x) = 2ᵏ·exp(r) with k = round(x/ln 2), r = x − k·ln 2, 2ᵏ assembled in the exponent
    bits. Values below e⁻⁷⁰⁸ (< 1e-307) are returned as e⁻⁷⁰⁸ instead of denormals or 0.
    """
    c = _EXP_C
    for t in range(len(z)):
        x = max(z[t], -708.0)
        k = np.floor(x * _LOG2E + 0.5)
        r = (x - k * _LN2_HI) - k * _LN2_LO
        p = c[13]
        p = p * r + c[12]
        p = p * r + c[11]
        p = p * r + c[10]
        p = p * r + c[9]
        p = p * r + c[8]
        p = p * r + c[7]
        p = p * r + c[6]
        p = p * r + c[5]
        p = p * r + c[4]
        p = p * r + c[3]
        p = p * r + c[2]
        p = p * r + 1.0
        z[t] = p * r + 1.0
        bits[t] = (np.int64(k) + 1023) << 52
    scale = bits.view(np.float64)
    for t in range(len(z)):
        z[t] *= scale[t]


@njit(cache=True, nogil=True)
def exp_rows(Z):
    """Z ← exp(Z) in place, row by row, for Z (r, c) float64 C-contiguous with Z ≤ 0 (up to
    round-off): ``vexp`` on each row, the GIL released so that row blocks run on threads.
    Returns Z. numpy's float64 exp took 2.6 ns an entry here, this 1.4 ns."""
    bits = np.empty(Z.shape[1], dtype=np.int64)
    for r in range(Z.shape[0]):
        vexp(Z[r], bits)
    return Z


# log m = 2·atanh(s), s = (m − 1)/(m + 1), |s| ≤ 0.1716 for m in [√½, √2): the odd series to
# s²¹ leaves a relative remainder below 3e-17
_ATANH_C = tuple(2.0 / (2 * k + 1) for k in range(11))
_SQRT2 = 1.4142135623730951
_MANTISSA = (1 << 52) - 1
_ONE = 1023 << 52


# error_model="numpy": Python's model checks every division for zero, which stops LLVM's
# vectoriser (7× slower here); contraction only, as for vexp
@njit(cache=True, error_model="numpy", fastmath={"contract"})
def vlog(x, bits):
    """x ← log(x) for normal x > 0 (no zeros, subnormals, inf or NaN), within ~2 ulp of libm,
    in loops LLVM vectorises; ``bits`` an int64 scratch of x's length.

    x = 2ᵉ·m with m in [1, 2) from the bits, moved to [√½, √2) so that |s| is small; then
    log x = e·ln 2 + 2·atanh((m − 1)/(m + 1)).
    """
    c = _ATANH_C
    raw = x.view(np.int64)
    for t in range(len(x)):
        b = raw[t]
        bits[t] = (b & _MANTISSA) | _ONE
        x[t] = float(((b >> 52) & 2047) - 1023)
    mant = bits.view(np.float64)
    for t in range(len(x)):
        m = mant[t]
        e = x[t]
        big = m > _SQRT2
        m = m * 0.5 if big else m
        e = e + 1.0 if big else e
        s = (m - 1.0) / (m + 1.0)
        s2 = s * s
        p = c[10]
        p = p * s2 + c[9]
        p = p * s2 + c[8]
        p = p * s2 + c[7]
        p = p * s2 + c[6]
        p = p * s2 + c[5]
        p = p * s2 + c[4]
        p = p * s2 + c[3]
        p = p * s2 + c[2]
        p = p * s2 + c[1]
        p = p * s2 + c[0]
        x[t] = e * _LN2_HI + (e * _LN2_LO + s * p)
