"""Error bounds of a logistic or softmax fit: strong convexity on a ball around Θ.

The objective f(Θ) = Σᵢ sᵢ(−log pᵢ) + (α/2)‖W‖² is not strongly convex everywhere (its
curvature sᵢσ(zᵢ)σ(−zᵢ) vanishes as |zᵢ| grows), so μ must hold where it is used
(``qed.bounds.ball_strong_convexity``): on the ball ‖Θ′ − Θ‖ ≤ r every score moves by at most
|Δzᵢ| ≤ ‖x̃ᵢ‖r (x̃ᵢ = (xᵢ, 1)). Since d/dz log σ′(z) = 1 − 2σ(z) ∈ (−1, 1), and since
log pₘ = zₘ − lse(z) moves by at most max Δz − min Δz ≤ ‖x̃ᵢ‖(‖ΔΘ_a‖ + ‖ΔΘ_b‖) ≤ √2‖x̃ᵢ‖r,
each row's curvature shrinks at most by

    σ′(z′) ≥ e^{−‖x̃ᵢ‖r}·σ′(z)    and    diag(p′) − p′p′ᵀ ⪰ e^{−√2‖x̃ᵢ‖r}·(diag(p) − ppᵀ)

(the second because vᵀ(diag(p) − ppᵀ)v = min_c Σₘ pₘ(vₘ − c)², a minimum of sums that each
shrink by at most that factor). So ∇²f(Θ′) ⪰ H_r = Σᵢ e^{−cᵢr}∇²fᵢ(Θ) + α·diag(W part), one
weighted Hessian at Θ. Its safe λ_min on the identifiable directions is μ_r.

The softmax's shared shifts (adding one vector to every class's parameters) leave every
pᵢ unchanged: for the intercepts always, for the weights too when α = 0. Along them f is flat
and θ* is not unique, so the bounds are on the identifiable part: the projection of Θ − Θ*
onto the orthogonal complement of those shifts (``null_space``).

For a Hessian too large to decompose, μ_r ≥ αc/(α + a + c), with c ≤ the intercept block's
curvature and a ≥ the weight block's (Cauchy–Schwarz on the positive semidefinite loss part).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import null_space as complement

from qed._blockwise import map_reduce_rows
from qed.bounds import (
    EIGEN_DENSE_MAX,
    ball_strong_convexity,
    rounding,
    safe_min_eigenvalue,
    strongly_convex_bounds,
)
from qed.classify import _logistic_loss as L
from qed.classify._logistic_solvers import LogisticProblem
from qed.classify._newton import null_space

__all__ = ["logistic_bounds"]


def _row_norms(X: Any, fit_intercept: bool) -> np.ndarray:
    squares = X.multiply(X).sum(axis=1) if sparse.issparse(X) else np.einsum("ij,ij->i", X, X)
    return np.sqrt(np.asarray(squares, dtype=np.float64).ravel() + float(fit_intercept))


def _block_ball(Xb, yb, swb, Theta, classes, fit_intercept, radius, dense):
    """One block's unpenalised Hessian terms shrunk to hold on the ball of ``radius``."""
    X = Xb if sparse.issparse(Xb) else np.ascontiguousarray(Xb, dtype=np.float64)
    codes = np.searchsorted(classes, np.asarray(yb))
    sw = np.ones(X.shape[0]) if swb is None else np.asarray(swb, dtype=np.float64)
    pb = LogisticProblem(X, codes, sw, 0.0, fit_intercept, len(classes))
    _, G, aux = pb.loss_grad(Theta)
    norms = _row_norms(X, fit_intercept)
    shrink = np.exp(-(1.0 if len(classes) == 2 else np.sqrt(2.0)) * norms * radius)
    if pb.binary:
        weight = aux * shrink  # sᵢσᵢ(1 − σᵢ), shrunk
        low = weight
    else:
        weight = sw * shrink
        low = weight * aux.min(axis=1)  # λ_min of diag(p) − ppᵀ on 1⊥ is ≥ min p
    out = {
        "norm_max": float(norms.max(initial=0.0)),
        "grad_size": float(sw @ (norms * (2.0 + norms * np.linalg.norm(Theta)))),
        "trace": float(sw @ norms**2),
        "c": float(low.sum()) if fit_intercept else 0.0,
        "a": float(weight @ (norms**2 - float(fit_intercept))),
        "G": G,
    }
    if dense:
        out["H"] = (
            L.binary_hessian(X, weight, 0.0, fit_intercept)
            if pb.binary
            else L.multinomial_hessian(X, aux, weight, 0.0, fit_intercept)
        )
    return out


def _merge(a: dict, b: dict) -> dict:
    out = {k: a[k] + b[k] for k in ("grad_size", "trace", "c", "a", "G")}
    out["norm_max"] = max(a["norm_max"], b["norm_max"])
    if "H" in a:
        out["H"] = a["H"] + b["H"]
    return out


def _null_directions(shape: tuple[int, int], d: int, alpha: float, fit_intercept: bool):
    """The shared shifts along which f is exactly flat, (k·p, m): of every parameter when
    α = 0, of the intercepts only otherwise (``_newton.null_space`` holds all of them)."""
    basis = null_space(shape)
    if shape[0] == 1 or alpha == 0:
        return basis
    return basis[:, [d]] if fit_intercept else basis[:, :0]


def logistic_bounds(obj: Any, Theta: np.ndarray) -> tuple[dict[str, float], str]:
    """Bounds on f(Θ) − f*, ‖P(Θ − Θ*)‖ and the scores, for the objective ``obj``.

    obj : a ``LogisticProblem`` or the dask objective (X, y, sw, alpha, fit_intercept, shape);
    Theta : (k', d₁) the parameters. ∇f(Θ) is measured in the same pass as the Hessian.
    """
    k, p = Theta.shape
    d = p - int(obj.fit_intercept)
    classes = getattr(obj, "classes", None)
    classes = np.arange(obj.n_classes) if classes is None else classes
    dense = Theta.size <= EIGEN_DENSE_MAX
    N = _null_directions((k, p), d, obj.alpha, obj.fit_intercept)
    Q = complement(N.T) if N.shape[1] else None
    pen = np.zeros((k, p))
    pen[:, :d] = obj.alpha

    def terms(radius: float) -> dict:
        args = (Theta, classes, obj.fit_intercept, radius, dense)
        return map_reduce_rows(_block_ball, obj.X, obj.y, obj.sw, args=args, combine=_merge)

    base = terms(0.0)
    n = int(getattr(obj, "n_rows", obj.X.shape[0]))
    formation = 8 * rounding(n + Theta.size + 4, 2.0 * base["trace"])

    def mu_on_ball(radius: float) -> float:
        t = base if radius == 0.0 else terms(radius)
        if not dense:
            if not obj.fit_intercept:
                return float(obj.alpha)
            a, c = max(t["a"], 0.0), max(t["c"], 0.0)
            return obj.alpha * c / (obj.alpha + a + c) if obj.alpha > 0 else 0.0
        H = t["H"] + np.diag(pen.ravel())
        if Q is not None:
            H = Q.T @ H @ Q
        return safe_min_eigenvalue(H, formation_error=formation)

    W = Theta[:, :d]
    G = base["G"] + pen * Theta
    g_vec = G.ravel() if Q is None else Q.T @ G.ravel()
    g_norm = (
        float(np.linalg.norm(g_vec))
        + rounding(n + Theta.size + 8, base["grad_size"])
        + rounding(4, obj.alpha * float(np.linalg.norm(W)))
    )
    radius, mu = ball_strong_convexity(g_norm, mu_on_ball, mu_on_ball(0.0))
    bounds = strongly_convex_bounds(g_norm, mu, feature_norm=base["norm_max"])
    if k > 1:
        bounds["prediction"] *= 2.0  # log pₘ = zₘ − lse(z): both terms move
    what = "on the decision function" if k == 1 else "on the log-probabilities (predict_log_proba)"
    note = (
        "bounds on f(Θ) = Σᵢ sᵢ(−log pᵢ) + ‖W‖²/(2C) (scikit-learn's objective divided by C), "
        f"on ‖Θ − Θ*‖₂ and, {what}, over the rows certified; μ = {mu:.3e} is a safe lower "
        f"bound on ∇²f over the ball of radius {radius:.3e} around Θ, which holds Θ*"
    )
    if N.shape[1]:
        note += (
            "; softmax: the shared shifts of every class's "
            + ("parameters" if obj.alpha == 0 else "intercept")
            + " leave the probabilities unchanged, so Θ* is unique only up to them and "
            "the distance bounds the identifiable part (Θ − Θ* projected off those shifts)"
        )
    if not mu > 0:
        note += "; no strong convexity was found near Θ (e.g. separable data with C = inf, "
        note += "or Θ far from the optimum), so the bounds are infinite"
    return bounds, note
