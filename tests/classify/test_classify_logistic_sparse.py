"""LogisticRegression on scipy.sparse X: the same optimum as on the dense copy, never densified.

Identities checked: the objective depends on X only through the products Xv and Xᵀr, so the
sparse fit must reproduce the dense fit (Newton, L-BFGS, GD, SGD; sigmoid and softmax) to
rounding; on many features Newton solves by CG on X̃ᵀ(S(X̃v)) and must still reach
scikit-learn's optimum; the certificate is measured on the sparse matrix.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression as SkLogistic

from qed.classify import LogisticRegression, logistic_objective

STRICT = pytest.mark.filterwarnings("error::qed._validation.ConvergenceWarning")


def _sparse_problem(seed, k, n=400, d=30, density=0.3):
    rng = np.random.default_rng(seed)
    X = sp.random(n, d, density=density, random_state=seed, format="csr")
    X.data = rng.standard_normal(X.nnz)
    Z = X @ rng.standard_normal((d, k)) + rng.gumbel(size=(n, k))
    y = Z.argmax(axis=1)
    return X, y


@STRICT
@pytest.mark.parametrize("seed", [0, 1])
@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("solver", ["newton", "lbfgs"])
def test_sparse_fit_equals_dense_fit(seed, k, fit_intercept, solver):
    X, y = _sparse_problem(seed, k)
    sw = np.random.default_rng(seed).uniform(0.5, 2.0, len(y))
    kw = {"fit_intercept": fit_intercept, "solver": solver, "tol": 1e-10, "max_iter": 500}
    dense = LogisticRegression(**kw).fit(X.toarray(), y, sample_weight=sw)
    ours = LogisticRegression(**kw).fit(X, y, sample_weight=sw)
    np.testing.assert_allclose(ours.coef_, dense.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.intercept_, dense.intercept_, atol=1e-8)
    # scores move by |Δθ|·‖x̃ᵢ‖₁: the coefficients' 1e-8 times the largest row norm
    row = 1.0 + float(abs(X).sum(axis=1).max())
    np.testing.assert_allclose(
        ours.predict_proba(X), dense.predict_proba(X.toarray()), atol=1e-8 * row
    )
    np.testing.assert_allclose(
        ours.decision_function(X), dense.decision_function(X.toarray()), atol=1e-8 * row
    )
    np.testing.assert_array_equal(ours.predict(X), dense.predict(X.toarray()))
    cert = ours.certificate(X, y, sample_weight=sw)
    if solver == "newton":
        assert cert.holds
    dense_cert = dense.certificate(X.toarray(), y, sample_weight=sw)
    assert [c.name for c in cert.conditions] == [c.name for c in dense_cert.conditions]


@pytest.mark.parametrize("k", [2, 3])
@pytest.mark.parametrize("solver", ["gd", "sgd"])
def test_sparse_first_order_solvers_follow_the_dense_iterates(k, solver):
    """Same data, same seed, same step 1/β: the iterates agree to rounding."""
    X, y = _sparse_problem(2, k)
    kw = {"solver": solver, "max_iter": 200, "random_state": 0}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        dense = LogisticRegression(**kw).fit(X.toarray(), y)
        ours = LogisticRegression(**kw).fit(X, y)
    np.testing.assert_allclose(ours.coef_, dense.coef_, atol=1e-9)
    np.testing.assert_allclose(ours.loss_curve_, dense.loss_curve_, rtol=1e-10)


@STRICT
@pytest.mark.parametrize("k", [2, 3])
def test_many_features_newton_cg_matches_sklearn_and_certifies(k):
    """d = 3000 (k·d₁ > 2048): CG on sparse Hessian-vector products with a Jacobi
    preconditioner; the certificate checks the weights of S instead of forming ∇²f."""
    rng = np.random.default_rng(k)
    n, d = 3000, 3000
    X = sp.random(n, d, density=0.01, random_state=k, format="csr")
    y = (X @ rng.standard_normal((d, k)) * 3).argmax(axis=1)
    ours = LogisticRegression(tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkLogistic(solver="newton-cg", tol=1e-12, max_iter=1000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)
    f_ours, f_ref = logistic_objective(ours, X, y), logistic_objective(ref, X, y)
    assert f_ours <= f_ref + 1e-12 * abs(f_ref)
    cert = ours.certificate(X, y)
    assert cert.holds
    # the certificate sees a perturbed model
    ours.coef_ = ours.coef_ + 1e-3
    assert not ours.certificate(X, y).holds


def test_the_data_matrix_is_never_densified(monkeypatch):
    X, y = _sparse_problem(3, 3, n=300, d=2000, density=0.01)
    shape = X.shape

    def refuse(self, *args, **kwargs):
        if self.shape == shape:
            raise AssertionError("X was densified")
        return original(self, *args, **kwargs)

    original = sp.csr_matrix.toarray
    monkeypatch.setattr(sp.csr_matrix, "toarray", refuse)
    monkeypatch.setattr(sp.csr_matrix, "todense", refuse)
    est = LogisticRegression().fit(X, y)
    assert est.certificate(X, y).holds
    est.predict_proba(X)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        LogisticRegression(solver="gd", max_iter=5).fit(X, y)


@pytest.mark.parametrize("fmt", ["csc", "coo", "lil", "dok", "csr_array"])
def test_every_sparse_format_gives_the_csr_fit(fmt):
    X, y = _sparse_problem(4, 3)
    ref = LogisticRegression().fit(X, y)
    Xf = sp.csr_array(X) if fmt == "csr_array" else X.asformat(fmt)
    ours = LogisticRegression().fit(Xf, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-12)
    np.testing.assert_allclose(ours.predict_proba(Xf), ref.predict_proba(X), atol=1e-12)


@STRICT
def test_sparse_class_weight_matches_sklearn():
    X, y = _sparse_problem(5, 3)
    ours = LogisticRegression(C=0.5, class_weight="balanced", tol=1e-10).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = SkLogistic(C=0.5, class_weight="balanced", solver="newton-cg", tol=1e-12).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)


def test_sparse_pure_mle_on_separable_data_raises():
    X, y = _sparse_problem(6, 2, n=40, d=60)
    with pytest.raises(ValueError, match="finite C"):
        LogisticRegression(C=np.inf).fit(X, y)
