"""Chapter 13 — β-smoothness, the descent lemma and the O(1/√T) rate of SGD."""

from __future__ import annotations

import numpy as np

from qed.tour._common import standardize

TITLE = "Smoothness, the descent lemma and convergence rates"
TITLE_KO = "β-smooth, descent lemma와 수렴 속도"
SECTION = "Lemma 3.1 (β-smooth); GD decrease (η − βη²/2)‖∇f‖²; SGD min E‖∇f‖² = O(1/√T)"
SECTION_KO = (
    "Lemma 3.1 (β-smooth); GD 감소량 (η − βη²/2)‖∇f‖² (small step); SGD min E‖∇f‖² = O(1/√T)"
)
FORMULA = (
    r"\|\nabla f(x) - \nabla f(y)\| \le \beta\|x - y\| \;\Rightarrow\;"
    r" f(y) \le f(x) + \underbrace{\langle \nabla f(x), y - x\rangle}_{\text{linear}}"
    r" + \underbrace{\frac{\beta}{2}\|y - x\|^2}_{\text{quadratic}}",
    r"x_{t+1} = x_t - \eta\nabla f(x_t): \quad f(x_{t+1}) \le f(x_t) - \left(\eta - \frac{\beta}{2}\eta^2\right)\|\nabla f(x_t)\|^2",
    r"\min_t \mathbb{E}\left[\|\nabla f(x_t)\|^2\right] \le \frac{1}{\eta T}\big(f_0 - f^*\big) + \frac{\beta}{2}\eta G"
    r" = \mathcal{O}\left(\frac{1}{\sqrt{T}}\right) \quad \left(\eta = \frac{1}{\sqrt{T}}\right)",
)


def run(ctx) -> None:
    from qed.datasets import load_breast_cancer, load_diabetes
    from qed.theory import (
        descent_lemma_check,
        gd_convergence,
        sgd_convergence,
        smoothness_constant,
    )
    from qed.theory.plotting import plot_convergence, plot_descent_lemma

    X, y = load_diabetes(return_X_y=True)
    n = len(y)
    A = np.column_stack([np.ones(n), X])  # with the intercept column
    beta = smoothness_constant(A)
    ctx.compare(
        "diabetes, squared loss: β = 2λ_max(XᵀX)/n",
        beta,
        np.linalg.eigvalsh(2 * A.T @ A / n)[-1],
        "numpy eigvalsh of the Hessian",
        rtol=1e-10,
    )
    ctx.compare(
        "… by power iteration", smoothness_constant(A, method="power"), beta, "dense SVD", rtol=1e-7
    )
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = standardize(Xb)
    beta_log = smoothness_constant(Xb, loss="logistic")

    def torch_hessian_at_zero():
        import torch

        Xt, yt = torch.tensor(Xb), torch.tensor(yb, dtype=torch.float64)
        H = torch.autograd.functional.hessian(
            lambda w: torch.nn.functional.binary_cross_entropy_with_logits(Xt @ w, yt),
            torch.zeros(Xb.shape[1], dtype=torch.float64),
        )
        return np.linalg.eigvalsh(H.numpy())[-1]

    ctx.compare(
        "breast cancer, logistic loss: β = λ_max(XᵀX)/(4n)",
        beta_log,
        torch_hessian_at_zero,
        "λ_max of torch's Hessian at w = 0 (σ = ½)",
        rtol=1e-10,
    )

    runs = {}
    for factor in (1.0, 1.9, 2.2):
        r = descent_lemma_check(A, y, lr=factor / beta, n_steps=150)
        runs[f"η = {factor:g}/β"] = r
        verdict = (
            "diverges"
            if r["diverged"]
            else "decreases monotonically"
            if r["decreasing"]
            else "does not decrease"
        )
        relative = r["slack"] / np.abs(r["f"][:-1])
        ctx.note(
            f"η = {factor:g}/β: f {verdict} over {r['steps']} steps; smallest slack of "
            f"the lemma relative to f(x_t): {relative.min():.1e}; the inequality "
            f"{'holds at every step' if r['holds'] else 'FAILS'} (to rounding)."
        )
    ctx.compare(
        "descent lemma holds at every step (η = 1, 1.9, 2.2 × 1/β)",
        [float(r["holds"]) for r in runs.values()],
        [1.0, 1.0, 1.0],
        "the notes",
    )
    ctx.figure(
        plot_descent_lemma(runs),
        "The descent lemma along gradient descent",
        "Diabetes, squared loss. Left: f(x_t) (solid) under the lemma's bound (dotted). "
        "Right: the slack, ≥ 0 at every step; beyond η = 2/β the bound no longer "
        "forces a decrease and GD diverges.",
    )

    sgd = sgd_convergence(random_state=0)
    gd = gd_convergence(random_state=0)
    ctx.compare(
        "SGD log-log slope of min_t E‖∇f(x_t)‖² against T",
        sgd["slope"],
        -0.5,
        "the notes: O(1/√T)",
        rtol=0.0,
        atol=0.1,
    )
    ctx.compare(
        "… of the mean over t", sgd["slope_avg"], -0.5, "the notes: O(1/√T)", rtol=0.0, atol=0.1
    )
    ctx.note(
        "SGD averaged over 200 seeds, η = 0.5/√T; the (1/T)Σ E‖∇f‖² stays under the "
        "notes' bound for every T, and GD with η = 1/β beats its 2β(f₀ − f*)/T bound."
    )
    ctx.figure(
        plot_convergence(sgd, gd),
        "GD vs SGD convergence rate",
        "min_t E‖∇f(x_t)‖² against the horizon T on log-log axes: SGD with η ∝ 1/√T "
        "follows the T^(−1/2) line of the notes; full-batch GD is faster.",
    )
