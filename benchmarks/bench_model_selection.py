"""qed.linear.RidgeCV against scikit-learn's RidgeCV: choosing α by exact leave-one-out.

    python benchmarks/bench_model_selection.py [--quick] [--threads N]

Same process, same data, same BLAS threads. Target (issue 13): 10,000 × 300, 30 alphas,
leave-one-out: qed ≥ 3× scikit-learn's RidgeCV. Both compute the same closed form; the row
also prints the largest relative difference of the leave-one-out errors (cv_results_), the
chosen α and the best score, since exactness is part of the contract.
"""

from __future__ import annotations

import argparse

import numpy as np
from sklearn.linear_model import RidgeCV as SkRidgeCV
from threadpoolctl import threadpool_limits

from _timing import best_time
from qed.linear import RidgeCV


def _race(ours, peer, repeats: int) -> tuple[float, float]:
    """Best times of two fits, alternated so that both see the same background load."""
    ours()
    peer()
    t_ours, t_peer = [], []
    for _ in range(repeats):
        t_ours.append(best_time(ours, 1))
        t_peer.append(best_time(peer, 1))
    return min(t_ours), min(t_peer)


def bench_ridge_cv(n: int, d: int, k: int, repeats: int) -> dict:
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, d)) + 1.0
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    alphas = np.logspace(-3, 4, k)
    ours = RidgeCV(alphas, store_cv_results=True)
    peer = SkRidgeCV(alphas, store_cv_results=True)
    t_ours, t_peer = _race(lambda: ours.fit(X, y), lambda: peer.fit(X, y), repeats)
    diff = np.max(np.abs(ours.cv_results_ - peer.cv_results_) / np.abs(peer.cv_results_).max(0))
    return {
        "name": f"RidgeCV LOO {n:,}×{d}, {k} alphas",
        "qed": t_ours,
        "peer": t_peer,
        "ratio": t_peer / t_ours,
        "same_alpha": ours.alpha_ == peer.alpha_,
        "max_rel_diff": float(diff),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problem, fewer repeats")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both")
    args = parser.parse_args()
    shapes = (
        [(2_000, 100, 30), (500, 2_000, 30)]
        if args.quick
        else [
            (10_000, 300, 30),
            (2_000, 5_000, 30),
        ]
    )
    repeats = 2 if args.quick else 3
    with threadpool_limits(args.threads):
        for n, d, k in shapes:
            row = bench_ridge_cv(n, d, k, repeats)
            print(
                f"{row['name']:<36} qed {row['qed']:8.3f} s   scikit-learn {row['peer']:8.3f} s"
                f"   {row['ratio']:5.2f}×   same α: {row['same_alpha']}   "
                f"max rel. diff of LOO errors {row['max_rel_diff']:.1e}"
            )


if __name__ == "__main__":
    main()
