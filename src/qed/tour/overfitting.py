"""Chapter 4 — overfitting and regularization (polynomial features, ridge)."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Overfitting and regularization"
TITLE_KO = "Overfitting과 Regularization"
SECTION = "overfitting (y = [1 x … x^m]β); Regularization ‖Y − Xβ‖² + λ‖β‖²"
SECTION_KO = "overfitting (y = [1 x … x^m]β, 단일 변수에 의존 · 불필요하게 큰 차원); Regularization ‖Y − Xβ‖² + λ‖β‖²"
FORMULA = (
    r"y = \begin{bmatrix} 1 & x^1 & \cdots & x^m \end{bmatrix}"
    r" \begin{bmatrix} \beta_0 \\ \beta_1 \\ \vdots \\ \beta_m \end{bmatrix}",
    r"(\text{loss}) = \|Y - X\beta\|^2 + \lambda\|\beta\|^2",
    r"\nabla_\beta (\text{loss}) = 2\left[-X^T(Y - X\beta) + \lambda\beta\right] = 0"
    r" \;\Rightarrow\; (X^T X + \lambda I)\beta = X^T Y",
)


def run(ctx) -> None:
    from qed.datasets import load_diabetes
    from qed.linear import PolynomialFeatures, Ridge
    from qed.theory import overfitting_curve

    curve = overfitting_curve(range(0, 15), n_train=15, random_state=0)
    best = curve["best_degree"]
    i_best = list(curve["degrees"]).index(best)
    ctx.note(
        f"15 noisy points of sin(πx): the test error is lowest at degree {best} "
        f"({curve['test_mse'][i_best]:.3f}); degree 14 interpolates the training points "
        f"(train MSE {curve['train_mse'][-1]:.1e}) and its test error is "
        f"{curve['test_mse'][-1]:.3g}; ridge with λ = {curve['alpha']:g} keeps it at "
        f"{curve['ridge_test_mse'][-1]:.3f}."
    )
    from qed.theory.plotting import plot_overfitting

    ctx.figure(
        plot_overfitting(curve),
        "The overfitting curve",
        "Training error falls monotonically with the degree m; test error falls, then "
        "explodes once the polynomial chases the noise. The ridge penalty tames it.",
    )

    X, y = load_diabetes(return_X_y=True)
    x2 = X[:, [2, 3]]
    poly = PolynomialFeatures(degree=3).fit(x2)

    def sk_poly():
        from sklearn.preprocessing import PolynomialFeatures as SkPoly

        return SkPoly(degree=3).fit_transform(x2)

    ctx.compare(
        "PolynomialFeatures(3) of (bmi, bp), 442 × 10",
        poly.transform(x2),
        sk_poly,
        "scikit-learn PolynomialFeatures",
        rtol=1e-12,
    )

    model = Ridge(alpha=0.1).fit(X, y)

    def sk_ridge(alpha=0.1):
        from sklearn.linear_model import Ridge as SkRidge

        return SkRidge(alpha=alpha, solver="cholesky").fit(X, y)

    ctx.compare(
        "ridge β (λ = 0.1)", model.coef_, lambda: sk_ridge().coef_, "scikit-learn Ridge", rtol=1e-8
    )
    ctx.compare(
        "ridge intercept (unpenalised)",
        model.intercept_,
        lambda: sk_ridge().intercept_,
        "scikit-learn Ridge",
        rtol=1e-8,
    )
    dual = Ridge(alpha=0.1, solver="dual").fit(X, y)
    ctx.compare(
        "primal (XᵀX + λI)⁻¹Xᵀy = dual Xᵀ(XXᵀ + λI)⁻¹y",
        model.coef_,
        dual.coef_,
        "qed dual solver (kernel identity)",
        rtol=1e-8,
    )
    ctx.certificate("Ridge(λ = 0.1) on diabetes", model.certificate(X, y))

    alphas = np.logspace(-4, 2, 40)
    coefs = np.array([Ridge(alpha=a).fit(X, y).coef_ for a in alphas])
    names = ["age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"]
    fig, ax = new_figure(width=7.0, height=4.0)
    for j in range(coefs.shape[1]):
        ax.semilogx(alphas, coefs[:, j], label=names[j] if j < len(names) else f"x{j}")
    ax.axhline(0.0, color="k", lw=0.6)
    ax.set(xlabel="λ", ylabel="β_j", title="ridge path on diabetes: β(λ) = (XᵀX + λI)⁻¹Xᵀy")
    ax.legend(fontsize="x-small", ncol=2)
    ctx.figure(
        fig,
        "Ridge path",
        "Every coefficient shrinks towards 0 as the penalty λ grows (the intercept is "
        "not penalised).",
    )
