"""Logistic and softmax regression on row-chunked dask arrays: the objective as blockwise sums.

The notes' negative log-likelihood, its gradient Σᵢ sᵢ(pᵢ − yᵢ)x̃ᵢ and its Hessian
X̃ᵀSX̃ (for k classes the blocks X̃ᵀdiag(sᵢ(p_ia·δ_ab − p_ia·p_ib))X̃) are sums over rows.
So ``DaskObjective`` evaluates Θ ↦ (f, ∇f, ∇²f) in one pass over the blocks where they live:
every block computes its terms with the in-memory objective (``LogisticProblem``), a few
kilobytes, the cluster adds them pairwise, and the client adds the penalty. The Newton
iteration, its warm start, stopping rule, warnings, fitted attributes and certificate are
the in-memory fit's (``_newton``, ``logistic``); the trial point of the line search comes
with its Hessian, so an accepted step costs one pass in all. Labels are found by a
blockwise ``np.unique`` reduction, which also validates the data.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np
from scipy.special import log_expit, log_softmax

from qed._blockwise import is_dask_collection, map_reduce_rows, row_blocks_aligned
from qed._validation import check_same_rows
from qed.classify._logistic_solvers import LogisticProblem

__all__ = ["DaskObjective", "fit_objective", "certificate_objective", "scores_dask"]

# with this many row blocks or more, Newton first runs on every WARM_START_FRACTION-th block
WARM_START_MIN_BLOCKS = 16
WARM_START_FRACTION = 8


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


def _block_problem(Xb, yb, swb, classes, fit_intercept) -> LogisticProblem:
    """The unpenalised in-memory objective on one block (labels coded against ``classes``)."""
    X = np.ascontiguousarray(Xb, dtype=np.float64)
    codes = np.searchsorted(classes, np.asarray(yb))
    sw = np.ones(len(X)) if swb is None else np.asarray(swb, dtype=np.float64)
    return LogisticProblem(X, codes, sw, 0.0, fit_intercept, len(classes))


def _block_terms(Xb, yb, swb, Theta, classes, fit_intercept):
    """(f, ∇f, ∇²f) of the unpenalised negative log-likelihood on one block, the Hessian
    (k'·d₁, k'·d₁) ordered as Θ.ravel()."""
    f, G, curv = _block_problem(Xb, yb, swb, classes, fit_intercept)(Theta)
    return f, G, curv.matrix()


def _block_separates(Xb, yb, swb, Theta, classes, fit_intercept) -> bool:
    return _block_problem(Xb, yb, swb, classes, fit_intercept).separates(Theta)


class _Formed:
    """A Hessian summed on the cluster: already formed, so Newton solves by Cholesky."""

    cost = 0.0

    def __init__(self, H: np.ndarray):
        self.H = H

    def matrix(self) -> np.ndarray:
        return self.H.copy()


class DaskObjective:
    """f = Σᵢ sᵢ(−log pᵢ) + (α/2)‖W‖², ∇f, ∇²f on dask arrays, each evaluation one pass.

    The Newton driver's objective (see ``_newton``). X (n, d), y (n,), sw (n,) or None are
    dask arrays with aligned row blocks; ``n_rows``, ``total`` = Σsᵢ and ``x_max`` = max|X|
    come from the validating scan.
    """

    def __init__(self, X, y, sw, classes, alpha, fit_intercept, *, n_rows, total, x_max):
        self.X, self.y, self.sw = X, y, sw
        self.classes, self.alpha, self.fit_intercept = classes, alpha, fit_intercept
        self.n_classes = len(classes)
        self.d = X.shape[1]
        self.shape = (1 if self.n_classes == 2 else self.n_classes, self.d + int(fit_intercept))
        self.n_rows, self.total, self.x_max = n_rows, total, x_max

    def __call__(self, Theta):
        args = (Theta, self.classes, self.fit_intercept)
        f, G, H = map_reduce_rows(_block_terms, self.X, self.y, self.sw, args=args)
        if self.alpha:
            W = Theta[:, : self.d]
            f += 0.5 * self.alpha * float(np.vdot(W, W))
            G = G.copy()
            G[:, : self.d] += self.alpha * W
            pen = np.zeros(Theta.shape)
            pen[:, : self.d] = self.alpha
            H = H + np.diag(pen.ravel())
        return f, G, _Formed(H)

    def gradient_floor(self, dtype=np.float64) -> float:
        """Rounding level of ‖∇f‖∞, as ``LogisticProblem.gradient_floor``."""
        scale = max(self.x_max, 1.0 if self.fit_intercept else 0.0)
        return 1e3 * np.finfo(dtype).eps * self.total * max(scale, 1e-300)

    def separates(self, Theta) -> bool:
        """True when Θ classifies every weighted sample strictly correctly (one pass)."""
        args = (Theta, self.classes, self.fit_intercept)
        return bool(
            map_reduce_rows(
                _block_separates, self.X, self.y, self.sw, args=args, combine=operator.and_
            )
        )

    def subsample(self) -> DaskObjective | None:
        """Every 8th block (when there are at least 16), weights scaled by the ratio of rows,
        so that f_sub ≈ f; Σsᵢ and max|X| are kept as the whole data's (estimates)."""
        nb = self.X.numblocks[0]
        if nb < WARM_START_MIN_BLOCKS:
            return None
        import dask.array as da

        idx = list(range(0, nb, WARM_START_FRACTION))
        Xs, ys = self.X.blocks[idx], self.y.blocks[idx]
        factor = self.X.shape[0] / Xs.shape[0]
        sws = (
            da.full(Xs.shape[0], factor, chunks=(Xs.chunks[0],))
            if self.sw is None
            else self.sw.blocks[idx] * factor
        )
        return DaskObjective(
            Xs,
            ys,
            sws,
            self.classes,
            self.alpha,
            self.fit_intercept,
            n_rows=int(Xs.shape[0]),
            total=self.total,
            x_max=self.x_max,
        )


def _check_inputs(X, y, sample_weight):
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
    check_same_rows(X.shape[0], y.shape[0])
    if sample_weight is not None and not is_dask_collection(sample_weight):
        sample_weight = np.broadcast_to(np.asarray(sample_weight, dtype=np.float64), (X.shape[0],))
    if sample_weight is not None and sample_weight.shape != (X.shape[0],):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
    X, y, sw = row_blocks_aligned(X, y, sample_weight)
    return X, y, sw


def fit_objective(est: Any, X: Any, y: Any, sample_weight: Any = None):
    """Validate dask X, y (and weights) for ``est.fit`` by one scan over the blocks.

    Returns (objective, classes, dtype of the coefficients).
    """
    if est.solver != "newton":
        raise ValueError(
            f"LogisticRegression on dask arrays supports solver='newton' only (one "
            f"pass over the blocks per iteration), got solver={est.solver!r}."
        )
    X, y, sw = _check_inputs(X, y, sample_weight)
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
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.dtype(np.float64)
    return _objective(est, X, y, sw, classes, scan), classes, dtype


def certificate_objective(est: Any, X: Any, y: Any, sample_weight: Any = None):
    """Validate dask X, y (and weights) against the fitted ``est``; its objective on them."""
    X, y, sw = _check_inputs(X, y, sample_weight)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    scan = map_reduce_rows(_scan_block, X, y, sw, combine=_merge_scan)
    unknown = np.setdiff1d(scan["labels"], est.classes_)
    if len(unknown):
        raise ValueError(f"y contains labels {unknown!r} not seen in fit ({est.classes_}).")
    return _objective(est, X, y, sw, est.classes_, scan)


def _objective(est, X, y, sw, classes, scan) -> DaskObjective:
    return DaskObjective(
        X,
        y,
        sw,
        classes,
        0.0 if np.isinf(est.C) else 1.0 / float(est.C),
        bool(est.fit_intercept),
        n_rows=int(scan["n"]),
        total=float(scan["sw_sum"]),
        x_max=float(scan["x_max"]),
    )


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
