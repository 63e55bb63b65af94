"""Issue 16's bad input for the second-order check of a network's certificate → a clear error.

Each row names the call, the error type and a regex the message must match (the problem and,
where there is one, the fix). Nothing may crash inside numpy or return a NaN eigenvalue.
"""

from __future__ import annotations

import numpy as np
import pytest

from qed.base import NotFittedError
from qed.nn import MLPRegressor
from qed.theory import extreme_eigenvalues

RNG = np.random.default_rng(0)
X = RNG.standard_normal((30, 3))
Y = X[:, 0] - X[:, 1]
MODEL = MLPRegressor((4,), activation="tanh", epochs=2, random_state=0).fit(X, Y)

CASES = [
    ("n_hvp=0", lambda: MODEL.certificate(X, Y, n_hvp=0), ValueError, "n_hvp"),
    ("n_hvp=2.5", lambda: MODEL.certificate(X, Y, n_hvp=2.5), TypeError, "n_hvp"),
    ("n_hvp='many'", lambda: MODEL.certificate(X, Y, n_hvp="many"), TypeError, "n_hvp"),
    ("htol<0", lambda: MODEL.certificate(X, Y, htol=-1.0), ValueError, "htol"),
    ("htol=nan", lambda: MODEL.certificate(X, Y, htol=float("nan")), ValueError, "htol"),
    (
        "unfitted",
        lambda: MLPRegressor().certificate(X, Y),
        NotFittedError,
        "not fitted",
    ),
    (
        "wrong feature count",
        lambda: MODEL.certificate(X[:, :2], Y),
        ValueError,
        "features",
    ),
    (
        "hvp of the wrong length",
        lambda: extreme_eigenvalues(lambda v: np.zeros(3), 5),
        ValueError,
        r"shape \(5,\)",
    ),
    (
        "hvp returns NaN",
        lambda: extreme_eigenvalues(lambda v: v * np.nan, 4),
        ValueError,
        "not finite",
    ),
    ("dim=0", lambda: extreme_eigenvalues(lambda v: v, 0), ValueError, "dim"),
    (
        "n_products=0",
        lambda: extreme_eigenvalues(lambda v: v, 3, n_products=0),
        ValueError,
        "n_products",
    ),
]


@pytest.mark.parametrize("call, error, message", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
