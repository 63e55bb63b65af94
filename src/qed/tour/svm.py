"""Chapter 7 — the hard-margin SVM, its dual, and support vectors."""

from __future__ import annotations

import numpy as np

from qed.tour._common import standardize

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
    ctx.note(
        f"{len(hard.support_)} support vectors; margin {hard.margin_:.4f} cm.",
        ko=f"support vector {len(hard.support_)}개 (가장 가까운 점); margin {hard.margin_:.4f} cm.",
    )
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

    _explore_c(ctx, X2, y2)


def _explore_c(ctx, X2: np.ndarray, y2: np.ndarray) -> None:
    """C from a soft margin to the hard one: every frame a fit of qed's SVC."""
    from qed.classify import SVC
    from qed.tour.interactive import Explorable, line, points

    fig = Explorable(
        "svm-c",
        ctx.t(
            "SVM margin and support vectors: from soft to hard margin",
            "SVM 평면, margin과 support vector: soft margin에서 hard margin으로",
        ),
        ctx.t(
            "Linear SVM on iris (setosa against versicolor, sepal length and width). A small C "
            "lets points inside the margin (αᵢ = C): a wide margin held by many support "
            "vectors. As C grows the margin narrows to the hard-margin solution (C = ∞), "
            "held by the closest points alone.",
            "iris (setosa 대 versicolor, 꽃받침 길이와 너비)의 선형 SVM. C가 작으면 margin 안쪽의 "
            "점을 허용하여 (αᵢ = C) 많은 support vector가 넓은 margin을 받친다. C가 커지면 "
            "margin은 hard margin 해 (C = ∞)로 좁아지고, 가장 가까운 점들만 남는다.",
        ),
    )
    Cs = fig.control(
        "C",
        [0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 100.0, 1000.0, np.inf],
        names=["0.01", "0.03", "0.1", "0.3", "1", "3", "10", "100", "1000", "∞"],
        initial=9,
    )
    lo, hi = X2[:, 0].min() - 0.2, X2[:, 0].max() + 0.2
    xs = np.array([lo, hi])
    fig.panel(
        ctx.t("SVM hyperplane wᵀx + b = 0 and margins ±1", "SVM 평면 wᵀx + b = 0 과 margin ±1"),
        xlabel=ctx.t("sepal length (cm)", "꽃받침 길이 (cm)"),
        ylabel=ctx.t("sepal width (cm)", "꽃받침 너비 (cm)"),
        xlim=(lo, hi),
        ylim=(X2[:, 1].min() - 0.3, X2[:, 1].max() + 0.3),
        static=[
            points(*X2[y2 == -1].T, color=0, size=3.5, label="setosa (y = −1)"),
            points(*X2[y2 == 1].T, color=1, size=3.5, label="versicolor (y = +1)"),
        ],
    )
    params = []
    for i, C in enumerate(Cs):
        model = SVC(C=C, kernel="linear", tol=1e-8).fit(X2, y2)
        w, b = model.coef_.ravel(), float(np.ravel(model.intercept_)[0])
        params.append(np.r_[w, b])
        sv = model.support_vectors_
        series = [
            line(xs, (0 - b - w[0] * xs) / w[1], color="#1f2328", width=1.6),
            line(xs, (1 - b - w[0] * xs) / w[1], color="#1f2328", dash=True, width=1.0),
            line(xs, (-1 - b - w[0] * xs) / w[1], color="#1f2328", dash=True, width=1.0),
            points(
                sv[:, 0],
                sv[:, 1],
                color="#1f2328",
                size=6.5,
                hollow=True,
                label=f"{len(sv)} support vectors",
            ),
        ]
        text = (
            f"C = {C:g}: margin 1/‖w‖ = {1 / np.linalg.norm(w):.4f}, "
            f"{len(sv)} support vectors, Σαᵢ = {np.abs(model.dual_coef_).sum():.4g}"
        )
        fig.frame((i,), [series], text)

    def sk_all():
        from sklearn.svm import SVC as SkSVC

        out = []
        for C in Cs:
            m = SkSVC(C=C if np.isfinite(C) else 1e10, kernel="linear", tol=1e-10).fit(X2, y2)
            out.append(np.r_[m.coef_.ravel(), m.intercept_])
        return out

    ctx.compare(
        ctx.t("(w, b) in all 10 frames", "10개 프레임 전체의 (w, b)"),
        params,
        sk_all,
        "scikit-learn SVC (libsvm's stopping tolerance)",
        rtol=1e-3,
        atol=1e-3,
    )
    ctx.explorable(fig)
