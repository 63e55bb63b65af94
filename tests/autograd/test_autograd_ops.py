"""Every op of qed.autograd: gradcheck (central differences) and the same gradients as torch."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qed.autograd import Tensor, gradcheck
from qed.autograd.gradcheck import GradcheckError

torch.set_default_dtype(torch.float64)


def _rand(rng, *shape, positive=False, away_from_zero=False):
    x = rng.standard_normal(shape)
    if positive:
        return np.abs(x) + 0.5
    if away_from_zero:
        return np.where(np.abs(x) < 0.1, 0.5, x)
    return x


# (name, qed function, torch function, input factory)
UNARY = [
    ("neg", lambda a: -a, lambda a: -a, {}),
    ("exp", lambda a: a.exp(), torch.exp, {}),
    ("log", lambda a: a.log(), torch.log, {"positive": True}),
    ("tanh", lambda a: a.tanh(), torch.tanh, {}),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid, {}),
    ("relu", lambda a: a.relu(), torch.relu, {"away_from_zero": True}),
    ("abs", lambda a: a.abs(), torch.abs, {"away_from_zero": True}),
    ("sqrt", lambda a: a.sqrt(), torch.sqrt, {"positive": True}),
    ("pow3", lambda a: a**3, lambda a: a**3, {}),
    ("pow_half", lambda a: a**0.5, lambda a: a**0.5, {"positive": True}),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a, {}),
    ("sum", lambda a: a.sum(), torch.sum, {}),
    ("sum_axis0", lambda a: a.sum(axis=0), lambda a: a.sum(dim=0), {}),
    (
        "sum_axis1_keep",
        lambda a: a.sum(axis=1, keepdims=True),
        lambda a: a.sum(dim=1, keepdim=True),
        {},
    ),
    ("sum_neg_axis", lambda a: a.sum(axis=-1), lambda a: a.sum(dim=-1), {}),
    ("mean", lambda a: a.mean(), torch.mean, {}),
    (
        "mean_axis0_keep",
        lambda a: a.mean(axis=0, keepdims=True),
        lambda a: a.mean(dim=0, keepdim=True),
        {},
    ),
    ("mean_axes", lambda a: a.mean(axis=(0, 1)), lambda a: a.mean(dim=(0, 1)), {}),
    ("reshape", lambda a: a.reshape(-1), lambda a: a.reshape(-1), {}),
    (
        "reshape_tuple",
        lambda a: a.reshape((a.shape[1], a.shape[0])),
        lambda a: a.reshape(a.shape[1], a.shape[0]),
        {},
    ),
    ("T", lambda a: a.T, lambda a: a.T, {}),
    ("transpose", lambda a: a.transpose(1, 0), lambda a: a.permute(1, 0), {}),
    ("getitem_basic", lambda a: a[1:, ::2], lambda a: a[1:, ::2], {}),
    ("getitem_int", lambda a: a[0], lambda a: a[0], {}),
    ("getitem_repeated", lambda a: a[[0, 0, 2]], lambda a: a[[0, 0, 2]], {}),
    ("getitem_mask", lambda a: a[a.data > 0], lambda a: a[a > 0], {}),
    ("getitem_pairs", lambda a: a[[0, 1, 0], [1, 1, 1]], lambda a: a[[0, 1, 0], [1, 1, 1]], {}),
]

BINARY = [
    ("add", lambda a, b: a + b, lambda a, b: a + b, {}),
    ("sub", lambda a, b: a - b, lambda a, b: a - b, {}),
    ("mul", lambda a, b: a * b, lambda a, b: a * b, {}),
    ("div", lambda a, b: a / b, lambda a, b: a / b, {"b_positive": True}),
    ("pow_tensor", lambda a, b: a**b, lambda a, b: a**b, {"a_positive": True}),
]


@pytest.mark.parametrize("name, f, tf, kw", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("seed", [0, 1])
def test_unary_gradcheck_and_torch(name, f, tf, kw, seed):
    """∂L/∂a of every unary op: central differences and torch agree with the tape."""
    rng = np.random.default_rng(seed)
    a = _rand(rng, 3, 4, **kw)
    assert gradcheck(f, a)
    w = rng.standard_normal(np.shape(f(Tensor(a)).data))
    ta = torch.tensor(a, requires_grad=True)
    (tf(ta) * torch.tensor(w)).sum().backward()
    qa = Tensor(a, requires_grad=True)
    out = f(qa)
    np.testing.assert_allclose(out.data, tf(torch.tensor(a)).numpy(), rtol=1e-12, atol=1e-14)
    (out * w).sum().backward()
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name, f, tf, kw", BINARY, ids=[b[0] for b in BINARY])
@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (3, 4)),
        ((3, 4), (4,)),
        ((3, 1), (1, 4)),
        ((2, 3, 4), (3, 1)),
        ((4,), (2, 3, 4)),
        ((), (3, 4)),
        ((3, 4), ()),
    ],
)
def test_binary_broadcasting_gradients_match_torch(name, f, tf, kw, shape_a, shape_b):
    """Broadcast operands receive gradients summed over the broadcast axes, as in torch."""
    rng = np.random.default_rng(hash((name, shape_a, shape_b)) % 2**32)
    a = (
        np.abs(rng.standard_normal(shape_a)) + 0.5
        if kw.get("a_positive")
        else rng.standard_normal(shape_a)
    )
    b = (
        np.abs(rng.standard_normal(shape_b)) + 0.5
        if kw.get("b_positive")
        else rng.standard_normal(shape_b)
    )
    qa, qb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    out, tout = f(qa, qb), tf(ta, tb)
    w = rng.standard_normal(tout.shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    assert qa.grad.shape == a.shape and qb.grad.shape == b.shape
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(qb.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-12)
    assert gradcheck(f, a, b)


@pytest.mark.parametrize(
    "shape_a, shape_b",
    [
        ((3, 4), (4, 5)),
        ((4,), (4, 5)),
        ((3, 4), (4,)),
        ((4,), (4,)),
        ((2, 3, 4), (4, 5)),
        ((2, 3, 4), (2, 4, 5)),
        ((1, 3, 4), (2, 4, 5)),
        ((3, 4), (2, 4, 5)),
        ((4,), (2, 4, 5)),
    ],
)
def test_matmul_rule_matches_torch(shape_a, shape_b):
    """W = XY ⇒ ∂L/∂X = ∂L/∂W·Yᵀ, ∂L/∂Y = Xᵀ·∂L/∂W, for vectors, matrices and stacks."""
    rng = np.random.default_rng(len(shape_a) * 10 + len(shape_b))
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    assert gradcheck(lambda x, y: x @ y, a, b)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    tout = ta @ tb
    w = rng.standard_normal(tout.shape)
    (tout * torch.tensor(w)).sum().backward()
    qa, qb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ((qa @ qb) * w).sum().backward()
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(qb.grad, tb.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_matmul_rule_is_the_notes_formula():
    """For W = XY and L = ⟨G, W⟩: ∂L/∂X = G·Yᵀ and ∂L/∂Y = Xᵀ·G exactly."""
    rng = np.random.default_rng(7)
    X, Y, G = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    qx, qy = Tensor(X, requires_grad=True), Tensor(Y, requires_grad=True)
    (qx @ qy).backward(G)
    np.testing.assert_array_equal(qx.grad, G @ Y.T)
    np.testing.assert_array_equal(qy.grad, X.T @ G)


def test_astype_gradient_comes_back_in_the_source_dtype():
    """out = a.astype(float32) ⇒ ∂L/∂a = g converted back to float64 (as torch's .float())."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal((3, 4))
    assert gradcheck(lambda x: x.astype(np.float32).astype(np.float64) * 3.0, a, eps=1e-2)
    q = Tensor(a, requires_grad=True)
    out = q.astype(np.float32)
    assert out.dtype == np.float32
    (out * 2.0).sum().backward()
    assert q.grad.dtype == np.float64
    np.testing.assert_array_equal(q.grad, np.full(a.shape, 2.0))


def test_reflected_operators_with_numpy_and_scalars():
    """ndarray ∘ Tensor and number ∘ Tensor dispatch to the Tensor and differentiate."""
    rng = np.random.default_rng(3)
    a, c = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    assert gradcheck(lambda x: c - x, a)
    assert gradcheck(lambda x: 1.5 / (x * x + 1.0), a)
    assert gradcheck(lambda x: c @ x.T, a)
    q = Tensor(a, requires_grad=True)
    out = c * q
    assert isinstance(out, Tensor)
    out.sum().backward()
    np.testing.assert_array_equal(q.grad, c)


@settings(max_examples=30, deadline=None)
@given(
    shape=st.lists(st.integers(1, 3), min_size=1, max_size=3),
    mask=st.lists(st.booleans(), min_size=3, max_size=3),
    drop=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_broadcast_gradient_property(shape, mask, drop, seed):
    """For any broadcastable pair, grad of Σ(a·b) w.r.t. a is b summed to a's shape (= torch)."""
    shape_b = tuple(shape)
    shape_a = tuple(1 if m else n for n, m in zip(shape_b, mask, strict=False))[drop:]
    rng = np.random.default_rng(seed)
    a, b = rng.standard_normal(shape_a), rng.standard_normal(shape_b)
    qa = Tensor(a, requires_grad=True)
    (qa * b).sum().backward()
    ta = torch.tensor(a, requires_grad=True)
    (ta * torch.tensor(b)).sum().backward()
    assert qa.grad.shape == a.shape
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_gradcheck_fails_on_a_wrong_backward():
    """gradcheck is not vacuous: a deliberately wrong local derivative is caught."""

    def bad_square(x):
        def backward(g):
            return (g * x.data,)  # should be 2·x·g

        return Tensor._make(x.data**2, (x,), backward)

    with pytest.raises(GradcheckError, match="by the tape"):
        gradcheck(bad_square, np.array([1.0, 2.0, 3.0]))


def test_gradcheck_holds_constant_inputs_fixed():
    """A Tensor input with requires_grad=False is a constant: not checked, still used."""
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(3), Tensor(rng.standard_normal(3))
    assert gradcheck(lambda x, y: (x * y).sum(), a, b)
    with pytest.raises(ValueError, match="no input requires a gradient"):
        gradcheck(lambda y: y.sum(), b)
    with pytest.raises(TypeError, match="must return a Tensor"):
        gradcheck(lambda x: x.data.sum(), a)
