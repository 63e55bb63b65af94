"""KernelRidge's "falkon" solver: checks, centres, the solve and the certificate.

The mathematics is in ``qed.linear._falkon``; this module turns numpy, dask or Array API
inputs into the blockwise products that FALKON's conjugate gradients need, and records the
result on the estimator: ``X_fit_`` holds the m centres and ``dual_coef_`` the m coefficients
β, so that ``predict`` is f(x) = K(x, X_fit_)β for either solver.
"""

from __future__ import annotations

import math
import numbers
import warnings
from typing import Any

import numpy as np

from qed._array_api import get_namespace, to_numpy
from qed._blockwise import is_dask_collection
from qed._params import check_scalar
from qed._validation import ConvergenceWarning, check_sample_weight, check_X_y
from qed.kernels import KERNELS
from qed.linear._centers import leverage_centers, uniform_centers
from qed.linear._falkon import BlockCache, NystroemKernel, falkon_cg, nystroem_products

__all__ = ["fit_falkon", "falkon_residual", "default_n_centers", "default_tol"]


def default_n_centers(n: int) -> int:
    """m = ⌈5√n⌉ (at most n): FALKON's m ≈ √n centres reach the exact rate (Rudi et al.)."""
    return min(n, math.ceil(5.0 * math.sqrt(n)))


def default_tol(dtype: Any) -> float:
    """CG stops at ‖b − Hβ‖ ≤ tol·‖b‖: 1e-7 in float64, 1e-4 in float32 (its rounding floor)."""
    return 1e-4 if np.dtype(dtype) == np.float32 else 1e-7


CENTER_SELECTIONS = ("uniform", "leverage")


def _check_options(est: Any, n: int) -> tuple[int, int, float | None]:
    if est.center_selection not in CENTER_SELECTIONS:
        raise ValueError(
            f"center_selection={est.center_selection!r} is not supported; choose one of "
            f"{CENTER_SELECTIONS}."
        )
    if est.kernel == "precomputed":
        raise ValueError(
            "solver='falkon' evaluates the kernel at Nyström centres and needs the features, "
            "not a precomputed kernel; use solver='cholesky' with kernel='precomputed'."
        )
    if isinstance(est.kernel, str) and est.kernel not in KERNELS:
        raise ValueError(
            f"kernel={est.kernel!r} is not supported; choose one of "
            f"{sorted(KERNELS) + ['precomputed']} or pass a callable."
        )
    if est.n_centers is None:
        m = default_n_centers(n)
    else:
        check_scalar(est.n_centers, "n_centers", target_type=numbers.Integral, min_val=1)
        m = int(est.n_centers)
        if m > n:
            raise ValueError(
                f"n_centers={m} is larger than the number of samples ({n}); choose "
                f"n_centers ≤ {n} (n_centers = n solves the exact kernel ridge problem)."
            )
    max_iter = 100 if est.max_iter is None else est.max_iter
    check_scalar(max_iter, "max_iter", target_type=numbers.Integral, min_val=1)
    tol = est.tol
    if tol is not None:
        check_scalar(
            tol, "tol", target_type=numbers.Real, min_val=0, include_min=False, allow_inf=False
        )
        tol = float(tol)
    return m, int(max_iter), tol


def _check_data(
    est: Any, X: Any, y: Any, sample_weight: Any, record: bool = True
) -> tuple[Any, Any, Any, Any]:
    """(X, Y (n, t), sw, y.ndim) in numpy, dask or X's Array API namespace."""
    if is_dask_collection(X) or is_dask_collection(y):
        from qed.linear._dask import _check_dask_inputs

        if not isinstance(est.kernel, str):
            raise TypeError(
                "A callable kernel is evaluated row by row in Python and needs numpy arrays; "
                "pass numpy arrays, or use kernel='linear', 'poly' or 'rbf' with dask."
            )
        X, y, sw = _check_dask_inputs(est, X, y, sample_weight, record=record)
        if X.dtype not in (np.float32, np.float64):
            X = X.astype(np.float64)
        y = y.astype(X.dtype)
        return X, (y if y.ndim == 2 else y[:, None]), sw, y.ndim
    xp, is_numpy = get_namespace(X, y)
    if not is_numpy:
        from qed.linear._array_api_path import _check_Xy

        if not isinstance(est.kernel, str):
            raise TypeError(
                "A callable kernel is evaluated row by row in Python and needs numpy arrays; "
                "pass numpy arrays, or use kernel='linear', 'poly' or 'rbf'."
            )
        X, y, sw = _check_Xy(est, xp, X, y, sample_weight)
        return X, xp.reshape(y, (y.shape[0], -1)), sw, y.ndim
    X, y = check_X_y(X, y, estimator=est if record else None, multi_output=True, y_numeric=True)
    y = y.astype(X.dtype, copy=False)
    sw = (
        None
        if sample_weight is None
        else check_sample_weight(sample_weight, X, dtype=X.dtype, only_positive=True)
    )
    return X, y.reshape(len(y), -1), sw, y.ndim


def _kernel_of(est: Any, C: Any) -> NystroemKernel:
    return NystroemKernel(
        est.kernel, C, est.gamma, est.degree, est.coef0, dict(est.kernel_params or {})
    )


def fit_falkon(est: Any, X: Any, y: Any, sample_weight: Any, alpha_of: Any) -> Any:
    """Fit ``est`` (a KernelRidge) by FALKON; ``alpha_of(t)`` validates alpha for t targets."""
    X, Y, sw, y_ndim = _check_data(est, X, y, sample_weight)
    n = int(X.shape[0])
    m, max_iter, tol = _check_options(est, n)
    alpha = alpha_of(Y.shape[1])
    dtype = np.float32 if _is_float32(X) else np.float64
    tol = default_tol(dtype) if tol is None else tol
    C, idx, weights = _centers(est, X, m, alpha)
    kern = _kernel_of(est, C)
    cache = BlockCache(kern, X)  # K_nm's leading rows, made in this pass, reused in the next
    b = nystroem_products(kern, X, Y, sw, cache=cache)["rhs"]
    if not np.all(np.isfinite(b)):
        raise ValueError("Input X or y contains NaN or infinity; remove or impute them.")
    s = float(n) if sw is None else _total(sw)
    Kmm = to_numpy(kern.block(C)).astype(np.float64)
    Kmm = 0.5 * (Kmm + Kmm.T)
    result = falkon_cg(
        lambda V: nystroem_products(kern, X, None, sw, V, cache)["hu"],
        Kmm,
        b,
        alpha,
        s,
        max_iter=max_iter,
        tol=tol,
        center_weights=weights,
    )
    if np.any(result.residual > tol):
        warnings.warn(
            f"FALKON's conjugate gradients stopped after max_iter={max_iter} iterations with "
            f"relative residual {float(np.max(result.residual)):.2e} > tol={tol:.1e}; raise "
            "max_iter (or tol) for a more accurate solution.",
            ConvergenceWarning,
            stacklevel=3,
        )
    beta = result.beta
    xp, is_numpy = get_namespace(C)
    if is_numpy:
        est.dual_coef_ = (beta[:, 0] if y_ndim == 1 else beta).astype(C.dtype, copy=False)
    else:
        from qed._array_api import device_of

        dual = xp.asarray(beta, dtype=C.dtype, device=device_of(C))
        est.dual_coef_ = dual[:, 0] if y_ndim == 1 else dual
    est.X_fit_ = C
    est.center_indices_ = idx
    est.n_iter_ = result.n_iter
    est.solver_ = "falkon"
    est._alpha = alpha
    est._tol = tol
    est._y_fit = est._sw_fit = None
    est._beta_fit = to_numpy(est.dual_coef_).copy()
    est._residual = falkon_residual(kern, X, Y, sw, beta, Kmm, alpha, cache)
    return est


def _centers(est: Any, X: Any, m: int, alpha: np.ndarray) -> tuple[Any, np.ndarray, Any]:
    """(C, their row indices, their preconditioner weights or None for a uniform draw)."""
    if est.center_selection == "uniform":
        return (*uniform_centers(X, m, est.random_state), None)
    # one draw serves every target: scored at the smallest λ, where most rows matter
    lam = float(np.min(alpha))
    if lam <= 0.0:
        raise ValueError(
            "center_selection='leverage' needs alpha > 0: the ridge leverage scores "
            "[K(K + αI)⁻¹]ᵢᵢ are all 1 at alpha = 0; use center_selection='uniform'."
        )
    return leverage_centers(X, m, lam, lambda C: _kernel_of(est, C), est.random_state)


def _is_float32(X: Any) -> bool:
    if isinstance(X, np.ndarray) or is_dask_collection(X):
        return X.dtype == np.float32
    xp, _ = get_namespace(X)
    return X.dtype == xp.float32


def _total(sw: Any) -> float:
    if is_dask_collection(sw):
        return float(sw.sum().compute())
    xp, _ = get_namespace(sw)
    return float(xp.sum(sw))


def falkon_residual(
    kern: NystroemKernel,
    X: Any,
    Y: Any,
    sw: Any,
    beta: np.ndarray,
    Kmm: np.ndarray,
    alpha: np.ndarray,
    cache: BlockCache | None = None,
) -> tuple[float, float]:
    """(‖(K_nmᵀWK_nm + λK_mm)β − K_nmᵀWy‖_F, ‖K_nmᵀWy‖_F), measured in one blocked pass."""
    out = nystroem_products(kern, X, Y, sw, beta, cache)
    R = out["hu"] + (Kmm @ beta) * alpha - out["rhs"]
    return float(np.linalg.norm(R)), float(np.linalg.norm(out["rhs"]))


def falkon_certificate_data(est: Any, X: Any, y: Any, sample_weight: Any) -> tuple[float, float]:
    """The residual of the Nyström normal equations recomputed on the training data given."""
    if X is None and y is None:
        if not np.array_equal(to_numpy(est.dual_coef_), est._beta_fit):
            raise ValueError(
                "dual_coef_ changed since fit, so the residual measured at fit no longer "
                "applies; pass the training X and y to certificate to measure it again."
            )
        return est._residual
    if X is None or y is None:
        raise ValueError("certificate needs both X and y (or neither, for the training data).")
    X, Y, sw, _ = _check_data(est, X, y, sample_weight, record=False)
    kern = _kernel_of(est, est.X_fit_)
    beta = to_numpy(est.dual_coef_).astype(np.float64).reshape(kern.m, -1)
    if Y.shape[1] != beta.shape[1]:
        raise ValueError(f"y has {Y.shape[1]} targets; the model was fitted on {beta.shape[1]}.")
    Kmm = to_numpy(kern.block(est.X_fit_)).astype(np.float64)
    Kmm = 0.5 * (Kmm + Kmm.T)
    return falkon_residual(kern, X, Y, sw, beta, Kmm, est._alpha)
