"""Chapter 12 — batch normalisation and its running statistics."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Batch normalisation"
TITLE_KO = "배치 정규화 (Batch Normalization)"
SECTION = "Batch Normalization: x̃ = (x − μ)/√(σ² + ε), ỹ = γx̃ + β; running μ, σ² with momentum m"
SECTION_KO = "Batch Normalization: x̃ = (x − μ)/√(σ² + ε), ỹ = γx̃ + β; momentum m 으로 running μ, σ²"
FORMULA = (
    r"\tilde{x}_{ij} = \frac{x_{ij} - \mu_j}{\sqrt{\sigma_j^2 + \epsilon}}, \qquad"
    r" \tilde{y}_{ij} = \gamma_j \tilde{x}_{ij} + \beta_j \quad (\text{training: batch } \mu, \sigma^2)",
    r"\mu^{\text{run}} = m\,\mu^{\text{run}} + (1 - m)\,\mu^{\text{batch}}, \qquad"
    r" (\sigma^2)^{\text{run}} = m\,(\sigma^2)^{\text{run}} + (1 - m)\,(\sigma^2)^{\text{batch}}",
)


def run(ctx) -> None:
    from qed import nn
    from qed.autograd import Tensor
    from qed.datasets import load_digits

    X, _ = load_digits(return_X_y=True)
    cols = [10, 20, 26, 36, 43, 50]
    X = X[:, cols]
    rng = np.random.default_rng(0)
    batches = [X[rng.choice(len(X), 32, replace=False)] for _ in range(120)]
    bn = nn.BatchNorm1d(len(cols), momentum=0.1)
    bn.train()
    means, vars_ = [bn.running_mean.copy()], [bn.running_var.copy()]
    first_out = None
    for b in batches:
        out = bn(Tensor(b))
        first_out = np.asarray(out.data) if first_out is None else first_out
        means.append(bn.running_mean.copy())
        vars_.append(bn.running_var.copy())
    means, vars_ = np.array(means), np.array(vars_)
    ctx.compare(
        "training output, batch 1: per-feature mean",
        first_out.mean(0),
        np.zeros(len(cols)),
        "x̃ has mean 0",
        atol=1e-12,
    )
    ctx.compare(
        "training output, batch 1: per-feature variance",
        first_out.var(0),
        batches[0].var(0) / (batches[0].var(0) + 1e-5),
        "σ²/(σ² + ε)",
        rtol=1e-10,
    )
    bn.eval()
    test = X[:50]
    eval_out = np.asarray(bn(Tensor(test)).data)

    def torch_bn():
        import torch

        tbn = torch.nn.BatchNorm1d(len(cols), momentum=0.1).double()
        tbn.train()
        with torch.no_grad():
            for b in batches:
                tbn(torch.tensor(b))
        tbn.eval()
        with torch.no_grad():
            out = tbn(torch.tensor(test)).numpy()
        return tbn.running_mean.numpy(), tbn.running_var.numpy(), out

    ctx.compare(
        "running mean after 120 batches",
        means[-1],
        lambda: torch_bn()[0],
        "torch.nn.BatchNorm1d",
        rtol=1e-12,
    )
    ctx.compare(
        "running variance (unbiased batch variances)",
        vars_[-1],
        lambda: torch_bn()[1],
        "torch.nn.BatchNorm1d",
        rtol=1e-12,
    )
    ctx.compare(
        "eval-mode output (50 × 6)",
        eval_out,
        lambda: torch_bn()[2],
        "torch.nn.BatchNorm1d",
        rtol=1e-10,
        atol=1e-12,
    )
    ctx.note(
        "In evaluation mode the running statistics replace the batch ones, so a single "
        "sample is normalised the same way whichever batch it comes in.",
        ko="평가 모드에서는 running 통계가 batch 통계를 대신하므로, 한 샘플은 어느 batch에 "
        "들어 있든 같은 방식으로 정규화된다.",
    )

    fig, (ax, ax2) = new_figure(1, 2, width=10.0)
    steps = np.arange(len(means))
    for j in range(3):
        (line,) = ax.plot(steps, means[:, j], label=f"pixel {cols[j]}")
        ax.axhline(X[:, j].mean(), color=line.get_color(), ls=":", lw=0.8)
        ax2.plot(steps, vars_[:, j], color=line.get_color(), label=f"pixel {cols[j]}")
        ax2.axhline(X[:, j].var(ddof=1), color=line.get_color(), ls=":", lw=0.8)
    ax.set(xlabel="training batch", ylabel="running mean", title="μ^run ← 0.9·μ^run + 0.1·μ^batch")
    ax2.set(xlabel="training batch", ylabel="running variance", title="(σ²)^run, from 1")
    ax.legend(fontsize="x-small")
    ctx.figure(
        fig,
        ctx.t("Batch-norm running statistics", "Batch-norm running 통계"),
        ctx.t(
            "The running estimates on digits pixels, batches of 32, momentum 0.1: they forget "
            "their start at rate 0.9 per batch and settle around the data's mean and "
            "variance (dotted).",
            "digits 픽셀의 running 추정값 (batch 32, momentum 0.1, 노트의 m = 0.9): batch마다 "
            "0.9의 비율로 처음 값을 잊고 데이터의 평균과 분산 (점선) 근처에 자리 잡는다.",
        ),
    )
