"""The optimizer race: the notes' optimizers on an ill-conditioned quadratic and on Rosenbrock.

Two classic test problems in two dimensions, so that the paths can be drawn on the contours:

- ``quadratic``: f(x) = ½ xᵀHx with H = Rᵀ diag(1, κ) R rotated by 30°, so β = κ, μ = 1:
  plain GD with η = 1/β crawls along the flat direction, at rate (1 − 1/κ) per step;
- ``rosenbrock``: f(x, y) = (1 − x)² + 100(y − x²)², minimum 0 at (1, 1) at the end of a
  curved, narrow valley.

Each optimizer is a pure rule of :mod:`qed.optim.rules` (GD, momentum, Nesterov, AdaGrad,
RMSProp, Adam) with step sizes set from the problem's smoothness constant, and Adam and
RMSProp once more under a cosine schedule (:mod:`qed.optim.schedules`), which damps the
oscillation a constant-step adaptive method keeps around the minimum.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from qed._validation import check_scalar

__all__ = ["race_problem", "default_racers", "optimizer_race"]

PROBLEMS = ("quadratic", "rosenbrock")


def race_problem(name: str, condition: float = 50.0) -> dict[str, Any]:
    """A test problem: ``f``, ``grad``, ``x0``, ``x_star``, ``f_star``, ``beta`` (a step scale)."""
    if name == "quadratic":
        c, s = np.cos(np.pi / 6), np.sin(np.pi / 6)
        R = np.array([[c, -s], [s, c]])
        H = R.T @ np.diag([1.0, float(condition)]) @ R

        return {
            "name": "quadratic",
            "title": f"ill-conditioned quadratic (κ = {condition:g})",
            "f": lambda x: 0.5 * float(x @ H @ x),
            "grad": lambda x: H @ x,
            "x0": np.array([-4.0, 2.5]),
            "x_star": np.zeros(2),
            "f_star": 0.0,
            "beta": float(condition),
            "bounds": (-5.0, 5.0, -3.5, 3.5),
        }
    if name == "rosenbrock":

        def f(x: np.ndarray) -> float:
            return float((1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2)

        def grad(x: np.ndarray) -> np.ndarray:
            return np.array(
                [
                    -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                    200 * (x[1] - x[0] ** 2),
                ]
            )

        return {
            "name": "rosenbrock",
            "title": "Rosenbrock (1 − x)² + 100(y − x²)²",
            "f": f,
            "grad": grad,
            "x0": np.array([-1.5, 2.0]),
            "x_star": np.ones(2),
            "f_star": 0.0,
            # λ_max of ∇²f at the start point sets a stable GD step
            "beta": float(
                np.linalg.eigvalsh(
                    np.array([[2 - 400 * (2.0 - 3 * 1.5**2), 400 * 1.5], [400 * 1.5, 200.0]])
                )[-1]
            ),
            "bounds": (-2.0, 2.0, -1.0, 3.0),
        }
    raise ValueError(f"problem {name!r} is not one of {PROBLEMS}.")


def default_racers(problem: dict[str, Any], n_steps: int) -> dict[str, Any]:
    """The six optimizers of the notes (and two scheduled ones), tuned by the problem's β."""
    from qed.optim import rules, schedules

    beta = problem["beta"]
    lr = 1.0 / beta
    adaptive = 0.1 if problem["name"] == "quadratic" else 0.02
    return {
        "GD": rules.gd(lr),
        "momentum": rules.momentum(lr, rho=0.9),
        "Nesterov": rules.nesterov(lr, rho=0.9),
        "AdaGrad": rules.adagrad(10 * adaptive),
        "RMSProp": rules.rmsprop(adaptive / 2, alpha=0.99),
        "Adam": rules.adam(adaptive, betas=(0.9, 0.999)),
        "Adam + cosine": rules.adam(schedules.cosine(adaptive, n_steps), betas=(0.9, 0.999)),
        "RMSProp + cosine": rules.rmsprop(schedules.cosine(adaptive / 2, n_steps), alpha=0.99),
    }


def optimizer_race(
    problems: Any = PROBLEMS,
    *,
    n_steps: int = 500,
    optimizers: dict[str, Any] | Callable[[dict, int], dict] | None = None,
    condition: float = 50.0,
    plot: bool = False,
) -> dict[str, Any]:
    """Run every optimizer on every problem for ``n_steps`` steps.

    Parameters
    ----------
    problems : sequence of {"quadratic", "rosenbrock"}
    optimizers : dict name -> ``qed.optim.rules.Rule``, or a function (problem, n_steps) ->
        such a dict; default ``default_racers``.
    condition : float
        κ of the quadratic.

    Returns
    -------
    dict problem name -> {``title``, ``x0``, ``x_star``, ``bounds``, ``paths`` (name -> array
    (n_steps + 1, 2) of iterates), ``gap`` (name -> f(x_t) − f*), ``final_gap`` (name ->
    float), ``winner``}; with ``plot=True`` also ``figure``.
    """
    from qed.optim import rules

    n_steps = check_scalar(n_steps, "n_steps", target_type=numbers.Integral, min_val=1)
    if isinstance(problems, str):
        problems = (problems,)
    out: dict[str, Any] = {}
    for name in problems:
        problem = race_problem(name, condition)
        if optimizers is None:
            racers = default_racers(problem, n_steps)
        elif callable(optimizers):
            racers = optimizers(problem, n_steps)
        else:
            racers = dict(optimizers)
        paths, gaps = {}, {}
        with np.errstate(over="ignore", invalid="ignore"):
            for label, rule in racers.items():
                path = rules.trajectory(rule, problem["grad"], problem["x0"], n_steps)
                paths[label] = path
                gaps[label] = np.array([problem["f"](x) for x in path]) - problem["f_star"]
        final = {k: float(v[-1]) for k, v in gaps.items()}
        finite = {k: v for k, v in final.items() if np.isfinite(v)}
        out[name] = {
            "title": problem["title"],
            "x0": problem["x0"],
            "x_star": problem["x_star"],
            "bounds": problem["bounds"],
            "f": problem["f"],
            "paths": paths,
            "gap": gaps,
            "final_gap": final,
            "winner": min(finite, key=finite.get) if finite else None,
        }
    if plot:
        from qed.theory.plotting import plot_race

        out["figure"] = plot_race(out)
    return out
