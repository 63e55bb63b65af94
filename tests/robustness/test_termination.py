"""Solvers never hang (issue 8): max_iter is honoured with a ConvergenceWarning, degenerate data
terminates, and problems without a finite optimum say so."""

from __future__ import annotations

import time

import numpy as np
import pytest

from qed._validation import ConvergenceWarning
from qed.classify import SVC, LogisticRegression
from qed.datasets import make_separable

RNG = np.random.default_rng(3)
X = RNG.standard_normal((200, 5))
Y = (X[:, 0] + 0.8 * RNG.standard_normal(200) > 0).astype(int)


@pytest.mark.parametrize("solver", ["newton", "lbfgs", "gd", "sgd"])
def test_logistic_honours_max_iter(solver):
    model = LogisticRegression(solver=solver, max_iter=2, tol=1e-14, random_state=0)
    with pytest.warns(ConvergenceWarning):
        model.fit(X, Y)
    assert np.max(np.atleast_1d(model.n_iter_)) <= 2


def test_svc_honours_max_iter():
    Xn = RNG.standard_normal((300, 2))
    yn = np.where(RNG.random(300) > 0.5, 1, -1)  # pure noise: many SMO steps needed
    t0 = time.perf_counter()
    with pytest.warns(ConvergenceWarning):
        SVC(C=10.0, max_iter=5).fit(Xn, yn)
    assert time.perf_counter() - t0 < 10


@pytest.mark.parametrize("kernel", ["linear", "rbf"])
def test_smo_terminates_on_duplicate_points_with_opposite_labels(kernel):
    Xd = np.repeat(RNG.standard_normal((10, 2)), 2, axis=0)
    yd = np.tile([1, -1], 10)
    model = SVC(kernel=kernel, C=1.0).fit(Xd, yd)
    assert np.all(np.isfinite(model.dual_coef_)) and np.all(np.abs(model.dual_coef_) <= 1.0)
    assert model.certificate(Xd, yd).holds


def test_smo_terminates_on_identical_rows():
    Xs = np.ones((12, 3))
    ys = np.array([1, -1] * 6)
    model = SVC(kernel="rbf", C=1.0).fit(Xs, ys)
    assert np.all(np.isfinite(model.decision_function(Xs)))


def test_hard_margin_on_non_separable_data_says_so():
    Xn = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    yn = np.array([1, 1, -1, -1])  # XOR: no separating hyperplane
    with pytest.raises(ValueError, match="separable"):
        SVC(kernel="linear", C=np.inf).fit(Xn, yn)


def test_unpenalised_logistic_on_separable_data_says_there_is_no_optimum():
    Xs, ys = make_separable(60, 2, margin=0.5, random_state=0)
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="separ"):
        LogisticRegression(C=np.inf).fit(Xs, ys)
    assert time.perf_counter() - t0 < 10
