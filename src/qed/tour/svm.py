"""Chapter 7 — the hard-margin SVM, its dual, and support vectors."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure, standardize

TITLE = "Support vector machine"
TITLE_KO = "서포트 벡터 머신 (SVM)"
SECTION = "SVM hyperplane wᵀx + b = 0; conditions ① ②; Lagrangian dual; support vectors"
SECTION_KO = (
    "SVM 평면 wᵀx + b = 0; 조건 ① ②; 가장 가까운 점까지의 거리; Lagrangian dual; support vector"
)
FORMULA = (
    r"y_i(w^T x_i + b) \ge 1, \qquad d = \frac{|w^T x + b|}{\|w\|} = \frac{1}{\|w\|}"
    r" \;\Rightarrow\; \text{minimize } \frac{1}{2}\|w\|^2",
    r"\min_{w,b}\max_{\alpha_i \ge 0}\left[\frac{1}{2}\|w\|^2 + \sum_i \alpha_i\big(1 - y_i(w^T x_i + b)\big)\right]"
    r" \ge \max_{\alpha_i \ge 0}\min_{w,b}\left[\cdots\right]",
    r"w = \sum_i \alpha_i y_i x_i, \qquad \sum_i \alpha_i y_i = 0, \qquad b = y_i - w^T x_i \;(\alpha_i > 0)",
    r"\frac{|x^T w + b|}{\|w\|} = \frac{1}{\sqrt{\sum_i \alpha_i}}",
)


def run(ctx) -> None:
    from qed.classify import SVC
    from qed.datasets import load_breast_cancer, load_iris

    X, y = load_iris(return_X_y=True)
    keep = y < 2  # setosa against versicolor: linearly separable
    X2, y2 = X[keep][:, :2], np.where(y[keep] == 0, -1, 1)
    hard = SVC(C=np.inf, kernel="linear").fit(X2, y2)
    w = hard.coef_.ravel()
    alpha = np.abs(hard.dual_coef_).ravel()

    def sk_hard():
        from sklearn.svm import SVC as SkSVC

        return SkSVC(C=1e10, kernel="linear", tol=1e-10).fit(X2, y2)

    def scipy_primal():
        # the notes' primal, min ½‖w‖² s.t. yᵢ(wᵀxᵢ + b) ≥ 1, by SciPy's SQP solver
        from scipy.optimize import minimize

        A = y2[:, None] * np.column_stack([X2, np.ones(len(X2))])
        res = minimize(
            lambda p: 0.5 * p[:2] @ p[:2],
            np.zeros(3),
            jac=lambda p: np.r_[p[:2], 0.0],
            method="SLSQP",
            constraints=[{"type": "ineq", "fun": lambda p: A @ p - 1, "jac": lambda p: A}],
            options={"ftol": 1e-15, "maxiter": 1000},
        )
        return res.x

    ctx.compare(
        "(w, b), hard margin on sepal length/width",
        np.r_[w, np.ravel(hard.intercept_)],
        scipy_primal,
        "scipy.optimize SLSQP on the primal",
        rtol=1e-6,
    )
    ctx.compare(
        "(w, b)",
        np.r_[w, np.ravel(hard.intercept_)],
        lambda: np.r_[sk_hard().coef_.ravel(), sk_hard().intercept_],
        "scikit-learn SVC(kernel='linear', C = 1e10), libsvm's stopping tolerance",
        rtol=1e-3,
    )
    ctx.compare(
        "w = Σᵢ αᵢyᵢxᵢ",
        w,
        (hard.dual_coef_.ravel()) @ hard.support_vectors_,
        "the dual (stationarity)",
        rtol=1e-8,
    )
    ctx.compare(
        "margin 1/‖w‖ = 1/√(Σα)",
        hard.margin_,
        1 / np.sqrt(alpha.sum()),
        "the notes' identity",
        rtol=1e-6,
    )
    ctx.compare("margin 1/‖w‖", hard.margin_, 1 / np.linalg.norm(w), "closed form", rtol=1e-6)
    ctx.note(f"{len(hard.support_)} support vectors; margin {hard.margin_:.4f} cm.")
    ctx.certificate("hard-margin SVC on iris (setosa vs versicolor)", hard.certificate(X2, y2))

    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = standardize(Xb)
    soft = SVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-8).fit(Xb, yb)

    def sk_soft():
        from sklearn.svm import SVC as SkSVC

        return SkSVC(C=1.0, kernel="rbf", gamma="scale", tol=1e-8).fit(Xb, yb)

    ctx.compare(
        "soft-margin RBF: decision function (569)",
        soft.decision_function(Xb),
        lambda: sk_soft().decision_function(Xb),
        "scikit-learn SVC (libsvm)",
        rtol=1e-4,
        atol=1e-5,
    )
    ctx.compare(
        "number of support vectors",
        len(soft.support_),
        lambda: int(sk_soft().n_support_.sum()),
        "scikit-learn SVC",
        rtol=0,
        atol=0.5,
    )
    ctx.certificate("SVC(rbf, C = 1) on breast cancer", soft.certificate(Xb, yb))

    fig, ax = new_figure(width=7.0, height=4.6)
    for label, color, name in [(-1, "C0", "setosa (y = −1)"), (1, "C1", "versicolor (y = +1)")]:
        ax.scatter(*X2[y2 == label].T, s=16, color=color, label=name, edgecolor="k", linewidth=0.3)
    sv = hard.support_vectors_
    ax.scatter(
        *sv.T, s=110, facecolor="none", edgecolor="k", linewidth=1.2, label="support vectors"
    )
    xs = np.linspace(X2[:, 0].min() - 0.2, X2[:, 0].max() + 0.2, 50)
    b = np.ravel(hard.intercept_)[0]
    for level, style in [(0, "-"), (1, "--"), (-1, "--")]:
        ax.plot(xs, (level - b - w[0] * xs) / w[1], "k" + style, lw=1)
    ax.set(
        xlim=(xs[0], xs[-1]),
        ylim=(X2[:, 1].min() - 0.3, X2[:, 1].max() + 0.3),
        xlabel="sepal length (cm)",
        ylabel="sepal width (cm)",
        title=f"hard-margin SVM: wᵀx + b = 0, ±1 (margin {hard.margin_:.3f})",
    )
    ax.legend(fontsize="x-small", loc="lower right")
    ctx.figure(
        fig,
        "SVM margin and support vectors",
        "The separating line and the two margin lines wᵀx + b = ±1; the circled points "
        "are the support vectors, the only ones with αᵢ > 0.",
    )
