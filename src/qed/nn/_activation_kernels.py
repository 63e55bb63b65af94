"""GELU in float32 as one compiled pass: x·Φ(x) and its derivative Φ(x) + x·φ(x) together.

scipy's ``ndtr`` on a float32 array costs ~13 ns an entry here (a scalar double-precision
routine per entry), which made GELU the largest element-wise cost of a small network. In
float32 the output needs only float32's precision, so Φ comes from the complementary error
function in a form LLVM vectorises:

    erfc(z) ≈ t·exp(−z² + P(t)),   t = 1/(1 + z/2),   z ≥ 0,

with P the degree-9 polynomial of Numerical Recipes' ``erfcc`` (a Chebyshev fit, relative
error below 1.2e-7 for every z ≥ 0, measured 1.07e-7 on [0, 30] against scipy's ``erfc``), and
Φ(x) = ½erfc(−x/√2) for x < 0, 1 − ½erfc(x/√2) otherwise: relative accuracy in the lower tail,
where Φ is small. The arithmetic is float64 (``vexp`` for both exponentials), the results
rounded once to float32. float64 inputs keep scipy's ``ndtr`` (exact to the last bits).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from qed._vmath import vexp

__all__ = ["gelu_float32"]

_ERFCC = (
    -1.26551223,
    1.00002368,
    0.37409196,
    0.09678418,
    -0.18628806,
    0.27886807,
    -1.13520398,
    1.48851587,
    -0.82215223,
    0.17087277,
)
_INV_SQRT2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327


def gelu_float32(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(x·Φ(x), Φ(x) + x·φ(x)) for a float32 array a of any shape, both float32."""
    flat = np.ascontiguousarray(a).reshape(-1)
    out = np.empty(flat.size, dtype=np.float32)
    deriv = np.empty(flat.size, dtype=np.float32)
    _gelu_rows(flat, out, deriv)
    return out.reshape(a.shape), deriv.reshape(a.shape)


@njit(cache=True, nogil=True, error_model="numpy", fastmath={"contract"})
def _gelu_rows(x, out, deriv):  # pragma: no cover - compiled
    block = 1024  # float64 scratch of this many entries stays in L1
    g = np.empty(block)  # −x²/2, then exp(−x²/2)
    e = np.empty(block)  # P(t), then exp(P(t))
    t = np.empty(block)
    bits = np.empty(block, dtype=np.int64)
    c = _ERFCC
    for lo in range(0, x.size, block):
        m = min(block, x.size - lo)
        # views of the block: indexing them, not x[lo + i], lets LLVM vectorise the loops
        xs, os, ds = x[lo : lo + m], out[lo : lo + m], deriv[lo : lo + m]
        for i in range(m):
            v = np.float64(xs[i])
            z = abs(v) * _INV_SQRT2
            ti = 1.0 / (1.0 + 0.5 * z)
            p = c[9]
            for k in range(8, -1, -1):  # Horner; a constant trip count, unrolled by LLVM
                p = p * ti + c[k]
            t[i] = ti
            e[i] = p
            g[i] = -0.5 * v * v
        vexp(g[:m], bits[:m])
        vexp(e[:m], bits[:m])
        for i in range(m):
            v = np.float64(xs[i])
            half_erfc = 0.5 * t[i] * g[i] * e[i]  # ½erfc(|x|/√2)
            cdf = half_erfc if v < 0.0 else 1.0 - half_erfc  # a select: no cancellation
            os[i] = v * cdf
            ds[i] = cdf + v * _INV_SQRT_2PI * g[i]
