"""Chapter 6 — sigmoid, logistic regression (MLE, convexity) and softmax regression."""

from __future__ import annotations

import warnings
from typing import Any

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
# the run of the bound figure: Newton from Θ = 0 on the standardised breast-cancer data
BOUND_C = 0.1
# qed's ConvergenceWarning (a UserWarning) for a fit stopped at max_iter on purpose
_STOPPED = r"LogisticRegression\(solver='newton'\) stopped at max_iter"

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

    _bound_figure(ctx, Xs, y)

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


def newton_bound_path(X: np.ndarray, y: np.ndarray, *, C: float = BOUND_C) -> dict[str, Any]:
    """The certificate's distance bound along qed's Newton run, beside the true distance.

    Newton is deterministic from Θ = 0, so ``LogisticRegression(solver="newton", tol=0,
    max_iter=k)`` stops at the run's k-th iterate θ_k = (w_k, b_k). For k = 1, …, K − 1 (K the
    steps of the run to the rounding floor, whose end θ* is the reference) this returns
    ``bound[k]`` = ``certificate(X, y).bounds["distance"]`` at θ_k — an upper bound on
    ‖θ_k − θ*‖₂ from ‖∇f(θ_k)‖/μ, μ a safe lower bound on λ_min(∇²f) over a ball around θ_k —
    and ``distance[k]`` = ‖θ_k − θ*‖₂ measured against the reference. ``bound[k]`` is ∞
    where no ball around θ_k on which the curvature is certified reaches θ* (far from it).

    Returns
    -------
    dict with ``k`` (int array), ``bound``, ``distance`` (float arrays of the same length)
    and ``n_iter`` (K, the reference run's steps).
    """
    from qed.classify import LogisticRegression

    def theta(model: Any) -> np.ndarray:
        return np.concatenate([model.coef_.ravel(), model.intercept_.ravel()])

    reference = LogisticRegression(C=C, tol=0.0, max_iter=100).fit(X, y)
    star = theta(reference)
    n_iter = int(reference.n_iter_[0])
    ks, bounds, distances = [], [], []
    for k in range(1, n_iter):
        with warnings.catch_warnings():
            # stopping early is the point here; any other warning still shows
            warnings.filterwarnings("ignore", message=_STOPPED, category=UserWarning)
            model = LogisticRegression(C=C, tol=0.0, max_iter=k).fit(X, y)
        ks.append(k)
        bounds.append(model.certificate(X, y).bounds["distance"])
        distances.append(float(np.linalg.norm(theta(model) - star)))
    return {
        "k": np.array(ks, dtype=int),
        "bound": np.array(bounds),
        "distance": np.array(distances),
        "n_iter": n_iter,
    }


def _bound_figure(ctx, X: np.ndarray, y: np.ndarray) -> None:
    path = newton_bound_path(X, y)
    k, bound, dist = path["k"], path["bound"], path["distance"]
    finite = np.isfinite(bound)
    fig, ax = new_figure(width=7.0, height=4.0)
    ax.semilogy(k, dist, "s--", color="C1", label=r"true distance $\|\theta_k - \theta^*\|$")
    ax.semilogy(
        k[finite],
        bound[finite],
        "o-",
        color="C0",
        label=r"certificate bound $\|\nabla f(\theta_k)\|/\mu_k$",
    )
    top = 30 * max(dist.max(), bound[finite].max(initial=0.0))
    ax.set_ylim(top=top)
    if not finite.all():
        ax.plot(
            k[~finite],
            np.full((~finite).sum(), top / 3),
            "^",
            color="C0",
            label="bound = ∞ (no certified ball contains θ* yet)",
        )
    ax.set(
        xlabel="Newton step k",
        ylabel=r"distance to the optimum $\theta^*$",
        title=f"breast cancer, C = {BOUND_C:g}: Newton from θ = 0",
    )
    ax.legend(fontsize="small", loc="lower left")
    first, last = int(k[finite][0]), len(k) - 1
    ctx.note(
        f"Newton's iterates θ_1 … θ_{k[last]}: the certificate's distance bound is ∞ until "
        f"step {first} (too far from θ* for a ball of certified curvature to reach it), then "
        f"stays above the true distance and shrinks with it quadratically; at step {k[last]} "
        f"the bound is {bound[last]:.1e}, the true distance {dist[last]:.1e} (ratio "
        f"{bound[last] / dist[last]:.1f}).",
        ko=f"Newton 반복점 θ_1 … θ_{k[last]}: 증명서의 거리 상한은 단계 {first} 전까지 ∞ "
        f"(θ*에서 너무 멀어 곡률이 증명된 공이 θ*에 닿지 않는다). 그 뒤로는 실제 거리보다 크고 "
        f"실제 거리와 함께 이차 수렴으로 줄어든다. 단계 {k[last]}에서 상한 {bound[last]:.1e}, "
        f"실제 거리 {dist[last]:.1e} (비 {bound[last] / dist[last]:.1f}).",
    )
    ctx.figure(
        fig,
        ctx.t("Certified distance to the optimum", "최적점까지의 증명된 거리"),
        ctx.t(
            "For each Newton iterate θ_k (θ = (w, b)), the certificate's bound "
            "‖θ_k − θ*‖ ≤ ‖∇f(θ_k)‖/μ_k, with μ_k a safe lower bound on the smallest "
            "eigenvalue of the Hessian ∇²f over a ball around θ_k that contains θ*, beside "
            "the true distance to a fit converged to rounding. Far from θ* no such ball is "
            "found and the bound is ∞ (triangles); near it both fall quadratically, the "
            "correct digits doubling at each step.",
            "각 Newton 반복점 θ_k (θ = (w, b))에 대해 증명서의 상한 "
            "‖θ_k − θ*‖ ≤ ‖∇f(θ_k)‖/μ_k (μ_k는 θ*를 포함하는 θ_k 주변 공 위에서 Hessian ∇²f의 "
            "최소 고유값의 안전한 하한)과, 반올림 수준까지 수렴한 해까지의 실제 거리. θ*에서 "
            "멀면 그런 공을 찾지 못해 상한은 ∞ (삼각형); 가까우면 둘 다 이차 수렴으로 줄어들어 "
            "맞는 자릿수가 매 단계 두 배가 된다.",
        ),
    )
