"""The pure rules as the notes write them, and their relation to PyTorch's forms."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from qed.optim import rules
from qed.optim.schedules import cosine, inverse_sqrt


def _quadratic(seed: int, d: int = 4):
    """f(x) = ½xᵀAx − bᵀx with A symmetric positive definite: ∇f(x) = Ax − b."""
    rng = np.random.default_rng(seed)
    Q = rng.standard_normal((d, d))
    A = Q @ Q.T / d + 0.1 * np.eye(d)
    b = rng.standard_normal(d)
    x0 = rng.standard_normal(d)
    return A, b, x0, (lambda x: A @ x - b)


def _torch_sgd_trajectory(x0, grad, steps, **kw):
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], **kw)
    out = [x0.copy()]
    for _ in range(steps):
        p.grad = torch.from_numpy(grad(p.detach().numpy()))
        opt.step()
        out.append(p.detach().numpy().copy())
    return np.array(out), opt, p


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_is_x_minus_alpha_grad_and_equals_torch(seed):
    """GD: xₜ₊₁ = xₜ − α∇f(xₜ), = torch.optim.SGD without momentum."""
    _, _, x0, grad = _quadratic(seed)
    ours = rules.trajectory(rules.gd(0.1), grad, x0, 50)
    theirs, _, _ = _torch_sgd_trajectory(x0, grad, 50, lr=0.1)
    np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(ours[1], x0 - 0.1 * grad(x0), rtol=1e-15)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_notes_momentum_is_torch_momentum_with_v_equal_minus_alpha_b(seed):
    """Notes: v ← ρv − α∇f(x), x ← x + v. Torch: b ← μb + ∇f(x), x ← x − αb. With v = −αb
    the two are one recursion: same iterates, and torch's buffer is −v/α at every step."""
    rng = np.random.default_rng(seed)
    alpha, rho = float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.3, 0.95))
    _, _, x0, grad = _quadratic(seed)
    rule = rules.momentum(alpha, rho)
    params, state = [x0.copy()], rule.init([x0])
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=alpha, momentum=rho)
    for _ in range(60):
        params, state = rule.update([grad(params[0])], state, params)
        p.grad = torch.from_numpy(grad(p.detach().numpy()))
        opt.step()
        np.testing.assert_allclose(params[0], p.detach().numpy(), rtol=1e-6, atol=1e-12)
        b = opt.state[p]["momentum_buffer"].numpy()
        np.testing.assert_allclose(state.v[0], -alpha * b, rtol=1e-6, atol=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_notes_nesterov_is_torch_nesterov_in_the_lookahead_variable(seed):
    """Notes: v ← ρv − α∇f(x + ρv), x ← x + v. Put y = x + ρv: then
    y ← y − α∇f(y) + ρv_new, which is torch's Nesterov (b ← μb + ∇f(y), y ← y − α(∇f(y) + μb))
    under v = −αb. So torch's parameter is the notes' look-ahead point x + ρv."""
    rng = np.random.default_rng(seed)
    alpha, rho = float(rng.uniform(0.01, 0.2)), float(rng.uniform(0.3, 0.95))
    _, _, x0, grad = _quadratic(seed)
    rule = rules.nesterov(alpha, rho)
    params, state = [x0.copy()], rule.init([x0])
    p = torch.tensor(x0, requires_grad=True)
    opt = torch.optim.SGD([p], lr=alpha, momentum=rho, nesterov=True)
    for _ in range(60):
        point = rule.grad_point(state, params)
        np.testing.assert_allclose(point[0], params[0] + rho * state.v[0], rtol=1e-15)
        params, state = rule.update([grad(point[0])], state, params)
        p.grad = torch.from_numpy(grad(p.detach().numpy()))
        opt.step()
        y = params[0] + rho * state.v[0]
        np.testing.assert_allclose(y, p.detach().numpy(), rtol=1e-6, atol=1e-12)
    # and the rule's own x differs from torch's y (the change of variables is not trivial)
    assert np.abs(params[0] - p.detach().numpy()).max() > 1e-8


def test_nesterov_and_momentum_converge_on_a_quadratic():
    """With α = 1/β (β = λ_max(A), the smoothness constant) all three reach A⁻¹b."""
    A, b, x0, grad = _quadratic(3)
    xstar = np.linalg.solve(A, b)
    alpha = 1.0 / np.linalg.eigvalsh(A)[-1]
    for rule in (rules.momentum(alpha, 0.9), rules.nesterov(alpha, 0.9), rules.gd(alpha)):
        x = rules.trajectory(rule, grad, x0, 800)[-1]
        np.testing.assert_allclose(x, xstar, rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize(
    "factory, torch_cls, kw",
    [
        (rules.sgd, torch.optim.SGD, dict(lr=0.05, momentum=0.8, dampening=0.2, weight_decay=0.1)),
        (
            rules.adagrad,
            torch.optim.Adagrad,
            dict(lr=0.3, lr_decay=0.05, initial_accumulator_value=0.1),
        ),
        (rules.rmsprop, torch.optim.RMSprop, dict(lr=0.01, alpha=0.9, momentum=0.5, centered=True)),
        (rules.adam, torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05)),
        (rules.adamw, torch.optim.AdamW, dict(lr=0.05, betas=(0.8, 0.99), weight_decay=0.05)),
    ],
)
def test_rules_on_several_params_equal_torch(factory, torch_cls, kw, seed):
    """A rule over a list of parameters of different shapes = torch.optim on the same list."""
    rng = np.random.default_rng(seed)
    shapes = [(3, 2), (4,), ()]
    xs = [rng.standard_normal(s) for s in shapes]
    targets = [rng.standard_normal(s) for s in shapes]

    def grads(ps):  # ∇ of Σ ¼‖x − target‖⁴-ish: a non-quadratic separable loss
        return [(x - t) * (1 + (x - t) ** 2) for x, t in zip(ps, targets, strict=True)]

    rule = factory(**kw)
    params, state = [x.copy() for x in xs], rule.init(xs)
    tps = [torch.tensor(x, requires_grad=True) for x in xs]
    opt = torch_cls(tps, **kw)
    for _ in range(50):
        params, state = rule.update(grads(params), state, params)
        for t, g in zip(tps, grads([t.detach().numpy() for t in tps]), strict=True):
            t.grad = torch.from_numpy(np.asarray(g))
        opt.step()
    assert state.step == 50
    for x, t in zip(params, tps, strict=True):
        assert x.shape == t.shape
        np.testing.assert_allclose(x, t.detach().numpy(), rtol=1e-6, atol=1e-10)


@pytest.mark.parametrize("beta1, beta2", [(0.9, 0.999), (0.5, 0.9), (0.8, 0.99)])
def test_adam_constant_gradient_remark(beta1, beta2):
    """Notes: with a constant gradient g, mₖ = (1 − β₁ᵏ)g and vₖ = (1 − β₂ᵏ)g², so the
    bias-corrected m̂ = g and v̂ = g², and the first step (all steps) has size α (ε = 0)."""
    g = np.array([3.0, -0.5, 1e-3, -200.0])
    alpha = 0.01
    rule = rules.adam(alpha, (beta1, beta2), eps=0.0)
    params, state = [np.zeros(4)], rule.init([np.zeros(4)])
    for k in range(1, 31):
        before = params[0]
        params, state = rule.update([g], state, params)
        np.testing.assert_allclose(state.m[0], (1 - beta1**k) * g, rtol=1e-12)
        np.testing.assert_allclose(state.v[0], (1 - beta2**k) * g**2, rtol=1e-12)
        np.testing.assert_allclose(params[0] - before, -alpha * np.sign(g), rtol=1e-12)


def test_adagrad_steep_slows_flat_speeds():
    """Notes' AdaGrad: x ← x − αg/√Σg²; on f = ½(100x₁² + x₂²) the first step is −α·sign
    in both coordinates whatever the curvature (ε → 0)."""
    rule = rules.adagrad(0.1, eps=0.0)
    x0 = np.array([1.0, 1.0])
    params, state = rule.update([np.array([100.0, 1.0])], rule.init([x0]), [x0])
    np.testing.assert_allclose(params[0], x0 - 0.1, rtol=1e-15)


def test_rmsprop_is_the_notes_recursion():
    """E[g²]ₜ = βE[g²]ₜ₋₁ + (1 − β)gₜ², x ← x − ηg/√E[g²] (ε = 0), checked by hand."""
    beta, eta = 0.9, 0.01
    rule = rules.rmsprop(eta, alpha=beta, eps=0.0)
    x, state = [np.array([2.0])], rule.init([np.array([2.0])])
    E = 0.0
    for g in (1.0, -2.0, 0.5):
        xprev = x[0][0]
        x, state = rule.update([np.array([g])], state, x)
        E = beta * E + (1 - beta) * g * g
        assert state.square_avg[0][0] == pytest.approx(E, rel=1e-14)
        assert x[0][0] == pytest.approx(xprev - eta * g / np.sqrt(E), rel=1e-14)


@pytest.mark.parametrize(
    "factory",
    [
        rules.gd,
        rules.momentum,
        rules.nesterov,
        rules.sgd,
        rules.adagrad,
        rules.rmsprop,
        rules.adam,
        rules.adamw,
        rules.nadam,
        lambda lr: rules.adam(lr, amsgrad=True, maximize=True),
    ],
)
def test_rules_are_pure(factory):
    """update() mutates neither the params, the grads nor the state it is given."""
    rule = factory(0.1)
    rng = np.random.default_rng(0)
    params = [rng.standard_normal(3), rng.standard_normal((2, 2))]
    state = rule.init(params)
    for _ in range(2):  # the second call sees non-trivial state
        grads = [rng.standard_normal(3), rng.standard_normal((2, 2))]
        snapshot = [a.copy() for a in params + grads]
        arrays = [a for f in state[1:] if f is not None for a in f if isinstance(a, np.ndarray)]
        state_snapshot = [a.copy() for a in arrays]
        new_params, new_state = rule.update(grads, state, params)
        for a, s in zip(params + grads, snapshot, strict=True):
            np.testing.assert_array_equal(a, s)
        for a, s in zip(arrays, state_snapshot, strict=True):
            np.testing.assert_array_equal(a, s)
        assert new_state.step == state.step + 1 and type(new_state) is type(state)
        assert all(n is not p for n, p in zip(new_params, params, strict=True))
        params, state = new_params, new_state


def test_schedule_lr_in_a_rule():
    """A rule's lr may be a schedule: the k-th update uses lr(k)."""
    sched = inverse_sqrt(0.5)
    x0 = np.array([1.0, -2.0])
    traj = rules.trajectory(rules.gd(sched), lambda x: np.ones_like(x), x0, 5)
    expected = x0 - np.cumsum([sched(k) for k in range(5)])[:, None]
    np.testing.assert_allclose(traj[1:], expected, rtol=1e-14)
    traj = rules.trajectory(rules.adam(cosine(0.1, 3), eps=0.0), lambda x: x, x0, 4)
    np.testing.assert_allclose(traj[-1], traj[-2], rtol=0)  # cosine(0.1, 3)(3) = 0


def test_float32_rules_stay_float32():
    for factory in (
        rules.gd,
        rules.momentum,
        rules.nesterov,
        rules.sgd,
        rules.adagrad,
        rules.rmsprop,
        rules.adam,
    ):
        traj = rules.trajectory(factory(0.1), lambda x: 2 * x, np.ones(3, np.float32), 3)
        assert traj.dtype == np.float32


@pytest.mark.parametrize(
    "call, name",
    [
        (lambda: rules.gd(-1.0), "lr"),
        (lambda: rules.momentum(0.1, rho=1.0), "rho"),
        (lambda: rules.nesterov(0.1, rho=-0.1), "rho"),
        (lambda: rules.sgd(0.1, nesterov=True), "nesterov"),
        (lambda: rules.adam(0.1, betas=(0.9, 1.0)), "betas"),
        (lambda: rules.adam(0.1, eps=-1.0), "eps"),
        (lambda: rules.adagrad(0.1, eps=-1.0), "eps"),
        (lambda: rules.rmsprop(0.1, alpha=1.5), "alpha"),
        (lambda: rules.trajectory(rules.gd(0.1), lambda x: x, np.ones(2), -1), "steps"),
    ],
)
def test_rule_hyperparameters_are_checked(call, name):
    with pytest.raises(ValueError, match=name):
        call()
