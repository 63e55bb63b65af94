"""Sharpness along training: the largest Hessian eigenvalue of a network's loss under
full-batch gradient descent, against the notes' stability threshold 2/η.

The notes' descent lemma guarantees f(θ_{t+1}) ≤ f(θ_t) − (η − βη²/2)‖∇f(θ_t)‖² while
η < 2/β. For a network β is local: the sharpness λ_max(∇²f(θ_t)) moves along the run. On a
quadratic, GD with η > 2/λ_max diverges along the top eigenvector; on networks the
sharpness typically rises during training until it reaches 2/η and then hovers there while
the loss keeps decreasing non-monotonically (Cohen et al., 2021, "the edge of stability").
:func:`sharpness_along_training` returns the data for that figure; it plots nothing.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import LinearOperator, eigsh

from qed._validation import check_random_state, check_scalar
from qed.theory.network import (
    hessian_vector_product,
    loss_and_gradient_at,
    set_flat_parameters,
)

__all__ = ["top_eigenvalue", "sharpness_along_training"]

_DENSE_LIMIT = 300


def top_eigenvalue(
    hvp: Callable[[np.ndarray], np.ndarray],
    dim: int,
    *,
    tol: float = 1e-8,
    random_state: Any = None,
) -> float:
    """λ_max (the largest, signed) of a symmetric operator given by ``v ↦ Hv``: dense LAPACK
    for dim ≤ 300, else Lanczos (ARPACK ``eigsh``, which="LA")."""
    if dim <= _DENSE_LIMIT or dim < 3:
        H = np.column_stack([hvp(e) for e in np.eye(dim)])
        return float(linalg.eigvalsh(0.5 * (H + H.T))[-1])
    op = LinearOperator((dim, dim), matvec=hvp, dtype=float)
    v0 = check_random_state(random_state).standard_normal(dim)
    return float(eigsh(op, k=1, which="LA", v0=v0, tol=tol, return_eigenvectors=False)[0])


def sharpness_along_training(
    model: Any,
    X: Any,
    y: Any,
    *,
    lr: float,
    loss: Any = "mse",
    n_steps: int = 100,
    every: int = 1,
    tol: float = 1e-8,
    divergence_threshold: float = 1e12,
    random_state: Any = None,
) -> dict[str, Any]:
    """Train ``model`` by full-batch GD, θ ← θ − η∇f(θ), recording λ_max(∇²f(θ_t)).

    Parameters
    ----------
    model : qed.nn.Module
        Trained from its current parameters; they are restored at the end (the run is an
        experiment, not a fit). Call ``model.eval()`` first if it has dropout.
    X, y : the data; f(θ) = loss(model_θ(X), y) over all of it.
    lr : float
        The step η; the threshold the sharpness is compared with is 2/η.
    loss : "mse", "cross_entropy" or callable
        See :func:`qed.theory.network.network_loss`.
    n_steps : int
        GD steps.
    every : int
        Measure the sharpness at steps 0, every, 2·every, … (each costs up to d or a few
        dozen Hessian-vector products).

    Returns
    -------
    dict with
        ``step`` : int array, the steps t at which the sharpness was measured;
        ``sharpness`` : float array, λ_max(∇²f(θ_t)) at those steps;
        ``loss`` : float array of length steps + 1, f(θ_t) for t = 0, 1, …;
        ``lr`` : η;  ``threshold`` : 2/η;
        ``above_threshold`` : bool array, sharpness > 2/η at each measured step;
        ``diverged`` : whether f blew up (the run then stops early);
        ``steps`` : the number of GD steps taken.
    """
    lr = float(
        check_scalar(float(lr), "lr", target_type=numbers.Real, min_val=0.0, include_min=False)
    )
    n_steps = check_scalar(n_steps, "n_steps", target_type=numbers.Integral, min_val=0)
    every = check_scalar(every, "every", target_type=numbers.Integral, min_val=1)
    f, gradient, theta0 = loss_and_gradient_at(model, X, y, loss)
    params = [p for p in model.parameters() if p.requires_grad]
    rng = check_random_state(random_state)
    theta = theta0.copy()
    steps, sharp, losses = [], [], []
    diverged = False
    try:
        for t in range(n_steps + 1):
            set_flat_parameters(params, theta)
            if t % every == 0:
                value, g, hvp = hessian_vector_product(model, X, y, loss)
                steps.append(t)
                sharp.append(top_eigenvalue(hvp, theta.size, tol=tol, random_state=rng))
            else:
                value, g = f(theta), gradient(theta)
            losses.append(value)
            if not np.isfinite(value) or abs(value) > divergence_threshold * max(
                abs(losses[0]), 1.0
            ):
                diverged = True
                break
            if t < n_steps:
                theta = theta - lr * g
    finally:
        set_flat_parameters(params, theta0)
    sharpness = np.array(sharp)
    return {
        "step": np.array(steps, dtype=int),
        "sharpness": sharpness,
        "loss": np.array(losses),
        "lr": lr,
        "threshold": 2.0 / lr,
        "above_threshold": sharpness > 2.0 / lr,
        "diverged": diverged,
        "steps": len(losses) - 1,
    }
