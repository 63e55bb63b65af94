"""Choosing C for logistic regression by K-fold cross-validation along a warm-started path.

For each fold the penalised MLE is solved for every C of the grid in order, each Newton run
started from the previous C's optimum: the optimum moves continuously with C (the implicit
function theorem on ∇f = 0, whose Jacobian ∇²f ≻ 0 for finite C), so the previous solution
lies in Newton's quadratic region and each further C costs a few steps. Θ(log C) is smooth,
so a polynomial through the last optima predicts the next one, kept when it lowers f; and a
new C changes only the penalty, so the previous run's last evaluation serves the next start
without a pass over the data. The C with the best total held-out score is then refitted on
all the data (scikit-learn's ``LogisticRegressionCV`` rule and attributes).
"""

from __future__ import annotations

import numbers
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import numpy as np

from qed._validation import check_random_state, check_sample_weight, check_scalar
from qed.certificate import Certificate
from qed.classify import _logistic_solvers as S
from qed.classify._logistic_solvers import blas_single_thread
from qed.classify._newton import newton
from qed.classify.logistic import LogisticRegression

__all__ = ["LogisticRegressionCV", "logistic_path"]


def logistic_path(
    problem: S.LogisticProblem, Cs: np.ndarray, tol: float, max_iter: int
) -> tuple[list[np.ndarray], list[int]]:
    """Θ(C) for each C of ``Cs`` (in order), each Newton run warm-started from the previous.

    problem : the objective of ``_logistic_solvers`` (its ``alpha`` is replaced by 1/C).
    Returns the parameters (k', d₁) and the Newton iteration counts, one per C.
    """
    Theta = np.zeros(problem.shape)
    thetas, iters = [], []
    result = None
    for C in Cs:
        if result is None:  # from 0 a subsample start pays
            obj = replace(problem, alpha=1.0 / float(C))
            result = newton(obj, Theta, tol, max_iter)
        else:  # from the previous C's optimum, with its evaluation and preconditioner
            obj, start = obj.with_alpha(1.0 / float(C), Theta, result.last)
            Theta0 = Theta
            if len(thetas) >= 2 and np.abs(start[1]).max() > tol * obj.total:
                # the path is smooth in log C: extrapolate the last (up to) three optima, and
                # keep the guess if it lowers f (one pass). Where Θ moves fast it skips Newton
                # steps: 16 → 10 per fold on the benchmark at tol 1e-4 (k = 2)
                x = np.log(Cs[: len(thetas)][-3:])
                if len(np.unique(x)) == len(x):  # a grid may repeat a C: no polynomial then
                    guess = _extrapolate(x, thetas[-3:], np.log(C))
                    trial = obj(guess)
                    if trial[0] < start[0]:
                        Theta0, start = guess, trial
            result = newton(obj, Theta0, tol, max_iter, start=start, cache=result.cache)
        Theta = result.Theta
        thetas.append(Theta.copy())
        iters.append(result.n_iter)
    return thetas, iters


def _extrapolate(x, ys, x_new):
    """The polynomial through (xₖ, Θₖ) (two or three points), evaluated at x_new (Lagrange)."""
    out = np.zeros_like(ys[0])
    for a, ya in enumerate(ys):
        w = 1.0
        for b in range(len(ys)):
            if b != a:
                w *= (x_new - x[b]) / (x[a] - x[b])
        out += w * ya
    return out


def _scores(Theta: np.ndarray, X: Any, fit_intercept: bool) -> np.ndarray:
    d = X.shape[1]
    Z = np.asarray(X @ Theta[:, :d].T)
    return Z + Theta[:, d] if fit_intercept else Z


class LogisticRegressionCV(LogisticRegression):
    """LogisticRegression with C chosen by cross-validation over a grid, warm-started paths.

    Parameters
    ----------
    Cs : int or array of C > 0. An int n gives ``np.logspace(-4, 4, n)`` (scikit-learn's).
    cv : int (stratified folds), a splitter (e.g. ``StratifiedKFold``) or an iterable of
        (train, test) index pairs; scikit-learn's ``check_cv`` rules.
    scoring : None (accuracy, weighted by ``sample_weight``) or a scikit-learn scorer name
        or callable ``scorer(estimator, X, y)``.
    refit : refit on all the data at the best C (started from the folds' mean solution);
        else ``coef_`` is the mean of each fold's best solution and ``C_`` the mean best C.
    class_weight, fit_intercept, max_iter, tol : as ``LogisticRegression`` (Newton solver).
    random_state : unused by Newton; kept for scikit-learn's signature.
    n_jobs : folds solved at once on threads (None: 1, −1: every core; scikit-learn's
        rule). The compiled passes release the GIL; BLAS is held to one thread. The result
        does not depend on it: each fold's path is solved the same way whatever runs beside.

    Attributes
    ----------
    classes_, Cs_ (n_Cs,), C_ ((1,) for two classes, (k,) for k), scores_ (dict label →
    (n_folds, n_Cs) held-out scores, scikit-learn's layout), coefs_paths_ (dict label →
    (n_folds, n_Cs, d₁) for two classes, (n_folds, n_Cs, k, d₁)… per class row for k),
    coef_, intercept_, n_iter_ (1, n_folds, n_Cs), n_features_in_.
    """

    def __init__(
        self,
        Cs: Any = 10,
        *,
        cv: Any = 5,
        scoring: Any = None,
        refit: bool = True,
        class_weight: Any = None,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-8,
        random_state: Any = None,
        n_jobs: int | None = None,
    ):
        self.Cs = Cs
        self.cv = cv
        self.scoring = scoring
        self.refit = refit
        self.class_weight = class_weight
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.random_state = random_state
        self.n_jobs = n_jobs

    # LogisticRegression's machinery reads these; the CV always solves by Newton from 0
    solver = "newton"
    warm_start = False
    optimizer = None
    batch_size = None

    @property
    def C(self) -> float:  # the chosen C once fitted (used by the certificate's title)
        return float(self.C_[0]) if hasattr(self, "C_") else 1.0

    def _grid(self) -> np.ndarray:
        if isinstance(self.Cs, numbers.Integral) and not isinstance(self.Cs, bool):
            check_scalar(self.Cs, "Cs", target_type=numbers.Integral, min_val=1)
            return np.logspace(-4, 4, int(self.Cs))
        Cs = np.asarray(self.Cs, dtype=np.float64).ravel()
        if Cs.size == 0 or not np.all(np.isfinite(Cs)) or np.any(Cs <= 0):
            raise ValueError(
                f"Cs must be a positive int or a non-empty list of finite C > 0, got {self.Cs!r}."
            )
        return Cs

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegressionCV:
        """Cross-validate every C of the grid (warm-started paths), then refit the best."""
        from sklearn.model_selection import check_cv

        check_scalar(self.tol, "tol", min_val=0.0)
        check_scalar(self.max_iter, "max_iter", target_type=numbers.Integral, min_val=1)
        if not isinstance(self.refit, (bool, np.bool_)):
            raise TypeError(f"refit must be a bool, got {self.refit!r}.")
        LogisticRegression._validate_params(self)
        self._jobs()  # a bad n_jobs is named before any work
        self._record_sample_weight(sample_weight)
        Cs = self._grid()
        problem, dtype = self._problem(X, y, sample_weight, C=1.0)
        n = problem.n_rows
        raw_sw = None if sample_weight is None else check_sample_weight(sample_weight, problem.X)
        labels = self.classes_[problem.y]
        if isinstance(self.cv, numbers.Integral) and not isinstance(self.cv, bool):
            check_scalar(self.cv, "cv", target_type=numbers.Integral, min_val=2)
            if self.cv > n:
                raise ValueError(
                    f"cv={self.cv} folds is more than the {n} samples; use cv ≤ n_samples."
                )
        folds = list(check_cv(self.cv, labels, classifier=True).split(problem.X, labels))
        with blas_single_thread(float(problem.X.size * problem.shape[0])):
            self._cross_validate(problem, raw_sw, labels, folds, Cs, dtype)
        return self

    def _cross_validate(self, problem, raw_sw, labels, folds, Cs, dtype) -> None:
        from sklearn.metrics import get_scorer

        scorer = None if self.scoring is None else get_scorer(self.scoring)
        k = len(self.classes_)
        scores = np.empty((len(folds), len(Cs)))
        paths = np.empty((len(folds), len(Cs), *problem.shape))
        iters = np.zeros((len(folds), len(Cs)), dtype=np.int32)
        check_random_state(self.random_state)

        def solve(f):
            train, test = folds[f]
            sub = S.LogisticProblem(
                problem.X[train],
                problem.y[train],
                problem.sw[train],
                1.0,
                problem.fit_intercept,
                k,
            )
            thetas, its = logistic_path(sub, Cs, self.tol, self.max_iter)
            paths[f], iters[f] = thetas, its
            X_test, sw_test = problem.X[test], None if raw_sw is None else raw_sw[test]
            for c, Theta in enumerate(thetas):
                scores[f, c] = self._score(Theta, X_test, labels[test], sw_test, scorer, dtype)

        jobs = min(self._jobs(), len(folds))
        if jobs > 1:
            with ThreadPoolExecutor(jobs) as pool:
                list(pool.map(solve, range(len(folds))))  # re-raises a fold's error
        else:
            for f in range(len(folds)):
                solve(f)
        self.Cs_ = Cs
        keys = self.classes_[1:] if k == 2 else self.classes_
        self.scores_ = {key: scores.copy() for key in keys}
        if k == 2:
            self.coefs_paths_ = {keys[0]: paths[:, :, 0, :].copy()}
        else:
            self.coefs_paths_ = {key: paths[:, :, m, :].copy() for m, key in enumerate(keys)}
        self.n_iter_ = iters[None]
        if self.refit:
            best = int(np.argmax(scores.sum(axis=0)))
            C = float(Cs[best])
            # the folds' mean optimum is already within their sampling spread of the answer
            result = newton(
                replace(problem, alpha=1.0 / C),
                paths[:, best].mean(axis=0),
                self.tol,
                self.max_iter,
                subsample=False,
            )
            Theta = result.Theta
        else:
            best_each = np.argmax(scores, axis=1)
            C = float(np.mean(Cs[best_each]))
            Theta = np.mean([paths[f, b] for f, b in enumerate(best_each)], axis=0)
        self.C_ = np.full(1 if k == 2 else k, C)
        d = problem.X.shape[1]
        self.coef_ = np.ascontiguousarray(Theta[:, :d], dtype=dtype)
        self.intercept_ = (
            Theta[:, d].astype(dtype) if problem.fit_intercept else np.zeros(len(Theta), dtype)
        )

    def _jobs(self) -> int:
        """The number of folds solved at once (scikit-learn's rule for n_jobs)."""
        jobs = self.n_jobs
        if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, numbers.Integral)):
            raise TypeError(
                f"n_jobs must be None or an int (−1: every core), got {jobs!r} of type "
                f"{type(jobs).__name__}."
            )
        if jobs == 0:
            raise ValueError("n_jobs=0 runs nothing; use None or 1 (serial), or −1 (every core).")
        from joblib import effective_n_jobs

        return int(effective_n_jobs(jobs))

    def _score(self, Theta, X_test, y_test, sw_test, scorer, dtype) -> float:
        if scorer is None:  # accuracy, as LogisticRegression.score
            Z = _scores(Theta, X_test, self.fit_intercept)
            idx = (Z[:, 0] > 0).astype(np.intp) if Z.shape[1] == 1 else Z.argmax(axis=1)
            hit = (self.classes_[idx] == y_test).astype(np.float64)
            return float(np.average(hit, weights=sw_test))
        est = LogisticRegression(fit_intercept=self.fit_intercept)
        d = X_test.shape[1]
        est.classes_, est.n_features_in_ = self.classes_, d
        est.coef_ = Theta[:, :d].astype(dtype)
        est.intercept_ = (
            Theta[:, d].astype(dtype) if self.fit_intercept else np.zeros(len(Theta), dtype)
        )
        kwargs = {} if sw_test is None else {"sample_weight": sw_test}
        return float(scorer(est, X_test, y_test, **kwargs))

    def certificate(self, X: Any, y: Any, sample_weight: Any = None) -> Certificate:
        """The refitted model's optimality certificate at C = ``C_`` (see LogisticRegression)."""
        self._check_fitted("coef_")
        return LogisticRegression.certificate(self, X, y, sample_weight)
