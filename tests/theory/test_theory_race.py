"""The optimizer race, and the theory lab's figures."""

import numpy as np
import pytest
import torch

from qed.optim import rules
from qed.theory import optimizer_race, race_problem
from qed.theory import plotting as P


@pytest.fixture(scope="module")
def race():
    return optimizer_race(n_steps=400, plot=True)


def test_every_optimizer_makes_progress(race):
    for name in ("quadratic", "rosenbrock"):
        r = race[name]
        assert set(r["paths"]) >= {
            "GD",
            "momentum",
            "Nesterov",
            "AdaGrad",
            "RMSProp",
            "Adam",
            "Adam + cosine",
            "RMSProp + cosine",
        }
        for label, gap in r["gap"].items():
            assert np.isfinite(gap[-1]) and gap[-1] < gap[0], (name, label)
        assert r["winner"] in r["paths"]


def test_gd_descends_and_momentum_beats_it_on_the_quadratic(race):
    """GD with η = 1/β descends monotonically (descent lemma); momentum and Nesterov, whose rate
    depends on √κ rather than κ, end far closer to the minimum."""
    q = race["quadratic"]
    assert np.all(np.diff(q["gap"]["GD"]) <= 0)
    assert q["final_gap"]["momentum"] < 1e-3 * q["final_gap"]["GD"]
    assert q["final_gap"]["Nesterov"] < 1e-3 * q["final_gap"]["GD"]


def test_race_paths_equal_torch_optim():
    """The race's Adam and momentum paths on Rosenbrock equal torch.optim's to 1e-10."""
    problem = race_problem("rosenbrock")
    racers = {"Adam": rules.adam(0.02), "SGD": rules.sgd(1e-3, momentum=0.9)}
    r = optimizer_race("rosenbrock", n_steps=100, optimizers=racers)["rosenbrock"]
    for label, make in [
        ("Adam", lambda p: torch.optim.Adam([p], lr=0.02)),
        ("SGD", lambda p: torch.optim.SGD([p], lr=1e-3, momentum=0.9)),
    ]:
        p = torch.tensor(problem["x0"], requires_grad=True)
        opt = make(p)
        path = [p.detach().numpy().copy()]
        for _ in range(100):
            opt.zero_grad()
            x, y = p[0], p[1]
            ((1 - x) ** 2 + 100 * (y - x**2) ** 2).backward()
            opt.step()
            path.append(p.detach().numpy().copy())
        np.testing.assert_allclose(r["paths"][label], np.array(path), rtol=1e-10, atol=1e-12)


def test_unknown_problem():
    with pytest.raises(ValueError, match="not one of"):
        optimizer_race("himmelblau")


def test_figures_are_built(race):
    from matplotlib.figure import Figure

    from qed.theory import descent_lemma_check, init_variance, overfitting_curve, sgd_convergence

    X = np.random.default_rng(0).standard_normal((30, 3))
    y = X.sum(1)
    figs = [
        race["figure"],
        P.plot_descent_lemma(descent_lemma_check(X, y, n_steps=5)),
        sgd_convergence(T_values=(10, 40), n_seeds=4, plot=True, random_state=0)["figure"],
        P.plot_init_variance({"he": init_variance(3, 16, random_state=0)}),
        overfitting_curve(range(5), plot=True, random_state=0)["figure"],
    ]
    for fig in figs:
        assert isinstance(fig, Figure) and fig.axes
