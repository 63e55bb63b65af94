"""First-order solvers for the logistic objective: full-batch GD and mini-batch SGD.

The notes: θₖ₊₁ = θₖ − α∇L(θₖ) with the full-batch gradient (1/N)Σᵢ∇fᵢ, or a mini-batch
estimate of it. Both minimise the averaged objective F = f/Σsᵢ of ``_logistic_loss``, so the
gradient has unit scale whatever n is. The update itself is any ``qed.optim`` optimizer,
which sees Θ as one parameter with ``.data`` and ``.grad``, PyTorch-style.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.sparse.linalg import LinearOperator, eigsh

from qed.classify._logistic_solvers import LogisticProblem
from qed.classify._newton import SolverResult

__all__ = ["first_order", "smoothness"]


class _Param:
    """Θ as an optimizer parameter: ``data`` is updated in place by ``step()``."""

    def __init__(self, data: np.ndarray):
        self.data = data
        self.grad: np.ndarray | None = None


def smoothness(problem: LogisticProblem) -> float:
    """β with ‖∇F(Θ) − ∇F(Θ')‖ ≤ β‖Θ − Θ'‖: λ_max(X̃ᵀdiag(s)X̃)·c/Σs + α/Σs.

    c = ¼ for the sigmoid (σ' ≤ ¼) and ½ for the softmax (the Hessian diag(p) − ppᵀ has
    norm ≤ ½), so a step 1/β is the descent lemma's safe step.
    """
    X, sw = problem.X, problem.sw
    if sparse.issparse(X):
        lam = _sparse_gram_norm(X, sw, problem.fit_intercept)
    else:
        Xt = np.column_stack([X, np.ones(len(X))]) if problem.fit_intercept else X
        G = Xt.T @ (sw[:, None] * Xt)
        lam = (
            float(eigsh(G, k=1, which="LA", return_eigenvectors=False)[0])
            if len(G) > 2
            else float(np.linalg.eigvalsh(G)[-1])
        )
    c = 0.25 if problem.binary else 0.5
    return (c * lam + problem.alpha) / float(sw.sum())


def _sparse_gram_norm(X, sw, fit_intercept: bool) -> float:
    """λ_max(X̃ᵀdiag(s)X̃) for a sparse X by Lanczos on v ↦ X̃ᵀ(s ⊙ X̃v), never formed."""
    d = X.shape[1]
    p = d + int(fit_intercept)

    def matvec(v):
        v = np.ravel(v)
        u = sw * (X @ v[:d] + (v[d] if fit_intercept else 0.0))
        out = np.empty(p)
        out[:d] = X.T @ u
        if fit_intercept:
            out[d] = u.sum()
        return out

    if p <= 2:
        G = np.column_stack([matvec(e) for e in np.eye(p)])
        return float(np.linalg.eigvalsh(G)[-1])
    op = LinearOperator((p, p), matvec=matvec, dtype=np.float64)
    # to working precision, as the dense path: the default step 1/β is then the same
    return float(eigsh(op, k=1, which="LA", return_eigenvectors=False)[0])


def _make_optimizer(optimizer: Any, param: _Param, problem: LogisticProblem):
    """Build the optimizer over Θ from the estimator's ``optimizer`` parameter.

    None → ``SGD(lr=1/β)``; a name of ``qed.optim.OPTIMIZERS`` ("sgd", "adam", "adamw",
    "adagrad", "rmsprop") or a dict ``{"name": ..., **hyperparameters}`` (both saveable by
    ``qed.save``; "sgd" without an lr gets 1/β); a ``qed.optim`` optimizer class; or a
    factory ``params -> optimizer``.
    """
    from qed import optim

    names = optim.OPTIMIZERS
    if optimizer is None:
        optimizer = "sgd"
    if isinstance(optimizer, (str, dict)):
        spec = {"name": optimizer} if isinstance(optimizer, str) else dict(optimizer)
        name = str(spec.pop("name", "")).lower()
        if name not in names:
            raise ValueError(
                f"optimizer name {name!r} is not known; use one of {sorted(names)}, e.g. "
                "optimizer={'name': 'adam', 'lr': 0.05}."
            )
        if name == "sgd" and "lr" not in spec:
            spec["lr"] = 1.0 / smoothness(problem)
        return names[name]([param], **spec)
    if isinstance(optimizer, type) and issubclass(optimizer, optim.Optimizer):
        return optimizer([param])
    if callable(optimizer):
        opt = optimizer([param])
        if not hasattr(opt, "step") or not hasattr(opt, "zero_grad"):
            raise TypeError(
                f"optimizer(params) returned {type(opt).__name__}, which has no step()/"
                "zero_grad(); pass a qed.optim optimizer class or a factory "
                "params -> optimizer, e.g. functools.partial(qed.optim.Adam, lr=0.01)."
            )
        return opt
    raise TypeError(
        f"optimizer must be None, a name, a dict {{'name': ..., 'lr': ...}}, a qed.optim "
        f"optimizer class or a factory params -> optimizer, got {type(optimizer).__name__}."
    )


def _averaged_grad(problem: LogisticProblem, Theta: np.ndarray, rows, total: float):
    """F and ∇F on the rows ``rows`` (all when None), scaled to estimate the full F."""
    if rows is None:
        f, G, _ = problem.loss_grad(Theta)
        return f / total, G / total
    n = len(problem.y)
    scale = n / len(rows)
    sub = LogisticProblem(
        problem.X[rows],
        problem.y[rows],
        problem.sw[rows],
        problem.alpha / scale,
        problem.fit_intercept,
        problem.n_classes,
    )
    f, G, _ = sub.loss_grad(Theta)
    return f * scale / total, G * (scale / total)


def first_order(
    problem: LogisticProblem,
    Theta0: np.ndarray,
    tol: float,
    max_iter: int,
    *,
    optimizer: Any,
    batch_size: int | None,
    rng: np.random.Generator,
):
    """Run ``max_iter`` epochs of GD (``batch_size=None``) or SGD; stop once ‖∇F‖∞ ≤ tol.

    Default optimizer: the notes' plain step θ ← θ − ∇F/β (``qed.optim.SGD`` with lr = 1/β).
    ``loss_curve`` holds F after every epoch.
    """
    param = _Param(Theta0.copy())
    opt = _make_optimizer(optimizer, param, problem)
    total = float(problem.sw.sum())
    n = len(problem.y)
    batch = n if batch_size is None else min(int(batch_size), n)
    curve: list[float] = []
    converged = False
    epochs = 0
    for epochs in range(1, max_iter + 1):  # noqa: B007 - the count is the result
        if batch >= n:
            opt.zero_grad()
            _, param.grad = _averaged_grad(problem, param.data, None, total)
            opt.step()
        else:
            order = rng.permutation(n)
            for start in range(0, n, batch):
                rows = order[start : start + batch]
                opt.zero_grad()
                _, param.grad = _averaged_grad(problem, param.data, rows, total)
                opt.step()
        F, G = _averaged_grad(problem, param.data, None, total)
        curve.append(F)
        if not np.all(np.isfinite(param.data)):
            raise FloatingPointError(
                "the first-order solver diverged (non-finite parameters); lower the "
                "optimizer's learning rate."
            )
        if np.abs(G).max() <= tol:
            converged = True
            break
    separated = problem.alpha == 0 and problem.separates(param.data)
    return SolverResult(param.data, epochs, converged, curve, separated=separated)
