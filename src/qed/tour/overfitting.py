"""Chapter 4 — overfitting and regularization (polynomial features, ridge)."""

from __future__ import annotations

import numpy as np

TITLE = "Overfitting and regularization"
TITLE_KO = "Overfitting과 Regularization"
SECTION = "overfitting (y = [1 x … x^m]β); Regularization ‖Y − Xβ‖² + λ‖β‖²"
SECTION_KO = "overfitting (y = [1 x … x^m]β, 단일 변수에 의존 · 불필요하게 큰 차원); Regularization ‖Y − Xβ‖² + λ‖β‖²"
FORMULA = (
    r"y = \begin{bmatrix} 1 & x^1 & \cdots & x^m \end{bmatrix} \beta,"
    r" \qquad \beta = (\beta_0, \beta_1, \ldots, \beta_m)^T",
    r"(\text{loss}) = \|Y - X\beta\|^2 + \lambda\|\beta\|^2",
    r"\nabla_\beta (\text{loss}) = 2\left[-X^T(Y - X\beta) + \lambda\beta\right] = 0"
    r" \;\Rightarrow\; (X^T X + \lambda I)\beta = X^T Y",
)


def run(ctx) -> None:
    from qed.datasets import load_diabetes
    from qed.linear import PolynomialFeatures, Ridge
    from qed.theory import overfitting_curve
    from qed.tour.interactive import Explorable, hline, line

    curve = overfitting_curve(range(0, 15), n_train=15, random_state=0)
    best = curve["best_degree"]
    i_best = list(curve["degrees"]).index(best)
    ctx.note(
        f"15 noisy points of sin(πx): the test error is lowest at degree {best} "
        f"({curve['test_mse'][i_best]:.3f}); degree 14 interpolates the training points "
        f"(train MSE {curve['train_mse'][-1]:.1e}) and its test error is "
        f"{curve['test_mse'][-1]:.3g}; ridge with λ = {curve['alpha']:g} keeps it at "
        f"{curve['ridge_test_mse'][-1]:.3f}.",
        ko=f"sin(πx)에 잡음을 더한 15개 점: 테스트 오차는 차수 {best}에서 가장 작다 "
        f"({curve['test_mse'][i_best]:.3f}). 차수 14는 학습 점을 보간하고 (학습 MSE "
        f"{curve['train_mse'][-1]:.1e}) 테스트 오차는 {curve['test_mse'][-1]:.3g}, 즉 불필요하게 "
        f"큰 차원 ⇒ overfitting. λ = {curve['alpha']:g} 인 ridge는 이를 "
        f"{curve['ridge_test_mse'][-1]:.3f}로 막는다.",
    )
    _explore_degree(ctx)

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
    path = Explorable(
        "ridge-path",
        ctx.t("Ridge path", "Ridge 경로 (ridge path)"),
        ctx.t(
            "β(λ) = (XᵀX + λI)⁻¹Xᵀy on diabetes: every coefficient shrinks towards 0 as the "
            "penalty λ grows (the intercept is not penalised).",
            "당뇨병 데이터의 β(λ) = (XᵀX + λI)⁻¹Xᵀy: 벌점 λ가 커질수록 모든 계수가 0으로 "
            "줄어든다 (절편은 벌점을 받지 않는다).",
        ),
    )
    path.panel(
        ctx.t("ridge path on diabetes", "당뇨병 데이터의 ridge 경로"),
        xlabel="λ",
        ylabel="β_j",
        logx=True,
        static=[hline(0.0, color="#1f2328", dash=False)]
        + [line(alphas, coefs[:, j], color=j, label=names[j]) for j in range(coefs.shape[1])],
    )
    path.frame((), [[]])
    ctx.explorable(path)


def _explore_degree(ctx) -> None:
    """The overfitting curve as a figure to move: degree m and penalty λ, each frame a fit."""
    from qed.linear import LinearRegression, Ridge
    from qed.theory import overfitting_curve, polynomial_design
    from qed.tour.interactive import Explorable, line, points, vline

    fig = Explorable(
        "overfitting",
        ctx.t("The overfitting curve, to move", "overfitting 곡선 움직여 보기"),
        ctx.t(
            "15 noisy points of sin(πx). Raise the degree m: the fit (left) chases the noise "
            "and the test error (right, red) explodes while the training error (blue) falls; "
            "raise λ and the ridge penalty tames it.",
            "sin(πx)에 잡음을 더한 15개 점. 차수 m을 올리면 (불필요하게 큰 차원) 적합 곡선(왼쪽)이 "
            "잡음을 따라가고, 학습 오차(파랑)는 줄지만 테스트 오차(빨강)는 폭발한다. λ를 올리면 "
            "ridge 벌점이 이를 억제한다.",
        ),
    )
    degrees = fig.control(ctx.t("degree m", "차수 m"), range(15), initial=3)
    lambdas = fig.control(
        "λ", [0.0, 1e-6, 1e-4, 1e-2, 1.0], names=["0", "1e-6", "1e-4", "0.01", "1"]
    )
    curves = [overfitting_curve(degrees, n_train=15, alpha=lam, random_state=0) for lam in lambdas]
    data = curves[0]
    grid = np.linspace(-1, 1, 161)
    fig.panel(
        ctx.t("the fit", "적합 결과"),
        xlabel="x",
        ylabel="y",
        xlim=(-1.0, 1.0),
        ylim=(-2.0, 2.0),
        static=[
            line(grid, np.sin(np.pi * grid), color=7, dash=True, width=1.2, label="sin(πx)"),
            points(data["x_test"][:150], data["y_test"][:150], color=7, size=1.6),
            points(data["x_train"], data["y_train"], color=0, size=4, label=ctx.t("train", "학습")),
        ],
    )
    fig.panel(
        ctx.t("mean squared error", "평균제곱오차"),
        xlabel=ctx.t("degree m", "차수 m"),
        ylabel="MSE",
        xlim=(0.0, 14.0),
        ylim=(1e-4, 1e2),
        logy=True,
    )
    mse, reference = [], []
    x_tr, y_tr, x_te = data["x_train"], data["y_train"], data["x_test"]
    for j, (lam, curve) in enumerate(zip(lambdas, curves, strict=True)):
        train = curve["train_mse"] if lam == 0 else curve["ridge_train_mse"]
        test = curve["test_mse"] if lam == 0 else curve["ridge_test_mse"]
        for i, m in enumerate(degrees):
            F, G = polynomial_design(x_tr, m)[:, 1:], polynomial_design(grid, m)[:, 1:]
            if m == 0:
                pred, pred_te = np.full(grid.size, y_tr.mean()), np.full(x_te.size, y_tr.mean())
            else:
                model = (
                    LinearRegression(solver="svd") if lam == 0 else Ridge(lam, solver="dual")
                ).fit(F, y_tr)
                pred = model.predict(G)
                pred_te = model.predict(polynomial_design(x_te, m)[:, 1:])
            mse.append(float(np.mean((pred_te - data["y_test"]) ** 2)))
            reference.append(test[i])
            series = [
                [line(grid, pred, color=1, label=f"m = {m}, λ = {lam:g}")],
                [
                    line(degrees, train, color=0, label=ctx.t("train", "학습")),
                    line(degrees, test, color=3, label=ctx.t("test", "테스트")),
                    vline(m, color=7),
                ],
            ]
            text = ctx.t("train MSE", "학습 MSE") + f" {train[i]:.3g}, "
            text += ctx.t("test MSE", "테스트 MSE") + f" {test[i]:.3g}"
            fig.frame((i, j), series, text)
    ctx.compare(
        ctx.t(
            "test MSE of all 75 frames (qed Ridge/LinearRegression fits)",
            "75개 프레임 전체의 테스트 MSE (qed Ridge/LinearRegression 적합)",
        ),
        mse,
        reference,
        "qed.theory.overfitting_curve (lstsq on the stacked penalty)",
        rtol=1e-4,
    )
    ctx.explorable(fig)
