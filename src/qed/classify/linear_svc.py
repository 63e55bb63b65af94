"""The linear SVM at scale: the notes' dual solved one coordinate at a time (liblinear's way).

scikit-learn's ``LinearSVC`` objective, with the bias folded into w as liblinear does
(x̃ = [x, s] with s = ``intercept_scaling``, so the bias weight is penalised too):

    min_w ½‖w̃‖² + Σᵢ Cᵢ·ℓ(yᵢw̃ᵀx̃ᵢ),   ℓ(m) = max(0, 1 − m) (hinge) or max(0, 1 − m)² (squared),

Cᵢ = C·class_weight·sample_weightᵢ, one binary problem per class against the rest for k > 2.
Its dual (the notes' dual with the box αᵢ ≤ Cᵢ, or with ½Σαᵢ²/(2Cᵢ) added for the squared
hinge) is solved by dual coordinate descent (``qed.classify._dcd``), keeping w = Σαᵢyᵢx̃ᵢ.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.optimize import linprog

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
from qed.bounds import rounding
from qed.certificate import Certificate, scaled_tolerance
from qed.classify._dcd import dcd, projected_gradient
from qed.classify._svm_bounds import combine_bounds, linear_problem_bounds

__all__ = ["LinearSVC", "linear_svc_objective"]

_EMPTY2 = np.empty((0, 0))
_EMPTY_I = np.empty(0, dtype=np.int32)


def _parts(X):
    """The solver's view of X: (dense flag, dense X, CSR data, indices, indptr, d)."""
    if sparse.issparse(X):
        return False, _EMPTY2, X.data, X.indices, X.indptr, X.shape[1]
    return True, X, np.empty(0), _EMPTY_I, _EMPTY_I, X.shape[1]


def _margins(X, w, bias):
    """w̃ᵀx̃ᵢ for every row, shape (n,)."""
    return np.asarray(X @ w[:-1]).ravel() + bias * w[-1]


def linear_svc_objective(X, y, w, C, *, loss="squared_hinge", bias=1.0):
    """The primal P(w̃) = ½‖w̃‖² + ΣCᵢℓ(yᵢw̃ᵀx̃ᵢ) of one binary problem.

    X (n, d) dense or sparse; y (n,) in ±1; w (d + 1,), the last entry the bias weight;
    C scalar or (n,); bias = intercept_scaling (0 without an intercept).
    """
    slack = np.maximum(0.0, 1.0 - y * _margins(X, w, bias))
    loss_terms = slack if loss == "hinge" else slack**2
    return 0.5 * float(w @ w) + float(np.sum(C * loss_terms))


class LinearSVC(ClassifierMixin, BaseEstimator):
    """Linear SVM by dual coordinate descent; scikit-learn's ``LinearSVC`` parameters.

    Parameters
    ----------
    C : float > 0, or np.inf with ``loss="hinge"`` (the notes' hard margin: ``fit`` raises
        if the classes are not separable).
    loss : "squared_hinge" (default) or "hinge".
    penalty : "l2" (the dual of the notes exists only for it; "l1" is refused).
    dual : "auto", True or False. The l2 problem is strictly convex, so both forms have the
        same unique w; qed solves the dual either way (False is accepted for the squared
        hinge, as scikit-learn; the primal hinge problem is refused, as by scikit-learn).
    fit_intercept, intercept_scaling : liblinear's intercept: a constant feature s whose
        weight is penalised like the others; ``intercept_ = s·w_bias``.
    class_weight : None, "balanced" or {label: weight}: Cᵢ = C·weight[yᵢ] (liblinear's rule:
        in one-vs-rest, the rest keep C).
    tol : stop when every projected gradient of the dual is at most tol in absolute value.
    max_iter : passes over the data per binary problem.
    random_state : seed of the random order of the coordinates.

    Attributes
    ----------
    coef_ (1, d) for two classes else (k, d); intercept_; classes_; n_iter_ (max passes);
    alpha_ (n_problems, n) the dual variables; certificate(X, y, sample_weight=None).
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        loss: str = "squared_hinge",
        penalty: str = "l2",
        dual: Any = "auto",
        fit_intercept: bool = True,
        intercept_scaling: float = 1.0,
        class_weight: Any = None,
        tol: float = 1e-4,
        max_iter: int = 1000,
        random_state: Any = None,
    ):
        self.C = C
        self.loss = loss
        self.penalty = penalty
        self.dual = dual
        self.fit_intercept = fit_intercept
        self.intercept_scaling = intercept_scaling
        self.class_weight = class_weight
        self.tol = tol
        self.max_iter = max_iter
        self.random_state = random_state

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def _validate_params(self) -> None:
        check_scalar(self.C, "C", min_val=0.0, include_min=False)
        if self.loss not in ("hinge", "squared_hinge"):
            raise ValueError(f"loss={self.loss!r}; use 'hinge' or 'squared_hinge'.")
        if self.penalty not in ("l1", "l2"):
            raise ValueError(f"penalty={self.penalty!r}; use 'l2'.")
        if self.penalty == "l1" and self.loss == "hinge":
            raise ValueError(
                "The combination of penalty='l1' and loss='hinge' is not supported (as in "
                "scikit-learn and liblinear); use penalty='l2' with loss='hinge', or "
                "loss='squared_hinge'."
            )
        if self.penalty == "l1":
            raise ValueError(
                "penalty='l1' has no dual of the notes' form and qed solves LinearSVC by its "
                "dual; use penalty='l2' (or sklearn.svm.LinearSVC(penalty='l1', dual=False))."
            )
        if self.dual not in ("auto", True, False):
            raise ValueError(f"dual={self.dual!r}; use 'auto', True or False.")
        if self.dual is False and self.loss == "hinge":
            raise ValueError(
                "The combination of penalty='l2' and loss='hinge' is not supported when "
                "dual=False (as in scikit-learn); use dual=True or dual='auto'."
            )
        if np.isinf(self.C) and self.loss != "hinge":
            raise ValueError(
                "C=inf is the hard margin, which needs loss='hinge' (the squared hinge with "
                "C=inf has no dual bound); use LinearSVC(C=np.inf, loss='hinge')."
            )
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise TypeError(f"fit_intercept must be a bool, got {self.fit_intercept!r}.")
        check_scalar(self.intercept_scaling, "intercept_scaling", min_val=0.0, include_min=False)
        check_scalar(self.tol, "tol", min_val=0.0, include_min=False)
        check_scalar(self.max_iter, "max_iter", target_type=numbers.Integral, min_val=1)

    def _check_X(self, X, *, reset: bool):
        if sparse.issparse(X):
            X = sparse.csr_matrix(X, dtype=np.float64)
            X.sum_duplicates()
            if not np.isfinite(X.data).all():
                raise ValueError("Input X contains NaN or infinity; remove or impute them.")
            if reset:
                self.n_features_in_ = X.shape[1]
            elif X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but LinearSVC is expecting "
                    f"{self.n_features_in_} features as input; pass the columns of fit."
                )
            return X
        return check_array(X, estimator=self, reset=reset, dtype=np.float64)

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearSVC:
        """X (n, d) dense or scipy.sparse; y (n,) labels; sample_weight (n,) ≥ 0."""
        from sklearn.utils.class_weight import compute_class_weight

        self._validate_params()
        if sparse.issparse(X):
            X = self._check_X(X, reset=True)
            _, y = check_X_y(np.zeros((X.shape[0], 1)), y, y_numeric=False)  # y alone
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        else:
            X, y = check_X_y(X, y, estimator=self, y_numeric=False, dtype=np.float64)
        self.classes_, codes = encode_labels(y, self)
        self._record_sample_weight(sample_weight)  # certificate rebuilds the Cᵢ from them
        if isinstance(self.class_weight, dict):
            missing = [c for c in self.class_weight if c not in set(self.classes_.tolist())]
            if missing:
                raise ValueError(
                    f"class_weight names {missing!r}, which are not classes of y (classes: "
                    f"{self.classes_.tolist()!r}); key class_weight by the labels of y."
                )
        sw = check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
        # "balanced" counts weighted samples here (scikit-learn's LinearSVC; its SVC does not)
        cw = compute_class_weight(self.class_weight, classes=self.classes_, y=y, sample_weight=sw)
        self.class_weight_ = cw
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        rng = check_random_state(self.random_state)
        problems = self._problems(codes, cw)
        W, A, n_iter = [], [], []
        for yp, Cp, Cn in problems:
            C = sw * np.where(yp > 0, Cp, Cn)
            if np.isinf(self.C):
                self._check_separable(X, yp, bias)
            w, alpha, it, st = _solve(X, yp, C, self.loss, bias, self.tol, self.max_iter, rng)
            if st:
                warnings.warn(
                    f"LinearSVC stopped at max_iter={self.max_iter} passes before every "
                    f"projected gradient fell below tol={self.tol}; increase max_iter, or "
                    "scale the features.",
                    ConvergenceWarning,
                    stacklevel=2,
                )
            W.append(w)
            A.append(alpha)
            n_iter.append(it)
        W = np.array(W)
        self.coef_ = W[:, :-1]
        self.intercept_ = bias * W[:, -1] if self.fit_intercept else np.zeros(len(W))
        self.alpha_ = np.array(A)
        self._w_bias = W[:, -1]
        self.n_iter_ = int(max(n_iter))
        return self

    def _problems(self, codes, cw):
        """(y in ±1, C of the positives, C of the negatives) per binary problem (liblinear)."""
        C = float(self.C)
        k = len(self.classes_)
        if k == 2:
            return [(np.where(codes == 1, 1.0, -1.0), C * cw[1], C * cw[0])]
        return [(np.where(codes == c, 1.0, -1.0), C * cw[c], C) for c in range(k)]

    def _check_separable(self, X, yp, bias) -> None:
        """The hard margin's dual is bounded iff some w̃ has yᵢw̃ᵀx̃ᵢ ≥ 1 for all i (an LP)."""
        F = X.toarray() if sparse.issparse(X) else X
        if bias:
            F = np.column_stack([F, np.full(len(F), bias)])
        res = linprog(
            np.zeros(F.shape[1]),
            A_ub=-yp[:, None] * F,
            b_ub=-np.ones(len(F)),
            bounds=(None, None),
            method="highs",
        )
        if res.status != 0:
            where = "by a hyperplane" + ("" if bias else " through the origin")
            raise ValueError(
                f"LinearSVC(C=inf) needs separable classes, but the {int((yp > 0).sum())} "
                f"positive and {int((yp < 0).sum())} negative samples cannot be separated "
                f"{where}: the hard-margin dual is unbounded. Use a finite C, e.g. "
                "LinearSVC(C=1.0, loss='hinge')."
            )

    def _bounds_note(self, bias: float) -> str:
        k = len(self.classes_)
        hard = np.isinf(float(self.C))
        objective = (
            "|½‖w̃‖² − P*| of the hard margin P* = min ½‖w̃‖² on yᵢw̃ᵀx̃ᵢ ≥ 1 (a measured "
            "margin violation δ < 1 is allowed for: w̃/(1 − δ) is feasible)"
            if hard
            else f"P(w̃) − P* with P = ½‖w̃‖² + ΣCᵢℓ(yᵢw̃ᵀx̃ᵢ), ℓ the {self.loss}"
        )
        many = k > 2
        what = (
            f"w̃ = (coef_, intercept_/{bias:g}), liblinear's penalised bias weight for "
            f"intercept_scaling = {bias:g}"
            if bias
            else "w̃ = coef_ (no intercept)"
        )
        return (
            f"objective_gap on {objective}"
            + (f", summed over the {k} one-vs-rest problems" if many else "")
            + f" (the duality gap with its rounding); distance on ‖w̃ − w̃*‖₂ with {what}"
            + (", √ of the sum of squares over the problems" if many else "")
            + "; prediction on max|decision_function − decision_function*| ≤ max‖x̃ᵢ‖·"
            "distance over the rows certified"
            + (" and the classes" if many else "")
            + " (the intercept is part of w̃, so it is covered)"
        )

    # -- prediction ----------------------------------------------------------------------
    def decision_function(self, X: Any) -> np.ndarray:
        """wᵀx + b: shape (n,) for two classes (> 0 predicts classes_[1]), else (n, k)."""
        self._check_fitted("coef_")
        X = self._check_X(X, reset=False)
        scores = np.asarray(X @ self.coef_.T) + self.intercept_
        return scores[:, 0] if len(self.classes_) == 2 else scores

    def predict(self, X: Any) -> np.ndarray:
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(np.intp)]
        return self.classes_[scores.argmax(axis=1)]

    # -- certificate ---------------------------------------------------------------------
    def certificate(self, X: Any, y: Any, sample_weight: Any = None) -> Certificate:
        """Duality gap, box and w = Σαᵢyᵢx̃ᵢ of every binary problem, on the training data.

        - ``duality_gap``: P(w̃) − D(α) ≥ 0 with D(α) = Σαᵢ − ½‖Σαᵢyᵢx̃ᵢ‖² − Σαᵢ²/(4Cᵢ)
          (the last term for the squared hinge); it bounds P(w̃) − min P. When every
          projected gradient is within tol, each sample adds at most Cᵢ·tol (hinge) or
          2Cᵢ·tol² (squared hinge), and only samples with αᵢ > 0 or yᵢw̃ᵀx̃ᵢ < 1 add anything.
        - ``kkt_box``: 0 ≤ αᵢ ≤ Cᵢ (hinge) or αᵢ ≥ 0.
        - ``w_identity``: ‖w̃ − Σαᵢyᵢx̃ᵢ‖, the primal-dual link the solver maintains.
        - ``projected_gradient``: max |PGᵢ| ≤ tol, the solver's stopping rule.

        ``cert.bounds``: ``objective_gap`` ≥ P(w̃) − P* (the duality gap with its rounding),
        ``distance`` ≥ ‖w̃ − w̃*‖₂ = √(2·objective_gap) (P is 1-strongly convex in w̃, the
        bias weight included), ``prediction`` ≥ max|decision_function − decision_function*|
        over the rows of X, ≤ max‖x̃ᵢ‖·distance. One-vs-rest: gaps summed, distances in
        quadrature, prediction the max. Pass the ``sample_weight`` of ``fit``.
        """
        self._check_fitted("coef_")
        X = self._check_X(X, reset=False)
        y = np.asarray(y)
        codes = np.searchsorted(self.classes_, y)
        if len(y) != X.shape[0] or self.alpha_.shape[1] != X.shape[0]:
            raise ValueError("certificate(X, y) needs the training data (same rows as fit).")
        self._check_certificate_weights(X, sample_weight)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        bias = float(self.intercept_scaling) if self.fit_intercept else 0.0
        hinge = self.loss == "hinge"
        worst: dict[str, tuple[float, float]] = {}
        per_problem: list[dict[str, float]] = []
        for p, (yp, Cp, Cn) in enumerate(self._problems(codes, self.class_weight_)):
            C = sw * np.where(yp > 0, Cp, Cn)
            keep = C > 0  # a zero weight leaves the sample out of the problem
            Xk = X[keep] if not keep.all() else X
            yk, Ck, alpha = yp[keep], C[keep], self.alpha_[p][keep]
            w = np.r_[self.coef_[p], self._w_bias[p]]
            U, Dii = _box(Ck, hinge)
            m = yk * _margins(Xk, w, bias)
            w_dual = np.r_[np.asarray((alpha * yk) @ Xk).ravel(), bias * float(alpha @ yk)]
            # hard margin: P = ½‖w̃‖² on the feasible set (feasibility is the PG condition)
            Cobj = np.where(np.isinf(Ck), 0.0, Ck)
            primal = linear_svc_objective(Xk, yk, w, Cobj, loss=self.loss, bias=bias)
            dual = float(alpha.sum() - 0.5 * w_dual @ w_dual - 0.5 * (Dii * alpha) @ alpha)
            pg = projected_gradient(*_parts(Xk), yk, U, Dii, bias, alpha, w)
            active = (alpha > 0) | (m < 1)
            per = self.tol if hinge else 2 * self.tol**2
            Cfin = np.where(np.isinf(Ck), alpha, Ck)  # hard margin: each term ≤ αᵢ·tol
            if sparse.issparse(Xk):
                sq = np.asarray(Xk.multiply(Xk).sum(axis=1)).ravel()
            else:
                sq = np.einsum("ij,ij->i", Xk, Xk)
            scale = float(alpha @ np.sqrt(sq + bias**2)) + float(np.linalg.norm(w))
            floor = scaled_tolerance(abs(primal) + abs(dual) + scale, n=len(yk))
            v = {
                "duality_gap": abs(primal - dual),
                "kkt_box": float(max(np.max(-alpha, initial=0.0), np.max(alpha - U, initial=0))),
                "w_identity": float(np.linalg.norm(w - w_dual)),
                "projected_gradient": float(np.max(np.abs(pg), initial=0.0)),
            }
            t = {
                "duality_gap": per * float(Cfin[active].sum()) + floor,
                "kkt_box": scaled_tolerance(float(np.max(Cfin, initial=1.0))),
                "w_identity": scaled_tolerance(scale, n=len(yk)),
                "projected_gradient": self.tol + scaled_tolerance(scale),
            }
            for key in v:
                if key not in worst or v[key] - t[key] > worst[key][0] - worst[key][1]:
                    worst[key] = (v[key], t[key])
            feasible = bool((alpha >= 0).all() and (alpha <= U).all())
            per_problem.append(
                linear_problem_bounds(
                    primal,
                    dual,
                    w,
                    w_dual,
                    alpha,
                    m,
                    Ck,
                    Dii,
                    np.sqrt(sq + bias**2),
                    hinge=hinge,
                    feasible=feasible,
                )  # fmt: skip
            )
        cert = Certificate(f"LinearSVC(C={self.C}, loss={self.loss!r})")
        if sparse.issparse(X):
            sq_all = np.asarray(X.multiply(X).sum(axis=1)).ravel()
        else:
            sq_all = np.einsum("ij,ij->i", X, X)
        feature_norm = float(np.sqrt(np.max(sq_all, initial=0.0) + bias**2))
        feature_norm *= 1.0 + rounding(X.shape[1] + 3, 1.0)
        cert.set_bounds(combine_bounds(per_problem, feature_norm), self._bounds_note(bias))
        for key, text in [
            ("duality_gap", "P(w̃) − D(α) ≥ 0, bounds P(w̃) − min P"),
            ("kkt_box", "0 ≤ αᵢ ≤ Cᵢ (hinge) or αᵢ ≥ 0 (squared hinge)"),
            ("w_identity", "‖w̃ − Σαᵢyᵢx̃ᵢ‖: w is the dual's combination of the samples"),
            ("projected_gradient", "max |PGᵢ| of the dual, the stopping rule"),
        ]:
            cert.add(key, *worst[key], text)
        return cert


def _box(C, hinge):
    """(Uᵢ, Dᵢᵢ): hinge αᵢ ≤ Cᵢ, D = 0; squared hinge αᵢ ≥ 0 only, Dᵢᵢ = 1/(2Cᵢ)."""
    if hinge:
        return C, np.zeros_like(C)
    with np.errstate(divide="ignore"):
        return np.full_like(C, np.inf), np.where(C > 0, 0.5 / np.where(C > 0, C, 1.0), np.inf)


def _solve(X, yp, C, loss, bias, tol, max_iter, rng):
    """One binary problem from α = 0: returns (w̃ (d + 1,), α (n,), passes, status)."""
    n, d = X.shape
    U, Dii = _box(C, loss == "hinge")
    keep = C > 0  # zero weight: the sample is left out (αᵢ = 0)
    alpha = np.zeros(n)
    w = np.zeros(d + 1)
    Xk = X if keep.all() else X[keep]
    parts = _parts(Xk)
    seed = int(rng.integers(2**31 - 1))
    ak = np.zeros(int(keep.sum()))
    it, st = dcd(*parts, yp[keep], U[keep], Dii[keep], bias, tol, max_iter, seed, ak, w)
    alpha[keep] = ak
    return w, alpha, it, st
