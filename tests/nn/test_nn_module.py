"""qed.nn.Module / Sequential: registration, traversal, modes, dtype, state dicts, saving."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import qed
from qed import nn
from qed.autograd import Tensor


def _net():
    return nn.Sequential(
        nn.Linear(4, 6, rng=0), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2, rng=1)
    )


def test_parameters_and_names_follow_pytorch():
    net = _net()
    tnet = torch.nn.Sequential(
        torch.nn.Linear(4, 6), torch.nn.BatchNorm1d(6), torch.nn.ReLU(), torch.nn.Linear(6, 2)
    )
    assert [n for n, _ in net.named_parameters()] == [n for n, _ in tnet.named_parameters()]
    assert list(net.state_dict()) == list(tnet.state_dict())
    assert [n for n, _ in net.named_buffers()] == [n for n, _ in tnet.named_buffers()]
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in net.parameters())
    assert net[0].weight.shape == (6, 4)  # PyTorch's layout (out_features, in_features)


def test_shared_parameter_is_listed_once():
    layer = nn.Linear(3, 3, rng=0)
    net = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(net.parameters())) == 2


def test_custom_module_registration():
    class Affine(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(np.ones(3))
            self.register_buffer("count", np.zeros(()))
            self.inner = nn.Linear(3, 3, rng=0)
            self.note = "plain attributes are not parameters"

        def forward(self, x):
            return self.inner(x) * self.scale

    m = Affine()
    assert [n for n, _ in m.named_parameters()] == ["scale", "inner.weight", "inner.bias"]
    assert list(m.state_dict()) == ["scale", "count", "inner.weight", "inner.bias"]
    out = m(np.ones((2, 3)))
    out.sum().backward()
    assert m.scale.grad.shape == (3,)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())
    with pytest.raises(TypeError, match="parameter"):
        m.scale = np.ones(3)  # an ndarray cannot silently replace a Parameter
    m.scale = None  # removing it is allowed
    assert [n for n, _ in m.named_parameters()] == ["inner.weight", "inner.bias"]


def test_forgetting_super_init_is_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.w = nn.Parameter(np.ones(2))

    with pytest.raises(RuntimeError, match="super"):
        Broken()


def test_train_eval_propagate():
    net = _net()
    assert all(m.training for m in net.modules())
    assert net.eval() is net
    assert not any(m.training for m in net.modules())
    net.train()
    assert all(m.training for m in net.modules())


def test_to_dtype_keeps_parameter_objects():
    """to(float32) converts in place: an optimizer built before still holds the parameters."""
    net = _net()
    before = list(net.parameters())
    net.to(np.float32)
    assert [id(p) for p in net.parameters()] == [id(p) for p in before]
    assert all(p.dtype == np.float32 for p in net.parameters())
    assert net[1].running_mean.dtype == np.float32
    assert net[1].num_batches_tracked.dtype == np.int64
    assert net(np.ones((3, 4), dtype=np.float32)).dtype == np.float32
    with pytest.raises(TypeError, match="floating"):
        net.to(np.int32)
    net.double()
    assert net[0].weight.dtype == np.float64


def test_state_dict_roundtrip_and_errors():
    a, b = (
        _net(),
        nn.Sequential(nn.Linear(4, 6, rng=5), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 2, rng=6)),
    )
    a(np.random.default_rng(0).standard_normal((5, 4)))  # move the running statistics
    state = a.state_dict()
    state["0.weight"][...] = 7.0  # a snapshot: changing it does not touch the module
    assert not np.all(a[0].weight.data == 7.0)
    b.load_state_dict(a.state_dict())
    for key, value in a.state_dict().items():
        np.testing.assert_array_equal(b.state_dict()[key], value)
    with pytest.raises(KeyError, match="missing keys"):
        b.load_state_dict({"0.weight": np.zeros((6, 4))})
    result = b.load_state_dict({"0.weight": np.zeros((6, 4)), "extra": np.zeros(1)}, strict=False)
    assert result.unexpected_keys == ["extra"] and "0.bias" in result.missing_keys
    with pytest.raises(ValueError, match="shape"):
        b.load_state_dict({**a.state_dict(), "0.weight": np.zeros((4, 6))})


def test_sequential_indexing():
    net = _net()
    assert len(net) == 4
    assert isinstance(net[0], nn.Linear) and isinstance(net[-1], nn.Linear)
    head = net[:2]
    assert isinstance(head, nn.Sequential) and len(head) == 2 and head[0] is net[0]
    assert [type(m).__name__ for m in net] == ["Linear", "BatchNorm1d", "ReLU", "Linear"]
    net.append(nn.Tanh())
    assert len(net) == 5
    with pytest.raises(TypeError, match="not a Module"):
        nn.Sequential(nn.ReLU(), "relu")
    assert "(1): BatchNorm1d(6" in repr(net)


def test_module_saves_and_loads_with_buffers(tmp_path):
    """qed.save/qed.load keep parameters, buffers (running stats, 0-d counter) and mode."""
    net = _net()
    net(np.random.default_rng(0).standard_normal((5, 4)))
    net.eval()
    qed.save(net, tmp_path / "net.qed")
    back = qed.load(tmp_path / "net.qed")
    assert type(back) is nn.Sequential and not back.training
    for key, value in net.state_dict().items():
        np.testing.assert_array_equal(back.state_dict()[key], value)
        assert back.state_dict()[key].shape == value.shape
    x = np.random.default_rng(1).standard_normal((3, 4))
    np.testing.assert_array_equal(back(Tensor(x)).data, net(Tensor(x)).data)
    back.train()
    back(x).sum().backward()  # still trainable
    assert back[0].weight.grad is not None


def test_linear_validates_arguments():
    with pytest.raises(ValueError, match="in_features"):
        nn.Linear(0, 3)
    with pytest.raises(ValueError, match="init"):
        nn.Linear(2, 3, init="glorot")
    with pytest.raises(ValueError, match="momentum"):
        nn.BatchNorm1d(3, momentum=2.0)
