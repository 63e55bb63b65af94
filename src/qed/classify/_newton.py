"""One damped Newton driver for the logistic / softmax objective, whatever computes it.

The driver sees the objective f(Θ) = Σᵢ sᵢ(−log pᵢ) + (α/2)‖W‖² only through a callable
Θ ↦ (f, ∇f, curvature), where the curvature gives ∇²f at Θ as a matrix, as Hessian-vector
products, or both. The in-memory fit (``_logistic_solvers.LogisticProblem``) computes them
with fused passes over X; the dask fit (``_dask_logistic.DaskObjective``) as blockwise sums
on the cluster. Everything else is here, once: the solve for the direction (Cholesky or
preconditioned CG), the softmax's flat directions, the Armijo line search, the warm start from
a subsample, the stopping rule and the optimality certificate.

An objective provides

- ``__call__(Θ) -> (f, G, curvature)`` with G = ∇f of Θ's shape (k', d₁), and a curvature
  object with ``cost`` (multiply-adds to form the matrix; 0 when it is already formed),
  ``matrix()`` (∇²f of shape (k'·d₁, k'·d₁) in ``Θ.ravel()`` order, a new array), and,
  needed only when ``cost`` exceeds ``DIRECT_MAX_FLOPS`` (then Newton solves by CG),
  ``matvec(V)`` (∇²f·V for V of Θ's shape) and ``preconditioner()`` (an approximation of
  V ↦ (∇²f)⁻¹V);
- ``shape``, ``n_classes``, ``n_rows``, ``total`` (Σsᵢ) and ``alpha`` (1/C);
- ``gradient_floor(dtype)``: the rounding level of ‖∇f‖∞ (eps·Σsᵢ·max|x̃|, scaled by 1e3);
- ``subsample()``: the same objective on about 1/8 of the rows (random rows in memory, every
  8th block on dask) with weights scaled to estimate f, or None (too few rows, or a class
  missing from the part);
- ``separates(Θ)``: True when Θ classifies every weighted sample strictly correctly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigvalsh

from qed.certificate import Certificate, scaled_tolerance

__all__ = ["SolverResult", "newton", "null_space", "certify", "cholesky", "factor_apply"]

# Newton solves with the exact Hessian by Cholesky while forming it costs ≤ this many
# multiply-adds (n·P² for P = k·d₁ parameters); beyond, preconditioned CG is cheaper
DIRECT_MAX_FLOPS = 5e7
# a warm start from a subsample of m rows is solved to the tolerance WARM_START_C/√m: the
# start's sampling error (its averaged gradient on all rows is O(1/√m)) dwarfs anything
# tighter; measured on the benchmark, 0.03 saves one Hessian per level against a fixed 1e-4
# and leaves the full-data steps unchanged
WARM_START_C = 0.03
# rebuild the CG preconditioner once CG needs more steps than this with the old one
REBUILD_AFTER = 6
# CG's residual r is the next gradient to first order (∇f(Θ + Δ) = ∇f + ∇²fΔ + O(‖Δ‖²) = −r +
# O(‖Δ‖²)), so CG stops at GOAL_FRACTION of the stopping level ‖∇f‖∞ ≤ goal even where the
# forcing term asks for less: the last step needs no more (on the sparse benchmark 5 → 2
# products). Asking for that much earlier does not pay: there the O(‖Δ‖²) term dominates
GOAL_FRACTION = 0.25
MAX_CG = 250
# the certificate forms ∇²f (and its λ_min) up to this many parameters; beyond (large sparse
# problems) it checks the weights of S, which make X̃ᵀSX̃ + αI PSD (``curvature.psd_defect``)
CERT_DENSE_MAX = 4096


@dataclass
class SolverResult:
    Theta: np.ndarray
    n_iter: int
    converged: bool
    loss_curve: list[float] = field(default_factory=list)
    separated: bool = False
    precond: object = None  # Newton: its last exact inverse Hessian, when it formed one
    # Newton: (f, ∇f, curvature) at Θ and the preconditioner cache, for a path's next run
    last: tuple | None = None
    cache: dict | None = None


def null_space(shape: tuple[int, int]) -> np.ndarray:
    """Orthonormal basis of the softmax's shared-shift directions, (k·p, p); none for k' = 1.

    Adding the same vector v to every class's parameters leaves every pᵢ unchanged, so along
    (v, …, v) the Hessian is only the penalty: 0 for the intercepts, α for the weights (0 when
    C = ∞). These directions span an invariant subspace of ∇²f, and ∇f stays orthogonal to it
    from Θ = 0 on (Σ_m ∇_{w_m}f = αΣ_m w_m = 0 there), so Newton works in its orthogonal
    complement: exact, and rid of the tiny eigenvalue α that makes CG crawl.
    """
    k, p = shape
    if k == 1:
        return np.zeros((p, 0))
    basis = np.zeros((k, p, p))
    basis[:, np.arange(p), np.arange(p)] = 1.0 / np.sqrt(k)
    return basis.reshape(k * p, p)


def cholesky(H: np.ndarray):
    """Cholesky factor of H (overwritten), adding the smallest multiple of I that makes it
    succeed when H is numerically singular (α = 0 with saturated probabilities, or collinear
    features)."""
    shift = 0.0
    while True:
        try:
            return cho_factor(H, lower=True, check_finite=False)
        except LinAlgError:
            step = max(2 * shift, np.finfo(H.dtype).eps * max(np.trace(H), 1.0))
            H.flat[:: H.shape[0] + 1] += step - shift
            shift = step


def factor_apply(factor):
    """V ↦ H⁻¹V for a Cholesky factor of H, V of any shape with H's number of entries."""
    return lambda R: cho_solve(factor, R.ravel(), check_finite=False).reshape(R.shape)


def _project(V, null):
    """V − NNᵀV: with N the shared-shift basis (``null_space``), NNᵀV puts the mean of V's
    rows in every row, so the projection is one subtraction (no (k·p) × p matrix)."""
    if not null:
        return V
    return V - V.mean(axis=0, keepdims=True)


def _direction(G, curv, null, cache, total, goal=0.0):
    """Solve ∇²f·Δ = −∇f: Cholesky on the exact Hessian while forming it is cheap, else
    preconditioned CG on exact Hessian-vector products (``_newton_cg``).

    The flat directions N are lifted by adding NNᵀ, which makes the system positive definite
    without changing Δ, because ∇f ⟂ N.
    """
    if curv.cost > DIRECT_MAX_FLOPS:
        return _newton_cg(G, curv, null, cache, total, goal)
    H = curv.matrix()
    if null:
        N = null_space(G.shape)
        H += N @ N.T
    factor = cholesky(H)
    # kept: a level of rows above (the warm start) preconditions its CG with it
    cache["precond"] = cache["exact"] = factor_apply(factor)
    cache["cg_steps"] = 0
    return -cho_solve(factor, G.ravel(), check_finite=False).reshape(G.shape)


def _newton_cg(G, curv, null, cache, total, goal=0.0):
    """Truncated Newton: preconditioned CG on ∇²f·Δ = −∇f with exact products ∇²f·v.

    Each product costs about one gradient, against n·P² for forming the Hessian. The
    preconditioner (``curv.preconditioner()``) is reused across Newton steps while CG still
    converges in a few steps with it, and rebuilt at the current iterate when it no longer
    does. Its accuracy only affects the number of CG steps, never the answer, which the
    exact products and gradient determine. CG stops at the residual min(½, √(‖g‖/Σs))·‖g‖
    (Eisenstat–Walker forcing, which keeps Newton's superlinear rate) — but never below
    ``GOAL_FRACTION``·goal, goal being the driver's stopping level for ‖∇f‖∞ — or at a
    direction of non-positive curvature.
    """
    if cache.get("precond") is None or cache.get("cg_steps", 0) > REBUILD_AFTER:
        cache["precond"] = curv.preconditioner()
    block = cache["precond"]

    def precond(R):
        return _project(block(R), null)

    def hessp(V):
        return _project(curv.matvec(V), null)

    g = _project(G, null)
    gnorm = np.linalg.norm(g)
    target = min(0.5, np.sqrt(gnorm / max(total, 1.0))) * gnorm
    target = max(target, GOAL_FRACTION * goal)
    D = np.zeros_like(g)
    R = -g
    Zr = precond(R)
    S = Zr.copy()
    rz = np.vdot(R, Zr)
    steps = 0
    for steps in range(1, MAX_CG + 1):  # noqa: B007 - the count is kept for the rebuild rule
        HS = hessp(S)
        curvature = np.vdot(S, HS)
        if curvature <= 0:
            break
        step = rz / curvature
        D += step * S
        R -= step * HS
        if np.linalg.norm(R) <= target:
            break
        Zr = precond(R)
        rz_new = np.vdot(R, Zr)
        S = Zr + (rz_new / rz) * S
        rz = rz_new
    cache["cg_steps"] = steps
    return D if np.any(D) else -g


def _warm_start(obj, Theta0, tol, max_iter):
    """Newton on ``obj.subsample()``, kept only if it lowers f below f(Θ₀).

    Returns (Θ, (f, ∇f, curvature) at Θ, cache) or None. f(0) = Σsᵢ·log k needs no pass.
    """
    sub = obj.subsample()
    if sub is None:
        return None
    # the sampling error of the start (~1/√m) dwarfs any tighter tolerance
    start = newton(sub, Theta0, max(tol, WARM_START_C / np.sqrt(sub.n_rows)), max_iter)
    if start.separated or not np.all(np.isfinite(start.Theta)):
        return None
    trial = obj(start.Theta)
    f0 = obj.total * np.log(obj.n_classes) if not Theta0.any() else obj(Theta0)[0]
    if not trial[0] < f0:
        return None
    # the sample's last exact Hessian (weights scaled up) estimates this one near the
    # optimum: CG's first preconditioner
    return start.Theta.copy(), trial, {"precond": start.precond, "cg_steps": 0}


def newton(
    obj: Any,
    Theta0: np.ndarray,
    tol: float,
    max_iter: int,
    *,
    subsample: bool = True,
    start: tuple | None = None,
    cache: dict | None = None,
) -> SolverResult:
    """Damped Newton (IRLS): Θ ← Θ + tΔ with ∇²f·Δ = −∇f and t halved until Armijo holds.

    The line search makes every step decrease f, so Newton never diverges even far from the
    optimum, where the full step can overshoot; near it t = 1 and convergence is quadratic.
    When the objective offers a subsample (many rows), the iteration starts from the optimum
    of the same objective on it (found the same way, recursively): that point is within the
    sampling error of the answer, where Newton converges quadratically, so the expensive
    full-data steps are spent only on the last digits (``subsample=False`` skips that, for a
    Θ₀ that is already close, e.g. the previous C's optimum on a path). Stops when ‖∇f‖∞ ≤ max(tol·Σsᵢ,
    rounding level) (scikit-learn's rule on the averaged objective f/Σsᵢ).

    start : (f, ∇f, curvature) already known at Θ₀ (a path derives it from the previous
        run's ``last`` without a pass); cache : a previous run's ``cache``, whose CG
        preconditioner is kept while CG still converges in a few steps with it.
    """
    total = obj.total
    null = Theta0.shape[0] > 1  # the softmax's flat directions exist (see ``null_space``)
    warm = _warm_start(obj, Theta0, tol, max_iter) if subsample and start is None else None
    if warm is None:
        Theta, cache = Theta0.copy(), {} if cache is None else cache
        f, G, curv = obj(Theta) if start is None else start
    else:
        Theta, (f, G, curv), cache = warm
    floor = obj.gradient_floor()  # after a first pass, which may have found max|X|
    curve = [f / total]
    # Armijo is blind to changes below the rounding of an n-term sum (n·eps·|f|): at the
    # end Newton's decrease is smaller than that and only ∇f can see progress
    noise = obj.n_rows * np.finfo(float).eps * abs(f)
    local = False  # a full step has been accepted: Newton's quadratic model holds here
    for it in range(1, max_iter + 1):
        gmax = np.abs(G).max()
        if gmax <= max(tol * total, floor):
            return SolverResult(
                Theta,
                it - 1,
                True,
                curve,
                precond=cache.get("exact"),
                last=(f, G, curv),
                cache=cache,
            )
        if obj.alpha == 0 and obj.separates(Theta):
            return SolverResult(Theta, it - 1, False, curve, separated=True)
        D = _direction(G, curv, null, cache, total, max(tol * total, floor))
        slope = float(np.vdot(G, D))
        if slope >= 0:  # not a descent direction (rounding): fall back to steepest descent
            D, slope = -G, -float(np.vdot(G, G))
        t = 1.0
        for _ in range(60):
            f_new, G_new, curv_new = obj(Theta + t * D)
            if f_new <= f + 1e-4 * t * slope + noise:
                break
            t *= 0.5
        else:
            # no decrease at any step length: f is flat to rounding, Θ is optimal to precision
            return SolverResult(
                Theta, it, bool(gmax <= 1e3 * floor), curve, last=(f, G, curv), cache=cache
            )
        if t < 1.0 and local and hasattr(obj, "exact_products"):
            obj.exact_products()  # the model failed where it should hold: exact products
        local = local or t == 1.0
        Theta = Theta + t * D
        f, G, curv = f_new, G_new, curv_new
        curve.append(f / total)
    converged = np.abs(G).max() <= max(tol * total, floor)
    separated = obj.alpha == 0 and obj.separates(Theta)
    return SolverResult(
        Theta,
        max_iter,
        bool(converged),
        curve,
        separated=bool(separated),
        last=(f, G, curv),
        cache=cache,
    )


def certify(obj: Any, Theta: np.ndarray, title: str, tol: float, dtype: Any) -> Certificate:
    """The notes' optimality argument for Θ, measured through the objective.

    1. ``stationarity``: ‖∇f/Σsᵢ‖∞ ≤ max(tol, rounding level eps·max|x̃|, eps of ``dtype``,
       the precision the parameters are stored in);
    2. ``hessian_psd``: −λ_min(∇²f/Σsᵢ) ≤ ε = eps·‖∇²f/Σsᵢ‖·dim scaled: the Hessian
       X̃ᵀSX̃ (+ αI) is positive semidefinite, which is why the stationary point is the global
       minimum.
    """
    _, G, curv = obj(Theta)
    total = obj.total
    cert = Certificate(title)
    cert.add(
        "stationarity",
        float(np.abs(G).max()) / total,
        max(float(tol), obj.gradient_floor(dtype) / total),
        "‖∇f‖∞/Σsᵢ: the gradient Σᵢ sᵢ(pᵢ − yᵢ)x̃ᵢ + W/C of the averaged objective is zero "
        "(largest entry)",
    )
    if Theta.size > CERT_DENSE_MAX and hasattr(curv, "psd_defect"):
        cert.add(
            "hessian_weights_nonnegative",
            curv.psd_defect(),
            64 * np.finfo(float).eps,
            "max(−min weight, simplex defect): ∇²f = X̃ᵀSX̃ + I/C with S = diag(sᵢσᵢ(1 − σᵢ)) "
            "(softmax: blocks sᵢ(diag(pᵢ) − pᵢpᵢᵀ), PSD for pᵢ on the simplex) has every weight "
            "≥ 0, so ∇²f is positive semidefinite and the stationary point is the global "
            "minimum (checked on the weights: the matrix is too large to form)",
        )
        return cert
    H = curv.matrix() / total
    lam = float(eigvalsh(H, subset_by_index=[0, 0], check_finite=False)[0])
    cert.add(
        "hessian_psd",
        max(-lam, 0.0),
        scaled_tolerance(float(np.abs(H).max(initial=0.0)), dtype=H.dtype, n=H.shape[0]),
        "−λ_min(∇²f/Σsᵢ): the Hessian X̃ᵀSX̃ + I/C is positive semidefinite "
        f"(λ_min = {lam:.3e}), so the stationary point is the global minimum",
    )
    return cert
