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

from typing import Any

import numpy as np

from qed._array_api import device_of, float_dtype_of, to_numpy
from qed._validation import record_features
from qed.linear._checks import check_alpha, check_lengths
from qed.linear._least_squares import fit_from_stats
from qed.linear._solvers import NormalStats

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
    record_features(est, X, reset=True)
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


def _identity(xp, m, like):
    return xp.eye(m, dtype=like.dtype, device=device_of(like))


def fit_linear_xp(est: Any, xp: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Fit a ``LinearRegression`` or a ``Ridge`` on Array API input, on its device.

    The O(n·d²) work — centering and X_cᵀWX_c, X_cᵀWy_c — runs in xp on X's device; the
    d × d statistics then go through the one solver of every path
    (``qed.linear._least_squares``) and the fitted arrays come back as xp arrays on that
    device. When d > n the problem is its data (no Gram smaller than X exists), which is
    then solved on the host like an in-memory one.
    """
    X, y, sw = _check_Xy(est, xp, X, y, sample_weight)
    Y = xp.reshape(y, (y.shape[0], -1))
    n, d = X.shape
    Xw, Yw, x_mean, y_mean, w_sum = _centered(xp, X, Y, sw, bool(est.fit_intercept))
    stats = NormalStats(
        x_mean=to_numpy(x_mean),
        y_mean=to_numpy(y_mean),
        sw_sum=w_sum,
        yty=to_numpy(xp.sum(Yw * Yw, axis=0)),
        n_samples=n,
    )
    dual = hasattr(est, "alpha") and est.solver == "dual"
    if d > n or dual:
        stats.update(xw=to_numpy(Xw), yw=to_numpy(Yw))
    else:
        Xt = xp.matrix_transpose(Xw)
        stats.update(gram=to_numpy(Xt @ Xw), xty=to_numpy(Xt @ Yw))

    def rss(coef: np.ndarray) -> np.ndarray:
        R = Yw - Xw @ _as_xp(xp, coef, Xw)  # √W-weighted centered residuals, on the device
        return to_numpy(xp.sum(R * R, axis=0))

    dtype = np.float32 if X.dtype == xp.float32 else np.float64
    fit_from_stats(est, stats, y_ndim=y.ndim, dtype=dtype, rss=rss)
    for name in ("coef_", "intercept_", "sigma2_", "singular_"):
        value = getattr(est, name, None)
        if isinstance(value, (np.ndarray, np.floating, float)) and not (
            name == "intercept_" and not est.fit_intercept
        ):
            setattr(est, name, _as_xp(xp, np.asarray(value), X))
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
    X, y, sw = _check_Xy(est, xp, X, y, sample_weight)
    Y = xp.reshape(y, (y.shape[0], -1))
    alpha = check_alpha(est.alpha, Y.shape[1])
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
