"""Input validation: every bad input is a ValueError/TypeError that names problem and fix."""

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from qed._validation import (
    NotFittedError,
    check_array,
    check_random_state,
    check_sample_weight,
    check_scalar,
    check_X_y,
    encode_labels,
)
from qed.base import BaseEstimator


class Est(BaseEstimator):
    def __init__(self, a=1):
        self.a = a

    def fit(self, X, y=None):
        return self


@pytest.mark.parametrize(
    "X, exc, match",
    [
        ([[1.0, np.nan]], ValueError, "contains NaN"),
        ([[1.0, np.inf]], ValueError, "infinity"),
        (np.zeros((0, 3)), ValueError, "0 sample"),
        (np.zeros((3, 0)), ValueError, "0 feature"),
        ([1.0, 2.0], ValueError, "Expected 2D array, got 1D"),
        (3.0, ValueError, "scalar"),
        (np.zeros((2, 2, 2)), ValueError, "dim 3"),
        ([["a", "b"]], ValueError, "strings"),
        (np.array([[1, {"k": 1}]], dtype=object), TypeError, "not numbers"),
        (np.array([[1 + 2j]]), ValueError, "Complex"),
        (None, ValueError, "None"),
        ("abc", ValueError, "string"),
        ([[1, 2], [3]], ValueError, "could not be converted"),
    ],
)
def test_bad_arrays_give_clear_errors(X, exc, match):
    with pytest.raises(exc, match=match):
        check_array(X)


def test_dtypes_kept_or_promoted():
    assert check_array(np.ones((2, 2), np.float32)).dtype == np.float32
    assert check_array(np.ones((2, 2), np.int64)).dtype == np.float64
    assert check_array([[True, False]]).dtype == np.float64
    obj = np.array([[1.0, 2.0]], dtype=object)
    assert check_array(obj).dtype == np.float64


def test_dataframe_records_and_checks_feature_names():
    est = Est()
    df = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]})
    X = check_array(df, estimator=est, reset=True)
    assert X.shape == (2, 2) and list(est.feature_names_in_) == ["a", "b"]
    assert est.n_features_in_ == 2
    with pytest.raises(ValueError, match="feature names should match"):
        check_array(df[["b", "a"]].rename(columns={"b": "c"}), estimator=est, reset=False)
    with pytest.warns(UserWarning, match="does not have valid feature names"):
        check_array(df.to_numpy(), estimator=est, reset=False)
    with pytest.raises(ValueError, match="X has 3 features, but Est is expecting 2"):
        check_array(
            np.ones((2, 3)), estimator=Est().set_params(a=2) if False else _fitted(2), reset=False
        )


def _fitted(d):
    e = Est()
    e.n_features_in_ = d
    return e


def test_check_X_y_lengths_and_targets():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        check_X_y(np.ones((3, 2)), np.ones(4))
    with pytest.raises(ValueError, match="requires y"):
        check_X_y(np.ones((3, 2)), None)
    with pytest.raises(ValueError, match="NaN"):
        check_X_y(np.ones((2, 2)), [1.0, np.nan])
    with pytest.warns(UserWarning, match="column-vector"):
        _, y = check_X_y(np.ones((3, 2)), np.ones((3, 1)))
    assert y.shape == (3,)
    _, y = check_X_y(np.ones((3, 2)), np.ones((3, 2)), multi_output=True)
    assert y.shape == (3, 2)
    _, y = check_X_y(np.ones((2, 1)), ["cat", "dog"], y_numeric=False)
    assert list(y) == ["cat", "dog"]


def test_not_fitted_is_qeds_and_sklearns():
    """The fitted check raises an error that both qed's and scikit-learn's classes catch."""
    from sklearn.exceptions import NotFittedError as SkNotFittedError

    for exc in (NotFittedError, SkNotFittedError):
        with pytest.raises(exc, match="not fitted yet"):
            Est()._check_fitted()
    e = Est()
    e.coef_ = 1
    e._check_fitted()
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_sample_weight():
    X = np.ones((3, 2))
    assert np.array_equal(check_sample_weight(None, X), np.ones(3))
    with pytest.raises(ValueError, match="expected \\(3,\\)"):
        check_sample_weight([1.0, 2.0], X)
    with pytest.raises(ValueError, match="Negative"):
        check_sample_weight([1.0, -2.0, 1.0], X)


def test_scalar_checks_name_the_parameter():
    with pytest.raises(ValueError, match="alpha == -1"):
        check_scalar(-1, "alpha", min_val=0)
    with pytest.raises(TypeError, match="alpha must be"):
        check_scalar("big", "alpha")
    with pytest.raises(ValueError, match="NaN"):
        check_scalar(float("nan"), "alpha")
    assert check_scalar(0.5, "p", min_val=0, max_val=1) == 0.5


def test_random_state():
    a = check_random_state(3).random()
    assert a == check_random_state(3).random()
    g = np.random.default_rng(1)
    assert check_random_state(g) is g
    with pytest.raises(TypeError):
        check_random_state("seed")


@given(
    st.lists(st.integers(-(2**40), 2**40), min_size=2, max_size=60),
    st.sampled_from([np.int64, np.int32, np.int8, np.uint8, np.uint64, bool]),
)
def test_encode_labels_equals_numpy_unique(values, dtype):
    """The counting fast path for integer labels gives exactly np.unique's classes and codes."""
    y = np.array(values).astype(dtype)
    assume(len(np.unique(y)) >= 2)
    classes, codes = encode_labels(y)
    ref_classes, ref_codes = np.unique(y, return_inverse=True)
    assert classes.dtype == ref_classes.dtype and np.array_equal(classes, ref_classes)
    assert np.array_equal(codes, ref_codes.reshape(-1))
    assert np.array_equal(classes[codes], y)
