"""Least squares on data that outgrows memory: the normal equations from merged row blocks.

The notes' normal equations need only the sufficient statistics of the data. Each row block
(a chunk of a dask array on a worker, or one chunk of a streamed CSV given to
``partial_fit``) is summarised by its weighted count Σw, its means x̄, ȳ and its centered
co-moments

    X_cᵀWX_c (d, d),   X_cᵀWy_c (d, t),   diag(y_cᵀWy_c) (t,),

and two summaries A, B are merged exactly by Chan, Golub and LeVeque's pairwise update
(with δ = x̄_B − x̄_A, n = n_A + n_B):

    x̄ = x̄_A + δ·n_B/n,    C = C_A + C_B + (n_A·n_B/n)·δδᵀ.

Merging centered co-moments (rather than adding raw XᵀX and subtracting n·x̄x̄ᵀ at the end)
keeps the accuracy of the in-memory fit when the means are large against the spread. The
merged summary is exactly the ``NormalStats`` that ``fit`` records, so the solve, the
certificate and ``qed.save`` are shared with the in-memory path. Nothing here pulls X to one
process: a dask X is reduced on the cluster by ``qed._blockwise.map_reduce_rows``.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from scipy import sparse

from qed._blockwise import is_dask_collection, map_reduce_rows, row_blocks_aligned
from qed._validation import (
    check_array,
    check_same_rows,
    check_sample_weight,
    check_y,
    record_features,
)
from qed.linear._checks import check_lengths
from qed.linear._least_squares import fit_from_stats
from qed.linear._solvers import NormalStats
from qed.linear._sparse import GRAM_LIMIT, sparse_statistics

__all__ = [
    "block_stats",
    "merge_stats",
    "stats_of",
    "fit_dask",
    "partial_fit",
    "predict_dask",
    "certificate_dask",
]


def block_stats(X: np.ndarray, Y: np.ndarray, sw: np.ndarray | None, center: bool) -> NormalStats:
    """The sufficient statistics of one row block, computed in float64.

    X (n, d), Y (n,) or (n, t), sw (n,) or None. With ``center`` False the moments are taken
    about 0 (no intercept), so that merging reduces to adding them.
    """
    X = np.asarray(X, dtype=np.float64)
    Y = np.asarray(Y, dtype=np.float64).reshape(len(X), -1)
    n, d = X.shape
    w_sum = float(n) if sw is None else float(np.sum(sw))
    bad_w = 0 if sw is None else int(np.count_nonzero(~(np.asarray(sw) >= 0)))
    if w_sum > 0 and center:
        x_mean = X.mean(axis=0) if sw is None else (sw @ X) / w_sum
        y_mean = Y.mean(axis=0) if sw is None else (sw @ Y) / w_sum
    else:
        x_mean, y_mean = np.zeros(d), np.zeros(Y.shape[1])
    Xc, Yc = X - x_mean, Y - y_mean
    XcW = Xc if sw is None else Xc * np.asarray(sw, dtype=np.float64)[:, None]
    YcW = Yc if sw is None else Yc * np.asarray(sw, dtype=np.float64)[:, None]
    return NormalStats(
        gram=XcW.T @ Xc,
        xty=XcW.T @ Yc,
        x_mean=x_mean,
        y_mean=y_mean,
        sw_sum=w_sum,
        yty=np.einsum("ij,ij->j", YcW, Yc),
        n_samples=n,
        bad_weights=bad_w,
    )


def merge_stats(a: NormalStats, b: NormalStats) -> NormalStats:
    """Chan's pairwise merge of two summaries (exact in exact arithmetic; associative)."""
    n_a, n_b = float(a["sw_sum"]), float(b["sw_sum"])
    n = n_a + n_b
    out = NormalStats(
        n_samples=int(a["n_samples"]) + int(b["n_samples"]),
        sw_sum=n,
        bad_weights=int(a.get("bad_weights", 0)) + int(b.get("bad_weights", 0)),
    )
    if n_a == 0 or n_b == 0:
        src = b if n_a == 0 else a
        out.update(
            {k: np.array(src[k], copy=True) for k in ("gram", "xty", "x_mean", "y_mean", "yty")}
        )
        return out
    dx = b["x_mean"] - a["x_mean"]
    dy = b["y_mean"] - a["y_mean"]
    f = n_a * n_b / n
    out["x_mean"] = a["x_mean"] + dx * (n_b / n)
    out["y_mean"] = a["y_mean"] + dy * (n_b / n)
    out["gram"] = a["gram"] + b["gram"] + f * np.outer(dx, dx)
    out["xty"] = a["xty"] + b["xty"] + f * np.outer(dx, dy)
    out["yty"] = a["yty"] + b["yty"] + f * dy * dy
    return out


def _as_moments(stats: NormalStats) -> NormalStats:
    """A fitted model's ``_stats`` in the Gram form (the dual path keeps √W X_c instead)."""
    if "gram" in stats:
        return stats
    out = NormalStats(stats)
    xw, yw = out.pop("xw"), out.pop("yw")
    out.update(gram=xw.T @ xw, xty=xw.T @ yw)
    return out


def stats_of(X: Any, Y: Any, sw: Any, center: bool) -> NormalStats:
    """The merged statistics of a numpy, scipy.sparse or dask X (dask: on the cluster)."""
    if is_dask_collection(X):
        return map_reduce_rows(block_stats, X, Y, sw, args=(center,), combine=merge_stats)
    if sparse.issparse(X):
        if X.shape[1] > GRAM_LIMIT:
            raise ValueError(
                f"partial_fit merges d × d statistics, but this sparse X has {X.shape[1]} "
                f"features (more than {GRAM_LIMIT}); fit all rows at once with fit(X, y), "
                "which uses conjugate gradients."
            )
        Y = np.asarray(Y, dtype=np.float64).reshape(X.shape[0], -1)
        stats = sparse_statistics(X, Y, sw, center, operator=False)
        stats["bad_weights"] = 0
        return stats
    return block_stats(X, Y, sw, center)


def _check_stats(stats: NormalStats) -> None:
    if stats["bad_weights"]:
        raise ValueError(
            f"sample_weight has {stats['bad_weights']} negative or NaN entries; weights must be "
            "≥ 0 (and not all 0)."
        )
    if stats["sw_sum"] <= 0:
        raise ValueError("The sample weights sum to 0 (or there are no samples); nothing to fit.")
    finite = (
        np.all(np.isfinite(stats["gram"].diagonal()))
        and np.all(np.isfinite(stats["x_mean"]))
        and np.all(np.isfinite(stats["yty"]))
        and np.all(np.isfinite(stats["y_mean"]))
    )
    if not finite:
        raise ValueError(
            "Input X or y contains NaN or infinity (or XᵀX overflows float64); remove or impute "
            "the non-finite values, e.g. with X[da.isfinite(X).all(axis=1)], before fitting."
        )


def _check_dask_inputs(
    est: Any, X: Any, y: Any, sample_weight: Any, record: bool = True
) -> tuple[Any, Any, Any]:
    import dask.array as da

    if y is None:
        raise ValueError(
            f"{type(est).__name__} requires y to be passed, but the target y is "
            "None; pass the targets as the second argument of fit."
        )
    X = X if is_dask_collection(X) else da.asarray(np.asarray(X))
    y = y if is_dask_collection(y) else da.asarray(np.asarray(y))
    if X.ndim != 2:
        raise ValueError(
            f"Expected a 2D dask array X of shape (n_samples, n_features), got "
            f"shape {X.shape}; reshape it (X.reshape(-1, 1) for one feature)."
        )
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got shape {y.shape}.")
    if any(math.isnan(c) for c in X.chunks[0]) or any(math.isnan(c) for c in y.chunks[0]):
        raise ValueError(
            "X or y has unknown chunk sizes (e.g. from a dask DataFrame); call "
            "X.compute_chunk_sizes() (or to_dask_array(lengths=True)) first."
        )
    if X.dtype.kind not in "biuf" or y.dtype.kind not in "biuf":
        raise ValueError(f"X and y must be numeric, got dtypes {X.dtype} and {y.dtype}.")
    check_lengths(tuple(X.shape), tuple(y.shape))
    if sample_weight is not None and not is_dask_collection(sample_weight):
        sample_weight = np.asarray(sample_weight, dtype=np.float64)
        if sample_weight.ndim == 0:
            sample_weight = np.full(X.shape[0], float(sample_weight))
    if sample_weight is not None and sample_weight.shape != (X.shape[0],):
        raise ValueError(f"sample_weight.shape == {sample_weight.shape}, expected ({X.shape[0]},).")
    if record:
        record_features(est, X, reset=True)
    return X, y, sample_weight


def certificate_dask(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """The normal equations measured on dask data: one pass for its sufficient statistics,
    then the same statistics-based certificate as after ``fit`` (nothing pulled locally)."""
    from qed.linear._certify import least_squares_certificate

    X, y, sw = _check_dask_inputs(est, X, y, sample_weight, record=False)
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input."
        )
    stats = stats_of(X, y, sw, bool(est.fit_intercept))
    _check_stats(stats)
    return least_squares_certificate(est, stats, alpha=getattr(est, "_alpha", 0.0))


def fit_dask(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Fit ``est`` on row-chunked dask arrays: one pass over the blocks, on the cluster."""
    X, y, sw = _check_dask_inputs(est, X, y, sample_weight)
    dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    stats = stats_of(X, y, sw, bool(est.fit_intercept))
    _check_stats(stats)
    return fit_from_stats(est, stats, y_ndim=y.ndim, dtype=dtype)


def partial_fit(est: Any, X: Any, y: Any, sample_weight: Any = None) -> Any:
    """Merge one more chunk (numpy or dask) into the model's statistics and re-solve.

    After any sequence of calls the model equals ``fit`` on all the chunks together.
    """
    first = not hasattr(est, "_stats")
    if is_dask_collection(X) or is_dask_collection(y):
        n_features = getattr(est, "n_features_in_", None)
        X, y, sw = _check_dask_inputs(est, X, y, sample_weight)
        if not first and n_features is not None and X.shape[1] != n_features:
            raise ValueError(
                f"X has {X.shape[1]} features, but {type(est).__name__} is "
                f"expecting {n_features} features as input."
            )
        dtype = X.dtype if X.dtype in (np.float32, np.float64) else np.float64
    else:
        if y is None:
            raise ValueError(f"{type(est).__name__}.partial_fit requires y.")
        X = check_array(X, estimator=est, reset=first, accept_sparse=True)
        y = check_y(y, multi_output=True, estimator=est)
        check_same_rows(X.shape[0], y.shape[0])
        sw = (
            None
            if sample_weight is None
            else check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
        )
        dtype = X.dtype
    new = stats_of(X, y, sw, bool(est.fit_intercept))
    if not first:
        old = _as_moments(est._stats)
        if old["xty"].shape[1] != new["xty"].shape[1]:
            raise ValueError(
                f"y has {new['xty'].shape[1]} target(s) in this chunk but "
                f"{old['xty'].shape[1]} in the earlier ones."
            )
        new = merge_stats(old, new)
        dtype = np.result_type(dtype, est.coef_.dtype)
    new.setdefault("bad_weights", 0)
    _check_stats(new)
    return fit_from_stats(est, new, y_ndim=y.ndim, dtype=dtype)


def _linear_block(Xb: np.ndarray, coef: np.ndarray, intercept: Any) -> np.ndarray:
    return Xb @ coef.astype(Xb.dtype, copy=False).T + intercept


def predict_dask(est: Any, X: Any) -> Any:
    """ŷ = Xβ + b as a lazy dask array with X's row chunks."""
    X = check_dask_features(est, X)
    coef = np.asarray(est.coef_)
    dtype = np.result_type(X.dtype if X.dtype.kind == "f" else np.float64, coef.dtype)
    if coef.ndim == 1:
        return X.map_blocks(_linear_block, coef, est.intercept_, drop_axis=1, dtype=dtype)
    return X.map_blocks(
        _linear_block, coef, est.intercept_, dtype=dtype, chunks=(X.chunks[0], (coef.shape[0],))
    )


def check_dask_features(est: Any, X: Any) -> Any:
    """A dask X at predict: 2-D, numeric, the fitted number of features, one column chunk."""
    if X.ndim != 2:
        raise ValueError(f"Expected a 2D dask array, got shape {X.shape}.")
    if X.dtype.kind not in "biuf":
        raise ValueError(f"X must be numeric, got dtype {X.dtype}.")
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is "
            f"expecting {est.n_features_in_} features as input."
        )
    return row_blocks_aligned(X)[0]
