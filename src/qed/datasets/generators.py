"""Synthetic data with known ground truth, for the demos and tests of the notes."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from qed._validation import check_random_state, check_scalar

__all__ = ["make_regression", "make_polynomial_data", "make_separable", "make_classification"]


def _count(value: Any, name: str, minimum: int = 1) -> int:
    return int(check_scalar(value, name, target_type=numbers.Integral, min_val=minimum))


def make_regression(
    n_samples: int = 100,
    n_features: int = 10,
    *,
    n_informative: int | None = None,
    n_targets: int = 1,
    noise: float = 0.0,
    bias: float = 0.0,
    coef: bool = False,
    random_state: Any = None,
) -> tuple[np.ndarray, ...]:
    """Y = Xβ + b + ε with X ~ N(0, I), ε ~ N(0, noise²): the notes' linear-Gaussian model.

    Only the first ``n_informative`` coefficients are non-zero (uniform on [0, 100)).

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) or (n_samples, n_targets)
    coef : ndarray of shape (n_features,) or (n_features, n_targets), when ``coef=True``
    """
    n = _count(n_samples, "n_samples")
    d = _count(n_features, "n_features")
    k = d if n_informative is None else _count(n_informative, "n_informative", 0)
    if k > d:
        raise ValueError(f"n_informative={k} exceeds n_features={d}; choose n_informative ≤ d.")
    t = _count(n_targets, "n_targets")
    check_scalar(noise, "noise", min_val=0.0)
    rng = check_random_state(random_state)
    X = rng.standard_normal((n, d))
    beta = np.zeros((d, t))
    beta[:k] = 100.0 * rng.random((k, t))
    y = X @ beta + bias
    if noise > 0:
        y += noise * rng.standard_normal(y.shape)
    if t == 1:
        y, beta = y.ravel(), beta.ravel()
    return (X, y, beta) if coef else (X, y)


def make_polynomial_data(
    n_samples: int = 20,
    *,
    noise: float = 0.2,
    low: float = 0.0,
    high: float = 1.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """A noisy 1-D curve y = sin(2πx) + ε for the notes' overfitting demo.

    A polynomial y = [1 x … xᵐ]β of growing degree m fits the training points ever better
    while its test error explodes: the notes' "needlessly large dimension ⇒ overfitting".

    Returns
    -------
    x : ndarray of shape (n_samples, 1), uniform on [low, high]
    y : ndarray of shape (n_samples,)
    """
    n = _count(n_samples, "n_samples")
    check_scalar(noise, "noise", min_val=0.0)
    if not high > low:
        raise ValueError(f"high={high} must be greater than low={low}.")
    rng = check_random_state(random_state)
    x = rng.uniform(low, high, size=(n, 1))
    y = np.sin(2 * np.pi * x[:, 0]) + noise * rng.standard_normal(n)
    return x, y


def make_separable(
    n_samples: int = 100,
    n_features: int = 2,
    *,
    margin: float = 1.0,
    spread: float = 1.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Two linearly separable classes, labels ±1, with geometric margin greater than ``margin``.

    A random unit normal w is drawn; each point is x = s·w + (I − wwᵀ)z with z ~ N(0, spread²I)
    and signed distance s = y·(margin + Exp(spread)), so every point lies strictly outside the
    slab |wᵀx| ≤ margin and the hard-margin SVM's margin 1/‖w*‖ exceeds ``margin``.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) with values in {−1, +1}, both classes present
    """
    n = _count(n_samples, "n_samples", 2)
    d = _count(n_features, "n_features")
    check_scalar(margin, "margin", min_val=0.0, include_min=False)
    check_scalar(spread, "spread", min_val=0.0, include_min=False)
    rng = check_random_state(random_state)
    w = rng.standard_normal(d)
    w /= np.linalg.norm(w)
    y = np.where(np.arange(n) % 2 == 0, 1.0, -1.0)
    rng.shuffle(y)
    s = y * (margin + rng.exponential(spread, size=n))
    Z = spread * rng.standard_normal((n, d))
    Z -= np.outer(Z @ w, w)
    return Z + np.outer(s, w), y


def make_classification(
    n_samples: int = 100,
    n_features: int = 2,
    *,
    n_classes: int = 2,
    class_sep: float = 1.0,
    random_state: Any = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Gaussian blobs, one per class, centred at random points ``class_sep`` apart in scale.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
    y : ndarray of shape (n_samples,) with integer labels 0 … n_classes − 1
    """
    n = _count(n_samples, "n_samples")
    d = _count(n_features, "n_features")
    k = _count(n_classes, "n_classes", 2)
    if n < k:
        raise ValueError(f"n_samples={n} is smaller than n_classes={k}; need one per class.")
    rng = check_random_state(random_state)
    centers = class_sep * rng.standard_normal((k, d))
    y = np.arange(n) % k
    rng.shuffle(y)
    return centers[y] + rng.standard_normal((n, d)), y
