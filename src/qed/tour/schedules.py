"""Chapter 11 — learning-rate decay and warm-up."""

from __future__ import annotations

import numpy as np

TITLE = "Learning-rate schedules"
TITLE_KO = "학습률 스케줄 (learning rate decay)"
SECTION = "learning rate decay: fixed points, cosine, linear, inverse sqrt, linear warmup"
SECTION_KO = "learning rate decay: 고정된 지점, cosine, linear, inverse sqrt, linear warmup"
FORMULA = (
    r"\text{cosine: } \alpha_t = \frac{1}{2}\alpha_0\left(1 + \cos\left(\frac{t\pi}{T}\right)\right), \qquad"
    r" \text{linear: } \alpha_t = \alpha_0\left(1 - \frac{t}{T}\right)",
    r"\text{inverse sqrt: } \alpha_t = \frac{\alpha_0}{\sqrt{t}}, \qquad"
    r" \text{linear warm-up: } \alpha_t = \alpha_0 \frac{t + 1}{W} \; (t < W)",
)


def run(ctx) -> None:
    from qed.optim import schedules as S

    T = 100
    scheds = {
        "step decay ×0.1 at 30, 60": S.step_decay(0.1, [30, 60], 0.1),
        "cosine": S.cosine(0.1, T),
        "linear": S.linear(0.1, T),
        "inverse sqrt": S.inverse_sqrt(0.1),
        "warm-up 10 + cosine": S.warmup(S.cosine(0.1, T - 10), 10),
    }
    t = np.arange(T)
    values = {k: np.array([s(int(i)) for i in t]) for k, s in scheds.items()}
    ctx.compare(
        "cosine αₜ, t = 0…99",
        values["cosine"],
        0.05 * (1 + np.cos(t * np.pi / T)),
        "½α₀(1 + cos(tπ/T))",
        rtol=1e-12,
    )
    ctx.compare(
        "linear αₜ", values["linear"], 0.1 * (1 - t / T), "α₀(1 − t/T)", rtol=1e-12, atol=1e-15
    )

    def torch_lrs(make):
        import torch

        p = torch.zeros(1, requires_grad=True)
        opt = torch.optim.SGD([p], lr=0.1)
        sched = make(opt)
        out = []
        for _ in range(T):
            out.append(opt.param_groups[0]["lr"])
            opt.step()
            sched.step()
        return np.array(out)

    def lr_scheduler():
        import torch

        return torch.optim.lr_scheduler

    ctx.compare(
        "cosine",
        values["cosine"],
        lambda: torch_lrs(lambda o: lr_scheduler().CosineAnnealingLR(o, T_max=T)),
        "torch CosineAnnealingLR",
        rtol=1e-10,
    )
    ctx.compare(
        "step decay",
        values["step decay ×0.1 at 30, 60"],
        lambda: torch_lrs(lambda o: lr_scheduler().MultiStepLR(o, [30, 60], 0.1)),
        "torch MultiStepLR",
        rtol=1e-10,
    )
    ctx.compare(
        "linear",
        values["linear"],
        lambda: torch_lrs(
            lambda o: lr_scheduler().LinearLR(o, start_factor=1.0, end_factor=0.0, total_iters=T)
        ),
        "torch LinearLR",
        rtol=1e-10,
        atol=1e-15,
    )
    from qed.optim import plot_schedules

    fig = plot_schedules(scheds, T)
    ax = fig.axes[0]
    ax.set_ylim(0, 0.11)
    ax.set_title("learning-rate schedules, α₀ = 0.1, T = 100")
    ctx.figure(
        fig,
        "Learning-rate schedules",
        "The notes' four decays and a warm-up, as pure functions of the step; each "
        "matches torch.optim.lr_scheduler step for step.",
    )
