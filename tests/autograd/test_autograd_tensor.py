"""The tape itself: accumulation, reuse, deep graphs, no_grad, dtypes, errors, persistence."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest
import torch

import qed
from qed.autograd import Tensor, enable_grad, is_grad_enabled, no_grad


def test_backward_from_scalar_accumulates_into_grad():
    """Two backward passes add up in .grad, as in torch (zero_grad clears)."""
    x = Tensor([1.0, -2.0, 3.0], requires_grad=True)
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)
    (x * 3.0).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data + 3.0)
    x.zero_grad()
    assert x.grad is None


def test_node_used_twice_gets_both_contributions():
    """y = a·a + a with a = 2x: dy/dx = 2·(2a + 1), both paths through a are summed."""
    x = Tensor([0.5, -1.0, 2.0], requires_grad=True)
    a = x * 2.0
    y = a * a + a
    y.sum().backward()
    np.testing.assert_allclose(x.grad, 2 * (2 * (2 * x.data) + 1), rtol=1e-15)
    tx = torch.tensor([0.5, -1.0, 2.0], requires_grad=True)
    ta = tx * 2.0
    (ta * ta + ta).sum().backward()
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())


def test_same_tensor_as_both_operands():
    """x + x and x·x: the same parent twice in one op gets both contributions."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x + x).sum().backward()
    np.testing.assert_array_equal(x.grad, [2.0, 2.0])
    x.grad = None
    (x * x).sum().backward()
    np.testing.assert_array_equal(x.grad, 2 * x.data)


def test_diamond_graph_matches_torch():
    """A diamond (one input feeding two branches that join) against torch."""
    rng = np.random.default_rng(0)
    a = rng.standard_normal((3, 3))
    q = Tensor(a, requires_grad=True)
    h = q.tanh()
    ((h @ h.T).sigmoid() * h.exp() - h.mean(axis=0)).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    th = t.tanh()
    ((th @ th.T).sigmoid() * th.exp() - th.mean(dim=0)).sum().backward()
    np.testing.assert_allclose(q.grad, t.grad.numpy(), rtol=1e-12)


def test_deep_chain_does_not_hit_the_recursion_limit():
    """A chain 10,000 ops deep: y = x·cᴺ ⇒ dy/dx = cᴺ (iterative topological sort)."""
    depth = 10_000
    assert depth > sys.getrecursionlimit() // 2
    c = 1.0001
    x = Tensor(np.array(1.5), requires_grad=True)
    y = x
    for _ in range(depth):
        y = y * c
    y.backward()
    assert x.grad == pytest.approx(math.pow(c, depth), rel=1e-10)


def test_backward_with_upstream_gradient():
    """backward(G) computes the vector-Jacobian product Gᵀ·J."""
    x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
    y = x * x
    y.backward(np.array([1.0, 0.5, -1.0]))
    np.testing.assert_array_equal(x.grad, [2.0, 2.0, -6.0])


def test_backward_errors_name_the_fix():
    x = Tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="scalar output"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match="gradient has shape"):
        (x * 2.0).backward(np.ones(3))
    with pytest.raises(RuntimeError, match="does not require a gradient"):
        Tensor([1.0]).sum().backward()
    with pytest.raises(TypeError, match="numeric"):
        Tensor(np.array(["a", "b"]))


def test_no_grad_records_nothing():
    """Inside no_grad() outputs do not require gradients (and nested enable_grad records)."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    with no_grad():
        assert not is_grad_enabled()
        y = x * 2.0
        with enable_grad():
            z = x * 3.0
    assert is_grad_enabled()
    assert not y.requires_grad and y.is_leaf
    assert z.requires_grad
    with pytest.raises(RuntimeError):
        y.sum().backward()


def test_leaf_without_requires_grad_gets_no_grad():
    a = Tensor([1.0, 2.0])
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a * b).sum().backward()
    assert a.grad is None
    np.testing.assert_array_equal(b.grad, a.data)


@pytest.mark.parametrize(
    "op",
    [
        lambda x: x * 2.5 + 1,
        lambda x: (x / 3).exp().log(),
        lambda x: x.tanh().sigmoid().relu(),
        lambda x: (x @ x.T).sum(axis=0),
        lambda x: x.mean(axis=1, keepdims=True) ** 2,
        lambda x: 1.0 - x[:, 1:],
        lambda x: x.reshape(-1).T,
    ],
)
def test_float32_stays_float32(op):
    """Python numbers take the tensor's dtype: float32 in, float32 out and float32 gradients."""
    x = Tensor(
        np.random.default_rng(0).standard_normal((3, 3)).astype(np.float32), requires_grad=True
    )
    out = op(x)
    assert out.dtype == np.float32
    out.sum().backward()
    assert x.grad.dtype == np.float32


def test_integer_data_becomes_float64():
    assert Tensor([1, 2, 3]).dtype == np.float64
    assert Tensor([1, 2], dtype=np.float32).dtype == np.float32


def test_gradient_does_not_alias_upstream_buffers():
    """A leaf's .grad is its own array: changing it does not corrupt another leaf's grad."""
    a = Tensor([1.0, 2.0], requires_grad=True)
    b = Tensor([3.0, 4.0], requires_grad=True)
    (a + b).sum().backward()
    a.grad += 100
    np.testing.assert_array_equal(b.grad, [1.0, 1.0])


def test_tensor_saves_and_loads(tmp_path):
    """qed.save/qed.load keep data, grad and requires_grad."""
    x = Tensor(np.arange(6.0, dtype=np.float32).reshape(2, 3), requires_grad=True)
    (x * x).sum().backward()
    qed.save({"x": x}, tmp_path / "t.qed")
    y = qed.load(tmp_path / "t.qed")["x"]
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_array_equal(y.data, x.data)
    np.testing.assert_array_equal(y.grad, x.grad)
    assert y.dtype == np.float32


def test_repr_and_helpers():
    x = Tensor([1.0, 2.0], requires_grad=True)
    assert "requires_grad=True" in repr(x)
    assert x.shape == (2,) and x.ndim == 1 and x.size == 2 and len(x) == 2
    assert x.detach().requires_grad is False
    assert np.asarray(x) is x.data
    assert (x > 1.5).tolist() == [False, True]
    assert Tensor(3.0).item() == 3.0
