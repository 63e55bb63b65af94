"""A network's loss as a function of its flattened parameters: value, gradient and
Hessian-vector products, for the smoothness experiments on real networks.

For a model m with parameters θ (all trainable tensors, flattened and concatenated in
``model.parameters()`` order, dimension d) and data (X, y), f(θ) = loss(m_θ(X), y). Its
gradient is one reverse sweep; its Hessian-vector product

    ∇²f(θ)·v = ∇_θ ⟨∇_θ f(θ), v⟩

is a second reverse sweep through the recorded first one (``qed.autograd.grad`` with
``create_graph=True``), so d-dimensional Hessians are probed without ever being formed. The
first sweep is recorded once per point θ and reused for every v (power iteration, Lanczos).

The model is duck-typed (``parameters()`` and a call on a Tensor, as ``qed.nn.Module``), so
this module depends on ``qed.autograd`` only. It is evaluated in its current mode: call
``model.eval()`` first when it has dropout (random masks would make f random) or batch norm
whose running statistics should stay untouched.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from qed._validation import check_array
from qed.autograd import Tensor, enable_grad, grad, no_grad
from qed.autograd import ops as _ops

__all__ = [
    "is_model",
    "network_loss",
    "flat_parameters",
    "set_flat_parameters",
    "loss_and_gradient_at",
    "hessian_vector_product",
]

NETWORK_LOSSES = ("mse", "cross_entropy")


def is_model(obj: Any) -> bool:
    """Whether ``obj`` looks like a network: callable with a ``parameters()`` method."""
    return callable(obj) and callable(getattr(obj, "parameters", None))


def network_loss(loss: Any) -> Callable[[Tensor, np.ndarray], Tensor]:
    """The mean loss of a network's output z against targets y, written with differentiable
    ops (so it has second derivatives):

    - ``"mse"``: (1/(n·k))·Σ(z − y)² (PyTorch's ``MSELoss``; y of shape (n,) matches z (n, 1));
    - ``"cross_entropy"``: −(1/n)·Σᵢ log softmax(zᵢ)_{yᵢ}, y integer classes;
    - a callable ``loss(z, y) -> scalar Tensor``, e.g. ``qed.nn.functional.cross_entropy``.
    """
    if callable(loss):
        return loss
    if loss == "mse":

        def mse(z: Tensor, y: np.ndarray) -> Tensor:
            target = y.reshape(z.data.shape) if y.size == z.data.size else y
            d = _ops.sub(z, np.asarray(target, dtype=z.data.dtype))
            return _ops.mean(_ops.mul(d, d))

        return mse
    if loss == "cross_entropy":

        def cross_entropy(z: Tensor, y: np.ndarray) -> Tensor:
            picked = _ops.getitem(_ops.log_softmax(z, 1), (np.arange(len(y)), y.astype(np.int64)))
            return _ops.neg(_ops.mean(picked))

        return cross_entropy
    raise ValueError(
        f"loss={loss!r} is not supported for a network; use one of {NETWORK_LOSSES} or a "
        "callable loss(output, y) returning a scalar Tensor."
    )


def _trainable(model: Any) -> list[Tensor]:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError(
            "the model has no trainable parameters (none with requires_grad=True); unfreeze "
            "some with model.requires_grad_(True)."
        )
    return params


def flat_parameters(model: Any) -> tuple[list[Tensor], np.ndarray]:
    """The trainable parameters and a float64 copy of them as one vector θ of shape (d,)."""
    params = _trainable(model)
    return params, np.concatenate([np.asarray(p.data, dtype=np.float64).ravel() for p in params])


def set_flat_parameters(params: list[Tensor], theta: np.ndarray) -> None:
    """Write θ back into the parameters, in place (their objects and dtypes are kept)."""
    offset = 0
    for p in params:
        k = p.data.size
        p.data[...] = theta[offset : offset + k].reshape(p.data.shape)
        offset += k


def _check_data(model: Any, X: Any, y: Any, loss: Any) -> tuple[np.ndarray, np.ndarray]:
    if not is_model(model):
        raise TypeError(
            f"expected a network (a qed.nn.Module), got {type(model).__name__}; pass the model "
            "first, then X and y."
        )
    X = check_array(X, input_name="X", dtype=np.float64, ensure_2d=False)
    y = np.asarray(y)
    if y.shape[0] != X.shape[0]:
        raise ValueError(f"X has {X.shape[0]} rows but y has {y.shape[0]} entries.")
    if loss == "cross_entropy" and y.dtype.kind not in "iu":
        if not (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)):
            raise ValueError("loss='cross_entropy' needs integer class labels y.")
    return X, y


def _flat(arrays: list[Any], params: list[Tensor]) -> np.ndarray:
    return np.concatenate(
        [
            np.zeros(p.data.size) if a is None else np.asarray(a, dtype=np.float64).ravel()
            for a, p in zip(arrays, params, strict=True)
        ]
    )


def loss_and_gradient_at(
    model: Any, X: Any, y: Any, loss: Any = "mse"
) -> tuple[Callable[[np.ndarray], float], Callable[[np.ndarray], np.ndarray], np.ndarray]:
    """(f, ∇f, θ₀): the loss and its gradient as functions of a flat θ, and the current θ.

    Calling f or ∇f writes θ into the model; restore θ₀ with ``set_flat_parameters`` after.
    """
    X, y = _check_data(model, X, y, loss)
    fn = network_loss(loss)
    params, theta0 = flat_parameters(model)
    x = Tensor(X, dtype=params[0].data.dtype)

    def f(theta: np.ndarray) -> float:
        set_flat_parameters(params, theta)
        with no_grad():
            return float(fn(model(x), y).data)

    def gradient(theta: np.ndarray) -> np.ndarray:
        set_flat_parameters(params, theta)
        with enable_grad():
            gs = grad(fn(model(x), y), params, allow_unused=True)
        return _flat([None if g is None else g.data for g in gs], params)

    return f, gradient, theta0


def hessian_vector_product(
    model: Any, X: Any, y: Any, loss: Any = "mse"
) -> tuple[float, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """At the model's current parameters θ: (f(θ), ∇f(θ) flat, v ↦ ∇²f(θ)·v on flat vectors).

    The first reverse sweep is recorded once; every product is one more sweep through it.
    """
    X, y = _check_data(model, X, y, loss)
    fn = network_loss(loss)
    params = _trainable(model)
    sizes = [p.data.size for p in params]
    bounds = np.cumsum([0, *sizes])
    with enable_grad():
        value = fn(model(Tensor(X, dtype=params[0].data.dtype)), y)
        if not isinstance(value, Tensor) or value.data.size != 1:
            raise ValueError("the loss must return a scalar Tensor.")
        gs = grad(value, params, create_graph=True, allow_unused=True)
    live = [(i, g) for i, g in enumerate(gs) if g is not None and g.requires_grad]

    def hvp(v: np.ndarray) -> np.ndarray:
        v = np.asarray(v, dtype=np.float64).ravel()
        if v.shape != (bounds[-1],):
            raise ValueError(f"v must have shape ({bounds[-1]},), got {v.shape}.")
        if not live:
            return np.zeros_like(v)
        with enable_grad():
            dot = None
            for i, g in live:
                vi = v[bounds[i] : bounds[i + 1]].reshape(g.data.shape).astype(g.data.dtype)
                term = _ops.sum(_ops.mul(g, vi))
                dot = term if dot is None else _ops.add(dot, term)
            hs = grad(dot, params, allow_unused=True)
        return _flat([None if h is None else h.data for h in hs], params)

    return float(value.data), _flat([None if g is None else g.data for g in gs], params), hvp
