"""LogisticRegression against scikit-learn, across solvers, and at the edges.

Identities checked: the optimum of C·Σ −log pᵢ + ½‖W‖² is unique (strictly convex for finite
C), so qed and scikit-learn must agree on it; the notes' gradient Σ(σᵢ − yᵢ)xᵢ vanishes there
and the Hessian XᵀSX is PSD (the certificate); four solvers reach the same minimum.
"""

from __future__ import annotations

import functools
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import LogisticRegression as SkLogistic

import qed
from qed import optim
from qed._validation import ConvergenceWarning
from qed.classify import LogisticRegression, logistic_objective
from qed.datasets import load_breast_cancer, load_iris, make_classification


def _standardise(X):
    return (X - X.mean(0)) / X.std(0)


def _datasets():
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xi, yi = load_iris(return_X_y=True)
    out = [("breast_cancer", _standardise(Xb), yb), ("iris", Xi, yi)]
    for seed, (n, d, k) in enumerate([(200, 3, 2), (300, 6, 3), (250, 5, 5)]):
        X, y = make_classification(n, d, n_classes=k, class_sep=0.7, random_state=seed)
        out.append((f"blobs{seed}-k{k}", X, y))
    return out


DATASETS = _datasets()


def _sklearn_reference(X, y, C, fit_intercept=True):
    """scikit-learn's exact Newton solver, run to a far tighter tolerance than ours."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return SkLogistic(
            C=C, fit_intercept=fit_intercept, solver="newton-cholesky", tol=1e-14, max_iter=500
        ).fit(X, y)


STRICT = pytest.mark.filterwarnings("error::qed._validation.ConvergenceWarning")


@STRICT
@pytest.mark.parametrize("name,X,y", DATASETS, ids=[d[0] for d in DATASETS])
@pytest.mark.parametrize("C", [0.05, 1.0, 30.0])
def test_matches_sklearn_coefficients_probabilities_and_objective(name, X, y, C):
    """Same unique optimum: objective ≤ scikit-learn's, coefficients and p to ~1e-6."""
    ours = LogisticRegression(C=C).fit(X, y)
    ref = _sklearn_reference(X, y, C)
    f_ours, f_ref = logistic_objective(ours, X, y), logistic_objective(ref, X, y)
    assert f_ours <= f_ref + 1e-12 * abs(f_ref)
    scale = max(1.0, np.abs(ref.coef_).max())
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6 * scale)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-7)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    np.testing.assert_allclose(
        ours.decision_function(X), ref.decision_function(X), atol=1e-6 * scale * np.abs(X).max()
    )
    assert ours.certificate(X, y).holds


@STRICT
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("k", [2, 4])
def test_no_intercept_and_lbfgs_match_sklearn(fit_intercept, k):
    X, y = make_classification(400, 4, n_classes=k, class_sep=0.5, random_state=3)
    ref = _sklearn_reference(X, y, 2.0, fit_intercept)
    for solver in ("newton", "lbfgs"):
        ours = LogisticRegression(
            C=2.0, fit_intercept=fit_intercept, solver=solver, tol=1e-10, max_iter=1000
        ).fit(X, y)
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
        assert ours.intercept_.shape == ref.intercept_.shape


def test_softmax_newton_cg_path_matches_sklearn(monkeypatch):
    """Large problems switch Newton to preconditioned CG on Hessian-vector products: same optimum."""
    from qed.classify import _newton

    monkeypatch.setattr(_newton, "DIRECT_MAX_FLOPS", 0)
    X, y = make_classification(600, 8, n_classes=6, class_sep=0.6, random_state=7)
    X = X * np.linspace(0.2, 5.0, 8)  # unequal scales: the preconditioner has work to do
    ours = LogisticRegression(C=3.0).fit(X, y)
    ref = _sklearn_reference(X, y, 3.0)
    assert logistic_objective(ours, X, y) <= logistic_objective(ref, X, y) + 1e-10
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    assert ours.certificate(X, y).holds


@STRICT
@pytest.mark.parametrize("k", [2, 5])
def test_subsample_warm_start_reaches_the_same_optimum(monkeypatch, k):
    """Newton's start from the optimum on a random 1/8 of the rows changes nothing but speed;
    a class missing from the sample (the rare class here) makes it start from 0 instead."""
    from qed.classify import _logistic_solvers

    monkeypatch.setattr(_logistic_solvers, "WARM_START_MIN_ROWS", 100)
    X, y = make_classification(1200, 4, n_classes=k, class_sep=0.6, random_state=11)
    for labels in (y, np.where(np.arange(len(y)) == 7, k, y)):  # one sample of a class k
        # tol=1e-12: the rare class's intercept has curvature ~1/n, so the gradient must be
        # that much smaller for it to be accurate to 1e-6
        ours = LogisticRegression(C=0.5, tol=1e-12).fit(X, labels)
        ref = _sklearn_reference(X, labels, 0.5)
        assert logistic_objective(ours, X, labels) <= logistic_objective(ref, X, labels) + 1e-9
        np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
        np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_pure_mle_matches_unpenalised_sklearn():
    """C = inf is the notes' MLE: gradient Σ(σᵢ − yᵢ)xᵢ = 0 exactly where scikit-learn's is."""
    X, y = make_classification(300, 3, class_sep=0.4, random_state=1)
    ours = LogisticRegression(C=np.inf).fit(X, y)
    ref = _sklearn_reference(X, y, np.inf)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    sigma = ours.predict_proba(X)[:, 1]
    np.testing.assert_allclose(X.T @ (sigma - y), 0.0, atol=1e-8 * len(X))
    assert ours.certificate(X, y).holds


@pytest.mark.parametrize("loader", [load_iris, load_breast_cancer])
def test_four_solvers_reach_the_same_optimum(loader):
    """Newton, L-BFGS and GD agree to 1e-9 in the averaged objective, SGD within 1e-3."""
    X, y = loader(return_X_y=True)
    X = _standardise(X)
    n = len(X)
    best = logistic_objective(LogisticRegression().fit(X, y), X, y) / n
    fits = {
        "lbfgs": LogisticRegression(solver="lbfgs"),
        "gd": LogisticRegression(
            solver="gd", max_iter=3000, optimizer={"name": "adam", "lr": 0.05}
        ),
        "sgd": LogisticRegression(solver="sgd", max_iter=100, batch_size=32, random_state=0),
    }
    for name, model in fits.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model.fit(X, y)
        gap = logistic_objective(model, X, y) / n - best
        assert gap >= -1e-12, name
        assert gap <= (1e-3 if name == "sgd" else 1e-9), (name, gap)
        assert len(model.loss_curve_) == model.n_iter_[0]


def test_gd_default_step_is_the_descent_lemma_step():
    """Plain GD with lr = 1/β never increases the objective (the notes' descent lemma)."""
    X, y = load_iris(return_X_y=True)
    with pytest.warns(ConvergenceWarning):
        model = LogisticRegression(solver="gd", max_iter=200).fit(X, y)
    assert np.all(np.diff(model.loss_curve_) <= 1e-15)


def test_sgd_accepts_a_schedule_and_is_reproducible():
    X, y = load_breast_cancer(return_X_y=True)
    X = _standardise(X)
    make = functools.partial(optim.SGD, lr=optim.cosine(0.5, 40 * 18))
    a = LogisticRegression(solver="sgd", optimizer=make, batch_size=32, max_iter=40, random_state=5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        c1 = a.fit(X, y).coef_.copy()
        c2 = a.fit(X, y).coef_.copy()
    np.testing.assert_array_equal(c1, c2)


def test_newton_loss_curve_decreases_and_certificate_fails_when_stopped_early():
    X, y = load_breast_cancer(return_X_y=True)
    X = _standardise(X)
    model = LogisticRegression().fit(X, y)
    assert np.all(np.diff(model.loss_curve_) < 0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        early = LogisticRegression(max_iter=1).fit(X, y)
    cert = early.certificate(X, y)
    assert not cert.holds and not cert["stationarity"].holds and cert["hessian_psd"].holds


def test_certificate_hessian_is_psd_and_matches_finite_differences():
    """The Hessian in the certificate is the derivative of the gradient (central differences)."""
    from qed.classify._logistic_solvers import LogisticProblem

    X, y = make_classification(80, 3, n_classes=3, random_state=0)
    problem = LogisticProblem(X, y, np.ones(len(y)), 0.5, True, 3)
    rng = np.random.default_rng(0)
    Theta = rng.standard_normal((3, 4))
    _, _, P = problem.loss_grad(Theta)
    H = problem.hessian(P)
    V = rng.standard_normal(Theta.shape)
    h = 1e-6
    fd = (problem.loss_grad(Theta + h * V)[1] - problem.loss_grad(Theta - h * V)[1]) / (2 * h)
    np.testing.assert_allclose(H @ V.ravel(), fd.ravel(), rtol=1e-6, atol=1e-6)
    assert np.linalg.eigvalsh(H).min() >= -1e-10


def test_certificate_conditions_are_typeable_identifiers():
    """Conditions are plain ASCII names (``cert["stationarity"]``); the mathematics is in the
    description. The stationarity value is the gradient of the averaged objective, computed
    here from scikit-learn's own probabilities."""
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(C=2.0).fit(X, y)
    cert = model.certificate(X, y)
    assert [c.name for c in cert.conditions] == ["stationarity", "hessian_psd"]
    for c in cert.conditions:
        assert c.name.isascii() and c.name.isidentifier() and c.description
    ref = SkLogistic(C=2.0).fit(X, y)
    ref.coef_, ref.intercept_ = model.coef_, model.intercept_
    R = ref.predict_proba(X) - np.eye(3)[y]
    G = np.column_stack([R.T @ X + model.coef_ / 2.0, R.sum(0)]) / len(X)
    assert cert["stationarity"].value == pytest.approx(np.abs(G).max(), rel=1e-6, abs=1e-15)


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_every_optimizer_of_the_shared_table_drives_gd(name):
    """The "gd"/"sgd" solvers take their names from ``qed.optim.OPTIMIZERS``: each name
    lowers the averaged objective from its value log 2 at Θ = 0."""
    X, y = load_breast_cancer(return_X_y=True)
    X = _standardise(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model = LogisticRegression(
            solver="gd", optimizer={"name": name, "lr": 0.01}, max_iter=20
        ).fit(X, y)
    assert model.loss_curve_[-1] < np.log(2)
    with pytest.raises(ValueError, match=", ".join(repr(n) for n in sorted(optim.OPTIMIZERS))):
        LogisticRegression(solver="gd", optimizer=name + "x").fit(X, y)


def test_separable_data_with_pure_mle_raises():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="linearly separable.*finite C"):
        LogisticRegression(C=np.inf).fit(X, (y == 0).astype(int))
    with pytest.raises(ValueError, match="quasi-separable.*finite C"):
        LogisticRegression(C=np.inf).fit(X, y)
    LogisticRegression(C=1.0).fit(X, y)  # a finite C always has an optimum


def test_extreme_feature_scale_gives_finite_probabilities():
    X, y = load_breast_cancer(return_X_y=True)
    X = _standardise(X) * 1e6
    for solver in ("newton", "lbfgs"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            model = LogisticRegression(solver=solver).fit(X, y)
        P = model.predict_proba(X)
        assert np.all(np.isfinite(P)) and np.all(np.isfinite(model.predict_log_proba(X)))
        np.testing.assert_allclose(P.sum(1), 1.0)
        assert model.score(X, y) > 0.9
    far = LogisticRegression().fit(X[:, :2] / 1e6, y)
    Z = np.array([[1e300, 1e300], [-1e300, -1e300]])
    assert np.all(np.isfinite(far.predict_proba(Z)))


def test_labels_of_any_type_and_sample_weight_equals_repetition():
    X, y = make_classification(120, 3, n_classes=3, random_state=2)
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    model = LogisticRegression().fit(X, names)
    assert list(model.classes_) == ["setosa", "versicolor", "virginica"]
    assert set(model.predict(X)) <= set(names)
    w = np.random.default_rng(0).integers(0, 3, len(y))
    weighted = LogisticRegression(C=0.7).fit(X, y, sample_weight=w)
    repeated = LogisticRegression(C=0.7).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)


def test_float32_input_fits_in_float32():
    X, y = load_breast_cancer(return_X_y=True)
    X = _standardise(X).astype(np.float32)
    model = LogisticRegression().fit(X, y)
    ref = _sklearn_reference(X.astype(np.float64), y, 1.0)
    assert model.coef_.dtype == np.float32
    np.testing.assert_allclose(model.coef_, ref.coef_, atol=1e-3)
    assert model.certificate(X, y).holds


@pytest.mark.parametrize(
    "kwargs,match",
    [
        ({"C": 0.0}, "C"),
        ({"C": -1.0}, "C"),
        ({"solver": "sag"}, "solver"),
        ({"max_iter": 0}, "max_iter"),
        ({"tol": -1.0}, "tol"),
        ({"batch_size": 0}, "batch_size"),
    ],
)
def test_bad_hyperparameters_are_named(kwargs, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**kwargs).fit(X, y)


def test_clear_errors_for_bad_data():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="only one class"):
        LogisticRegression().fit(X, np.zeros(len(X)))
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        LogisticRegression().fit(Xn, y)
    with pytest.raises(ValueError, match="Unknown label type"):
        LogisticRegression().fit(X, X[:, 0])
    with pytest.raises(TypeError, match="optimizer"):
        LogisticRegression(solver="gd", optimizer=3).fit(X, y)
    with pytest.raises(ValueError, match="optimizer name"):
        LogisticRegression(solver="gd", optimizer="adamax").fit(X, y)
    model = LogisticRegression().fit(X, y)
    with pytest.raises(ValueError, match="features"):
        model.predict(X[:, :2])


def test_save_and_load_round_trip(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = LogisticRegression(C=0.3).fit(X, y)
    qed.save(model, tmp_path / "m.qed")
    back = qed.load(tmp_path / "m.qed")
    np.testing.assert_array_equal(back.predict_proba(X), model.predict_proba(X))
    # an optimizer given by name and hyperparameters (a schedule too) is saved with the model
    spec = {"name": "sgd", "lr": optim.cosine(0.05, 500), "momentum": 0.9}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd = LogisticRegression(solver="gd", optimizer=spec, max_iter=500).fit(X, y)
    qed.save(sgd, tmp_path / "sgd.qed")
    again = qed.load(tmp_path / "sgd.qed")
    assert again.optimizer["momentum"] == 0.9
    np.testing.assert_array_equal(again.coef_, sgd.coef_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        np.testing.assert_array_equal(again.fit(X, y).coef_, sgd.coef_)


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), k=st.integers(2, 4), C=st.floats(0.01, 100.0))
def test_property_certificate_holds_and_probabilities_are_distributions(seed, k, C):
    X, y = make_classification(60, 3, n_classes=k, class_sep=0.3, random_state=seed)
    model = LogisticRegression(C=C).fit(X, y)
    P = model.predict_proba(X)
    assert np.all(P >= 0)
    np.testing.assert_allclose(P.sum(1), 1.0)
    np.testing.assert_allclose(np.log(P), model.predict_log_proba(X), atol=1e-10)
    assert model.certificate(X, y).holds
