"""qed.nn.init: sample statistics of every initialiser and mode on large matrices.

The expected σ is derived here from the notes (Var z = D_in·σ²·S), independently of the
library: Xavier keeps E[z²] = E[x²], He keeps it through a ReLU (which halves it), Glorot's
fan_avg averages the forward and backward conditions; a uniform U(−b, b) has variance b²/3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from qed import nn
from qed.autograd import Tensor
from qed.nn import init

FAN_OUT, FAN_IN = 600, 1500  # weight (out, in): 900,000 draws, σ̂ within ~0.1 % of σ


def _expected_std(scheme: str, mode: str, gain: float) -> float:
    fan = {"fan_in": FAN_IN, "fan_out": FAN_OUT, "fan_avg": (FAN_IN + FAN_OUT) / 2}[mode]
    keep = 1.0 if scheme == "xavier" else 2.0  # a ReLU halves the second moment
    return gain * math.sqrt(keep / fan)


CASES = [
    (init.xavier_normal_, "xavier", "normal"),
    (init.xavier_uniform_, "xavier", "uniform"),
    (init.he_normal_, "he", "normal"),
    (init.he_uniform_, "he", "uniform"),
]


@pytest.mark.parametrize("fn, scheme, kind", CASES, ids=[c[0].__name__ for c in CASES])
@pytest.mark.parametrize("mode", ["fan_in", "fan_out", "fan_avg"])
@pytest.mark.parametrize("gain", [1.0, math.sqrt(2.0)])
def test_initialiser_statistics(fn, scheme, kind, mode, gain):
    """σ̂ within 1 % of the derived σ, mean ≈ 0, and a uniform draw stays inside ±√3σ."""
    w = np.empty((FAN_OUT, FAN_IN))
    out = fn(w, gain, mode=mode, rng=0)
    assert out is w
    sigma = _expected_std(scheme, mode, gain)
    assert abs(w.std() / sigma - 1) < 0.01
    assert abs(w.mean()) < 5 * sigma / math.sqrt(w.size)
    if kind == "uniform":
        bound = math.sqrt(3.0) * sigma
        assert np.abs(w).max() <= bound
        assert np.abs(w).max() > 0.999 * bound  # and it is the bound, not a smaller one
    else:
        kurtosis = np.mean((w / w.std()) ** 4)
        assert abs(kurtosis - 3) < 0.05  # normal, not uniform (1.8)


def test_defaults_are_glorot_fan_avg_and_he_fan_in():
    """Xavier defaults to fan_avg (Glorot, PyTorch), He to fan_in (PyTorch's kaiming)."""
    w = np.empty((FAN_OUT, FAN_IN), dtype=np.float32)
    init.xavier_uniform_(w, rng=1)
    t = torch.empty(FAN_OUT, FAN_IN)
    torch.manual_seed(1)
    torch.nn.init.xavier_uniform_(t)
    assert abs(w.std() / t.std().item() - 1) < 0.01
    assert np.abs(w).max() <= math.sqrt(6 / (FAN_IN + FAN_OUT))
    init.he_normal_(w, rng=1)
    torch.nn.init.kaiming_normal_(t, nonlinearity="relu")
    assert abs(w.std() / t.std().item() - 1) < 0.01
    assert w.dtype == np.float32


def test_notes_xavier_is_fan_in():
    """The notes' Xavier: σ² = 1/D_in keeps E[z²] = E[x²] for z = Σ wᵢxᵢ (checked by sampling)."""
    rng = np.random.default_rng(0)
    w = np.empty((4000, 800))
    init.xavier_normal_(w, mode="fan_in", rng=rng)
    x = rng.uniform(0.0, 2.0, size=(800, 500))  # E[x] ≠ 0, as the notes allow
    z = w @ x
    # E over w: the (Σᵢwᵢ)²·E[x]² part fluctuates as χ²₁ per row: ≈ 1.7 % over 4000 rows
    assert abs(np.mean(z**2) / np.mean(x**2) - 1) < 0.06


def test_he_keeps_the_second_moment_through_relu():
    """He: with h = ReLU(z), E[h²] = ½E[z²] = E[x²] when σ² = 2/D_in."""
    rng = np.random.default_rng(1)
    w = np.empty((400, 800))
    init.he_normal_(w, rng=rng)
    x = rng.standard_normal((800, 2000))
    h = np.maximum(w @ x, 0)
    assert abs(np.mean(h**2) / np.mean(x**2) - 1) < 0.03


def test_initialisers_accept_tensors_and_are_reproducible():
    p = nn.Parameter(np.empty((30, 20)))
    init.he_uniform_(p, rng=5)
    q = Tensor(np.empty((30, 20)))
    init.he_uniform_(q, rng=5)
    np.testing.assert_array_equal(p.data, q.data)


def test_init_errors():
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_normal_(np.empty(5))
    with pytest.raises(ValueError, match="mode"):
        init.he_normal_(np.empty((3, 3)), mode="fan_max")
    with pytest.raises(ValueError, match="gain"):
        init.he_normal_(np.empty((3, 3)), gain=-1.0)
    with pytest.raises(TypeError, match="floating"):
        init.he_normal_(np.empty((3, 3), dtype=int))


@pytest.mark.parametrize(
    "name, std",
    [
        ("he", math.sqrt(2 / FAN_IN)),
        ("xavier", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("xavier_fan_in", math.sqrt(1 / FAN_IN)),
        ("he_uniform", math.sqrt(2 / FAN_IN)),
        ("xavier_uniform", math.sqrt(2 / (FAN_IN + FAN_OUT))),
        ("torch", 1 / math.sqrt(FAN_IN) / math.sqrt(3)),
    ],
)
def test_linear_init_options(name, std):
    """Linear(init=...) draws its (out, in) weight with the named scheme."""
    layer = nn.Linear(FAN_IN, FAN_OUT, init=name, rng=0)
    assert layer.weight.shape == (FAN_OUT, FAN_IN)
    assert abs(layer.weight.data.std() / std - 1) < 0.01
    if name != "torch":
        np.testing.assert_array_equal(layer.bias.data, 0.0)
