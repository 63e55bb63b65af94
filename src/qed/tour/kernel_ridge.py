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
        "(φφᵀ + λI)⁻¹φ = φ(φᵀφ + λI)⁻¹ on all ten diabetes features."
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
        "Kernel ridge fit",
        "f*(x) = K(x, X)(K + λI)⁻¹y with three kernels on one diabetes feature: the RBF "
        "kernel bends where the data bend, the linear kernel is ordinary ridge.",
    )
