"""Experiments of the notes: variance through depth, and the overfitting curve.

Variance through depth (the notes' initialisation section). For z = Σᵢ wᵢxᵢ over D_in inputs
with i.i.d. wᵢ of mean 0 and variance σ², independent of x with second moment S = E[x²],

    Var(z) = D_in·σ²·S,

and after a ReLU h = max(z, 0) (z symmetric) E[h²] = ½·E[z²] = ½·D_in·σ²·S. So Xavier
(σ² = 1/D_in on the square layers used here) keeps E[z²] = S for a linear layer but halves
E[h²] at every ReLU layer, and He (σ² = 2/D_in) keeps ReLU networks level.

"xavier" means what it means in ``qed.nn`` (and PyTorch): Glorot's σ² = 2/(fan_in + fan_out),
which on a square layer is the notes' 1/D_in; the notes' fan-in form 1/fan_in for any shape is
the explicit ``"xavier_fan_in"``.

Overfitting (the notes' y = [1 x … x^m]β): polynomial least squares of growing degree m on
few noisy points — training error falls monotonically, test error falls then explodes — and
the same with a ridge penalty λ‖β‖², which tames it.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy import linalg

from qed._validation import check_random_state, check_scalar

__all__ = [
    "INITS",
    "ACTIVATIONS",
    "init_std",
    "init_variance",
    "predicted_variance",
    "overfitting_curve",
    "polynomial_design",
]

# name -> (c, mode): σ² = c/fan with fan = fan_in, or (fan_in + fan_out)/2 for "fan_avg"
# (Glorot); the same meanings as qed.nn.init and qed.nn.Linear(init=...).
INITS = {
    "xavier": (1.0, "fan_avg"),
    "xavier_uniform": (1.0, "fan_avg"),
    "xavier_fan_in": (1.0, "fan_in"),
    "he": (2.0, "fan_in"),
    "he_uniform": (2.0, "fan_in"),
}
ACTIVATIONS = {
    "relu": lambda z: np.maximum(z, 0.0),
    "tanh": np.tanh,
    "linear": lambda z: z,
}


def init_std(init: str, fan_in: int, fan_out: int | None = None) -> float:
    """σ of an initialisation: Xavier (Glorot) σ² = 2/(fan_in + fan_out), the notes' Xavier
    σ² = 1/fan_in (``"xavier_fan_in"``), He σ² = 2/fan_in. ``fan_out`` defaults to ``fan_in``
    (a square layer, where both Xavier forms agree)."""
    if init not in INITS:
        raise ValueError(f"init={init!r} is not one of {sorted(INITS)}.")
    c, mode = INITS[init]
    fan_out = fan_in if fan_out is None else fan_out
    fan = fan_in if mode == "fan_in" else (fan_in + fan_out) / 2
    return float(np.sqrt(c / fan))


def _weights(init: str, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    std = init_std(init, shape[0], shape[1])
    if init.endswith("_uniform"):
        bound = np.sqrt(3.0) * std  # Var(Uni(−b, b)) = b²/3 (the notes)
        return rng.uniform(-bound, bound, size=shape)
    return rng.normal(0.0, std, size=shape)


def init_variance(
    depth: int = 10,
    width: int = 256,
    init: str = "he",
    activation: str = "relu",
    random_state: Any = None,
    *,
    n_samples: int = 1000,
    input_second_moment: float = 1.0,
) -> np.ndarray:
    """The second moment E[h²] of the activations, layer by layer, of a random deep network.

    Parameters
    ----------
    depth : int
        Number of layers (each width × width, no bias).
    width : int
        D_in of every layer.
    init : {"xavier", "xavier_uniform", "xavier_fan_in", "he", "he_uniform"}
    activation : {"relu", "tanh", "linear"}
    n_samples : int
        Inputs x ~ N(0, S·I) pushed through the network; E[h²] is the mean over samples and
        units.

    Returns
    -------
    ndarray of shape (depth + 1,)
        Entry 0 is E[x²] of the input, entry l the E[h²] after layer l. Compare with
        ``predicted_variance``: He/ReLU stays at S, Xavier/ReLU halves each layer.
    """
    depth = check_scalar(depth, "depth", target_type=numbers.Integral, min_val=1)
    width = check_scalar(width, "width", target_type=numbers.Integral, min_val=1)
    n_samples = check_scalar(n_samples, "n_samples", target_type=numbers.Integral, min_val=1)
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation={activation!r} is not one of {sorted(ACTIVATIONS)}.")
    if init not in INITS:
        raise ValueError(f"init={init!r} is not one of {sorted(INITS)}.")
    rng = check_random_state(random_state)
    act = ACTIVATIONS[activation]
    h = rng.normal(0.0, np.sqrt(input_second_moment), size=(n_samples, width))
    out = [float(np.mean(h * h))]
    for _ in range(depth):
        h = act(h @ _weights(init, (width, width), rng))
        out.append(float(np.mean(h * h)))
    return np.array(out)


def predicted_variance(
    depth: int, init: str = "he", activation: str = "relu", input_second_moment: float = 1.0
) -> np.ndarray:
    """The notes' prediction E[h_l²] = (c·D_in·σ²)^l·S with c = ½ for ReLU, 1 for linear.

    No closed form exists for tanh (it is linear only near 0), so ``activation="tanh"``
    raises ValueError.
    """
    if activation not in ("relu", "linear"):
        raise ValueError("the notes derive the variance only for ReLU and linear layers.")
    if init not in INITS:
        raise ValueError(f"init={init!r} is not one of {sorted(INITS)}.")
    # on the square layers of init_variance, σ²·D_in = c for every initialisation
    gain = INITS[init][0] * (0.5 if activation == "relu" else 1.0)
    return input_second_moment * gain ** np.arange(depth + 1, dtype=float)


def polynomial_design(x: Any, degree: int) -> np.ndarray:
    """The notes' rows [1 x x² … x^m] for each x, shape (n_samples, degree + 1)."""
    return np.vander(np.asarray(x, dtype=float).ravel(), degree + 1, increasing=True)


def _fit_polynomial(x: np.ndarray, y: np.ndarray, degree: int, alpha: float) -> np.ndarray:
    """Least squares (alpha = 0) or ridge with unpenalised intercept on [1 x … x^m]."""
    A = polynomial_design(x, degree)
    if alpha == 0.0:
        return linalg.lstsq(A, y, lapack_driver="gelsd")[0]
    # ‖y − Aβ‖² + α‖β₁..ₘ‖² as one least-squares problem on [A; √α·[0 I]]: stable, no XᵀX.
    penalty = np.sqrt(alpha) * np.eye(degree + 1)[1:]
    stacked = np.vstack([A, penalty])
    return linalg.lstsq(stacked, np.concatenate([y, np.zeros(degree)]), lapack_driver="gelsd")[0]


def overfitting_curve(
    degrees: Any = range(0, 16),
    *,
    n_train: int = 15,
    n_test: int = 500,
    noise: float = 0.2,
    alpha: float = 1e-3,
    random_state: Any = None,
    plot: bool = False,
) -> dict[str, Any]:
    """Train and test mean squared error of polynomial fits of each degree, with and without ridge.

    Data: x ~ U(−1, 1), y = sin(πx) + noise·ε, n_train training and n_test test points.
    Each degree m fits β in y ≈ [1 x … x^m]β by least squares (``train_mse``/``test_mse``) and
    by ridge with penalty α‖β‖² on all but the intercept (``ridge_train_mse``/
    ``ridge_test_mse``). Also returns the data (``x_train``… ``y_test``), ``best_degree``
    (lowest test error without ridge), the least-squares coefficients per degree
    (``coefs``), their values on ``grid`` (300 points of [−1, 1]) as ``fitted``, and, with
    ``plot=True``, ``figure``.
    """
    degrees = np.asarray(list(degrees), dtype=int)
    if degrees.ndim != 1 or degrees.size == 0 or np.any(degrees < 0):
        raise ValueError("degrees must be non-negative integers, e.g. range(0, 16).")
    n_train = check_scalar(n_train, "n_train", target_type=numbers.Integral, min_val=2)
    n_test = check_scalar(n_test, "n_test", target_type=numbers.Integral, min_val=1)
    alpha = check_scalar(alpha, "alpha", target_type=numbers.Real, min_val=0.0)
    rng = check_random_state(random_state)
    x_train = np.sort(rng.uniform(-1, 1, n_train))
    x_test = rng.uniform(-1, 1, n_test)
    y_train = np.sin(np.pi * x_train) + noise * rng.standard_normal(n_train)
    y_test = np.sin(np.pi * x_test) + noise * rng.standard_normal(n_test)

    def mse(x: np.ndarray, y: np.ndarray, coef: np.ndarray) -> float:
        r = y - polynomial_design(x, coef.size - 1) @ coef
        return float(r @ r) / y.size

    rows: dict[str, list] = {k: [] for k in ("train", "test", "rtrain", "rtest", "coefs")}
    for m in degrees:
        coef = _fit_polynomial(x_train, y_train, int(m), 0.0)
        ridge = _fit_polynomial(x_train, y_train, int(m), float(alpha))
        rows["coefs"].append(coef)
        rows["train"].append(mse(x_train, y_train, coef))
        rows["test"].append(mse(x_test, y_test, coef))
        rows["rtrain"].append(mse(x_train, y_train, ridge))
        rows["rtest"].append(mse(x_test, y_test, ridge))
    test = np.array(rows["test"])
    grid = np.linspace(-1.0, 1.0, 300)
    out = {
        "degrees": degrees,
        "train_mse": np.array(rows["train"]),
        "test_mse": test,
        "ridge_train_mse": np.array(rows["rtrain"]),
        "ridge_test_mse": np.array(rows["rtest"]),
        "alpha": float(alpha),
        "best_degree": int(degrees[np.argmin(test)]),
        "coefs": rows["coefs"],
        "grid": grid,
        "fitted": [polynomial_design(grid, c.size - 1) @ c for c in rows["coefs"]],
        "x_train": x_train,
        "y_train": y_train,
        "x_test": x_test,
        "y_test": y_test,
        "noise": float(noise),
    }
    if plot:
        from qed.theory.plotting import plot_overfitting

        out["figure"] = plot_overfitting(out)
    return out
