"""``LogisticRegression.partial_fit``: the notes' mini-batch SGD over a stream of chunks.

Each call makes one pass of mini-batch steps over the chunk given, on the averaged objective
of everything seen so far,

    F(Θ) = Σᵢ sᵢ(−log pᵢ)/S + ‖W‖²/(2C·S),    S = Σ sᵢ over all rows seen,

estimated on each mini-batch B by Σ_B sᵢ∇(−log pᵢ)/Σ_B sᵢ + W/(C·S). The update is the
estimator's ``optimizer`` (default: the notes' plain step θ ← θ − ∇F/β with β the chunk's
smoothness constant, ``_logistic_sgd``), kept with its state from chunk to chunk. This is an
approximation of ``fit`` on all the rows, not equal to it: ``certificate(X, y)`` on the data
says how far from stationary Θ is, and its bounds how far from the optimum.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._validation import (
    check_array,
    check_random_state,
    check_same_rows,
    check_sample_weight,
    check_y,
)
from qed.classify._class_weight import class_weights
from qed.classify._logistic_sgd import _make_optimizer, _Param
from qed.classify._logistic_solvers import LogisticProblem, as_float64

__all__ = ["partial_fit"]


def _chunk(est: Any, X: Any, y: Any, classes: Any, sample_weight: Any, first: bool):
    """Validated (X in float64 or CSR, label codes, weights) of one chunk."""
    if first and classes is None:
        raise ValueError(
            "classes must be passed on the first call to partial_fit: every label the stream "
            "can contain, e.g. partial_fit(X, y, classes=np.unique(y_all))."
        )
    X = check_array(X, estimator=est, reset=first, accept_sparse=True)
    y = check_y(y, y_numeric=False, estimator=est)
    check_same_rows(X.shape[0], y.shape[0])
    if classes is not None:
        classes = np.unique(np.asarray(classes))
        if first:
            if len(classes) < 2:
                raise ValueError(f"classes must hold at least 2 labels, got {classes.tolist()}.")
            est.classes_ = classes
        elif not np.array_equal(classes, est.classes_):
            raise ValueError(
                f"classes={classes.tolist()} differs from the first call's "
                f"{est.classes_.tolist()}; pass the same classes (or none) after the first call."
            )
    unknown = np.setdiff1d(np.unique(y), est.classes_)
    if len(unknown):
        raise ValueError(
            f"y contains labels {unknown.tolist()} not in classes {est.classes_.tolist()}; "
            "pass every label of the stream as classes on the first call."
        )
    codes = np.searchsorted(est.classes_, y)
    sw = check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
    if isinstance(est.class_weight, str):
        raise ValueError(
            "class_weight='balanced' needs the class counts of all the data, which a stream "
            "does not have; pass a dict {label: weight} (or sample weights) to partial_fit."
        )
    if est.class_weight is not None:
        sw = sw * class_weights(est.class_weight, est.classes_, y, sw)[codes]
    return as_float64(X), codes, sw


def partial_fit(est: Any, X: Any, y: Any, classes: Any, sample_weight: Any) -> Any:
    """One pass of mini-batch steps over (X, y); sets ``coef_``, ``intercept_``, ``n_iter_``."""
    first = not hasattr(est, "_stream")
    if first and hasattr(est, "coef_") and classes is None:
        classes = est.classes_  # continue from a fit(): its classes and parameters
    fitted = hasattr(est, "coef_")
    X, codes, sw = _chunk(est, X, y, classes, sample_weight, first and not fitted)
    k = len(est.classes_)
    fit_intercept = bool(est.fit_intercept)
    alpha = 0.0 if np.isinf(est.C) else 1.0 / float(est.C)
    if first:
        shape = (1 if k == 2 else k, X.shape[1] + int(fit_intercept))
        Theta = np.zeros(shape)
        if fitted:
            Theta[:, : X.shape[1]] = est.coef_
            if fit_intercept:
                Theta[:, -1] = est.intercept_
        est._stream = {"seen": 0.0, "Theta": Theta, "optimizer_state": None, "rng": None}
        est.n_iter_ = np.zeros(1, dtype=np.int32)
        est.loss_curve_ = []
    state = est._stream
    state["seen"] += float(sw.sum())
    chunk_total = float(sw.sum())
    # the penalty of all rows seen, spread over this chunk: α·(Σ_chunk s)/S per chunk-average
    problem = LogisticProblem(X, codes, sw, alpha * chunk_total / state["seen"], fit_intercept, k)
    # the state is plain arrays (saveable by qed.save); the optimizer is rebuilt around Θ
    # and given back its state (moments, step count, the first chunk's learning rate)
    param = _Param(state["Theta"])
    opt = _make_optimizer(est.optimizer, param, problem)
    if state["optimizer_state"] is not None:
        opt.load_state_dict(state["optimizer_state"])
    if state["rng"] is None:
        state["rng"] = check_random_state(est.random_state)
    rng = state["rng"]
    n = X.shape[0]
    batch = min(int(est.batch_size or 200), n)
    order = rng.permutation(n)
    for start in range(0, n, batch):
        rows = order[start : start + batch]
        batch_total = max(float(sw[rows].sum()), np.finfo(float).tiny)
        # penalty α·Σ_B s/S, so that after dividing by Σ_B s the batch's share is αW/S
        sub = LogisticProblem(
            X[rows], codes[rows], sw[rows], alpha * batch_total / state["seen"], fit_intercept, k
        )
        _, G, _ = sub.loss_grad(param.data)
        opt.zero_grad()
        param.grad = G / batch_total
        opt.step()
    if not np.all(np.isfinite(param.data)):
        raise FloatingPointError(
            "partial_fit diverged (non-finite parameters); lower the optimizer's learning rate."
        )
    state["Theta"] = param.data
    state["optimizer_state"] = opt.state_dict()
    f, _, _ = problem.loss_grad(param.data)
    est.loss_curve_.append(f / chunk_total)
    d = X.shape[1]
    dtype = np.float64
    est.coef_ = np.ascontiguousarray(param.data[:, :d], dtype=dtype)
    est.intercept_ = (
        param.data[:, d].astype(dtype) if fit_intercept else np.zeros(len(param.data), dtype)
    )
    est.n_iter_ = est.n_iter_ + 1
    return est
