"""Chapter 6 — sigmoid, logistic regression (MLE, convexity) and softmax regression."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure, standardize

TITLE = "Logistic and softmax regression"
TITLE_KO = "로지스틱 회귀와 softmax 회귀"
SECTION = "Sigmoid, odds, log-odds; Logistic Regression (MLE); Multi-class classification"
SECTION_KO = "Sigmoid (확률은 sigmoid 형태로 표현할 수 있다), odds, log-odds; Logistic Regression (MLE); 다중 클래스 분류"
FORMULA = (
    r"\sigma(z) = \frac{1}{1 + e^{-z}}, \quad \text{odds} = e^z, \quad \log(\text{odds}) = z, \quad \sigma' = \sigma(1 - \sigma)",
    r"p(y_i \mid x_i, w) = \sigma(w^T x_i)^{y_i}\,(1 - \sigma(w^T x_i))^{1 - y_i}",
    r"\nabla_w(-\log \mathcal{L}) = \sum_i \big(\underbrace{\sigma(w^T x_i)}_{\text{prediction}} - \underbrace{y_i}_{\text{truth}}\big)\, x_i",
    r"\nabla_w\nabla_w(-\log\mathcal{L}) = X^T S X, \quad S = \text{diag}(\sigma_i(1 - \sigma_i)) \succeq 0"
    r" \;\Rightarrow\; \langle v, Hv\rangle \ge 0 \text{ (convex)}",
    r"p_k = \frac{e^{z_k}}{\sum_j e^{z_j}}, \qquad \nabla_{w_m}(-\log\mathcal{L}) = \sum_{i=1}^N (p_{im} - y_{im})\, x_i",
)
# the notes' own words under the braces: 예측 (prediction) and 실제 (ground truth)
FORMULA_KO = tuple(
    eq.replace(r"\text{prediction}", r"\text{예측}").replace(r"\text{truth}", r"\text{실제}")
    for eq in FORMULA
)


def run(ctx) -> None:
    from qed.classify import LogisticRegression
    from qed.datasets import load_breast_cancer, load_iris

    z = np.array([-800.0, -30.0, -1.0, 0.0, 1.0, 30.0, 800.0])

    def torch_sigmoid_grad():
        import torch

        t = torch.tensor(z, requires_grad=True)
        torch.sigmoid(t).sum().backward()
        return t.grad.numpy()

    from scipy.special import expit

    s = expit(z)
    ctx.compare(
        "σ'(z) = σ(1 − σ) at z = ±800, ±30, ±1, 0",
        s * (1 - s),
        torch_sigmoid_grad,
        "PyTorch autograd of torch.sigmoid",
        rtol=1e-12,
        atol=1e-300,
    )

    X, y = load_breast_cancer(return_X_y=True)
    Xs = standardize(X)
    model = LogisticRegression(C=1.0, tol=1e-10).fit(Xs, y)

    def sk_binary():
        from sklearn.linear_model import LogisticRegression as SkLogReg

        return SkLogReg(C=1.0, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(Xs, y)

    ctx.compare(
        "breast cancer: w (C = 1, Newton/IRLS)",
        model.coef_.ravel(),
        lambda: sk_binary().coef_.ravel(),
        "scikit-learn LogisticRegression",
        rtol=1e-6,
        atol=1e-7,
    )
    ctx.compare(
        "breast cancer: P(y = 1 | x) for all 569",
        model.predict_proba(Xs)[:, 1],
        lambda: sk_binary().predict_proba(Xs)[:, 1],
        "scikit-learn",
        rtol=1e-6,
        atol=1e-8,
    )
    ctx.note(
        f"Breast cancer (30 standardised features): training accuracy "
        f"{model.score(Xs, y):.4f} after {int(np.max(model.n_iter_))} Newton steps.",
        ko=f"유방암 데이터 (표준화한 30개 특성): Newton 단계 {int(np.max(model.n_iter_))}번 후 "
        f"학습 정확도 {model.score(Xs, y):.4f}. −log L은 convex (有 global min).",
    )
    ctx.certificate("LogisticRegression on breast cancer", model.certificate(Xs, y))

    Xi, yi = load_iris(return_X_y=True)
    petal = Xi[:, 2:4]
    soft = LogisticRegression(C=10.0, tol=1e-10).fit(petal, yi)

    def sk_multi():
        from sklearn.linear_model import LogisticRegression as SkLogReg

        return SkLogReg(C=10.0, solver="lbfgs", tol=1e-12, max_iter=10000).fit(petal, yi)

    ctx.compare(
        "iris softmax: class probabilities (150 × 3)",
        soft.predict_proba(petal),
        lambda: sk_multi().predict_proba(petal),
        "scikit-learn (multinomial)",
        rtol=1e-4,
        atol=1e-6,
    )
    ctx.certificate("softmax LogisticRegression on iris petals", soft.certificate(petal, yi))

    fig, (ax0, ax) = new_figure(1, 2, width=10.0, height=4.0)
    t = np.linspace(-6, 6, 300)
    ax0.plot(t, expit(t), label="σ(z) = probability")
    ax0.plot(t, np.exp(np.clip(t, None, 2.0)) / 7.39, label="odds e^z (scaled, to z = 2)")
    ax0.plot(t, t / 12 + 0.5, label="log-odds z (scaled)")
    ax0.set(xlabel="z = wᵀx", title="sigmoid, odds, log-odds")
    ax0.legend(fontsize="x-small")
    gx, gy = np.meshgrid(np.linspace(0.5, 7.2, 300), np.linspace(-0.2, 2.8, 300))
    grid = np.column_stack([gx.ravel(), gy.ravel()])
    pred = soft.predict(grid).reshape(gx.shape)
    proba = soft.predict_proba(grid).max(axis=1).reshape(gx.shape)
    ax.contourf(gx, gy, pred, levels=[-0.5, 0.5, 1.5, 2.5], alpha=0.25, colors=["C0", "C1", "C2"])
    ax.contour(gx, gy, proba, levels=[0.5, 0.9], colors="k", linewidths=0.6, linestyles=["-", ":"])
    names = ["setosa", "versicolor", "virginica"]
    for k in range(3):
        ax.scatter(
            *petal[yi == k].T, s=12, color=f"C{k}", label=names[k], edgecolor="k", linewidth=0.3
        )
    ax.set(
        xlabel="petal length (cm)",
        ylabel="petal width (cm)",
        title="softmax regression decision boundary",
    )
    ax.legend(fontsize="x-small")
    ctx.figure(
        fig,
        ctx.t("Logistic decision boundary", "로지스틱 결정 경계"),
        ctx.t(
            "Left: probability, odds and log-odds. Right: the three-class softmax regression "
            "on iris petals; solid line max p = 0.5, dotted 0.9.",
            "왼쪽: 확률, odds와 log-odds. 오른쪽: iris 꽃잎에 대한 3-클래스 softmax 회귀. "
            "실선은 max p = 0.5, 점선은 0.9.",
        ),
    )
