"""Chapter 10 — initialisation: variance through depth under Xavier and He."""

from __future__ import annotations

import numpy as np

TITLE = "Initialisation: Xavier and He"
TITLE_KO = "초기화: Xavier와 He"
SECTION = "Var(z) = D_in σ² S; Xavier σ² = 1/D_in; He σ² = 2/D_in; Uni(−√3σ, √3σ)"
SECTION_KO = "Var(z) = D_in σ² S; Xavier σ² = 1/D_in; He σ² = 2/D_in; Uni(−√3σ, √3σ)"
FORMULA = (
    r"z = \sum_{i=1}^{D_{in}} w_i x_i, \quad \mathbb{E}[w_i] = 0, \; \text{Var}[w_i] = \sigma^2, \; S = \mathbb{E}[x^2]"
    r" \;\Rightarrow\; \text{Var}(z) = D_{in}\,\sigma^2 S",
    r"h = \text{ReLU}(z) \;\Rightarrow\; \mathbb{E}[h^2] = \int_0^\infty z^2 p(z)\,dz = \frac{1}{2}\mathbb{E}[z^2]"
    r" = \frac{1}{2} D_{in}\,\sigma^2 S",
    r"\text{Xavier: } \sigma_{\text{ref}}^2 = \frac{1}{D_{in}}, \qquad \text{He: } \sigma_{\text{ref}}^2 = \frac{2}{D_{in}}",
    r"w \sim \mathcal{N}(0, \sigma_{\text{ref}}^2) \;\text{ or }\; w \sim \text{Uni}(-\sqrt{3}\sigma_{\text{ref}}, \sqrt{3}\sigma_{\text{ref}}),"
    r" \quad \int_{-b}^{b} \frac{x^2}{2b}\,dx = \frac{b^2}{3}",
)


def run(ctx) -> None:
    from qed.nn import init
    from qed.theory import init_std, init_variance

    depth, width = 12, 256
    curves = {}
    for scheme in ("xavier", "he"):
        label = f"{scheme}, relu"
        curves[label] = init_variance(depth, width, scheme, "relu", random_state=0, n_samples=500)
    for label, per_layer in (("xavier, relu", 0.5), ("he, relu", 1.0)):
        v = curves[label]
        ctx.compare(
            f"{label}: mean factor per layer (E[h_L²]/S)^(1/L)",
            (v[-1] / v[0]) ** (1 / depth),
            per_layer,
            "½·D_in·σ² (the notes)",
            rtol=0.05,
        )
    ctx.note(
        f"Through {depth} ReLU layers of width {width}: He keeps E[h²] ≈ "
        f"{curves['he, relu'][-1]:.2f}, Xavier shrinks it to {curves['xavier, relu'][-1]:.1e} "
        f"(2^−{depth} = {2.0**-depth:.1e}).",
        ko=f"너비 {width}인 ReLU 층 {depth}개를 지나며 He는 E[h²] ≈ "
        f"{curves['he, relu'][-1]:.2f}를 유지하고, Xavier는 {curves['xavier, relu'][-1]:.1e}로 "
        f"줄인다 (2^−{depth} = {2.0**-depth:.1e}).",
    )
    rng = np.random.default_rng(0)
    w = np.empty((512, 512))
    init.he_normal_(w, rng=rng)
    ctx.compare(
        "He normal: sample std of a 512 × 512 weight",
        w.std(),
        np.sqrt(2 / 512),
        "√(2/D_in)",
        rtol=0.01,
    )
    init.he_uniform_(w, rng=rng)
    ctx.compare(
        "He uniform: max |w| (bound √3σ)",
        np.abs(w).max(),
        np.sqrt(3) * np.sqrt(2 / 512),
        "√3·√(2/D_in)",
        rtol=0.001,
    )

    def torch_std():
        import torch

        return [
            torch.nn.init.calculate_gain("relu") / np.sqrt(512),
            torch.nn.init.calculate_gain("linear") / np.sqrt(512),
        ]

    ctx.compare(
        "σ_He, σ_Xavier(fan-in) for D_in = 512",
        [init_std("he", 512), init_std("xavier", 512)],
        torch_std,
        "torch.nn.init.calculate_gain / √D_in",
        rtol=1e-12,
    )
    _explore_depth(ctx)


def _explore_depth(ctx, width: int = 128, n_samples: int = 400, max_depth: int = 20) -> None:
    """Scheme, activation and depth: E[h²] layer by layer and the histogram of h, weights
    drawn by qed.nn.init."""
    from qed.nn import init
    from qed.theory import predicted_variance
    from qed.tour.interactive import Explorable, line

    fig = Explorable(
        "init-depth",
        ctx.t("Variance through depth: Xavier vs He", "깊이에 따른 분산: Xavier 대 He"),
        ctx.t(
            f"A random network of width D_in = {width}, weights from qed.nn.init, inputs "
            "x ~ N(0, I) (S = 1). Left: E[h²] after each layer (solid) and the notes' "
            "prediction (½·D_in·σ²)^l for ReLU (dotted). Right: the distribution of the "
            "activations h at the chosen depth (nonzero units only for ReLU).",
            f"너비 D_in = {width} 인 무작위 네트워크, 가중치는 qed.nn.init, 입력 x ~ N(0, I) "
            "(S = 1). 왼쪽: 각 층 뒤의 E[h²] (실선)과 ReLU에 대한 노트의 예측 (½·D_in·σ²)^l "
            "(점선). 오른쪽: 선택한 깊이에서 활성값 h의 분포 (ReLU는 0이 아닌 값만).",
        ),
    )
    schemes = fig.control(
        ctx.t("scheme", "초기화"),
        ["xavier", "he", "xavier_uniform", "he_uniform"],
        names=["Xavier N(0, 1/D_in)", "He N(0, 2/D_in)", "Xavier Uni(±√3σ)", "He Uni(±√3σ)"],
        initial=1,
        kind="select",
    )
    acts = fig.control(ctx.t("activation", "활성화 함수"), ["relu", "tanh"], kind="select")
    depths = fig.control(ctx.t("depth L", "깊이 L"), range(1, max_depth + 1), initial=9)
    fill = {
        "xavier": lambda w, rng: init.xavier_normal_(w, mode="fan_in", rng=rng),
        "he": lambda w, rng: init.he_normal_(w, rng=rng),
        "xavier_uniform": lambda w, rng: init.xavier_uniform_(w, mode="fan_in", rng=rng),
        "he_uniform": lambda w, rng: init.he_uniform_(w, rng=rng),
    }
    fig.panel(
        "E[h²]",
        xlabel=ctx.t("layer l", "층 l"),
        ylabel="E[h²]",
        xlim=(0.0, float(max_depth)),
        ylim=(1e-7, 10.0),
        logy=True,
    )
    fig.panel(ctx.t("activations at depth L", "깊이 L의 활성값"), xlabel="h", ylabel="density")
    factors = {}
    for i, scheme in enumerate(schemes):
        for j, act in enumerate(acts):
            rng = np.random.default_rng(i * 2 + j)
            h = rng.standard_normal((n_samples, width))
            second, hists = [float(np.mean(h * h))], []
            for _ in range(max_depth):
                w = np.empty((width, width))
                fill[scheme](w, rng)
                z = h @ w
                h = np.maximum(z, 0.0) if act == "relu" else np.tanh(z)
                second.append(float(np.mean(h * h)))
                vals = h[h > 0] if act == "relu" else h.ravel()
                hist, edges = np.histogram(vals, bins=40, density=True)
                hists.append((np.repeat(edges, 2)[1:-1], np.repeat(hist, 2)))
            second = np.array(second)
            if act == "relu":
                factors[scheme] = (second[-1] / second[0]) ** (1 / max_depth)
                pred = predicted_variance(max_depth, scheme.removesuffix("_uniform"), "relu")
            for k, depth in enumerate(depths):
                left = [line(np.arange(depth + 1), second[: depth + 1], color=0, label="E[h²]")]
                if act == "relu":
                    left.append(
                        line(
                            np.arange(depth + 1),
                            pred[: depth + 1],
                            color=3,
                            dash=True,
                            label=ctx.t("the notes", "노트의 예측"),
                        )
                    )
                x, y = hists[depth - 1]
                text = f"E[h_L²] = {second[depth]:.3g}"
                fig.frame((i, j, k), [left, [line(x, y, color=1)]], text)
    ctx.compare(
        ctx.t(
            "ReLU, mean factor per layer over 20 layers: Xavier, He (normal and uniform)",
            "ReLU, 20층에 걸친 층당 평균 배율: Xavier, He (정규, 균등)",
        ),
        [factors[s] for s in schemes],
        [0.5, 1.0, 0.5, 1.0],
        "½·D_in·σ² (the notes)",
        rtol=0.1,  # one random network per scheme, width 128: a few per cent of sampling error
    )
    ctx.explorable(fig)
