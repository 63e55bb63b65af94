"""qed.bounds: a safe λ_min never above the true one (checked in 50-digit mpmath), and the
strongly convex bounds exact on quadratics; Certificate.bounds in repr, HTML and to_dict."""

import json

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from qed.bounds import (
    _weyl_lower_bound,
    ball_strong_convexity,
    rounding,
    safe_min_eigenvalue,
    strongly_convex_bounds,
)
from qed.certificate import Certificate


def _mp_min_eigenvalue(H: np.ndarray) -> mpmath.mpf:
    with mpmath.workdps(50):
        A = mpmath.matrix([[mpmath.mpf(float(v)) for v in row] for row in H])
        return min(mpmath.eigsy(A, eigvals_only=True))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    m=st.integers(1, 12),
    log_cond=st.floats(0.0, 15.0),
    shift=st.sampled_from([0.0, 1.0, -1e-12]),
)
def test_safe_min_eigenvalue_never_above_the_true_one(seed, m, log_cond, shift):
    """Random symmetric matrices up to condition 1e15, some with λ_min near 0 or negative:
    the safe bound is ≤ the exact λ_min of the stored matrix, and within a rounding margin."""
    rng = np.random.default_rng(seed)
    Q, _ = np.linalg.qr(rng.normal(size=(m, m)))
    lam = np.logspace(-log_cond, 0, m) + shift
    H = (Q * lam) @ Q.T
    H = 0.5 * (H + H.T)
    exact = _mp_min_eigenvalue(H)
    # the shifted-Cholesky proof, and the eigendecomposition check it falls back on
    for safe in (safe_min_eigenvalue(H), _weyl_lower_bound(H)):
        assert mpmath.mpf(safe) <= exact
        assert float(exact) - safe <= 1e3 * m * np.finfo(float).eps * np.linalg.norm(H) + 1e-300


def test_safe_min_eigenvalue_counts_the_formation_error_and_bad_input():
    H = np.diag([2.0, 3.0])
    assert safe_min_eigenvalue(H, formation_error=0.5) <= 1.5
    assert safe_min_eigenvalue(np.array([[np.nan]])) == -np.inf
    assert safe_min_eigenvalue(np.zeros((0, 0))) == np.inf


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), d=st.integers(1, 6), scale=st.floats(-8, -1))
def test_bounds_are_true_and_tight_on_quadratics(seed, d, scale):
    """f(θ) = ½(θ − θ*)ᵀA(θ − θ*): f − f* and ‖θ − θ*‖ are known exactly; the bounds from
    g = A(θ − θ*) and μ = safe λ_min(A) hold and are within cond(A) of the truth."""
    rng = np.random.default_rng(seed)
    B = rng.normal(size=(d + 3, d))
    A = B.T @ B + 0.1 * np.eye(d)
    delta = 10.0**scale * rng.normal(size=d)
    g = A @ delta
    mu = safe_min_eigenvalue(A)
    out = strongly_convex_bounds(float(np.linalg.norm(g)) + rounding(d, 1.0), mu)
    gap, dist = 0.5 * delta @ A @ delta, np.linalg.norm(delta)
    assert dist <= out["distance"] and gap <= out["objective_gap"]
    cond = np.linalg.cond(A)
    assert out["distance"] <= 1.01 * cond * dist + 1e-14
    assert out["objective_gap"] <= 1.01 * cond * gap + 1e-28


def test_no_strong_convexity_gives_infinite_bounds():
    out = strongly_convex_bounds(1.0, 0.0, feature_norm=2.0)
    assert out == {"objective_gap": np.inf, "distance": np.inf, "prediction": np.inf}
    assert strongly_convex_bounds(1.0, 2.0, feature_norm=3.0)["prediction"] == 1.5


def test_ball_radius_holds_the_minimiser():
    """μ(r) = e^{−r} (curvature decaying away from θ): the radius returned satisfies
    2‖g‖ < μ(r)·r, and a gradient too large for any radius gives (inf, 0)."""
    r, mu = ball_strong_convexity(0.01, lambda r: np.exp(-r), 1.0)
    assert np.isfinite(r) and 2 * 0.01 < mu * r and mu == pytest.approx(np.exp(-r))
    assert ball_strong_convexity(10.0, lambda r: np.exp(-r), 1.0) == (np.inf, 0.0)
    assert ball_strong_convexity(0.0, lambda r: 1.0, 2.0) == (0.0, 2.0)


def test_certificate_carries_bounds_in_repr_html_and_json():
    cert = Certificate("Ridge")
    cert.add("normal_equations", 1e-14, 1e-10)
    cert.set_bounds({"distance": 2e-12, "objective_gap": 3e-24}, "on ‖θ − θ*‖ <here>")
    assert list(cert.bounds) == ["objective_gap", "distance"]  # BOUND_NAMES order
    text = repr(cert)
    assert "distance ≤ 2.000e-12" in text and "on ‖θ − θ*‖" in text
    page = cert._repr_html_()
    assert "objective_gap" in page and "&lt;here&gt;" in page
    d = json.loads(json.dumps(cert.to_dict()))
    assert d["bounds"] == {"objective_gap": 3e-24, "distance": 2e-12}
    assert d["bounds_note"].startswith("on ‖θ")
    with pytest.raises(ValueError, match="unknown bound names"):
        cert.set_bounds({"gap": 1.0}, "")
