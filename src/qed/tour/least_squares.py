"""Chapter 1 — least squares and maximum likelihood, on the diabetes data."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Least squares and maximum likelihood"
TITLE_KO = "최소제곱과 최대우도추정"
SECTION = "Least Square Estimate; Maximum Likelihood Estimate (Y = Xβ + ε)"
SECTION_KO = "최소제곱 추정 (Least Square Estimate); 최대우도추정 (Y = Xβ + ε)"
FORMULA = (
    r"(\text{loss}) = \|y - X\beta\|^2 = y^T y - y^T X\beta - \beta^T X^T y + \beta^T X^T X\beta",
    r"\nabla_\beta (\text{loss}) = -2X^T y + 2X^T X\beta = 0 \;\Rightarrow\; X^T X\beta = X^T y",
    r"\nabla_\beta\, \beta^T A\beta = \nabla_\beta \sum_{i,j} \beta_i A_{ij}\beta_j = (A + A^T)\beta",
    r"Y = X\beta + \epsilon \sim \mathcal{N}(X\beta, \sigma^2 I):\quad p(y) = \frac{1}{(2\pi)^{n/2}\sigma^n}"
    r" \exp\left(-\frac{1}{2\sigma^2}\|y - X\beta\|^2\right)",
    r"\beta_{\text{MLE}} = \beta_{\text{LS}},\qquad \sigma^2_{\text{MLE}} = \frac{\text{RSS}}{n}",
)


def run(ctx) -> None:
    from qed.datasets import load_diabetes
    from qed.linear import LinearRegression

    X, y = load_diabetes(return_X_y=True)
    n, d = X.shape
    model = LinearRegression().fit(X, y)
    pred = model.predict(X)
    rss = float(np.sum((y - pred) ** 2))
    ctx.note(
        f"Diabetes: n = {n} patients, d = {d} features; the normal equations solved by "
        f"Cholesky give R² = {model.score(X, y):.4f}.",
        ko=f"당뇨병 데이터: 환자 n = {n}명, 특성 d = {d}개. Cholesky로 푼 정규방정식 "
        f"XᵀXβ = Xᵀy (구함)의 R² = {model.score(X, y):.4f}.",
    )

    def sk_fit():
        from sklearn.linear_model import LinearRegression as SkLR

        return SkLR().fit(X, y)

    ctx.compare(
        "coefficients β",
        model.coef_,
        lambda: sk_fit().coef_,
        "scikit-learn LinearRegression",
        rtol=1e-8,
    )
    ctx.compare(
        "intercept b",
        model.intercept_,
        lambda: sk_fit().intercept_,
        "scikit-learn LinearRegression",
        rtol=1e-8,
    )
    A = np.column_stack([np.ones(n), X])
    ctx.compare(
        "β from the QR solver",
        LinearRegression(solver="qr").fit(X, y).coef_,
        np.linalg.lstsq(A, y, rcond=None)[0][1:],
        "numpy.linalg.lstsq (SVD)",
        rtol=1e-8,
    )
    ctx.compare("σ²_MLE = RSS/n", model.sigma2_, rss / n, "closed form", rtol=1e-10)

    def scipy_loglik():
        from scipy.stats import norm

        return norm.logpdf(y, loc=pred, scale=np.sqrt(rss / n)).sum()

    ctx.compare(
        "Gaussian log-likelihood at the MLE",
        model.log_likelihood(X, y),
        scipy_loglik,
        "scipy.stats.norm.logpdf",
        rtol=1e-10,
    )

    def torch_quadratic_gradient():
        import torch

        rng = np.random.default_rng(0)
        Am, beta = rng.standard_normal((4, 4)), rng.standard_normal(4)
        b = torch.tensor(beta, requires_grad=True)
        (b @ torch.tensor(Am) @ b).backward()
        return (Am + Am.T) @ beta, b.grad.numpy()

    try:
        mine, theirs = torch_quadratic_gradient()
        ctx.compare(
            "∇_β βᵀAβ = (A + Aᵀ)β (random 4×4 A)", mine, theirs, "PyTorch autograd", rtol=1e-12
        )
    except ImportError:
        ctx.note(
            "PyTorch is not installed: the gradient identity was not cross-checked.",
            ko="PyTorch가 설치되어 있지 않아 gradient 항등식을 교차 확인하지 못했다.",
        )
    ctx.certificate("LinearRegression on diabetes", model.certificate(X, y))

    fig, (ax, ax2) = new_figure(1, 2, width=9.5)
    ax.scatter(y, pred, s=10, alpha=0.6)
    lims = [min(y.min(), pred.min()), max(y.max(), pred.max())]
    ax.plot(lims, lims, color="k", lw=0.8)
    ax.set(
        xlabel="disease progression y",
        ylabel="prediction Xβ + b",
        title=f"least squares fit (R² = {model.score(X, y):.3f})",
    )
    resid = y - pred
    ax2.hist(resid, bins=30, density=True, alpha=0.6, label="residuals")
    grid = np.linspace(resid.min(), resid.max(), 200)
    s = np.sqrt(model.sigma2_)
    ax2.plot(
        grid,
        np.exp(-(grid**2) / (2 * s**2)) / (s * np.sqrt(2 * np.pi)),
        label=f"N(0, σ²_MLE), σ = {s:.1f}",
    )
    ax2.set(xlabel="y − Xβ − b", ylabel="density", title="residuals and the Gaussian MLE")
    ax2.legend(fontsize="small")
    ctx.figure(
        fig,
        ctx.t("Least squares on diabetes", "당뇨병 데이터의 최소제곱"),
        ctx.t(
            "Left: predictions against the truth. Right: the residuals with the Gaussian "
            "noise model whose maximum-likelihood variance is RSS/n.",
            "왼쪽: 실제 값에 대한 예측. 오른쪽: 잔차와, 최대우도 분산이 RSS/n 인 가우시안 "
            "잡음 모형.",
        ),
    )
