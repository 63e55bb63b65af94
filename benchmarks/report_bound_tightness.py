"""How tight are the certificates' error bounds? bound / true error over many random problems.

For each model: random problems, fits stopped at loose tolerances (or, for the direct
solvers, the exact fit moved by 10^-3 … 10^-6, which is what a solver stopped there leaves),
and a reference θ* refitted to rounding precision whose own certified distance bound is
subtracted (true error ≥ ‖θ − θ_ref‖ − bound_ref). Prints, per model and bound, the number of
cases, how many had true error > bound (must be 0), and the median and worst of
bound / true error. Not a speed benchmark: a report for the closing note.

    python benchmarks/report_bound_tightness.py [--quick]
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from qed.classify import LogisticRegression
from qed.linear import KernelRidge, LinearRegression, Ridge


def _shift(model, rng, step):
    if hasattr(model, "dual_coef_"):
        model.dual_coef_ = model.dual_coef_ + step * rng.normal(size=model.dual_coef_.shape)
        return model
    model.coef_ = model.coef_ + step * rng.normal(size=np.shape(model.coef_))
    model.intercept_ = model.intercept_ + step * rng.normal()
    return model


def _distance(model, ref, K=None):
    if K is not None:
        d = model.dual_coef_ - ref.dual_coef_
        return float(np.sqrt(d @ K @ d))
    D = np.column_stack([np.atleast_2d(model.coef_), np.atleast_1d(model.intercept_)])
    D = D - np.column_stack([np.atleast_2d(ref.coef_), np.atleast_1d(ref.intercept_)])
    if D.shape[0] > 1:
        D[:, -1] -= D[:, -1].mean()  # softmax: the identifiable part
    return float(np.linalg.norm(D))


def _objective(model, X, y, K=None):
    """The objective the bounds name, in float64."""
    if K is not None:
        a = model.dual_coef_
        r = y - K @ a
        return float(r @ r + model.alpha * a @ K @ a)
    if hasattr(model, "predict_log_proba"):
        logp = model.predict_log_proba(X)[np.arange(len(y)), np.searchsorted(model.classes_, y)]
        return float(-logp.sum() + 0.5 * np.sum(model.coef_**2) / model.C)
    r = y - model.predict(X)
    return float(r @ r + getattr(model, "alpha", 0.0) * np.sum(model.coef_**2))


def _cases(kind, seed):
    rng = np.random.default_rng(seed)
    n, d = 80, 4
    X = rng.normal(size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.normal(size=d)
    if kind in ("LinearRegression", "Ridge", "KernelRidge"):
        y = X @ rng.normal(size=d) + 0.5 * rng.normal(size=n)
        make = {
            "LinearRegression": LinearRegression,
            "Ridge": lambda: Ridge(alpha=1.0),
            "KernelRidge": lambda: KernelRidge(alpha=1.0, kernel="rbf", gamma=0.2),
        }[kind]
        ref = make().fit(X, y)
        for step in (1e-3, 1e-4, 1e-5, 1e-6):
            yield X, y, ref, _shift(make().fit(X, y), rng, step)
        return
    k = 2 if kind == "LogisticRegression (binary)" else 3
    X = (X - X.mean(0)) / X.std(0)
    y = np.argmax(X @ rng.normal(size=(d, k)) + rng.gumbel(size=(n, k)), axis=1)
    ref = LogisticRegression(tol=1e-14, max_iter=1000).fit(X, y)
    for solver in ("gd", "lbfgs"):
        for tol in (1e-3, 1e-4, 1e-5, 1e-6):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                model = LogisticRegression(solver=solver, tol=tol, max_iter=100_000).fit(X, y)
            yield X, y, ref, model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5 seeds instead of 40")
    seeds = range(5 if parser.parse_args().quick else 40)
    kinds = [
        "LinearRegression",
        "Ridge",
        "KernelRidge",
        "LogisticRegression (binary)",
        "LogisticRegression (softmax)",
    ]
    print(f"{'model':<30} {'bound':<14} {'cases':>5} {'violations':>10} {'median':>8} {'worst':>8}")
    for kind in kinds:
        ratios: dict[str, list[float]] = {"objective_gap": [], "distance": [], "prediction": []}
        violations = dict.fromkeys(ratios, 0)
        for seed in seeds:
            for X, y, ref, model in _cases(kind, seed):
                K = ref._get_kernel(X) if kind == "KernelRidge" else None
                ref_cert = ref.certificate(X, y).bounds
                ref_bound = ref_cert["distance"]
                bounds = model.certificate(X, y).bounds
                dist = _distance(model, ref, K)
                if dist <= 1e3 * ref_bound or dist < 1e-10:
                    continue  # converged to rounding: nothing loose to measure
                true = {"distance": dist - ref_bound}
                if K is not None:
                    pred = np.abs(K @ (model.dual_coef_ - ref.dual_coef_)).max()
                elif kind.endswith("softmax)"):
                    pred = np.abs(model.predict_log_proba(X) - ref.predict_log_proba(X)).max()
                elif kind.endswith("binary)"):
                    pred = np.abs(model.decision_function(X) - ref.decision_function(X)).max()
                else:
                    pred = np.abs(model.predict(X) - ref.predict(X)).max()
                true["prediction"] = pred
                true["objective_gap"] = (
                    _objective(model, X, y, K)
                    - _objective(ref, X, y, K)
                    - ref_cert["objective_gap"]
                )
                for key in ratios:
                    if bounds[key] < true[key]:
                        violations[key] += 1
                    ratios[key].append(bounds[key] / true[key])
        for key, values in ratios.items():
            v = np.array(values)
            print(
                f"{kind:<30} {key:<14} {len(v):>5} {violations[key]:>10} "
                f"{np.median(v):>8.2f} {v.max():>8.1f}"
            )


if __name__ == "__main__":
    main()
