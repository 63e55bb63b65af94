"""Error bounds of the SVMs from their duality gaps (weak duality and strong convexity in w).

For one binary problem with primal P(w, b) = ½‖w‖² + ΣCᵢℓ(yᵢ(⟨w, φ(xᵢ)⟩ + b)) and a dual-
feasible α (weak duality: D(α) ≤ P* = min P):

    P(w, b) − P* ≤ P(w, b) − D(α)                                        (objective_gap)
    ½‖w − w*‖² ≤ P(w, b) − P*,  so ‖w − w*‖ ≤ √(2·(P − D))              (distance)

the second because P is ½‖w‖² plus a convex function of (w, b): 1-strongly convex in w, with
0 in its subdifferential at every minimiser, and w* unique (b* need not be). The squared
hinge and liblinear's penalised bias change neither argument. |⟨w − w*, φ(x)⟩| ≤
‖φ(x)‖·‖w − w*‖ then bounds the change of the decision function's w part (``prediction``).

The hard margin (C = ∞) minimises ½‖w‖² subject to yᵢfᵢ ≥ 1, which a computed (w, b) may miss
by a measured δ < 1; (w, b)/(1 − δ) is feasible, so with P_f = ½‖w‖²/(1 − δ)²:

    P* − D(α) ≤ P_f − D(α) = G,   |½‖w‖² − P*| ≤ P_f − min(D(α), ½‖w‖²),
    ‖w − w*‖ ≤ ‖w‖·δ/(1 − δ) + √(2G)

(strong convexity of ½‖w‖² on the convex feasible set, at the feasible point w/(1 − δ)).

The SVC's α is dual feasible only if Σαᵢyᵢ = 0, which the solver meets up to rounding. With
ε = Σαᵢyᵢ > 0, scaling the positive αᵢ by S₋/S₊ (S± = Σ_{yᵢ=±1}αᵢ) balances it, keeps
0 ≤ αᵢ ≤ Cᵢ, lowers Σαᵢ by ε and moves w = Σαᵢyᵢφ(xᵢ) by at most ε·max√K(xᵢ, xᵢ); hence
D(α′) ≥ D(α) − ε(1 + √k·‖w‖) − ε²k/2 (``balance_correction``; ε < 0 is symmetric).
"""

from __future__ import annotations

import numpy as np

from qed.bounds import rounding

__all__ = [
    "kernel_error",
    "balance_correction",
    "problem_bounds",
    "combine_bounds",
    "linear_problem_bounds",
]

_EPS = float(np.finfo(np.float64).eps)
_INF = {"objective_gap": np.inf, "distance": np.inf}


def kernel_error(kernel, gamma: float, coef0: float, degree: float, r2: float, d: int) -> float:
    """A bound on |K̂(x, z) − K(x, z)| for one computed entry (``kernel_matrix``'s formulas),
    for all rows with ‖x‖² ≤ r2 in d features. A precomputed or callable kernel's values are
    the problem itself: 0. Returns inf for a kernel that is not positive semidefinite
    (sigmoid; poly with coef0 < 0), which has no feature space and no duality to bound with.
    """
    if callable(kernel) or kernel == "precomputed":
        return 0.0
    g_dot = rounding(d + 1, r2)  # |Σxⱼzⱼ| ≤ ‖x‖‖z‖ ≤ r2 (Cauchy–Schwarz)
    if kernel == "linear":
        return g_dot
    if kernel == "rbf":
        # ‖x‖² + ‖z‖² − 2xᵀz: each part within γ_{d+3} of its size ≤ 4·r2; exp is 1-Lipschitz
        # on [0, ∞) after the clamp at 0, and rounds within a few ulps
        return gamma * rounding(d + 4, 4.0 * r2) * (1 + 2 * _EPS) + 4 * _EPS
    if kernel == "poly" and coef0 >= 0:
        u = gamma * r2 + coef0
        du = gamma * g_dot + rounding(3, u)
        hi = u + du
        p = float(degree)
        return p * hi ** max(p - 1, 0.0) * du + 4 * _EPS * hi**p
    return np.inf


def balance_correction(eps_balance: float, w_norm: float, k_max: float) -> float:
    """D(α) − D(α′) for the balanced α′ above: ε(1 + √k·‖w‖) + ε²k/2 (ε = |Σαᵢyᵢ| bound)."""
    root = np.sqrt(max(k_max, 0.0))
    return eps_balance * (1.0 + root * w_norm) + 0.5 * eps_balance**2 * k_max


def problem_bounds(
    p_hi: float,
    d_lo: float,
    *,
    hard: bool = False,
    half_w2_lo: float = 0.0,
    w_norm_hi: float = 0.0,
    violation: float = 0.0,
) -> dict[str, float]:
    """``objective_gap`` and ``distance`` of one binary problem.

    p_hi : an upper bound on the exact P(w, b) (soft margin) or on ½‖w‖² (hard margin);
    d_lo : a lower bound on the exact D(α′) of a dual-feasible α′; for the hard margin also
    half_w2_lo ≤ ½‖w‖², w_norm_hi ≥ ‖w‖ and violation ≥ max(0, 1 − yᵢfᵢ) (δ above).
    """
    if not (np.isfinite(p_hi) and np.isfinite(d_lo)):
        return dict(_INF)
    if not hard:
        gap = max(p_hi - d_lo, 0.0)
        return {"objective_gap": gap, "distance": float(np.sqrt(2.0 * gap))}
    if not violation < 1.0:
        return dict(_INF)
    p_feasible = p_hi / (1.0 - violation) ** 2
    gap = max(p_feasible - d_lo, 0.0)
    objective = max(p_feasible - min(d_lo, half_w2_lo), 0.0)
    distance = w_norm_hi * violation / (1.0 - violation) + float(np.sqrt(2.0 * gap))
    return {"objective_gap": objective, "distance": distance}


def combine_bounds(per_problem: list[dict[str, float]], feature_norm: float) -> dict[str, float]:
    """Several binary problems as one: gaps add (the objective is their sum), distances add
    in squares (w stacks the problems' w), and ``prediction`` = max‖φ(x)‖ · max distance is
    the largest change of any problem's decision function (its w part)."""
    gaps = [b["objective_gap"] for b in per_problem]
    dists = np.array([b["distance"] for b in per_problem])
    with np.errstate(over="ignore", invalid="ignore"):
        distance = float(np.sqrt(np.sum(dists**2))) if np.all(np.isfinite(dists)) else np.inf
    d_max = float(np.max(dists, initial=0.0))
    return {
        "objective_gap": float(np.sum(gaps)),
        "distance": distance,
        "prediction": feature_norm * d_max if np.isfinite(d_max) else np.inf,
    }


def linear_problem_bounds(primal, dual, w, w_dual, alpha, m, C, Dii, r, *, hinge, feasible):
    """``objective_gap`` and ``distance`` of one binary LinearSVC problem.

    primal = P̂(w̃), dual = D̂(α) as computed; w, w_dual : (d + 1,) the model's w̃ and the
    computed Σαᵢyᵢx̃ᵢ; m : (n,) yᵢw̃ᵀx̃ᵢ computed; C, Dii : (n,); r : (n,) ‖x̃ᵢ‖. Each
    computed sum is widened by its rounding (``qed.bounds.rounding``): the margins by
    γ_{d+2}·‖x̃ᵢ‖·‖w̃‖, Σαᵢyᵢx̃ᵢ by γ_{n+2}·Σαᵢ‖x̃ᵢ‖ in norm.
    """
    if not feasible:
        return {"objective_gap": np.inf, "distance": np.inf}
    n, d1 = len(m), len(w)
    hard = bool(np.isinf(C).any())
    w2 = float(w @ w)
    w_norm = float(np.sqrt(w2)) * (1.0 + rounding(d1 + 2, 1.0))
    e_xi = rounding(d1 + 1, 1.0) * r * w_norm + rounding(2, 1.0) * (1.0 + np.abs(m))
    xi = np.maximum(0.0, 1.0 - m)
    live = 1.0 - m > -e_xi
    e_w2 = rounding(d1 + 2, w2)
    s_alpha = float(alpha.sum())
    e_wd = 2.0 * rounding(n + 2, float(alpha @ r))
    wd2 = float(w_dual @ w_dual)
    e_wd2 = (2.0 * np.sqrt(wd2) + e_wd) * e_wd + rounding(d1 + 2, wd2)
    quad = float((Dii * alpha) @ alpha) if not hinge else 0.0
    d_err = (
        rounding(n + 2, s_alpha)
        + 0.5 * e_wd2
        + rounding(n + 4, quad)
        + rounding(4, abs(dual) + s_alpha + wd2 + quad)
    )
    if hard:
        half = 0.5 * w2  # the hard margin's P̂ = ½‖w̃‖² (C = ∞ carries no loss)
        e_half = 0.5 * e_w2 + rounding(2, half)
        violation = max(float(np.max(1.0 - m + e_xi, initial=0.0)), 0.0)
        return problem_bounds(
            half + e_half, dual - d_err, hard=True, half_w2_lo=half - e_half,
            w_norm_hi=w_norm, violation=violation,
        )  # fmt: skip
    Cl, xl, el = C[live], xi[live], e_xi[live]
    if hinge:
        loss_err = float(Cl @ el) + rounding(n + 2, float(Cl @ xl))
    else:
        loss_err = float(Cl @ ((2.0 * xl + el) * el)) + rounding(n + 3, float(Cl @ xl**2))
    p_err = loss_err + 0.5 * e_w2 + rounding(3, abs(primal))
    return problem_bounds(primal + p_err, dual - d_err)
