"""Bundled data equal scikit-learn's copies; generators keep their promises."""

import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn.svm import SVC

from qed import datasets


@pytest.mark.parametrize(
    "ours, theirs",
    [
        (datasets.load_iris, skd.load_iris),
        (datasets.load_breast_cancer, skd.load_breast_cancer),
        (datasets.load_diabetes, skd.load_diabetes),
        (datasets.load_digits, skd.load_digits),
    ],
)
def test_real_data_equal_scikit_learn(ours, theirs):
    X, y = ours(return_X_y=True)
    Xs, ys = theirs(return_X_y=True)
    np.testing.assert_allclose(X, Xs, rtol=1e-12, atol=1e-15)
    np.testing.assert_array_equal(y, ys)
    bunch = ours()
    assert len(bunch.feature_names) == X.shape[1]
    frame_X, frame_y = ours(return_X_y=True, as_frame=True)
    assert list(frame_X.columns) == list(bunch.feature_names) and len(frame_y) == len(y)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_make_separable_has_the_promised_margin(seed):
    """The hard-margin SVM (sklearn, C huge) finds a margin at least the requested one."""
    X, y = datasets.make_separable(120, 4, margin=0.7, random_state=seed)
    svm = SVC(kernel="linear", C=1e10).fit(X, y)
    assert svm.score(X, y) == 1.0
    assert 1 / np.linalg.norm(svm.coef_) >= 0.7


def test_make_regression_is_the_linear_gaussian_model():
    X, y, coef = datasets.make_regression(200, 5, noise=0.0, bias=3.0, coef=True, random_state=0)
    np.testing.assert_allclose(y, X @ coef + 3.0)
    X1, y1 = datasets.make_regression(200, 5, random_state=0)
    X2, y2 = datasets.make_regression(200, 5, random_state=0)
    assert np.array_equal(X1, X2) and np.array_equal(y1, y2)


def test_generators_validate_arguments():
    with pytest.raises(ValueError, match="n_samples"):
        datasets.make_regression(0, 3)
    with pytest.raises(TypeError, match="n_features"):
        datasets.make_separable(10, 2.5)
    with pytest.raises(ValueError, match="margin"):
        datasets.make_separable(10, 2, margin=-1)
    x, y = datasets.make_polynomial_data(15, random_state=0)
    assert x.shape == (15, 1) and y.shape == (15,)
    X, y = datasets.make_classification(30, 3, n_classes=3, random_state=0)
    assert set(np.unique(y)) == {0, 1, 2}
