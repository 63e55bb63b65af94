"""qed's estimator bases: scikit-learn's own ``BaseEstimator`` and mixins, plus what is qed's.

scikit-learn already implements the estimator contract — ``get_params``/``set_params``,
``clone``, the ``repr`` and the HTML diagram, ``__sklearn_tags__``, ``set_output``, metadata
routing (``set_fit_request``) — so qed subclasses it rather than re-writing it. qed adds only
what is its own: the fitted check used by ``predict``/``certificate``, and (in
``qed.persist``) safe saving. Estimators compose as scikit-learn asks, mixins first::

    class Ridge(LinearPredictor, RegressorMixin, BaseEstimator): ...

Importing this module imports ``sklearn.base`` (about a second, cold); ``import qed`` does not
import it, only the estimator subpackages do.
"""

from __future__ import annotations

import sklearn.base as _sk
from sklearn.base import (
    ClassifierMixin,
    ClassNamePrefixFeaturesOutMixin,
    OneToOneFeatureMixin,
    RegressorMixin,
    TransformerMixin,
    clone,
)
from sklearn.exceptions import NotFittedError as _SkNotFittedError
from sklearn.utils.validation import check_is_fitted as _sk_check_is_fitted

from qed import _validation

__all__ = [
    "BaseEstimator",
    "RegressorMixin",
    "ClassifierMixin",
    "TransformerMixin",
    "OneToOneFeatureMixin",
    "ClassNamePrefixFeaturesOutMixin",
    "NotFittedError",
    "clone",
]


class NotFittedError(_validation.NotFittedError, _SkNotFittedError):
    """Not fitted yet: both qed's ``NotFittedError`` and scikit-learn's, so either catches it."""


class BaseEstimator(_sk.BaseEstimator):
    """scikit-learn's ``BaseEstimator``: parameters are ``__init__``'s keyword arguments,
    fitted state ends in ``_``; adds ``_check_fitted`` for predict-time methods."""

    def _check_fitted(self, attributes: str | list[str] | None = None) -> None:
        """Raise a ``NotFittedError`` (qed's and scikit-learn's) unless fitted."""
        try:
            _sk_check_is_fitted(self, attributes)
        except _SkNotFittedError as exc:
            raise NotFittedError(
                f"This {type(self).__name__} instance is not fitted yet. Call 'fit' with "
                "appropriate arguments before using this estimator."
            ) from exc

    def _record_sample_weight(self, sample_weight: object) -> None:
        """Remember whether ``fit`` weighted the samples (non-uniformly or by other than 1):
        ``certificate(X, y)`` then measures a different objective unless given them too."""
        import numpy as np

        if sample_weight is None:
            self._fit_weighted = False
            return
        w = np.asarray(sample_weight) if not hasattr(sample_weight, "dask") else None
        # dask weights stay lazy: treat them as weights (the safe side)
        self._fit_weighted = w is None or w.size == 0 or not bool(np.all(w == 1))

    def _check_certificate_weights(self, X: object, sample_weight: object) -> None:
        """A model fitted with weights is certified on (X, y) only with weights given."""
        if X is not None and sample_weight is None and getattr(self, "_fit_weighted", False):
            raise ValueError(
                f"This {type(self).__name__} was fitted with sample_weight, so certificate(X, "
                "y) without them would measure a different objective; pass the weights used "
                "in fit: certificate(X, y, sample_weight=w) (on other data, pass that data's "
                "weights, e.g. np.ones(len(X)))."
            )
