"""``Tensor``: reverse-mode automatic differentiation on numpy arrays with a dynamic tape.

Every operation on tensors that require gradients records, in its output, the tuple of its
``_parents`` and a ``_backward`` function: given ∂L/∂out (an ndarray of the output's shape)
it returns ∂L/∂parent for every parent, the local rule of the chain rule. ``backward()``
walks the recorded graph once in reverse topological order (found iteratively, so a chain
of any depth works) and sums the contributions of every path into each node: a tensor used
twice receives both contributions. Leaves (tensors created by the user with
``requires_grad=True``) accumulate into ``.grad``, an ndarray of their shape and dtype.

Shapes follow numpy broadcasting; the gradient flowing into a broadcast operand is summed
over the broadcast axes (``backward.unbroadcast``) so that ``.grad.shape == .data.shape`` always.
The dtype is preserved: float32 tensors give float32 outputs and float32 gradients.

The operations themselves live in :mod:`qed.autograd.ops`, each with its forward and local
backward side by side; the methods and operators of ``Tensor`` only dispatch to them.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from qed.autograd.backward import run_backward
from qed.persist import register

__all__ = ["Tensor", "no_grad", "enable_grad", "is_grad_enabled", "as_tensor"]


class _GradMode(threading.local):
    enabled = True


_MODE = _GradMode()


def is_grad_enabled() -> bool:
    """Whether operations currently record the tape (False inside ``no_grad()``)."""
    return _MODE.enabled


@contextlib.contextmanager
def no_grad() -> Iterator[None]:
    """Context in which operations record nothing: outputs never require gradients.

    Used for evaluation and for optimizer updates, exactly as ``torch.no_grad()``.
    """
    previous = _MODE.enabled
    _MODE.enabled = False
    try:
        yield
    finally:
        _MODE.enabled = previous


@contextlib.contextmanager
def enable_grad() -> Iterator[None]:
    """Context that re-enables recording inside a ``no_grad()`` block."""
    previous = _MODE.enabled
    _MODE.enabled = True
    try:
        yield
    finally:
        _MODE.enabled = previous


def _as_float_array(data: Any, dtype: Any = None) -> np.ndarray:
    if isinstance(data, Tensor):
        data = data.data
    arr = np.asarray(data, dtype=dtype)
    if dtype is None and arr.dtype.kind not in "fc":
        if arr.dtype.kind not in "biu":
            raise TypeError(
                f"Tensor data must be numeric, got an array of dtype {arr.dtype}; convert it "
                "with np.asarray(data, dtype=float) first."
            )
        arr = arr.astype(np.float64)
    return arr


@register
class Tensor:
    """An ndarray with a gradient: ``data`` (ndarray), ``grad`` (ndarray or None).

    Parameters
    ----------
    data : array_like
        The values. Floating arrays keep their dtype (float32 stays float32); integer and
        boolean data become float64.
    requires_grad : bool, default False
        Record operations on this tensor so that ``backward()`` fills ``.grad``.
    dtype : dtype, optional
        Convert the data to this dtype.

    Examples
    --------
    >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    >>> (x * x).sum().backward()
    >>> x.grad
    array([2., 4., 6.])
    """

    __slots__ = (
        "data",
        "grad",
        "requires_grad",
        "_parents",
        "_backward",
        "_double",
        "__weakref__",
    )
    # make numpy defer to Tensor's reflected operators (ndarray + Tensor -> Tensor.__radd__)
    __array_priority__ = 1000.0

    def __init__(self, data: Any, requires_grad: bool = False, *, dtype: Any = None) -> None:
        self.data: np.ndarray = _as_float_array(data, dtype)
        self.grad: np.ndarray | None = None
        self.requires_grad: bool = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Callable[[np.ndarray], Sequence[np.ndarray | None]] | None = None
        self._double: Callable[[Tensor], Sequence[Tensor | None]] | None = None

    # --- construction of graph nodes (used by ops) -----------------------------------------
    @classmethod
    def _make(
        cls,
        data: np.ndarray,
        parents: tuple[Tensor, ...],
        backward: Callable[[np.ndarray], Sequence[np.ndarray | None]],
        double: Callable[[Tensor], Sequence[Tensor | None]] | None = None,
    ) -> Tensor:
        """An op's output: records ``parents`` and ``backward`` only when the tape is on and
        some parent requires a gradient. ``data`` must already be an ndarray.

        ``double`` is the same local rule on Tensors, written with differentiable ops, used
        by ``create_graph=True``; an op recorded without it has no second derivative."""
        out = cls.__new__(cls)
        out.data = data
        out.grad = None
        if _MODE.enabled and any(p.requires_grad for p in parents):
            out.requires_grad = True
            out._parents = parents
            out._backward = backward
            out._double = double
        else:
            out.requires_grad = False
            out._parents = ()
            out._backward = None
            out._double = None
        return out

    # --- basic properties -------------------------------------------------------------------
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        """True for tensors not produced by a recorded operation."""
        return self._backward is None

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        body = np.array2string(self.data, prefix="Tensor(", separator=", ")
        extra = ", requires_grad=True" if self.requires_grad else ""
        if self.data.dtype != np.float64:
            extra += f", dtype={self.data.dtype}"
        return f"Tensor({body}{extra})"

    def numpy(self) -> np.ndarray:
        """The data (not a copy), as ``torch.Tensor.numpy``."""
        return self.data

    def item(self) -> float:
        return self.data.item()

    def detach(self) -> Tensor:
        """A leaf sharing the data, cut from the graph."""
        return Tensor(self.data)

    def zero_grad(self) -> None:
        self.grad = None

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        if not self.is_leaf:
            raise RuntimeError(
                "requires_grad_ can only change leaf tensors; use .detach() to make a new leaf."
            )
        self.requires_grad = bool(requires_grad)
        return self

    def astype(self, dtype: Any) -> Tensor:
        from qed.autograd import ops

        return ops.astype(self, dtype)

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return self.data if dtype is None else self.data.astype(dtype, copy=False)

    # --- persistence --------------------------------------------------------------------------
    def __qed_state__(self) -> dict[str, Any]:
        return {"data": self.data, "grad": self.grad, "requires_grad": self.requires_grad}

    @classmethod
    def __qed_restore__(cls, state: dict[str, Any]) -> Tensor:
        out = cls(state["data"], requires_grad=state["requires_grad"])
        out.grad = state["grad"]
        return out

    # --- reverse mode ---------------------------------------------------------------------------
    def backward(self, gradient: Any = None, create_graph: bool = False) -> None:
        """Accumulate ∂self/∂leaf (times ``gradient``) into ``.grad`` of every leaf.

        Parameters
        ----------
        gradient : array_like, optional
            The upstream gradient ∂L/∂self, of this tensor's shape. May be omitted only for a
            tensor with one element (a loss), when it is 1.
        create_graph : bool, default False
            Record the backward pass itself, as PyTorch: each leaf's ``.grad`` is then a
            Tensor that depends on the leaves and can be differentiated again (Hessian-vector
            products). Raises ``DoubleBackwardError`` at an op without a second derivative.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() called on a tensor that does not require a gradient: no input of "
                "the computation had requires_grad=True (or it ran inside no_grad())."
            )
        if create_graph:
            g = _graph_gradient(self, gradient)
            run_backward(self, g, create_graph=True)
            return
        if gradient is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a scalar output, but this tensor has "
                    f"shape {self.data.shape}; pass backward(gradient) with that shape, or "
                    "reduce it first (e.g. .sum())."
                )
            gradient = np.ones_like(self.data)
        else:
            gradient = np.array(_as_float_array(gradient), dtype=self.data.dtype, copy=True)
            if gradient.shape != self.data.shape:
                raise ValueError(
                    f"backward(gradient): gradient has shape {gradient.shape} but the tensor "
                    f"has shape {self.data.shape}; they must be equal."
                )
        run_backward(self, gradient)

    # --- operators (dispatch to qed.autograd.ops) ----------------------------------------------
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, other)

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(other, self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, other)

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(other, self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, other)

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(other, self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, other)

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(other, self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, other)

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(other, self)

    def __pow__(self, other: Any) -> Tensor:
        return _ops.pow(self, other)

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow(other, self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __pos__(self) -> Tensor:
        return self

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # comparisons give plain boolean arrays (no gradient), as numpy does
    def __lt__(self, other: Any) -> np.ndarray:
        return self.data < _data(other)

    def __le__(self, other: Any) -> np.ndarray:
        return self.data <= _data(other)

    def __gt__(self, other: Any) -> np.ndarray:
        return self.data > _data(other)

    def __ge__(self, other: Any) -> np.ndarray:
        return self.data >= _data(other)

    __hash__ = object.__hash__

    # --- methods ----------------------------------------------------------------------------
    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum(self, axis=axis, keepdims=keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis=axis, keepdims=keepdims)

    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def abs(self) -> Tensor:
        return _ops.abs(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def max(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The largest entry, or with ``dim`` the pair (values, indices) along it (PyTorch's
        ``torch.max``); see :func:`qed.autograd.reduce.max`."""
        return _reduce.max(self, dim, keepdim)

    def min(self, dim: int | None = None, keepdim: bool = False) -> Any:
        """The smallest entry, or with ``dim`` the pair (values, indices) along it."""
        return _reduce.min(self, dim, keepdim)

    def var(self, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
        """Σ(x − x̄)²/(n − correction) over ``dim`` (PyTorch's default correction=1)."""
        return _reduce.var(self, dim, correction=correction, keepdim=keepdim)

    def std(self, dim: Any = None, *, correction: float = 1, keepdim: bool = False) -> Tensor:
        """√var(x, dim, correction)."""
        return _reduce.std(self, dim, correction=correction, keepdim=keepdim)

    def softmax(self, dim: int) -> Tensor:
        return _reduce.softmax(self, dim)

    def log_softmax(self, dim: int) -> Tensor:
        return _reduce.log_softmax(self, dim)

    def logsumexp(self, dim: int, keepdim: bool = False) -> Tensor:
        return _reduce.logsumexp(self, dim, keepdim)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (torch's names)
        return _select.clamp(self, min, max)

    clip = clamp

    def gather(self, dim: int, index: Any) -> Tensor:
        return _select.gather(self, dim, index)

    def reshape(self, *shape: Any) -> Tensor:
        if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
            shape = tuple(shape[0])
        return _ops.reshape(self, shape)

    def transpose(self, *axes: Any) -> Tensor:
        if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
            axes = tuple(axes[0])
        return _ops.transpose(self, axes or None)

    @property
    def T(self) -> Tensor:  # noqa: N802 (numpy's name)
        return _ops.transpose(self, None)


def _graph_gradient(out: Tensor, gradient: Any) -> Tensor:
    """The seed of a graph sweep: ``gradient`` as a Tensor of ``out``'s shape (1 for a scalar)."""
    if gradient is None:
        if out.data.size != 1:
            raise RuntimeError(
                f"a gradient is needed for a non-scalar output of shape {out.data.shape}; pass "
                "one of that shape, or reduce the output first (e.g. .sum())."
            )
        return Tensor(np.ones_like(out.data))
    g = gradient if isinstance(gradient, Tensor) else Tensor(gradient, dtype=out.data.dtype)
    if g.data.shape != out.data.shape:
        raise ValueError(
            f"the gradient has shape {g.data.shape} but the output has shape "
            f"{out.data.shape}; they must be equal."
        )
    return g


def _data(x: Any) -> Any:
    return x.data if isinstance(x, Tensor) else x


def as_tensor(x: Any, dtype: Any = None) -> Tensor:
    """``x`` itself if it is a Tensor (of ``dtype`` if given), else a new constant Tensor."""
    if isinstance(x, Tensor):
        return x if dtype is None or x.data.dtype == dtype else x.astype(dtype)
    return Tensor(x, dtype=dtype)


from qed.autograd import ops as _ops  # noqa: E402  (ops imports Tensor from this module)
from qed.autograd import reduce as _reduce  # noqa: E402
from qed.autograd import select as _select  # noqa: E402
