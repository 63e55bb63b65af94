"""SVC's weights and kernels against libsvm (scikit-learn's SVC) with the same settings.

- sample_weight and class_weight scale each sample's bound, αᵢ ≤ C·class_weight[yᵢ]·wᵢ;
  a zero weight removes the sample; an integer weight equals repeating the sample that often
  in (w, b) (the duals differ, the solutions do not).
- kernel="precomputed" on K = k(X, X) solves the same dual as the named kernel k; a callable
  returning that K does too; "sigmoid" is tanh(γxᵀz + c₀).
- the certificate's duality gap P − D = ‖w‖² + ΣCᵢξᵢ − Σαᵢ is small at the solution and
  large at a perturbed one; names are plain identifiers.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics.pairwise import polynomial_kernel, rbf_kernel
from sklearn.svm import SVC as SkSVC

from qed.classify import SVC
from qed.datasets import load_breast_cancer, load_iris, make_classification

DEC_ATOL = 1e-5  # libsvm keeps kernel rows in float32 (see test_classify_svc.py)


def _sk(**kw):
    return SkSVC(tol=1e-10, max_iter=-1, **kw)


def _pair(ours, ref, X, atol=DEC_ATOL):
    np.testing.assert_array_equal(ours.support_, ref.support_)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=atol)
    np.testing.assert_array_equal(ours.predict(X), ref.predict(X))


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("kernel", ["rbf", "linear"])
def test_sample_weight_matches_libsvm(seed, kernel):
    X, y = make_classification(150, 4, class_sep=0.7, random_state=seed)
    w = np.random.default_rng(seed).uniform(0.2, 3.0, len(X))
    ours = SVC(C=2.0, kernel=kernel, tol=1e-10).fit(X, y, sample_weight=w)
    ref = _sk(C=2.0, kernel=kernel, coef0=1.0).fit(X, y, sample_weight=w)
    # libsvm's float32 rounding of K scales with the multipliers, here up to C·max(w) = 6
    _pair(ours, ref, X, atol=DEC_ATOL * 2.0 * w.max())
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-4, atol=1e-5)
    assert ours.certificate(X, y, sample_weight=w).holds
    # αᵢ ≤ C·wᵢ binds: some multiplier sits at its own bound, below the plain C
    alpha = np.abs(ours.dual_coef_[0])
    bound = 2.0 * w[ours.support_]
    assert np.any(np.isclose(alpha, bound) & (bound < 2.0))


@pytest.mark.parametrize("class_weight", ["balanced", {0: 0.3, 1: 2.5, 2: 1.0}])
def test_class_weight_multiclass_matches_libsvm(class_weight):
    X, y = load_iris(return_X_y=True)
    keep = np.r_[0:50, 50:80, 100:150]  # unbalanced, so "balanced" is not all ones
    X, y = X[keep], y[keep]
    ours = SVC(C=1.5, tol=1e-10, class_weight=class_weight).fit(X, y)
    ref = _sk(C=1.5, class_weight=class_weight).fit(X, y)
    _pair(ours, ref, X)
    np.testing.assert_allclose(ours.class_weight_, ref.class_weight_, rtol=1e-15)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-5)
    assert ours.certificate(X, y).holds


def test_class_weight_and_sample_weight_multiply():
    X, y = make_classification(120, 3, class_sep=0.5, random_state=5)
    w = np.random.default_rng(5).uniform(0.5, 2.0, len(X))
    cw = {0: 3.0, 1: 0.5}
    ours = SVC(C=1.0, tol=1e-10, class_weight=cw).fit(X, y, sample_weight=w)
    ref = _sk(C=1.0, class_weight=cw).fit(X, y, sample_weight=w)
    _pair(ours, ref, X)
    same = SVC(C=1.0, tol=1e-10).fit(X, y, sample_weight=w * np.where(y == 0, 3.0, 0.5))
    np.testing.assert_allclose(ours.dual_coef_, same.dual_coef_, rtol=1e-12, atol=1e-14)
    assert ours.certificate(X, y, sample_weight=w).holds


def test_zero_weight_removes_the_sample():
    """libsvm drops samples of weight 0; support_ stays in the caller's row numbers (libsvm's
    own support_ then counts rows of the reduced problem, so compare with a fit without them)."""
    X, y = make_classification(80, 3, class_sep=0.6, random_state=2)
    w = np.ones(len(X))
    w[::7] = 0.0
    ours = SVC(C=1.0, kernel="linear", tol=1e-10).fit(X, y, sample_weight=w)
    keep = np.flatnonzero(w > 0)
    sub = SVC(C=1.0, kernel="linear", tol=1e-10).fit(X[keep], y[keep])
    np.testing.assert_array_equal(ours.support_, keep[sub.support_])
    np.testing.assert_allclose(ours.dual_coef_, sub.dual_coef_, rtol=1e-12)
    ref = _sk(C=1.0, kernel="linear").fit(X, y, sample_weight=w)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=DEC_ATOL)
    assert ours.certificate(X, y, sample_weight=w).holds


@pytest.mark.parametrize("seed", [0, 3])
def test_integer_weight_equals_repeating_the_sample(seed):
    """A sample of weight 2 has α ≤ 2C; two copies share α₁ + α₂ ≤ 2C: the same (w, b)."""
    X, y = make_classification(60, 2, class_sep=0.8, random_state=seed)
    w = np.random.default_rng(seed).integers(1, 4, len(X))
    a = SVC(C=0.7, kernel="linear", tol=1e-12).fit(X, y, sample_weight=w)
    b = SVC(C=0.7, kernel="linear", tol=1e-12).fit(np.repeat(X, w, 0), np.repeat(y, w))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(a.decision_function(X), b.decision_function(X), atol=1e-6)


@pytest.mark.parametrize("kernel", ["rbf", "poly", "linear"])
def test_precomputed_kernel_equals_the_named_kernel(kernel):
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    Xtr, ytr, Xte = X[:300], y[:300], X[300:]
    kw = {"gamma": 0.02, "degree": 2, "coef0": 1.0}
    named = SVC(C=1.0, kernel=kernel, tol=1e-10, **kw).fit(Xtr, ytr)
    K = named._kernel(Xtr, Xtr)
    pre = SVC(C=1.0, kernel="precomputed", tol=1e-10).fit(K, ytr)
    np.testing.assert_array_equal(pre.support_, named.support_)
    # the two Ks differ by rounding (one BLAS product against entry-by-entry sums), which
    # moves the multipliers by ~eps·cond(K_free)
    np.testing.assert_allclose(pre.dual_coef_, named.dual_coef_, rtol=1e-7, atol=1e-9)
    Kte = named._kernel(Xte, Xtr)
    np.testing.assert_allclose(
        pre.decision_function(Kte), named.decision_function(Xte), rtol=1e-8, atol=1e-9
    )
    assert pre.support_vectors_.shape == (0, 0)
    ref = _sk(C=1.0, kernel="precomputed").fit(K, ytr)
    _pair(pre, ref, Kte)
    assert pre.certificate(K, ytr).holds
    np.testing.assert_allclose(pre.margin_, named.margin_, rtol=1e-10)


def test_callable_kernel_matches_libsvm_callable():
    X, y = load_iris(return_X_y=True)

    def k(A, B):
        return polynomial_kernel(A, B, degree=2, gamma=0.05, coef0=1.0) + rbf_kernel(A, B, 0.3)

    ours = SVC(C=2.0, kernel=k, tol=1e-10).fit(X, y)
    ref = _sk(C=2.0, kernel=k).fit(X, y)
    _pair(ours, ref, X)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ours.support_vectors_, X[ours.support_])
    pre = SVC(C=2.0, kernel="precomputed", tol=1e-10).fit(k(X, X), y)
    np.testing.assert_array_equal(pre.dual_coef_, ours.dual_coef_)  # the same K, the same steps
    assert ours.certificate(X, y).holds


@pytest.mark.parametrize("seed", [0, 1])
def test_sigmoid_kernel_matches_libsvm(seed):
    X, y = make_classification(150, 4, class_sep=1.0, random_state=seed)
    ours = SVC(C=1.0, kernel="sigmoid", gamma=0.05, coef0=-0.5, tol=1e-10).fit(X, y)
    ref = _sk(C=1.0, kernel="sigmoid", gamma=0.05, coef0=-0.5).fit(X, y)
    _pair(ours, ref, X)
    np.testing.assert_allclose(ours.dual_coef_, ref.dual_coef_, rtol=1e-4, atol=1e-6)


def test_certificate_names_and_duality_gap():
    X, y = load_breast_cancer(return_X_y=True)
    X = (X - X.mean(0)) / X.std(0)
    model = SVC(C=1.0, tol=1e-8).fit(X, y)
    cert = model.certificate(X, y)
    names = [c.name for c in cert.conditions]
    assert all(n.isascii() and n.isidentifier() for n in names), names
    assert {"kkt_box", "kkt_balance", "kkt_complementarity", "duality_gap"} <= set(names)
    assert cert.holds, cert
    # the gap, computed independently in the primal and the dual, from libsvm's solution
    ref = _sk(C=1.0).fit(X, y)
    K = rbf_kernel(ref.support_vectors_, gamma=ref._gamma)
    w2 = float(ref.dual_coef_[0] @ K @ ref.dual_coef_[0])
    xi = np.maximum(0.0, 1.0 - np.where(y == 1, 1.0, -1.0) * ref.decision_function(X))
    gap = w2 + xi.sum() - np.abs(ref.dual_coef_).sum()
    assert cert["duality_gap"].value == pytest.approx(abs(gap), abs=1e-4)
    assert cert["duality_gap"].value < 1e-6 * X.shape[0]
    # a perturbed α: the gap notices
    model.dual_coef_ = model.dual_coef_ * 0.97
    bad = model.certificate(X, y)
    assert not bad.holds
    assert not bad["duality_gap"].holds


def test_hard_margin_certificate_names():
    X, y = load_iris(return_X_y=True)
    X, y = X[:100], y[:100]
    cert = SVC(C=np.inf, kernel="linear").fit(X, y).certificate(X, y)
    assert cert.holds, cert
    assert "margin_identity" in [c.name for c in cert.conditions]
    assert "duality_gap" not in [c.name for c in cert.conditions]


def test_certificate_needs_the_fit_weights():
    """Fit with weights, certify without them: the bounds αᵢ ≤ Cᵢ no longer match."""
    X, y = make_classification(100, 3, class_sep=0.4, random_state=7)
    w = np.where(np.arange(len(X)) % 2, 0.2, 1.0)
    model = SVC(C=1.0, tol=1e-10).fit(X, y, sample_weight=w)
    assert model.certificate(X, y, sample_weight=w).holds
    assert not model.certificate(X, y, sample_weight=w * 0 + 3.0).holds
