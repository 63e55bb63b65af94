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
    from qed.theory.plotting import plot_convergence

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
    for factor in (1.0, 1.9, 2.2):  # the notes' three regimes, as sentences
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
            f"{'holds at every step' if r['holds'] else 'FAILS'} (to rounding).",
            ko=f"η = {factor:g}/β: {r['steps']} 단계 동안 f "
            f"{'발산' if r['diverged'] else '단조 감소' if r['decreasing'] else '감소하지 않음'}; "
            f"f(x_t) 대비 lemma의 최소 여유 {relative.min():.1e}; 부등식은 "
            f"{'모든 단계에서 성립' if r['holds'] else '실패'} (반올림 오차 내).",
        )
    ctx.compare(
        "descent lemma holds at every step (η = 1, 1.9, 2.2 × 1/β)",
        [float(r["holds"]) for r in runs.values()],
        [1.0, 1.0, 1.0],
        "the notes",
    )
    _explore_step(ctx, A, y, beta)

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
        "notes' bound for every T, and GD with η = 1/β beats its 2β(f₀ − f*)/T bound.",
        ko="SGD를 200개 seed로 평균, η = 0.5/√T. (1/T)Σ E‖∇f‖²는 모든 T에서 노트의 상한 "
        "아래에 있고, η = 1/β 인 GD는 상한 2β(f₀ − f*)/T 보다 빠르다.",
    )
    ctx.figure(
        plot_convergence(sgd, gd),
        ctx.t("GD vs SGD convergence rate", "GD와 SGD의 수렴 속도"),
        ctx.t(
            "min_t E‖∇f(x_t)‖² against the horizon T on log-log axes: SGD with η ∝ 1/√T "
            "follows the T^(−1/2) line of the notes; full-batch GD is faster.",
            "log-log 축에서 horizon T에 대한 min_t E‖∇f(x_t)‖². η ∝ 1/√T 인 SGD는 노트의 "
            "T^(−1/2) 직선을 따르고, full batch GD는 더 빠르다.",
        ),
    )


def _explore_step(ctx, A: np.ndarray, y: np.ndarray, beta: float) -> None:
    """The step η from 1/β to 2.2/β: f(x_t) under the lemma's bound, each frame a GD run."""
    from qed.theory import descent_lemma_check, loss_and_gradient
    from qed.tour.interactive import Explorable, hline, line, vline

    f, _ = loss_and_gradient(A, y)
    f_star = f(np.linalg.lstsq(A, y, rcond=None)[0])
    fig = Explorable(
        "descent-lemma",
        ctx.t("The descent lemma: choose the step", "descent lemma: 스텝 크기 η 고르기"),
        ctx.t(
            "Gradient descent on the diabetes least squares (with intercept), η = c/β. Left: "
            "f(x_t) − f* (solid) under the lemma's bound f(x_t) − (η − βη²/2)‖∇f(x_t)‖² − f* "
            "(dotted). Right: the guaranteed decrease η − βη²/2, positive only for η < 2/β; "
            "beyond it the bound allows an increase and GD diverges.",
            "당뇨병 최소제곱 (절편 포함)에 η = c/β 인 GD. 왼쪽: f(x_t) − f* (실선)와 lemma의 "
            "상한 f(x_t) − (η − βη²/2)‖∇f(x_t)‖² − f* (점선). 오른쪽: 보장된 감소량 "
            "η − βη²/2 (small step), η < 2/β 일 때만 양수. 그 너머에서는 상한이 증가를 허용하고 "
            "GD는 발산한다.",
        ),
    )
    factors = fig.control("η·β", np.round(np.arange(1.0, 2.21, 0.1), 2), names=None, initial=9)
    c = np.linspace(0.0, 2.4, 121)
    fig.panel(
        "f(x_t) − f*",
        xlabel=ctx.t("step t", "단계 t"),
        ylabel="f − f*",
        xlim=(0.0, 150.0),
        logy=True,
    )
    fig.panel(
        ctx.t("decrease coefficient (η − βη²/2)·β", "감소 계수 (η − βη²/2)·β"),
        xlabel="η·β",
        ylabel="(η − βη²/2)·β",
        xlim=(0.0, 2.4),
        ylim=(-0.6, 0.6),
        static=[line(c, c - c**2 / 2, color=4, width=1.5), hline(0.0, color=7)],
    )
    holds = []
    for i, factor in enumerate(factors):
        r = descent_lemma_check(A, y, lr=float(factor) / beta, n_steps=150, beta=beta)
        holds.append(float(r["holds"]))
        t = np.arange(r["f"].size)
        gap = r["f"] - f_star
        bound = r["bound"] - f_star
        coeff = factor - factor**2 / 2
        series = [
            [
                line(t, gap, color=0, label="f(x_t) − f*"),
                line(t[1:], bound, color=3, dash=True, label=ctx.t("bound", "상한")),
            ],
            [vline(factor, color=3, dash=False, label=f"η = {factor:g}/β")],
        ]
        verdict = (
            ctx.t("diverges", "발산")
            if r["diverged"]
            else ctx.t("decreases", "감소")
            if r["decreasing"]
            else ctx.t("does not decrease", "감소하지 않음")
        )
        text = (
            f"η = {factor:g}/β: η − βη²/2 = {coeff:.3f}/β; f {verdict}; "
            + ctx.t("min slack of the lemma", "lemma의 최소 여유")
            + f" {np.min(r['slack'] / np.abs(r['f'][:-1])):.1e}"
        )
        fig.frame((i,), series, text)
    ctx.compare(
        ctx.t(
            "descent lemma holds in all 13 frames (η = 1 … 2.2 × 1/β)",
            "13개 프레임 모두에서 descent lemma 성립 (η = 1 … 2.2 × 1/β)",
        ),
        holds,
        np.ones(len(holds)),
        "the notes",
    )
    ctx.explorable(fig)
