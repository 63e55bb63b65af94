"""Smoothness constants and the descent lemma (the notes' Lemma 3.1).

A differentiable f is β-smooth when ‖∇f(x) − ∇f(y)‖ ≤ β‖x − y‖ for all x, y; for a twice
differentiable f this is sup ‖∇²f‖₂ ≤ β, so β of a quadratic is the largest eigenvalue of its
Hessian. The notes then prove

    f(y) ≤ f(x) + ⟨∇f(x), y − x⟩ + β/2·‖y − x‖²,

and, for a gradient step x_{t+1} = x_t − η∇f(x_t),

    f(x_{t+1}) ≤ f(x_t) − (η − βη²/2)·‖∇f(x_t)‖²,

a guaranteed decrease whenever 0 < η < 2/β.

The two losses of the notes, as means over the n samples:

- squared:  f(β) = (1/n)·‖y − Xβ‖²,   ∇²f = 2XᵀX/n,          β = 2·λ_max(XᵀX)/n;
- logistic: f(w) = (1/n)·Σ log(1 + exp(−sᵢ·xᵢᵀw)) with sᵢ = ±1,
            ∇²f = XᵀSX/n with S = diag(σᵢ(1 − σᵢ)) ⪯ I/4,   β = λ_max(XᵀX)/(4n).
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np
from scipy import linalg
from scipy.sparse.linalg import LinearOperator, eigsh
from scipy.special import expit

from qed._validation import check_array, check_random_state, check_scalar, column_or_1d
from qed.certificate import scaled_tolerance
from qed.theory.network import (
    hessian_vector_product,
    is_model,
    loss_and_gradient_at,
    set_flat_parameters,
)

__all__ = [
    "smoothness_constant",
    "largest_eigenvalue",
    "loss_and_gradient",
    "descent_lemma_check",
]

_LOSSES = ("squared", "logistic")
_DENSE_LIMIT = 400  # below this dimension a dense eigensolver is faster than any iteration


def largest_eigenvalue(
    hvp: Callable[[np.ndarray], np.ndarray],
    dim: int,
    *,
    method: str = "auto",
    tol: float = 1e-10,
    max_iter: int = 10_000,
    random_state: Any = None,
) -> float:
    """The spectral norm max|λ| of a symmetric operator given only by ``v ↦ Hv``.

    Parameters
    ----------
    hvp : callable
        Maps a vector of shape (dim,) to H @ v of shape (dim,); H must be symmetric.
    dim : int
        Dimension of the operator.
    method : {"auto", "dense", "eigsh", "power"}
        ``"dense"`` builds H column by column and calls LAPACK; ``"eigsh"`` uses ARPACK
        (Lanczos); ``"power"`` runs the power iteration v ← Hv/‖Hv‖ until the Rayleigh quotient
        settles to ``tol`` relatively. ``"auto"`` picks dense for small dim, else eigsh.

    Returns
    -------
    float
        max |λ(H)|, which is the smoothness constant β of any f with ∇²f = H.
    """
    dim = check_scalar(dim, "dim", target_type=numbers.Integral, min_val=1)
    if method not in ("auto", "dense", "eigsh", "power"):
        raise ValueError(f"method={method!r} is not one of 'auto', 'dense', 'eigsh', 'power'.")
    if method == "auto":
        method = "dense" if dim <= _DENSE_LIMIT else "eigsh"

    def apply(v: np.ndarray) -> np.ndarray:
        out = np.asarray(hvp(np.asarray(v, dtype=float).reshape(dim)), dtype=float).reshape(-1)
        if out.shape != (dim,):
            raise ValueError(f"hvp must return a vector of shape ({dim},), got {out.shape}.")
        return out

    if method == "dense" or dim < 3:  # ARPACK needs k < dim; tiny problems are dense anyway
        H = np.column_stack([apply(e) for e in np.eye(dim)])
        H = 0.5 * (H + H.T)  # symmetrise the rounding of the product
        return float(np.max(np.abs(linalg.eigvalsh(H, check_finite=True))))
    if method == "eigsh":
        op = LinearOperator((dim, dim), matvec=apply, dtype=float)
        v0 = check_random_state(random_state).standard_normal(dim)
        vals = eigsh(op, k=1, which="LM", v0=v0, tol=tol, return_eigenvectors=False)
        return float(np.abs(vals[0]))
    rng = check_random_state(random_state)
    v = rng.standard_normal(dim)
    v /= np.linalg.norm(v)
    lam = 0.0
    for _ in range(max_iter):
        w = apply(v)
        norm = np.linalg.norm(w)
        if norm == 0.0:
            return 0.0
        new = float(abs(v @ w))
        v = w / norm
        if abs(new - lam) <= tol * max(new, np.finfo(float).tiny):
            return new
        lam = new
    return lam


def smoothness_constant(
    X: Any = None,
    *args: Any,
    loss: Any = None,
    hvp: Callable[[np.ndarray], np.ndarray] | None = None,
    dim: int | None = None,
    method: str = "auto",
    tol: float | None = None,
    max_iter: int = 10_000,
    random_state: Any = None,
) -> float:
    """The smoothness constant β of the mean loss over the rows of X, of a network, or of
    any ``hvp``.

    Called as ``smoothness_constant(X, loss="squared")`` (``loss`` may be positional),
    ``smoothness_constant(model, X, y, loss="mse")`` or ``smoothness_constant(hvp=, dim=)``.

    β = 2·λ_max(XᵀX)/n for the squared loss (1/n)‖y − Xβ‖² and β = λ_max(XᵀX)/(4n) for the
    mean logistic loss — neither depends on y. λ_max(XᵀX) = σ_max(X)² comes from a dense SVD
    for small problems and from ``eigsh`` on v ↦ Xᵀ(Xv) (never forming XᵀX) for large ones.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features), optional
        The design matrix (add a column of ones yourself to include an intercept).
    loss : {"squared", "logistic"}
    hvp, dim : callable and int, optional
        Instead of X: a Hessian-vector product v ↦ ∇²f·v on vectors of shape (dim,); then
        β = max|λ(∇²f)| by ``largest_eigenvalue`` (this is a local constant at the point the
        Hessian was taken).
    model, X, y : a network (``qed.nn.Module``) and its data, optional
        Then β = ‖∇²f(θ)‖₂ of f(θ) = loss(model_θ(X), y) at the model's current parameters θ
        (a local constant: it changes along training), by power iteration on Hessian-vector
        products (``method="auto"`` means ``"power"`` here; ``"eigsh"`` and ``"dense"`` work
        too). ``loss`` is "mse" (default), "cross_entropy" or a callable (see
        :func:`qed.theory.network.network_loss`). The parameters are left unchanged.
    method : {"auto", "dense", "eigsh", "power"}
    tol : float, optional
        Relative tolerance of the iterative methods; default 1e-10, 1e-8 for a network.
    """
    if is_model(X):
        if len(args) != 2:
            raise TypeError("smoothness_constant(model, X, y, loss=...) needs X and y.")
        _, _, op = hessian_vector_product(X, args[0], args[1], "mse" if loss is None else loss)
        n_params = sum(p.data.size for p in X.parameters() if p.requires_grad)
        return largest_eigenvalue(
            op,
            n_params,
            method="power" if method == "auto" else method,
            tol=1e-8 if tol is None else tol,
            max_iter=max_iter,
            random_state=random_state,
        )
    if len(args) > 1 or (args and loss is not None):
        raise TypeError(
            "smoothness_constant(X, loss) takes the design matrix and the loss name; for a "
            "network call smoothness_constant(model, X, y, loss=...)."
        )
    loss = args[0] if args else ("squared" if loss is None else loss)
    tol = 1e-10 if tol is None else tol
    if hvp is not None:
        if X is not None:
            raise ValueError("pass either X or hvp=..., not both.")
        if dim is None:
            raise ValueError("smoothness_constant(hvp=...) needs dim=, the length of the vectors.")
        return largest_eigenvalue(hvp, dim, method=method, tol=tol, random_state=random_state)
    if X is None:
        raise ValueError("smoothness_constant needs X (a design matrix) or hvp=... with dim=.")
    if loss not in _LOSSES:
        raise ValueError(f"loss={loss!r} is not supported; use one of {_LOSSES}.")
    X = check_array(X, input_name="X", dtype=np.float64)
    n, d = X.shape
    if method == "auto" and min(n, d) <= _DENSE_LIMIT:
        lam = float(linalg.svdvals(X, check_finite=False)[0] ** 2)
    else:
        lam = largest_eigenvalue(
            lambda v: X.T @ (X @ v),
            d,
            method="eigsh" if method == "auto" else method,
            tol=tol,
            random_state=random_state,
        )
    return 2.0 * lam / n if loss == "squared" else lam / (4.0 * n)


def _signs(y: np.ndarray) -> np.ndarray:
    """Labels {0, 1} or {−1, +1} as signs s = ±1."""
    values = np.unique(y)
    if np.all(np.isin(values, (0.0, 1.0))):
        return 2.0 * y - 1.0
    if np.all(np.isin(values, (-1.0, 1.0))):
        return y.astype(float)
    raise ValueError(
        f"the logistic loss needs labels in {{0, 1}} or {{-1, 1}}, got values {values[:5]}; "
        "encode the two classes as 0 and 1."
    )


def loss_and_gradient(
    X: Any, y: Any, loss: str = "squared"
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray]]:
    """The mean loss f(w) over the rows of X and its gradient ∇f(w), as two functions.

    squared: f = (1/n)‖y − Xw‖², ∇f = −(2/n)Xᵀ(y − Xw);
    logistic: f = (1/n)Σ log(1 + e^{−sᵢxᵢᵀw}), ∇f = −(1/n)Xᵀ(s·σ(−s·Xw)) — the notes'
    Σ(σᵢ − yᵢ)xᵢ / n written with signs, evaluated by ``logaddexp`` and an overflow-free sigmoid.
    """
    if loss not in _LOSSES:
        raise ValueError(f"loss={loss!r} is not supported; use one of {_LOSSES}.")
    X = check_array(X, input_name="X", dtype=np.float64)
    y = column_or_1d(check_array(y, input_name="y", ensure_2d=False, dtype=np.float64))
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries.")
    n = X.shape[0]
    if loss == "squared":

        def f(w: np.ndarray) -> float:
            r = y - X @ w
            return float(r @ r) / n

        def grad(w: np.ndarray) -> np.ndarray:
            return (-2.0 / n) * (X.T @ (y - X @ w))

        return f, grad
    s = _signs(y)

    def f(w: np.ndarray) -> float:
        return float(np.mean(np.logaddexp(0.0, -s * (X @ w))))

    def grad(w: np.ndarray) -> np.ndarray:
        return (-1.0 / n) * (X.T @ (s * expit(-s * (X @ w))))

    return f, grad


def descent_lemma_check(
    X: Any = None,
    y: Any = None,
    *args: Any,
    loss: Any = None,
    lr: float | None = None,
    n_steps: int = 50,
    w0: Any = None,
    beta: float | None = None,
    f: Callable[[np.ndarray], float] | None = None,
    grad: Callable[[np.ndarray], np.ndarray] | None = None,
    divergence_threshold: float = 1e12,
) -> dict[str, Any]:
    """Run gradient descent with step η and measure the descent lemma at every step.

    ``descent_lemma_check(model, X, y, loss="mse", lr=...)`` runs it on a network's
    flattened parameters θ (full-batch GD from the current θ, with β the local
    ``smoothness_constant`` at the start unless given) and leaves the model's parameters as
    they were: the notes' η < 2/β on a real network.

    The notes: if f is β-smooth, then for x_{t+1} = x_t − η∇f(x_t)

        f(x_{t+1}) ≤ f(x_t) − (η − βη²/2)·‖∇f(x_t)‖².

    The returned ``slack`` is the right side minus the left side, one entry per step; it is
    ≥ 0 (up to rounding) for every η, and the bound is a guaranteed *decrease* only for
    η < 2/β. For η > 2/β the iterates of a quadratic grow geometrically; the run stops once
    f exceeds ``divergence_threshold``·f(x₀) and reports ``diverged=True``.

    Parameters
    ----------
    X, y : data for ``loss`` ("squared" or "logistic"); or ``f``, ``grad`` and ``w0`` for any
        β-smooth function (then ``beta`` is required).
    lr : float, optional
        The step η; default 1/β.
    w0 : array of shape (n_features,), optional
        Starting point; default zeros.

    Returns
    -------
    dict with ``lr``, ``beta``, ``f`` (values f(x_t), t = 0..steps), ``grad_sq``
    (‖∇f(x_t)‖²), ``bound`` (the lemma's right side for each step), ``slack`` (bound − f(x_{t+1})),
    ``tolerance`` (rounding allowance on the slack), ``holds`` (all slack ≥ −tolerance),
    ``decreasing`` (f never increased), ``diverged`` and ``steps`` (steps taken).
    """
    n_steps = check_scalar(n_steps, "n_steps", target_type=numbers.Integral, min_val=1)
    if is_model(X):
        if len(args) != 1 or y is None:
            raise TypeError("descent_lemma_check(model, X, y, ...) needs X and y.")
        model, X_net, y_net = X, y, args[0]
        model_loss = "mse" if loss is None else loss
        f, grad, theta0 = loss_and_gradient_at(model, X_net, y_net, model_loss)
        params = [p for p in model.parameters() if p.requires_grad]
        try:
            if beta is None:
                beta = smoothness_constant(model, X_net, y_net, loss=model_loss)
            return descent_lemma_check(
                f=f,
                grad=grad,
                w0=theta0,
                beta=beta,
                lr=lr,
                n_steps=n_steps,
                divergence_threshold=divergence_threshold,
            )
        finally:
            set_flat_parameters(params, theta0)
    if args:
        raise TypeError("descent_lemma_check(X, y, ...) takes two positional arguments.")
    loss = "squared" if loss is None else loss
    if f is None or grad is None:
        if X is None or y is None:
            raise ValueError("descent_lemma_check needs X and y, or f=, grad=, w0= and beta=.")
        f, grad = loss_and_gradient(X, y, loss)
        Xa = check_array(X, input_name="X", dtype=np.float64)
        if beta is None:
            beta = smoothness_constant(Xa, loss)
        w = np.zeros(Xa.shape[1]) if w0 is None else np.array(w0, dtype=float)
    else:
        if beta is None or w0 is None:
            raise ValueError("with f= and grad=, pass beta= (the smoothness constant) and w0=.")
        w = np.array(w0, dtype=float)
    beta = float(
        check_scalar(float(beta), "beta", target_type=numbers.Real, min_val=0.0, include_min=False)
    )
    lr = (
        1.0 / beta
        if lr is None
        else float(
            check_scalar(float(lr), "lr", target_type=numbers.Real, min_val=0.0, include_min=False)
        )
    )
    coeff = lr - beta * lr**2 / 2.0
    fs, gs, bounds = [f(w)], [], []
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(n_steps):
            g = grad(w)
            g2 = float(g @ g)
            gs.append(g2)
            bounds.append(fs[-1] - coeff * g2)
            w = w - lr * g
            fs.append(f(w))
            if not np.isfinite(fs[-1]) or abs(fs[-1]) > divergence_threshold * max(abs(fs[0]), 1.0):
                diverged = True
                break
    fs_arr, gs_arr, b_arr = np.array(fs), np.array(gs), np.array(bounds)
    slack = b_arr - fs_arr[1:]
    # Rounding in f and in η‖∇f‖² is relative to the size of the terms compared.
    scale = np.abs(fs_arr[:-1]) + np.abs(fs_arr[1:]) + abs(coeff) * gs_arr
    tol = np.array([scaled_tolerance(s, n=w.size, factor=100.0) for s in scale])
    return {
        "lr": lr,
        "beta": beta,
        "f": fs_arr,
        "grad_sq": gs_arr,
        "bound": b_arr,
        "slack": slack,
        "tolerance": tol,
        "holds": bool(np.all(slack >= -tol)),
        "decreasing": bool(np.all(np.diff(fs_arr) <= tol)),
        "diverged": diverged,
        "steps": len(gs),
    }
