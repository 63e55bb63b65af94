"""Adam's small arrays updated together (``_foreach``) give the bits of the pure rule.

The stateful ``Adam`` sends every fused array below ``PARALLEL_MIN_SIZE`` to one compiled
call per dtype and step count, in tuples of ``GROUP``. The oracle is the same optimizer with
``fused=False`` (the pure per-array rules of ``qed.optim.rules``, themselves equal to torch's
trajectories in ``test_optim_shells``): more arrays than a tuple holds, two dtypes, every
weight-decay mode, AMSGrad, maximize, and parameters whose step counts differ because they
skipped steps (grad None).
"""

from __future__ import annotations

import numpy as np
import pytest

from qed.autograd import Tensor
from qed.optim import Adam, AdamW
from qed.optim._foreach import GROUP


def _params(seed):
    rng = np.random.default_rng(seed)
    shapes = [(3, 4), (7,), (1,), (5, 2), (11,), (2, 2, 2)] * 3 + [(64, 33)]
    assert len(shapes) > 2 * GROUP
    return [
        Tensor(rng.standard_normal(s).astype(np.float32 if i % 3 else np.float64))
        for i, s in enumerate(shapes)
    ]


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "make",
    [
        lambda ps, f: Adam(ps, lr=1e-2, fused=f),
        lambda ps, f: Adam(ps, lr=1e-2, weight_decay=0.1, fused=f),
        lambda ps, f: AdamW(ps, lr=1e-2, weight_decay=0.1, fused=f),
        lambda ps, f: Adam(ps, lr=1e-2, amsgrad=True, maximize=True, fused=f),
    ],
)
def test_foreach_steps_equal_the_pure_rule_bit_for_bit(seed, make):
    a, b = _params(seed), _params(seed)
    opt_a, opt_b = make(a, None), make(b, False)
    rng = np.random.default_rng(100 + seed)
    for step in range(6):
        for i, (pa, pb) in enumerate(zip(a, b, strict=True)):
            if (i + step) % 4 == 0:  # skipped this step: its step count falls behind
                pa.grad = pb.grad = None
                continue
            g = rng.standard_normal(pa.data.shape).astype(pa.data.dtype)
            pa.grad, pb.grad = g, g.copy()
        opt_a.step()
        opt_b.step()
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_array_equal(pa.data, pb.data)
    steps = {st["step"] for st in opt_a.state.values()}
    assert len(steps) > 1  # the parameters really were at different steps
    for (_, sa), (_, sb) in zip(opt_a.state._d.values(), opt_b.state._d.values(), strict=True):
        for key in sa:
            np.testing.assert_array_equal(sa[key], sb[key])
