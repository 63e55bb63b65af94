"""``qed certify --against sklearn``: the same problem solved by scikit-learn, judged by qed.

For a saved linear, ridge, kernel-ridge, logistic or SVC model this fits scikit-learn's peer
on the same data with the qed model's hyperparameters (and scikit-learn's defaults
otherwise), then measures both solutions with the same yardsticks:

- the objective the certificate's bounds are about, by one float64 formula for both;
- qed's certificate applied to the peer's solution: a deep copy of the fitted qed model
  with the peer's coefficients written into its attributes, certified on the data;
- the differences: objective, max |coefficient difference|, max |prediction difference|.
"""

from __future__ import annotations

import copy
import importlib
from itertools import combinations
from typing import Any

import numpy as np
from scipy.special import log_expit, log_softmax

from qed.cli._app import CLIError
from qed.cli.data import apply_settings

__all__ = ["SKLEARN_PEERS", "OBJECTIVES", "fit_peer", "transplant", "objective", "differences"]

# qed model name -> (scikit-learn class, the hyperparameters both share)
SKLEARN_PEERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "linear": ("sklearn.linear_model.LinearRegression", ("fit_intercept",)),
    "ridge": ("sklearn.linear_model.Ridge", ("alpha", "fit_intercept")),
    "kernel-ridge": (
        "sklearn.kernel_ridge.KernelRidge",
        ("alpha", "kernel", "gamma", "degree", "coef0", "kernel_params"),
    ),
    "logistic": ("sklearn.linear_model.LogisticRegression", ("C", "fit_intercept", "class_weight")),
    "svc": (
        "sklearn.svm.SVC",
        ("C", "kernel", "gamma", "degree", "coef0", "class_weight", "decision_function_shape"),
    ),
}

#: The objective measured for both solutions, as a formula (what the bounds are about).
OBJECTIVES = {
    "linear": "f(β, b) = ‖y − Xβ − b‖²",
    "ridge": "f(β, b) = ‖y − Xβ − b‖² + α‖β‖²",
    "kernel-ridge": "J(f) = ‖y − Kα‖² + λαᵀKα (f = Σⱼαⱼk(xⱼ, ·))",
    "logistic": "f(W, b) = Σᵢcᵢ(−log p(yᵢ | xᵢ)) + ‖W‖²/(2C) (cᵢ: class weight; "
    "scikit-learn's objective divided by C)",
    "svc": "P(w, b) = ½‖w‖² + ΣᵢCᵢ·max(0, 1 − yᵢf(xᵢ)), summed over the one-vs-one pairs",
}


def _peer_class(name: str) -> type:
    path = SKLEARN_PEERS[name][0]
    module, _, cls = path.rpartition(".")
    return getattr(importlib.import_module(module), cls)


def fit_peer(name: str, model: Any, X: np.ndarray, y: np.ndarray, settings: dict) -> Any:
    """scikit-learn's peer of ``model`` with its shared hyperparameters (then ``settings``,
    the user's ``--peer-set``), fitted on (X, y)."""
    cls = _peer_class(name)
    if name == "kernel-ridge" and getattr(model, "solver_", "cholesky") != "cholesky":
        raise CLIError(
            "this KernelRidge was fitted by FALKON on Nyström centres, a different problem from "
            "scikit-learn's exact KernelRidge; refit with --set solver=cholesky to compare"
        )
    if callable(getattr(model, "kernel", None)):
        raise CLIError("a callable kernel cannot be passed to scikit-learn from the command line")
    params = {k: getattr(model, k) for k in SKLEARN_PEERS[name][1]}
    return apply_settings(cls(**params), settings, "--peer-set parameter(s)").fit(X, y)


def _svc_terms(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """P summed over the pairs, and ‖w‖² of each pair, from the decision values on X.

    With fᵢ the pair's decision value, ‖w‖² = Σ_SV αᵢyᵢ(fᵢ − b) (f − b = Σⱼαⱼyⱼk(xⱼ, ·)).
    Two classes use scikit-learn's sign (f > 0: classes_[1]), more classes libsvm's (f > 0:
    the pair's first class); yᵢfᵢ and ‖w‖² are the same in both.
    """
    k = len(model.classes_)
    codes = np.searchsorted(model.classes_, y)
    dec = np.asarray(
        copy.copy(model).set_params(decision_function_shape="ovo").decision_function(X),
        dtype=np.float64,
    ).reshape(len(X), -1)
    C = float(model.C) * np.asarray(model.class_weight_, dtype=np.float64)[codes]
    total, w2s = 0.0, []
    from qed.classify.svm import pair_slices

    pairs = zip(combinations(range(k), 2), pair_slices(model.dual_coef_, model.n_support_))
    for col, ((a, b), (pos, coef)) in enumerate(pairs):
        f = dec[:, col]
        plus = 1 if k == 2 else a  # the class with y = +1 in this sign convention
        rows = np.flatnonzero((codes == a) | (codes == b))
        yi = np.where(codes[rows] == plus, 1.0, -1.0)
        w2 = float(coef @ (f[model.support_[pos]] - float(model.intercept_[col])))
        slack = np.maximum(0.0, 1.0 - yi * f[rows])
        total += 0.5 * w2 + float(C[rows] @ slack)
        w2s.append(w2)
    return total, np.array(w2s)


def objective(name: str, model: Any, X: np.ndarray, y: np.ndarray) -> float:
    """``OBJECTIVES[name]`` at ``model``'s parameters on (X, y), in float64.

    ``model`` is the qed model or its copy carrying the peer's solution (``transplant``), so
    both objectives come from this one formula.
    """
    X = np.asarray(X, dtype=np.float64)
    if name in ("linear", "ridge"):
        coef = np.asarray(model.coef_, dtype=np.float64)
        B = coef[:, None] if coef.ndim == 1 else coef.T
        R = np.asarray(y, dtype=np.float64).reshape(len(X), -1) - X @ B - model.intercept_
        value = float(np.sum(R * R))
        if name == "ridge":
            alpha = np.broadcast_to(np.asarray(model.alpha, dtype=np.float64), (B.shape[1],))
            value += float(alpha @ np.sum(B * B, axis=0))
        return value
    if name == "kernel-ridge":
        from qed.linear.kernel_ridge import estimator_kernel

        K = np.array(estimator_kernel(model, X), dtype=np.float64)
        A = np.asarray(model.dual_coef_, dtype=np.float64).reshape(len(X), -1)
        KA = K @ A
        R = np.asarray(y, dtype=np.float64).reshape(len(X), -1) - KA
        alpha = np.broadcast_to(np.asarray(model.alpha, dtype=np.float64), (A.shape[1],))
        return float(np.sum(R * R) + alpha @ np.sum(A * KA, axis=0))
    if name == "logistic":
        from qed.classify.logistic import class_weights

        codes = np.searchsorted(model.classes_, y)
        weights = class_weights(model.class_weight, model.classes_, y, np.ones(len(y)))[codes]
        coef = np.asarray(model.coef_, dtype=np.float64)
        Z = X @ coef.T + np.asarray(model.intercept_, dtype=np.float64)
        if Z.shape[1] == 1:
            nll = -float(weights @ log_expit((2.0 * codes - 1.0) * Z[:, 0]))
        else:
            nll = -float(weights @ log_softmax(Z, axis=1)[np.arange(len(y)), codes])
        C = float(model.C)
        return nll if np.isinf(C) else nll + float(np.vdot(coef, coef)) / (2.0 * C)
    return _svc_terms(model, X, y)[0]


def transplant(name: str, model: Any, peer: Any, X: np.ndarray, y: np.ndarray) -> Any:
    """A deep copy of the fitted qed ``model`` whose solution is the peer's.

    Both libraries store the same quantities in the same layout (checked here): ``coef_`` and
    ``intercept_`` for the linear and logistic models, ``dual_coef_`` on the training rows
    for KernelRidge, libsvm's one-vs-one arrays for SVC.
    """
    clone = copy.deepcopy(model)
    if name in ("linear", "ridge", "logistic"):
        fields = ("coef_", "intercept_")
    elif name == "kernel-ridge":
        fields = ("dual_coef_",)
    else:
        fields = ("support_", "support_vectors_", "n_support_", "dual_coef_", "intercept_")
        if not np.array_equal(np.asarray(peer.classes_), np.asarray(model.classes_)):
            raise CLIError("scikit-learn's SVC found other classes than the qed model")
    for field in fields:
        ours, theirs = getattr(model, field), getattr(peer, field)
        sv_count = name == "svc" and field in ("support_", "support_vectors_", "dual_coef_")
        if np.shape(ours) != np.shape(theirs) and not sv_count:  # SV sets may differ in size
            raise CLIError(
                f"cannot compare: qed's {field} has shape {np.shape(ours)} but scikit-learn's "
                f"{np.shape(theirs)}"
            )
        value = np.array(theirs, copy=True)
        if value.dtype.kind == "f":
            value = value.astype(np.float64)
        setattr(clone, field, value if np.ndim(ours) or np.ndim(value) else float(value))
    if name == "svc":
        k = len(clone.classes_)
        clone.alpha_ = np.abs(clone.dual_coef_[0]) if k == 2 else np.abs(clone.dual_coef_)
        if clone.kernel == "linear":
            clone.coef_ = np.asarray(peer.coef_, dtype=np.float64).copy()
        w2 = _svc_terms(clone, X, y)[1]
        with np.errstate(divide="ignore"):
            margins = 1.0 / np.sqrt(np.maximum(w2, 0.0))
        clone.margin_ = float(margins[0]) if k == 2 else margins
    return clone


def _per_sample_dual(model: Any, n: int) -> np.ndarray:
    """SVC ``dual_coef_`` (k − 1, n_SV) scattered onto all n training rows (0 off the SVs)."""
    out = np.zeros((model.dual_coef_.shape[0], n))
    out[:, np.asarray(model.support_)] = model.dual_coef_
    return out


def differences(name: str, model: Any, peer: Any, X: np.ndarray) -> dict[str, Any]:
    """max |Δ| of the coefficients (and intercepts) and of the predictions, qed − peer."""

    def gap(a: Any, b: Any) -> float:
        diff = np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64)
        return float(np.max(np.abs(diff), initial=0.0))

    out: dict[str, Any] = {}
    if name in ("linear", "ridge", "logistic"):
        out["coef"] = "coef_"
        out["coef_max_abs"] = gap(model.coef_, peer.coef_)
        out["intercept_max_abs"] = gap(model.intercept_, peer.intercept_)
    elif name == "kernel-ridge":
        out["coef"] = "dual_coef_"
        out["coef_max_abs"] = gap(model.dual_coef_, peer.dual_coef_)
    else:
        out["coef"] = "dual_coef_ (αᵢyᵢ on every training row, 0 off the support vectors)"
        out["coef_max_abs"] = gap(_per_sample_dual(model, len(X)), _per_sample_dual(peer, len(X)))
        out["intercept_max_abs"] = gap(model.intercept_, peer.intercept_)
    if name == "logistic":
        out["prediction"] = "predict_proba"
        out["prediction_max_abs"] = gap(model.predict_proba(X), peer.predict_proba(X))
    elif name == "svc":
        out["prediction"] = "decision_function"
        out["prediction_max_abs"] = gap(model.decision_function(X), peer.decision_function(X))
    else:
        out["prediction"] = "predict"
        out["prediction_max_abs"] = gap(model.predict(X), peer.predict(X))
    if name in ("logistic", "svc"):
        out["labels_differ"] = int(np.sum(np.asarray(model.predict(X)) != peer.predict(X)))
    return out
