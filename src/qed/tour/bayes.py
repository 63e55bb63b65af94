"""Chapter 2 — Bayes' rule and the coin: Bernoulli likelihood, Beta prior, MLE and MAP."""

from __future__ import annotations

import numpy as np

TITLE = "Bayes: Bernoulli likelihood, Beta prior, MLE and MAP"
TITLE_KO = "베이즈: 베르누이 likelihood, 베타 prior, MLE와 MAP"
SECTION = "prior / likelihood / evidence / posterior; Bernoulli R.V. (coin toss); Beta(α, β)"
SECTION_KO = "prior / likelihood / evidence / posterior; Bernoulli R.V (동전 던지기); Beta(α, β)"
FORMULA = (
    r"p(\theta \mid \text{data}) = \frac{p(\text{data} \mid \theta)\, p(\theta)}{p(\text{data})}",
    r"p(x \mid \theta) = \theta^{\sum x_i}(1-\theta)^{n-\sum x_i}"
    r" \;\Rightarrow\; \theta_{\text{MLE}} = \frac{\sum x_i}{n}",
    r"\text{Beta}(\alpha, \beta) = \frac{\Gamma(\alpha+\beta)}{\Gamma(\alpha)\,\Gamma(\beta)}"
    r" x^{\alpha-1}(1-x)^{\beta-1}, \quad 0 \le x \le 1",
    r"p(\theta \mid x) \propto \underbrace{1}_{p(\theta)} \cdot \underbrace{\theta^7(1-\theta)^3}_{p(x|\theta)}"
    r" = \text{Beta}(8, 4): \quad \theta_{\text{MAP}} = \theta_{\text{MLE}} = 0.7",
    r"p(\theta \mid x) \propto \underbrace{\theta(1-\theta)}_{p(\theta)} \cdot \theta^7(1-\theta)^3"
    r" = \text{Beta}(9, 5): \quad \theta_{\text{MAP}} = \frac{8}{12} = 0.666\ldots",
)


def run(ctx) -> None:
    from qed.bayes import BetaBernoulli, bernoulli_mle
    from qed.datasets import load_breast_cancer

    flips = np.array([1] * 7 + [0] * 3)
    uniform = BetaBernoulli(1.0, 1.0).fit(flips)
    informed = BetaBernoulli(2.0, 2.0).fit(flips)
    ctx.compare("θ_MLE (7 heads, 3 tails)", bernoulli_mle(flips), 0.7, "the notes")
    ctx.compare("θ_MAP under Beta(1, 1)", uniform.map_, 0.7, "the notes")
    ctx.compare("θ_MAP under Beta(2, 2)", informed.map_, 2 / 3, "the notes")
    ctx.compare(
        "posterior under Beta(2, 2): (a, b)", [informed.a_, informed.b_], [9.0, 5.0], "the notes"
    )
    grid = np.linspace(0.01, 0.99, 99)

    def scipy_pdf():
        from scipy.stats import beta

        return beta(9, 5).pdf(grid)

    ctx.compare(
        "posterior density Beta(9, 5) on a grid",
        informed.posterior_.pdf(grid),
        scipy_pdf,
        "scipy.stats.beta",
        rtol=1e-12,
    )

    def scipy_interval():
        from scipy.stats import beta

        return beta(9, 5).interval(0.95)

    ctx.compare(
        "95% credible interval",
        informed.interval(0.95),
        scipy_interval,
        "scipy.stats.beta.interval",
        rtol=1e-10,
    )
    ctx.compare("P(next toss = heads) = a/(a + b)", informed.predictive(), 9 / 14, "closed form")
    ctx.certificate("BetaBernoulli(2, 2) on 7H3T", informed.certificate())

    _, y = load_breast_cancer(return_X_y=True)
    cancer = BetaBernoulli(1.0, 1.0).fit(y)
    lo, hi = cancer.interval(0.95)
    ctx.note(
        f"Breast cancer: {int(y.sum())} of {y.size} samples are labelled 1; θ_MLE = "
        f"{cancer.mle_:.4f}, posterior Beta({cancer.a_:g}, {cancer.b_:g}), 95% credible "
        f"interval [{lo:.4f}, {hi:.4f}].",
        ko=f"유방암 데이터: {y.size}개 중 {int(y.sum())}개가 1. θ_MLE = {cancer.mle_:.4f}, "
        f"posterior Beta({cancer.a_:g}, {cancer.b_:g}), 95% 신용구간 [{lo:.4f}, {hi:.4f}].",
    )
    ctx.compare("θ_MLE on breast cancer labels", cancer.mle_, float(np.mean(y)), "numpy mean")
    ctx.certificate("BetaBernoulli(1, 1) on breast-cancer labels", cancer.certificate())

    _explore_prior(ctx, flips)


def _explore_prior(ctx, flips: np.ndarray) -> None:
    """The prior's a and b against the notes' 7 heads and 3 tails: every frame is a fit."""
    from scipy.stats import beta as beta_dist

    from qed.bayes import BetaBernoulli
    from qed.tour.interactive import Explorable, line, vline

    fig = Explorable(
        "bayes-prior",
        ctx.t(
            "Beta prior and posterior, MLE and MAP: choose the prior",
            "베타 prior와 posterior, MLE와 MAP: prior를 골라 보기",
        ),
        ctx.t(
            "Prior Beta(a, b) (dashed), the likelihood θ⁷(1 − θ)³ normalised (dotted) and the "
            "posterior Beta(a + 7, b + 3); the MAP moves from the MLE 0.7 towards the prior's "
            "mode as a and b grow.",
            "prior Beta(a, b) (점선), 정규화한 likelihood θ⁷(1 − θ)³ (가는 점선)과 posterior "
            "Beta(a + 7, b + 3). a, b가 커질수록 MAP는 MLE 0.7에서 prior 쪽으로 옮겨 간다.",
        ),
    )
    values = [0.5, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0, 8.0, 12.0, 20.0]
    names = [f"{v:g}" for v in values]
    a_values = fig.control("a", values, names=names, initial=3)
    b_values = fig.control("b", values, names=names, initial=3)
    theta = np.linspace(0.0025, 0.9975, 160)
    likelihood = beta_dist(8, 4).pdf(theta)
    fig.panel(
        ctx.t("7 heads, 3 tails", "산정결과 H 7 T 3"),
        xlabel="θ",
        ylabel=ctx.t("density", "밀도"),
        xlim=(0.0, 1.0),
        ylim=(0.0, 6.5),
        static=[line(theta, likelihood, color=7, dash=True, width=1.2, label="likelihood")],
    )
    maps, expected = [], []
    for i, a in enumerate(a_values):
        for j, b in enumerate(b_values):
            model = BetaBernoulli(a, b).fit(flips)
            maps.append(model.map_)
            h, t = a + 7, b + 3
            expected.append((h - 1) / (h + t - 2) if h > 1 and t > 1 else float(h > t))
            series = [
                line(theta, beta_dist(a, b).pdf(theta), color=0, dash=True, label="prior"),
                line(theta, model.posterior_.pdf(theta), color=1, label="posterior"),
                vline(model.mle_, color=2, label=f"MLE {model.mle_:.3f}"),
                vline(model.map_, color=3, dash=False, label=f"MAP {model.map_:.3f}"),
            ]
            text = (
                f"prior Beta({a:g}, {b:g}) → posterior Beta({model.a_:g}, {model.b_:g}): "
                f"MAP = {model.map_:.4f}, "
                + ctx.t("posterior mean", "posterior 평균")
                + f" = {model.mean_:.4f}, MLE = {model.mle_:.1f}"
            )
            fig.frame((i, j), [series], text)
    ctx.compare(
        ctx.t(
            "MAP in all 100 frames (a, b from 0.5 to 20)",
            "모든 100개 프레임의 MAP (a, b = 0.5 … 20)",
        ),
        maps,
        expected,
        "(a + 6)/(a + b + 8)",
        rtol=1e-12,
    )
    ctx.explorable(fig)
