"""Polynomial features: the notes' overfitting design matrix y = [1 x x² … x^m]β.

For several inputs, every monomial x₀^p₀ x₁^p₁ ⋯ of total degree ≤ m, in scikit-learn's
column order: the bias, then the degree-1 terms, then degree 2 as
``itertools.combinations_with_replacement`` (x₀², x₀x₁, …, x₁², …), and so on.
"""

from __future__ import annotations

import numbers
from itertools import chain, combinations, combinations_with_replacement
from math import comb
from typing import Any

import numpy as np
from scipy import sparse

from qed._validation import check_array, check_bool
from qed.base import BaseEstimator, TransformerMixin

__all__ = ["PolynomialFeatures"]


def _degrees(degree: Any, include_bias: bool) -> tuple[int, int]:
    """(min_degree, max_degree) from an int m (= (0, m)) or a tuple (min, max)."""
    if isinstance(degree, numbers.Integral) and not isinstance(degree, bool):
        lo, hi = 0, int(degree)
    elif (
        isinstance(degree, tuple)
        and len(degree) == 2
        and all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in degree)
    ):
        lo, hi = int(degree[0]), int(degree[1])
    else:
        raise ValueError(
            f"degree must be a non-negative int or a tuple (min_degree, max_degree) with "
            f"0 <= min_degree <= max_degree, got {degree!r}."
        )
    if lo < 0 or hi < lo:
        raise ValueError(
            f"degree={degree!r}: need 0 <= min_degree <= max_degree (e.g. degree=2 or (1, 3))."
        )
    if hi == 0 and not include_bias:
        raise ValueError(
            "Setting both min_degree and max_degree to zero and include_bias to False would "
            "result in an empty output array; use include_bias=True or a larger degree."
        )
    return lo, hi


def monomial_powers(
    n_features: int, min_degree: int, max_degree: int, *, interaction_only: bool, include_bias: bool
) -> np.ndarray:
    """Exponents of every output column, shape (n_output_features, n_features)."""
    comb_fn = combinations if interaction_only else combinations_with_replacement
    start = max(1, min_degree)
    terms = chain.from_iterable(comb_fn(range(n_features), k) for k in range(start, max_degree + 1))
    rows = ([()] if include_bias else []) + list(terms)
    powers = np.zeros((len(rows), n_features), dtype=np.int64)
    for r, term in enumerate(rows):
        for j in term:
            powers[r, j] += 1
    return powers


def _n_terms(n: int, degree: int, interaction_only: bool) -> int:
    """Number of monomials of exactly this degree in n variables."""
    return comb(n, degree) if interaction_only else comb(n + degree - 1, degree)


class PolynomialFeatures(TransformerMixin, BaseEstimator):
    """Map x ↦ all monomials of degree ≤ ``degree`` (scikit-learn's column order).

    Parameters
    ----------
    degree : int or tuple (min_degree, max_degree), default=2
    interaction_only : bool, default=False
        Only products of distinct features (x₀x₁, not x₀²).
    include_bias : bool, default=True
        Include the constant column 1 first.

    Attributes
    ----------
    powers_ : ndarray of shape (n_output_features_, n_features_in_)
    n_output_features_ : int
    n_features_in_, feature_names_in_ : as scikit-learn.
    """

    def __init__(
        self, degree: Any = 2, *, interaction_only: bool = False, include_bias: bool = True
    ) -> None:
        self.degree = degree
        self.interaction_only = interaction_only
        self.include_bias = include_bias

    def fit(self, X: Any, y: Any = None) -> PolynomialFeatures:
        """Record n_features_in_ and the output powers. X (n_samples, n_features)."""
        X = check_array(X, estimator=self, reset=True, accept_sparse=True)
        lo, hi = _degrees(self.degree, self.include_bias)
        self._min_degree, self._max_degree = lo, hi
        self.powers_ = monomial_powers(
            X.shape[1],
            lo,
            hi,
            interaction_only=self.interaction_only,
            include_bias=self.include_bias,
        )
        self.n_output_features_ = self.powers_.shape[0]
        return self

    def transform(self, X: Any) -> Any:
        """Monomials of X, shape (n_samples, n_output_features_); float32 stays float32.

        Degree k columns are built from the degree k−1 block by one broadcast product per
        feature (x_j times every degree k−1 monomial whose features are all ≥ j). A sparse X
        gives a sparse result in its format (CSC stays CSC, everything else becomes CSR, as
        scikit-learn does), built from the same products with x_j as a diagonal matrix, so
        that zeros are never stored.
        """
        self._check_fitted("powers_")
        fmt = "csc" if sparse.issparse(X) and X.format == "csc" else "csr"
        X = check_array(X, estimator=self, reset=False, accept_sparse=True)
        n, d = X.shape
        lo, hi = self._min_degree, self._max_degree
        interaction = check_bool(self.interaction_only, "interaction_only")
        if sparse.issparse(X):
            return self._sparse_transform(X, interaction, fmt)
        n_full = int(self.include_bias) + sum(_n_terms(d, k, interaction) for k in range(1, hi + 1))
        XP = np.empty((n, n_full), dtype=X.dtype)
        col = 0
        if self.include_bias:
            XP[:, 0] = 1
            col = 1
        if hi >= 1:
            XP[:, col : col + d] = X
            # index[j] = first column of the previous degree's block whose lowest feature is j
            index = list(range(col, col + d)) + [col + d]
            col += d
            for _ in range(2, hi + 1):
                new_index, end = [], index[-1]
                for j in range(d):
                    start = index[j] + (index[j + 1] - index[j] if interaction else 0)
                    new_index.append(col)
                    stop = col + end - start
                    if stop <= col:
                        break
                    np.multiply(XP[:, start:end], X[:, j : j + 1], out=XP[:, col:stop])
                    col = stop
                new_index.append(col)
                index = new_index
        if lo > 1:  # drop degrees 1 … min_degree − 1, keep the bias
            keep = self.n_output_features_ - int(self.include_bias)
            tail = XP[:, n_full - keep :]
            XP = np.hstack([XP[:, :1], tail]) if self.include_bias else tail.copy()
        return XP

    def _sparse_transform(self, X: Any, interaction: bool, fmt: str) -> Any:
        """The blocks of ``transform`` for scipy.sparse X, degree by degree, in ``fmt``."""
        X = sparse.csc_matrix(X)
        n, d = X.shape
        lo, hi = self._min_degree, self._max_degree
        # the columns x_j as diagonal matrices: D_j @ block multiplies rows, keeping sparsity
        diags = [sparse.diags(X[:, [j]].toarray().ravel()) for j in range(d)]
        blocks, previous = [], X
        starts = list(range(d + 1))  # starts[j]: first column of `previous` with lowest feature j
        if lo <= 1 <= hi:
            blocks.append(X)
        for degree in range(2, hi + 1):
            parts, new_starts, end = [], [0], previous.shape[1]
            for j in range(d):
                start = starts[j + 1] if interaction else starts[j]
                if start < end:
                    parts.append(sparse.csc_matrix(diags[j] @ previous[:, start:end]))
                new_starts.append(new_starts[-1] + max(end - start, 0))
            if not parts:
                break
            previous, starts = sparse.hstack(parts, format="csc"), new_starts
            if degree >= lo:
                blocks.append(previous)
        if self.include_bias:
            blocks.insert(0, sparse.csc_matrix(np.ones((n, 1), dtype=X.dtype)))
        if not blocks:  # no monomial at all (interaction_only with too few features)
            return sparse.csr_matrix((n, 0), dtype=X.dtype).asformat(fmt)
        return sparse.hstack(blocks, format=fmt, dtype=X.dtype)

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """Names like "1", "x0", "x0^2", "x0 x1" (or with the input feature names)."""
        self._check_fitted("powers_")
        names = _input_names(self, input_features)
        out = []
        for row in self.powers_:
            nz = np.flatnonzero(row)
            if nz.size == 0:
                out.append("1")
            else:
                out.append(
                    " ".join(names[j] if row[j] == 1 else f"{names[j]}^{row[j]}" for j in nz)
                )
        return np.asarray(out, dtype=object)


def _input_names(est: Any, input_features: Any) -> list[str]:
    """scikit-learn's rules: given names must match feature_names_in_ / n_features_in_."""
    fitted = getattr(est, "feature_names_in_", None)
    if input_features is None:
        if fitted is not None:
            return [str(v) for v in fitted]
        return [f"x{i}" for i in range(est.n_features_in_)]
    names = np.asarray(input_features, dtype=object)
    if fitted is not None and (len(names) != len(fitted) or np.any(names != fitted)):
        raise ValueError("input_features is not equal to feature_names_in_; omit it.")
    if len(names) != est.n_features_in_:
        raise ValueError(
            f"input_features should have length equal to number of features "
            f"({est.n_features_in_}), got {len(names)}."
        )
    return [str(v) for v in names]
