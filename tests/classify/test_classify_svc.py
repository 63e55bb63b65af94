"""SVC against libsvm (scikit-learn's SVC), and the notes' SVM identities.

Identities: w = Σαᵢyᵢxᵢ, b = yᵢ − wᵀxᵢ on the free support vectors, margin 1/‖w‖ = 1/√Σα for
the hard margin; the dual has a unique optimum in (w, b) so qed and libsvm agree on it; an
orthogonal change of coordinates leaves every inner product, hence the whole dual, unchanged.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ortho_group
from sklearn.svm import SVC as SkSVC

import qed
from qed._validation import ConvergenceWarning
from qed.classify import SVC
from qed.datasets import load_breast_cancer, load_iris, make_classification, make_separable


def _sk(**kw):
    return SkSVC(tol=1e-10, max_iter=-1, **kw)


# libsvm caches kernel rows in float32, so its α carry relative errors of ~1e-7·cond(K_free):
# against it we ask for 1e-4 on α and 1e-5 on decision values, and check our own solution to
# ~1e-8 against the exact float64 solve of the KKT system on the same active set.
ALPHA_RTOL_LIBSVM = 1e-4


def _exact_decision(model, X, y):
    """Solve the dual's KKT system exactly on the fitted active set (two classes).

    Free SVs F (0 < α < C) satisfy Σⱼ yᵢyⱼK_ijαⱼ + yᵢb = 1 and Σαᵢyᵢ = 0, with α = C on the
    bound set B and 0 elsewhere: a linear system in (α_F, b), solved by least squares
    (minimum norm if K_FF is singular, when α is not unique but f(x) still is).
    """
    ys = np.where(y == model.classes_[1], 1.0, -1.0)
    alpha = np.zeros(len(X))
    alpha[model.support_] = model.alpha_
    C = float(model.C)
    free = (alpha > 0) & (alpha < C * (1 - 1e-9))
    bound = alpha >= C * (1 - 1e-9)
    K = model._kernel(X, X)
    Q = ys[:, None] * ys[None, :] * K
    F = np.flatnonzero(free)
    if not len(F):  # every SV at the bound: α = C is exact, b only bracketed by the KKT
        return K @ (alpha * ys) + model.intercept_[0]
    A = np.zeros((len(F) + 1, len(F) + 1))
    A[:-1, :-1] = Q[np.ix_(F, F)]
    A[:-1, -1] = ys[F]
    A[-1, :-1] = ys[F]
    rhs = np.r_[
        1.0 - Q[np.ix_(F, np.flatnonzero(bound))] @ np.full(bound.sum(), C), -C * ys[bound].sum()
    ]
    sol = np.linalg.lstsq(A, rhs, rcond=None)[0]
    exact = np.where(bound, C, 0.0)
    exact[F] = sol[:-1]
    return K @ (exact * ys) + sol[-1]


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("n,d", [(60, 2), (200, 5)])
def test_hard_margin_matches_libsvm_and_the_notes(seed, n, d):
    X, y = make_separable(n, d, margin=0.5, random_state=seed)
    ours = SVC(C=np.inf, kernel="linear", tol=1e-10).fit(X, y)
    ref = _sk(C=1e10, kernel="linear").fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.coef_, ref.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-6)
    w = ours.coef_[0]
    # the notes: w = Σαᵢyᵢxᵢ, b = yᵢ − wᵀxᵢ on support vectors, margin 1/‖w‖ = 1/√Σα
    np.testing.assert_allclose(w, ours.dual_coef_[0] @ ours.support_vectors_, rtol=1e-12)
    ysv = y[ours.support_]
    np.testing.assert_allclose(ysv - ours.support_vectors_ @ w, ours.intercept_[0], atol=1e-8)
    assert ours.margin_ == pytest.approx(1 / np.linalg.norm(ref.coef_), rel=1e-6)
    assert ours.margin_ == pytest.approx(1 / np.sqrt(ours.alpha_.sum()), rel=1e-8)
    assert ours.margin_ > 0.5  # make_separable guarantees a geometric margin above 0.5
    cert = ours.certificate(X, y)
    assert cert.holds, cert


@pytest.mark.parametrize("C", [0.1, 1.0, 10.0])
@pytest.mark.parametrize("seed", [0, 1])
def test_soft_margin_rbf_matches_libsvm(C, seed):
    X, y = make_classification(150, 4, class_sep=0.6, random_state=seed)
    ours = SVC(C=C, tol=1e-10).fit(X, y)
    ref = _sk(C=C).fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(
        ours.dual_coef_, ref.dual_coef_, rtol=ALPHA_RTOL_LIBSVM, atol=1e-6 * C
    )
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), _exact_decision(ours, X, y), atol=1e-8)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours.certificate(X, y).holds


def test_breast_cancer_linear_and_poly_match_libsvm():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    for kw in [dict(kernel="linear", C=0.5), dict(kernel="poly", degree=2, C=1.0, gamma=0.05)]:
        ours = SVC(tol=1e-10, coef0=1.0, **kw).fit(X, y)
        ref = _sk(coef0=1.0, **kw).fit(X, y)
        np.testing.assert_array_equal(ours.support_, ref.support_)
        np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
        np.testing.assert_allclose(
            ours.decision_function(X), _exact_decision(ours, X, y), atol=1e-8
        )
        if kw["kernel"] == "linear":
            np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)
        assert ours.certificate(X, y).holds


@pytest.mark.parametrize("shape", ["ovr", "ovo"])
@pytest.mark.parametrize("gamma", ["scale", "auto", 0.3])
def test_multiclass_one_vs_one_layout_matches_libsvm(shape, gamma):
    X, y = load_iris(return_X_y=True)
    ours = SVC(C=2.0, gamma=gamma, tol=1e-10, decision_function_shape=shape).fit(X, y)
    ref = _sk(C=2.0, gamma=gamma, decision_function_shape=shape).fit(X, y)
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_array_equal(ours.n_support_, ref.n_support_)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=ALPHA_RTOL_LIBSVM, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))
    assert ours._gamma == pytest.approx(ref._gamma)
    assert ours.certificate(X, y).holds


def test_multiclass_linear_coef_and_margins_per_pair():
    X, y = make_classification(120, 3, n_classes=4, class_sep=1.5, random_state=4)
    labels = np.array(["a", "b", "c", "d"])[y]
    ours = SVC(kernel="linear", C=1.0, tol=1e-10).fit(X, labels)
    ref = _sk(kernel="linear", C=1.0).fit(X, labels)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.margin_, 1 / np.linalg.norm(ref.coef_, axis=1), rtol=1e-6)
    assert list(ours.classes_) == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


def test_non_separable_hard_margin_raises_and_suggests_finite_C():
    X, y = make_classification(100, 2, class_sep=0.3, random_state=0)
    with pytest.raises(ValueError, match="cannot be separated.*finite C"):
        SVC(C=np.inf, kernel="linear").fit(X, y)


def test_duplicate_points_with_opposite_labels_terminate():
    """K(x, x) + K(x', x') − 2K(x, x') = 0 for duplicates: SMO's degenerate step still ends."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 2))
    X = np.vstack([X, X[:10]])
    y = np.r_[np.where(X[:40, 0] > 0, 1, -1), -np.where(X[:10, 0] > 0, 1, -1)]
    for kernel in ("linear", "rbf"):
        model = SVC(C=1.0, kernel=kernel).fit(X, y)
        assert model.fit_status_ == 0
        assert model.certificate(X, y).holds
    with pytest.raises(ValueError, match="finite C"):
        SVC(C=np.inf, kernel="linear").fit(X, y)


def test_max_iter_is_honoured_with_a_warning_and_the_certificate_notices():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        model = SVC(C=10.0, max_iter=5).fit(X, y)
    assert model.n_iter_[0] == 5 and model.fit_status_ == 1
    assert not model.certificate(X, y).holds


def test_certificate_detects_a_perturbed_solution():
    X, y = make_separable(80, 3, random_state=3)
    model = SVC(C=np.inf, kernel="linear").fit(X, y)
    assert model.certificate(X, y).holds
    model.dual_coef_ = model.dual_coef_ * 1.01
    assert not model.certificate(X, y).holds


def test_clear_errors():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="only one class"):
        SVC().fit(X, np.ones(len(X)))
    Xn = X.copy()
    Xn[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        SVC().fit(Xn, y)
    for kw, match in [
        ({"kernel": "sigmoidal"}, "kernel"),
        ({"C": 0}, "C"),
        ({"gamma": "big"}, "gamma"),
        ({"gamma": -1.0}, "gamma"),
        ({"tol": 0.0}, "tol"),
        ({"max_iter": 0}, "max_iter"),
    ]:
        with pytest.raises(ValueError, match=match):
            SVC(**kw).fit(X, y)


def test_save_and_load_round_trip(tmp_path):
    X, y = load_iris(return_X_y=True)
    model = SVC(C=3.0).fit(X, y)
    qed.save(model, tmp_path / "svc.qed")
    back = qed.load(tmp_path / "svc.qed")
    np.testing.assert_array_equal(back.decision_function(X), model.decision_function(X))


@pytest.mark.parametrize("kernel", ["linear", "poly"])
def test_small_cache_gives_the_same_solution(kernel):
    """An LRU cache of 2 kernel rows recomputes rows but must not change a single step."""
    X, y = make_classification(120, 3, class_sep=0.5, random_state=8)
    full = SVC(C=1.0, kernel=kernel).fit(X, y)
    tiny = SVC(C=1.0, kernel=kernel, cache_size=2 * 8 * 120 / 2**20).fit(X, y)
    np.testing.assert_array_equal(full.dual_coef_, tiny.dual_coef_)
    assert full.n_iter_[0] == tiny.n_iter_[0]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_evictions_during_shrinking_give_the_same_solution(seed, kernel):
    """A cache of 20 rows on 1,500 samples: rows are evicted, carried through shrinkings,
    extended after the active set grows back and rebuilt for the gradient reconstruction.
    None of it may change a step (a step whose second row evicted its first once did), and
    the answer must meet tol on the exact float64 gradient, computed here from scratch.
    (rbf rows are cached in float32 once float64 ones would not all fit — 18 MB here — so
    its "full" cache is 17 MB: the same float32 arithmetic, every row kept.)"""
    from sklearn.metrics.pairwise import linear_kernel, rbf_kernel

    X, y = make_classification(1500, 6, class_sep=0.5, random_state=seed)
    C = 10.0 if kernel == "rbf" else 1.0
    big = 17.0 if kernel == "rbf" else 200.0
    rows = 20 * (4 if kernel == "rbf" else 8) * 1500 / 2**20
    full = SVC(C=C, kernel=kernel, tol=1e-4, cache_size=big).fit(X, y)
    tiny = SVC(C=C, kernel=kernel, tol=1e-4, cache_size=rows).fit(X, y)
    np.testing.assert_array_equal(full.dual_coef_, tiny.dual_coef_)
    np.testing.assert_array_equal(full.intercept_, tiny.intercept_)
    assert full.n_iter_[0] == tiny.n_iter_[0]
    # the KKT gap max_{I_up} −y∇ − min_{I_low} −y∇ with ∇ = Qα − 1 in float64
    yp = np.where(y == full.classes_[0], 1.0, -1.0)  # libsvm's sign: the first class is +1
    coef = np.zeros(len(y))
    coef[full.support_] = -full.dual_coef_[0]  # scikit-learn stores −αᵢyᵢ for two classes
    alpha = coef * yp
    assert (alpha >= -1e-12).all() and (alpha <= C + 1e-12).all()
    if kernel == "rbf":
        K = rbf_kernel(X, X, gamma=1.0 / (X.shape[1] * X.var()))
    else:
        K = linear_kernel(X, X)
    F = -yp * (yp * (K @ coef) - 1.0)
    up = np.where(yp > 0, alpha < C, alpha > 0)
    low = np.where(yp > 0, alpha > 0, alpha < C)
    assert F[up].max() - F[low].min() < 1e-4


@pytest.mark.parametrize("seed", range(4))
def test_float32_rows_certified_on_the_exact_gradient_in_libsvms_steps(seed):
    """rbf rows cached in float32 (the float64 ones would not all fit), C = 10, tol 1e-6:
    the answer must meet tol on the exact float64 gradient, and getting there may cost no
    more steps than libsvm's float32 solve (which stops on its own drifted gradient). Before
    the solver rebuilt ∇ exactly near the end, its restarts took 8–11% more steps here."""
    X, y = make_classification(1500, 6, class_sep=0.5, random_state=seed)
    y = np.where(np.random.default_rng(seed).random(len(y)) < 0.05, 1 - y, y)
    mb = 0.9 * 8 * len(y) ** 2 / 2**20
    ours = SVC(C=10.0, tol=1e-6, cache_size=mb).fit(X, y)
    ref = SkSVC(C=10.0, tol=1e-6, cache_size=mb).fit(X, y)
    assert ours.n_iter_[0] <= 1.03 * ref.n_iter_[0]
    assert ours.certificate(X, y).holds
    from qed.classify._smo_exact import exact_gradient, kkt_gap
    from qed.classify._svm_kernels import KERNEL_CODES

    yp = np.where(y == ours.classes_[0], 1.0, -1.0)
    alpha = np.zeros(len(y))
    alpha[ours.support_] = -ours.dual_coef_[0] * yp[ours.support_]
    kern = (KERNEL_CODES["rbf"], 1.0 / (X.shape[1] * X.var()), 0.0, 3.0)  # gamma="scale"
    G = exact_gradient(X, yp, alpha, kern)
    assert kkt_gap(yp, np.full(len(y), 10.0), alpha, G) < 1e-6


def test_shrinking_does_not_change_the_solution():
    """Shrinking only skips variables that stay at their bounds: the same optimum."""
    X, y = make_classification(1500, 4, class_sep=0.4, random_state=9)
    a = SVC(C=1.0, tol=1e-8).fit(X, y)
    b = SVC(C=1.0, tol=1e-8, shrinking=False).fit(X, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), atol=1e-6)
    assert a.certificate(X, y).holds and b.certificate(X, y).holds


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), kernel=st.sampled_from(["linear", "rbf"]))
def test_property_rotation_invariance(seed, kernel):
    """x ↦ Qx with Q orthogonal keeps every xᵢᵀxⱼ and ‖xᵢ − xⱼ‖: same α, b, margin, labels."""
    X, y = make_separable(50, 3, margin=0.3, random_state=seed)
    Q = ortho_group.rvs(3, random_state=seed)
    C = np.inf if kernel == "linear" else 1.0
    a = SVC(C=C, kernel=kernel, gamma=0.5, tol=1e-10).fit(X, y)
    b = SVC(C=C, kernel=kernel, gamma=0.5, tol=1e-10).fit(X @ Q, y)
    np.testing.assert_array_equal(a.support_, b.support_)
    np.testing.assert_allclose(a.alpha_, b.alpha_, rtol=1e-6, atol=1e-8 * a.alpha_.max())
    np.testing.assert_allclose(a.margin_, b.margin_, rtol=1e-6)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-6)
    Z = np.random.default_rng(seed).standard_normal((30, 3))
    np.testing.assert_array_equal(a.predict(Z), b.predict(Z @ Q))
    if kernel == "linear":
        np.testing.assert_allclose(b.coef_, a.coef_ @ Q, atol=1e-6)


def test_convergence_warning_not_raised_by_default():
    X, y = load_iris(return_X_y=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        SVC().fit(X, y)


@pytest.mark.parametrize("kernel", ["linear", "poly", "rbf", "sigmoid"])
def test_exact_gradient_matches_scikit_learns_kernels(kernel):
    """The float64 gradient that certifies a float32-cached SMO: ∇ = y ⊙ (K (y ⊙ α)) − 1
    against scikit-learn's pairwise kernels, to rounding."""
    from sklearn.metrics.pairwise import pairwise_kernels

    from qed.classify._smo_exact import exact_gradient
    from qed.classify._svm_kernels import KERNEL_CODES

    rng = np.random.default_rng(3)
    X = rng.standard_normal((700, 9))
    y = np.where(rng.random(700) < 0.5, 1.0, -1.0)
    alpha = np.where(rng.random(700) < 0.4, rng.random(700), 0.0)
    gamma, coef0, degree = 0.07, 0.5, 3
    params = {"gamma": gamma}
    if kernel in ("poly", "sigmoid"):
        params["coef0"] = coef0
    if kernel == "poly":
        params["degree"] = degree
    if kernel == "linear":
        params = {}
    K = pairwise_kernels(X, X, metric=kernel, **params)
    expected = y * (K @ (y * alpha)) - 1.0
    got = exact_gradient(X, y, alpha, (KERNEL_CODES[kernel], gamma, coef0, float(degree)))
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12 * np.abs(expected).max())
