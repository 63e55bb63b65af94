"""The tour's bound figure (chapter 6): along qed's Newton run for logistic regression on the
bundled breast-cancer data, the certificate's ``bounds["distance"]`` at every iterate θ_k is
≥ the true ‖θ_k − θ*‖ — with θ* from scikit-learn's Newton-Cholesky at tol 1e-14, an
independent reference — and both fall, quadratically at the end."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from qed import tour
from qed.datasets import load_breast_cancer
from qed.tour._common import standardize
from qed.tour.logistic import BOUND_C, newton_bound_path


@pytest.fixture(scope="module")
def data():
    X, y = load_breast_cancer(return_X_y=True)
    return standardize(X), y


@pytest.fixture(scope="module")
def path(data):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the deliberate early stops warn nothing outside
        return newton_bound_path(*data)


@pytest.fixture(scope="module")
def sklearn_optimum(data):
    from sklearn.linear_model import LogisticRegression as SkLogReg

    X, y = data
    sk = SkLogReg(C=BOUND_C, solver="newton-cholesky", tol=1e-14, max_iter=1000).fit(X, y)
    return np.concatenate([sk.coef_.ravel(), sk.intercept_])


def _iterate(data, k):
    from qed.classify import LogisticRegression

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LogisticRegression(C=BOUND_C, tol=0.0, max_iter=k).fit(*data)
    return np.concatenate([m.coef_.ravel(), m.intercept_])


def test_reference_agrees_with_sklearn(data, path, sklearn_optimum):
    """θ* of the figure (qed's run to the rounding floor) is scikit-learn's to 1e-12, far
    below the smallest distance the figure shows."""
    star = _iterate(data, path["n_iter"])
    np.testing.assert_allclose(star, sklearn_optimum, rtol=0, atol=1e-12)
    assert path["distance"].min() > 1e3 * 1e-12


def test_bound_is_above_the_true_distance_at_every_iterate(data, path, sklearn_optimum):
    """bound_k ≥ ‖θ_k − θ*‖ for the figure's θ* and for scikit-learn's, at every k (∞ where
    no certified ball reaches θ*)."""
    k, bound, dist = path["k"], path["bound"], path["distance"]
    assert len(k) >= 5 and np.array_equal(k, np.arange(1, len(k) + 1))
    assert not np.any(np.isnan(bound)) and np.all(bound >= dist)
    for kk, b in zip(k, bound, strict=True):
        assert b >= np.linalg.norm(_iterate(data, kk) - sklearn_optimum)


def test_both_decrease_and_the_bound_tightens_quadratically(path):
    """The true distance falls at every step; the bound is ∞ far from θ*, finite from some
    step on, and falls at every step from there. At the end the correct digits (at least)
    nearly double per step, log e_{k+1} / log e_k ≥ 1.8, for the distance and for the bound,
    and the last bound is within a factor 1000 of the truth (not vacuous)."""
    bound, dist = path["bound"], path["distance"]
    assert np.all(np.diff(dist) < 0)
    finite = np.isfinite(bound)
    first = int(np.argmax(finite))
    assert finite.sum() >= 3 and np.all(finite[first:])
    assert np.all(np.diff(bound[first:]) < 0)
    assert np.log(dist[-1]) / np.log(dist[-2]) >= 1.8
    assert np.log(bound[-1]) / np.log(bound[-2]) >= 1.8
    assert bound[-1] <= 1e3 * dist[-1]


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_chapter_shows_the_figure_with_the_bound_in_its_caption(lang):
    number = tour.CHAPTERS.index("logistic") + 1
    chapter = tour.run_chapter(number, "logistic", lang=lang)
    assert chapter.status == "ok", chapter.message
    title = "Certified distance to the optimum" if lang == "en" else "최적점까지의 증명된 거리"
    (figure,) = [f for f in chapter.figures if f.title == title]
    assert "‖θ_k − θ*‖ ≤ ‖∇f(θ_k)‖/μ_k" in figure.caption
    assert ("safe lower bound" if lang == "en" else "안전한 하한") in figure.caption
    assert all(c.holds for c in chapter.certificates)
