"""The support vector machine of the notes, by its dual, solved with SMO.

Notes: the separating plane wᵀx + b = 0 with yᵢ(wᵀxᵢ + b) ≥ 1; minimise ½‖w‖²; the Lagrangian
dual maximises Σαᵢ − ½ΣΣαᵢαⱼyᵢyⱼxᵢᵀxⱼ over αᵢ ≥ 0 with Σαᵢyᵢ = 0; then w = Σαᵢyᵢxᵢ,
b = yᵢ − wᵀxᵢ for every support vector (αᵢ > 0), and the margin is 1/‖w‖ = 1/√Σαᵢ.
A finite C bounds αᵢ ≤ C (the soft margin); a kernel replaces xᵢᵀxⱼ by K(xᵢ, xⱼ). Sample and
class weights scale the bound per sample, αᵢ ≤ Cᵢ = C·class_weight[yᵢ]·sample_weightᵢ (libsvm).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from sklearn.utils.metaestimators import available_if

from qed._validation import (
    ConvergenceWarning,
    check_array,
    check_random_state,
    check_sample_weight,
    check_scalar,
    check_X_y,
    encode_labels,
)
from qed.base import BaseEstimator, ClassifierMixin
from qed.certificate import Certificate
from qed.classify._platt import cv_decision_values, pairwise_coupling, platt_sigmoid, sigmoid_proba
from qed.classify._separable import separable
from qed.classify._smo import solve_dual
from qed.classify._svc_certificate import kernel_scale, svc_certificate
from qed.classify._svc_layout import intercept, ovr_from_ovo, pair_slices, store_pairs, votes
from qed.classify._svm_kernels import (
    KERNEL_CODES,
    PRECOMPUTED,
    cross_kernel,
    kernel_matrix,
)

__all__ = ["SVC", "pair_slices"]  # pair_slices: the one-vs-one layout of dual_coef_


class SVC(ClassifierMixin, BaseEstimator):
    """Support vector classifier by the dual and SMO; one-vs-one for k > 2 classes.

    Parameters
    ----------
    C : float > 0 or np.inf — box constraint 0 ≤ αᵢ ≤ C; ``np.inf`` with ``kernel="linear"``
        is the notes' hard-margin SVM (``fit`` raises if the classes are not separable).
    kernel : "linear" xᵀz, "poly" (γxᵀz + coef0)^degree, "rbf" exp(−γ‖x − z‖²), "sigmoid"
        tanh(γxᵀz + coef0), "precomputed" (X is the Gram matrix: (n, n) at fit, (m, n_train)
        at predict), or a callable ``k(A, B) -> K`` of shape (len(A), len(B)).
    gamma : "scale" = 1/(n_features·X.var()), "auto" = 1/n_features, or a positive float.
    tol : stop when the KKT gap max_{I_up}(−y∇) − min_{I_low}(−y∇) < tol (libsvm's rule).
    max_iter : SMO steps per binary problem (None: max(10⁷, 100n), as libsvm).
    cache_size : MB of kernel rows kept per binary problem.
    shrinking : libsvm's shrinking heuristic (same solution, fewer operations per step).
    decision_function_shape : "ovr" (scikit-learn's default aggregation) or "ovo".
    class_weight : None, "balanced" or {label: weight}; class c's bound becomes C·weight[c].
    probability : fit Platt's sigmoid on 5-fold cross-validated decision values (libsvm's
        method; pairwise coupling for k > 2) to enable ``predict_proba``. A class of fewer
        than 5 samples is handled as libsvm does: a fold trained without it scores ±1.
    random_state : seed of the cross-validation folds of ``probability=True``.

    Attributes
    ----------
    classes_, support_ (indices of SVs, grouped by class), support_vectors_ (empty for a
    precomputed kernel), n_support_, dual_coef_ (αᵢyᵢ in scikit-learn's (k − 1, n_SV) layout),
    alpha_ (αᵢ = |dual_coef_|, shape (n_SV,) for two classes), intercept_ (one b per pair of
    classes), coef_ (linear kernel: w = Σαᵢyᵢxᵢ per pair), margin_ (1/‖w‖ per pair; a float
    for two classes), class_weight_, n_iter_ (SMO steps per pair), fit_status_ (0 =
    converged), shape_fit_, probA_ / probB_ (Platt's P(y = +1 | f) = 1/(1 + exp(A·f + B)) per
    pair, libsvm's sign: f > 0 votes for the pair's first class).
    For two classes the signs follow scikit-learn: decision_function > 0 predicts classes_[1].
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        kernel: Any = "rbf",
        gamma: str | float = "scale",
        degree: int = 3,
        coef0: float = 1.0,
        tol: float = 1e-6,
        max_iter: int | None = None,
        cache_size: float = 200,
        shrinking: bool = True,
        decision_function_shape: str = "ovr",
        class_weight: Any = None,
        probability: bool = False,
        random_state: Any = None,
    ):
        self.C = C
        self.kernel = kernel
        self.gamma = gamma
        self.degree = degree
        self.coef0 = coef0
        self.tol = tol
        self.max_iter = max_iter
        self.cache_size = cache_size
        self.shrinking = shrinking
        self.decision_function_shape = decision_function_shape
        self.class_weight = class_weight
        self.probability = probability
        self.random_state = random_state

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.pairwise = self.kernel == "precomputed"
        return tags

    # -- validation ----------------------------------------------------------------------
    def _validate_params(self, X: np.ndarray) -> float:
        check_scalar(self.C, "C", min_val=0.0, include_min=False)
        if not callable(self.kernel) and (
            not isinstance(self.kernel, str) or self.kernel not in KERNEL_CODES
        ):
            raise ValueError(
                f"kernel={self.kernel!r} is not supported; choose one of "
                f"{sorted(KERNEL_CODES)} or pass a callable k(A, B) -> Gram matrix."
            )
        check_scalar(self.degree, "degree", target_type=numbers.Integral, min_val=0)
        check_scalar(self.coef0, "coef0", allow_inf=False)
        check_scalar(self.tol, "tol", min_val=0.0, include_min=False)
        check_scalar(self.cache_size, "cache_size", min_val=0.0, include_min=False)
        if self.max_iter is not None and self.max_iter != -1:
            check_scalar(self.max_iter, "max_iter", target_type=numbers.Integral, min_val=1)
        for flag in ("shrinking", "probability"):
            if not isinstance(getattr(self, flag), (bool, np.bool_)):
                raise TypeError(f"{flag} must be a bool, got {getattr(self, flag)!r}.")
        if self.decision_function_shape not in ("ovr", "ovo"):
            raise ValueError(
                f"decision_function_shape={self.decision_function_shape!r}; use 'ovr' or 'ovo'."
            )
        if isinstance(self.gamma, str):
            if self.gamma == "scale":
                var = float(X.var())
                return 1.0 / (X.shape[1] * var) if var > 0 else 1.0
            if self.gamma == "auto":
                return 1.0 / X.shape[1]
            raise ValueError(f"gamma={self.gamma!r}; use 'scale', 'auto' or a positive number.")
        check_scalar(self.gamma, "gamma", min_val=0.0, include_min=False, allow_inf=False)
        return float(self.gamma)

    def _gram(self, X: np.ndarray) -> np.ndarray:
        """The training Gram matrix for a precomputed or callable kernel, checked."""
        if self.kernel == "precomputed":
            if X.shape[0] != X.shape[1]:
                raise ValueError(
                    f"kernel='precomputed' needs the square Gram matrix K(X_train, X_train) at "
                    f"fit, got a matrix of shape {X.shape}; pass K = k(X, X) of shape (n, n)."
                )
            return X
        return self._call_kernel(X, X)

    def _call_kernel(self, A: np.ndarray, B: np.ndarray) -> np.ndarray:
        K = np.asarray(self.kernel(A, B), dtype=np.float64)
        if K.shape != (len(A), len(B)):
            raise ValueError(
                f"the callable kernel returned shape {K.shape} for inputs of {len(A)} and "
                f"{len(B)} rows; it must return the Gram matrix K(A, B) of shape "
                f"({len(A)}, {len(B)})."
            )
        if not np.isfinite(K).all():
            raise ValueError("the callable kernel returned NaN or inf; it must be finite.")
        return K

    def _sample_bounds(self, X, y, codes, sample_weight) -> np.ndarray:
        """Cᵢ = C·class_weight[yᵢ]·sample_weightᵢ, libsvm's per-sample box."""
        from sklearn.utils.class_weight import compute_class_weight

        if isinstance(self.class_weight, dict):
            missing = [c for c in self.class_weight if c not in set(self.classes_.tolist())]
            if missing:
                raise ValueError(
                    f"class_weight names {missing!r}, which are not classes of y (classes: "
                    f"{self.classes_.tolist()!r}); key class_weight by the labels of y."
                )
        self.class_weight_ = compute_class_weight(self.class_weight, classes=self.classes_, y=y)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
        w = self.class_weight_[codes] * sw
        if (w < 0).any():
            raise ValueError("class_weight must be ≥ 0 for every class.")
        for c in range(len(self.classes_)):
            if not (w[codes == c] > 0).any():
                raise ValueError(
                    f"class {self.classes_[c]!r} has no sample with a positive weight "
                    "(sample_weight × class_weight); give it a positive weight or drop it."
                )
        return np.where(w > 0, float(self.C) * np.where(w > 0, w, 1.0), 0.0)

    # -- fitting -------------------------------------------------------------------------
    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SVC:
        """Solve one dual per pair of classes. X (n, d) or (n, n) Gram; y (n,) of any labels;
        sample_weight (n,) ≥ 0 scales each sample's C (samples of weight 0 are left out)."""
        X, y = check_X_y(X, y, estimator=self, y_numeric=False, dtype=np.float64)
        gamma = self._validate_params(X)
        self.classes_, codes = encode_labels(y, self)
        self._gamma = gamma
        Cw = self._sample_bounds(X, y, codes, sample_weight)
        self._record_sample_weight(sample_weight)  # certificate rebuilds the Cᵢ from them
        named = isinstance(self.kernel, str) and self.kernel != "precomputed"
        G = X if named else self._gram(X)
        kind = KERNEL_CODES[self.kernel] if named else PRECOMPUTED
        alphas, intercepts, w2, n_iter, status = self._solve(G, codes, Cw, kind, gamma)
        self._store(X, codes, alphas, np.array(intercepts), np.array(w2))
        self.n_iter_ = np.array(n_iter, dtype=np.int32)
        self.fit_status_ = int(any(status))
        self.shape_fit_ = X.shape
        if self.probability:
            self._fit_platt(G, codes, Cw, kind, gamma)
        return self

    def _max_iter(self, n: int) -> int:
        return max(10_000_000, 100 * n) if self.max_iter in (None, -1) else int(self.max_iter)

    def _solve_pair(self, G, idx, yp, Cv, kind, gamma, labels):
        """One binary dual on the samples idx: returns (α, ∇ = Qα − 1, steps, status)."""
        Xp = np.ascontiguousarray(G[np.ix_(idx, idx)] if kind == PRECOMPUTED else G[idx])
        alpha, grad = np.zeros(len(idx)), -np.ones(len(idx))
        kern = (kind, gamma, float(self.coef0), float(self.degree))
        args = (Xp, yp, Cv, kern, float(self.tol))
        max_iter = self._max_iter(len(G))
        hard = np.isinf(self.C)
        # hard margin: on non-separable data the dual is unbounded and SMO cannot converge,
        # so after a budget of steps an LP decides before going on
        budget = min(max_iter, 20 * len(idx) + 10_000) if hard else max_iter
        shrink = bool(self.shrinking)
        counts = np.zeros(3, dtype=np.int64)
        it, st = solve_dual(*args, budget, self.cache_size, alpha, grad, shrink, counts)
        if hard and st:
            linear = kind in (KERNEL_CODES["linear"], PRECOMPUTED)
            self._check_separable(Xp if linear else kernel_matrix(Xp, Xp, *kern), yp, *labels)
            more, st = solve_dual(
                *args, max_iter - it, self.cache_size, alpha, grad, shrink, counts
            )
            it += more
        return alpha, grad, it, st

    def _pairs(self, codes, Cw):
        k = len(self.classes_)
        for a in range(k):
            for b in range(a + 1, k):
                idx = np.flatnonzero(((codes == a) | (codes == b)) & (Cw > 0))
                yield a, b, idx, np.where(codes[idx] == a, 1.0, -1.0)  # libsvm: a is +1

    def _solve(self, G, codes, Cw, kind, gamma):
        alphas, intercepts, w2, n_iter, status = {}, [], [], [], []
        for a, b, idx, yp in self._pairs(codes, Cw):
            alpha, grad, it, st = self._solve_pair(G, idx, yp, Cw[idx], kind, gamma, (a, b))
            alphas[a, b] = (idx, alpha * yp)
            intercepts.append(intercept(alpha, grad, yp, Cw[idx]))
            w2.append(float(alpha @ (grad + 1.0)))  # ‖w‖² = αᵀQα, with ∇ = Qα − 1
            n_iter.append(it)
            status.append(st)
        if any(status):
            warnings.warn(
                f"SVC's SMO stopped at max_iter={self._max_iter(len(G))} before the KKT gap "
                f"fell below tol={self.tol}; increase max_iter, or scale the features.",
                ConvergenceWarning,
                stacklevel=3,
            )
        return alphas, intercepts, w2, n_iter, status

    def _check_separable(self, F, yp, a, b) -> None:
        """F: the features (linear) or the kernel matrix, whose rows span the feature space."""
        if not separable(F, yp):
            space = (
                "by a hyperplane"
                if self.kernel == "linear"
                else f"in the feature space of the {self.kernel!r} kernel"
            )
            raise ValueError(
                f"SVC(C=inf) needs separable classes, but classes {self.classes_[a]!r} "
                f"({int((yp > 0).sum())} samples) and {self.classes_[b]!r} "
                f"({int((yp < 0).sum())} samples) cannot be separated {space}: no (w, b) "
                "has yᵢ(wᵀxᵢ + b) ≥ 1 for all i, so the dual is unbounded (αᵢ → ∞). Use a "
                "finite C (the soft margin), e.g. SVC(C=1.0)."
            )

    def _store(self, X, codes, alphas, intercepts, w2) -> None:
        k = len(self.classes_)
        out = store_pairs(codes, alphas, intercepts, k)
        self.support_, self.n_support_, self.dual_coef_, self.intercept_ = out
        self.alpha_ = np.abs(self.dual_coef_[0]) if k == 2 else np.abs(self.dual_coef_)
        pre = self.kernel == "precomputed"
        self.support_vectors_ = np.empty((0, 0)) if pre else X[self.support_]
        sv = self.support_
        with np.errstate(divide="ignore"):
            margins = 1.0 / np.sqrt(np.maximum(w2, 0.0))
        self.margin_ = float(margins[0]) if k == 2 else margins
        if self.kernel == "linear":
            self.coef_ = np.array(
                [c @ X[sv[p]] for p, c in pair_slices(self.dual_coef_, self.n_support_)]
            )

    def _kernel(self, A, B=None):
        """K(A, B) for a named or callable kernel (B = None: K(A, A))."""
        B = A if B is None else B
        if callable(self.kernel):
            return self._call_kernel(A, B)
        code = KERNEL_CODES[self.kernel]
        return kernel_matrix(A, B, code, self._gamma, float(self.coef0), float(self.degree))

    def _fit_platt(self, G, codes, Cw, kind, gamma) -> None:
        """Platt's (A, B) per pair from 5-fold cross-validated decision values (libsvm).

        A class of fewer than 5 samples leaves some training folds with one class; as libsvm
        does, the held-out samples of such a fold get the decision value ±1 (that class's
        side), so small classes get a sigmoid fitted on few informative values.
        """
        rng = check_random_state(self.random_state)
        kern = (kind, gamma, float(self.coef0), float(self.degree))
        AB = []
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for a, b, idx, yp in self._pairs(codes, Cw):

                def fit(train, idx=idx, yp=yp, a=a, b=b):
                    Cv = Cw[idx[train]]
                    alpha, grad, _, _ = self._solve_pair(
                        G, idx[train], yp[train], Cv, kind, gamma, (a, b)
                    )
                    return alpha * yp[train], intercept(alpha, grad, yp[train], Cv)

                def decide(model, train, test, idx=idx):
                    coef, b0 = model
                    return cross_kernel(G, idx[test], idx[train], kern) @ coef + b0

                AB.append(platt_sigmoid(cv_decision_values(fit, decide, yp, rng), yp))
        self.probA_, self.probB_ = np.array(AB).T

    # -- prediction ----------------------------------------------------------------------
    def _ovo(self, X) -> np.ndarray:
        """f_ab(x) = Σ αᵢyᵢK(xᵢ, x) + b_ab per pair, shape (n, n_pairs); > 0 votes for a
        (for two classes, with scikit-learn's sign: > 0 means classes_[1])."""
        self._check_fitted("dual_coef_")
        pre = self.kernel == "precomputed"  # its own message: columns are training samples
        X = check_array(X, estimator=None if pre else self, reset=False, dtype=np.float64)
        if pre:
            if X.shape[1] != self.shape_fit_[0]:
                n = self.shape_fit_[0]
                raise ValueError(
                    f"X has {X.shape[1]} features, but SVC is expecting {n} features as "
                    f"input: with kernel='precomputed' the columns are the {n} training "
                    f"samples; pass K(X_test, X_train) of shape (n_test, {n})."
                )
            K = X[:, self.support_]
        else:
            K = self._kernel(X, self.support_vectors_)
        pairs = pair_slices(self.dual_coef_, self.n_support_)
        return np.column_stack([K[:, pos] @ coef for pos, coef in pairs]) + self.intercept_

    def decision_function(self, X: Any) -> np.ndarray:
        """Two classes: f(x) = wᵀφ(x) + b, shape (n,). More: "ovr" (n, k) or "ovo"."""
        dec = self._ovo(X)
        k = len(self.classes_)
        if k == 2:
            return dec[:, 0]
        if self.decision_function_shape == "ovo":
            return dec
        return ovr_from_ovo(dec, k)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the most one-vs-one votes (ties: the first class), as libsvm."""
        dec = self._ovo(X)
        k = len(self.classes_)
        if k == 2:
            return self.classes_[(dec[:, 0] >= 0).astype(np.intp)]
        return self.classes_[votes(dec, k).argmax(axis=1)]

    @available_if(lambda self: self.probability)
    def predict_proba(self, X: Any) -> np.ndarray:
        """P(class | x), shape (n, k): Platt's sigmoid per pair, coupled for k > 2 (libsvm).

        Its argmax may differ from ``predict`` (the sigmoids are fitted on CV folds), as in
        libsvm: on held-out data 0.4–2.1% of rows, scikit-learn's rates ±0.5 (see README).
        """
        self._check_fitted("probA_")
        dec = self._ovo(X)
        if len(self.classes_) == 2:
            dec = -dec  # back to libsvm's sign: > 0 is the pair's first class
        r = sigmoid_proba(dec, self.probA_, self.probB_)
        return pairwise_coupling(r, len(self.classes_))

    @available_if(lambda self: self.probability)
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log P(class | x), shape (n, k)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    # -- certificate ---------------------------------------------------------------------
    def certificate(self, X: Any, y: Any, sample_weight: Any = None) -> Certificate:
        """The KKT conditions and the duality gap of every pairwise dual, on the training data.

        With fᵢ = ΣⱼαⱼyⱼK(xⱼ, xᵢ) + b, ξᵢ = max(0, 1 − yᵢfᵢ) and Cᵢ the per-sample bound
        (pass the ``sample_weight`` of ``fit``): 0 ≤ αᵢ ≤ Cᵢ with the sign of αᵢyᵢ matching
        yᵢ, Σαᵢyᵢ = 0, yᵢfᵢ ≥ 1 where αᵢ < Cᵢ, αᵢ(yᵢfᵢ − 1 + ξᵢ) = 0, (Cᵢ − αᵢ)ξᵢ = 0, and
        the duality gap P − D = ‖w‖² + ΣCᵢξᵢ − Σαᵢ ≥ 0 (it bounds P(w) − P(w*)); for the hard
        margin 1/‖w‖ = 1/√Σαᵢ. Tolerances: the solver's tol on the KKT gap, plus rounding.

        ``cert.bounds``: ``objective_gap`` ≥ P(w, b) − P* (the duality gap with its rounding
        and a correction for Σαᵢyᵢ ≠ 0), ``distance`` ≥ ‖w − w*‖_H = √(2·objective_gap) in
        the kernel's feature space, ``prediction`` ≥ max|⟨w − w*, φ(xᵢ)⟩| over the rows of X
        (the w part of f only; the unpenalised intercept b is not bounded). Pairs of classes:
        gaps summed, distances in quadrature, prediction the max. ``cert.bounds_note`` says
        so; none for a kernel that is not positive semidefinite (sigmoid).
        """
        self._check_fitted("dual_coef_")
        X = check_array(X, estimator=self, reset=False, dtype=np.float64)
        y = np.asarray(y)
        codes = np.searchsorted(self.classes_, y)
        if len(y) != len(X) or (codes >= len(self.classes_)).any():
            raise ValueError("certificate(X, y) needs the training data: y's labels and length.")
        if (self.classes_[np.minimum(codes, len(self.classes_) - 1)] != y).any():
            raise ValueError("y has labels the model was not fit on; pass the training data.")
        self._check_certificate_weights(X, sample_weight)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        Cw = float(self.C) * self.class_weight_[codes] * np.where(sw > 0, sw, 1.0)
        Cw[sw == 0] = 0.0
        diag, k_err = kernel_scale(self, X)
        return svc_certificate(self, self._ovo(X), codes, Cw, diag, k_err)
