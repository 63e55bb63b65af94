"""Chapter 8 — reverse-mode differentiation: W = XY and the backward pass."""

from __future__ import annotations

import numpy as np

TITLE = "Backpropagation"
TITLE_KO = "역전파 (Backpropagation)"
SECTION = "say W = XY, then ∂L/∂X = ∂L/∂W·Yᵀ, ∂L/∂Y = Xᵀ·∂L/∂W"
SECTION_KO = "W = XY 이면 ∂L/∂X = ∂L/∂W·Yᵀ, ∂L/∂Y = Xᵀ·∂L/∂W"
FORMULA = (
    r"W = XY \;\Rightarrow\; \frac{\partial \mathcal{L}}{\partial X} = \frac{\partial \mathcal{L}}{\partial W}\, Y^T,"
    r" \qquad \frac{\partial \mathcal{L}}{\partial Y} = X^T\, \frac{\partial \mathcal{L}}{\partial W}",
)


def run(ctx) -> None:
    from qed import nn
    from qed.autograd import Tensor, gradcheck
    from qed.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:64] / 16.0
    rng = np.random.default_rng(0)
    Y = rng.standard_normal((64, 10)) * 0.1
    C = rng.standard_normal((64, 10))
    xt, yt = Tensor(X, requires_grad=True), Tensor(Y, requires_grad=True)
    W = xt @ yt
    loss = (W.tanh() * C).sum()
    loss.backward()
    G = (1 - np.tanh(X @ Y) ** 2) * C  # ∂L/∂W for L = Σ C ⊙ tanh(W)
    ctx.compare(
        "∂L/∂X = ∂L/∂W·Yᵀ (64 digits × 64 pixels)",
        xt.grad,
        G @ Y.T,
        "the notes' formula",
        rtol=1e-12,
    )
    ctx.compare("∂L/∂Y = Xᵀ·∂L/∂W", yt.grad, X.T @ G, "the notes' formula", rtol=1e-12)

    def torch_grads():
        import torch

        a = torch.tensor(X, requires_grad=True)
        b = torch.tensor(Y, requires_grad=True)
        (torch.tanh(a @ b) * torch.tensor(C)).sum().backward()
        return a.grad.numpy()

    ctx.compare("∂L/∂X", xt.grad, torch_grads, "PyTorch autograd", rtol=1e-12)

    net = nn.Sequential(
        nn.Linear(64, 32, rng=np.random.default_rng(1)),
        nn.ReLU(),
        nn.Linear(32, 10, rng=np.random.default_rng(2)),
    )
    out = net(Tensor(X))
    ce = nn.CrossEntropyLoss()(out, y[:64])
    ce.backward()
    params = list(net.parameters())

    def torch_net():
        import torch

        tnet = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10)
        ).double()
        with torch.no_grad():
            for p, q in zip(tnet.parameters(), params, strict=True):
                p.copy_(torch.tensor(np.asarray(q.data)))
        tl = torch.nn.functional.cross_entropy(tnet(torch.tensor(X)), torch.tensor(y[:64]))
        tl.backward()
        return tl.item(), np.concatenate([p.grad.numpy().ravel() for p in tnet.parameters()])

    ctx.compare(
        "2-layer ReLU net: cross-entropy loss",
        ce.item(),
        lambda: torch_net()[0],
        "PyTorch",
        rtol=1e-12,
    )
    ctx.compare(
        "… and all 2410 parameter gradients",
        np.concatenate([np.asarray(p.grad).ravel() for p in params]),
        lambda: torch_net()[1],
        "PyTorch autograd",
        rtol=1e-10,
        atol=1e-14,
    )
    ok = gradcheck(
        lambda a, b: ((a @ b).tanh() * C[:5, :3]).sum(), X[:5, :4], rng.standard_normal((4, 3))
    )
    ctx.compare("gradcheck (tape vs central differences)", float(ok), 1.0, "finite differences")
    ctx.note(
        "Every operation records its local backward next to its forward; backward() "
        "walks the tape in reverse topological order, summing into each .grad.",
        ko="모든 연산은 forward 옆에 자신의 국소 backward를 기록한다. backward()는 테이프를 "
        "역위상 순서로 거슬러 가며 각 .grad에 더한다.",
    )
