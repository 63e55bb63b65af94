"""Chapter 3 — entropy, KL divergence, mutual information and cross entropy."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Entropy, KL divergence, mutual information"
TITLE_KO = "엔트로피, KL divergence, mutual information"
SECTION = "Entropy; KL Divergence; Jensen; Mutual Information; Cross Entropy"
SECTION_KO = "엔트로피; KL Divergence; Jensen 부등식; Mutual Information; Cross Entropy"
FORMULA = (
    r"h(x) = -\log p(x), \quad H(X) = \mathbb{E}[-\log p(X)] \ge 0, \quad H(X, Y) = H(X) + H(Y \mid X)",
    r"D_{KL}(P \parallel Q) = \sum_x p(x) \log\frac{p(x)}{q(x)} \ge -\log \mathbb{E}_{p}\left[\frac{q(x)}{p(x)}\right] = 0",
    r"I(X; Y) = D_{KL}(p(x, y) \parallel p(x)p(y)) = H(X) + H(Y) - H(X, Y) = H(X) - H(X \mid Y)",
    r"H_p(q) = -\sum_x p(x)\log q(x), \qquad D_{KL}(p \parallel q) = H_p(q) - H(p) \ge 0",
)


def run(ctx) -> None:
    from qed import info
    from qed.datasets import load_iris

    X, y = load_iris(return_X_y=True)
    # petal length in 4 equal-width bins against the species
    edges = np.linspace(X[:, 2].min(), X[:, 2].max(), 5)[1:-1]
    petal = np.digitize(X[:, 2], edges)
    pxy = info.contingency(petal, y)
    px, py = pxy.sum(axis=1), pxy.sum(axis=0)
    mi = info.mutual_information(pxy)
    ctx.note(
        f"Iris: petal length binned into 4 bins against the 3 species; I(X; Y) = "
        f"{mi:.4f} nats of the H(Y) = {info.entropy(py):.4f} available.",
        ko=f"Iris: 꽃잎 길이를 4개 구간으로 나누어 3개 품종과 비교. I(X; Y) = {mi:.4f} nats "
        f"(H(Y) = {info.entropy(py):.4f} 중). 독립이면 0, 의존할수록 커진다.",
    )

    def scipy_entropy(p, q=None):
        from scipy.stats import entropy

        return entropy(p, q)

    ctx.compare("H(species) = log 3", info.entropy(py), np.log(3), "closed form", rtol=1e-12)
    ctx.compare(
        "H(petal bin)",
        info.entropy(px),
        lambda: scipy_entropy(px),
        "scipy.stats.entropy",
        rtol=1e-12,
    )
    ctx.compare(
        "H(X, Y) = H(X) + H(Y | X)",
        info.joint_entropy(pxy),
        info.entropy(px) + info.conditional_entropy(pxy),
        "chain rule",
        rtol=1e-12,
    )
    ctx.compare(
        "I = H(X) + H(Y) − H(X, Y)",
        mi,
        info.entropy(px) + info.entropy(py) - info.joint_entropy(pxy),
        "identity",
        rtol=1e-12,
    )

    def sk_mi():
        from sklearn.metrics import mutual_info_score

        return mutual_info_score(petal, y)

    ctx.compare("I(X; Y)", mi, sk_mi, "sklearn.metrics.mutual_info_score", rtol=1e-10)
    ctx.compare(
        "I = D_KL(p(x, y) ‖ p(x)p(y))",
        mi,
        lambda: scipy_entropy(pxy.ravel(), np.outer(px, py).ravel()),
        "scipy.stats.entropy",
        rtol=1e-10,
    )
    p, q = px, np.full(4, 0.25)
    kl_pq, kl_qp = info.kl_divergence(p, q), info.kl_divergence(q, p)
    ctx.compare(
        "D_KL(p ‖ uniform)", kl_pq, lambda: scipy_entropy(p, q), "scipy.stats.entropy", rtol=1e-12
    )
    ctx.compare(
        "D_KL = H_p(q) − H(p)",
        kl_pq,
        info.cross_entropy(p, q) - info.entropy(p),
        "identity",
        rtol=1e-12,
    )
    ctx.note(
        f"KL is not symmetric: D_KL(p ‖ u) = {kl_pq:.4f} but D_KL(u ‖ p) = {kl_qp:.4f}.",
        ko=f"KL은 대칭이 아니다 ((x) symmetric): D_KL(p ‖ u) = {kl_pq:.4f}, "
        f"D_KL(u ‖ p) = {kl_qp:.4f}.",
    )
    mu0, mu1 = X[y == 0].mean(0), X[y == 1].mean(0)
    c0, c1 = np.cov(X[y == 0].T), np.cov(X[y == 1].T)

    def torch_gauss_kl():
        import torch
        from torch.distributions import MultivariateNormal, kl_divergence

        return kl_divergence(
            MultivariateNormal(torch.tensor(mu0), torch.tensor(c0)),
            MultivariateNormal(torch.tensor(mu1), torch.tensor(c1)),
        ).item()

    ctx.compare(
        "Gaussian KL(setosa ‖ versicolor)",
        info.gaussian_kl(mu0, c0, mu1, c1),
        torch_gauss_kl,
        "torch.distributions.kl_divergence",
        rtol=1e-8,
    )

    fig, (ax, ax2) = new_figure(1, 2, width=10.0)
    t = np.linspace(0.001, 0.999, 300)
    ax.plot(t, [info.entropy([a, 1 - a], base=2) for a in t], label="H(Bernoulli(θ)) [bits]")
    ax.plot(
        t,
        [info.cross_entropy([0.3, 0.7], [a, 1 - a], base=2) for a in t],
        label="H_p(q), p = Bernoulli(0.3)",
    )
    ax.axvline(0.3, color="gray", ls=":")
    ax.set(xlabel="θ (of q)", ylabel="bits", title="entropy and cross entropy")
    ax.legend(fontsize="small")
    ax2.plot(t, [info.kl_divergence([0.3, 0.7], [a, 1 - a]) for a in t], label="D_KL(p ‖ q)")
    ax2.plot(t, [info.kl_divergence([a, 1 - a], [0.3, 0.7]) for a in t], label="D_KL(q ‖ p)")
    ax2.set(
        xlabel="θ of q = Bernoulli(θ)",
        ylabel="nats",
        ylim=(0, 2.5),
        title="KL ≥ 0, zero only at q = p, not symmetric",
    )
    ax2.legend(fontsize="small")
    ctx.figure(
        fig,
        ctx.t(
            "Entropy, cross entropy and KL divergence", "엔트로피, cross entropy와 KL divergence"
        ),
        ctx.t(
            "Left: binary entropy, and the cross entropy H_p(q) ≥ H(p) with equality at "
            "q = p. Right: the two directions of the KL divergence differ.",
            "왼쪽: 이진 엔트로피와 cross entropy H_p(q) ≥ H(p) (q = p 에서 등호). 오른쪽: KL "
            "divergence의 두 방향은 서로 다르다.",
        ),
    )
