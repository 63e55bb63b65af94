"""``MLPClassifier`` / ``MLPRegressor``: scikit-learn estimators over ``qed.nn``.

The network is ``Linear → [BatchNorm1d | LayerNorm] → activation → [Dropout]`` per hidden
layer and a final ``Linear`` (built by :mod:`qed.nn.training`, trained by
:class:`qed.nn.trainer.BaseMLP`); it is trained by mini-batch gradient descent with any ``qed.optim`` optimizer
(the notes' "mini-batch GD": ∇ estimated on a shuffled batch, one step per batch) on the
softmax cross entropy (classifier) or the mean squared error (regressor).

Training stops as scikit-learn's ``MLPClassifier`` does: after more than ``n_iter_no_change``
consecutive epochs in which the training loss did not fall below best − ``tol``, or, with
``early_stopping``, in which the score on a held-out ``validation_fraction`` did not rise
above best + ``tol`` (the weights of the best validation epoch are then restored).
``sample_weight`` / ``class_weight`` weight each sample's loss (Σwℓ/Σw per batch),
``partial_fit`` runs one epoch per call, and ``schedule`` may be a scheduler object of
:mod:`qed.optim.lr_scheduler` (stepped once per epoch; ``ReduceLROnPlateau`` watches the
validation loss with early stopping, else the training loss).

Training is deterministic given ``random_state`` and resumable: with ``warm_start=True`` a
second ``fit`` continues from the current weights, optimizer state (moments, step counter),
scheduler, stopping counters and random generator, so 2 + 2 epochs give the same bits as
4 epochs, also after ``qed.save``/``qed.load`` in between.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from qed._validation import check_X_y, encode_labels
from qed.autograd.tensor import Tensor
from qed.base import ClassifierMixin, RegressorMixin
from qed.nn.losses import cross_entropy, mse_loss
from qed.nn.trainer import BaseMLP
from qed.nn.training import weighted_mean

__all__ = ["MLPClassifier", "MLPRegressor"]


class MLPClassifier(ClassifierMixin, BaseMLP):
    """Multilayer perceptron classifier trained on the softmax cross entropy.

    ℓᵢ = log Σₖ exp(zᵢₖ) − zᵢ,yᵢ, averaged over each mini-batch; K logits for K classes.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
    activation : {"relu", "tanh", "sigmoid", "identity", "gelu", "leaky_relu", "elu"},
        default "relu"
    init : "auto" or one of ``qed.nn.layers.INITS``, default "auto"
        "auto" is He for the ReLU family (relu, leaky_relu, gelu, elu) and Xavier otherwise,
        as the notes derive.
    batch_norm : bool, default False
        BatchNorm1d after every hidden Linear (before the activation).
    layer_norm : bool, default False
        LayerNorm after every hidden Linear instead (per-sample statistics: the same in
        training and prediction).
    dropout : float in [0, 1), default 0
        Inverted dropout with this probability after every hidden activation (training only;
        predictions use the whole network). The masks come from ``random_state``.
    optimizer : a name of ``qed.optim.OPTIMIZERS`` ("adam", "adamw", "nadam", "sgd",
        "rmsprop", "adagrad"), default "adam"
    learning_rate : float, default 1e-3
    schedule : None, {"constant", "cosine", "linear", "inverse_sqrt"}, a schedule, or an
        unbound ``qed.optim.lr_scheduler`` scheduler
        A name builds the schedule from ``learning_rate`` over all steps of the first fit;
        a ``qed.optim.schedules`` object is used as the learning rate as is (per step); a
        scheduler built without an optimizer (``ReduceLROnPlateau(factor=0.5, patience=3)``)
        is bound to the optimizer (base lr ``learning_rate``) and stepped once per epoch;
        ``ReduceLROnPlateau`` (also inside ``SequentialLR``) watches the validation loss
        with ``early_stopping``, else the training loss.
    alpha : float, default 0
        L2 penalty (the optimizer's weight decay).
    batch_size : int, default 200
    epochs : int, default 200
        Maximum passes over the data per call of ``fit`` (scikit-learn's ``max_iter``).
    tol : float, default 1e-4
        An epoch improves when the training loss falls below best − tol (or, with
        ``early_stopping``, the validation score rises above best + tol).
    n_iter_no_change : int, default 10
        Training stops after more than this many consecutive epochs without improvement.
    early_stopping : bool, default False
        Hold out ``validation_fraction`` of the training data (stratified by class) and stop
        on its score (accuracy; R² for the regressor) instead of the training loss.
    validation_fraction : float in (0, 1), default 0.1
    restore_best_weights : bool, default True
        With ``early_stopping``, end with the weights (and batch-norm statistics) of the
        epoch with the best validation score, as scikit-learn does; False keeps the last.
    class_weight : None, "balanced" or dict label -> weight (classifier only)
        Multiplies each sample's weight by its class's (``sklearn.utils.class_weight``).
    random_state : None, int or Generator
    warm_start : bool, default False
        Continue training from the current state on ``fit``.
    verbose : bool, default False
        Show a progress bar with the loss and validation score of each epoch.

    Attributes
    ----------
    classes_, module_ (the ``qed.nn.Sequential``), optimizer_, scheduler_ (or None),
    loss_curve_ (training loss per epoch), n_iter_ (epochs so far, over all calls),
    best_loss_ (lowest training loss; None with early stopping), validation_scores_ and
    best_validation_score_ (None without early stopping), validation_loss_curve_ (the
    held-out loss per epoch, what ``ReduceLROnPlateau`` watches; None without early stopping),
    n_features_in_.
    """

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        init: str = "auto",
        batch_norm: bool = False,
        layer_norm: bool = False,
        dropout: float = 0.0,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        schedule: Any = None,
        alpha: float = 0.0,
        batch_size: int = 200,
        epochs: int = 200,
        tol: float = 1e-4,
        n_iter_no_change: int = 10,
        early_stopping: bool = False,
        validation_fraction: float = 0.1,
        restore_best_weights: bool = True,
        class_weight: Any = None,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: bool = False,
    ) -> None:
        super().__init__(
            hidden_layer_sizes,
            activation,
            init=init,
            batch_norm=batch_norm,
            layer_norm=layer_norm,
            dropout=dropout,
            optimizer=optimizer,
            learning_rate=learning_rate,
            schedule=schedule,
            alpha=alpha,
            batch_size=batch_size,
            epochs=epochs,
            tol=tol,
            n_iter_no_change=n_iter_no_change,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            restore_best_weights=restore_best_weights,
            random_state=random_state,
            warm_start=warm_start,
            verbose=verbose,
        )
        self.class_weight = class_weight

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPClassifier:
        """Train on X (n, d) and labels y (n,) of any type (weights ``sample_weight`` (n,));
        returns self."""
        self._validate_params()
        continuing = self.warm_start and hasattr(self, "module_")
        self._note_weights(sample_weight, continuing)
        X, y = check_X_y(X, y, estimator=self, y_numeric=False, reset=not continuing)
        classes, codes = encode_labels(y, self)
        if continuing:
            unseen = np.setdiff1d(classes, self.classes_)
            if len(unseen):
                raise ValueError(
                    f"warm_start: y has labels {unseen!r} not seen in the first "
                    f"fit (classes_ = {self.classes_!r}); refit from scratch."
                )
            codes = np.searchsorted(self.classes_, y)
        else:
            self.classes_ = classes
        codes = codes.astype(np.intp)
        W = self._sample_weight(X, y, sample_weight)
        self._fit(X, codes, len(self.classes_), W, stratify=codes)
        return self

    def partial_fit(
        self, X: Any, y: Any, classes: Any = None, sample_weight: Any = None
    ) -> MLPClassifier:
        """One epoch on (X, y), continuing from the current state. The first call needs
        ``classes`` (every label that will ever occur); later calls may repeat it, unchanged."""
        self._validate_params()
        first = not hasattr(self, "module_")
        self._note_weights(sample_weight, not first)
        X, y = check_X_y(X, y, estimator=self, y_numeric=False, reset=first)
        if first:
            if classes is None:
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: "
                    "partial_fit(X, y, classes=all_labels), e.g. classes=np.unique(y_all)."
                )
            self.classes_ = encode_labels(np.asarray(classes), self)[0]
        elif classes is not None:
            given = np.unique(np.asarray(classes))
            if given.shape != self.classes_.shape or np.any(given != self.classes_):
                raise ValueError(
                    f"classes={given!r} differs from the classes of the first partial_fit call "
                    f"({self.classes_!r}); the classes cannot change between calls. Pass the "
                    "same classes, or start again with a new estimator (or fit)."
                )
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(
                f"y has labels {unseen!r} that are not in classes={self.classes_!r}; pass every "
                "label in classes on the first call to partial_fit."
            )
        if isinstance(self.class_weight, str):
            raise ValueError(
                "class_weight='balanced' needs all of y at once and cannot be used with "
                "partial_fit; pass a dict of class weights (e.g. from "
                "sklearn.utils.class_weight.compute_class_weight on all labels) or use fit."
            )
        codes = np.searchsorted(self.classes_, y).astype(np.intp)
        W = self._sample_weight(X, y, sample_weight)
        self._fit(X, codes, len(self.classes_), W, incremental=True)
        return self

    @staticmethod
    def _loss(out: Tensor, Y: np.ndarray, W: np.ndarray | None = None) -> Tensor:
        if W is None:
            return cross_entropy(out, Y)
        return weighted_mean(cross_entropy(out, Y, reduction="none"), W)

    @staticmethod
    def _score_outputs(out: np.ndarray, Y: np.ndarray, W: np.ndarray | None) -> float:
        from sklearn.metrics import accuracy_score

        return accuracy_score(Y, np.argmax(out, axis=1), sample_weight=W)

    def _targets_for_certificate(self, y: Any, n: int) -> np.ndarray:
        y = np.asarray(y)
        if y.shape != (n,):
            raise ValueError(f"y must have shape ({n},), got {y.shape}.")
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if len(unseen):
            raise ValueError(f"y has labels {unseen!r} not seen in fit.")
        return np.searchsorted(self.classes_, y)

    def decision_function(self, X: Any) -> np.ndarray:
        """The logits, shape (n, n_classes); for two classes the log-odds z₁ − z₀, shape (n,)."""
        z = self._forward(X)
        return z[:, 1] - z[:, 0] if z.shape[1] == 2 else z

    def predict_proba(self, X: Any) -> np.ndarray:
        """Softmax of the logits, shape (n, n_classes); rows sum to 1."""
        z = self._forward(X)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """log-softmax of the logits (log-sum-exp, never log 0 by underflow)."""
        z = self._forward(X)
        m = z.max(axis=1, keepdims=True)
        return z - m - np.log(np.exp(z - m).sum(axis=1, keepdims=True))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class, shape (n,)."""
        scores = self._forward(X)
        return self.classes_[np.argmax(scores, axis=1)]

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class MLPRegressor(RegressorMixin, BaseMLP):
    """Multilayer perceptron regressor trained on the mean squared error (x − y)².

    Parameters as ``MLPClassifier``; y may be (n,) or (n, n_targets).
    Attributes: module_, optimizer_, loss_curve_, n_iter_, n_outputs_, n_features_in_.
    """

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """Train on X (n, d) and targets y (n,) or (n, k) (weights ``sample_weight`` (n,));
        returns self."""
        return self._fit_regressor(X, y, sample_weight, incremental=False)

    def partial_fit(self, X: Any, y: Any, sample_weight: Any = None) -> MLPRegressor:
        """One epoch on (X, y), continuing from the current state; returns self."""
        return self._fit_regressor(X, y, sample_weight, incremental=True)

    def _fit_regressor(self, X: Any, y: Any, sample_weight: Any, incremental: bool) -> MLPRegressor:
        self._validate_params()
        continuing = hasattr(self, "module_") and (self.warm_start or incremental)
        self._note_weights(sample_weight, continuing)
        X, y = check_X_y(X, y, estimator=self, multi_output=True, reset=not continuing)
        Y = y.reshape(len(y), -1).astype(X.dtype, copy=False)
        if continuing and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"y has {Y.shape[1]} targets but the first fit had {self.n_outputs_}; refit "
                "from scratch."
            )
        self._y_1d = y.ndim == 1
        self.n_outputs_ = Y.shape[1]
        W = self._sample_weight(X, y, sample_weight)
        self._fit(X, Y, self.n_outputs_, W, incremental=incremental)
        return self

    @staticmethod
    def _loss(out: Tensor, Y: np.ndarray, W: np.ndarray | None = None) -> Tensor:
        if W is None:
            return mse_loss(out, Y)
        return weighted_mean(mse_loss(out, Y, reduction="none"), W)

    @staticmethod
    def _score_outputs(out: np.ndarray, Y: np.ndarray, W: np.ndarray | None) -> float:
        from sklearn.metrics import r2_score

        return r2_score(Y, out, sample_weight=W)

    def _targets_for_certificate(self, y: Any, n: int) -> np.ndarray:
        Y = np.asarray(y, dtype=self._dtype()).reshape(n, -1)
        if Y.shape[1] != self.n_outputs_:
            raise ValueError(f"y has {Y.shape[1]} targets, the model {self.n_outputs_}.")
        return Y

    def predict(self, X: Any) -> np.ndarray:
        """Predictions, shape (n,) for a 1-D training target, else (n, n_targets)."""
        out = self._forward(X)
        return out[:, 0] if self._y_1d else out

    def __sklearn_tags__(self):  # noqa: ANN204
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
