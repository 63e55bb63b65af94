"""Mutual information and contingency tables against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import mutual_info_score
from sklearn.metrics.cluster import contingency_matrix

from qed import info


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("n", "kx", "ky"), [(1, 1, 1), (10, 2, 3), (500, 5, 4), (3000, 12, 9)])
def test_mutual_information_matches_sklearn(seed, n, kx, ky):
    """I(X; Y) of contingency(x, y) equals sklearn.metrics.mutual_info_score(x, y) to 1e-12."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, kx, n)
    y = (x * rng.integers(0, 2, n) + rng.integers(0, ky, n)) % ky  # dependent on x
    table = info.contingency(x, y)
    assert info.mutual_information(table) == pytest.approx(
        mutual_info_score(x, y), rel=1e-12, abs=1e-14
    )
    assert info.mutual_information(table, base=2) == pytest.approx(
        mutual_info_score(x, y) / np.log(2), rel=1e-12, abs=1e-14
    )


@pytest.mark.parametrize("seed", range(3))
def test_contingency_matches_sklearn_counts(seed):
    rng = np.random.default_rng(seed)
    x = rng.choice(["cat", "dog", "eel"], 300)
    y = rng.integers(-2, 3, 300)
    counts, xl, yl = info.contingency(x, y, normalize=False, return_labels=True)
    np.testing.assert_array_equal(counts, contingency_matrix(x, y))
    np.testing.assert_array_equal(xl, ["cat", "dog", "eel"])
    np.testing.assert_array_equal(yl, [-2, -1, 0, 1, 2])
    assert counts.dtype == np.int64
    probs = info.contingency(x, y)
    np.testing.assert_allclose(probs, counts / 300, rtol=0, atol=0)
    assert info.mutual_information(probs) == pytest.approx(mutual_info_score(x, y), rel=1e-12)


def test_mutual_information_closed_forms():
    """Y = X uniform on k values ⇒ I = log k; independent ⇒ I = 0 (exactly, clipped at 0)."""
    for k in (2, 3, 16):
        assert info.mutual_information(np.eye(k) / k) == pytest.approx(np.log(k), rel=1e-14)
    px = np.array([0.1, 0.2, 0.7])
    py = np.array([0.3, 0.3, 0.15, 0.25])
    assert info.mutual_information(np.outer(px, py)) == pytest.approx(0.0, abs=1e-15)
    assert info.mutual_information(np.outer(px, py)) >= 0.0


def test_mutual_information_normalize_takes_counts():
    counts = np.array([[10, 2], [3, 25]])
    x = np.repeat([0, 0, 1, 1], [10, 2, 3, 25])
    y = np.repeat([0, 1, 0, 1], [10, 2, 3, 25])
    assert info.mutual_information(counts, normalize=True) == pytest.approx(
        mutual_info_score(x, y), rel=1e-13
    )


@pytest.mark.parametrize(
    ("x", "y", "match"),
    [
        ([0, 1], [0, 1, 1], "labels but y has"),
        ([], [], "empty"),
        ([[0, 1], [1, 0]], [0, 1], "1-D"),
        ([0.0, np.nan], [0, 1], "NaN"),
        (None, [0], "None"),
        ([None, 1], [0, 1], "None"),
    ],
)
def test_contingency_rejects_bad_labels(x, y, match):
    with pytest.raises(ValueError, match=match):
        info.contingency(x, y)


def test_mutual_information_needs_a_2d_table():
    with pytest.raises(ValueError, match="2-D joint probability table"):
        info.mutual_information([0.5, 0.5])
    with pytest.raises(ValueError, match="2-D joint probability table"):
        info.conditional_entropy(np.full((2, 2, 2), 0.125))
