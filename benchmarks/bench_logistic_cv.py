"""LogisticRegressionCV: qed's warm-started Newton paths against scikit-learn's.

    python benchmarks/bench_logistic_cv.py [--quick] [--threads N]

Issue 13's target: n = 50,000, d = 50, 10 Cs, 5 folds (the same StratifiedKFold for both):
qed ≥ 3× scikit-learn's ``LogisticRegressionCV``. scikit-learn is timed with its default
solver (lbfgs, tol 1e-4) and with newton-cholesky at the same tol; qed runs at its own
default tol 1e-8 (a far tighter answer) and at scikit-learn's tol 1e-4. The chosen C and the largest held-out score
difference are printed to show both solved the same problem. Two and five classes.

``--threads N`` limits BLAS to N threads and runs N folds at once in both (``n_jobs=N``:
qed's folds on threads, scikit-learn's through joblib).
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
from sklearn.linear_model import LogisticRegressionCV as SkLogisticCV
from sklearn.model_selection import StratifiedKFold
from threadpoolctl import threadpool_limits

from _timing import best_time_and_result
from qed.classify import LogisticRegressionCV
from qed.datasets import make_classification


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    n, d = (5_000, 20) if args.quick else (50_000, 50)
    jobs = args.threads
    repeats = 1 if args.quick else 2
    print(
        f"LogisticRegressionCV {n:,}×{d}, 10 Cs, 5 folds, {jobs} thread(s) and job(s); "
        f"load average {os.getloadavg()}"
    )
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scikit-learn's lbfgs stops at max_iter at large C
        for k in (2, 5):
            X, y = make_classification(n, d, n_classes=k, class_sep=0.5, random_state=k)
            cv = StratifiedKFold(5, shuffle=True, random_state=0)
            t_ours, ours = best_time_and_result(
                lambda X=X, y=y, cv=cv: LogisticRegressionCV(Cs=10, cv=cv, n_jobs=jobs).fit(X, y),
                repeats,
            )
            print(f"  k={k}: qed (Newton, tol 1e-8)       {t_ours:8.3f} s  C_={ours.C_[0]:.4g}")
            t_eq, eq = best_time_and_result(
                lambda X=X, y=y, cv=cv: LogisticRegressionCV(
                    Cs=10, cv=cv, tol=1e-4, n_jobs=jobs
                ).fit(X, y),
                repeats,
            )
            print(f"        qed (Newton, tol 1e-4)       {t_eq:8.3f} s  C_={eq.C_[0]:.4g}")
            key = ours.classes_[-1]
            for solver in ("lbfgs", "newton-cholesky"):
                peer = SkLogisticCV(Cs=10, cv=cv, solver=solver, n_jobs=jobs)
                t, ref = best_time_and_result(lambda p=peer, X=X, y=y: p.fit(X, y), repeats)
                diff = float(np.abs(ours.scores_[key] - ref.scores_[key]).max())
                print(
                    f"        sklearn {solver:<16} {t:8.3f} s  C_={ref.C_[0]:.4g}  "
                    f"ratio {t / t_ours:5.2f}× (at equal tol 1e-4: {t / t_eq:5.2f}×)  "
                    f"max |Δscore| {diff:.2e}"
                )


if __name__ == "__main__":
    main()
