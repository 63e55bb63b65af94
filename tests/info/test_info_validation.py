"""Bad input to qed.info: every case a ValueError/TypeError naming the argument and the fix."""

from __future__ import annotations

import numpy as np
import pytest

from qed import info

BAD_DISTRIBUTIONS = [
    ([0.5, np.nan, 0.5], "NaN"),
    ([0.5, np.inf], "infinity"),
    ([1.2, -0.2], "negative"),
    ([0.3, 0.3], "does not sum to 1"),
    ([], "empty"),
    (np.zeros((3, 0)), "empty"),
    (0.5, "scalar"),
    (["a", "b"], "strings"),
]


@pytest.mark.parametrize(("p", "match"), BAD_DISTRIBUTIONS)
def test_entropy_rejects(p, match):
    with pytest.raises(ValueError, match=match):
        info.entropy(p)


@pytest.mark.parametrize(("p", "match"), BAD_DISTRIBUTIONS)
def test_divergences_reject_bad_p_and_bad_q(p, match):
    good = np.full(np.shape(p), 1 / max(np.size(p), 1)) if np.ndim(p) else np.array([1.0])
    for fn in (info.kl_divergence, info.cross_entropy):
        with pytest.raises(ValueError, match=match):
            fn(p, good)
        with pytest.raises(ValueError, match=match):
            fn(good, p)


@pytest.mark.parametrize(
    ("p", "match"),
    [
        (np.array([[0.5, 0.5], [0.5, np.nan]]), "NaN"),
        ([[0.5, 0.6], [0.0, 0.0]], "does not sum to 1"),
        ([[0.5, -0.1], [0.6, 0.0]], "negative"),
    ],
)
def test_tables_are_validated(p, match):
    for fn in (info.joint_entropy, info.conditional_entropy, info.mutual_information):
        with pytest.raises(ValueError, match=match):
            fn(p)


def test_the_error_names_the_argument():
    with pytest.raises(ValueError, match=r"^q does not sum to 1 along axis 0"):
        info.kl_divergence([0.5, 0.5], [0.5, 0.4])
    with pytest.raises(ValueError, match=r"^pxy does not sum to 1 in total"):
        info.mutual_information([[0.5, 0.4], [0.0, 0.0]])
    with pytest.raises(ValueError, match="normalize=True"):
        info.entropy([2.0, 2.0])


def test_shape_mismatch():
    with pytest.raises(ValueError, match="p has shape \\(2,\\) but q has shape \\(3,\\)"):
        info.kl_divergence([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="same shape"):
        info.cross_entropy(np.full((2, 2), 0.5), [0.5, 0.5])


def test_sum_tolerance_scales_with_length_and_dtype():
    """A sum off by a few ulps per entry passes; a real deficit does not."""
    n = 1_000_000
    p = np.full(n, 1 / n)
    assert info.entropy(p) == pytest.approx(np.log(n), rel=1e-12)
    p[0] += 1e-7
    with pytest.raises(ValueError, match="does not sum to 1"):
        info.entropy(p)
    q = np.full(3, 1 / 3, dtype=np.float32)
    q[0] += 1e-7  # within float32's tolerance (eps32 ≈ 1.2e-7 · 64 · √3)
    assert np.isfinite(info.entropy(q))
    with pytest.raises(ValueError, match="does not sum to 1"):
        info.entropy(q.astype(np.float64))


@pytest.mark.parametrize("base", [0, 1, -2, np.inf, np.nan])
def test_invalid_base(base):
    with pytest.raises(ValueError, match="base"):
        info.entropy([0.5, 0.5], base=base)


@pytest.mark.parametrize("base", ["2", True])
def test_base_of_wrong_type(base):
    with pytest.raises(TypeError, match="base"):
        info.kl_divergence([0.5, 0.5], [0.5, 0.5], base=base)


@pytest.mark.parametrize(
    ("axis", "exc"), [(2, ValueError), (-3, ValueError), (1.0, TypeError), ("0", TypeError)]
)
def test_invalid_axis(axis, exc):
    with pytest.raises(exc, match="axis"):
        info.entropy(np.full((2, 2), 0.5), axis=axis)


def test_normalize_needs_positive_sums():
    with pytest.raises(ValueError, match="sums to 0"):
        info.entropy([0.0, 0.0], normalize=True)
    with pytest.raises(ValueError, match="q sums to 0"):
        info.kl_divergence([1.0, 1.0], [0.0, 0.0], normalize=True)
    with pytest.raises(ValueError, match="negative"):
        info.entropy([2.0, -1.0], normalize=True)  # normalising does not excuse negatives
    with pytest.raises(ValueError, match="overflows"):
        info.entropy([1e308, 1e308], normalize=True)


@pytest.mark.parametrize("p", [[-0.1], [1.5], [np.nan]])
def test_self_information_rejects(p):
    with pytest.raises(ValueError, match="p"):
        info.self_information(p)


def test_input_is_not_modified():
    p = np.array([2.0, 6.0])
    q = np.array([1.0, 1.0])
    info.kl_divergence(p, q, normalize=True)
    info.entropy(p, normalize=True)
    np.testing.assert_array_equal(p, [2.0, 6.0])
    np.testing.assert_array_equal(q, [1.0, 1.0])
