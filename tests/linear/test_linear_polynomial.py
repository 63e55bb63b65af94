"""PolynomialFeatures against scikit-learn's, and the notes' overfitting design matrix."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.preprocessing import PolynomialFeatures as SkPolynomialFeatures

from qed.linear import LinearRegression, PolynomialFeatures


@pytest.mark.parametrize("degree", [0, 1, 2, 3, 4, (2, 3), (0, 2), (1, 1), (3, 3)])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [True, False])
@pytest.mark.parametrize("n_features", [1, 3, 5])
def test_matches_sklearn(degree, interaction_only, include_bias, n_features):
    """Columns (values and order), powers_ and feature names equal sklearn's."""
    if degree == 0 and not include_bias:
        pytest.raises(ValueError, PolynomialFeatures(0, include_bias=False).fit, [[1.0]])
        return
    X = np.random.default_rng(n_features).standard_normal((12, n_features))
    kw = {"interaction_only": interaction_only, "include_bias": include_bias}
    ref = SkPolynomialFeatures(degree, **kw).fit(X)
    ours = PolynomialFeatures(degree, **kw).fit(X)
    if ref.n_output_features_ == 0:  # no monomial (interaction_only, too few features)
        assert ours.powers_.shape == (0, n_features)
        assert ours.transform(X).shape == ref.transform(X).shape == (12, 0)
        return
    np.testing.assert_array_equal(ours.powers_, ref.powers_)
    assert ours.n_output_features_ == ref.n_output_features_
    np.testing.assert_allclose(ours.transform(X), ref.transform(X), rtol=1e-14)
    assert list(ours.get_feature_names_out()) == list(ref.get_feature_names_out())
    names = [f"f{i}" for i in range(n_features)]
    assert list(ours.get_feature_names_out(names)) == list(ref.get_feature_names_out(names))


@pytest.mark.parametrize("fmt", ["csr", "csc", "coo"])
@pytest.mark.parametrize("degree", [0, 1, 2, 3, (2, 3), (0, 2), (1, 1)])
@pytest.mark.parametrize("interaction_only", [False, True])
@pytest.mark.parametrize("include_bias", [True, False])
def test_sparse_input_gives_sklearns_sparse_output(fmt, degree, interaction_only, include_bias):
    """Sparse in, sparse out (CSC stays CSC, else CSR), the same values and format as
    scikit-learn's, no stored zeros; the values equal the dense transform's."""
    from scipy import sparse

    if degree == 0 and not include_bias:
        return  # refused, as test_matches_sklearn checks
    X = np.random.default_rng(7).standard_normal((25, 4))
    X[X < 0.4] = 0.0
    Xs = sparse.csr_matrix(X).asformat(fmt).astype(np.float32)
    kw = {"interaction_only": interaction_only, "include_bias": include_bias}
    ours = PolynomialFeatures(degree, **kw).fit_transform(Xs)
    ref = SkPolynomialFeatures(degree, **kw).fit_transform(Xs)
    assert sparse.issparse(ours) and ours.format == ref.format and ours.dtype == np.float32
    np.testing.assert_allclose(ours.toarray(), ref.toarray(), rtol=1e-6)
    dense = PolynomialFeatures(degree, **kw).fit_transform(X.astype(np.float32))
    np.testing.assert_array_equal(ours.toarray(), dense)
    assert ours.nnz == np.count_nonzero(dense)


def test_notes_design_matrix_is_vandermonde():
    """Notes: y = [1 x x² … x^m]β; for one input that is numpy's increasing Vandermonde."""
    x = np.linspace(-1, 1, 9)
    np.testing.assert_array_equal(
        PolynomialFeatures(5).fit_transform(x[:, None]), np.vander(x, 6, increasing=True)
    )


def test_overfitting_training_error_never_increases_with_degree():
    """More monomials can only fit the training data better (nested least squares)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (30, 1))
    y = np.sin(3 * x[:, 0]) + 0.2 * rng.standard_normal(30)
    errors = []
    for m in range(1, 10):
        Z = PolynomialFeatures(m, include_bias=False).fit_transform(x)
        model = LinearRegression(solver="svd").fit(Z, y)
        errors.append(np.mean((model.predict(Z) - y) ** 2))
    assert all(b <= a * (1 + 1e-9) for a, b in zip(errors, errors[1:], strict=False))


def test_float32_and_dataframe_names():
    X = np.random.default_rng(0).standard_normal((5, 2)).astype(np.float32)
    out = PolynomialFeatures(2).fit_transform(X)
    assert out.dtype == np.float32
    df = pd.DataFrame(X, columns=["a", "b"])
    ours = PolynomialFeatures(2).fit(df)
    assert list(ours.get_feature_names_out()) == ["1", "a", "b", "a^2", "a b", "b^2"]
    with pytest.raises(ValueError, match="input_features is not equal"):
        ours.get_feature_names_out(["x", "y"])


@pytest.mark.parametrize("degree", [-1, (3, 2), 2.5, "2", (1, 2, 3)])
def test_bad_degree(degree):
    with pytest.raises(ValueError, match="degree"):
        PolynomialFeatures(degree).fit([[1.0, 2.0]])


def test_transform_errors():
    model = PolynomialFeatures(2).fit([[1.0, 2.0]])
    with pytest.raises(ValueError, match="expecting 2 features"):
        model.transform([[1.0, 2.0, 3.0]])
    with pytest.raises(ValueError, match="not fitted yet"):
        PolynomialFeatures().transform([[1.0]])
    with pytest.raises(ValueError, match="length equal to number of features"):
        model.get_feature_names_out(["a"])
