"""Sparse binary logistic regression: qed's Newton-CG against scikit-learn's sparse solvers.

    python benchmarks/bench_logistic_sparse.py [--quick] [--threads N]

Issue 13's target: n = 200,000, d = 50,000, 0.1% density (tf-idf-like non-negative rows of
unit norm), C = 1, tol 1e-6: qed ≥ 3× scikit-learn's fastest solver (lbfgs, saga,
newton-cg are each timed). Every fit's distance to qed's optimum (max |Δcoef| relative to
max |coef|) and its objective are printed, so a solver that stopped early is visible.
"""

from __future__ import annotations

import argparse
import os
import warnings

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression as SkLogistic
from threadpoolctl import threadpool_limits

from _timing import best_time_and_result
from qed.classify import LogisticRegression, logistic_objective


def make_tfidf_classes(n: int, d: int, density: float, seed: int = 0):
    """Non-negative sparse rows of unit norm and labels from a noisy linear rule."""
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, format="csr", random_state=rng, dtype=np.float64)
    X.data = rng.exponential(1.0, X.nnz)
    norms = np.sqrt(np.asarray(X.multiply(X).sum(axis=1)).ravel())
    X = (sp.diags(1.0 / np.where(norms > 0, norms, 1.0)) @ X).tocsr()
    z = X @ (3.0 * rng.standard_normal(d))
    y = (z + rng.logistic(size=n) > 0).astype(int)
    return X, y


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    n, d, density = (20_000, 5_000, 0.002) if args.quick else (200_000, 50_000, 0.001)
    X, y = make_tfidf_classes(n, d, density)
    tol = 1e-6
    print(f"sparse logistic {n:,}×{d:,}, density {density:g}, nnz {X.nnz:,}, C = 1, tol {tol:g}")
    print(f"  load average {os.getloadavg()}")
    with threadpool_limits(args.threads), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_ours, ours = best_time_and_result(lambda: LogisticRegression(tol=tol).fit(X, y), 2)
        ref = ours.coef_
        scale = float(np.abs(ref).max())
        f_ours = logistic_objective(ours, X, y)
        print(f"  qed newton      {t_ours:8.3f} s  objective {f_ours:.10g}")
        best = np.inf
        for solver in ("lbfgs", "newton-cg", "saga"):
            peer = SkLogistic(C=1.0, solver=solver, tol=tol, max_iter=10_000, random_state=0)
            t, fitted = best_time_and_result(lambda p=peer: p.fit(X, y), 1)
            best = min(best, t)
            diff = float(np.abs(fitted.coef_ - ref).max()) / scale
            f = logistic_objective(fitted, X, y)
            print(
                f"  sklearn {solver:<9} {t:8.3f} s  objective {f:.10g}  rel Δcoef {diff:.1e}  "
                f"ratio {t / t_ours:5.2f}×"
            )
        print(f"  qed vs sklearn's fastest: {best / t_ours:.2f}× (target ≥ 3×)")


if __name__ == "__main__":
    main()
