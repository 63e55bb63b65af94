"""SVC(probability=True): Platt's sigmoid on cross-validated decision values, coupled pairwise.

- Platt's (A, B) minimise the cross entropy against the smoothed targets (N₊ + 1)/(N₊ + 2),
  1/(N₋ + 2): checked against scipy's BFGS on the same objective.
- Pairwise coupling (Wu, Lin & Weng 2004, method 2) minimises Σ(r_ba·p_a − r_ab·p_b)² on the
  simplex: checked against scipy's SLSQP on that problem.
- Against libsvm (scikit-learn's SVC(probability=True)): the folds are drawn by different
  generators, so the probabilities agree only to the noise of the cross-validation (a few
  hundredths); how often argmax predict_proba ≠ predict is measured for both.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from sklearn.model_selection import train_test_split
from sklearn.svm import SVC as SkSVC

from qed.classify import SVC
from qed.classify._platt import pairwise_coupling, platt_sigmoid
from qed.datasets import load_breast_cancer, load_iris, make_classification


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_platt_sigmoid_minimises_the_smoothed_cross_entropy(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(20, 400))
    y = np.where(rng.random(n) < rng.uniform(0.2, 0.8), 1.0, -1.0)
    f = y * rng.gamma(2.0, 1.0, n) + rng.normal(0, 1.5, n)
    n1, n0 = (y > 0).sum(), (y < 0).sum()
    t = np.where(y > 0, (n1 + 1) / (n1 + 2), 1 / (n0 + 2))

    def nll(ab):
        z = f * ab[0] + ab[1]
        return np.sum(np.logaddexp(0, z) + (t - 1) * z)

    ref = minimize(nll, [0.0, 0.0], method="BFGS", options={"gtol": 1e-12}).x
    A, B = platt_sigmoid(f, y)
    np.testing.assert_allclose([A, B], ref, rtol=1e-6, atol=1e-7)
    assert nll([A, B]) <= nll(ref) + 1e-10 * n


def test_platt_sigmoid_on_separated_values_stays_finite():
    """Perfectly separated f: the smoothed targets keep the optimum finite."""
    f = np.r_[np.linspace(1, 3, 30), -np.linspace(1, 3, 20)]
    y = np.r_[np.ones(30), -np.ones(20)]
    A, B = platt_sigmoid(f, y)
    assert np.isfinite(A) and np.isfinite(B) and A < 0


@pytest.mark.parametrize("k", [3, 4, 6])
def test_pairwise_coupling_solves_wu_lin_weng(k):
    rng = np.random.default_rng(k)
    n_pairs = k * (k - 1) // 2
    r = rng.uniform(0.02, 0.98, (5, n_pairs))
    p = pairwise_coupling(r, k)
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    for row, pr in zip(r, p):
        R = np.zeros((k, k))
        col = 0
        for a in range(k):
            for b in range(a + 1, k):
                R[a, b], R[b, a] = row[col], 1 - row[col]
                col += 1

        def obj(q, R=R):
            return sum(
                (R[b, a] * q[a] - R[a, b] * q[b]) ** 2 for a in range(k) for b in range(k) if a != b
            )

        ref = minimize(
            obj,
            np.full(k, 1 / k),
            method="SLSQP",
            bounds=[(0, 1)] * k,
            constraints={"type": "eq", "fun": lambda q: q.sum() - 1},
            options={"ftol": 1e-15, "maxiter": 500},
        ).x
        np.testing.assert_allclose(pr, ref, atol=1e-6)
        assert obj(pr) <= obj(ref) + 1e-12


def test_pairwise_coupling_of_consistent_estimates_recovers_p():
    """If r_ab = p_a/(p_a + p_b) exactly, the coupled p is the p they came from."""
    rng = np.random.default_rng(0)
    P = rng.dirichlet(np.ones(5), size=7)
    r = np.column_stack([P[:, a] / (P[:, a] + P[:, b]) for a in range(5) for b in range(a + 1, 5)])
    np.testing.assert_allclose(pairwise_coupling(r, 5), P, rtol=1e-10)


def _data():
    X, y = load_iris(return_X_y=True)
    yield "iris", X, y
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast_cancer", (X - X.mean(0)) / X.std(0), y
    X, y = make_classification(600, 8, n_classes=4, class_sep=0.7, random_state=0)
    yield "four_classes", X, y


@pytest.mark.parametrize("name,X,y", list(_data()), ids=lambda v: v if isinstance(v, str) else "")
def test_probabilities_close_to_libsvm_and_argmax_agreement(name, X, y):
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0)
    ours = SVC(C=1.0, tol=1e-3, probability=True, random_state=0).fit(Xtr, ytr)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # scikit-learn 1.9 deprecates it
        ref = SkSVC(C=1.0, coef0=1.0, probability=True, random_state=0).fit(Xtr, ytr)
        pr = ref.predict_proba(Xte)
    po = ours.predict_proba(Xte)
    np.testing.assert_allclose(po.sum(1), 1.0, rtol=1e-12)
    # different folds, the same method: agreement to the noise of 5-fold cross-validation
    assert np.abs(po - pr).mean() < 0.02
    assert np.abs(po - pr).max() < 0.1
    disagree_ours = np.mean(ours.classes_[po.argmax(1)] != ours.predict(Xte))
    disagree_ref = np.mean(ref.classes_[pr.argmax(1)] != ref.predict(Xte))
    assert disagree_ours <= disagree_ref + 0.03  # measured: equal on these three sets
    np.testing.assert_allclose(ours.predict_log_proba(Xte), np.log(po), rtol=1e-15)


def test_binary_probability_rises_with_the_decision_value():
    X, y = make_classification(300, 5, class_sep=0.8, random_state=3)
    model = SVC(C=1.0, probability=True, random_state=1).fit(X, y)
    f = model.decision_function(X)
    p1 = model.predict_proba(X)[:, 1]
    order = np.argsort(f)
    assert np.all(np.diff(p1[order]) >= 0)
    assert model.probA_[0] < 0
    # libsvm's sign: r = P(classes_[0]) = 1/(1 + exp(A·(−f) + B)), so P(classes_[1]) is
    # 1/(1 + exp(A·f − B)) (up to libsvm's clip at 1e-7)
    expected = 1 / (1 + np.exp(model.probA_[0] * f - model.probB_[0]))
    np.testing.assert_allclose(p1, expected, rtol=1e-12, atol=1.1e-7)


def test_random_state_makes_the_folds_reproducible():
    X, y = make_classification(200, 4, class_sep=0.5, random_state=4)
    a = SVC(probability=True, random_state=7).fit(X, y)
    b = SVC(probability=True, random_state=7).fit(X, y)
    c = SVC(probability=True, random_state=8).fit(X, y)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    assert a.probA_[0] != c.probA_[0]
    # the SVM itself does not depend on the folds
    np.testing.assert_array_equal(a.dual_coef_, c.dual_coef_)


def test_predict_proba_exists_only_with_probability_true():
    X, y = load_iris(return_X_y=True)
    model = SVC().fit(X, y)
    assert not hasattr(model, "predict_proba")
    assert not hasattr(model, "predict_log_proba")
    assert hasattr(SVC(probability=True), "predict_proba")


def test_probability_with_weights_and_precomputed_kernel():
    X, y = load_iris(return_X_y=True)
    w = np.random.default_rng(0).uniform(0.5, 2.0, len(X))
    K = X @ X.T
    a = SVC(kernel="linear", probability=True, random_state=3).fit(X, y, sample_weight=w)
    b = SVC(kernel="precomputed", probability=True, random_state=3).fit(K, y, sample_weight=w)
    np.testing.assert_allclose(a.predict_proba(X), b.predict_proba(K), atol=1e-6)


def test_a_class_of_fewer_than_five_samples_uses_libsvms_fallback():
    """5-fold CV with a class of 3: folds trained without it score ±1 (libsvm's rule), and
    predict_proba is still a distribution that ranks the small class first on its samples."""
    X, y = make_classification(103, 4, n_classes=3, class_sep=2.0, random_state=2)
    y = y.copy()
    y[y == 2] = 0
    y[:3] = 2
    X[:3] += 6.0  # far from the rest
    model = SVC(C=10.0, probability=True, random_state=0).fit(X, y)
    p = model.predict_proba(X)
    assert np.isfinite(p).all()
    np.testing.assert_allclose(p.sum(1), 1.0, rtol=1e-12)
    assert np.all(p[:3].argmax(1) == 2)
