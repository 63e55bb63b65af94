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

    race = optimizer_race(n_steps=1000, plot=True)
    for name in ("quadratic", "rosenbrock"):
        gaps = race[name]["final_gap"]
        best = race[name]["winner"]
        ctx.note(
            f"{race[name]['title']}: after 1000 steps f − f* is "
            + ", ".join(f"{k} {v:.1e}" for k, v in gaps.items())
            + f"; fastest: {best}."
        )
    ctx.figure(
        race["figure"],
        "Optimizer race",
        "Paths on the contours (top) and f(x_t) − f* (bottom) on an ill-conditioned "
        "quadratic (κ = 50) and on Rosenbrock; Adam and RMSProp also under a cosine "
        "schedule.",
    )

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
