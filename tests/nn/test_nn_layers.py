"""Issue 15's layers (Dropout, LayerNorm, GELU, LeakyReLU, ELU, Softplus, Softmax,
LogSoftmax, ModuleList) and Module.apply/zero_grad/requires_grad_/named_modules: outputs,
input and parameter gradients and Hessian-vector products equal to torch in float64."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import stats

import qed
from qed import nn
from qed.autograd import Tensor, gradcheck, hvp
from qed.nn import functional as F

torch.set_default_dtype(torch.float64)
tnn = torch.nn
TF = torch.nn.functional

# (name, qed layer factory, torch layer factory, input shape)
LAYERS = [
    ("gelu", lambda: nn.GELU(), lambda: tnn.GELU(), (5, 4)),
    ("gelu_tanh", lambda: nn.GELU("tanh"), lambda: tnn.GELU("tanh"), (5, 4)),
    ("leaky", lambda: nn.LeakyReLU(), lambda: tnn.LeakyReLU(), (5, 4)),
    ("leaky_0.2", lambda: nn.LeakyReLU(0.2), lambda: tnn.LeakyReLU(0.2), (5, 4)),
    ("elu", lambda: nn.ELU(), lambda: tnn.ELU(), (5, 4)),
    ("elu_0.5", lambda: nn.ELU(alpha=0.5), lambda: tnn.ELU(alpha=0.5), (5, 4)),
    ("softplus", lambda: nn.Softplus(), lambda: tnn.Softplus(), (5, 4)),
    ("softplus_b2", lambda: nn.Softplus(2.0, 1.0), lambda: tnn.Softplus(2.0, 1.0), (5, 4)),
    ("softmax", lambda: nn.Softmax(dim=1), lambda: tnn.Softmax(dim=1), (5, 4)),
    ("softmax0", lambda: nn.Softmax(0), lambda: tnn.Softmax(0), (5, 4)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=1), lambda: tnn.LogSoftmax(dim=1), (5, 4)),
    ("layernorm", lambda: nn.LayerNorm(4), lambda: tnn.LayerNorm(4), (5, 4)),
    ("layernorm_2d", lambda: nn.LayerNorm((3, 4)), lambda: tnn.LayerNorm((3, 4)), (2, 3, 4)),
    (
        "layernorm_noaffine",
        lambda: nn.LayerNorm(4, elementwise_affine=False),
        lambda: tnn.LayerNorm(4, elementwise_affine=False),
        (5, 4),
    ),
    (
        "layernorm_nobias",
        lambda: nn.LayerNorm(4, eps=1e-3, bias=False),
        lambda: tnn.LayerNorm(4, eps=1e-3, bias=False),
        (5, 4),
    ),
]


def _pair(qf, tf, rng):
    q, t = qf(), tf()
    for (name, p), (tname, tp) in zip(q.named_parameters(), t.named_parameters(), strict=True):
        assert name == tname
        p.data[...] = rng.standard_normal(p.data.shape) * 0.5 + 1.0
        with torch.no_grad():
            tp.copy_(torch.tensor(p.data))
    return q, t


@pytest.mark.parametrize("name, qf, tf, shape", LAYERS, ids=[c[0] for c in LAYERS])
@pytest.mark.parametrize("seed", [0, 1])
def test_layer_matches_torch(name, qf, tf, shape, seed):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape) * 2
    q, t = _pair(qf, tf, rng)
    qx, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    out, tout = q(qx), t(tx)
    np.testing.assert_allclose(out.data, tout.detach().numpy(), rtol=1e-12, atol=1e-14)
    w = rng.standard_normal(shape)
    (out * w).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    np.testing.assert_allclose(qx.grad, tx.grad.numpy(), rtol=1e-11, atol=1e-13)
    for (_, p), (_, tp) in zip(q.named_parameters(), t.named_parameters(), strict=True):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-11, atol=1e-13)
    assert gradcheck(lambda z: q(z), x)


@pytest.mark.parametrize("name, qf, tf, shape", LAYERS, ids=[c[0] for c in LAYERS])
def test_layer_hessian_vector_product_matches_torch(name, qf, tf, shape):
    """∇²ₓ Σ tanh(layer(x) ⊙ w) · v: the layers' second derivatives equal torch's."""
    rng = np.random.default_rng(7)
    x, v, w = (rng.standard_normal(shape) for _ in range(3))
    q, t = _pair(qf, tf, rng)
    _, hv = hvp(lambda z: (q(z) * w).tanh().sum(), x, v)
    wt = torch.tensor(w)
    _, thv = torch.autograd.functional.hvp(
        lambda z: torch.tanh(t(z) * wt).sum(), torch.tensor(x), torch.tensor(v)
    )
    np.testing.assert_allclose(hv, thv.numpy(), rtol=1e-10, atol=1e-12)


def test_activation_values_at_kinks_follow_torch():
    x = np.array([-30.0, -1.0, 0.0, 1e-9, 1.0, 19.0, 25.0])
    for q, t in [
        (nn.LeakyReLU(0.1), tnn.LeakyReLU(0.1)),
        (nn.ELU(0.7), tnn.ELU(0.7)),
        (nn.Softplus(), tnn.Softplus()),
        (nn.GELU(), tnn.GELU()),
    ]:
        qx, tx = Tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
        q(qx).sum().backward()
        t(tx).sum().backward()
        # atol: GELU(−30) = −30·Φ(−30) ≈ −1.5e−196, which torch's 1 + erf form rounds to −0
        expected = t(torch.tensor(x)).detach().numpy()
        np.testing.assert_allclose(q(x).data, expected, rtol=1e-13, atol=1e-180)
        np.testing.assert_allclose(qx.grad, tx.grad.numpy(), rtol=1e-13, atol=1e-180)


# (name, qed loss of (params, X, y), torch twin): HVPs of losses and fused ops vs torch
def _mlp(W, X, act):
    return act(F.linear(X, W))


LOSSES = [
    ("cross_entropy", lambda z, y: F.cross_entropy(z, y), lambda z, y: TF.cross_entropy(z, y)),
    (
        "cross_entropy_sum",
        lambda z, y: F.cross_entropy(z, y, reduction="sum"),
        lambda z, y: TF.cross_entropy(z, y, reduction="sum"),
    ),
    (
        "cross_entropy_none",
        lambda z, y: (F.cross_entropy(z, y, reduction="none") ** 2).sum(),
        lambda z, y: (TF.cross_entropy(z, y, reduction="none") ** 2).sum(),
    ),
    (
        "bce",
        lambda z, y: F.binary_cross_entropy_with_logits(z, (y[:, None] == np.arange(3)) * 1.0),
        lambda z, y: TF.binary_cross_entropy_with_logits(
            z, (y[:, None] == torch.arange(3)).double()
        ),
    ),
    (
        "mse",
        lambda z, y: F.mse_loss(z, np.eye(3)[y]),
        lambda z, y: TF.mse_loss(z, torch.eye(3)[y]),
    ),
    (
        "logsumexp",
        lambda z, y: F.logsumexp(z, 1).sum(),
        lambda z, y: torch.logsumexp(z, 1).sum(),
    ),
    (
        "log_softmax",
        lambda z, y: (F.log_softmax(z, 1) * z).sum(),
        lambda z, y: (TF.log_softmax(z, 1) * z).sum(),
    ),
    (
        "batch_norm_train",
        lambda z, y: (F.batch_norm(z, None, None, training=True) ** 3).mean(),
        lambda z, y: (TF.batch_norm(z, None, None, training=True) ** 3).mean(),
    ),
    (
        "batch_norm_eval",
        lambda z, y: (F.batch_norm(z, np.ones(3) * 0.1, np.ones(3) * 2.0) ** 3).mean(),
        lambda z, y: (TF.batch_norm(z, torch.ones(3) * 0.1, torch.ones(3) * 2.0) ** 3).mean(),
    ),
]


@pytest.mark.parametrize("name, qloss, tloss", LOSSES, ids=[c[0] for c in LOSSES])
@pytest.mark.parametrize("act", ["tanh", "relu", "gelu", "softplus"])
def test_network_loss_hvp_matches_torch(name, qloss, tloss, act):
    """HVP of loss(act(X Wᵀ), y) in W: fused linear, activation and loss double backwards."""
    rng = np.random.default_rng(len(name) + len(act))
    X, W, V = rng.standard_normal((8, 5)), rng.standard_normal((3, 5)), rng.standard_normal((3, 5))
    y = rng.integers(0, 3, 8)
    qact = {"tanh": F.tanh, "relu": F.relu, "gelu": F.gelu, "softplus": F.softplus}[act]
    tact = {"tanh": torch.tanh, "relu": torch.relu, "gelu": TF.gelu, "softplus": TF.softplus}[act]
    _, hv = hvp(lambda w: qloss(qact(F.linear(X, w)), y), W, V)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    _, thv = torch.autograd.functional.hvp(
        lambda w: tloss(tact(TF.linear(Xt, w)), yt), torch.tensor(W), torch.tensor(V)
    )
    np.testing.assert_allclose(hv, thv.numpy(), rtol=1e-10, atol=1e-12)


def test_batch_norm_layer_hvp_in_its_parameters_matches_torch():
    rng = np.random.default_rng(11)
    X = rng.standard_normal((10, 4))
    g0, b0 = rng.standard_normal(4), rng.standard_normal(4)
    vg, vb = rng.standard_normal(4), rng.standard_normal(4)

    _, (hg, hb) = hvp(
        lambda g, b: (F.batch_norm(X, None, None, g, b, True).tanh() ** 2).sum(), (g0, b0), (vg, vb)
    )
    Xt = torch.tensor(X)
    _, (tg, tb) = torch.autograd.functional.hvp(
        lambda g, b: (torch.tanh(TF.batch_norm(Xt, None, None, g, b, True)) ** 2).sum(),
        (torch.tensor(g0), torch.tensor(b0)),
        (torch.tensor(vg), torch.tensor(vb)),
    )
    np.testing.assert_allclose(hg, tg.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(hb, tb.numpy(), rtol=1e-10, atol=1e-12)


# --- Dropout ------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("p", [0.1, 0.5, 0.8])
def test_dropout_mask_rate_and_scaling(p, dtype):
    """Kept entries are exactly x/(1 − p); the number dropped is Binomial(n, p) (two-sided
    binomial test at level 1e-4), and E[y] = x holds within 5 standard errors."""
    n = 40_000
    layer = nn.Dropout(p, rng=np.random.default_rng(int(p * 100)))
    x = (np.random.default_rng(1).standard_normal(n) + 3.0).astype(dtype)
    y = layer(Tensor(x)).data
    assert y.dtype == dtype
    kept = y != 0
    rtol = 1e-15 if dtype == np.float64 else 1e-6
    np.testing.assert_allclose(y[kept], x[kept] / (1 - p), rtol=rtol)
    dropped = int(n - kept.sum())
    assert stats.binomtest(dropped, n, p).pvalue > 1e-4
    ratio = y / x
    se = np.std(ratio) / np.sqrt(n)
    assert abs(ratio.mean() - 1.0) < 5 * se


def test_dropout_masks_are_independent_across_calls_and_entries():
    layer = nn.Dropout(0.5, rng=0)
    x = np.ones((2000, 2))
    a = layer(x).data != 0
    b = layer(x).data != 0
    table = np.array([[np.sum(a & b), np.sum(a & ~b)], [np.sum(~a & b), np.sum(~a & ~b)]])
    assert stats.chi2_contingency(table).pvalue > 1e-4
    cols = np.array(
        [
            [np.sum(a[:, 0] & a[:, 1]), np.sum(a[:, 0] & ~a[:, 1])],
            [np.sum(~a[:, 0] & a[:, 1]), np.sum(~a[:, 0] & ~a[:, 1])],
        ]
    )
    assert stats.chi2_contingency(cols).pvalue > 1e-4


def test_dropout_gradient_uses_the_same_mask_and_eval_is_identity():
    layer = nn.Dropout(0.3, rng=np.random.default_rng(5))
    x = Tensor(np.random.default_rng(2).standard_normal((50, 4)), requires_grad=True)
    y = layer(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, (y.data != 0) / 0.7)
    layer.eval()
    out = layer(x)
    np.testing.assert_array_equal(out.data, x.data)
    assert nn.Dropout(0.0, rng=0)(x) is x


def test_dropout_is_reproducible_with_a_seed_and_saves_its_generator(tmp_path):
    a, b = nn.Dropout(0.5, rng=42), nn.Dropout(0.5, rng=42)
    x = np.ones((10, 10))
    np.testing.assert_array_equal(a(x).data, b(x).data)
    qed.save(a, tmp_path / "d.qed")
    back = qed.load(tmp_path / "d.qed")
    np.testing.assert_array_equal(back(x).data, a(x).data)  # the stream continues identically


# --- containers and Module methods -------------------------------------------------------------
@qed.persist.register
class _Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = nn.ModuleList([nn.Linear(4, 4, rng=i) for i in range(3)])
        self.norm = nn.LayerNorm(4)
        self.drop = nn.Dropout(0.2, rng=0)
        self.act = nn.GELU()
        self.head = nn.Linear(4, 2, rng=9)

    def forward(self, x):
        for block in self.blocks:
            x = self.drop(self.act(self.norm(block(x))))
        return self.head(x)


class _TNet(tnn.Module):
    def __init__(self):
        super().__init__()
        self.blocks = tnn.ModuleList([tnn.Linear(4, 4) for _ in range(3)])
        self.norm = tnn.LayerNorm(4)
        self.drop = tnn.Dropout(0.2)
        self.act = tnn.GELU()
        self.head = tnn.Linear(4, 2)

    def forward(self, x):
        for block in self.blocks:
            x = self.drop(self.act(self.norm(block(x))))
        return self.head(x)


def test_module_list_network_state_dict_and_eval_output_match_torch():
    q, t = _Net(), _TNet()
    assert list(q.state_dict()) == list(t.state_dict())
    t.load_state_dict({k: torch.tensor(v) for k, v in q.state_dict().items()})
    q.eval()
    t.eval()
    x = np.random.default_rng(0).standard_normal((6, 4))
    np.testing.assert_allclose(q(x).data, t(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    assert [n for n, _ in q.named_modules()] == [n for n, _ in t.named_modules()]


def test_module_list_editing():
    ml = nn.ModuleList([nn.ReLU(), nn.Tanh()])
    ml.append(nn.GELU())
    ml.insert(0, nn.ELU())
    ml[1] = nn.Sigmoid()
    del ml[2]
    assert [type(m).__name__ for m in ml] == ["ELU", "Sigmoid", "GELU"]
    assert [n for n, _ in ml.named_modules()] == ["", "0", "1", "2"]
    assert isinstance(ml[1:], nn.ModuleList) and len(ml[1:]) == 2
    with pytest.raises(TypeError, match="Module"):
        ml.append(3)
    with pytest.raises(NotImplementedError, match="iterate"):
        ml(np.zeros(2))


def test_apply_visits_children_first_like_torch():
    q, t = _Net(), _TNet()
    seen, tseen = [], []
    q.apply(lambda m: seen.append(type(m).__name__))
    t.apply(lambda m: tseen.append(type(m).__name__))
    assert seen == [n.replace("_TNet", "_Net") for n in tseen]

    def reinit(m):
        if isinstance(m, nn.Linear):
            m.weight.data[...] = 0.5

    assert q.apply(reinit) is q
    assert all(np.all(m.weight.data == 0.5) for m in q.modules() if isinstance(m, nn.Linear))


def test_named_modules_duplicates_and_memo_like_torch():
    shared = nn.Linear(2, 2, rng=0)
    q = nn.Sequential(shared, nn.ReLU(), shared)
    ts = tnn.Linear(2, 2)
    t = tnn.Sequential(ts, tnn.ReLU(), ts)
    assert [n for n, _ in q.named_modules()] == [n for n, _ in t.named_modules()]
    assert [n for n, _ in q.named_modules(remove_duplicate=False)] == [
        n for n, _ in t.named_modules(remove_duplicate=False)
    ]
    assert [n for n, _ in q.named_modules(prefix="net")] == [
        n for n, _ in t.named_modules(prefix="net")
    ]


def test_requires_grad_freezes_and_zero_grad_modes():
    net = _Net().eval()
    x = np.random.default_rng(1).standard_normal((3, 4))
    assert net.blocks.requires_grad_(False) is net.blocks
    net(x).sum().backward()
    assert all(p.grad is None for p in net.blocks.parameters())
    assert net.head.weight.grad is not None
    net.zero_grad(set_to_none=False)
    assert np.all(net.head.weight.grad == 0)
    net.zero_grad()
    assert net.head.weight.grad is None


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LayerNorm((3, 4), eps=1e-3),
        lambda: nn.GELU("tanh"),
        lambda: nn.LeakyReLU(0.3),
        lambda: nn.ELU(0.4),
        lambda: nn.Softplus(2.0, 5.0),
        lambda: nn.Softmax(0),
        lambda: nn.LogSoftmax(1),
        lambda: nn.ModuleList([nn.LayerNorm(4), nn.Linear(4, 4, rng=0)]),
        _Net,
    ],
)
def test_new_modules_save_and_load(tmp_path, make):
    m = make().eval()
    for p in m.parameters():
        p.data[...] = np.random.default_rng(3).standard_normal(p.data.shape)
    qed.save(m, tmp_path / "m.qed")
    back = qed.load(tmp_path / "m.qed")
    assert type(back) is type(m) and repr(back) == repr(m)
    for (k, v), (k2, v2) in zip(m.state_dict().items(), back.state_dict().items(), strict=True):
        assert k == k2
        np.testing.assert_array_equal(v, v2)
    if not isinstance(m, nn.ModuleList):
        x = np.random.default_rng(4).standard_normal((2, 3, 4))
        if isinstance(m, _Net):
            x = x[0]
        np.testing.assert_array_equal(back(x).data, m(x).data)


def test_gelu_float32_is_exact_to_float32_rounding_and_equals_torch():
    """float32 GELU's compiled pass (erfc by a vectorised Chebyshev fit): output and slope
    within a few float32 roundings of x·Φ(x) and Φ(x) + x·φ(x) computed in float64, over
    [−12, 12] (the lower tail included, where Φ is tiny); equal to torch's float32 GELU, forward
    and backward, on normal inputs. (Deep in the lower tail torch's 0.5x(1 + erf(x/√2))
    cancels, so it is compared there with the float64 values only.)"""
    from scipy.special import ndtr

    rng = np.random.default_rng(0)
    x = np.concatenate([np.linspace(-12, 12, 100_001), 3 * rng.standard_normal(50_000)])
    x = x.astype(np.float32)
    t = Tensor(x, requires_grad=True)
    out = F.gelu(t)
    out.backward(np.ones_like(x))
    x64 = x.astype(np.float64)
    ref = x64 * ndtr(x64)
    slope = ndtr(x64) + x64 * np.exp(-0.5 * x64 * x64) / np.sqrt(2 * np.pi)
    eps = np.finfo(np.float32).eps
    tiny = np.abs(ref) > np.finfo(np.float32).tiny
    assert out.data.dtype == np.float32 and t.grad.dtype == np.float32
    assert np.all(np.abs(out.data - ref)[tiny] <= 4 * eps * np.abs(ref)[tiny])
    assert np.all(np.abs(t.grad - slope) <= 4 * eps * np.maximum(np.abs(slope), 1.0))
    z = rng.standard_normal((64, 32)).astype(np.float32)
    tz = torch.tensor(z, requires_grad=True)
    TF.gelu(tz).sum().backward()
    qz = Tensor(z, requires_grad=True)
    F.gelu(qz).sum().backward()
    np.testing.assert_allclose(F.gelu(Tensor(z)).data, TF.gelu(torch.tensor(z)).numpy(), atol=1e-6)
    np.testing.assert_allclose(qz.grad, tz.grad.numpy(), atol=1e-6)
