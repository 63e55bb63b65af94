"""The in-memory logistic / softmax objective (``LogisticProblem``) and its L-BFGS solver.

A ``LogisticProblem`` is the objective of ``_logistic_loss`` on arrays held in memory, in the
form the Newton driver (``_newton.newton``) takes: Θ ↦ (f, ∇f, curvature), the curvature
formed (X̃ᵀSX̃, or the (k·d₁)² block Hessian of the softmax) or applied as exact
Hessian-vector products from fused passes over X. The stopping rule of every solver is
scikit-learn's: the largest entry of the gradient of the *averaged* objective f/Σsᵢ falls
below ``tol``.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

import numpy as np
from scipy import sparse
from scipy.linalg import cho_factor, cho_solve
from scipy.optimize import minimize

from qed._sparse_kernels import blas_single_thread
from qed.classify import _logistic_kernels as K
from qed.classify import _logistic_loss as L
from qed.classify._newton import SolverResult, cholesky, factor_apply, null_space

__all__ = ["LogisticProblem", "lbfgs", "as_float64", "blas_single_thread"]

# CG's Hessian-vector products run in float32 when max|X| lies in this range (``_Curvature``)
SINGLE_MIN_ABS, SINGLE_MAX_ABS = 1e-10, 1e10
# rows of the random subsample that the CG preconditioner's Hessian is estimated on
SUBSAMPLE_ROWS = 4096
# for a sparse X with more parameters than this, CG is preconditioned by diag(∇²f) with the
# intercept's row kept exact (``intercept_jacobi``): a subsample's dense (k·d₁)² Hessian would
# not fit
SPARSE_DENSE_PRECOND_MAX = 2048
# the softmax's CG is preconditioned by its whole subsampled Hessian, class-to-class blocks
# included, while forming it costs at most this many multiply-adds (m·(k·d₁)²); beyond, by
# its k diagonal blocks. On LogisticRegressionCV's benchmark (k = 5, d = 50, 4,096 rows:
# 2.7e8) it took CG from 5.3 to 3.7 products a Newton step at tol 1e-8 (3.15 → 2.55 s); at
# tol 1e-4 its 12 ms builds cost what the products saved
FULL_PRECOND_FLOPS = 3e8
# Newton on more rows than this first solves on a 1/WARM_START_FRACTION random subsample
WARM_START_MIN_ROWS = 8_000
WARM_START_FRACTION = 8


def as_float64(X: Any) -> Any:
    """X in float64 for the solvers: C-contiguous, or a canonical CSR matrix (sorted indices)."""
    if sparse.issparse(X):
        X = X.astype(np.float64, copy=False)
        X.sort_indices()
        return X
    return np.ascontiguousarray(X, dtype=np.float64)


@dataclass
class LogisticProblem:
    """The data of one fit. ``y`` holds 0/1 for the sigmoid (k = 2) or codes 0 … k−1.

    ``X`` is a C-contiguous float64 array or a scipy.sparse CSR matrix (never densified).
    """

    X: np.ndarray
    y: np.ndarray
    sw: np.ndarray
    alpha: float
    fit_intercept: bool
    n_classes: int
    x_max: float | None = None
    # set by ``exact_products`` when float32 products have misled Newton: float64 from then on
    double_products: bool = False

    @property
    def binary(self) -> bool:
        return self.n_classes == 2

    @property
    def shape(self) -> tuple[int, int]:
        k = 1 if self.binary else self.n_classes
        return k, self.X.shape[1] + int(self.fit_intercept)

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @cached_property
    def total(self) -> float:
        """Σᵢ sᵢ."""
        return float(self.sw.sum())

    @cached_property
    def X32(self) -> Any:
        """X in float32, for CG's Hessian-vector products (see ``_Curvature``); a CSR X's
        copy shares its index arrays."""
        if sparse.issparse(self.X) and self.X.format == "csr":
            X = self.X
            return sparse.csr_matrix((X.data.astype(np.float32), X.indices, X.indptr), X.shape)
        return self.X.astype(np.float32)

    def __call__(self, Theta):
        """(f, ∇f, curvature at Θ): the Newton driver's view of the objective."""
        f, G, aux, moments = self._evaluate(Theta)
        return f, G, _Curvature(self, aux, moments)

    def loss_grad(self, Theta):
        """f, ∇f and the per-row curvature terms (s·σσ' for the sigmoid, P for the softmax)."""
        return self._evaluate(Theta)[:3]

    def _evaluate(self, Theta):
        """``loss_grad`` and, when the pass measured them on the way (a sigmoid at Θ = 0 on
        a sparse X), the column moments of its weights for the CG preconditioner, else None."""
        if not self.binary:
            out = L.multinomial_loss_grad(
                Theta, self.X, self.y, self.sw, self.alpha, self.fit_intercept
            )
            return (*out, None)
        # the sigmoid's pass finds max|X| on the way: the gradient floor needs no pass of its own
        found = [] if self.x_max is None else None
        moments = [] if sparse.issparse(self.X) else None
        out = L.binary_loss_grad(
            Theta, self.X, self.y, self.sw, self.alpha, self.fit_intercept, found, moments
        )
        if found:
            self.x_max = float(found[0])
        return (*out, moments[0] if moments else None)

    def with_alpha(self, alpha: float, Theta: np.ndarray, evaluation: tuple):
        """This objective with the penalty α = 1/C, and its (f, ∇f, curvature) at Θ made from
        ``evaluation`` (at Θ, under ``self.alpha``) without a pass over X: α enters only
        through (α/2)‖W‖² and αW, the per-row terms not at all (a path's next C)."""
        f, G, curv = evaluation
        new = replace(self, alpha=float(alpha))
        W = Theta[:, : self.X.shape[1]]
        step = new.alpha - self.alpha
        G = G.copy()
        G[:, : W.shape[1]] += step * W
        moved = _Curvature(new, curv.aux, curv.moments)
        moved._f32 = curv._f32
        if "X32" in self.__dict__:  # the float32 copy of X serves every C of a path
            new.__dict__["X32"] = self.X32
        return new, (f + 0.5 * step * float(np.vdot(W, W)), G, moved)

    def hessian(self, aux):
        if self.binary:
            return L.binary_hessian(self.X, aux, self.alpha, self.fit_intercept)
        return L.multinomial_hessian(self.X, aux, self.sw, self.alpha, self.fit_intercept)

    def subsample(self) -> LogisticProblem | None:
        """The same objective on a random 1/8 of the rows (when there are at least
        ``WARM_START_MIN_ROWS``), weights scaled by n/m so that f_sub ≈ f; None when the
        rows are fewer, when the sample would have fewer rows than Θ has parameters, or when
        some class would be missing from the sample.

        With fewer rows than parameters the sample's optimum fits its rows, not the
        population: on the sparse benchmark (25,000 sampled rows, 50,001 parameters) every
        level's start was worse than Θ = 0, rejected by the driver, and cost a fifth of the fit.
        """
        n = len(self.y)
        m = n // WARM_START_FRACTION
        if n < WARM_START_MIN_ROWS or m < int(np.prod(self.shape)):
            return None
        # Bernoulli sampling: one O(n) pass, about m rows
        rows = np.flatnonzero(np.random.default_rng(0).random(n) < m / n)
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

    def single_is_safe(self) -> bool:
        """True when float32 products over X cannot overflow or flush to zero: max|X| within
        [1e-10, 1e10] (x² and its sums over 10⁸ rows then stay far inside float32's range),
        and ``exact_products`` has not been called."""
        if self.double_products:
            return False
        self.gradient_floor()  # measures max|X| when no pass has yet
        return SINGLE_MIN_ABS <= self.x_max <= SINGLE_MAX_ABS

    def exact_products(self) -> None:
        """Use float64 Hessian products from now on (this problem and the path's next C).

        Newton calls it when a full step is rejected after one was accepted: near the
        optimum the quadratic model should hold, and where it fails the float32 products'
        ~1e-7 relative error was magnified by a nearly flat direction (features collinear to
        ~1e-6 with a tiny penalty), which left Newton converging linearly: 10 iterations
        instead of 7 on such a problem, and 0.91 s instead of 0.33 s."""
        self.double_products = True

    def gradient_floor(self, dtype=np.float64) -> float:
        """Rounding level of ‖∇f‖∞: eps·Σᵢ sᵢ·max|x̃ᵢ| (the terms summed into each entry),
        with eps of ``dtype`` (the precision the parameters are stored in)."""
        if self.x_max is None:  # max|X| without an n×d temporary; subsamples inherit it
            if sparse.issparse(self.X):
                self.x_max = float(K.max_abs(self.X.data))
            else:
                self.x_max = float(K.max_abs(self.X)) if self.X.size else 0.0
        scale = max(self.x_max, 1.0 if self.fit_intercept else 0.0)
        return 1e3 * np.finfo(dtype).eps * self.total * max(scale, 1e-300)


class _Curvature:
    """∇²f of a ``LogisticProblem`` at one point: formed, applied or approximated on demand.

    ``aux`` holds the per-row terms of the pass that computed ∇f (s·σ(1 − σ), or P);
    ``moments`` the column moments (XᵀW1, diag XᵀWX) of those weights when that pass measured
    them (they do not depend on α), else None.
    """

    def __init__(self, problem: LogisticProblem, aux: np.ndarray, moments=None):
        self.problem, self.aux, self.moments = problem, aux, moments
        k, p = problem.shape
        X = problem.X
        if sparse.issparse(X):
            # the sparse product costs Σᵢ nnzᵢ² per block; its dense result and Cholesky (k·d₁)³
            row_nnz = np.diff(X.indptr).astype(np.float64)
            self.cost = k * k * float(row_nnz @ row_nnz + p * p) + (k * p) ** 3 / 3.0
        else:
            self.cost = len(problem.y) * (k * p) ** 2
        self._f32 = None

    def psd_defect(self) -> float:
        """max(−min weight, 0): ∇²f = X̃ᵀSX̃ + αI is PSD when every weight of S is ≥ 0
        (sᵢσᵢ(1 − σᵢ) for the sigmoid; for the softmax, sᵢ ≥ 0 and pᵢ on the simplex, since
        diag(p) − ppᵀ ⪰ 0 there). Checked without forming ∇²f, for large sparse problems."""
        pb = self.problem
        if pb.binary:
            return max(-float(self.aux.min(initial=0.0)), 0.0)
        simplex = float(np.abs(self.aux.sum(axis=1) - 1.0).max(initial=0.0))
        return max(-float(self.aux.min(initial=0.0)), -float(pb.sw.min(initial=0.0)), simplex)

    def matrix(self) -> np.ndarray:
        return self.problem.hessian(self.aux)

    def matvec(self, V: np.ndarray) -> np.ndarray:
        pb = self.problem
        if not pb.single_is_safe():
            if pb.binary:
                return L.binary_hessp(V, pb.X, self.aux, pb.alpha, pb.fit_intercept)
            return L.multinomial_hessp(V, pb.X, self.aux, pb.sw, pb.alpha, pb.fit_intercept)
        # the products in float32: the sigmoid's dense pass is ~4× faster (0.3 against 1.2 ms
        # at 40,000 × 50), the softmax's fused dense pass and the sparse sigmoid's
        # gather-scatter pass ~20%, the softmax's two sparse-times-skinny products take half
        # the time; their ~1e-6 relative error is far below CG's forcing tolerance. The
        # direction is only a search direction: the float64 gradient and line search decide
        # convergence
        if self._f32 is None:
            self._f32 = (self.aux.astype(np.float32), pb.sw.astype(np.float32))
        P32, sw32 = self._f32
        if pb.binary:
            return L.binary_hessp(V, pb.X32, P32, pb.alpha, pb.fit_intercept)
        HV = L.multinomial_hessp(
            V.astype(np.float32), pb.X32, P32, sw32, pb.alpha, pb.fit_intercept
        )
        return HV.astype(np.float64)

    def preconditioner(self):
        pb = self.problem
        if sparse.issparse(pb.X) and np.prod(pb.shape) > SPARSE_DENSE_PRECOND_MAX:
            # the softmax's lifted shared-intercept direction adds 1/k to each intercept
            lift = 0.0 if pb.binary else 1.0 / pb.n_classes
            return L.intercept_jacobi(
                pb.X, self.aux, pb.sw, pb.alpha, pb.fit_intercept, lift, self.moments
            )
        return _subsampled_preconditioner(pb, self.aux)


def _subsampled_preconditioner(problem, aux):
    """Factor the Hessian estimated on m = min(n, max(4096, 20·d₁)) random rows (scaled n/m):
    the full matrix for the sigmoid and for a small softmax (``FULL_PRECOND_FLOPS``), else
    the softmax's k diagonal blocks.

    The full matrix is formed in float32 where that is safe (``single_is_safe``; 2.7× faster
    than float64 at 4,096 × 51, k = 5): its ~1e-7 relative rounding changes CG's number of
    steps, not the answer.
    """
    n = len(problem.y)
    k, p = problem.shape
    m = min(n, max(SUBSAMPLE_ROWS, 20 * p))
    rows = np.sort(np.random.default_rng(0).choice(n, m, replace=False)) if m < n else slice(None)
    scale = n / m
    fi = problem.fit_intercept
    single = np.float32 if problem.single_is_safe() else np.float64
    if problem.binary:
        Xs, s = problem.X[rows].astype(single), (aux[rows] * scale).astype(single)
        return factor_apply(cholesky(L.binary_hessian(Xs, s, problem.alpha, fi).astype(np.float64)))
    sub = LogisticProblem(
        problem.X[rows], problem.y[rows], problem.sw[rows] * scale, problem.alpha, fi, k
    )
    if sparse.issparse(problem.X) or m * float(k * p) ** 2 > FULL_PRECOND_FLOPS:
        return _block_jacobi(sub, aux[rows])
    # the whole (k·d₁)² matrix, its class-to-class blocks included, with the shared-shift
    # directions lifted as for a direct solve (``_newton._direction``)
    H = L.multinomial_hessian(
        sub.X.astype(single), aux[rows].astype(single), sub.sw.astype(single), sub.alpha, fi
    ).astype(np.float64)
    N = null_space((k, p))
    return factor_apply(cholesky(H + N @ N.T))


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


def lbfgs(problem: LogisticProblem, Theta0: np.ndarray, tol: float, max_iter: int):
    """scipy's L-BFGS-B on f/Σsᵢ with the analytic gradient (scikit-learn's default solver)."""
    shape = Theta0.shape
    total = problem.total
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
