"""Logistic and softmax regression on row-chunked dask arrays: Newton with blockwise sums.

The notes' negative log-likelihood, its gradient Σᵢ sᵢ(pᵢ − yᵢ)x̃ᵢ and its Hessian
X̃ᵀSX̃ (for k classes the blocks X̃ᵀdiag(sᵢ(p_ia·δ_ab − p_ia·p_ib))X̃) are sums over rows.
So each Newton iteration is one pass over the blocks where they live: every block returns
its (f, ∇f, ∇²f), a few kilobytes, the cluster adds them pairwise, and the client solves the
small (k·d₁)² Newton system. The iteration is the in-memory solver's (damped Newton with the
Armijo rule, the softmax's flat shared-shift directions lifted, the same stopping rule), so it
reaches the same optimum; the line search's trial point is evaluated with its Hessian, so an
accepted step costs one pass in all. Labels are found by a blockwise ``np.unique`` reduction.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve, eigvalsh
from scipy.special import expit, log_expit, log_softmax

from qed._blockwise import is_dask_collection, map_reduce_rows, row_blocks_aligned
from qed._validation import ConvergenceWarning
from qed.certificate import Certificate, scaled_tolerance

__all__ = ["fit_logistic_dask", "scores_dask", "certificate_dask"]


def _scan_block(Xb: np.ndarray, yb: np.ndarray, swb: np.ndarray | None) -> dict:
    """Labels, counts and the scale of one block (the first, validating pass)."""
    X = np.asarray(Xb)
    finite = np.isfinite(X) if X.dtype.kind == "f" else np.ones(X.shape, bool)
    return {
        "labels": np.unique(np.asarray(yb)),
        "n": len(X),
        "sw_sum": float(len(X) if swb is None else np.sum(swb)),
        "bad_w": 0 if swb is None else int(np.count_nonzero(~(np.asarray(swb) >= 0))),
        "nonfinite": int(X.size - np.count_nonzero(finite)),
        "x_max": float(np.abs(np.where(finite, X, 0)).max(initial=0.0)),
    }


def _merge_scan(a: dict, b: dict) -> dict:
    return {
        "labels": np.union1d(a["labels"], b["labels"]),
        "n": a["n"] + b["n"],
        "sw_sum": a["sw_sum"] + b["sw_sum"],
        "bad_w": a["bad_w"] + b["bad_w"],
        "nonfinite": a["nonfinite"] + b["nonfinite"],
        "x_max": max(a["x_max"], b["x_max"]),
    }


def _newton_block(Xb, yb, swb, Theta, classes, fit_intercept):
    """(f, ∇f, ∇²f) of the unpenalised negative log-likelihood on one block.

    Theta (k', d₁) with k' = 1 for two classes; the Hessian is (k'·d₁, k'·d₁), ordered as
    Theta.ravel().
    """
    X = np.asarray(Xb, dtype=np.float64)
    n, d = X.shape
    Xa = np.column_stack([X, np.ones(n)]) if fit_intercept else X
    codes = np.searchsorted(classes, np.asarray(yb))
    sw = np.ones(n) if swb is None else np.asarray(swb, dtype=np.float64)
    Z = Xa @ Theta.T
    kp, p = Theta.shape
    if kp == 1:
        z = Z[:, 0]
        f = -float(sw @ log_expit(np.where(codes == 1, z, -z)))
        prob = expit(z)
        G = ((sw * (prob - codes)) @ Xa)[None, :]
        H = (Xa * (sw * prob * (1 - prob))[:, None]).T @ Xa
        return f, G, H
    logP = log_softmax(Z, axis=1)
    f = -float(sw @ logP[np.arange(n), codes])
    P = np.exp(logP)
    R = P.copy()
    R[np.arange(n), codes] -= 1.0
    G = (R * sw[:, None]).T @ Xa
    H = np.empty((kp * p, kp * p))
    for a in range(kp):
        for b in range(a + 1):
            w = sw * P[:, a] * ((a == b) - P[:, b])
            block = (Xa * w[:, None]).T @ Xa
            H[a * p : (a + 1) * p, b * p : (b + 1) * p] = block
            H[b * p : (b + 1) * p, a * p : (a + 1) * p] = block.T
    return f, G, H


class _Objective:
    """f, ∇f, ∇²f of the penalised objective, each evaluation one pass over the blocks."""

    def __init__(self, X, y, sw, classes, alpha, fit_intercept):
        self.X, self.y, self.sw = X, y, sw
        self.classes, self.alpha, self.fit_intercept = classes, alpha, fit_intercept
        self.d = X.shape[1]

    def __call__(self, Theta):
        f, G, H = map_reduce_rows(
            _newton_block, self.X, self.y, self.sw, args=(Theta, self.classes, self.fit_intercept)
        )
        if self.alpha:
            W = Theta[:, : self.d]
            f += 0.5 * self.alpha * float(np.vdot(W, W))
            G = G.copy()
            G[:, : self.d] += self.alpha * W
            pen = np.zeros(Theta.shape)
            pen[:, : self.d] = self.alpha
            H = H + np.diag(pen.ravel())
        return f, G, H


def _null_space(kp: int, p: int) -> np.ndarray:
    """Orthonormal shared-shift directions of the softmax (k·p, p); none for the sigmoid."""
    if kp == 1:
        return np.zeros((p, 0))
    basis = np.zeros((kp, p, p))
    basis[:, np.arange(p), np.arange(p)] = 1.0 / np.sqrt(kp)
    return basis.reshape(kp * p, p)


def _direction(H: np.ndarray, G: np.ndarray, null: np.ndarray) -> np.ndarray:
    """Solve (∇²f + NNᵀ)Δ = −∇f by Cholesky, shifted by the least multiple of I that works."""
    A = H + null @ null.T
    shift = 0.0
    while True:
        try:
            factor = cho_factor(A, lower=True, check_finite=False)
            break
        except LinAlgError:
            step = max(2 * shift, np.finfo(float).eps * max(np.trace(A), 1.0))
            A.flat[:: A.shape[0] + 1] += step - shift
            shift = step
    return -cho_solve(factor, G.ravel(), check_finite=False).reshape(G.shape)


def _newton(obj: _Objective, Theta0, tol, max_iter, total, floor, first=None):
    """Damped Newton from Θ₀ (``first``: f, ∇f, ∇²f there, when already computed)."""
    Theta = Theta0.copy()
    null = _null_space(*Theta.shape)
    f, G, H = obj(Theta) if first is None else first
    curve = [f / total]
    for it in range(1, max_iter + 1):
        gmax = float(np.abs(G).max())
        if gmax <= max(tol * total, floor):
            return Theta, it - 1, True, curve
        D = _direction(H, G, null)
        slope = float(np.vdot(G, D))
        if slope >= 0:  # rounding made it no descent direction: steepest descent instead
            D, slope = -G, -float(np.vdot(G, G))
        t = 1.0
        for _ in range(60):
            f_new, G_new, H_new = obj(Theta + t * D)
            if f_new <= f + 1e-4 * t * slope:
                break
            # near the optimum the decrease of f falls below its rounding (≈ eps·|f|) while
            # the gradient still shrinks quadratically: accept the full step on that evidence
            flat = abs(f_new - f) <= 64 * np.finfo(float).eps * abs(f)
            if t == 1.0 and flat and np.abs(G_new).max() < 0.5 * gmax:
                break
            t *= 0.5
        else:  # f is flat to rounding along D: optimal to precision
            return Theta, it, gmax <= 1e3 * floor, curve
        Theta = Theta + t * D
        f, G, H = f_new, G_new, H_new
        curve.append(f / total)
    return Theta, max_iter, bool(np.abs(G).max() <= max(tol * total, floor)), curve


# with this many row blocks or more, Newton first runs on every WARM_START_FRACTION-th block
WARM_START_MIN_BLOCKS = 16
WARM_START_FRACTION = 8
WARM_START_TOL = 1e-4


def _warm_start(obj: _Objective, shape, total, floor, est):
    """Start where Newton on 1/8 of the blocks (weights scaled by 8) ends, as the in-memory
    solver starts from a subsample's optimum: that point is within the sampling error of the
    answer, where Newton converges quadratically, so the full passes are spent only on the
    last digits. Kept only if it lowers f below f(0) = Σs·log k (known without a pass).
    Returns (Θ₀, (f, ∇f, ∇²f) at Θ₀ or None)."""
    zero = np.zeros(shape)
    nb = obj.X.numblocks[0]
    if nb < WARM_START_MIN_BLOCKS:
        return zero, None
    import dask.array as da

    idx = list(range(0, nb, WARM_START_FRACTION))
    Xs, ys = obj.X.blocks[idx], obj.y.blocks[idx]
    factor = obj.X.shape[0] / Xs.shape[0]
    sws = (
        da.full(Xs.shape[0], factor, chunks=(Xs.chunks[0],))
        if obj.sw is None
        else obj.sw.blocks[idx] * factor
    )
    sub = _Objective(Xs, ys, sws, obj.classes, obj.alpha, obj.fit_intercept)
    start = _newton(
        sub, zero, max(float(est.tol), WARM_START_TOL), min(int(est.max_iter), 30), total, floor
    )[0]
    if not np.all(np.isfinite(start)):
        return zero, None
    first = obj(start)
    f_zero = total * np.log(max(len(obj.classes), 2))
    return (start, first) if first[0] < f_zero else (zero, None)


def _check_inputs(est, X, y, sample_weight):
    import dask.array as da

    X = X if is_dask_collection(X) else da.asarray(np.asarray(X))
    y = y if is_dask_collection(y) else da.asarray(np.asarray(y))
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array X of shape (n_samples, n_features), got shape {X.shape}."
        )
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per sample), got shape {y.shape}.")
    if any(math.isnan(c) for c in X.chunks[0] + y.chunks[0]):
        raise ValueError(
            "X or y has unknown chunk sizes (e.g. from a dask DataFrame); call "
            "X.compute_chunk_sizes() (or to_dask_array(lengths=True)) first."
        )
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"Found input variables with inconsistent numbers of samples: X has {X.shape[0]} "
            f"rows but y has {y.shape[0]}; X and y must describe the same samples."
        )
    if sample_weight is not None and not is_dask_collection(sample_weight):
        sample_weight = np.broadcast_to(np.asarray(sample_weight, dtype=np.float64), (X.shape[0],))
    if sample_weight is not None and sample_weight.shape != (X.shape[0],):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
    X, y, sw = row_blocks_aligned(X, y, sample_weight)
    return X, y, sw


def fit_logistic_dask(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Fit a ``LogisticRegression`` (solver "newton") on dask arrays; coefficients in numpy."""
    est._validate_params()
    if est.solver != "newton":
        raise ValueError(
            f"LogisticRegression on dask arrays supports solver='newton' only (one "
            f"pass over the blocks per iteration), got solver={est.solver!r}."
        )
    X, y, sw = _check_inputs(est, X, y, sample_weight)
    scan = map_reduce_rows(_scan_block, X, y, sw, combine=_merge_scan)
    name = type(est).__name__
    if scan["nonfinite"]:
        raise ValueError(
            f"Input X contains {scan['nonfinite']} NaN or infinite entries; remove "
            "or impute them before fitting."
        )
    if scan["bad_w"]:
        raise ValueError(
            f"sample_weight has {scan['bad_w']} negative or NaN entries; weights must be ≥ 0."
        )
    classes = scan["labels"]
    if classes.dtype.kind == "f" and np.any(classes != np.round(classes)):
        raise ValueError(
            f"Unknown label type: continuous. {name} is a classifier and needs "
            "discrete class labels."
        )
    if len(classes) < 2:
        raise ValueError(
            f"{name} needs samples of at least 2 classes in the data, but the data "
            f"contains only one class: {classes[0]!r}."
        )
    est.classes_ = classes
    est.n_features_in_ = int(X.shape[1])
    if hasattr(est, "feature_names_in_"):
        del est.feature_names_in_
    alpha = 0.0 if np.isinf(est.C) else 1.0 / float(est.C)
    fit_intercept = bool(est.fit_intercept)
    d = X.shape[1]
    shape = (1 if len(classes) == 2 else len(classes), d + int(fit_intercept))
    total = float(scan["sw_sum"])
    # the rounding level of ‖∇f‖∞, as the in-memory solver's gradient_floor
    floor = (
        1e3
        * np.finfo(np.float64).eps
        * total
        * max(scan["x_max"], 1.0 if fit_intercept else 0.0, 1e-300)
    )
    obj = _Objective(X, y, sw, classes, alpha, fit_intercept)
    Theta0, first = _warm_start(obj, shape, total, floor, est)
    Theta, n_iter, converged, curve = _newton(
        obj, Theta0, float(est.tol), int(est.max_iter), total, floor, first
    )
    if not converged:
        hint = (
            " With C=inf the MLE may not exist (separable classes); try a finite C."
            if alpha == 0
            else ""
        )
        warnings.warn(
            f"LogisticRegression(solver='newton') stopped at max_iter={est.max_iter} "
            f"before the gradient reached tol={est.tol}; increase max_iter or scale "
            f"the features.{hint}",
            ConvergenceWarning,
            stacklevel=3,
        )
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    est.coef_ = np.ascontiguousarray(Theta[:, :d], dtype=dtype)
    est.intercept_ = Theta[:, d].astype(dtype) if fit_intercept else np.zeros(len(Theta), dtype)
    est.n_iter_ = np.array([n_iter], dtype=np.int32)
    est.loss_curve_ = curve
    return est


def _scores_block(Xb, coef, intercept, kind):
    Z = Xb @ coef.T + intercept
    if kind == "decision":
        return Z[:, 0] if Z.shape[1] == 1 else Z
    if Z.shape[1] == 1:
        logp = np.column_stack([log_expit(-Z[:, 0]), log_expit(Z[:, 0])])
    else:
        logp = log_softmax(Z, axis=1)
    return logp if kind == "log_proba" else np.exp(logp)


def _take(idx: np.ndarray, classes: np.ndarray) -> np.ndarray:
    return classes[idx]


def scores_dask(est: Any, X: Any, kind: str) -> Any:
    """decision_function / predict_proba / predict_log_proba / predict as lazy dask arrays."""
    if X.ndim != 2 or X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has shape {X.shape}, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    X = row_blocks_aligned(X)[0]
    coef, intercept = np.asarray(est.coef_), np.asarray(est.intercept_)
    dtype = np.result_type(coef.dtype, X.dtype if X.dtype.kind == "f" else np.float64)
    k = len(est.classes_)
    if kind == "predict":
        dec = scores_dask(est, X, "decision")
        idx = (dec > 0).astype(np.intp) if dec.ndim == 1 else dec.argmax(axis=1)
        return idx.map_blocks(_take, est.classes_, dtype=est.classes_.dtype)
    if kind == "decision" and coef.shape[0] == 1:
        return X.map_blocks(_scores_block, coef, intercept, kind, drop_axis=1, dtype=dtype)
    return X.map_blocks(
        _scores_block, coef, intercept, kind, dtype=dtype, chunks=(X.chunks[0], (k,))
    )


def certificate_dask(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Certificate:
    """The in-memory certificate's conditions, measured by two passes over dask blocks.

    Stationarity ‖∇f/Σs‖∞ ≤ max(tol, rounding level) and convexity λ_min(∇²f/Σs) ≥ −ε, with
    ∇f and ∇²f = X̃ᵀSX̃ + I/C summed on the cluster.
    """
    X, y, sw = _check_inputs(est, X, y, sample_weight)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    scan = map_reduce_rows(_scan_block, X, y, sw, combine=_merge_scan)
    unknown = np.setdiff1d(scan["labels"], est.classes_)
    if len(unknown):
        raise ValueError(f"y contains labels {unknown!r} not seen in fit ({est.classes_}).")
    fit_intercept = bool(est.fit_intercept)
    alpha = 0.0 if np.isinf(est.C) else 1.0 / float(est.C)
    coef = np.asarray(est.coef_, dtype=np.float64)
    Theta = np.column_stack([coef, est.intercept_]) if fit_intercept else coef.copy()
    _, G, H = _Objective(X, y, sw, est.classes_, alpha, fit_intercept)(Theta)
    total = float(scan["sw_sum"])
    scale = max(scan["x_max"], 1.0 if fit_intercept else 0.0, 1e-300)
    floor = 1e3 * np.finfo(np.asarray(est.coef_).dtype).eps * scale
    H = H / total
    lam = float(eigvalsh(H, subset_by_index=[0, 0], check_finite=False)[0])
    cert = Certificate(f"LogisticRegression(C={est.C}, solver={est.solver!r})")
    cert.add(
        "‖∇f‖∞ / n",
        float(np.abs(G).max()) / total,
        max(float(est.tol), floor),
        "gradient Σᵢ(pᵢ − yᵢ)x̃ᵢ + W/C of the averaged objective is zero",
    )
    cert.add(
        "−λ_min(∇²f) / n",
        max(-lam, 0.0),
        scaled_tolerance(float(np.abs(H).max(initial=0.0)), dtype=H.dtype, n=H.shape[0]),
        f"Hessian X̃ᵀSX̃ + I/C is positive semidefinite (λ_min = {lam:.3e})",
    )
    return cert
