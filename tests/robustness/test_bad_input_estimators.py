"""Issue 8's table: every public estimator × every kind of bad input → a clear error.

Each case names the estimator, the bad input and a regex the message must match; the message
must name the problem (and, where there is one, the fix). Nothing may crash inside numpy,
return NaN, or hang.
"""

from __future__ import annotations

import numpy as np
import pytest

from qed._validation import NotFittedError
from qed.classify import SVC, LogisticRegression
from qed.linear import KernelRidge, LinearRegression, PolynomialFeatures, Ridge
from qed.nn import MLPClassifier, MLPRegressor

RNG = np.random.default_rng(0)
X_GOOD = RNG.standard_normal((30, 3))
Y_REG = X_GOOD @ np.array([1.0, -2.0, 0.5]) + 0.1 * RNG.standard_normal(30)
Y_CLS = (X_GOOD[:, 0] > 0).astype(int)


def _mlp_clf(**kw):
    return MLPClassifier(**{"hidden_layer_sizes": (4,), "epochs": 2, "random_state": 0, **kw})


def _mlp_reg(**kw):
    return MLPRegressor(**{"hidden_layer_sizes": (4,), "epochs": 2, "random_state": 0, **kw})


REGRESSORS = {
    "LinearRegression": LinearRegression,
    "Ridge": Ridge,
    "KernelRidge": KernelRidge,
    "MLPRegressor": _mlp_reg,
}
CLASSIFIERS = {
    "LogisticRegression": LogisticRegression,
    "SVC": SVC,
    "MLPClassifier": _mlp_clf,
}
SUPERVISED = {
    **{k: (v, Y_REG) for k, v in REGRESSORS.items()},
    **{k: (v, Y_CLS) for k, v in CLASSIFIERS.items()},
}


def _with(value, where=(0, 0)):
    X = X_GOOD.copy()
    X[where] = value
    return X


X_CASES = {
    "nan": (_with(np.nan), ValueError, "NaN"),
    "inf": (_with(np.inf), ValueError, "infinity"),
    "-inf": (_with(-np.inf), ValueError, "infinity"),
    "empty": (np.zeros((0, 3)), ValueError, "0 sample"),
    "no features": (np.zeros((30, 0)), ValueError, "0 feature"),
    "1-D": (X_GOOD[:, 0], ValueError, "Expected 2D array"),
    "3-D": (X_GOOD.reshape(30, 3, 1), ValueError, "dim 3"),
    "strings": (X_GOOD.astype(str), ValueError, "strings"),
    "objects": (np.array([[{"a": 1}] * 3] * 30, dtype=object), TypeError, "not numbers"),
    "ragged": ([[1.0, 2.0], [3.0]], ValueError, "could not be converted"),
    "None": (None, ValueError, "None"),
    "complex": (X_GOOD + 1j, ValueError, "Complex"),
}

CASES = []
for est_name, (factory, y) in SUPERVISED.items():
    for case, (X, exc, match) in X_CASES.items():
        y_case = y if not (hasattr(X, "shape") and X.shape[:1] != (30,)) else y[: len(X)]
        if case == "ragged":
            y_case = y[:2]
        CASES.append(pytest.param(factory, X, y_case, exc, match, id=f"{est_name}-X {case}"))
    CASES.append(
        pytest.param(
            factory,
            X_GOOD,
            y[:-1],
            ValueError,
            "inconsistent numbers",
            id=f"{est_name}-length mismatch",
        )
    )
    CASES.append(
        pytest.param(factory, X_GOOD, None, ValueError, "requires y", id=f"{est_name}-y None")
    )
for est_name, factory in REGRESSORS.items():
    y_nan = Y_REG.copy()
    y_nan[3] = np.nan
    CASES.append(pytest.param(factory, X_GOOD, y_nan, ValueError, "NaN", id=f"{est_name}-y nan"))
    y_inf = Y_REG.copy()
    y_inf[3] = np.inf
    CASES.append(
        pytest.param(factory, X_GOOD, y_inf, ValueError, "infinity", id=f"{est_name}-y inf")
    )
for est_name, factory in CLASSIFIERS.items():
    CASES.append(
        pytest.param(
            factory, X_GOOD, np.zeros(30, int), ValueError, "class", id=f"{est_name}-one class"
        )
    )
    mixed = np.array([1, "a"] * 15, dtype=object)
    CASES.append(
        pytest.param(
            factory,
            X_GOOD,
            mixed,
            (ValueError, TypeError),
            "label|type",
            id=f"{est_name}-mixed label types",
        )
    )
    y_nan = Y_CLS.astype(float)
    y_nan[0] = np.nan
    CASES.append(pytest.param(factory, X_GOOD, y_nan, ValueError, "NaN", id=f"{est_name}-y nan"))


@pytest.mark.parametrize("factory, X, y, exc, match", CASES)
def test_fit_rejects_bad_input(factory, X, y, exc, match):
    with pytest.raises(exc, match=match):
        factory().fit(X, y)


PREDICTORS = [
    (name, factory, y, method)
    for name, (factory, y) in SUPERVISED.items()
    for method in ("predict",)
    + (
        ("predict_proba", "decision_function")
        if name in ("LogisticRegression", "MLPClassifier")
        else ("decision_function",)
        if name == "SVC"
        else ()
    )
]


@pytest.mark.parametrize(
    "name, factory, y, method", PREDICTORS, ids=[f"{p[0]}.{p[3]}" for p in PREDICTORS]
)
def test_predict_rejects_bad_input(name, factory, y, method):
    model = factory()
    with pytest.raises(NotFittedError, match="not fitted"):
        getattr(model, method)(X_GOOD)
    model.fit(X_GOOD, y)
    with pytest.raises(ValueError, match="X has 2 features, but .* is expecting 3"):
        getattr(model, method)(X_GOOD[:, :2])
    with pytest.raises(ValueError, match="NaN"):
        getattr(model, method)(_with(np.nan))
    with pytest.raises(ValueError, match="Expected 2D array"):
        getattr(model, method)(X_GOOD[0])
    out = getattr(model, method)(X_GOOD)
    assert np.all(np.isfinite(np.asarray(out, dtype=float)))


HYPER = [
    (Ridge, {"alpha": -1.0}, ValueError, "alpha"),
    (Ridge, {"alpha": "big"}, TypeError, "alpha"),
    (Ridge, {"alpha": np.nan}, ValueError, "alpha"),
    (Ridge, {"solver": "magic"}, ValueError, "solver"),
    (LinearRegression, {"solver": "magic"}, ValueError, "solver"),
    (LinearRegression, {"fit_intercept": "yes"}, TypeError, "fit_intercept"),
    (KernelRidge, {"alpha": -1.0}, ValueError, "alpha"),
    (KernelRidge, {"kernel": "wavelet"}, ValueError, "kernel"),
    (KernelRidge, {"kernel": "rbf", "gamma": -1.0}, ValueError, "gamma"),
    (KernelRidge, {"kernel": "poly", "degree": -2}, ValueError, "degree"),
    (LogisticRegression, {"C": 0.0}, ValueError, "C"),
    (LogisticRegression, {"C": -1.0}, ValueError, "C"),
    (LogisticRegression, {"C": "one"}, TypeError, "C"),
    (LogisticRegression, {"solver": "magic"}, ValueError, "solver"),
    (LogisticRegression, {"max_iter": 0}, ValueError, "max_iter"),
    (LogisticRegression, {"tol": -1.0}, ValueError, "tol"),
    (SVC, {"C": 0.0}, ValueError, "C"),
    (SVC, {"C": -1.0}, ValueError, "C"),
    (SVC, {"kernel": "wavelet"}, ValueError, "kernel"),
    (SVC, {"gamma": -1.0}, ValueError, "gamma"),
    (SVC, {"gamma": "sometimes"}, ValueError, "gamma"),
    (SVC, {"tol": 0.0}, ValueError, "tol"),
    (_mlp_clf, {"hidden_layer_sizes": (0,)}, ValueError, "hidden_layer_sizes"),
    (_mlp_clf, {"learning_rate": -1.0}, ValueError, "learning_rate"),
    (_mlp_clf, {"batch_size": 0}, ValueError, "batch_size"),
    (_mlp_clf, {"activation": "swish"}, ValueError, "activation"),
    (_mlp_clf, {"optimizer": "lion"}, ValueError, "optimizer"),
    (_mlp_reg, {"epochs": -1}, ValueError, "epochs"),
]


@pytest.mark.parametrize(
    "factory, params, exc, match",
    HYPER,
    ids=[f"{getattr(h[0], '__name__', h[0])}-{h[1]}" for h in HYPER],
)
def test_bad_hyperparameters_are_named(factory, params, exc, match):
    y = Y_CLS if factory in (LogisticRegression, SVC, _mlp_clf) else Y_REG
    with pytest.raises(exc, match=match):
        factory(**params).fit(X_GOOD, y)


def test_polynomial_features_bad_input():
    with pytest.raises(ValueError, match="NaN"):
        PolynomialFeatures().fit(_with(np.nan))
    with pytest.raises(ValueError, match="degree"):
        PolynomialFeatures(degree=-1).fit(X_GOOD)
    with pytest.raises((TypeError, ValueError), match="degree"):
        PolynomialFeatures(degree="two").fit(X_GOOD)
    with pytest.raises(NotFittedError):
        PolynomialFeatures().transform(X_GOOD)
    pf = PolynomialFeatures().fit(X_GOOD)
    with pytest.raises(ValueError, match="X has 2 features"):
        pf.transform(X_GOOD[:, :2])
    with pytest.raises(ValueError, match="Expected 2D array"):
        pf.transform(X_GOOD[0])


def test_case_count_is_reported():
    """The closing note reports how many bad-input cases this table holds."""
    assert len(CASES) + 4 * len(PREDICTORS) + len(HYPER) + 6 > 150
