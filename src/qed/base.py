"""BaseEstimator and mixins: scikit-learn's estimator contract without importing it.

``get_params``/``set_params``/``repr``/``clone`` follow scikit-learn's rules: the
constructor's keyword arguments are the parameters and ``__init__`` only stores them.
``__sklearn_tags__`` imports scikit-learn lazily, only when scikit-learn itself asks, so that
qed estimators pass ``check_estimator`` and work in ``Pipeline`` and ``GridSearchCV``.
"""

from __future__ import annotations

import copy
import inspect
from typing import Any

import numpy as np

from qed._validation import check_is_fitted

__all__ = [
    "BaseEstimator",
    "RegressorMixin",
    "ClassifierMixin",
    "TransformerMixin",
    "clone",
    "r2_score",
    "accuracy_score",
]


class BaseEstimator:
    """Parameters are the keyword arguments of ``__init__``; fitted state ends in ``_``."""

    @classmethod
    def _get_param_names(cls) -> list[str]:
        init = cls.__init__
        if init is object.__init__:
            return []
        sig = inspect.signature(init)
        names = []
        for p in sig.parameters.values():
            if p.name == "self" or p.kind == p.VAR_KEYWORD:
                continue
            if p.kind == p.VAR_POSITIONAL:
                raise RuntimeError(f"{cls.__name__} must not take *args in __init__.")
            names.append(p.name)
        return sorted(names)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters; with ``deep``, nested estimators' as ``name__param``."""
        out = {}
        for name in self._get_param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                for k, v in value.get_params(deep=True).items():
                    out[f"{name}__{k}"] = v
            out[name] = value
        return out

    def set_params(self, **params: Any) -> BaseEstimator:
        """Set parameters (``name`` or ``nested__name``); returns ``self``."""
        if not params:
            return self
        valid = self.get_params(deep=True)
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, sep, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"Invalid parameter {name!r} for estimator {type(self).__name__}. Valid "
                    f"parameters are: {sorted(self._get_param_names())!r}."
                )
            if sep:
                nested.setdefault(name, {})[sub] = value
            else:
                setattr(self, name, value)
                valid[name] = value
        for name, sub_params in nested.items():
            valid[name].set_params(**sub_params)
        return self

    def __repr__(self) -> str:
        defaults = {
            p.name: p.default
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.default is not p.empty
        }
        shown = []
        for name in self._get_param_names():
            value = getattr(self, name, None)
            default = defaults.get(name, inspect.Parameter.empty)
            if default is not inspect.Parameter.empty and _same(value, default):
                continue
            shown.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(shown)})"

    def __sklearn_clone__(self) -> BaseEstimator:
        return clone(self)

    def __sklearn_tags__(self):  # noqa: ANN204 - sklearn's Tags type is imported lazily
        from sklearn.utils import InputTags, Tags, TargetTags

        return Tags(
            estimator_type=None,
            target_tags=TargetTags(required=False),
            transformer_tags=None,
            regressor_tags=None,
            classifier_tags=None,
            input_tags=InputTags(),
        )

    def _check_fitted(self, attributes: str | list[str] | None = None) -> None:
        check_is_fitted(self, attributes)


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        result = a == b
        return bool(result) if not isinstance(result, np.ndarray) else bool(result.all())
    except Exception:
        return False


def clone(estimator: Any, *, safe: bool = True) -> Any:
    """A new unfitted estimator with the same parameters (deep-copied), as sklearn's clone."""
    if isinstance(estimator, (list, tuple, set, frozenset)):
        return type(estimator)(clone(e, safe=safe) for e in estimator)
    if not hasattr(estimator, "get_params") or isinstance(estimator, type):
        if not safe:
            return copy.deepcopy(estimator)
        raise TypeError(
            f"Cannot clone {estimator!r} (type {type(estimator).__name__}): it does not "
            "implement get_params; pass an estimator."
        )
    params = estimator.get_params(deep=False)
    new_params = {k: clone(v, safe=False) for k, v in params.items()}
    return type(estimator)(**new_params)


def r2_score(y_true: np.ndarray, y_pred: np.ndarray, sample_weight: Any = None) -> float:
    """R² = 1 − Σw(y − ŷ)² / Σw(y − ȳ)², averaged uniformly over outputs."""
    y_true = np.asarray(y_true, dtype=np.float64)
    y_pred = np.asarray(y_pred, dtype=np.float64)
    if y_true.ndim == 1:
        y_true = y_true[:, None]
    if y_pred.ndim == 1:
        y_pred = y_pred[:, None]
    w = np.ones(len(y_true)) if sample_weight is None else np.asarray(sample_weight, float)
    w = w[:, None]
    num = (w * (y_true - y_pred) ** 2).sum(axis=0)
    mean = (w * y_true).sum(axis=0) / w.sum()
    den = (w * (y_true - mean) ** 2).sum(axis=0)
    scores = np.ones_like(num)
    nonzero = den != 0
    scores[nonzero] = 1 - num[nonzero] / den[nonzero]
    scores[~nonzero & (num != 0)] = 0.0
    return float(scores.mean())


def accuracy_score(y_true: Any, y_pred: Any, sample_weight: Any = None) -> float:
    """Fraction of samples whose predicted label equals the true label (weighted)."""
    correct = np.asarray(y_true) == np.asarray(y_pred)
    if correct.ndim > 1:
        correct = correct.all(axis=1)
    return float(np.average(correct, weights=sample_weight))


class RegressorMixin:
    """``score`` is the coefficient of determination R² of ``predict``."""

    _estimator_type = "regressor"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return r2_score(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):  # noqa: ANN204
        from sklearn.utils import RegressorTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "regressor"
        tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        return tags


class ClassifierMixin:
    """``score`` is the accuracy of ``predict``."""

    _estimator_type = "classifier"

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        return accuracy_score(y, self.predict(X), sample_weight)

    def __sklearn_tags__(self):  # noqa: ANN204
        from sklearn.utils import ClassifierTags

        tags = super().__sklearn_tags__()
        tags.estimator_type = "classifier"
        tags.classifier_tags = ClassifierTags()
        tags.target_tags.required = True
        return tags


class TransformerMixin:
    """``fit_transform`` = ``fit`` then ``transform``."""

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> np.ndarray:
        return self.fit(X, y, **fit_params).transform(X)

    def __sklearn_tags__(self):  # noqa: ANN204
        from sklearn.utils import TransformerTags

        tags = super().__sklearn_tags__()
        tags.transformer_tags = TransformerTags()
        return tags
