"""LinearRegression, Ridge and KernelRidge in any Array API namespace, on the data's device.

numpy inputs never come here (scipy's LAPACK is the fast path). For a torch tensor (CPU or
GPU), an ``array_api_strict`` array or any other Array API array, the same mathematics runs
with the standard's own operations:

    b = ȳ − x̄ᵀβ,  (X_cᵀWX_c + αI)β = X_cᵀWy_c          (LinearRegression: α = 0)
    α* = (K + λI)⁻¹y,  f(x) = K(x, X)α*                   (KernelRidge)

The standard's ``linalg`` has ``cholesky``, ``solve``, ``qr``, ``svd`` and ``eigh`` but no
triangular solve, so the symmetric positive definite systems are solved by ``linalg.solve``;
QR solves Rβ = Qᵀy with ``linalg.solve`` on the square R; SVD gives the minimum-norm answer.
Fitted arrays (``coef_``, ``intercept_``, ``dual_coef_``, …) are in the input's namespace and
on its device, as scikit-learn's ``array_api_dispatch``; the small d × d statistics behind
``certificate()`` are kept as numpy.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from qed._array_api import device_of, float_dtype_of, to_numpy
from qed.linear._checks import check_lengths
from qed.linear._solvers import NormalStats, normal_cond_limit

__all__ = [
    "fit_linear_xp",
    "predict_linear_xp",
    "fit_kernel_ridge_xp",
    "predict_kernel_ridge_xp",
    "to_numpy",
]


def _as_xp(xp: Any, values: Any, like: Any) -> Any:
    """values (numpy, list, scalar or xp array) as an xp array on ``like``'s device/dtype."""
    from array_api_compat import is_array_api_obj

    if is_array_api_obj(values) and not isinstance(values, (np.ndarray, np.generic)):
        return xp.astype(values, like.dtype)  # already in xp (and on its device)
    return xp.asarray(
        np.asarray(values, dtype=np.float64), dtype=like.dtype, device=device_of(like)
    )


def _check_Xy(est: Any, xp: Any, X: Any, y: Any, sample_weight: Any):
    name = type(est).__name__
    if y is None:
        raise ValueError(f"{name} requires y to be passed, but the target y is None.")
    if X.ndim != 2:
        raise ValueError(
            f"Expected 2D array, got X of shape {tuple(X.shape)}; reshape your "
            "data with X.reshape(-1, 1) for a single feature."
        )
    dtype = float_dtype_of(xp, X)
    X = xp.astype(X, dtype)
    y = _as_xp(xp, y, X)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {tuple(y.shape)}.")
    check_lengths(tuple(X.shape), tuple(y.shape))
    if not (bool(xp.all(xp.isfinite(X))) and bool(xp.all(xp.isfinite(y)))):
        raise ValueError("Input X or y contains NaN or infinity; remove or impute them.")
    sw = None
    if sample_weight is not None:
        sw = _as_xp(xp, sample_weight, X)
        if sw.ndim == 0:
            sw = xp.full((X.shape[0],), float(sw), dtype=dtype, device=device_of(X))
        if sw.shape != (X.shape[0],):
            raise ValueError(f"sample_weight.shape == {tuple(sw.shape)}, expected ({X.shape[0]},).")
        if not bool(xp.all(sw >= 0)):
            raise ValueError(
                "Negative values in data passed to sample_weight; weights must be ≥ 0."
            )
    est.n_features_in_ = int(X.shape[1])
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    return X, y, sw


def _centered(xp, X, Y, sw, fit_intercept):
    n = X.shape[0]
    w_sum = float(n) if sw is None else float(xp.sum(sw))
    if fit_intercept:
        if sw is None:
            x_mean, y_mean = xp.mean(X, axis=0), xp.mean(Y, axis=0)
        else:
            x_mean = xp.sum(X * sw[:, None], axis=0) / w_sum
            y_mean = xp.sum(Y * sw[:, None], axis=0) / w_sum
    else:
        x_mean = xp.zeros((X.shape[1],), dtype=X.dtype, device=device_of(X))
        y_mean = xp.zeros((Y.shape[1],), dtype=X.dtype, device=device_of(X))
    Xc, Yc = X - x_mean, Y - y_mean
    if sw is not None:
        root = xp.sqrt(sw)[:, None]
        Xc, Yc = Xc * root, Yc * root
    return Xc, Yc, x_mean, y_mean, w_sum


def _solve_spd(xp, A, B):
    return xp.linalg.solve(A, B)


def _min_norm(xp, Xw, Yw):
    """β = V Σ⁺ Uᵀy with singular values below max(n, d)·eps·σ_max treated as 0."""
    U, s, Vt = xp.linalg.svd(Xw, full_matrices=False)
    eps = float(np.finfo(np.float32 if Xw.dtype == xp.float32 else np.float64).eps)
    keep = s > max(Xw.shape) * eps * float(s[0])
    s_inv = xp.where(keep, 1.0 / xp.where(keep, s, xp.ones_like(s)), xp.zeros_like(s))
    coef = xp.matrix_transpose(Vt) @ ((xp.matrix_transpose(U) @ Yw) * s_inv[:, None])
    return coef, int(xp.sum(xp.astype(keep, xp.int32))), s


def _identity(xp, m, like):
    return xp.eye(m, dtype=like.dtype, device=device_of(like))


def fit_linear_xp(est: Any, xp: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Fit a ``LinearRegression`` or a ``Ridge`` (it has ``alpha``) in namespace xp."""
    from qed.linear.ordinary import RankDeficiencyWarning
    from qed.linear.ridge import _check_alpha

    X, y, sw = _check_Xy(est, xp, X, y, sample_weight)
    Y = xp.reshape(y, (y.shape[0], -1))
    n, d = X.shape
    t = Y.shape[1]
    Xw, Yw, x_mean, y_mean, w_sum = _centered(xp, X, Y, sw, bool(est.fit_intercept))
    eye = _identity(xp, d, X)
    if hasattr(est, "alpha"):
        alpha = _check_alpha(est.alpha, t)
        if est.solver not in ("auto", "primal", "dual"):
            raise ValueError(
                f"solver={est.solver!r} is not supported; choose one of ('auto', 'primal', 'dual')."
            )
        dual = est.solver == "dual" or (est.solver == "auto" and d > n)
        cols = []
        K = Xw @ xp.matrix_transpose(Xw) if dual else None
        G = None if dual else xp.matrix_transpose(Xw) @ Xw
        for j in range(t):
            a = float(alpha[j])
            yj = Yw[:, j : j + 1]
            if dual:
                cols.append(
                    xp.matrix_transpose(Xw) @ _solve_spd(xp, K + a * _identity(xp, n, X), yj)
                )
            else:
                cols.append(_solve_spd(xp, G + a * eye, xp.matrix_transpose(Xw) @ yj))
        coef = xp.concat(cols, axis=1)
        est.solver_ = "dual" if dual else "primal"
        est._alpha = alpha
    else:
        if est.solver not in ("auto", "normal", "qr", "svd"):
            raise ValueError(
                f"solver={est.solver!r} is not supported; choose one of "
                "('auto', 'normal', 'qr', 'svd')."
            )
        coef = None
        G = xp.matrix_transpose(Xw) @ Xw
        if est.solver in ("auto", "normal") and n >= d:
            dinv = 1.0 / xp.sqrt(xp.linalg.diagonal(G))
            lam = xp.linalg.eigvalsh(G * dinv[:, None] * dinv[None, :])
            ok = float(lam[0]) > 0 and float(lam[-1]) / float(lam[0]) < normal_cond_limit(
                np.float32 if X.dtype == xp.float32 else np.float64
            )
            if ok or est.solver == "normal":
                coef = _solve_spd(xp, G, xp.matrix_transpose(Xw) @ Yw)
                est.solver_, est.rank_ = "normal", d
                est.singular_ = xp.flip(xp.sqrt(xp.clip(xp.linalg.eigvalsh(G), min=0.0)))
        if coef is None and est.solver == "qr" and n >= d:
            Q, R = xp.linalg.qr(Xw)
            diag = xp.abs(xp.linalg.diagonal(R))
            eps = float(np.finfo(np.float32 if X.dtype == xp.float32 else np.float64).eps)
            if float(xp.min(diag)) > max(n, d) * eps * float(xp.max(diag)):
                coef = xp.linalg.solve(R, xp.matrix_transpose(Q) @ Yw)
                est.solver_, est.rank_ = "qr", d
                est.singular_ = xp.linalg.svdvals(R)
        if coef is None:
            coef, rank, s = _min_norm(xp, Xw, Yw)
            if rank < d and est.solver != "svd":
                warnings.warn(
                    f"X is rank deficient: rank {rank} < {d} features (after "
                    "centering); the minimum-norm least-squares solution was "
                    "returned.",
                    RankDeficiencyWarning,
                    stacklevel=3,
                )
            est.solver_, est.rank_, est.singular_ = "svd", rank, s
    intercept = y_mean - x_mean @ coef
    est.coef_ = coef[:, 0] if y.ndim == 1 else xp.matrix_transpose(coef)
    if not est.fit_intercept:
        est.intercept_ = 0.0
    else:
        est.intercept_ = intercept[0] if y.ndim == 1 else intercept
    R = Yw - Xw @ coef  # √W-weighted centered residuals
    G = G if G is not None else xp.matrix_transpose(Xw) @ Xw
    est._stats = NormalStats(
        gram=to_numpy(G),
        xty=to_numpy(xp.matrix_transpose(Xw) @ Yw),
        x_mean=to_numpy(x_mean),
        y_mean=to_numpy(y_mean),
        sw_sum=w_sum,
        yty=to_numpy(xp.sum(Yw * Yw, axis=0)),
        n_samples=n,
    )
    if not hasattr(est, "alpha"):
        sigma2 = xp.sum(R * R, axis=0) / w_sum
        est.sigma2_ = sigma2[0] if y.ndim == 1 else sigma2
    return est


def predict_linear_xp(est: Any, xp: Any, X: Any) -> Any:
    """ŷ = Xβ + b in X's namespace (the coefficients are moved there if needed)."""
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has shape {tuple(X.shape)}, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    coef = _as_xp(xp, est.coef_, xp.astype(X, float_dtype_of(xp, X)))
    X = xp.astype(X, coef.dtype)
    b = est.intercept_
    b = b if isinstance(b, float) else _as_xp(xp, b, coef)
    return X @ xp.matrix_transpose(coef) + b if coef.ndim == 2 else X @ coef + b


def fit_kernel_ridge_xp(est: Any, xp: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """α = (K + λI)⁻¹y (weighted: √W(√WK√W + λI)⁻¹√Wy) in namespace xp."""
    from qed.linear.ridge import _check_alpha

    X, y, sw = _check_Xy(est, xp, X, y, sample_weight)
    Y = xp.reshape(y, (y.shape[0], -1))
    alpha = _check_alpha(est.alpha, Y.shape[1])
    K = _kernel(est, xp, X)
    n = X.shape[0]
    if sw is not None:
        root = xp.sqrt(sw)
        K = K * root[:, None] * root[None, :]
        Y = Y * root[:, None]
    eye = _identity(xp, n, K)
    dual = xp.concat(
        [_solve_spd(xp, K + float(alpha[j]) * eye, Y[:, j : j + 1]) for j in range(Y.shape[1])],
        axis=1,
    )
    if sw is not None:
        dual = dual * xp.sqrt(sw)[:, None]
    est.dual_coef_ = dual[:, 0] if y.ndim == 1 else dual
    est.X_fit_ = X
    est._y_fit = to_numpy(xp.reshape(y, (y.shape[0], -1)))
    est._sw_fit = None if sw is None else to_numpy(sw)
    est._alpha = alpha
    return est


def _kernel(est: Any, xp: Any, X: Any, Y: Any = None) -> Any:
    from qed._kernels_xp import kernel_xp

    if est.kernel == "precomputed":
        return X
    if not isinstance(est.kernel, str):
        raise TypeError(
            "A callable kernel is evaluated row by row in Python and needs numpy "
            "arrays; pass numpy arrays, or use kernel='linear', 'poly' or 'rbf'."
        )
    params = {"linear": {}, "rbf": {"gamma": est.gamma}}.get(
        est.kernel, {"gamma": est.gamma, "degree": est.degree, "coef0": est.coef0}
    )
    if est.kernel not in ("linear", "rbf", "poly", "polynomial"):
        raise ValueError(
            f"kernel={est.kernel!r} is not supported; choose one of 'linear', "
            "'poly', 'rbf', 'precomputed' or pass a callable (numpy only)."
        )
    return kernel_xp(xp, est.kernel, X, Y, **params)


def predict_kernel_ridge_xp(est: Any, xp: Any, X: Any) -> Any:
    """f(x) = K(x, X_fit)α in X's namespace."""
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has shape {tuple(X.shape)}, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    X_fit = _as_xp(xp, est.X_fit_, xp.astype(X, float_dtype_of(xp, X)))
    X = xp.astype(X, X_fit.dtype)
    K = _kernel(est, xp, X, X_fit)
    return K @ xp.astype(_as_xp(xp, est.dual_coef_, X_fit), K.dtype)
