"""``qed certify --against torch``: a saved MLP rebuilt in PyTorch (float64), same weights.

The network's training loss L(θ) (mean cross-entropy for the classifier, mean squared error
for the regressor, as the network predicts: dropout off, batch norm on its running
statistics) and the norm of its gradient ‖∇θL‖₂ over every parameter are evaluated by qed's
autograd and by torch's. A network's loss is not convex: there is no global optimum to
compare with, so this checks the arithmetic (forward pass, loss, backpropagation), not the
quality of the training.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed.cli._app import CLIError

__all__ = ["NON_CONVEX_NOTE", "qed_loss_and_grad", "torch_network", "torch_loss_and_grad"]

NON_CONVEX_NOTE = (
    "a multilayer network's loss is not convex: there is no global optimum to compare with, "
    "so this compares the loss and gradient of the same weights, not two trainings"
)


def _targets(model: Any, X: np.ndarray, y: np.ndarray) -> np.ndarray:
    if hasattr(model, "classes_"):
        codes = np.searchsorted(model.classes_, y)
        if np.any(codes >= len(model.classes_)) or np.any(model.classes_[codes] != y):
            raise CLIError("the target has labels the network was not trained on")
        return codes.astype(np.int64)
    return np.array(y, dtype=np.float64).reshape(len(X), -1)


def qed_loss_and_grad(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[float, float, np.ndarray]:
    """(L, ‖∇θL‖₂, outputs) by qed's autograd, the network in evaluation mode; the
    network's training mode and gradients are left as they were."""
    from qed.autograd.tensor import Tensor
    from qed.nn.losses import cross_entropy, mse_loss

    net = model.module_
    params = list(net.parameters())
    dtype = params[0].data.dtype
    saved, training = [p.grad for p in params], net.training
    try:
        net.eval()
        for p in params:
            p.grad = None
        out = net(Tensor(np.asarray(X, dtype=dtype)))
        target = _targets(model, X, y)
        if hasattr(model, "classes_"):
            loss = cross_entropy(out, target)
        else:
            loss = mse_loss(out, target.astype(dtype))
        loss.backward()
        squares = sum(
            float(np.sum(np.square(p.grad, dtype=np.float64))) for p in params if p.grad is not None
        )
        return float(loss.data), float(np.sqrt(squares)), np.asarray(out.data, dtype=np.float64)
    finally:
        for p, g in zip(params, saved, strict=True):
            p.grad = g
        net.train(training)


def _torch_layer(layer: Any, nn: Any, torch: Any) -> Any:
    kind = type(layer).__name__
    f64 = {"dtype": torch.float64}
    simple = {"ReLU": nn.ReLU, "Tanh": nn.Tanh, "Sigmoid": nn.Sigmoid, "Identity": nn.Identity}
    if kind in simple:
        return simple[kind]()
    if kind == "Linear":
        return nn.Linear(layer.in_features, layer.out_features, bias=layer.bias is not None, **f64)
    if kind == "GELU":
        return nn.GELU(approximate=layer.approximate)
    if kind == "LeakyReLU":
        return nn.LeakyReLU(layer.negative_slope)
    if kind == "ELU":
        return nn.ELU(layer.alpha)
    if kind == "Dropout":
        return nn.Dropout(layer.p)
    if kind == "BatchNorm1d":
        return nn.BatchNorm1d(
            layer.num_features,
            eps=layer.eps,
            momentum=layer.momentum,
            affine=layer.affine,
            track_running_stats=layer.track_running_stats,
            **f64,
        )
    if kind == "LayerNorm":
        return nn.LayerNorm(
            layer.normalized_shape,
            eps=layer.eps,
            elementwise_affine=layer.elementwise_affine,
            bias=getattr(layer, "bias", None) is not None,
            **f64,
        )
    raise CLIError(f"--against torch: no PyTorch counterpart for the layer {kind}")


def torch_network(model: Any) -> Any:
    """torch.nn.Sequential in float64 with the same layers, weights and buffers."""
    try:
        import torch
        from torch import nn
    except ImportError as exc:  # pragma: no cover - torch is a test dependency
        raise CLIError("--against torch needs PyTorch: pip install torch") from exc
    net = nn.Sequential(*[_torch_layer(layer, nn, torch) for layer in model.module_])
    state = {
        name: torch.as_tensor(
            np.array(value, dtype=np.float64 if value.dtype.kind == "f" else None)
        )
        for name, value in model.module_.state_dict().items()
    }
    missing, unexpected = net.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CLIError(
            f"--against torch: the networks' parameters differ (missing {missing}, "
            f"unexpected {unexpected})"
        )
    return net


def torch_loss_and_grad(
    model: Any, X: np.ndarray, y: np.ndarray
) -> tuple[float, float, np.ndarray]:
    """(L, ‖∇θL‖₂, outputs) by torch's autograd in float64, evaluation mode."""
    import torch
    import torch.nn.functional as F

    net = torch_network(model).eval()
    out = net(torch.as_tensor(np.asarray(X, dtype=np.float64)))
    target = torch.as_tensor(_targets(model, X, y))
    loss = F.cross_entropy(out, target) if hasattr(model, "classes_") else F.mse_loss(out, target)
    loss.backward()
    squares = sum(
        float(torch.sum(p.grad.double() ** 2)) for p in net.parameters() if p.grad is not None
    )
    return float(loss.detach()), float(np.sqrt(squares)), out.detach().numpy().astype(np.float64)
