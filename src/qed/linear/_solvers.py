"""Pure least-squares solvers shared by ``LinearRegression``, ``Ridge`` and ``KernelRidge``.

Every estimator of ``qed.linear`` reduces its fit to one of these functions on centered,
weighted data (the notes' normal equations with the intercept eliminated):

    minimise  Σᵢ wᵢ (yᵢ − xᵢᵀβ − b)² + α‖β‖²
    ⇒  b = ȳ − x̄ᵀβ  and  (X_cᵀ W X_c + αI) β = X_cᵀ W y_c,

where x̄, ȳ are the w-weighted means and X_c = X − x̄, y_c = y − ȳ. Shapes: X (n, d),
Y (n, t) — single targets are passed as (n, 1) and raveled by the estimators.

The functions return plain arrays; the estimators only validate, choose and record.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit
from scipy import linalg
from scipy.linalg import blas, lapack

__all__ = [
    "NormalStats",
    "centered_gram",
    "centered_copy",
    "spd_solve",
    "spd_solve_refined",
    "lstsq_svd",
    "lstsq_qr",
    "ridge_primal",
    "ridge_dual",
    "normal_residual",
    "normal_cond_limit",
    "ridge_svd",
]

# The centered Gram is formed as XᵀX − n x̄x̄ᵀ (no copy of X) only when the uncentered
# diagonal is at most this many times the centered one: the cancellation then costs at most
# log10(16) ≈ 1.2 digits. Otherwise X is centered explicitly first (exactness first).
_MAX_CANCELLATION = 16.0


def normal_cond_limit(dtype: Any) -> float:
    """Largest κ(XᵀX) (of the Jacobi-scaled Gram) for which the normal equations are used.

    Cholesky on XᵀX loses κ(X)² · eps; below 1/√eps the forward error stays under √eps
    (≈ 1.5e-8 in float64), which is the accuracy contract of qed. Beyond it SVD is used.
    """
    return 1.0 / np.sqrt(np.finfo(dtype).eps)


class NormalStats(dict):
    """The sufficient statistics of a weighted least-squares problem, as a plain dict.

    Keys: ``gram`` (d, d) = X_cᵀWX_c and ``xty`` (d, t) = X_cᵀWy_c — or, when the solver
    worked on the data itself (d > n), ``xw`` (n, d) = √W X_c and ``yw`` (n, t) = √W y_c —
    plus ``x_mean`` (d,), ``y_mean`` (t,), ``sw_sum`` (Σw), ``yty`` (t,) = y_cᵀWy_c and
    ``n_samples``. A dict (not a class with behaviour) so that ``qed.save`` stores it as is.
    """


def centered_copy(
    X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, fit_intercept: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Return √W(X − x̄), √W(Y − ȳ), x̄, ȳ (copies; x̄ = ȳ = 0 without intercept)."""
    d, t = X.shape[1], Y.shape[1]
    if fit_intercept:
        x_mean = np.average(X, axis=0, weights=sw).astype(X.dtype, copy=False)
        y_mean = np.average(Y, axis=0, weights=sw).astype(X.dtype, copy=False)
        Xc, Yc = X - x_mean, Y - y_mean
    else:
        x_mean, y_mean = np.zeros(d, X.dtype), np.zeros(t, X.dtype)
        Xc, Yc = X.copy(), Y.copy()
    if sw is not None:
        root = np.sqrt(sw)[:, None]
        Xc *= root
        Yc *= root
    return Xc, Yc, x_mean, y_mean


def centered_gram(
    X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, fit_intercept: bool
) -> NormalStats:
    """The centered, weighted normal equations X_cᵀWX_c, X_cᵀWy_c without copying X.

    Unweighted, XᵀX is one BLAS syrk call on X itself (numpy dispatches ``X.T @ X`` to
    syrk), the column sums come with Xᵀy in one pass, and the centering is applied to the
    d × d Gram: X_cᵀX_c = XᵀX − n x̄x̄ᵀ. That subtraction cancels digits when the means are
    large against the spread, so the function measures diag(XᵀX)/diag(X_cᵀX_c) and, beyond
    a factor 16, recomputes from an explicitly centered copy. Weighted problems always copy.

    Non-finite entries of X propagate to diag(gram) silently (no floating-point warnings):
    the caller checks that diagonal instead of scanning X.

    Returns a ``NormalStats`` with ``gram`` (d, d) and ``xty`` (d, t).
    """
    with np.errstate(over="ignore", invalid="ignore"):
        return _centered_gram(X, Y, sw, fit_intercept)


def _centered_gram(X, Y, sw, fit_intercept) -> NormalStats:
    n = X.shape[0]
    if sw is not None:
        Xc, Yc, x_mean, y_mean = centered_copy(X, Y, sw, fit_intercept)
        return _stats_from(Xc, Yc, x_mean, y_mean, float(sw.sum()), n)
    if not fit_intercept:
        zeros_x, zeros_y = np.zeros(X.shape[1], X.dtype), np.zeros(Y.shape[1], X.dtype)
        return _stats_from(X, Y, zeros_x, zeros_y, float(n), n)
    y_mean = Y.mean(axis=0)
    Yc = Y - y_mean
    both = X.T @ np.column_stack([np.ones(n, X.dtype), Yc])  # one pass: Σx and XᵀY_c
    x_sum, xty = both[:, 0], both[:, 1:]
    x_mean = x_sum / n
    gram = X.T @ X
    raw_diag = gram.diagonal().copy()
    gram -= np.outer(x_sum, x_mean)
    # X_cᵀy_c = Xᵀy_c − x̄·Σy_c; Σy_c is round-off, removed for symmetry with the copy path.
    xty -= np.outer(x_mean, Yc.sum(axis=0))
    centered_diag = gram.diagonal()
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(centered_diag > 0, raw_diag / centered_diag, np.inf)
    if not np.all(np.isfinite(raw_diag)) or np.max(ratio, initial=1.0) > _MAX_CANCELLATION:
        Xc = X - x_mean
        return _stats_from(Xc, Yc, x_mean, y_mean, float(n), n)
    gram = 0.5 * (gram + gram.T)
    return NormalStats(
        gram=gram,
        xty=np.ascontiguousarray(xty),
        x_mean=x_mean,
        y_mean=y_mean,
        sw_sum=float(n),
        yty=np.einsum("ij,ij->j", Yc, Yc),
        n_samples=n,
    )


def _stats_from(Xc, Yc, x_mean, y_mean, sw_sum: float, n: int) -> NormalStats:
    return NormalStats(
        gram=Xc.T @ Xc,
        xty=Xc.T @ Yc,
        x_mean=x_mean,
        y_mean=y_mean,
        sw_sum=sw_sum,
        yty=np.einsum("ij,ij->j", Yc, Yc),
        n_samples=n,
    )


def spd_solve(
    A: np.ndarray, B: np.ndarray, *, scale: bool = True, overwrite_a: bool = False
) -> tuple[np.ndarray, float]:
    """Solve A x = B for symmetric positive definite A by Cholesky (LAPACK potrf/potrs).

    With ``scale``, the Jacobi-scaled system (DAD)(D⁻¹x) = DB, D = diag(A)^(-1/2), is
    factored instead, so that the reported reciprocal condition number (LAPACK pocon, an
    O(d²) estimate) measures the conditioning that matters for Cholesky, not the units of the
    features. Only the lower triangle of A is read.

    Returns (x, rcond); rcond = nan when ``scale`` is False. Raises
    ``numpy.linalg.LinAlgError`` when A is not (numerically) positive definite.
    """
    if not scale:
        c = linalg.cho_factor(A, lower=True, overwrite_a=overwrite_a, check_finite=False)
        return linalg.cho_solve(c, B, overwrite_b=False, check_finite=False), np.nan
    diag = A.diagonal()
    if not np.all(diag > 0) or not np.all(np.isfinite(diag)):
        raise np.linalg.LinAlgError("matrix is not positive definite (zero diagonal)")
    dinv = 1.0 / np.sqrt(diag)
    S = A * dinv[:, None] if not overwrite_a else np.multiply(A, dinv[:, None], out=A)
    S *= dinv[None, :]
    anorm = float(np.abs(np.tril(S)).sum(axis=0).max() * 2)  # ≥ ‖S‖₁ (symmetric)
    L, lower = linalg.cho_factor(S, lower=True, overwrite_a=True, check_finite=False)
    pocon = lapack.get_lapack_funcs("pocon", (L,))
    rcond, info = pocon(L, anorm, uplo="L")
    x = linalg.cho_solve((L, lower), B * dinv[:, None], check_finite=False)
    x *= dinv[:, None]
    return x, float(rcond)


def spd_solve_refined(A: np.ndarray, B: np.ndarray, *, max_iter: int = 30) -> np.ndarray | None:
    """Solve A X = B (A symmetric positive definite, float64) to double-precision accuracy
    from a float32 Cholesky factor: LAPACK dsposv's mixed-precision iterative refinement.

    A ≈ LLᵀ in float32 (half the time of float64 potrf), then X ← X + (LLᵀ)⁻¹(B − AX) with
    the residual in float64, until ‖B − AX‖∞ ≤ √n·eps64·‖A‖∞·‖X‖∞ per column — the same
    backward-error test as LAPACK's dsposv. That test bounds the backward error only; when the
    last step shrank the residual by less than 100× (κ·eps32 ≳ 1%), the error left is well
    above its floor, and one step more takes it from about κ·√n·eps toward κ·eps, as a
    float64 Cholesky solve's (linear kernel, n = 600, κ ≈ 10⁶, weighted: the last ratio 0.08;
    1.6e-8 → 8.4e-10 from the exact answer; scikit-learn's float64 solve 3.2e-10).
    Refinement contracts by about κ(A)·eps32 per step; when it stalls (κ(A) ≳ 1/eps32) or
    float32 overflows, returns None and the caller factors in float64. A is not modified;
    only its upper triangle is read. B (n, t). Returns X (n, t) or None.
    """
    n = A.shape[0]
    if n == 0:
        return np.zeros_like(B)
    # one pass over the upper triangle casts it, transposed, into A32's lower triangle (all
    # spotrf reads: LAPACK's upper factor of A32's Fortran view, A = UᵀU, as before the solve
    # read one triangle, so the same float32 factor) and measures ‖A‖∞. The upper triangle,
    # as scipy's solve(assume_a="pos") and so scikit-learn read it
    A32 = np.empty((n, n), dtype=np.float32)
    anorm = _upper_to_single(A, A32)
    U, info = lapack.spotrf(A32.T, lower=0, clean=0, overwrite_a=1)
    if info != 0:
        return None
    eps = np.finfo(np.float64).eps
    X, info = lapack.spotrs(U, B.astype(np.float32), lower=0)
    X = X.astype(np.float64)
    previous = np.inf
    for _ in range(max_iter):
        R = B - _symmetric_times(A, X)
        r_norm = np.abs(R).max(axis=0)
        if not np.all(np.isfinite(r_norm)):
            return None
        if np.all(r_norm <= np.sqrt(n) * eps * anorm * np.abs(X).max(axis=0)):
            if r_norm.max() > 1e-2 * previous:  # slow contraction: the error left is not
                X += lapack.spotrs(U, R.astype(np.float32), lower=0)[0]  # yet at its floor
            return X
        if r_norm.max() > 0.5 * previous:  # not contracting: float32 is too coarse here
            return None
        previous = r_norm.max()
        X += lapack.spotrs(U, R.astype(np.float32), lower=0)[0]
    return None


def _symmetric_times(A: np.ndarray, X: np.ndarray) -> np.ndarray:
    """AX for a symmetric float64 A (n, n) of which only the upper triangle is read, and X
    (n, t): dsymv for one column (2.5 against 3.8 ms for the general product at n = 4,000 on
    one core), dsymm for several."""
    # a C-ordered A is, to Fortran BLAS, Aᵀ: its upper triangle is that matrix's lower one
    if A.flags.c_contiguous:
        F, lower = A.T, 1
    else:
        F, lower = np.asfortranarray(A), 0
    if X.shape[1] == 1:
        return blas.dsymv(1.0, F, X[:, 0], lower=lower)[:, None]
    return blas.dsymm(1.0, F, X, side=0, lower=lower)


@njit(cache=True, nogil=True, error_model="numpy")
def _upper_to_single(A, A32):  # pragma: no cover - compiled
    """A32[i:, i] = A[i, i:] rounded to float32 (beyond float32's range: ±inf, which spotrf
    then refuses): A's upper triangle into A32's lower one; and return ‖A‖∞ = maxᵢ Σⱼ|Aᵢⱼ|
    from that triangle alone, A being symmetric: row i's sum is its own part plus what the
    rows above hold in column i.

    In 64 × 64 tiles, so that the transposed writes of a tile stay in L1 (row by row they
    took 22-26 ms at n = 4,000, against 12 ms for an untransposed cast)."""
    n = A.shape[0]
    sums = np.zeros(n)
    tile = 64
    for i0 in range(0, n, tile):
        i1 = min(n, i0 + tile)
        for j0 in range(i0, n, tile):
            j1 = min(n, j0 + tile)
            for i in range(i0, i1):
                a = A[i]
                t = 0.0
                for j in range(max(j0, i + 1), j1):
                    v = abs(a[j])
                    t += v
                    sums[j] += v
                    A32[j, i] = a[j]
                sums[i] += t
        for i in range(i0, i1):
            sums[i] += abs(A[i, i])
            A32[i, i] = A[i, i]
    return sums.max()


def lstsq_svd(
    X: np.ndarray, Y: np.ndarray, rcond: float | None = None
) -> tuple[np.ndarray, int, np.ndarray]:
    """Minimum-norm least squares by SVD (LAPACK gelsd): β = V Σ⁺ Uᵀy.

    Singular values below ``rcond``·σ_max (default max(n, d)·eps) count as zero, so a
    duplicated column gives the minimum-norm solution, as scikit-learn's. Returns
    (coef (d, t), rank, singular values (min(n, d),) in decreasing order).
    """
    if rcond is None:
        rcond = max(X.shape) * np.finfo(X.dtype).eps
    coef, _, rank, s = linalg.lstsq(X, Y, cond=rcond, lapack_driver="gelsd", check_finite=False)
    return coef, int(rank), s


def lstsq_qr(
    X: np.ndarray, Y: np.ndarray, rcond: float | None = None
) -> tuple[np.ndarray, int, np.ndarray] | None:
    """Least squares by column-pivoted Householder QR: XP = QR, β = P R⁻¹ Qᵀy.

    The singular values of X are those of R (Q is orthogonal), so they come at O(d³).
    Returns (coef (d, t), rank, singular values), or None when R is rank deficient
    (|R_kk| ≤ rcond·|R_00|), where QR has no unique answer and the caller uses SVD.
    """
    n, d = X.shape
    if rcond is None:
        rcond = max(n, d) * np.finfo(X.dtype).eps
    if n < d:
        return None
    Q, R, perm = linalg.qr(X, mode="economic", pivoting=True, check_finite=False)
    diag = np.abs(np.diagonal(R))
    if diag.size == 0 or diag[0] == 0 or np.any(diag <= rcond * diag[0]):
        return None
    coef = np.empty((d, Y.shape[1]), dtype=X.dtype)
    coef[perm] = linalg.solve_triangular(R, Q.T @ Y, check_finite=False)
    s = linalg.svdvals(R, check_finite=False)
    return coef, d, s


def ridge_primal(gram: np.ndarray, xty: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Solve the notes' (XᵀX + αI)β = Xᵀy by Cholesky, one factorisation per distinct α.

    gram (d, d), xty (d, t), alpha (t,) ≥ 0. Returns coef (d, t). Raises LinAlgError when
    XᵀX + αI is singular (α = 0 and rank-deficient X).
    """
    d, t = xty.shape
    coef = np.empty((d, t), dtype=xty.dtype)
    for a in np.unique(alpha):
        cols = np.flatnonzero(alpha == a)
        A = gram.copy()
        A.flat[:: d + 1] += a  # add αI without allocating it
        coef[:, cols] = spd_solve(A, xty[:, cols], scale=True, overwrite_a=True)[0]
    return coef


def ridge_dual(Xw: np.ndarray, Yw: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """β = Xᵀ(XXᵀ + αI)⁻¹y, the notes' kernel identity, for d > n (an n × n system).

    Xw (n, d), Yw (n, t) already centered and weighted; alpha (t,). Returns coef (d, t).
    Cholesky of XXᵀ + αI is used while its (Jacobi-scaled) condition number stays below
    ``normal_cond_limit``; beyond it (α tiny beside ‖X‖², duplicated rows) the same β is taken
    from the SVD X = UΣVᵀ as V·diag(σ/(σ² + α))·Uᵀy, which never forms XXᵀ.
    """
    n, t = Yw.shape
    K = Xw @ Xw.T
    dual = np.empty((n, t), dtype=Yw.dtype)
    limit = normal_cond_limit(Yw.dtype)
    for a in np.unique(alpha):
        cols = np.flatnonzero(alpha == a)
        A = K.copy()
        A.flat[:: n + 1] += a
        try:
            dual[:, cols], rcond = spd_solve(A, Yw[:, cols], scale=True, overwrite_a=True)
        except np.linalg.LinAlgError:
            if a == 0:
                raise  # singular least squares: the caller warns and takes the minimum norm
            rcond = 0.0
        if not rcond * limit >= 1.0:
            return ridge_svd(Xw, Yw, alpha)
    return Xw.T @ dual


def ridge_svd(Xw: np.ndarray, Yw: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """β = V·diag(σ/(σ² + α))·Uᵀy from the thin SVD of the centered, weighted X.

    The stable form of both the primal and the dual ridge solution (no Gram matrix is
    formed). Xw (n, d), Yw (n, t), alpha (t,) ≥ 0. Returns coef (d, t); with α = 0, singular
    values below max(n, d)·eps·σ_max count as zero (the minimum-norm least-squares answer).
    """
    U, sig, Vt = linalg.svd(Xw, full_matrices=False, check_finite=False, lapack_driver="gesdd")
    UtY = U.T @ Yw
    cutoff = max(Xw.shape) * np.finfo(Xw.dtype).eps * (sig[0] if sig.size else 0.0)
    coef = np.empty((Xw.shape[1], Yw.shape[1]), dtype=Yw.dtype)
    for a in np.unique(alpha):
        cols = np.flatnonzero(alpha == a)
        denom = sig**2 + a
        keep = (sig > cutoff) & (denom > 0)
        factor = np.zeros_like(sig)
        factor[keep] = sig[keep] / denom[keep]
        coef[:, cols] = Vt.T @ (factor[:, None] * UtY[:, cols])
    return coef


def normal_residual(
    stats: NormalStats, coef: np.ndarray, alpha: np.ndarray | float = 0.0
) -> tuple[np.ndarray, float]:
    """The residual X_cᵀW(y_c − X_cβ) − αβ, shape (d, t), and the size it is measured against.

    coef is (d, t). The scale ‖X_c‖_F(‖X_c‖_F‖β‖ + ‖y_c‖) + α‖β‖ is what a backward-stable
    solver's residual is proportional to (‖X_c‖²_F = trace of the Gram).
    """
    alpha = np.broadcast_to(np.asarray(alpha, dtype=coef.dtype), (coef.shape[1],))
    if "gram" in stats:
        grad = stats["xty"] - stats["gram"] @ coef
        x_norm = float(np.sqrt(max(np.trace(stats["gram"]), 0.0)))
    else:
        Xw = stats["xw"]
        grad = Xw.T @ (stats["yw"] - Xw @ coef)
        x_norm = float(np.linalg.norm(Xw))
    grad = grad - alpha * coef
    beta = float(np.linalg.norm(coef))
    y_norm = float(np.sqrt(np.sum(stats["yty"])))
    scale = x_norm * (x_norm * beta + y_norm) + float(np.max(alpha, initial=0.0)) * beta
    return grad, scale
