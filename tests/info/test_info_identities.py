"""The notes' identities of information theory, on random distributions (hypothesis).

KL ≥ 0 with equality iff p = q (Gibbs, by Jensen), not symmetric; H(X, Y) = H(X) + H(Y|X);
I(X; Y) = H(X) + H(Y) − H(X, Y) = H(X) − H(X|Y) = D_KL(p(x, y) ‖ p(x)p(y)) ≥ 0;
H_p(q) = H(p) + D_KL(p‖q); 0 ≤ H ≤ log k.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from qed import info

SETTINGS = settings(max_examples=60, deadline=None)
# weights in [0, 1] with some exact zeros; at least one positive; normalised in the test
weights = st.floats(0.0, 1.0).map(lambda w: 0.0 if w < 0.15 else w)


def distribution(k_min=1, k_max=12):
    return (
        st.integers(k_min, k_max)
        .flatmap(lambda k: arrays(np.float64, k, elements=weights))
        .filter(lambda w: w.sum() > 1e-3)
        .map(lambda w: w / w.sum())
    )


def joint_table():
    return (
        st.tuples(st.integers(1, 6), st.integers(1, 6))
        .flatmap(lambda s: arrays(np.float64, s, elements=weights))
        .filter(lambda w: w.sum() > 1e-3)
        .map(lambda w: w / w.sum())
    )


def _tol(*values):
    return 1e-12 * (1 + max(abs(float(v)) for v in values))


@SETTINGS
@given(p=distribution())
def test_entropy_bounds(p):
    """0 ≤ H(p) ≤ log k (k = number of outcomes), H = log k iff p is uniform."""
    h = info.entropy(p)
    assert 0.0 <= h <= np.log(p.size) + 1e-12
    assert info.entropy(p, base=2) == pytest.approx(h / np.log(2), rel=1e-12, abs=1e-15)


@SETTINGS
@given(data=st.data())
def test_kl_is_nonnegative_zero_iff_equal_and_not_symmetric(data):
    p = data.draw(distribution(2))
    q = data.draw(arrays(np.float64, p.size, elements=st.floats(0.01, 1.0)))
    q = q / q.sum()
    kl = info.kl_divergence(p, q)
    assert kl >= 0.0
    assert info.kl_divergence(p, p) == 0.0
    if np.max(np.abs(p - q)) > 1e-3:
        assert kl > 0.0
    # asymmetry: an example drawn per case would often be symmetric by chance, so check that
    # the two directions are different numbers whenever p has a zero that q has not
    if (p == 0).any():
        assert info.kl_divergence(q, p) == np.inf and np.isfinite(kl)


def test_kl_is_not_symmetric_and_breaks_the_triangle_inequality():
    """The notes: KL is not symmetric and has no triangle inequality (explicit witnesses)."""
    p, q, r = np.array([0.9, 0.1]), np.array([0.5, 0.5]), np.array([0.1, 0.9])
    assert info.kl_divergence(p, q) != pytest.approx(info.kl_divergence(q, p), rel=1e-3)
    assert info.kl_divergence(p, r) > info.kl_divergence(p, q) + info.kl_divergence(q, r)


@SETTINGS
@given(data=st.data())
def test_cross_entropy_is_entropy_plus_kl(data):
    """H_p(q) = H(p) + D_KL(p‖q) (the notes: D_KL = H_p(q) − H(p))."""
    p = data.draw(distribution())
    q = data.draw(arrays(np.float64, p.size, elements=st.floats(0.01, 1.0)))
    q = q / q.sum()
    h, kl, ce = info.entropy(p), info.kl_divergence(p, q), info.cross_entropy(p, q)
    assert ce == pytest.approx(h + kl, abs=_tol(ce))
    assert ce >= h - _tol(ce)


@SETTINGS
@given(pxy=joint_table())
def test_chain_rule_and_mutual_information_identities(pxy):
    """H(X,Y) = H(X) + H(Y|X);  I = H(X) + H(Y) − H(X,Y) = H(X) − H(X|Y) = KL(pxy‖px·py) ≥ 0."""
    px, py = pxy.sum(axis=1), pxy.sum(axis=0)
    hx, hy, hxy = info.entropy(px), info.entropy(py), info.joint_entropy(pxy)
    h_y_given_x = info.conditional_entropy(pxy)
    h_x_given_y = info.conditional_entropy(pxy.T)
    mi = info.mutual_information(pxy)
    tol = _tol(hxy, hx, hy)
    assert hxy == pytest.approx(hx + h_y_given_x, abs=tol)
    assert hxy == pytest.approx(hy + h_x_given_y, abs=tol)
    assert mi == pytest.approx(hx + hy - hxy, abs=tol)
    assert mi == pytest.approx(hx - h_x_given_y, abs=tol)
    outer = np.outer(px, py)
    outer /= outer.sum()  # exact sum 1 up to rounding
    assert mi == pytest.approx(info.kl_divergence(pxy, outer, axis=None), abs=tol)
    assert mi >= 0.0 and h_y_given_x >= 0.0
    assert h_y_given_x <= hy + tol  # conditioning never increases entropy
    assert mi <= min(hx, hy) + tol


@SETTINGS
@given(px=distribution(1, 6), py=distribution(1, 6))
def test_independence_means_zero_information(px, py):
    """X ⟂ Y ⇔ p(x, y) = p(x)p(y) ⇒ I = 0 and H(X, Y) = H(X) + H(Y)."""
    pxy = np.outer(px, py)
    assume(abs(pxy.sum() - 1) < 1e-14)
    assert info.mutual_information(pxy) == pytest.approx(0.0, abs=1e-13)
    assert info.joint_entropy(pxy) == pytest.approx(info.entropy(px) + info.entropy(py), abs=1e-12)


@SETTINGS
@given(data=st.data())
def test_batched_equals_one_at_a_time(data):
    """axis semantics: the result for a stack equals the per-distribution results."""
    k = data.draw(st.integers(1, 8))
    m = data.draw(st.integers(1, 5))
    rows = [data.draw(distribution(k, k)) for _ in range(m)]
    P = np.stack(rows, axis=1)  # outcomes along axis 0, as scipy's default
    Q = np.full_like(P, 1 / k)
    np.testing.assert_array_equal(info.entropy(P), [info.entropy(r) for r in rows])
    np.testing.assert_array_equal(
        info.kl_divergence(P, Q), [info.kl_divergence(r, Q[:, 0]) for r in rows]
    )
