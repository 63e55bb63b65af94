"""Issue 15's tensor ops (max/min, clamp, cat, stack, where, var/std, abs, sqrt, softmax,
log_softmax, gather): gradcheck and outputs and gradients equal to torch in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qed import autograd as ag
from qed.autograd import Tensor, gradcheck

torch.set_default_dtype(torch.float64)

IDX = np.array([[0, 2, 1, 0], [3, 3, 0, 1]])  # gather along dim 0 of a (4, 4) input
IDX1 = np.array([[0, 3], [2, 2], [1, 0]])  # gather along dim 1, index smaller than input


def _distinct(rng, *shape):
    """Entries far apart (no ties, none near a clamp boundary), in random order."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 - n * 0.18 + 0.05).reshape(shape) / n * 4


# (name, qed function, torch function) on one (4, 4) input
UNARY = [
    ("max_all", lambda a: a.max(), lambda a: a.max()),
    ("min_all", lambda a: a.min(), lambda a: a.min()),
    ("max_dim0", lambda a: a.max(dim=0).values, lambda a: a.max(dim=0).values),
    ("max_dim1_keep", lambda a: a.max(1, keepdim=True)[0], lambda a: a.max(1, keepdim=True)[0]),
    ("min_dim_neg", lambda a: a.min(dim=-1).values, lambda a: a.min(dim=-1).values),
    ("clamp", lambda a: a.clamp(-0.5, 0.4), lambda a: a.clamp(-0.5, 0.4)),
    ("clamp_min", lambda a: a.clamp(min=0.1), lambda a: a.clamp(min=0.1)),
    ("clamp_max", lambda a: a.clamp(max=0.1), lambda a: a.clamp(max=0.1)),
    ("var", lambda a: a.var(), lambda a: a.var()),
    ("var_dim0", lambda a: a.var(0), lambda a: a.var(0)),
    (
        "var_c0_keep",
        lambda a: a.var(1, correction=0, keepdim=True),
        lambda a: a.var(1, correction=0, keepdim=True),
    ),
    ("var_c2", lambda a: a.var(1, correction=2), lambda a: a.var(1, correction=2)),
    ("std", lambda a: a.std(), lambda a: a.std()),
    ("std_dims", lambda a: a.std((0, 1), correction=0), lambda a: a.std((0, 1), correction=0)),
    ("abs", lambda a: a.abs(), lambda a: a.abs()),
    ("sqrt", lambda a: (a * a + 0.3).sqrt(), lambda a: (a * a + 0.3).sqrt()),
    ("softmax0", lambda a: a.softmax(0), lambda a: a.softmax(0)),
    ("softmax1", lambda a: a.softmax(-1), lambda a: a.softmax(-1)),
    ("log_softmax0", lambda a: a.log_softmax(0), lambda a: a.log_softmax(0)),
    ("log_softmax1", lambda a: a.log_softmax(1), lambda a: a.log_softmax(1)),
    ("logsumexp", lambda a: a.logsumexp(1), lambda a: a.logsumexp(1)),
    (
        "gather0",
        lambda a: a.gather(0, IDX),
        lambda a: a.gather(0, torch.tensor(IDX)),
    ),
    ("gather1", lambda a: a[:3].gather(1, IDX1), lambda a: a[:3].gather(1, torch.tensor(IDX1))),
    (
        "where",
        lambda a: ag.where(a.data > 0, a * 2, a.exp()),
        lambda a: torch.where(a > 0, a * 2, a.exp()),
    ),
    ("where_scalar", lambda a: ag.where(a.data > 0, a, 0.0), lambda a: torch.where(a > 0, a, 0.0)),
    ("cat0", lambda a: ag.cat([a, a * a], 0), lambda a: torch.cat([a, a * a], 0)),
    (
        "cat1",
        lambda a: ag.cat([a[:, :1], a.exp()], dim=1),
        lambda a: torch.cat([a[:, :1], a.exp()], 1),
    ),
    ("stack0", lambda a: ag.stack([a, a.tanh()]), lambda a: torch.stack([a, a.tanh()])),
    ("stack2", lambda a: ag.stack([a, a * 3], dim=2), lambda a: torch.stack([a, a * 3], dim=2)),
]


@pytest.mark.parametrize("name, f, tf", UNARY, ids=[u[0] for u in UNARY])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_new_op_matches_torch_and_gradcheck(name, f, tf, seed):
    rng = np.random.default_rng(seed)
    a = _distinct(rng, 4, 4)
    assert gradcheck(f, a)
    qa = Tensor(a, requires_grad=True)
    out = f(qa)
    ta = torch.tensor(a, requires_grad=True)
    tout = tf(ta)
    assert out.data.shape == tuple(tout.shape)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-13, atol=1e-15)
    w = rng.standard_normal(out.data.shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(qa.grad, ta.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("dim", [0, 1, -1])
@pytest.mark.parametrize("keepdim", [False, True])
def test_max_min_indices_follow_torch(dim, keepdim):
    """(values, indices) along a dim, torch's return convention; indices are int64 arrays."""
    rng = np.random.default_rng(dim + 5)
    a = _distinct(rng, 3, 5)
    for name in ("max", "min"):
        q = getattr(Tensor(a), name)(dim=dim, keepdim=keepdim)
        t = getattr(torch.tensor(a), name)(dim=dim, keepdim=keepdim)
        values, indices = q
        assert indices.dtype == np.int64
        np.testing.assert_array_equal(indices, t.indices.numpy())
        np.testing.assert_array_equal(values.data, t.values.numpy())


def test_max_over_everything_spreads_the_gradient_over_ties_as_torch():
    a = np.array([[1.0, 3.0], [3.0, -2.0]])
    q = Tensor(a, requires_grad=True)
    q.max().backward()
    t = torch.tensor(a, requires_grad=True)
    t.max().backward()
    np.testing.assert_array_equal(q.grad, t.grad.numpy())


def test_clamp_gradient_on_the_boundary_is_one_as_torch():
    a = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    q = Tensor(a, requires_grad=True)
    q.clamp(-0.5, 0.5).sum().backward()
    t = torch.tensor(a, requires_grad=True)
    t.clamp(-0.5, 0.5).sum().backward()
    np.testing.assert_array_equal(q.grad, t.grad.numpy())


def test_where_broadcasts_and_unbroadcasts_gradients():
    rng = np.random.default_rng(3)
    a, b = rng.standard_normal((3, 1)), rng.standard_normal((4,))
    cond = rng.random((3, 4)) > 0.5
    assert gradcheck(lambda x, y: ag.where(cond, x, y), a, b)
    qa, qb = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
    ag.where(cond, qa, qb).sum().backward()
    torch.where(torch.tensor(cond), ta, tb).sum().backward()
    np.testing.assert_array_equal(qa.grad, ta.grad.numpy())
    np.testing.assert_array_equal(qb.grad, tb.grad.numpy())


def test_cat_and_stack_of_several_tensors_route_each_its_slice():
    rng = np.random.default_rng(4)
    xs = [rng.standard_normal((2, k)) for k in (1, 3, 2)]
    assert gradcheck(lambda *ts: ag.cat(list(ts), 1) ** 2, *xs)
    ys = [rng.standard_normal((2, 3)) for _ in range(3)]
    assert gradcheck(lambda *ts: ag.stack(ts, -1).tanh(), *ys)
    # a constant (ndarray) among the tensors is allowed and gets no gradient
    q = Tensor(xs[0], requires_grad=True)
    ag.cat([q, xs[1]], dim=1).sum().backward()
    np.testing.assert_array_equal(q.grad, np.ones_like(xs[0]))


def test_var_std_match_numpy_ddof():
    rng = np.random.default_rng(6)
    a = rng.standard_normal((5, 7))
    for c in (0, 1, 2):
        np.testing.assert_allclose(Tensor(a).var(1, correction=c).data, a.var(1, ddof=c))
        np.testing.assert_allclose(Tensor(a).std(correction=c).data, a.std(ddof=c))


def test_float32_stays_float32():
    a = np.random.default_rng(7).standard_normal((3, 4)).astype(np.float32)
    q = Tensor(a, requires_grad=True)
    outs = [
        q.max(),
        q.max(0).values,
        q.clamp(-0.1, 0.1),
        q.var(0),
        q.std(),
        q.softmax(1),
        q.log_softmax(0),
        (q * q).sqrt(),
        ag.cat([q, q]),
        ag.stack([q, q]),
        ag.where(a > 0, q, 0.0),
        q.gather(1, np.zeros((3, 2), dtype=int)),
    ]
    for out in outs:
        assert out.dtype == np.float32
        out.sum().backward()
    assert q.grad.dtype == np.float32
