"""Chapter 9 — gradient descent, SGD and mini-batches; activations and their derivatives."""

from __future__ import annotations

import numpy as np

from qed.tour._common import new_figure

TITLE = "Training: GD, SGD, mini-batches and activations"
TITLE_KO = "학습: GD, SGD, mini-batch와 활성화 함수"
SECTION = "Gradient Descent; Full Batch / Stochastic / Mini Batch GD; σ', tanh', ReLU'"
SECTION_KO = "Gradient Descent; Full Batch / Stochastic / Mini Batch GD; σ', tanh', ReLU'"
FORMULA = (
    r"\theta_{k+1} = \theta_k - \alpha\nabla\mathcal{L}(\theta_k)",
    r"\bar{\nabla} f(x) = \frac{1}{N}\sum_{i=1}^N \nabla f_i(x) \;(\text{full batch}), \qquad"
    r" \tilde{\nabla} f(x) = \nabla f_i(x) \;(\text{stochastic})",
    r"\sigma' = \sigma(1 - \sigma), \qquad (\tanh)' = 1 - (\tanh)^2, \qquad"
    r" (\text{ReLU})'(z) = \begin{cases} 1 & z > 0 \\ 0 & \text{else} \end{cases}",
)


def run(ctx) -> None:
    from qed.autograd import Tensor
    from qed.datasets import load_digits
    from qed.nn import MLPClassifier
    from qed.nn import functional as F

    z = np.linspace(-4, 4, 401)
    acts = {"sigmoid": F.sigmoid, "tanh": F.tanh, "relu": F.relu}
    values, grads = {}, {}
    for name, fn in acts.items():
        t = Tensor(z, requires_grad=True)
        out = fn(t)
        out.sum().backward()
        values[name], grads[name] = np.asarray(out.data), np.asarray(t.grad)
    s = values["sigmoid"]
    ctx.compare(
        "σ' from the tape = σ(1 − σ)", grads["sigmoid"], s * (1 - s), "the notes", rtol=1e-12
    )
    ctx.compare(
        "tanh' = 1 − tanh²", grads["tanh"], 1 - values["tanh"] ** 2, "the notes", rtol=1e-12
    )
    ctx.compare("ReLU' = 1[z > 0]", grads["relu"], (z > 0).astype(float), "the notes")

    def torch_grads():
        import torch

        out = []
        for fn in (torch.sigmoid, torch.tanh, torch.relu):
            t = torch.tensor(z, requires_grad=True)
            fn(t).sum().backward()
            out.append(t.grad.numpy())
        return np.concatenate(out)

    ctx.compare(
        "all three derivatives on 401 points",
        np.concatenate([grads[k] for k in acts]),
        torch_grads,
        "PyTorch autograd",
        rtol=1e-12,
    )
    fig, (ax, ax2) = new_figure(1, 2, width=10.0)
    for name in acts:
        ax.plot(z, values[name], label=name)
        ax2.plot(z, grads[name], label=f"{name}'")
    ax.set(xlabel="z", title="activations")
    ax2.set(xlabel="z", title="derivatives, by reverse-mode autodiff")
    ax.legend(fontsize="small")
    ax2.legend(fontsize="small")
    ctx.figure(
        fig,
        ctx.t("Activations and their derivatives", "활성화 함수와 그 도함수"),
        ctx.t(
            "σ' peaks at ¼ and vanishes in the tails, tanh' at 1; ReLU' is a step — the "
            "reason ReLU networks keep gradients alive.",
            "σ'의 최댓값은 ¼이고 꼬리에서 사라지며, tanh'의 최댓값은 1. ReLU'는 계단 함수라서 "
            "ReLU 네트워크는 gradient를 살려 둔다.",
        ),
    )

    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    perm = np.random.default_rng(0).permutation(len(y))
    tr, te = perm[:1400], perm[1400:]
    curves, models = {}, {}
    settings = [
        ("full batch (GD)", 1400, 0.5),
        ("mini-batch 100", 100, 0.1),
        ("mini-batch 10 (≈ SGD)", 10, 0.02),
    ]
    for label, batch, lr in settings:
        m = MLPClassifier(
            (64,), optimizer="sgd", learning_rate=lr, batch_size=batch, epochs=25, random_state=0
        ).fit(X[tr], y[tr])
        curves[label], models[label] = np.asarray(m.loss_curve_), m
        ctx.note(
            f"{label}: {len(m.loss_curve_)} epochs of {int(np.ceil(1400 / batch))} steps, "
            f"test accuracy {m.score(X[te], y[te]):.3f}.",
            ko=f"{label}: {len(m.loss_curve_)} epoch × {int(np.ceil(1400 / batch))} 단계, "
            f"테스트 정확도 {m.score(X[te], y[te]):.3f}.",
        )
    adam = MLPClassifier(
        (64,), optimizer="adam", learning_rate=0.01, batch_size=100, epochs=60, random_state=0
    ).fit(X[tr], y[tr])
    ctx.note(
        f"Adam (lr 0.01, batch 100, 60 epochs): test accuracy {adam.score(X[te], y[te]):.3f}.",
        ko=f"Adam (lr 0.01, batch 100, 60 epoch): 테스트 정확도 {adam.score(X[te], y[te]):.3f}.",
    )

    def sk_mlp():
        import warnings

        from sklearn.neural_network import MLPClassifier as SkMLP

        sk = SkMLP(
            (64,),
            solver="adam",
            learning_rate_init=0.01,
            batch_size=100,
            max_iter=60,
            tol=0.0,
            n_iter_no_change=1000,
            alpha=0.0,
            random_state=0,
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return sk.fit(X[tr], y[tr]).score(X[te], y[te])

    ctx.compare(
        "test accuracy, Adam (different random init and batches)",
        adam.score(X[te], y[te]),
        sk_mlp,
        "scikit-learn MLPClassifier, same architecture and optimizer",
        rtol=0.0,
        atol=0.03,
    )
    ctx.note(
        "A network's loss is not convex, so its certificate claims less than a convex "
        "model's: the loss fell, the gradient norm shrank below tol = 1% of its start, and "
        "the Hessian (probed by Hessian-vector products) has no direction of significant "
        "negative curvature; no bound on the distance to a global minimum exists.",
        ko="신경망의 loss는 convex가 아니므로 그 증명서는 convex 모형보다 적게 주장한다: loss가 "
        "줄었고, gradient 크기가 처음의 1% (tol) 아래로 줄었으며, Hessian (Hessian-vector "
        "곱으로 조사)에 뚜렷한 음의 곡률 방향이 없다; 전역 최솟값까지의 거리에 대한 상한은 "
        "존재하지 않는다.",
    )
    ctx.certificate("MLPClassifier (Adam) on digits", adam.certificate(X[tr], y[tr]))
    fig, ax = new_figure(width=7.0, height=4.0)
    for label, c in curves.items():
        ax.semilogy(np.arange(1, len(c) + 1), c, "o-", ms=3, label=label)
    ax.set(
        xlabel="epoch",
        ylabel="training cross entropy",
        title="digits, 64-64-10 ReLU network, plain SGD",
    )
    ax.legend(fontsize="small")
    ctx.figure(
        fig,
        ctx.t("Full batch vs mini-batch vs SGD", "Full batch 대 mini-batch 대 SGD"),
        ctx.t(
            "One epoch of full-batch GD is one step; smaller batches take many noisy steps "
            "per epoch and fall faster per pass over the data.",
            "full batch GD의 한 epoch는 한 단계. 작은 batch는 epoch마다 잡음 섞인 많은 단계를 "
            "밟아 데이터를 한 번 훑을 때 더 빨리 내려간다.",
        ),
    )
