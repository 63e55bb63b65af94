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
    from qed.theory import init_std, init_variance, predicted_variance
    from qed.theory.plotting import plot_init_variance

    depth, width = 12, 256
    curves, predicted = {}, {}
    for scheme in ("xavier", "he"):
        for act in ("relu", "tanh"):
            label = f"{scheme}, {act}"
            curves[label] = init_variance(depth, width, scheme, act, random_state=0, n_samples=500)
            if act == "relu":
                predicted[label] = predicted_variance(depth, scheme, act)
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
        f"(2^−{depth} = {2.0**-depth:.1e})."
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
    ctx.figure(
        plot_init_variance(curves, predicted),
        "Variance through depth: Xavier vs He",
        "E[h²] after each layer of a random network; dotted lines are the notes' "
        "(½·D_in·σ²)^l. He keeps ReLU networks level, Xavier halves the signal at every "
        "ReLU layer; tanh contracts under both.",
    )
