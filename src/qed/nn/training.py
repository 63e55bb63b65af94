"""Training machinery of the MLP estimators: the network builder and the mini-batch loop.

The notes' mini-batch gradient descent: each epoch shuffles the samples, splits them into
batches and takes one optimizer step per batch on the batch's mean loss, so that the
gradient of a batch is an unbiased estimate of the full-data gradient.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from qed._validation import check_random_state
from qed.autograd.tensor import Tensor
from qed.nn.batchnorm import BatchNorm1d
from qed.nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from qed.nn.module import Module, Sequential

__all__ = ["ACTIVATIONS", "build_mlp", "batches", "train_epochs", "progress"]

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "identity": Identity,
}


def build_mlp(
    n_in: int,
    hidden: tuple[int, ...],
    n_out: int,
    *,
    activation: str = "relu",
    init: str = "he",
    batch_norm: bool = False,
    rng: Any = None,
    dtype: Any = np.float64,
) -> Sequential:
    """Linear(n_in, h₁) → [BatchNorm1d] → act → … → Linear(h_last, n_out), drawn from ``rng``."""
    gen = check_random_state(rng)
    layers: list[Module] = []
    width = n_in
    for h in hidden:
        layers.append(Linear(width, h, init=init, rng=gen, dtype=dtype))
        if batch_norm:
            layers.append(BatchNorm1d(h, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
        width = h
    layers.append(Linear(width, n_out, init=init, rng=gen, dtype=dtype))
    return Sequential(*layers)


def batches(n: int, batch_size: int, avoid_singleton: bool) -> list[tuple[int, int]]:
    """(start, end) of each mini-batch of n samples."""
    starts = list(range(0, n, batch_size))
    # batch norm cannot normalise a batch of one sample: fold it into the previous batch
    if avoid_singleton and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    ends = starts[1:] + [n]
    return list(zip(starts, ends, strict=True))


def train_epochs(
    net: Module,
    optimizer: Any,
    loss_fn: Callable[[Tensor, np.ndarray], Tensor],
    X: np.ndarray,
    Y: np.ndarray,
    *,
    batch_size: int,
    epochs: int,
    rng: np.random.Generator,
    avoid_singleton: bool = False,
    on_epoch: Callable[[int, float], None] | None = None,
) -> list[float]:
    """Mini-batch training: each epoch shuffles with ``rng`` and steps once per batch.

    Returns the loss of each epoch (the batch losses averaged with the batch sizes).
    """
    n = len(X)
    steps = batches(n, min(batch_size, n), avoid_singleton)
    curve = []
    net.train()
    for epoch in range(epochs):
        order = rng.permutation(n)
        total = 0.0
        for start, end in steps:
            idx = order[start:end]
            optimizer.zero_grad()
            loss = loss_fn(net(Tensor(X[idx])), Y[idx])
            loss.backward()
            optimizer.step()
            total += float(loss.data) * (end - start)
        curve.append(total / n)
        if not np.isfinite(curve[-1]):
            raise FloatingPointError(
                f"the training loss became {curve[-1]} at epoch {epoch + 1}; lower "
                "learning_rate or standardise the features."
            )
        if on_epoch is not None:
            on_epoch(epoch, curve[-1])
    net.eval()
    return curve


@contextlib.contextmanager
def progress(epochs: int, enabled: bool, name: str) -> Iterator[Callable[[int, float], None]]:
    """A progress bar with the loss per epoch (rich if installed, else plain lines)."""
    if not enabled:
        yield lambda epoch, loss: None
        return
    try:
        from rich.progress import Progress
    except ImportError:  # rich is an optional extra
        yield lambda epoch, loss: print(f"{name} epoch {epoch + 1}/{epochs}: loss {loss:.6g}")
        return
    with Progress(transient=False) as bar:
        task = bar.add_task(f"{name} training", total=epochs)

        def update(epoch: int, loss: float) -> None:
            bar.update(task, advance=1, description=f"{name} loss {loss:.5g}")

        yield update
