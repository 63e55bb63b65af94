"""Chapter 5 — kernels: kernel ridge regression, f*(x) = K(x, X)α*."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Kernel ridge regression"
TITLE_KO = "Kernel ridge 회귀"
SECTION = "Kernel K(x₁, x₂) = φ(x₁)ᵀφ(x₂); β* = φ(X)(φ(X)ᵀφ(X) + λI)⁻¹Y; f*(x) = K(x, X)α*"
SECTION_KO = "Kernel K(x₁, x₂) = φ(x₁)ᵀφ(x₂) (저차원 → 고차원); β* = φ(X)(φ(X)ᵀφ(X) + λI)⁻¹Y; f*(x) = K(x, X)α*"
FORMULA = (
    r"K(x_1, x_2) = \phi(x_1)^T \phi(x_2), \qquad (\text{loss}) = \|Y - \phi(X)^T\beta\|^2 + \lambda\|\beta\|^2",
    r"\nabla_\beta(\text{loss}) = 2\left[-\phi(X)(Y - \phi(X)^T\beta) + \lambda\beta\right] = 0",
    r"\beta^* = (\phi(X)\phi(X)^T + \lambda I)^{-1}\phi(X) Y = \phi(X)\underbrace{(\phi(X)^T\phi(X) + \lambda I)^{-1} Y}_{\alpha^*}",
    r"f^*(x) = \phi(x)^T\beta^* = K(x, X)\,\alpha^*",
)


def run(ctx) -> None:
    from qed.datasets import load_diabetes
    from qed.linear import KernelRidge, Ridge

    X, y = load_diabetes(return_X_y=True)
    bmi = X[:, [2]] / X[:, 2].std()  # one feature, unit scale, so that one γ fits all kernels
    yc = y - y.mean()
    models = {
        "rbf, γ = 2": KernelRidge(alpha=1.0, kernel="rbf", gamma=2.0).fit(bmi, yc),
        "poly, degree 3": KernelRidge(alpha=1.0, kernel="poly", degree=3, gamma=0.5).fit(bmi, yc),
        "linear": KernelRidge(alpha=1.0, kernel="linear").fit(bmi, yc),
    }
    grid = np.linspace(bmi.min(), bmi.max(), 200)[:, None]
    rbf = models["rbf, γ = 2"]

    def sk(kernel, **kw):
        from sklearn.kernel_ridge import KernelRidge as SkKR

        return SkKR(alpha=1.0, kernel=kernel, **kw).fit(bmi, yc)

    ctx.compare(
        "rbf dual coefficients α* = (K + λI)⁻¹y",
        rbf.dual_coef_,
        lambda: sk("rbf", gamma=2.0).dual_coef_,
        "scikit-learn KernelRidge",
        rtol=1e-7,
    )
    ctx.compare(
        "rbf predictions K(x, X)α* on a grid",
        rbf.predict(grid),
        lambda: sk("rbf", gamma=2.0).predict(grid),
        "scikit-learn KernelRidge",
        rtol=1e-7,
    )
    ctx.compare(
        "poly predictions",
        models["poly, degree 3"].predict(grid),
        lambda: sk("poly", degree=3, gamma=0.5, coef0=1).predict(grid),
        "scikit-learn KernelRidge",
        rtol=1e-7,
    )
    Xs = X / X.std(axis=0)
    primal = Ridge(alpha=1.0, fit_intercept=False).fit(Xs, yc)
    dual = KernelRidge(alpha=1.0, kernel="linear").fit(Xs, yc)
    ctx.compare(
        "linear kernel: K(x, X)α* = xᵀβ* (dual = primal)",
        dual.predict(Xs[:20]),
        primal.predict(Xs[:20]),
        "qed Ridge (primal)",
        rtol=1e-8,
    )
    ctx.note(
        "The linear-kernel identity is the notes' push-through step "
        "(φφᵀ + λI)⁻¹φ = φ(φᵀφ + λI)⁻¹ on all ten diabetes features.",
        ko="linear kernel 항등식은 노트의 push-through 단계 (φφᵀ + λI)⁻¹φ = φ(φᵀφ + λI)⁻¹ 이며, "
        "당뇨병 데이터의 10개 특성 모두에서 확인했다.",
    )
    ctx.certificate("KernelRidge(rbf) on diabetes bmi", rbf.certificate(bmi, yc))

    fig, ax = new_figure(width=7.0, height=4.0)
    ax.scatter(bmi[:, 0], yc, s=8, alpha=0.4, color="gray", label="patients")
    for label, m in models.items():
        ax.plot(grid[:, 0], m.predict(grid), lw=2, label=label)
    ax.set(
        xlabel="body-mass index (standardised)",
        ylabel="progression − mean",
        title="kernel ridge regression, λ = 1",
    )
    ax.legend(fontsize="small")
    ctx.figure(
        fig,
        ctx.t("Kernel ridge fit", "Kernel ridge 적합"),
        ctx.t(
            "f*(x) = K(x, X)(K + λI)⁻¹y with three kernels on one diabetes feature: the RBF "
            "kernel bends where the data bend, the linear kernel is ordinary ridge.",
            "당뇨병 데이터의 한 특성에 세 가지 kernel로 f*(x) = K(x, X)(K + λI)⁻¹y. RBF kernel은 "
            "데이터가 휘는 곳에서 휘고, linear kernel은 보통의 ridge와 같다.",
        ),
    )
    _explore_rbf(ctx, bmi, yc)


def _explore_rbf(ctx, x: np.ndarray, y: np.ndarray) -> None:
    """γ and λ of the RBF kernel: every frame a fit of qed's KernelRidge, checked against
    scikit-learn's on the same grid."""
    from qed.linear import KernelRidge
    from qed.tour.interactive import Explorable, line, points

    fig = Explorable(
        "kernel-ridge",
        ctx.t("Kernel ridge: width and penalty", "Kernel ridge: 폭과 벌점"),
        ctx.t(
            "RBF kernel K(x, x') = exp(−γ(x − x')²) on the body-mass index. Large γ and small "
            "λ: a wiggly fit that follows single patients; small γ or large λ: nearly a line.",
            "RBF kernel K(x, x') = exp(−γ(x − x')²), 체질량지수 한 특성. γ가 크고 λ가 작으면 "
            "환자 하나하나를 따라가는 구불구불한 곡선, γ가 작거나 λ가 크면 거의 직선.",
        ),
    )
    gammas = fig.control(
        "γ",
        np.logspace(-2, 2, 9),
        names=["0.01", "0.03", "0.1", "0.3", "1", "3", "10", "30", "100"],
        initial=4,
    )
    lambdas = fig.control(
        "λ",
        [1e-3, 1e-2, 0.1, 1.0, 10.0, 100.0],
        names=["0.001", "0.01", "0.1", "1", "10", "100"],
        initial=3,
    )
    grid = np.linspace(x.min(), x.max(), 181)[:, None]
    fig.panel(
        ctx.t("diabetes: progression against body-mass index", "당뇨병: 체질량지수에 따른 진행도"),
        xlabel=ctx.t("body-mass index (standardised)", "체질량지수 (표준화)"),
        ylabel=ctx.t("progression − mean", "진행도 − 평균"),
        ylim=(-160.0, 220.0),
        static=[points(x[:, 0], y, color=7, size=2.2, label=ctx.t("patients", "환자"))],
    )
    preds = []
    for i, gamma in enumerate(gammas):
        for j, lam in enumerate(lambdas):
            model = KernelRidge(alpha=lam, kernel="rbf", gamma=gamma).fit(x, y)
            pred = model.predict(grid)
            preds.append(pred)
            r2 = model.score(x, y)
            fig.frame(
                (i, j),
                [[line(grid[:, 0], pred, color=1, label=f"γ = {gamma:.2g}, λ = {lam:g}")]],
                f"R² ({ctx.t('training', '학습')}) = {r2:.3f}",
            )

    def sk_all():
        from sklearn.kernel_ridge import KernelRidge as SkKR

        return [
            SkKR(alpha=lam, kernel="rbf", gamma=g).fit(x, y).predict(grid)
            for g in gammas
            for lam in lambdas
        ]

    ctx.compare(
        ctx.t("all 54 frames: K(x, X)α* on the grid", "54개 프레임 전체: 격자 위의 K(x, X)α*"),
        preds,
        sk_all,
        "scikit-learn KernelRidge",
        rtol=1e-6,
        atol=1e-6,
    )
    ctx.explorable(fig)
