"""Logistic regression (two classes, sigmoid) and softmax regression (k classes) by penalised MLE.

The notes: p(yᵢ | xᵢ, w) = σ(wᵀxᵢ)^yᵢ (1 − σ(wᵀxᵢ))^(1−yᵢ); the negative log-likelihood has
gradient Σ(σᵢ − yᵢ)xᵢ and Hessian XᵀSX ⪰ 0, so it is convex and has a global minimum
(when one exists); for k classes pₖ = softmax(z)ₖ and ∇_{w_m} = Σᵢ(p_im − y_im)xᵢ.
"""

from __future__ import annotations

import numbers
import warnings
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax

from qed._blockwise import is_dask_collection
from qed._validation import (
    ConvergenceWarning,
    check_array,
    check_bool,
    check_random_state,
    check_sample_weight,
    check_scalar,
    check_X_y,
    encode_labels,
)
from qed.base import BaseEstimator, ClassifierMixin
from qed.certificate import Certificate
from qed.classify import _logistic_solvers as S
from qed.classify._class_weight import class_weights
from qed.classify._logistic_bounds import logistic_bounds
from qed.classify._newton import SolverResult, certify, newton
from qed.classify._separable import separating_direction

__all__ = ["LogisticRegression", "class_weights", "logistic_objective"]

SOLVERS = ("newton", "lbfgs", "gd", "sgd")


def logistic_objective(model: LogisticRegression, X: Any, y: Any, sample_weight: Any = None):
    """scikit-learn's objective C·Σᵢ sᵢ(−log p(yᵢ | xᵢ)) + ½‖W‖² at the model's parameters.

    With C = ∞ it is the pure negative log-likelihood Σᵢ sᵢ(−log pᵢ). Works for any fitted
    object with ``coef_``, ``intercept_``, ``classes_`` and ``C`` (a scikit-learn model too).
    """
    X = X.tocsr().astype(np.float64) if sparse.issparse(X) else np.asarray(X, dtype=np.float64)
    y = np.asarray(y)
    sw = np.ones(X.shape[0]) if sample_weight is None else np.asarray(sample_weight, float)
    coef = np.asarray(model.coef_, dtype=np.float64)
    Z = np.asarray(X @ coef.T) + np.asarray(model.intercept_, dtype=np.float64)
    codes = np.searchsorted(model.classes_, y)
    if Z.shape[1] == 1:
        nll = -float(sw @ log_expit((2.0 * codes - 1.0) * Z[:, 0]))
    else:
        nll = -float(sw @ log_softmax(Z, axis=1)[np.arange(len(y)), codes])
    C = float(model.C)
    return nll if np.isinf(C) else C * nll + 0.5 * float(np.vdot(coef, coef))


def _suspect_separation(problem: S.LogisticProblem, result: SolverResult) -> bool:
    """Cheap trigger for the exact LP test: no convergence, or some pᵢ(yᵢ) within 1e-10 of 1.

    At a finite MLE the fitted probabilities of the observed labels stay below 1; along a
    separating direction they run to 1 exponentially fast.
    """
    if not result.converged:
        return True
    d = problem.X.shape[1]
    Theta = result.Theta
    z = problem.X @ Theta[:, :d].T + (Theta[:, d] if problem.fit_intercept else 0.0)
    if problem.binary:
        nll = -log_expit((2.0 * problem.y - 1.0) * z[:, 0])
    else:
        nll = -log_softmax(z, axis=1)[np.arange(len(z)), problem.y]
    return bool(nll[problem.sw > 0].min(initial=1.0) < 1e-10)


class LogisticRegression(ClassifierMixin, BaseEstimator):
    """Penalised maximum likelihood: minimise C·Σᵢ −log pᵢ + ½‖W‖² (intercept unpenalised).

    Two classes use the sigmoid σ(wᵀx + b) (one weight vector, ``coef_`` of shape (1, d));
    k > 2 classes the softmax (``coef_`` of shape (k, d)). ``C=np.inf`` is the notes' pure MLE,
    which has no finite solution when the classes are linearly separable: ``fit`` then raises.

    Parameters
    ----------
    C : float > 0 or np.inf — inverse regularisation strength, as scikit-learn's.
    solver : "newton" (damped Newton/IRLS with an Armijo line search: Cholesky on the exact
        Hessian X̃ᵀSX̃ (block (k·d₁)² for softmax) while that is cheap; on large problems CG
        on exact Hessian-vector products, preconditioned by the Hessian of a row subsample,
        started from the optimum on a random 1/8 of the rows), "lbfgs" (scipy L-BFGS-B with
        the analytic gradient), "gd" (full-batch gradient steps) or "sgd" (mini-batches).
    max_iter : Newton/L-BFGS iterations (on all rows), or epochs for "gd"/"sgd".
    tol : stop when the largest entry of the gradient of the averaged objective is ≤ tol.
    optimizer : for "gd"/"sgd": a name of ``qed.optim.OPTIMIZERS`` ("sgd", "adam", …) or a
        dict of its hyperparameters, e.g. ``{"name": "adam", "lr": 0.05}`` or ``{"name":
        "sgd", "lr": qed.optim.cosine(0.5, 1000), "momentum": 0.9}`` (these can be saved
        with ``qed.save``); or a ``qed.optim`` optimizer class, or a factory ``params ->
        optimizer`` such as ``functools.partial(qed.optim.Adam, lr=0.05)`` (these cannot).
        Default: the notes' plain step θ ← θ − ∇F/β with β the smoothness constant of the
        averaged objective (λ_max(X̃ᵀX̃)/4n for the sigmoid, /2n for the softmax, + 1/(Cn)).
    batch_size : mini-batch size for "sgd" (default min(200, n_samples)); unused by "gd".
    random_state : seed or Generator for the "sgd" shuffles.
    class_weight : None, "balanced" or a dict {label: weight ≥ 0}: sample i's loss is scaled
        by the weight c_{yᵢ} of its class, times its ``sample_weight`` sᵢ (scikit-learn's
        rule: "balanced" is c_m = Σᵢsᵢ / (k·Σ_{yᵢ=m} sᵢ), from
        ``sklearn.utils.class_weight.compute_class_weight``; labels missing from a dict
        weigh 1).
    warm_start : start ``fit`` from the previous fit's ``coef_``/``intercept_`` (when the
        classes and features are the same) instead of Θ = 0.

    Attributes
    ----------
    classes_ (k,), coef_ (1 or k, n_features), intercept_ (1 or k,), n_iter_ (1,),
    loss_curve_ (averaged objective f/n after each iteration/epoch), n_features_in_.

    A row-chunked ``dask.array`` X and y are fitted by ``"newton"``: the same Newton driver
    (``qed.classify._newton``), with f, ∇f and ∇²f summed over the blocks on the cluster in
    one pass per step (``qed.classify._dask_logistic``); predictions on one are lazy.
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        fit_intercept: bool = True,
        solver: str = "newton",
        max_iter: int = 100,
        tol: float = 1e-8,
        optimizer: Any = None,
        batch_size: int | None = None,
        random_state: Any = None,
        class_weight: Any = None,
        warm_start: bool = False,
    ):
        self.C = C
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.optimizer = optimizer
        self.batch_size = batch_size
        self.random_state = random_state
        self.class_weight = class_weight
        self.warm_start = warm_start

    def _validate_params(self) -> None:
        check_scalar(self.C, "C", min_val=0.0, include_min=False)
        check_scalar(self.tol, "tol", min_val=0.0)
        check_scalar(self.max_iter, "max_iter", target_type=numbers.Integral, min_val=1)
        if self.solver not in SOLVERS:
            raise ValueError(f"solver={self.solver!r} is not supported; choose one of {SOLVERS}.")
        if self.batch_size is not None:
            check_scalar(self.batch_size, "batch_size", target_type=numbers.Integral, min_val=1)
        if not isinstance(self.fit_intercept, (bool, np.bool_)):
            raise TypeError(f"fit_intercept must be a bool, got {self.fit_intercept!r}.")
        if not isinstance(self.warm_start, (bool, np.bool_)):
            raise TypeError(f"warm_start must be a bool, got {self.warm_start!r}.")
        cw = self.class_weight
        if not (cw is None or isinstance(cw, dict) or (isinstance(cw, str) and cw == "balanced")):
            raise ValueError(
                f"class_weight={cw!r} is not supported; pass None, 'balanced' or a dict "
                "{label: weight}."
            )

    def _problem(self, X, y, sample_weight, C=None) -> tuple[S.LogisticProblem, np.dtype]:
        # sparse X is validated as CSR (COO/LIL/DOK/CSC converted), stored values finite;
        # never densified
        X, y = check_X_y(X, y, estimator=self, y_numeric=False, accept_sparse=True)
        self.classes_, codes = encode_labels(y, self)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64, only_positive=True)
        return self._weighted_problem(X, y, codes, sw, self.C if C is None else C), X.dtype

    def _weighted_problem(self, X, y, codes, sw, C) -> S.LogisticProblem:
        """The objective of (X, y) with sample weights ``sw`` times the class weights, at C;
        in float64 whatever the input (``coef_`` is stored in the input's dtype)."""
        if self.class_weight is not None:
            sw = sw * class_weights(self.class_weight, self.classes_, y, sw)[codes]
        return S.LogisticProblem(
            S.as_float64(X),
            codes,
            sw,
            0.0 if np.isinf(C) else 1.0 / float(C),
            check_bool(self.fit_intercept, "fit_intercept"),
            len(self.classes_),
        )

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit by the chosen solver from Θ = 0. X (n, d); y (n,) of any label type.

        On dask arrays the objective is evaluated by blockwise sums on the cluster
        (``_dask_logistic``); the Newton iteration and everything after it are the same.
        """
        self._validate_params()
        self._record_sample_weight(sample_weight)
        self.__dict__.pop("_stream", None)  # a fit starts afresh; partial_fit then continues it
        if is_dask_collection(X) or is_dask_collection(y):
            from qed.classify._dask_logistic import fit_objective

            if self.class_weight is not None or self.warm_start:
                raise ValueError(
                    "LogisticRegression on dask arrays supports class_weight=None and "
                    "warm_start=False only; pass the class weights through sample_weight "
                    "(a dask array of c_{yᵢ}·sᵢ)."
                )
            objective, self.classes_, dtype = fit_objective(self, X, y, sample_weight)
            self.n_features_in_ = int(objective.d)
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
            result = newton(objective, np.zeros(objective.shape), self.tol, self.max_iter)
        else:
            fitted = getattr(self, "coef_", None), getattr(self, "classes_", None)
            objective, dtype = self._problem(X, y, sample_weight)
            result = self._solve_in_memory(objective, self._start(objective, *fitted))
        self._check_optimum_exists(objective, result)
        if not result.converged:
            hint = (
                " With C=inf the MLE may not exist (quasi-separable classes); try a finite C."
                if objective.alpha == 0
                else ""
            )
            warnings.warn(
                f"LogisticRegression(solver={self.solver!r}) stopped at max_iter="
                f"{self.max_iter} before the gradient reached tol={self.tol}; increase "
                f"max_iter or scale the features.{hint}",
                ConvergenceWarning,
                stacklevel=2,
            )
        Theta = result.Theta
        d = Theta.shape[1] - int(objective.fit_intercept)
        self.coef_ = np.ascontiguousarray(Theta[:, :d], dtype=dtype)
        self.intercept_ = (
            Theta[:, d].astype(dtype)
            if objective.fit_intercept
            else np.zeros(len(Theta), dtype=dtype)
        )
        self.n_iter_ = np.array([result.n_iter], dtype=np.int32)
        self.loss_curve_ = list(result.loss_curve)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> LogisticRegression:
        """One pass of mini-batch SGD over a chunk of a stream (``classes`` on the first call).

        An approximation of ``fit`` on all the chunks, by the estimator's ``optimizer``
        (default: steps 1/β), ``batch_size`` and ``random_state``; the objective is the
        averaged one of every row seen so far (``_logistic_stream``). X may be sparse.
        ``certificate(X, y)`` on the data says how far from stationary the result is.
        """
        from qed.classify._logistic_stream import partial_fit

        self._validate_params()
        weighted_before = hasattr(self, "coef_") and getattr(self, "_fit_weighted", False)
        self._record_sample_weight(sample_weight)
        self._fit_weighted = self._fit_weighted or weighted_before
        return partial_fit(self, X, y, classes, sample_weight)

    def _start(self, problem: S.LogisticProblem, coef: Any, classes: Any) -> np.ndarray:
        """Θ₀: the previous fit's parameters with ``warm_start`` (same classes, features and
        intercept setting), else 0."""
        Theta0 = np.zeros(problem.shape)
        if (
            self.warm_start
            and coef is not None
            and classes is not None
            and np.array_equal(classes, self.classes_)
            and np.shape(coef) == (Theta0.shape[0], problem.X.shape[1])
        ):
            Theta0[:, : problem.X.shape[1]] = coef
            if problem.fit_intercept:
                Theta0[:, -1] = self.intercept_
        return Theta0

    def _solve_in_memory(self, problem: S.LogisticProblem, Theta0: np.ndarray) -> SolverResult:
        work = problem.X.size * Theta0.shape[0]
        if self.solver in ("newton", "lbfgs"):
            solve = newton if self.solver == "newton" else S.lbfgs
            with S.blas_single_thread(work):
                return solve(problem, Theta0, self.tol, self.max_iter)
        from qed.classify import _logistic_sgd

        return _logistic_sgd.first_order(
            problem,
            Theta0,
            self.tol,
            self.max_iter,
            optimizer=self.optimizer,
            batch_size=None
            if self.solver == "gd"
            else (self.batch_size or min(200, len(problem.y))),
            rng=check_random_state(self.random_state),
        )

    def _check_optimum_exists(self, objective: Any, result: SolverResult) -> None:
        """Raise when C = ∞ and the data admit no finite MLE (separable classes).

        On data in memory a cheap trigger (``_suspect_separation``) runs the exact LP test of
        quasi-separation; on dask arrays only strict separation is detected (by the solver).
        """
        if result.separated:
            raise ValueError(
                f"LogisticRegression(C=inf) has no finite optimum on this data: the classes are "
                f"linearly separable (the weights after {result.n_iter} iterations classify all "
                f"{objective.n_rows} training samples correctly, and scaling them up lowers the "
                "negative log-likelihood towards 0 without bound); use a finite C, e.g. C=1.0."
            )
        if (
            objective.alpha == 0
            and isinstance(objective, S.LogisticProblem)
            and _suspect_separation(objective, result)
            and separating_direction(
                objective.X, objective.y, objective.n_classes, objective.fit_intercept
            )
        ):
            raise ValueError(
                "LogisticRegression(C=inf) has no finite optimum on this data: the classes are "
                "quasi-separable (a direction of the weights classifies some samples ever more "
                "confidently without hurting any other, so the negative log-likelihood has no "
                "minimiser and ‖w‖ → ∞); use a finite C, e.g. C=1.0."
            )

    def decision_function(self, X: Any) -> np.ndarray:
        """Scores Xwᵀ + b: shape (n,) for two classes (the log-odds), else (n, k)."""
        self._check_fitted("coef_")
        if is_dask_collection(X):  # a lazy dask array, block by block
            return self._dask_scores(X, "decision")
        X = check_array(X, estimator=self, reset=False, accept_sparse=True)
        Z = np.asarray(X @ self.coef_.T) + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log p(class | x), shape (n, k): log σ(±z), or log-softmax, never log of 0 by underflow."""
        if is_dask_collection(X):  # a lazy dask array, block by block
            return self._dask_scores(X, "log_proba")
        Z = self.decision_function(X)
        if Z.ndim == 1:
            return np.column_stack([log_expit(-Z), log_expit(Z)])
        return log_softmax(Z, axis=1)

    def predict_proba(self, X: Any) -> np.ndarray:
        """p(class | x), shape (n, k); rows sum to 1; finite for any finite input."""
        if is_dask_collection(X):  # a lazy dask array, block by block
            return self._dask_scores(X, "proba")
        Z = self.decision_function(X)
        if Z.ndim == 1:
            p = expit(Z)
            return np.column_stack([expit(-Z), p])
        return np.exp(log_softmax(Z, axis=1))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class, shape (n,), in the type of ``classes_``."""
        if is_dask_collection(X):  # a lazy dask array, block by block
            return self._dask_scores(X, "predict")
        Z = self.decision_function(X)
        idx = (Z > 0).astype(np.intp) if Z.ndim == 1 else Z.argmax(axis=1)
        return self.classes_[idx]

    def _dask_scores(self, X: Any, kind: str) -> Any:
        from qed.classify._dask_logistic import scores_dask

        self._check_fitted("coef_")
        return scores_dask(self, X, kind)

    def certificate(self, X: Any, y: Any, sample_weight: Any = None) -> Certificate:
        """The notes' optimality argument, checked on (X, y) (normally the training data).

        1. ``stationarity``: ‖∇(f/Σsᵢ)‖∞ ≤ max(tol, rounding level eps·√n·max|x̃|);
        2. ``hessian_psd``: λ_min(∇²f/Σsᵢ) ≥ −ε, the Hessian XᵀSX (+ αI) is positive
           semidefinite, with ε = eps·‖∇²f/Σsᵢ‖·dim scaled; this is why the stationary point
           is the global minimum.

        On dask arrays ∇f and ∇²f are summed on the cluster; the conditions are the same.
        """
        self._check_fitted("coef_")
        self._check_certificate_weights(X, sample_weight)
        if is_dask_collection(X) or is_dask_collection(y):
            from qed.classify._dask_logistic import certificate_objective

            objective = certificate_objective(self, X, y, sample_weight)
        else:
            objective = self._problem_for_certificate(X, y, sample_weight)
        Theta = np.column_stack([self.coef_, self.intercept_]) if self.fit_intercept else self.coef_
        Theta = np.asarray(Theta, dtype=np.float64)
        cert = certify(
            objective,
            Theta,
            f"LogisticRegression(C={self.C}, solver={self.solver!r})",
            self.tol,
            self.coef_.dtype,
        )
        cert.set_bounds(*logistic_bounds(objective, Theta))
        return cert

    def _problem_for_certificate(self, X, y, sample_weight) -> S.LogisticProblem:
        X = check_array(X, estimator=self, reset=False, accept_sparse=True)
        y = np.asarray(y)
        unknown = np.setdiff1d(np.unique(y), self.classes_)
        if len(unknown):
            raise ValueError(f"y contains labels {unknown!r} not seen in fit ({self.classes_}).")
        codes = np.searchsorted(self.classes_, y)
        sw = check_sample_weight(sample_weight, X, dtype=np.float64)
        return self._weighted_problem(X, y, codes, sw, self.C)

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        tags.input_tags.sparse = True
        return tags
