"""One least-squares fit for every input path: choose the solver, fall back, warn, record.

``LinearRegression`` and ``Ridge`` reduce every input — a numpy array, a dask array reduced
on its cluster, chunks streamed to ``partial_fit``, an Array API array on its device — to the
sufficient statistics of the centered, weighted problem (``NormalStats``):

    minimise  Σᵢ wᵢ(yᵢ − xᵢᵀβ − b)² + α‖β‖²   ⇒   (X_cᵀWX_c + αI)β = X_cᵀWy_c,  b = ȳ − x̄ᵀβ.

Those paths differ only in how they compute the statistics. Everything after is written once,
here: which solver runs, what happens when XᵀX (+ αI) is singular or ill-conditioned, which
warning says so, and which fitted attributes are set. When a path also holds the centered
data (in memory), the stable fallbacks factor the data (QR, SVD) instead of the Gram matrix;
without it (dask, streaming) they take the Gram's eigendecomposition, whose eigenvalues are the
squared singular values of X_c. Either way the answer is the minimum-norm least-squares
solution, with the same warning.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import sparse

from qed.linear._checks import (
    IllConditionedWarning,
    RankDeficiencyWarning,
    assert_finite,
    assert_finite_gram,
    check_alpha,
)
from qed.linear._solvers import (
    NormalStats,
    centered_copy,
    centered_gram,
    lstsq_qr,
    lstsq_svd,
    normal_cond_limit,
    ridge_dual,
    ridge_svd,
    spd_solve,
)
from qed.linear._sparse import GRAM_LIMIT, solve_cg, sparse_statistics

__all__ = [
    "LeastSquaresFit",
    "solve_least_squares",
    "record_fit",
    "numpy_statistics",
    "fit_from_stats",
    "check_solver",
    "OLS_SOLVERS",
    "RIDGE_SOLVERS",
]

OLS_SOLVERS = ("auto", "normal", "qr", "svd", "cg")
RIDGE_SOLVERS = ("auto", "primal", "dual", "cg")

# The centered, √W-weighted data (X_c, Y_c) of the problem, computed on demand.
CenteredData = Callable[[], tuple[np.ndarray, np.ndarray]]


@dataclass
class LeastSquaresFit:
    """The solution: ``coef`` (d, t), the solver used, and for OLS the rank and singular
    values of X_c (decreasing)."""

    coef: np.ndarray
    solver: str
    rank: int | None = None
    singular: np.ndarray | None = None


def check_solver(solver: Any, allowed: tuple[str, ...]) -> str:
    if solver not in allowed:
        raise ValueError(f"solver={solver!r} is not supported; choose one of {allowed}.")
    return solver


def _dims(stats: NormalStats) -> tuple[int, int]:
    """(n_features, n_targets) of the problem, from either form of the statistics."""
    if "xty" in stats:
        return stats["xty"].shape
    return stats["xw"].shape[1], stats["yw"].shape[1]


def _eigh_solve(gram: np.ndarray, xty: np.ndarray, alpha: float) -> tuple[np.ndarray, int, Any]:
    """β = V·diag(1/(λ + α))·Vᵀ X_cᵀy from X_cᵀX_c = VΛVᵀ: the stable ridge (and, at α = 0,
    minimum-norm least-squares) solution when only the Gram is known.

    Eigenvalues are known to ±d·eps·λ_max, so smaller ones count as null directions (dropped
    at α = 0). Returns (coef (d, t), numerical rank, singular values √λ, decreasing).
    """
    lam, V = np.linalg.eigh(gram)
    lam, V = lam[::-1], V[:, ::-1]
    tiny = gram.shape[0] * np.finfo(gram.dtype).eps * max(lam[0] if lam.size else 0.0, 0.0)
    nonnull = lam > tiny
    keep = nonnull if alpha == 0 else lam + alpha > 0
    coef = V[:, keep] @ ((V[:, keep].T @ xty) / (lam[keep, None] + alpha))
    return coef, int(nonnull.sum()), np.sqrt(np.clip(lam, 0, None))


def _min_norm(
    stats: NormalStats, data: CenteredData | None, *, qr: bool = False
) -> tuple[np.ndarray, int, np.ndarray, str]:
    """Minimum-norm least squares from the data (QR if asked and full rank, else SVD), or
    from the Gram's eigendecomposition when the path holds no data."""
    if data is None:
        coef, rank, s = _eigh_solve(stats["gram"], stats["xty"], 0.0)
        return coef, rank, s, "svd"
    Xc, Yc = data()
    result = lstsq_qr(Xc, Yc) if qr else None
    if result is not None:
        return (*result, "qr")
    return (*lstsq_svd(Xc, Yc), "svd")


def _solve_ols(
    stats: NormalStats, solver: str, dtype: Any, data: CenteredData | None
) -> LeastSquaresFit:
    d = _dims(stats)[0]
    if solver in ("auto", "normal") and "gram" in stats:
        try:
            coef, rcond = spd_solve(stats["gram"], stats["xty"], scale=True)
        except np.linalg.LinAlgError:
            coef, rcond = None, 0.0
        well = rcond * normal_cond_limit(dtype) >= 1
        if coef is not None and (well or solver == "normal"):
            if not well:
                warnings.warn(
                    f"solver='normal': XᵀX is ill-conditioned (κ ≈ {1 / max(rcond, 1e-300):.1e} "
                    "after scaling), so the normal equations lose accuracy; use solver='svd'.",
                    IllConditionedWarning,
                    stacklevel=4,
                )
            s = np.sqrt(np.clip(np.linalg.eigvalsh(stats["gram"])[::-1], 0, None))
            return LeastSquaresFit(coef, "normal", d, s)
    coef, rank, s, used = _min_norm(stats, data, qr=solver == "qr")
    if rank < d and solver != "svd":
        warnings.warn(
            f"X is rank deficient: rank {rank} < {d} features (after centering), so some "
            "columns are linear combinations of others (e.g. a duplicated or constant "
            f"column); solver={solver!r} switched to SVD and returned the minimum-norm "
            "least-squares solution.",
            RankDeficiencyWarning,
            stacklevel=4,
        )
    elif solver == "normal" and "gram" in stats:
        warnings.warn(
            "solver='normal': Cholesky of XᵀX failed (numerically singular, κ(X)² beyond "
            "1/eps) although X has full rank; solved by SVD instead.",
            IllConditionedWarning,
            stacklevel=4,
        )
    return LeastSquaresFit(coef, used, rank, s)


def _solve_ridge(
    stats: NormalStats, alpha: np.ndarray, solver: str, dtype: Any, data: CenteredData | None
) -> LeastSquaresFit:
    """One solve per distinct α: Cholesky of X_cᵀWX_c + αI (primal) or of X_cWX_cᵀ + αI
    (dual, when the statistics are the data, d > n); when that system is singular or
    ill-conditioned, the spectral form β = V·diag(σ/(σ² + α))·Uᵀy, which at α = 0 is the
    minimum-norm least-squares solution (warned when X is rank deficient)."""
    d, t = _dims(stats)
    primal = "gram" in stats
    coef = np.empty((d, t), dtype=(stats["xty"] if primal else stats["yw"]).dtype)
    used = "primal" if primal else "dual"
    for a in np.unique(alpha):
        cols = np.flatnonzero(alpha == a)
        part = None
        if primal:
            A = stats["gram"].copy()
            A.flat[:: d + 1] += a  # add αI without allocating it
            try:
                part, rcond = spd_solve(A, stats["xty"][:, cols], scale=True, overwrite_a=True)
            except np.linalg.LinAlgError:
                rcond = 0.0
            if rcond * normal_cond_limit(dtype) < 1:
                part = None
        elif a > 0:  # ridge_dual falls back to the spectral form by itself
            part = ridge_dual(stats["xw"], stats["yw"][:, cols], np.full(cols.size, a))
        if part is None and a == 0:
            sub = NormalStats(stats)
            for key in ("xty", "yw"):
                if key in sub:
                    sub[key] = sub[key][:, cols]
            part, rank, _, _ = _min_norm(sub, None if data is None else _columns(data, cols))
            used = "svd"
            if rank < d:
                warnings.warn(
                    f"Singular matrix in solving the ridge problem: alpha = 0 and X is rank "
                    f"deficient (rank {rank} < {d} features after centering); using the "
                    "minimum-norm least-squares solution instead.",
                    RankDeficiencyWarning,
                    stacklevel=4,
                )
        elif part is None:  # α tiny beside ‖X‖²: the stable spectral form
            if data is not None:
                Xc, Yc = data()
                part = ridge_svd(Xc, Yc[:, cols], np.full(cols.size, a))
            else:
                part = _eigh_solve(stats["gram"], stats["xty"][:, cols], float(a))[0]
        coef[:, cols] = part
    return LeastSquaresFit(coef, used)


def _columns(data: CenteredData, cols: np.ndarray) -> CenteredData:
    def pick() -> tuple[np.ndarray, np.ndarray]:
        Xc, Yc = data()
        return Xc, Yc[:, cols]

    return pick


def solve_least_squares(
    stats: NormalStats,
    *,
    alpha: np.ndarray | None,
    solver: str,
    dtype: Any,
    data: CenteredData | None = None,
) -> LeastSquaresFit:
    """Solve the (ridge) normal equations held in ``stats``.

    Parameters
    ----------
    stats : NormalStats with ``gram`` (d, d) and ``xty`` (d, t), or — when the path kept the
        data because d > n — ``xw`` (n, d) and ``yw`` (n, t).
    alpha : ndarray of shape (t,) for ridge, or None for ordinary least squares.
    solver : OLS {"auto", "normal", "qr", "svd"}; ridge {"auto", "primal", "dual"}. Ridge's
        "dual" needs the data form of ``stats`` (the estimator computes that form for it).
    dtype : the dtype of the fit (its eps sets the conditioning limit).
    data : optional callable returning the centered, weighted (X_c, Y_c), for the QR/SVD
        fallbacks; None where the path has only the statistics.
    """
    if "operator" in stats:  # the Gram as an operator (sparse X with many features, or "cg")
        zero = np.zeros(_dims(stats)[1])
        return LeastSquaresFit(solve_cg(stats, zero if alpha is None else alpha), "cg")
    if data is None and "xw" in stats:  # the statistics are the centered data themselves
        data = lambda: (stats["xw"], stats["yw"])  # noqa: E731
    if alpha is None:
        return _solve_ols(stats, check_solver(solver, OLS_SOLVERS), dtype, data)
    return _solve_ridge(stats, alpha, check_solver(solver, RIDGE_SOLVERS), dtype, data)


def record_fit(
    est: Any,
    fit: LeastSquaresFit,
    stats: NormalStats,
    *,
    y_ndim: int,
    dtype: Any,
    alpha: np.ndarray | None,
    rss: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Any:
    """Set the fitted attributes of a LinearRegression (``alpha`` None) or Ridge.

    ``coef_`` (d,) or (t, d), ``intercept_`` (b = ȳ − x̄ᵀβ; 0.0 without intercept),
    ``solver_``, and ``_stats`` (for ``certificate()``, ``partial_fit`` and ``qed.save``);
    OLS adds ``rank_``, ``singular_`` and ``sigma2_`` = RSS/Σw, ridge ``_alpha``. ``rss``
    recomputes the residual sum of squares from the data (coef (d, t) → (t,)) when the
    statistics' formula would cancel digits; None where the path holds no data.
    """
    coef = fit.coef.astype(dtype, copy=False)
    est.coef_ = np.ravel(coef) if y_ndim == 1 else np.ascontiguousarray(coef.T)
    intercept = (stats["y_mean"] - stats["x_mean"] @ fit.coef).astype(dtype, copy=False)
    if not est.fit_intercept:
        est.intercept_ = 0.0
    else:
        est.intercept_ = float(intercept[0]) if y_ndim == 1 else intercept
    est.solver_ = fit.solver
    # an operator holds X itself: the saved statistics keep only the small arrays
    est._stats = NormalStats({k: v for k, v in stats.items() if k != "operator"})
    if alpha is not None:
        est._alpha = alpha
        return est
    est.rank_ = fit.rank  # None after conjugate gradients, which do not reveal them
    est.singular_ = None if fit.singular is None else fit.singular.astype(dtype, copy=False)
    sigma2 = _residual_sum(stats, fit.coef, rss) / stats["sw_sum"]
    est.sigma2_ = float(sigma2[0]) if y_ndim == 1 else sigma2
    return est


def _residual_sum(
    stats: NormalStats, coef: np.ndarray, rss: Callable[[np.ndarray], np.ndarray] | None
) -> np.ndarray:
    """Σw(y − ŷ)² per target.

    From the statistics, RSS = y_cᵀWy_c − 2βᵀX_cᵀWy_c + βᵀX_cᵀWX_cβ at no cost; that
    formula cancels digits when the fit is nearly exact, so below 1e-6·y_cᵀWy_c (where it
    would keep fewer than ~10 digits) the residuals are recomputed from the data if held.
    """
    yty = stats["yty"]
    if "gram" in stats or "operator" in stats:
        gram = stats["gram"] if "gram" in stats else stats["operator"]
        value = (
            yty
            - 2 * np.einsum("dt,dt->t", coef, stats["xty"])
            + np.einsum("dt,dt->t", coef, gram @ coef)
        )
        if rss is None or np.all(value >= 1e-6 * yty):
            return np.maximum(value, 0)
    elif rss is None:
        R = stats["yw"] - stats["xw"] @ coef
        return np.einsum("ij,ij->j", R, R)
    return np.maximum(rss(coef), 0)


def numpy_statistics(
    X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, fit_intercept: bool, *, form: str
) -> tuple[NormalStats, CenteredData]:
    """The statistics of in-memory data, and the centered data on demand for the fallbacks.

    ``form="gram"``: X_cᵀWX_c without copying X (``centered_gram``), its diagonal doubling as
    the finiteness check; ``"copy"``: the Gram of an explicitly centered copy (QR/SVD will
    factor that copy anyway); ``"data"``: √W·X_c itself (d > n, or ridge's dual).
    """
    cache: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = {}

    def centered() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if "c" not in cache:
            cache["c"] = centered_copy(X, Y, sw, fit_intercept)
        return cache["c"]

    if form == "gram":
        stats = centered_gram(X, Y, sw, fit_intercept)
        assert_finite_gram(X, stats["gram"])
    else:
        assert_finite(X)
        Xc, Yc, x_mean, y_mean = centered()
        stats = NormalStats(
            x_mean=x_mean,
            y_mean=y_mean,
            n_samples=X.shape[0],
            sw_sum=float(X.shape[0] if sw is None else sw.sum()),
            yty=np.einsum("ij,ij->j", Yc, Yc),
        )
        stats.update(gram=Xc.T @ Xc, xty=Xc.T @ Yc) if form == "copy" else stats.update(
            xw=Xc, yw=Yc
        )
    return stats, lambda: centered()[:2]


def input_statistics(
    X: Any, Y: np.ndarray, sw: np.ndarray | None, fit_intercept: bool, *, form: str
) -> tuple[NormalStats, CenteredData | None]:
    """``numpy_statistics`` for arrays, ``sparse_statistics`` for scipy.sparse X (which never
    densifies X: no centered data for the fallbacks). ``form="operator"`` keeps the Gram as
    an operator for conjugate gradients; a sparse X with more than ``GRAM_LIMIT`` features
    always does."""
    if sparse.issparse(X):
        operator = form == "operator" or X.shape[1] > GRAM_LIMIT
        return sparse_statistics(X, Y, sw, fit_intercept, operator=operator), None
    if form == "operator":
        assert_finite(X)
        return sparse_statistics(X, Y, sw, fit_intercept, operator=True), None
    return numpy_statistics(X, Y, sw, fit_intercept, form=form)


def fit_from_stats(
    est: Any,
    stats: NormalStats,
    *,
    y_ndim: int,
    dtype: Any,
    data: CenteredData | None = None,
    rss: Callable[[np.ndarray], np.ndarray] | None = None,
) -> Any:
    """Solve and record: the one fit of ``LinearRegression`` and ``Ridge`` (recognised by
    its ``alpha``) on statistics from any path. Returns ``est``."""
    t = _dims(stats)[1]
    alpha = check_alpha(est.alpha, t) if hasattr(est, "alpha") else None
    fit = solve_least_squares(stats, alpha=alpha, solver=est.solver, dtype=dtype, data=data)
    return record_fit(est, fit, stats, y_ndim=y_ndim, dtype=dtype, alpha=alpha, rss=rss)
