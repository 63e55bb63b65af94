"""How fast GD and SGD drive the gradient to zero on a β-smooth function.

The notes, for SGD x_{t+1} = x_t − η∇̃f(x_t) with E_t[∇̃f] = ∇f and E_t‖∇̃f‖² ≤ G:

    Σ_{t<T} E‖∇f(x_t)‖² ≤ (f₀ − f*)/η + (β/2)·η·G·T,

so with η = 1/√T

    min_{t<T} E‖∇f(x_t)‖² ≤ (f₀ − f*)/√T + (β/2)·G/√T = O(1/√T):

a straight line of slope −1/2 on log-log axes. Full-batch GD with η = 1/β instead has no noise
term: min_t ‖∇f(x_t)‖² ≤ 2β(f₀ − f*)/T = O(1/T).

The experiment here is a least-squares finite sum f(w) = (1/2n)Σ(xᵢᵀw − yᵢ)² with noisy
targets (so the per-sample gradients do not vanish at the minimum) and SGD picking one row
per step; all seeds run at once as the rows of one matrix.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
from scipy import linalg

from qed._validation import check_random_state, check_scalar

__all__ = ["least_squares_problem", "sgd_convergence", "gd_convergence", "loglog_slope"]


def loglog_slope(T: Any, values: Any) -> float:
    """The least-squares slope of log(values) against log(T)."""
    T, values = np.asarray(T, dtype=float), np.asarray(values, dtype=float)
    if T.size < 2 or T.shape != values.shape or np.any(T <= 0) or np.any(values <= 0):
        raise ValueError("loglog_slope needs ≥ 2 positive T and values of the same shape.")
    return float(np.polyfit(np.log(T), np.log(values), 1)[0])


def least_squares_problem(
    n_samples: int = 200, n_features: int = 5, noise: float = 1.0, random_state: Any = None
) -> dict[str, Any]:
    """A β-smooth finite sum f(w) = (1/2n)‖Xw − y‖² with x ~ N(0, I) and noisy y.

    Returns X, y, the minimiser ``w_star``, ``f_star``, the Hessian ``H`` = XᵀX/n and
    ``beta`` = λ_max(H).
    """
    rng = check_random_state(random_state)
    X = rng.standard_normal((n_samples, n_features))
    y = X @ rng.standard_normal(n_features) + noise * rng.standard_normal(n_samples)
    w_star = linalg.lstsq(X, y)[0]
    H = X.T @ X / n_samples
    r = X @ w_star - y
    return {
        "X": X,
        "y": y,
        "w_star": w_star,
        "f_star": float(r @ r) / (2 * n_samples),
        "H": H,
        "beta": float(linalg.eigvalsh(H)[-1]),
    }


def _run_sgd(problem: dict, T: int, lr: float, n_seeds: int, rng: np.random.Generator):
    """SGD on all seeds at once; returns E‖∇f(x_t)‖² (mean over seeds) for t = 0..T−1."""
    X, y, H = problem["X"], problem["y"], problem["H"]
    n, d = X.shape
    b = X.T @ y / n
    W = np.zeros((n_seeds, d))
    grad_sq = np.empty(T)
    for t in range(T):
        G = W @ H - b  # full gradients ∇f(w) = Hw − Xᵀy/n of every run, shape (n_seeds, d)
        grad_sq[t] = np.mean(np.einsum("ij,ij->i", G, G))
        idx = rng.integers(0, n, size=n_seeds)
        Xi = X[idx]
        residual = np.einsum("ij,ij->i", Xi, W) - y[idx]
        W -= lr * residual[:, None] * Xi  # one-sample gradient (xᵢᵀw − yᵢ)xᵢ
    return grad_sq


def sgd_convergence(
    T_values: Any = (100, 316, 1000, 3162, 10000),
    *,
    n_seeds: int = 200,
    lr_scale: float = 0.5,
    n_samples: int = 200,
    n_features: int = 2,
    noise: float = 1.0,
    random_state: Any = None,
    plot: bool = False,
) -> dict[str, Any]:
    """SGD with η = lr_scale/√T for each horizon T; min_t E‖∇f(x_t)‖² falls like T^(−1/2).

    Parameters
    ----------
    T_values : sequence of int
        The horizons T (number of SGD steps); each gets its own step η = lr_scale/√T.
    n_seeds : int
        Independent runs averaged to estimate the expectation E‖∇f(x_t)‖².

    Returns
    -------
    dict with ``T``, ``lr`` (η per T), ``grad_sq`` (min over t of E‖∇f(x_t)‖²), ``avg_grad_sq``
    ((1/T)Σ_t E‖∇f(x_t)‖², the quantity the notes' sum bounds), ``slope`` and ``slope_avg``
    (fitted log-log slopes; the notes predict −1/2), ``bound`` (the notes' right side
    (f₀ − f*)/(ηT) + βηG/2 with G = max E‖∇̃f‖² estimated at x₀ and x*), ``curves`` (the
    full E‖∇f(x_t)‖² curve per T) and, with ``plot=True``, ``figure``.
    """
    T_values = np.asarray(T_values, dtype=int)
    if T_values.ndim != 1 or T_values.size < 2 or np.any(T_values < 1):
        raise ValueError("T_values must be at least two positive integers, e.g. (100, 1000).")
    n_seeds = check_scalar(n_seeds, "n_seeds", target_type=numbers.Integral, min_val=1)
    lr_scale = check_scalar(
        float(lr_scale), "lr_scale", target_type=numbers.Real, min_val=0.0, include_min=False
    )
    rng = check_random_state(random_state)
    problem = least_squares_problem(n_samples, n_features, noise, rng)
    X, y, w_star = problem["X"], problem["y"], problem["w_star"]
    # G bounds E‖∇̃f‖²: the mean squared per-sample gradient, at the start (0) and at w*.
    G = max(
        float(np.mean(np.sum((y[:, None] * X) ** 2, 1))),
        float(np.mean(np.sum(((X @ w_star - y)[:, None] * X) ** 2, 1))),
    )
    f0 = float(y @ y) / (2 * n_samples)
    mins, avgs, lrs, bounds, curves = [], [], [], [], []
    for T in T_values:
        lr = lr_scale / np.sqrt(T)
        curve = _run_sgd(problem, int(T), lr, n_seeds, rng)
        curves.append(curve)
        mins.append(float(curve.min()))
        avgs.append(float(curve.mean()))
        lrs.append(lr)
        bounds.append((f0 - problem["f_star"]) / (lr * T) + problem["beta"] * lr * G / 2)
    out = {
        "T": T_values,
        "lr": np.array(lrs),
        "grad_sq": np.array(mins),
        "avg_grad_sq": np.array(avgs),
        "bound": np.array(bounds),
        "slope": loglog_slope(T_values, mins),
        "slope_avg": loglog_slope(T_values, avgs),
        "beta": problem["beta"],
        "curves": curves,
    }
    if plot:
        from qed.theory.plotting import plot_convergence

        out["figure"] = plot_convergence(out)
    return out


def gd_convergence(
    T_values: Any = (10, 30, 100, 300, 1000),
    *,
    n_samples: int = 200,
    n_features: int = 5,
    noise: float = 1.0,
    condition: float = 100.0,
    random_state: Any = None,
) -> dict[str, Any]:
    """Full-batch GD with η = 1/β on an ill-conditioned least-squares problem.

    The notes' descent lemma summed over t gives min_{t<T} ‖∇f(x_t)‖² ≤ 2β(f₀ − f*)/T.
    The columns of X are scaled so that the Hessian has condition number about ``condition``.
    Returns ``T``, ``grad_sq`` (min_t ‖∇f(x_t)‖²), ``bound`` and ``beta``.
    """
    T_values = np.asarray(T_values, dtype=int)
    if T_values.ndim != 1 or T_values.size < 1 or np.any(T_values < 1):
        raise ValueError("T_values must be positive integers, e.g. (10, 100, 1000).")
    rng = check_random_state(random_state)
    problem = least_squares_problem(n_samples, n_features, noise, rng)
    X = problem["X"] * np.geomspace(1.0, np.sqrt(condition), n_features)
    y = problem["y"]
    H, b = X.T @ X / n_samples, X.T @ y / n_samples
    beta = float(linalg.eigvalsh(H)[-1])
    w_star = linalg.lstsq(X, y)[0]
    r = X @ w_star - y
    gap = float(y @ y) / (2 * n_samples) - float(r @ r) / (2 * n_samples)
    w = np.zeros(n_features)
    g2 = []
    for _ in range(int(T_values.max())):
        g = H @ w - b
        g2.append(float(g @ g))
        w -= g / beta
    running_min = np.minimum.accumulate(np.array(g2))
    return {
        "T": T_values,
        "grad_sq": running_min[T_values - 1],
        "bound": 2 * beta * gap / T_values,
        "beta": beta,
    }
