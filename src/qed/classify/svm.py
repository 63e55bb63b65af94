"""The support vector machine of the notes, by its dual, solved with SMO.

Notes: the separating plane wᵀx + b = 0 with yᵢ(wᵀxᵢ + b) ≥ 1; minimise ½‖w‖²; the Lagrangian
dual maximises Σαᵢ − ½ΣΣαᵢαⱼyᵢyⱼxᵢᵀxⱼ over αᵢ ≥ 0 with Σαᵢyᵢ = 0; then w = Σαᵢyᵢxᵢ,
b = yᵢ − wᵀxᵢ for every support vector (αᵢ > 0), and the margin is 1/‖w‖ = 1/√Σαᵢ.
A finite C bounds αᵢ ≤ C (the soft margin); a kernel replaces xᵢᵀxⱼ by K(xᵢ, xⱼ).
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np

from qed._validation import ConvergenceWarning, check_array, check_scalar, check_X_y, encode_labels
from qed.base import BaseEstimator, ClassifierMixin
from qed.certificate import Certificate, scaled_tolerance
from qed.classify._separable import separable
from qed.classify._smo import KERNELS, kernel_matrix, smo

__all__ = ["SVC"]


def _intercept(alpha, G, y, C):
    """b = −ρ: the mean of yᵢ − wᵀxᵢ over free SVs (0 < αᵢ < C), as the notes' b = yᵢ − wᵀxᵢ.

    With G = Qα − 1, yᵢGᵢ = wᵀxᵢ − yᵢ. Without free SVs, ρ is the midpoint of the interval
    the KKT conditions allow (libsvm's rule).
    """
    yG = y * G
    free = (alpha > 0) & (alpha < C)
    if free.any():
        return -float(yG[free].mean())
    upper = alpha >= C
    lower = alpha <= 0
    ub_mask = (upper & (y < 0)) | (lower & (y > 0))
    lb_mask = (upper & (y > 0)) | (lower & (y < 0))
    ub = yG[ub_mask].min(initial=np.inf)
    lb = yG[lb_mask].max(initial=-np.inf)
    return -0.5 * (ub + lb) if np.isfinite(ub + lb) else -float(ub if np.isfinite(ub) else lb)


class SVC(ClassifierMixin, BaseEstimator):
    """Support vector classifier by the dual and SMO; one-vs-one for k > 2 classes.

    Parameters
    ----------
    C : float > 0 or np.inf — box constraint 0 ≤ αᵢ ≤ C; ``np.inf`` with ``kernel="linear"``
        is the notes' hard-margin SVM (``fit`` raises if the classes are not separable).
    kernel : "linear" xᵀz, "poly" (γxᵀz + coef0)^degree, "rbf" exp(−γ‖x − z‖²).
    gamma : "scale" = 1/(n_features·X.var()), "auto" = 1/n_features, or a positive float.
    tol : stop when the KKT gap max_{I_up}(−y∇) − min_{I_low}(−y∇) < tol (libsvm's rule).
    max_iter : SMO steps per binary problem (None: max(10⁷, 100n), as libsvm).
    cache_size : MB of kernel rows kept per binary problem.
    shrinking : libsvm's shrinking heuristic (same solution, fewer operations per step).
    decision_function_shape : "ovr" (scikit-learn's default aggregation) or "ovo".

    Attributes
    ----------
    classes_, support_ (indices of SVs, grouped by class), support_vectors_, n_support_,
    dual_coef_ (αᵢyᵢ in scikit-learn's (k − 1, n_SV) layout), alpha_ (αᵢ = |dual_coef_|,
    shape (n_SV,) for two classes), intercept_ (one b per pair of classes), coef_ (linear
    kernel: w = Σαᵢyᵢxᵢ per pair), margin_ (1/‖w‖ per pair; a float for two classes),
    n_iter_ (SMO steps per pair), fit_status_ (0 = converged), shape_fit_.
    For two classes the signs follow scikit-learn: decision_function > 0 predicts classes_[1].
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        kernel: str = "rbf",
        gamma: str | float = "scale",
        degree: int = 3,
        coef0: float = 1.0,
        tol: float = 1e-6,
        max_iter: int | None = None,
        cache_size: float = 200,
        shrinking: bool = True,
        decision_function_shape: str = "ovr",
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

    # -- fitting -------------------------------------------------------------------------
    def _validate_params(self, X: np.ndarray) -> float:
        check_scalar(self.C, "C", min_val=0.0, include_min=False)
        if self.kernel not in KERNELS:
            raise ValueError(
                f"kernel={self.kernel!r} is not supported; choose one of {sorted(KERNELS)}."
            )
        check_scalar(self.degree, "degree", target_type=numbers.Integral, min_val=0)
        check_scalar(self.coef0, "coef0", allow_inf=False)
        check_scalar(self.tol, "tol", min_val=0.0, include_min=False)
        check_scalar(self.cache_size, "cache_size", min_val=0.0, include_min=False)
        if self.max_iter is not None and self.max_iter != -1:
            check_scalar(self.max_iter, "max_iter", target_type=numbers.Integral, min_val=1)
        if not isinstance(self.shrinking, (bool, np.bool_)):
            raise TypeError(f"shrinking must be a bool, got {self.shrinking!r}.")
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

    def fit(self, X: Any, y: Any) -> SVC:
        """Solve one dual per pair of classes. X (n, d); y (n,) of any label type."""
        X, y = check_X_y(X, y, estimator=self, y_numeric=False, dtype=np.float64)
        gamma = self._validate_params(X)
        self.classes_, codes = encode_labels(y, self)
        self._gamma = gamma
        kind = KERNELS[self.kernel]
        k = len(self.classes_)
        n = len(X)
        max_iter = max(10_000_000, 100 * n) if self.max_iter in (None, -1) else int(self.max_iter)
        hard = np.isinf(self.C)
        alphas, intercepts, n_iter, status = {}, [], [], []
        for a in range(k):
            for b in range(a + 1, k):
                idx = np.flatnonzero((codes == a) | (codes == b))
                Xp = np.ascontiguousarray(X[idx])
                yp = np.where(codes[idx] == a, 1.0, -1.0)  # libsvm: the first class is +1
                rows = int(self.cache_size * 2**20 // (8 * len(idx)))
                Cv = np.full(len(idx), float(self.C))
                alpha, G = np.zeros(len(idx)), -np.ones(len(idx))
                args = (
                    Xp,
                    yp,
                    Cv,
                    kind,
                    gamma,
                    float(self.coef0),
                    float(self.degree),
                    float(self.tol),
                )
                # hard margin: on non-separable data the dual is unbounded and SMO cannot
                # converge, so after a budget of steps an LP decides before going on
                budget = min(max_iter, 20 * len(idx) + 10_000) if hard else max_iter
                shrink = bool(self.shrinking)
                it, st = smo(*args, budget, rows, alpha, G, shrink)
                if hard and st:
                    self._check_separable(Xp, yp, kind, gamma, a, b)
                    more, st = smo(*args, max_iter - it, rows, alpha, G, shrink)
                    it += more
                alphas[a, b] = (idx, alpha * yp)
                intercepts.append(_intercept(alpha, G, yp, float(self.C)))
                n_iter.append(it)
                status.append(st)
        if any(status):
            warnings.warn(
                f"SVC's SMO stopped at max_iter={max_iter} before the KKT gap fell below "
                f"tol={self.tol}; increase max_iter, or scale the features.",
                ConvergenceWarning,
                stacklevel=2,
            )
        self._store(X, codes, alphas, np.array(intercepts), k)
        self.n_iter_ = np.array(n_iter, dtype=np.int32)
        self.fit_status_ = int(any(status))
        self.shape_fit_ = X.shape
        return self

    def _check_separable(self, Xp, yp, kind, gamma, a, b) -> None:
        F = (
            Xp
            if kind == KERNELS["linear"]
            else kernel_matrix(Xp, Xp, kind, gamma, float(self.coef0), float(self.degree))
        )
        if not separable(F, yp):
            space = (
                "by a hyperplane"
                if kind == KERNELS["linear"]
                else f"in the feature space of the {self.kernel!r} kernel"
            )
            raise ValueError(
                f"SVC(C=inf) needs separable classes, but classes {self.classes_[a]!r} "
                f"({int((yp > 0).sum())} samples) and {self.classes_[b]!r} "
                f"({int((yp < 0).sum())} samples) cannot be separated {space}: no (w, b) "
                "has yᵢ(wᵀxᵢ + b) ≥ 1 for all i, so the dual is unbounded (αᵢ → ∞). Use a "
                "finite C (the soft margin), e.g. SVC(C=1.0)."
            )

    def _store(self, X, codes, alphas, intercepts, k) -> None:
        """Lay out the pairwise solutions as libsvm / scikit-learn do."""
        sv_mask = np.zeros(len(X), dtype=bool)
        for idx, coef in alphas.values():
            sv_mask[idx[coef != 0]] = True
        support = np.concatenate([np.flatnonzero(sv_mask & (codes == c)) for c in range(k)])
        position = np.full(len(X), -1)
        position[support] = np.arange(len(support))
        dual = np.zeros((k - 1, len(support)))
        for (a, b), (idx, coef) in alphas.items():
            nz = coef != 0
            rows = np.where(codes[idx[nz]] == a, b - 1, a)
            dual[rows, position[idx[nz]]] = coef[nz]
        if k == 2:  # scikit-learn's sign for two classes: positive predicts classes_[1]
            dual, intercepts = -dual, -intercepts
        self.support_ = support.astype(np.int32)
        self.support_vectors_ = X[support]
        self.n_support_ = np.bincount(codes[support], minlength=k).astype(np.int32)
        self.dual_coef_ = dual
        self.intercept_ = intercepts
        self.alpha_ = np.abs(dual[0]) if k == 2 else np.abs(dual)
        norms = np.array([np.sqrt(max(float(c @ K @ c), 0.0)) for c, K in self._pair_blocks()])
        with np.errstate(divide="ignore"):
            margins = 1.0 / norms
        self.margin_ = float(margins[0]) if k == 2 else margins
        if self.kernel == "linear":
            self.coef_ = np.array([c @ S for c, S in self._pair_coefs()])

    def _pair_slices(self):
        """For each pair (a, b): the SV positions of both classes and their coefficients."""
        k = len(self.classes_)
        bounds = np.concatenate([[0], np.cumsum(self.n_support_)])
        for a in range(k):
            for b in range(a + 1, k):
                pos = np.r_[bounds[a] : bounds[a + 1], bounds[b] : bounds[b + 1]]
                coef = np.r_[
                    self.dual_coef_[b - 1, bounds[a] : bounds[a + 1]],
                    self.dual_coef_[a, bounds[b] : bounds[b + 1]],
                ]
                yield pos, coef

    def _pair_coefs(self):
        for pos, coef in self._pair_slices():
            yield coef, self.support_vectors_[pos]

    def _pair_blocks(self):
        for coef, S in self._pair_coefs():
            yield coef, self._kernel(S, S)

    def _kernel(self, A, B):
        return kernel_matrix(
            A, B, KERNELS[self.kernel], self._gamma, float(self.coef0), float(self.degree)
        )

    # -- prediction ----------------------------------------------------------------------
    def _ovo(self, X) -> np.ndarray:
        """f_ab(x) = Σ αᵢyᵢK(xᵢ, x) + b_ab per pair, shape (n, n_pairs); > 0 votes for a
        (for two classes, with scikit-learn's sign: > 0 means classes_[1])."""
        self._check_fitted("dual_coef_")
        X = check_array(X, estimator=self, reset=False, dtype=np.float64)
        K = self._kernel(X, self.support_vectors_)
        return (
            np.column_stack([K[:, pos] @ coef for pos, coef in self._pair_slices()])
            + self.intercept_
        )

    def decision_function(self, X: Any) -> np.ndarray:
        """Two classes: f(x) = wᵀφ(x) + b, shape (n,). More: "ovr" (n, k) or "ovo"."""
        dec = self._ovo(X)
        k = len(self.classes_)
        if k == 2:
            return dec[:, 0]
        if self.decision_function_shape == "ovo":
            return dec
        return _ovr_from_ovo(dec, k)

    def predict(self, X: Any) -> np.ndarray:
        """The class with the most one-vs-one votes (ties: the first class), as libsvm."""
        dec = self._ovo(X)
        k = len(self.classes_)
        if k == 2:
            return self.classes_[(dec[:, 0] >= 0).astype(np.intp)]
        votes = np.zeros((len(dec), k), dtype=np.int64)
        col = 0
        for a in range(k):
            for b in range(a + 1, k):
                pos = dec[:, col] > 0
                votes[pos, a] += 1
                votes[~pos, b] += 1
                col += 1
        return self.classes_[votes.argmax(axis=1)]

    # -- certificate ---------------------------------------------------------------------
    def certificate(self, X: Any, y: Any) -> Certificate:
        """The KKT conditions of every pairwise dual, measured on the training data (X, y).

        With fᵢ = ΣⱼαⱼyⱼK(xⱼ, xᵢ) + b and ξᵢ = max(0, 1 − yᵢfᵢ): 0 ≤ αᵢ ≤ C with the sign of
        αᵢyᵢ matching yᵢ, Σαᵢyᵢ = 0, yᵢfᵢ ≥ 1 where αᵢ < C (hard margin: everywhere),
        αᵢ(yᵢfᵢ − 1 + ξᵢ) = 0, (C − αᵢ)ξᵢ = 0, and for the hard margin 1/‖w‖ = 1/√Σαᵢ.
        Tolerances: the solver's tol on the KKT gap (in units of yf), plus rounding.
        """
        self._check_fitted("dual_coef_")
        X = check_array(X, estimator=self, reset=False, dtype=np.float64)
        codes = np.searchsorted(self.classes_, np.asarray(y))
        C = float(self.C)
        hard = np.isinf(C)
        worst = dict.fromkeys(
            ["sign", "box", "balance", "feasible", "slack_a", "slack_c", "margin"], 0.0
        )
        tols = dict.fromkeys(worst, 0.0)
        dec = self._ovo(X)
        sign = -1.0 if len(self.classes_) == 2 else 1.0
        k = len(self.classes_)
        col = 0
        pairs = list(self._pair_slices())
        for a in range(k):
            for b in range(a + 1, k):
                pos, coef = pairs[col]
                idx = np.flatnonzero((codes == a) | (codes == b))
                yp = np.where(codes[idx] == a, 1.0, -1.0)
                yf = yp * dec[idx, col] * sign
                alpha = np.zeros(len(X))
                alpha[self.support_[pos]] = np.abs(coef)
                ysv = np.where(codes[self.support_[pos]] == a, 1.0, -1.0)
                alpha = alpha[idx]
                s_alpha = float(alpha.sum())
                Kdiag = np.abs(self._kernel(X[idx[:1]], X[idx[:1]])).max()
                floor = scaled_tolerance(
                    s_alpha * max(Kdiag, 1.0) + abs(self.intercept_[col]), n=len(idx)
                )
                kkt = float(self.tol) + floor
                xi = np.maximum(0.0, 1.0 - yf)
                below = alpha < C
                vals = {
                    "sign": float(np.max(np.maximum(0.0, -coef * ysv * sign), initial=0.0)),
                    "box": float(max(np.max(alpha - C, initial=0.0), 0.0)),
                    "balance": abs(float(coef.sum())),
                    "feasible": float(np.max(xi[below], initial=0.0)),
                    "slack_a": float(np.max(alpha * np.abs(yf - 1 + xi), initial=0.0)),
                    "slack_c": 0.0 if hard else float(np.max((C - alpha) * xi, initial=0.0)),
                }
                t = {
                    "sign": 0.0,
                    "box": scaled_tolerance(C if not hard else 1.0),
                    "balance": scaled_tolerance(s_alpha, n=len(idx)),
                    "feasible": kkt,
                    "slack_a": kkt * max(float(alpha.max(initial=0.0)), 1e-300),
                    "slack_c": kkt * (C if not hard else 1.0),
                }
                if hard:
                    w2 = float(
                        coef
                        @ self._kernel(self.support_vectors_[pos], self.support_vectors_[pos])
                        @ coef
                    )
                    vals["margin"] = abs(1 / np.sqrt(w2) - 1 / np.sqrt(s_alpha)) * np.sqrt(w2)
                    t["margin"] = kkt
                for key, v in vals.items():
                    if v - t[key] > worst[key] - tols[key] or col == 0:
                        worst[key], tols[key] = v, t[key]
                col += 1
        cert = Certificate(f"SVC(C={self.C}, kernel={self.kernel!r})")
        cert.add(
            "sign(αᵢyᵢ) = yᵢ",
            worst["sign"],
            max(tols["sign"], np.finfo(float).tiny),
            "dual_coef_ = αᵢyᵢ with αᵢ ≥ 0",
        )
        cert.add("αᵢ ≤ C", worst["box"], tols["box"], "box constraint")
        cert.add("|Σαᵢyᵢ|", worst["balance"], tols["balance"], "∂L/∂b = 0")
        cert.add(
            "1 − yᵢfᵢ (αᵢ < C)",
            worst["feasible"],
            tols["feasible"],
            "primal feasibility yᵢ(wᵀxᵢ + b) ≥ 1" + ("" if hard else " off the bound"),
        )
        cert.add(
            "αᵢ|yᵢfᵢ − 1 + ξᵢ|",
            worst["slack_a"],
            tols["slack_a"],
            "complementary slackness: support vectors lie on the margin",
        )
        if hard:
            cert.add(
                "|1/‖w‖ − 1/√Σα|·‖w‖", worst["margin"], tols["margin"], "the notes' margin identity"
            )
        else:
            cert.add(
                "(C − αᵢ)ξᵢ",
                worst["slack_c"],
                tols["slack_c"],
                "complementary slackness of the slacks",
            )
        return cert


def _ovr_from_ovo(dec: np.ndarray, k: int) -> np.ndarray:
    """scikit-learn's one-vs-rest aggregation: votes plus confidences squashed into (−⅓, ⅓)."""
    votes = np.zeros((len(dec), k))
    conf = np.zeros((len(dec), k))
    col = 0
    for a in range(k):
        for b in range(a + 1, k):
            conf[:, a] += dec[:, col]
            conf[:, b] -= dec[:, col]
            votes[dec[:, col] >= 0, a] += 1
            votes[dec[:, col] < 0, b] += 1
            col += 1
    return votes + conf / (3 * (np.abs(conf) + 1))
