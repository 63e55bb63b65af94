"""Solvers for the logistic / softmax objective of ``_logistic_loss``: Newton, L-BFGS, GD, SGD.

Each solver takes a ``LogisticProblem`` and returns a ``SolverResult``. The stopping rule is
scikit-learn's: the largest entry of the gradient of the *averaged* objective f/Σsᵢ falls
below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.optimize import minimize

from qed.classify import _logistic_kernels as K
from qed.classify import _logistic_loss as L

__all__ = ["LogisticProblem", "SolverResult", "newton", "lbfgs"]

# Newton solves with the exact Hessian by Cholesky while forming it costs ≤ this many
# multiply-adds (n·P² for P = k·d₁ parameters); beyond, preconditioned CG is cheaper
DIRECT_MAX_FLOPS = 5e7
# rows of the random subsample that the CG preconditioner's Hessian is estimated on
SUBSAMPLE_ROWS = 4096
# Newton on more rows than this first solves on a 1/WARM_START_FRACTION random subsample
WARM_START_MIN_ROWS = 8_000
WARM_START_FRACTION = 8
# ... to the tolerance WARM_START_C/√m on its m rows: the start's sampling error (its averaged
# gradient on all rows is O(1/√m)) dwarfs anything tighter; measured on the benchmark, 0.03
# saves one Hessian per level against a fixed 1e-4 and leaves the full-data steps unchanged
WARM_START_C = 0.03
# rebuild the CG preconditioner once CG needs more steps than this with the old one
REBUILD_AFTER = 6


@dataclass
class LogisticProblem:
    """The data of one fit. ``y`` holds 0/1 for the sigmoid (k = 2) or codes 0 … k−1."""

    X: np.ndarray
    y: np.ndarray
    sw: np.ndarray
    alpha: float
    fit_intercept: bool
    n_classes: int
    x_max: float | None = None

    @property
    def binary(self) -> bool:
        return self.n_classes == 2

    @property
    def shape(self) -> tuple[int, int]:
        k = 1 if self.binary else self.n_classes
        return k, self.X.shape[1] + int(self.fit_intercept)

    def loss_grad(self, Theta):
        if not self.binary:
            return L.multinomial_loss_grad(
                Theta, self.X, self.y, self.sw, self.alpha, self.fit_intercept
            )
        # the sigmoid's pass finds max|X| on the way: the gradient floor needs no pass of its own
        found = [] if self.x_max is None else None
        out = L.binary_loss_grad(
            Theta, self.X, self.y, self.sw, self.alpha, self.fit_intercept, found
        )
        if found:
            self.x_max = float(found[0])
        return out

    def hessian(self, aux):
        if self.binary:
            return L.binary_hessian(self.X, aux, self.alpha, self.fit_intercept)
        return L.multinomial_hessian(self.X, aux, self.sw, self.alpha, self.fit_intercept)

    def null_space(self) -> np.ndarray:
        """Orthonormal flat directions of the objective (softmax only), (k·d₁, m)."""
        k, p = self.shape
        if self.binary:
            return np.zeros((p, 0))
        return L.hessian_null_space(k, p, self.X.shape[1], self.alpha, self.fit_intercept)

    def subsample(self, m: int, seed: int = 0) -> LogisticProblem | None:
        """The same objective on about m random rows, weights scaled by n/m so that
        f_sub ≈ f; None when some class would be missing from the sample."""
        n = len(self.y)
        # Bernoulli sampling: one O(n) pass, about m rows
        rows = np.flatnonzero(np.random.default_rng(seed).random(n) < m / n)
        m = len(rows)
        if m == 0:
            return None
        y = self.y[rows]
        if len(np.unique(y)) < self.n_classes:
            return None
        # a known max|X| bounds the sample's too; else the sample finds its own on its first pass
        return LogisticProblem(
            self.X[rows],
            y,
            self.sw[rows] * (n / m),
            self.alpha,
            self.fit_intercept,
            self.n_classes,
            self.x_max,
        )

    def separates(self, Theta) -> bool:
        """True when Θ classifies every weighted sample strictly correctly (α = 0 ⇒ no MLE)."""
        Z = L.scores(Theta, self.X, self.fit_intercept)
        keep = self.sw > 0
        if self.binary:
            return bool(np.all((Z[:, 0] * (2 * self.y - 1))[keep] > 0))
        rows = np.arange(len(self.y))
        own = Z[rows, self.y]
        Z[rows, self.y] = -np.inf
        return bool(np.all((own - Z.max(axis=1))[keep] > 0))

    def gradient_floor(self, dtype=np.float64) -> float:
        """Rounding level of ‖∇f‖∞: eps·Σᵢ sᵢ·max|x̃ᵢ| (the terms summed into each entry),
        with eps of ``dtype`` (the precision the parameters are stored in)."""
        if self.x_max is None:  # max|X| without an n×d temporary; subsamples inherit it
            self.x_max = float(K.max_abs(self.X)) if self.X.size else 0.0
        scale = max(self.x_max, 1.0 if self.fit_intercept else 0.0)
        return 1e3 * np.finfo(dtype).eps * float(self.sw.sum()) * max(scale, 1e-300)


@dataclass
class SolverResult:
    Theta: np.ndarray
    n_iter: int
    converged: bool
    loss_curve: list[float] = field(default_factory=list)
    separated: bool = False
    precond: object = None  # Newton: its last exact inverse Hessian, when it formed one


def _newton_direction(problem, G, aux, null, cache):
    """Solve ∇²f·Δ = −∇f: Cholesky on the exact (block) Hessian while forming it is cheap,
    else preconditioned CG on exact Hessian-vector products (``_newton_cg``).

    The flat directions N (shared shifts of the softmax parameters) are lifted by adding NNᵀ,
    which makes the system positive definite without changing Δ, because ∇f ⟂ N.
    """
    k, p = problem.shape
    if len(problem.y) * (k * p) ** 2 > DIRECT_MAX_FLOPS:
        return _newton_cg(problem, G, aux, null, cache)
    H = problem.hessian(aux)
    if null.shape[1]:
        H += null @ null.T
    factor = _cholesky(H)
    # kept: a level of rows above (see ``newton``) preconditions its CG with it
    cache["precond"] = cache["exact"] = _factor_apply(factor)
    cache["cg_steps"] = 0
    return -cho_solve(factor, G.ravel(), check_finite=False).reshape(G.shape)


def _factor_apply(factor):
    return lambda R: cho_solve(factor, R.ravel(), check_finite=False).reshape(R.shape)


def _cholesky(H):
    """Cholesky factor of H, adding the smallest multiple of I that makes it succeed when H is
    numerically singular (α = 0 with saturated probabilities, or collinear features)."""
    shift = 0.0
    while True:
        try:
            return cho_factor(H, lower=True, check_finite=False)
        except LinAlgError:
            step = max(2 * shift, np.finfo(H.dtype).eps * max(np.trace(H), 1.0))
            H.flat[:: H.shape[0] + 1] += step - shift
            shift = step


def _newton_cg(problem, G, aux, null, cache, max_cg=250):
    """Truncated Newton: preconditioned CG on ∇²f·Δ = −∇f with exact products ∇²f·v.

    Each product costs two passes over X (like one gradient), against n·P² for forming the
    Hessian. The preconditioner is the Hessian (block diagonal for the softmax) on a random
    subset of rows, factored; it is reused across Newton steps while CG still converges in
    a few steps with it, and rebuilt at the current iterate when it no longer does. Its
    accuracy only affects the number of CG steps, never the answer, which the exact
    products and gradient determine. CG stops at the residual min(½, √(‖g‖/n))·‖g‖
    (Eisenstat–Walker forcing, which keeps Newton's superlinear rate) or at a direction of
    non-positive curvature.
    """
    X, sw, alpha, fi = problem.X, problem.sw, problem.alpha, problem.fit_intercept
    if cache.get("precond") is None or cache.get("cg_steps", 0) > REBUILD_AFTER:
        cache["precond"] = _subsampled_preconditioner(problem, aux)
    block = cache["precond"]

    def precond(R):
        return _project(block(R), null)

    if problem.binary:

        def hessp(V):
            return L.binary_hessp(V, X, aux, alpha, fi)
    else:
        # the softmax products are two skinny GEMMs: in float32 they take half the time, and
        # their ~1e-6 relative error is far below CG's forcing tolerance; the direction is
        # only a search direction, the float64 gradient and line search decide convergence
        if cache.get("X32") is None:
            cache["X32"] = X.astype(np.float32)
        X32, P32, sw32 = cache["X32"], aux.astype(np.float32), sw.astype(np.float32)

        def hessp(V):
            HV = L.multinomial_hessp(V.astype(np.float32), X32, P32, sw32, alpha, fi)
            return _project(HV.astype(np.float64), null)

    g = _project(G, null)
    gnorm = np.linalg.norm(g)
    target = min(0.5, np.sqrt(gnorm / max(float(sw.sum()), 1.0))) * gnorm
    D = np.zeros_like(g)
    R = -g
    Zr = precond(R)
    S = Zr.copy()
    rz = np.vdot(R, Zr)
    steps = 0
    for steps in range(1, max_cg + 1):  # noqa: B007 - the count is kept for the rebuild rule
        HS = hessp(S)
        curv = np.vdot(S, HS)
        if curv <= 0:
            break
        step = rz / curv
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


def _subsampled_preconditioner(problem, aux):
    """Factor the Hessian estimated on m = min(n, max(4096, 20·d₁)) random rows (scaled n/m):
    the full matrix for the sigmoid, the k diagonal blocks for the softmax."""
    n = len(problem.y)
    k, p = problem.shape
    m = min(n, max(SUBSAMPLE_ROWS, 20 * p))
    rows = np.sort(np.random.default_rng(0).choice(n, m, replace=False)) if m < n else slice(None)
    scale = n / m
    if problem.binary:
        return _factor_apply(
            _cholesky(
                L.binary_hessian(
                    problem.X[rows], aux[rows] * scale, problem.alpha, problem.fit_intercept
                )
            )
        )
    sub = LogisticProblem(
        problem.X[rows],
        problem.y[rows],
        problem.sw[rows] * scale,
        problem.alpha,
        problem.fit_intercept,
        problem.n_classes,
    )
    return _block_jacobi(sub, aux[rows])


def _project(V, null):
    if not null.shape[1]:
        return V
    v = V.ravel()
    return (v - null @ (null.T @ v)).reshape(V.shape)


def _block_jacobi(problem, P):
    """The inverse of the k diagonal blocks X̃ᵀdiag(sᵢp_im(1 − p_im))X̃ + αI (Cholesky each).

    When every row of P is the same (Θ = 0 starts with pᵢ = 1/k) the blocks are multiples of
    one Gram matrix X̃ᵀdiag(s)X̃, which is then formed once instead of k times.
    """
    X, sw, fi = problem.X, problem.sw, problem.fit_intercept
    k, p = problem.shape
    d = X.shape[1]
    uniform = bool(np.all(P == P[0]))
    gram = L.binary_hessian(X, sw, 0.0, fi) if uniform else None
    factors = []
    for m in range(k):
        if uniform:
            B = gram * (P[0, m] * (1.0 - P[0, m]))
            B.flat[: d * (p + 1) : p + 1] += problem.alpha
        else:
            B = L.binary_hessian(X, sw * P[:, m] * (1.0 - P[:, m]), problem.alpha, fi)
        if fi:
            B[d, d] += 1.0 / k  # lift the shared-intercept direction, as NNᵀ does for H
        B.flat[:: p + 1] += np.finfo(X.dtype).eps * max(np.trace(B), 1.0)
        factors.append(cho_factor(B, lower=True, check_finite=False))

    def apply(R):
        return np.stack([cho_solve(f, R[m], check_finite=False) for m, f in enumerate(factors)])

    return apply


def newton(problem: LogisticProblem, Theta0: np.ndarray, tol: float, max_iter: int):
    """Damped Newton (IRLS): Θ ← Θ + tΔ with ∇²f·Δ = −∇f and t halved until Armijo holds.

    The line search makes every step decrease f, so Newton never diverges even far from the
    optimum, where the full step can overshoot; near it t = 1 and convergence is quadratic.
    On many rows, the iteration starts from the optimum of the same objective on a random
    1/8 of them (found the same way, recursively): that point is within the sampling error
    of the answer, where Newton converges quadratically, so the expensive full-data steps
    are spent only on the last digits. The start is kept only if it lowers f below f(Θ₀).
    """
    Theta = Theta0.copy()
    total = float(problem.sw.sum())
    null = problem.null_space()
    state = None
    cache: dict = {}
    n = len(problem.y)
    if n >= WARM_START_MIN_ROWS:
        sub = problem.subsample(n // WARM_START_FRACTION)
        if sub is not None:
            # the sampling error of the start (~1/√m) dwarfs any tighter tolerance
            start = newton(sub, Theta0, max(tol, WARM_START_C / np.sqrt(len(sub.y))), max_iter)
            if not start.separated and np.all(np.isfinite(start.Theta)):
                trial = problem.loss_grad(start.Theta)
                # f(0) = Σsᵢ·log k needs no pass over the data
                f0 = (
                    total * np.log(problem.n_classes)
                    if not Theta0.any()
                    else problem.loss_grad(Theta0)[0]
                )
                if trial[0] < f0:
                    # the sample's last exact Hessian (weights scaled by n/m) estimates this
                    # one near the optimum: CG's first preconditioner
                    Theta, state = start.Theta.copy(), trial
                    cache = {"precond": start.precond, "cg_steps": 0}
    f, G, aux = state if state is not None else problem.loss_grad(Theta)
    floor = problem.gradient_floor()  # after a sigmoid pass, which has found max|X|
    curve = [f / total]
    noise = len(problem.y) * np.finfo(float).eps * abs(f)
    for it in range(1, max_iter + 1):
        gmax = np.abs(G).max()
        if gmax <= max(tol * total, floor):
            return SolverResult(Theta, it - 1, True, curve, precond=cache.get("exact"))
        if problem.alpha == 0 and problem.separates(Theta):
            return SolverResult(Theta, it - 1, False, curve, separated=True)
        D = _newton_direction(problem, G, aux, null, cache)
        slope = float(np.vdot(G, D))
        if slope >= 0:  # not a descent direction (rounding): fall back to steepest descent
            D, slope = -G, -float(np.vdot(G, G))
        t = 1.0
        for _ in range(60):
            f_new, G_new, aux_new = problem.loss_grad(Theta + t * D)
            # Armijo, blind to changes below the rounding of an n-term sum (n·eps·|f|): at
            # the end Newton's decrease is smaller than that and only ∇f can see progress
            if f_new <= f + 1e-4 * t * slope + noise:
                break
            t *= 0.5
        else:
            # no decrease at any step length: f is flat to rounding, Θ is optimal to precision
            return SolverResult(Theta, it, gmax <= 1e3 * floor, curve)
        Theta = Theta + t * D
        f, G, aux = f_new, G_new, aux_new
        curve.append(f / total)
    converged = np.abs(G).max() <= max(tol * total, floor)
    separated = problem.alpha == 0 and problem.separates(Theta)
    return SolverResult(Theta, max_iter, bool(converged), curve, separated=separated)


def lbfgs(problem: LogisticProblem, Theta0: np.ndarray, tol: float, max_iter: int):
    """scipy's L-BFGS-B on f/Σsᵢ with the analytic gradient (scikit-learn's default solver)."""
    shape = Theta0.shape
    total = float(problem.sw.sum())
    curve: list[float] = []

    def fun(theta):
        f, G, _ = problem.loss_grad(theta.reshape(shape))
        return f / total, G.ravel() / total

    def record(intermediate_result):
        curve.append(float(intermediate_result.fun))

    res = minimize(
        fun,
        Theta0.ravel(),
        jac=True,
        method="L-BFGS-B",
        callback=record,
        options={"maxiter": max_iter, "maxls": 50, "gtol": tol, "ftol": 64 * np.finfo(float).eps},
    )
    Theta = res.x.reshape(shape)
    _, G, _ = problem.loss_grad(Theta)
    converged = np.abs(G).max() <= max(tol * total, problem.gradient_floor()) or (
        res.status == 0 and res.nit < max_iter
    )
    separated = problem.alpha == 0 and problem.separates(Theta)
    return SolverResult(Theta, int(res.nit), bool(converged), curve, separated=separated)
