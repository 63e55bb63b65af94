"""Training machinery of the MLP estimators: the network builder and the mini-batch loop.

The notes' mini-batch gradient descent: each epoch shuffles the samples, splits them into
batches and takes one optimizer step per batch on the batch's mean loss, so that the
gradient of a batch is an unbiased estimate of the full-data gradient. ``update_no_improvement`` is
scikit-learn's stopping rule (on the training loss, or on a validation score).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from qed._validation import check_random_state
from qed.autograd.tensor import Tensor
from qed.nn.activations import ELU, GELU, LeakyReLU
from qed.nn.batchnorm import BatchNorm1d
from qed.nn.dropout import Dropout
from qed.nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from qed.nn.module import Module, Sequential
from qed.nn.normalization import LayerNorm

__all__ = [
    "ACTIVATIONS",
    "HE_ACTIVATIONS",
    "build_mlp",
    "batches",
    "weighted_mean",
    "train_epoch",
    "check_finite_loss",
    "update_no_improvement",
    "validation_split",
    "progress",
]

ACTIVATIONS: dict[str, type[Module]] = {
    "relu": ReLU,
    "tanh": Tanh,
    "sigmoid": Sigmoid,
    "logistic": Sigmoid,
    "identity": Identity,
    "gelu": GELU,
    "leaky_relu": LeakyReLU,
    "elu": ELU,
}
# activations whose variance argument gives He's initialisation (ReLU-like); Xavier otherwise
HE_ACTIVATIONS = ("relu", "leaky_relu", "gelu", "elu")


def build_mlp(
    n_in: int,
    hidden: tuple[int, ...],
    n_out: int,
    *,
    activation: str = "relu",
    init: str = "he",
    batch_norm: bool = False,
    layer_norm: bool = False,
    dropout: float = 0.0,
    rng: Any = None,
    dtype: Any = np.float64,
) -> Sequential:
    """Linear(n_in, h₁) → [BatchNorm1d | LayerNorm] → act → [Dropout(p)] → … →
    Linear(h_last, n_out), drawn from ``rng`` (each Dropout gets its own child generator, so
    that a saved and reloaded network draws the same masks)."""
    gen = check_random_state(rng)
    layers: list[Module] = []
    width = n_in
    for h in hidden:
        layers.append(Linear(width, h, init=init, rng=gen, dtype=dtype))
        if batch_norm:
            layers.append(BatchNorm1d(h, dtype=dtype))
        if layer_norm:
            layers.append(LayerNorm(h, dtype=dtype))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout, rng=gen.spawn(1)[0]))
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


def weighted_mean(per_sample: Tensor, w: np.ndarray | None) -> Tensor:
    """Σᵢ wᵢℓᵢ / Σᵢ wᵢ over a batch (scikit-learn's and torch's weighted mean); a batch whose
    weights are all zero contributes 0. ``per_sample`` : (n,) or (n, k), averaged over k."""
    if w is None:
        return per_sample.mean()
    total = float(w.sum()) * (per_sample.data.size // len(w))
    wt = Tensor(w.reshape((-1,) + (1,) * (per_sample.data.ndim - 1)))
    return (per_sample * wt).sum() * (1.0 / total if total > 0 else 0.0)


def train_epoch(
    net: Module,
    optimizer: Any,
    loss_fn: Callable[[Tensor, np.ndarray, np.ndarray | None], Tensor],
    X: np.ndarray,
    Y: np.ndarray,
    W: np.ndarray | None,
    *,
    batch_size: int,
    rng: np.random.Generator,
    avoid_singleton: bool = False,
) -> float:
    """One pass of mini-batch training: shuffle with ``rng``, one optimizer step per batch on
    the batch's (weighted) mean loss. Returns the batch losses averaged with the batch sizes
    (scikit-learn's ``loss_curve_`` entry)."""
    n = len(X)
    order = rng.permutation(n)
    total = 0.0
    net.train()
    for start, end in batches(n, min(batch_size, n), avoid_singleton):
        idx = order[start:end]
        optimizer.zero_grad()
        loss = loss_fn(net(Tensor(X[idx])), Y[idx], None if W is None else W[idx])
        loss.backward()
        optimizer.step()
        total += float(loss.data) * (end - start)
    net.eval()
    return total / n


def check_finite_loss(loss: float, epoch: int) -> None:
    if not np.isfinite(loss):
        raise FloatingPointError(
            f"the training loss became {loss} at epoch {epoch}; lower learning_rate or "
            "standardise the features."
        )


def update_no_improvement(
    count: int, best: float, value: float, tol: float
) -> tuple[int, float, bool]:
    """scikit-learn's stopping counter for a quantity to minimise (its
    ``_update_no_improvement_count``): an epoch counts as no improvement when
    value > best − tol, and the count resets otherwise; ``best`` is the lowest value so far.
    Returns (count, best, improved) with improved = value < best (a new best to keep).
    Pass −score and −best for a score to maximise (scikit-learn's validation accuracy / R²).
    Training stops once count > n_iter_no_change.
    """
    count = count + 1 if value > best - tol else 0
    if value < best:
        return count, value, True
    return count, best, False


def validation_split(
    arrays: list[np.ndarray | None],
    fraction: float,
    seed: int,
    stratify: np.ndarray | None,
) -> tuple[list, list]:
    """Hold out ``fraction`` of the samples (scikit-learn's ``train_test_split``, stratified by
    class for a classifier, as scikit-learn's MLP does). Returns (train arrays, validation
    arrays); None entries stay None. Raises a ValueError naming the fix when the split cannot
    give at least 2 validation samples (or one of each class) and 1 training sample."""
    from sklearn.model_selection import train_test_split

    n = len(arrays[0])
    n_val = int(np.ceil(fraction * n))
    n_classes = 0 if stratify is None else len(np.unique(stratify))
    least = 0 if stratify is None else int(np.bincount(stratify).min(initial=n))
    if (
        n_val < max(2, n_classes)
        or n - n_val < max(1, n_classes)
        or (stratify is not None and least < 2)
    ):
        raise ValueError(
            f"early_stopping needs a validation split of at least 2 samples (and, for a "
            f"classifier, 2 samples of every class): validation_fraction={fraction} of "
            f"{n} samples gives {n_val} validation samples"
            + (f" for {n_classes} classes (the rarest has {least})" if stratify is not None else "")
            + "; increase validation_fraction, provide more samples, or set early_stopping=False."
        )
    present = [a for a in arrays if a is not None]
    parts = train_test_split(*present, test_size=fraction, random_state=seed, stratify=stratify)
    train, val, it = [], [], iter(range(len(present)))
    for a in arrays:
        if a is None:
            train.append(None), val.append(None)
        else:
            k = next(it)
            train.append(parts[2 * k]), val.append(parts[2 * k + 1])
    return train, val


@contextlib.contextmanager
def progress(
    epochs: int, enabled: bool, name: str
) -> Iterator[Callable[[int, float, float | None], None]]:
    """A progress bar with the loss (and validation score) per epoch (rich if installed)."""

    def text(epoch: int, loss: float, score: float | None) -> str:
        val = "" if score is None else f", validation score {score:.5g}"
        return f"{name} epoch {epoch + 1}/{epochs}: loss {loss:.6g}{val}"

    if not enabled:
        yield lambda epoch, loss, score=None: None
        return
    try:
        from rich.progress import Progress
    except ImportError:  # rich is an optional extra
        yield lambda epoch, loss, score=None: print(text(epoch, loss, score))
        return
    with Progress(transient=False) as bar:
        task = bar.add_task(f"{name} training", total=epochs)

        def update(epoch: int, loss: float, score: float | None = None) -> None:
            val = "" if score is None else f" val {score:.5g}"
            bar.update(task, advance=1, description=f"{name} loss {loss:.5g}{val}")

        yield update
