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
    r" \text{linear warm-up: } \alpha_t = \alpha_0 \frac{t}{W} \; (t < W)",
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
    _explore_warmup(ctx)


def _closed_form(decay: str, w: int, T: int, t: np.ndarray) -> np.ndarray:
    """α_t of the notes written out with numpy, independently of qed.optim.schedules."""
    a0, n = 0.1, T - w
    s = np.maximum(t - w, 0).astype(float)
    inner = {
        "constant": np.full(t.shape, a0),
        "step": a0 * 0.1 ** ((s >= 0.3 * n).astype(float) + (s >= 0.6 * n)),
        "cosine": 0.5 * a0 * (1 + np.cos(np.pi * np.minimum(s, n) / n)),
        "linear": a0 * np.maximum(1 - s / n, 0.0),
        "inverse sqrt": a0 / np.sqrt(np.maximum(s, 1.0)),
    }[decay]
    return np.where(t < w, a0 * t / max(w, 1), inner)


def _explore_warmup(ctx) -> None:
    """Warm-up length and decay: the schedule, and Adam on the race's quadratic under it."""
    from qed.optim import rules
    from qed.optim import schedules as S
    from qed.theory import race_problem
    from qed.tour.interactive import Explorable, line

    T = 200
    fig = Explorable(
        "schedules",
        ctx.t("Learning-rate schedules: warm-up and decay", "학습률 스케줄: warm-up과 decay"),
        ctx.t(
            "Left: the learning rate α_t (α₀ = 0.1, T = 200 steps; the decay starts after the "
            "warm-up). Right: Adam with that schedule on an ill-conditioned quadratic "
            "(κ = 50): a constant rate keeps it oscillating around the minimum, a decay "
            "lets it settle, and a warm-up tames the first steps.",
            "왼쪽: 학습률 α_t (α₀ = 0.1, T = 200 단계; decay는 warm-up 후에 시작). 오른쪽: 그 "
            "스케줄로 조건수 κ = 50 인 이차함수에 Adam을 돌린 결과. 고정 학습률은 최소점 주위에서 "
            "계속 진동하고, decay는 수렴하게 하며, warm-up은 처음 단계들을 부드럽게 한다.",
        ),
    )
    decays = fig.control(
        ctx.t("decay", "decay"),
        ["constant", "step", "cosine", "linear", "inverse sqrt"],
        names=ctx.t(
            "constant|step ×0.1 at 30%, 60%|cosine|linear|inverse sqrt",
            "고정|고정된 지점 30%, 60%에서 ×0.1|cosine|linear|inverse sqrt",
        ).split("|"),
        initial=2,
        kind="select",
    )
    warmups = fig.control(ctx.t("warm-up steps W", "warm-up 단계 W"), [0, 5, 10, 20, 40, 80])
    t = np.arange(T)
    fig.panel("α_t", xlabel=ctx.t("step t", "단계 t"), ylabel="α_t", xlim=(0.0, T), ylim=(0, 0.105))
    fig.panel(
        ctx.t("Adam on the quadratic: f(x_t) − f*", "이차함수 위의 Adam: f(x_t) − f*"),
        xlabel=ctx.t("step t", "단계 t"),
        ylabel="f − f*",
        xlim=(0.0, T),
        ylim=(1e-12, 1e2),
        logy=True,
    )
    problem = race_problem("quadratic")
    values, expected = [], []
    for i, decay in enumerate(decays):
        for j, w in enumerate(warmups):
            n = T - w
            inner = {
                "constant": S.constant(0.1),
                "step": S.step_decay(0.1, [int(np.ceil(0.3 * n)), int(np.ceil(0.6 * n))], 0.1),
                "cosine": S.cosine(0.1, n),
                "linear": S.linear(0.1, n),
                "inverse sqrt": S.inverse_sqrt(0.1),
            }[decay]
            sched = S.warmup(inner, w)
            alpha = np.array([sched(int(k)) for k in t])
            values.append(alpha)
            expected.append(_closed_form(decay, w, T, t))
            path = rules.trajectory(rules.adam(sched), problem["grad"], problem["x0"], T)
            gap = np.array([problem["f"](x) for x in path]) - problem["f_star"]
            series = [
                [line(t, alpha, color=0)],
                [line(np.arange(T + 1), np.maximum(gap, 1e-16), color=1)],
            ]
            text = f"f(x_T) − f* = {gap[-1]:.2e}"
            fig.frame((i, j), series, text)
    ctx.compare(
        ctx.t("α_t in all 30 frames", "30개 프레임 전체의 α_t"),
        values,
        expected,
        ctx.t("the notes' formulas (numpy)", "노트의 공식 (numpy)"),
        rtol=1e-12,
        atol=1e-15,
    )
    ctx.explorable(fig)
