"""Second derivatives: ``backward(create_graph=True)``, ``qed.autograd.grad`` and ``hvp``,
equal to torch (``torch.autograd.grad``, ``torch.autograd.functional.hvp``) in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from qed import autograd as ag
from qed.autograd import DoubleBackwardError, Tensor, grad, hvp

from .test_autograd_new_ops import UNARY as NEW_UNARY
from .test_autograd_new_ops import _distinct

torch.set_default_dtype(torch.float64)

OLD_UNARY = [
    ("neg", lambda a: -a, lambda a: -a),
    ("exp", lambda a: a.exp(), torch.exp),
    ("log", lambda a: (a * a + 0.5).log(), lambda a: (a * a + 0.5).log()),
    ("tanh", lambda a: a.tanh(), torch.tanh),
    ("sigmoid", lambda a: a.sigmoid(), torch.sigmoid),
    ("relu", lambda a: a.relu() * a, lambda a: a.relu() * a),
    ("abs", lambda a: a.abs() * a, lambda a: a.abs() * a),
    ("pow3", lambda a: a**3, lambda a: a**3),
    ("pow_half", lambda a: (a * a + 1) ** 0.5, lambda a: (a * a + 1) ** 0.5),
    ("rpow", lambda a: 2.0**a, lambda a: 2.0**a),
    ("tensor_pow", lambda a: (a * a + 1) ** a, lambda a: (a * a + 1) ** a),
    ("div", lambda a: a / (a * a + 1), lambda a: a / (a * a + 1)),
    ("rdiv", lambda a: 1.5 / (a * a + 1), lambda a: 1.5 / (a * a + 1)),
    ("sub_bcast", lambda a: a - a[0], lambda a: a - a[0]),
    ("mul_bcast", lambda a: a * a[:, :1], lambda a: a * a[:, :1]),
    ("matmul", lambda a: a @ a, lambda a: a @ a),
    ("matmul_vec", lambda a: a @ a[0], lambda a: a @ a[0]),
    ("vec_matmul", lambda a: a[1] @ a, lambda a: a[1] @ a),
    ("inner", lambda a: a[1] @ a[2], lambda a: a[1] @ a[2]),
    ("batched", lambda a: a.reshape(2, 2, 4) @ a, lambda a: a.reshape(2, 2, 4) @ a),
    ("sum_axis", lambda a: a.sum(axis=0) * a, lambda a: a.sum(dim=0) * a),
    ("sum_keep", lambda a: a.sum(axis=1, keepdims=True) * a, lambda a: a.sum(1, True) * a),
    ("mean", lambda a: a.mean() * a, lambda a: a.mean() * a),
    ("mean_axes", lambda a: a.mean(axis=1) * a, lambda a: a.mean(dim=1) * a),
    (
        "reshape",
        lambda a: a.reshape(2, 8) * a.reshape(2, 8)[0],
        lambda a: a.reshape(2, 8) * a.reshape(2, 8)[0],
    ),
    ("T", lambda a: a.T * a, lambda a: a.T * a),
    ("getitem", lambda a: a[1:, ::2] * a[:3, 1::2], lambda a: a[1:, ::2] * a[:3, 1::2]),
    ("fancy", lambda a: a[[0, 0, 2]] * a[1], lambda a: a[[0, 0, 2]] * a[1]),
]
TABLE = OLD_UNARY + NEW_UNARY


@pytest.mark.parametrize("name, f, tf", TABLE, ids=[t[0] for t in TABLE])
def test_hvp_of_every_op_equals_torch(name, f, tf):
    """∇²f·v with f = Σ tanh(op(x) ⊙ w): the op's first and second derivatives both enter."""
    rng = np.random.default_rng(len(name))
    x, v = _distinct(rng, 4, 4), rng.standard_normal((4, 4))
    w = rng.standard_normal(np.shape(f(Tensor(x)).data))
    wt = torch.tensor(w)
    value, hv = hvp(lambda a: (f(a) * w).tanh().sum(), x, v)
    tvalue, thv = torch.autograd.functional.hvp(
        lambda a: (tf(a) * wt).tanh().sum(), torch.tensor(x), torch.tensor(v)
    )
    np.testing.assert_allclose(value.data, tvalue.numpy(), rtol=1e-13)
    np.testing.assert_allclose(hv, thv.numpy(), rtol=1e-10, atol=1e-12)


def test_grad_matches_torch_grad_with_grad_outputs_and_several_inputs():
    rng = np.random.default_rng(0)
    a, b, go = rng.standard_normal((3, 4)), rng.standard_normal((4, 2)), rng.standard_normal((3, 2))
    qa, qb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ga, gb = grad((qa @ qb).tanh(), [qa, qb], grad_outputs=go)
    tga, tgb = torch.autograd.grad(torch.tanh(ta @ tb), [ta, tb], grad_outputs=torch.tensor(go))
    np.testing.assert_allclose(ga.data, tga.numpy(), rtol=1e-12)
    np.testing.assert_allclose(gb.data, tgb.numpy(), rtol=1e-12)
    assert qa.grad is None and qb.grad is None  # grad() never touches .grad
    assert not ga.requires_grad  # no graph without create_graph


def test_grad_of_an_intermediate_tensor_and_of_several_outputs():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(5)
    q = Tensor(a, requires_grad=True)
    h = q.exp()
    (gh,) = grad((h * h).sum(), h)
    np.testing.assert_allclose(gh.data, 2 * np.exp(a))
    (gq,) = grad([(q * q).sum(), q.sum()], q)
    np.testing.assert_allclose(gq.data, 2 * a + 1)


def test_grad_refuses_an_unused_input_unless_allowed():
    q, r = Tensor([1.0, 2.0], requires_grad=True), Tensor([3.0], requires_grad=True)
    with pytest.raises(RuntimeError, match="allow_unused"):
        grad((q * q).sum(), [q, r])
    gq, gr = grad((q * q).sum(), [q, r], allow_unused=True)
    assert gr is None
    np.testing.assert_array_equal(gq.data, [2.0, 4.0])


@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph")
def test_backward_create_graph_makes_grad_differentiable_as_torch():
    """x.grad after backward(create_graph=True) is a Tensor on the tape; (x.grad·v).backward()
    then adds the Hessian-vector product to x.grad, as in torch."""
    rng = np.random.default_rng(2)
    a, v = rng.standard_normal(4), rng.standard_normal(4)
    q = Tensor(a, requires_grad=True)
    ((q**3).sum() * q.tanh().sum()).backward(create_graph=True)
    first = q.grad
    assert isinstance(first, Tensor) and first.requires_grad
    t = torch.tensor(a, requires_grad=True)
    ((t**3).sum() * t.tanh().sum()).backward(create_graph=True)
    np.testing.assert_allclose(first.data, t.grad.detach().numpy(), rtol=1e-12)
    q.grad = None
    (first * v).sum().backward()
    tfirst = t.grad.clone()
    t.grad = None
    (tfirst * torch.tensor(v)).sum().backward()
    np.testing.assert_allclose(q.grad, t.grad.numpy(), rtol=1e-11)


def test_third_derivative_by_repeated_grad():
    """d³/dx³ of x⁴·eˣ summed, by three nested grad(create_graph=True) calls."""
    a = np.array([0.3, -1.2, 0.8])
    q = Tensor(a, requires_grad=True)
    y = (q**4 * q.exp()).sum()
    (g1,) = grad(y, q, create_graph=True)
    (g2,) = grad(g1.sum(), q, create_graph=True)
    (g3,) = grad(g2.sum(), q)
    expected = np.exp(a) * (a**4 + 12 * a**3 + 36 * a**2 + 24 * a)
    np.testing.assert_allclose(g3.data, expected, rtol=1e-12)


def test_an_op_without_a_second_derivative_raises_a_clear_error():
    def square_no_double(t):  # a custom op written with a first-order backward only
        return Tensor._make(t.data**2, (t,), lambda g: (2 * g * t.data,))

    q = Tensor([1.0, 2.0], requires_grad=True)
    square_no_double(q).sum().backward()  # first order is fine
    np.testing.assert_array_equal(q.grad, [2.0, 4.0])
    with pytest.raises(DoubleBackwardError, match="square_no_double.*second derivative"):
        grad(square_no_double(q).sum(), q, create_graph=True)
    with pytest.raises(DoubleBackwardError, match="create_graph"):
        square_no_double(q).sum().backward(create_graph=True)


def test_hvp_with_several_inputs_equals_torch():
    rng = np.random.default_rng(3)
    W, b, X = rng.standard_normal((3, 4)), rng.standard_normal(3), rng.standard_normal((6, 4))
    vW, vb = rng.standard_normal((3, 4)), rng.standard_normal(3)

    def f(w, c):
        return ((X @ w.T + c).tanh() ** 2).mean()

    _, (hW, hb) = hvp(f, (W, b), (vW, vb))
    Xt = torch.tensor(X)
    _, (tW, tb) = torch.autograd.functional.hvp(
        lambda w, c: (torch.tanh(Xt @ w.T + c) ** 2).mean(),
        (torch.tensor(W), torch.tensor(b)),
        (torch.tensor(vW), torch.tensor(vb)),
    )
    np.testing.assert_allclose(hW, tW.numpy(), rtol=1e-11, atol=1e-14)
    np.testing.assert_allclose(hb, tb.numpy(), rtol=1e-11, atol=1e-14)


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_hessian_is_symmetric(seed):
    """⟨u, ∇²f·v⟩ = ⟨v, ∇²f·u⟩ for a smooth f (a property of any correct second derivative)."""
    rng = np.random.default_rng(seed)
    x, u, v = (rng.standard_normal(5) for _ in range(3))
    A = rng.standard_normal((5, 5))

    def f(t):
        z = A @ t
        return z.softmax(0).log().sum() + (z.tanh() * t).sum() + ag.stack([t, t * t]).var()

    _, hv = hvp(f, x, v)
    _, hu = hvp(f, x, u)
    assert abs(u @ hv - v @ hu) <= 1e-10 * (1 + abs(u @ hv))


def test_a_scalar_used_twice_gets_both_contributions():
    """Regression: 0-d intermediates are numpy scalars, which += does not update in place;
    d/dx (Σx)² = 2Σx must count both uses of Σx."""
    x = Tensor([1.0, 2.0], requires_grad=True)
    s = x.sum()
    (s * s).backward()
    np.testing.assert_array_equal(x.grad, [6.0, 6.0])
    y = Tensor(3.0, requires_grad=True)
    (y * y * y).backward()
    assert isinstance(y.grad, np.ndarray) and y.grad == 27.0
