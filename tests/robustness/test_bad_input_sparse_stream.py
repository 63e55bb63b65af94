"""Bad input for the sparse paths and the streaming fit added with them: PolynomialFeatures and
KernelRidge on scipy.sparse X, LogisticRegression.partial_fit and the weighted MLP
certificate — each a clear ValueError/TypeError naming the problem and the fix."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse

from qed.classify import LogisticRegression
from qed.linear import KernelRidge, PolynomialFeatures
from qed.nn import MLPRegressor

X = sparse.random(20, 4, density=0.5, format="csr", random_state=0)
Y = np.arange(20.0)
LABELS = (Y > 10).astype(int)
NAN = X.copy()
NAN.data[0] = np.nan


@pytest.mark.parametrize(
    ("make", "exc", "match"),
    [
        (lambda: KernelRidge().fit(NAN, Y), ValueError, "contains NaN"),
        (
            lambda: KernelRidge(kernel="precomputed").fit(sparse.csr_matrix(np.eye(20)), Y),
            TypeError,
            r"not supported.*precomputed.*K\.toarray\(\)",
        ),
        (
            lambda: KernelRidge(solver="falkon").fit(X, Y),
            TypeError,
            "not supported.*falkon.*solver='cholesky'",
        ),
        (lambda: KernelRidge().fit(X, Y).predict(X[:, :3]), ValueError, "features"),
        (lambda: PolynomialFeatures().fit_transform(NAN), ValueError, "contains NaN"),
        (
            lambda: PolynomialFeatures().fit(X).transform(sparse.csr_matrix(np.ones((2, 5)))),
            ValueError,
            "expecting 4 features",
        ),
        (
            lambda: LogisticRegression().partial_fit(NAN, LABELS, classes=[0, 1]),
            ValueError,
            "contains NaN",
        ),
        (
            lambda: LogisticRegression().partial_fit(
                X, LABELS, classes=[0, 1], sample_weight=-np.ones(20)
            ),
            ValueError,
            "Negative",
        ),
        (
            lambda: LogisticRegression().partial_fit(X, LABELS[:5], classes=[0, 1]),
            ValueError,
            "20 rows",
        ),
        (
            lambda: (
                MLPRegressor(epochs=2)
                .fit(X.toarray(), Y)
                .certificate(X.toarray(), Y, sample_weight=np.ones(3))
            ),
            ValueError,
            "one weight per sample",
        ),
        (
            lambda: (
                MLPRegressor(epochs=2)
                .fit(X.toarray(), Y, sample_weight=np.linspace(1, 2, 20))
                .certificate(X.toarray(), Y)
            ),
            ValueError,
            "fitted with sample_weight",
        ),
    ],
)
def test_bad_input(make, exc, match):
    with pytest.raises(exc, match=match):
        make()
