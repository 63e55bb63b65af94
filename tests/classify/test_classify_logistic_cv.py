"""LogisticRegressionCV against scikit-learn's on the same folds, and its warm-started path.

Identities checked: each (fold, C) optimum is unique, so the held-out scores equal
scikit-learn's, the same C is chosen and the refitted model is the same optimum; the
warm-started path equals independent cold fits at each C.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegressionCV as SkLogisticCV
from sklearn.model_selection import StratifiedKFold
from sklearn.utils.estimator_checks import parametrize_with_checks

from qed.classify import LogisticRegression, LogisticRegressionCV
from qed.classify import _logistic_solvers as S
from qed.classify.logistic_cv import logistic_path
from qed.datasets import make_classification

STRICT = pytest.mark.filterwarnings("error::qed._validation.ConvergenceWarning")


def _sklearn(**kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLogisticCV(solver="newton-cholesky", tol=1e-12, max_iter=1000, **kw)


def _fit_sklearn(est, X, y, sw=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return est.fit(X, y, sample_weight=sw)


@STRICT
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("class_weight", [None, "balanced"])
def test_same_scores_same_C_same_model_as_sklearn(seed, k, class_weight):
    X, y = make_classification(500, 6, n_classes=k, class_sep=0.4, random_state=seed)
    y = np.where(np.arange(len(y)) % 7 == 0, 0, y)
    cv = StratifiedKFold(5, shuffle=True, random_state=seed)
    ours = LogisticRegressionCV(Cs=10, cv=cv, class_weight=class_weight).fit(X, y)
    ref = _fit_sklearn(_sklearn(Cs=10, cv=cv, class_weight=class_weight), X, y)
    np.testing.assert_allclose(ours.Cs_, ref.Cs_)
    np.testing.assert_allclose(ours.C_, ref.C_)
    assert ours.scores_.keys() == ref.scores_.keys()
    for key in ref.scores_:
        np.testing.assert_allclose(ours.scores_[key], ref.scores_[key], atol=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * max(1, np.abs(ref.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.certificate(X, y).holds


@STRICT
@pytest.mark.parametrize("k", [2, 3])
def test_n_jobs_fit_matches_sklearn_with_the_same_n_jobs(k):
    """Folds on two threads against scikit-learn's folds on two joblib workers."""
    X, y = make_classification(500, 6, n_classes=k, class_sep=0.4, random_state=k)
    cv = StratifiedKFold(5, shuffle=True, random_state=k)
    ours = LogisticRegressionCV(Cs=8, cv=cv, n_jobs=2).fit(X, y)
    ref = _fit_sklearn(_sklearn(Cs=8, cv=cv, n_jobs=2), X, y)
    np.testing.assert_allclose(ours.C_, ref.C_)
    for key in ref.scores_:
        np.testing.assert_allclose(ours.scores_[key], ref.scores_[key], atol=1e-12)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * max(1, np.abs(ref.coef_).max()))
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


@STRICT
def test_scoring_sample_weight_refit_false_and_list_of_Cs_match_sklearn():
    X, y = make_classification(400, 5, n_classes=3, class_sep=0.5, random_state=7)
    sw = np.random.default_rng(7).uniform(0.5, 2.0, len(y))
    cv = StratifiedKFold(4)
    Cs = [0.01, 0.1, 1.0, 10.0]
    for kw in ({"scoring": "neg_log_loss"}, {"refit": False}):
        ours = LogisticRegressionCV(Cs=Cs, cv=cv, **kw).fit(X, y, sample_weight=sw)
        ref = _fit_sklearn(_sklearn(Cs=Cs, cv=cv, **kw), X, y, sw)
        np.testing.assert_allclose(ours.C_, ref.C_)
        key = ref.classes_[0]
        np.testing.assert_allclose(ours.scores_[key], ref.scores_[key], rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


@pytest.mark.parametrize("k", [2, 4])
def test_warm_started_path_equals_cold_fits(k):
    X, y = make_classification(300, 5, n_classes=k, random_state=k)
    est = LogisticRegression()
    problem, _ = est._problem(X, y, None, C=1.0)
    Cs = np.logspace(-3, 3, 7)
    thetas, iters = logistic_path(problem, Cs, 1e-10, 100)
    cold_iters = []
    for C, Theta in zip(Cs, thetas):
        cold = LogisticRegression(C=C, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(Theta[:, :-1], cold.coef_, atol=1e-8)
        cold_iters.append(int(cold.n_iter_[0]))
    assert isinstance(problem, S.LogisticProblem)
    # warm starts save Newton steps along the path
    assert iters[0] == cold_iters[0]
    assert sum(iters) < sum(cold_iters)


def test_path_predictor_is_exact_on_polynomials_and_any_grid_order_gives_the_cold_fits():
    from qed.classify.logistic_cv import _extrapolate

    rng = np.random.default_rng(0)
    a, b, c = rng.standard_normal((3, 2, 4))
    x = np.array([-1.0, 0.3, 2.0])
    ys = [a + b * t + c * t * t for t in x]
    np.testing.assert_allclose(_extrapolate(x, ys, 3.5), a + b * 3.5 + c * 12.25, rtol=1e-12)
    line = ys[0] + (ys[1] - ys[0]) * (0.0 - x[0]) / (x[1] - x[0])
    np.testing.assert_allclose(_extrapolate(x[:2], ys[:2], 0.0), line, rtol=1e-12)
    # a grid out of order or with a repeated C: the predictor is skipped or rejected, never
    # wrong (each C's optimum is the cold fit's)
    X, y = make_classification(300, 5, random_state=1)
    problem, _ = LogisticRegression()._problem(X, y, None, C=1.0)
    Cs = np.array([1.0, 0.01, 100.0, 100.0, 0.1, 10.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        thetas, _ = logistic_path(problem, Cs, 1e-10, 100)
    for C, Theta in zip(Cs, thetas):
        cold = LogisticRegression(C=C, tol=1e-10).fit(X, y)
        np.testing.assert_allclose(Theta[:, :-1], cold.coef_, atol=1e-8)


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("sparse", [False, True])
def test_n_jobs_gives_the_same_fit_bit_for_bit(k, sparse):
    """Also on sparse X, whose passes run their row blocks on a thread pool that every fold
    thread shares."""
    X, y = make_classification(600, 6, n_classes=k, random_state=k)
    if sparse:
        X = sp.csr_matrix(np.where(np.abs(X) > 0.8, X, 0.0))
    one = LogisticRegressionCV(Cs=5, cv=4).fit(X, y)
    two = LogisticRegressionCV(Cs=5, cv=4, n_jobs=2).fit(X, y)
    every = LogisticRegressionCV(Cs=5, cv=4, n_jobs=-1).fit(X, y)
    for other in (two, every):
        np.testing.assert_array_equal(other.coef_, one.coef_)
        np.testing.assert_array_equal(other.intercept_, one.intercept_)
        for key in one.scores_:
            np.testing.assert_array_equal(other.scores_[key], one.scores_[key])
            np.testing.assert_array_equal(other.coefs_paths_[key], one.coefs_paths_[key])


def test_sparse_X_gives_the_dense_result():
    X, y = make_classification(300, 8, n_classes=3, random_state=3)
    X[np.abs(X) < 0.8] = 0.0
    cv = StratifiedKFold(3)
    dense = LogisticRegressionCV(Cs=5, cv=cv).fit(X, y)
    ours = LogisticRegressionCV(Cs=5, cv=cv).fit(sp.csr_matrix(X), y)
    np.testing.assert_allclose(ours.C_, dense.C_)
    np.testing.assert_allclose(ours.coef_, dense.coef_, atol=1e-8)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"Cs": 0}, "Cs"),
        ({"Cs": [1.0, -1.0]}, "Cs"),
        ({"Cs": []}, "Cs"),
        ({"cv": 1}, "cv"),
        ({"cv": 500}, "cv"),
        ({"class_weight": {9: 1.0}}, "not labels"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs, match):
    X, y = make_classification(60, 3, random_state=0)
    with pytest.raises(ValueError, match=match):
        LogisticRegressionCV(**kwargs).fit(X, y)


_MARK = parametrize_with_checks([LogisticRegressionCV(Cs=3, cv=3)])
# check_array_api_input skips itself unless SCIPY_ARRAY_API=1 was set before SciPy was
# imported; LogisticRegressionCV claims no Array API dispatch, so it is left out, not skipped
_CHECKS = [
    (est, check)
    for est, check in _MARK.args[1]
    if "check_array_api_input" not in getattr(check, "func", check).__name__
]


@pytest.mark.parametrize(_MARK.args[0], _CHECKS, ids=_MARK.kwargs.get("ids"))
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)
