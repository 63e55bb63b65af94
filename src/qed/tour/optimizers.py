"""Chapter 14 — momentum, Nesterov, AdaGrad, RMSProp and Adam."""

from __future__ import annotations

import numpy as np

TITLE = "Optimizers: momentum, Nesterov, AdaGrad, RMSProp, Adam"
TITLE_KO = "옵티마이저: momentum, Nesterov, AdaGrad, RMSProp, Adam"
SECTION = "Momentum; Nesterov Momentum; AdaGrad; RMS Prop; Adam (bias correction)"
SECTION_KO = "Momentum; Nesterov Momentum; 가파를 정도 ‖∇f(x)‖: 가파르면 느리게 완만한데 빠르게 (AdaGrad, RMS Prop); Adam (bias correction)"
FORMULA = (
    r"v_{t+1} = \rho v_t - \alpha\nabla f(x_t), \qquad x_{t+1} = x_t + v_{t+1} \quad (\text{momentum})",
    r"v_{t+1} = \rho v_t - \alpha\nabla f(x_t + \rho v_t) \quad (\text{Nesterov})",
    r"x \leftarrow x - \alpha\frac{\nabla f(x_t)}{\sqrt{\sum (\nabla f(x_t))^2}} \quad (\text{AdaGrad}), \qquad"
    r" E[g^2]_t = \beta E[g^2]_{t-1} + (1 - \beta)g_t^2, \; x \leftarrow x - \frac{\eta g_t}{\sqrt{E[g^2]_t}} \quad (\text{RMSProp})",
    r"m_t = \beta_1 m_{t-1} + (1 - \beta_1)g_t, \quad v_t = \beta_2 v_{t-1} + (1 - \beta_2)g_t^2, \quad"
    r" \hat{m}_t = \frac{m_t}{1 - \beta_1^t}, \quad \hat{v}_t = \frac{v_t}{1 - \beta_2^t}, \quad"
    r" x_{t+1} = x_t - \alpha\frac{\hat{m}_t}{\sqrt{\hat{v}_t}}",
    r"g \text{ constant} \;\Rightarrow\; m_k = (1 - \beta_1^k)\,g, \quad v_k = (1 - \beta_2^k)\,g^2",
)


def _rosen_grad(x: np.ndarray) -> np.ndarray:
    return np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2), 200 * (x[1] - x[0] ** 2)])


def run(ctx) -> None:
    from qed.autograd import Tensor
    from qed.optim import SGD, Adam, rules
    from qed.theory import optimizer_race

    race = optimizer_race(n_steps=1000, plot=False)
    for name in ("quadratic", "rosenbrock"):
        gaps = race[name]["final_gap"]
        best = race[name]["winner"]
        ctx.note(
            f"{race[name]['title']}: after 1000 steps f − f* is "
            + ", ".join(f"{k} {v:.1e}" for k, v in gaps.items())
            + f"; fastest: {best}.",
            ko=f"{race[name]['title']}: 1000 단계 후 f − f*: "
            + ", ".join(f"{k} {v:.1e}" for k, v in gaps.items())
            + f"; 가장 빠른 것: {best}.",
        )
    _explore_race(ctx)

    x0 = np.array([-1.5, 2.0])

    def run_shell(make, steps=200):
        p = Tensor(x0.copy(), requires_grad=True)
        opt = make([p])
        path = [x0.copy()]
        for _ in range(steps):
            opt.zero_grad()
            p.grad = _rosen_grad(np.asarray(p.data))
            opt.step()
            path.append(np.asarray(p.data).copy())
        return np.array(path)

    def run_torch(name, steps=200, **kw):
        import torch

        p = torch.tensor(x0.copy(), requires_grad=True)
        opt = getattr(torch.optim, name)([p], **kw)
        path = [x0.copy()]
        for _ in range(steps):
            opt.zero_grad()
            p.grad = torch.tensor(_rosen_grad(p.detach().numpy()))
            opt.step()
            path.append(p.detach().numpy().copy())
        return np.array(path)

    ctx.compare(
        "qed.optim.Adam on Rosenbrock, 200 steps",
        run_shell(lambda p: Adam(p, lr=0.02)),
        lambda: run_torch("Adam", lr=0.02),
        "torch.optim.Adam",
        rtol=1e-10,
        atol=1e-12,
    )
    ctx.compare(
        "SGD, Nesterov momentum 0.9, 200 steps",
        run_shell(lambda p: SGD(p, lr=1e-3, momentum=0.9, nesterov=True)),
        lambda: run_torch("SGD", lr=1e-3, momentum=0.9, nesterov=True),
        "torch.optim.SGD",
        rtol=1e-10,
        atol=1e-12,
    )
    rule = rules.adam(0.1, betas=(0.9, 0.999), eps=0.0)
    params = [np.zeros(3)]
    state = rule.init(params)
    g = [np.array([3.0, -0.5, 1e-4])]
    for _ in range(5):
        params, state = rule.update(g, state, params)
    ctx.compare(
        "Adam, constant g: m_5 = (1 − β₁⁵)g",
        state.m[0],
        (1 - 0.9**5) * g[0],
        "the notes",
        rtol=1e-12,
    )
    ctx.compare(
        "… v_5 = (1 − β₂⁵)g²", state.v[0], (1 - 0.999**5) * g[0] ** 2, "the notes", rtol=1e-12
    )
    ctx.compare(
        "… so every step moves each coordinate by α: x_5",
        params[0],
        -0.5 * np.sign(g[0]),
        "5·α·sign(g)",
        rtol=1e-12,
    )


def _contours(problem: dict, levels: np.ndarray) -> list[np.ndarray]:
    """Level lines of the problem's f on its bounds, as polylines (contourpy, matplotlib's
    own contouring engine)."""
    import contourpy

    x0, x1, y0, y1 = problem["bounds"]
    gx, gy = np.meshgrid(np.linspace(x0, x1, 121), np.linspace(y0, y1, 121))
    pts = np.stack([gx.ravel(), gy.ravel()], axis=1)
    z = np.array([problem["f"](p) for p in pts]).reshape(gx.shape)
    gen = contourpy.contour_generator(gx, gy, z, line_type=contourpy.LineType.Separate)
    return [seg for level in levels for seg in gen.lines(level)]


def _explore_race(ctx, n_steps: int = 200) -> None:
    """The race as a figure to move: problem, optimizer, learning-rate multiple and β."""
    from qed.optim import rules
    from qed.theory import race_problem
    from qed.tour.interactive import Explorable, line, points

    fig = Explorable(
        "optimizer-race",
        ctx.t("Optimizer race", "옵티마이저 경주 (optimizer race)"),
        ctx.t(
            "Paths on the contours (left) and f(x_t) − f* (right) on an ill-conditioned "
            "quadratic (κ = 50) and on Rosenbrock. The learning rate is a multiple of each "
            "optimizer's default (1/β for GD and the momenta); β is ρ for momentum and "
            "Nesterov, the decay of E[g²] for RMSProp and β₁ for Adam (β₂ = 0.999).",
            "조건수 κ = 50 인 이차함수와 Rosenbrock 위에서 등고선 위의 경로 (왼쪽)와 "
            "f(x_t) − f* (오른쪽). 학습률은 각 옵티마이저 기본값의 배수 (GD와 momentum은 1/β). "
            "β는 momentum과 Nesterov의 ρ, RMSProp의 E[g²] 감쇠율, Adam의 β₁ (β₂ = 0.999). "
            "AdaGrad와 RMSProp은 가파르면 느리게, 완만한데 빠르게 움직인다.",
        ),
    )
    problems = fig.control(
        ctx.t("problem", "문제"),
        ["quadratic", "rosenbrock"],
        names=[ctx.t("quadratic, κ = 50", "이차함수, κ = 50"), "Rosenbrock"],
        kind="select",
    )
    names = ["GD", "momentum", "Nesterov", "AdaGrad", "RMSProp", "Adam"]
    optimizers = fig.control(ctx.t("optimizer", "옵티마이저"), names, initial=5, kind="select")
    multiples = fig.control(
        ctx.t("learning rate × default", "학습률 × 기본값"),
        [0.25, 0.5, 1.0, 2.0, 4.0],
        names=["×0.25", "×0.5", "×1", "×2", "×4"],
        initial=2,
    )
    betas = fig.control("β", [0.5, 0.9, 0.99], initial=1)
    fig.panel(
        ctx.t("paths on the contours", "등고선 위의 경로"),
        xlabel="x₁",
        ylabel="x₂",
        xlim=(-5.0, 5.0),
        ylim=(-3.5, 3.5),
    )
    fig.panel(
        "f(x_t) − f*",
        xlabel=ctx.t("step t", "단계 t"),
        ylabel="f − f*",
        xlim=(0.0, float(n_steps)),
        ylim=(1e-10, 1e3),
        logy=True,
    )
    final = {}
    steps = np.arange(n_steps + 1)
    for p, name in enumerate(problems):
        problem = race_problem(name)
        lr = 1.0 / problem["beta"]
        adaptive = 0.1 if name == "quadratic" else 0.02
        base = problem["f"](problem["x0"]) - problem["f_star"]
        levels = base * np.logspace(-4, 0, 9) if name == "quadratic" else np.logspace(-1, 3, 9)
        contour = [
            line(c[:, 0], c[:, 1], color="#c8ccd1", width=0.8) for c in _contours(problem, levels)
        ]
        x0, x1, y0, y1 = problem["bounds"]
        limits = {"xlim": (x0, x1), "ylim": (y0, y1)}
        contour.append(
            points([problem["x_star"][0]], [problem["x_star"][1]], color=3, size=4, label="x*")
        )
        for o, opt in enumerate(optimizers):
            for m, mult in enumerate(multiples):
                for b, beta in enumerate(betas):
                    rule = _rule(opt, mult, beta, lr, adaptive)
                    with np.errstate(over="ignore", invalid="ignore"):
                        path = rules.trajectory(rule, problem["grad"], problem["x0"], n_steps)
                        gap = np.array([problem["f"](x) for x in path]) - problem["f_star"]
                    far = ~np.all(np.abs(path) < 1e3, axis=1)
                    path[far] = np.nan
                    gap[~np.isfinite(gap) | (gap > 1e12)] = np.nan
                    final[(name, opt, mult, beta)] = gap[-1]
                    series = [
                        contour
                        + [
                            line(path[:, 0], path[:, 1], color=1, width=1.6, label=opt),
                            points(path[:1, 0], path[:1, 1], color=0, size=4, label="x₀"),
                        ],
                        [line(steps, np.maximum(gap, 1e-16), color=1, label=opt)],
                    ]
                    text = (
                        f"{opt}: f(x_{n_steps}) − f* = {gap[-1]:.2e}"
                        if np.isfinite(gap[-1])
                        else f"{opt}: " + ctx.t("diverged", "발산")
                    )
                    fig.frame((p, o, m, b), series, text, limits=[limits, None])
    ctx.compare(
        ctx.t(
            "default settings, quadratic: Adam's f − f* after 200 steps equals the race's",
            "기본 설정, 이차함수: 200단계 후 Adam의 f − f*가 race와 같다",
        ),
        final[("quadratic", "Adam", 1.0, 0.9)],
        lambda: _race_gap("quadratic", "Adam", n_steps),
        "qed.theory.optimizer_race",
        rtol=1e-12,
        atol=1e-300,
    )
    ctx.explorable(fig)


def _rule(name: str, mult: float, beta: float, lr: float, adaptive: float):
    """The race's optimizer ``name`` with its learning rate times ``mult`` and β = ``beta``."""
    from qed.optim import rules

    if name == "GD":
        return rules.gd(mult * lr)
    if name == "momentum":
        return rules.momentum(mult * lr, rho=beta)
    if name == "Nesterov":
        return rules.nesterov(mult * lr, rho=beta)
    if name == "AdaGrad":
        return rules.adagrad(mult * 10 * adaptive)
    if name == "RMSProp":
        return rules.rmsprop(mult * adaptive / 2, alpha=beta)
    return rules.adam(mult * adaptive, betas=(beta, 0.999))


def _race_gap(problem: str, name: str, n_steps: int) -> float:
    from qed.theory import optimizer_race

    return float(optimizer_race((problem,), n_steps=n_steps)[problem]["gap"][name][-1])
