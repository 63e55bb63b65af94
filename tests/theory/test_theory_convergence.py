"""GD and SGD convergence rates: min E‖∇f‖² = O(1/√T) for SGD with η = 1/√T."""

import numpy as np
import pytest

from qed.theory import gd_convergence, least_squares_problem, loglog_slope, sgd_convergence


@pytest.fixture(scope="module", params=[0, 1])
def sgd_run(request):
    return sgd_convergence(random_state=request.param)


def test_sgd_slope_is_minus_one_half(sgd_run):
    """The notes predict min_t E‖∇f(x_t)‖² ∝ T^(−1/2); the min of a finite-seed average is
    biased slightly low at long horizons, so the fitted slope sits a little below −½."""
    assert -0.65 < sgd_run["slope"] < -0.42
    assert -0.6 < sgd_run["slope_avg"] < -0.45
    assert np.all(np.diff(sgd_run["grad_sq"]) < 0)


def test_sgd_average_gradient_obeys_the_notes_bound(sgd_run):
    """(1/T)Σ E‖∇f(x_t)‖² ≤ (f₀ − f*)/(ηT) + βηG/2 and min ≤ mean."""
    assert np.all(sgd_run["avg_grad_sq"] <= sgd_run["bound"])
    assert np.all(sgd_run["grad_sq"] <= sgd_run["avg_grad_sq"])
    np.testing.assert_allclose(sgd_run["lr"], 0.5 / np.sqrt(sgd_run["T"]))
    assert [c.size for c in sgd_run["curves"]] == list(sgd_run["T"])


def test_curves_start_at_the_full_gradient_norm_at_zero():
    """E‖∇f(x₀)‖² at x₀ = 0 is ‖Xᵀy/n‖² exactly (no randomness yet)."""
    r = sgd_convergence(T_values=(10, 20), n_seeds=3, random_state=4)
    p = least_squares_problem(200, 2, 1.0, np.random.default_rng(4))
    g0 = p["X"].T @ p["y"] / 200
    assert r["curves"][0][0] == pytest.approx(g0 @ g0, rel=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_gd_beats_its_bound_and_sgd(seed):
    """GD with η = 1/β: min_t ‖∇f(x_t)‖² ≤ 2β(f₀ − f*)/T, a faster rate than SGD's T^(−1/2)."""
    r = gd_convergence(random_state=seed)
    assert np.all(r["grad_sq"] <= r["bound"])
    assert loglog_slope(r["T"], r["grad_sq"]) < -1.0


def test_least_squares_problem_minimiser():
    p = least_squares_problem(50, 3, random_state=0)
    np.testing.assert_allclose(p["H"] @ p["w_star"], p["X"].T @ p["y"] / 50, rtol=1e-10)
    assert p["beta"] == pytest.approx(np.linalg.eigvalsh(p["X"].T @ p["X"] / 50)[-1])


def test_loglog_slope_recovers_an_exponent():
    T = np.array([1.0, 10.0, 100.0])
    assert loglog_slope(T, 3 * T**-0.5) == pytest.approx(-0.5)
    with pytest.raises(ValueError):
        loglog_slope([1.0], [1.0])


def test_bad_horizons():
    with pytest.raises(ValueError, match="T_values"):
        sgd_convergence(T_values=(10,))
    with pytest.raises(TypeError, match="n_seeds"):
        sgd_convergence(n_seeds=2.5)
