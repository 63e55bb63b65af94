"""``MLPClassifier`` / ``MLPRegressor``: scikit-learn estimators over ``qed.nn``.

The network is ``Linear → [BatchNorm1d] → activation`` per hidden layer and a final
``Linear``; it is trained by mini-batch gradient descent with any ``qed.optim`` optimizer
(the notes' "mini-batch GD": ∇ estimated on a shuffled batch, one step per batch) on the
softmax cross entropy (classifier) or the mean squared error (regressor).

Training is deterministic given ``random_state`` and resumable: with ``warm_start=True`` a
second ``fit`` continues from the current weights, optimizer state (moments, step counter)
and random generator, so 2 + 2 epochs give the same bits as 4 epochs, also after
``qed.save``/``qed.load`` in between.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from qed._validation import (
    check_array,
    check_random_state,
    check_scalar,
    check_X_y,
    encode_labels,
)
from qed.autograd.tensor import Tensor, no_grad
from qed.base import BaseEstimator, ClassifierMixin, RegressorMixin
from qed.certificate import Certificate, scaled_tolerance
from qed.nn.layers import INITS
from qed.nn.losses import cross_entropy, mse_loss
from qed.nn.training import ACTIVATIONS, batches, build_mlp, progress, train_epochs

__all__ = ["MLPClassifier", "MLPRegressor"]

_OPTIMIZERS = ("adam", "sgd", "rmsprop", "adagrad")
_SCHEDULES = ("constant", "cosine", "linear", "inverse_sqrt")


class _BaseMLP(BaseEstimator):
    """Shared fitting logic; subclasses define the targets, output size and loss."""

    def __init__(
        self,
        hidden_layer_sizes: Any = (100,),
        activation: str = "relu",
        *,
        init: str = "auto",
        batch_norm: bool = False,
        optimizer: str = "adam",
        learning_rate: float = 1e-3,
        schedule: Any = None,
        alpha: float = 0.0,
        batch_size: int = 200,
        epochs: int = 200,
        tol: float = 1e-2,
        random_state: Any = None,
        warm_start: bool = False,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.alpha = alpha
        self.batch_size = batch_size
        self.epochs = epochs
        self.tol = tol
        self.random_state = random_state
        self.warm_start = warm_start
        self.verbose = verbose

    # --- parameters ---------------------------------------------------------------------
    def _hidden(self) -> tuple[int, ...]:
        h = self.hidden_layer_sizes
        sizes = (h,) if isinstance(h, numbers.Integral) else tuple(h)
        if any(isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes):
            raise ValueError(f"hidden_layer_sizes must be positive ints, got {h!r}.")
        return tuple(int(s) for s in sizes)

    def _validate_params(self) -> None:
        self._hidden()
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"activation={self.activation!r} is unknown; use one of {sorted(ACTIVATIONS)}."
            )
        if self.init != "auto" and self.init not in INITS:
            raise ValueError(
                f"init={self.init!r} is unknown; use 'auto' or one of {sorted(INITS)}."
            )
        if self.optimizer not in _OPTIMIZERS:
            raise ValueError(f"optimizer={self.optimizer!r} is unknown; use one of {_OPTIMIZERS}.")
        check_scalar(self.learning_rate, "learning_rate", min_val=0.0, include_min=False)
        check_scalar(self.alpha, "alpha", min_val=0.0)
        check_scalar(self.tol, "tol", min_val=0.0)
        check_scalar(self.batch_size, "batch_size", target_type=numbers.Integral, min_val=1)
        check_scalar(self.epochs, "epochs", target_type=numbers.Integral, min_val=0)
        s = self.schedule
        if not (s is None or s in _SCHEDULES or callable(s)):
            raise ValueError(
                f"schedule={s!r} must be None, one of {_SCHEDULES} or a "
                "qed.optim.schedules schedule (a callable step -> lr)."
            )

    def _lr(self, total_steps: int) -> Any:
        from qed.optim import schedules

        s, lr = self.schedule, float(self.learning_rate)
        if s is None or s == "constant":
            return lr
        if s == "cosine":
            return schedules.cosine(lr, max(total_steps, 1))
        if s == "linear":
            return schedules.linear(lr, max(total_steps, 1))
        if s == "inverse_sqrt":
            return schedules.inverse_sqrt(lr)
        return s  # a schedule object: step -> lr

    def _make_optimizer(self, params: list, lr: Any) -> Any:
        from qed import optim

        cls = {
            "adam": optim.Adam,
            "sgd": optim.SGD,
            "rmsprop": optim.RMSProp,
            "adagrad": optim.AdaGrad,
        }[self.optimizer]
        return cls(params, lr=lr, weight_decay=float(self.alpha))

    # --- fitting ------------------------------------------------------------------------
    def _fit(self, X: np.ndarray, Y: np.ndarray, n_out: int) -> None:
        continuing = self.warm_start and hasattr(self, "module_")
        if not continuing:
            rng = check_random_state(self.random_state)
            init = (
                self.init
                if self.init != "auto"
                else ("he" if self.activation == "relu" else "xavier")
            )
            self.module_ = build_mlp(
                X.shape[1],
                self._hidden(),
                n_out,
                activation=self.activation,
                init=init,
                batch_norm=bool(self.batch_norm),
                rng=rng,
                dtype=X.dtype,
            )
            n_batches = len(batches(len(X), min(self.batch_size, len(X)), bool(self.batch_norm)))
            self.optimizer_ = self._make_optimizer(
                list(self.module_.parameters()), self._lr(n_batches * int(self.epochs))
            )
            self._rng = rng
            self.loss_curve_ = []
            self.n_iter_ = 0
            self.module_.eval()
            self.initial_loss_, self.initial_grad_norm_ = self._loss_and_grad_norm(X, Y)
        else:
            X = X.astype(self._dtype(), copy=False)
            Y = Y.astype(self._dtype(), copy=False) if Y.dtype.kind == "f" else Y
        with progress(int(self.epochs), bool(self.verbose), type(self).__name__) as update:
            curve = train_epochs(
                self.module_,
                self.optimizer_,
                self._loss,
                X,
                Y,
                batch_size=int(self.batch_size),
                epochs=int(self.epochs),
                rng=self._rng,
                avoid_singleton=bool(self.batch_norm),
                on_epoch=update,
            )
        self.loss_curve_ = self.loss_curve_ + curve
        self.n_iter_ += int(self.epochs)

    def _dtype(self) -> np.dtype:
        return next(self.module_.parameters()).data.dtype

    def _forward(self, X: Any) -> np.ndarray:
        self._check_fitted("module_")
        X = check_array(X, estimator=self, reset=False)
        self.module_.eval()
        with no_grad():
            return self.module_(Tensor(X.astype(self._dtype(), copy=False))).data

    def _loss_and_grad_norm(self, X: np.ndarray, Y: np.ndarray) -> tuple[float, float]:
        """Full-data loss and ‖∇θ L‖₂ of the network as it predicts (evaluation mode)."""
        net = self.module_
        training = net.training
        net.eval()
        params = list(net.parameters())
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        loss = self._loss(net(Tensor(X.astype(self._dtype(), copy=False))), Y)
        loss.backward()
        norm = float(
            np.sqrt(
                sum(
                    float(np.sum(np.square(p.grad, dtype=np.float64)))
                    for p in params
                    if p.grad is not None
                )
            )
        )
        for p, g in zip(params, saved, strict=True):
            p.grad = g
        net.train(training)
        return float(loss.data), norm

    def certificate(self, X: Any, y: Any) -> Certificate:
        """What training can prove about a network, measured on (X, y) (the training data).

        A multilayer network has no global optimality certificate: its loss is not convex,
        so a stationary point need not be a minimum. This certificate checks two honest
        properties of the network as it predicts (evaluation mode):

        1. the loss decreased: L(θ_T) − L(θ₀) ≤ rounding, with θ₀ the initial weights;
        2. approximate stationarity: ‖∇L(θ_T)‖ / ‖∇L(θ₀)‖ ≤ ``tol``.
        """
        self._check_fitted("module_")
        X = check_array(X, estimator=self, reset=False)
        Y = self._targets_for_certificate(y, len(X))
        loss, norm = self._loss_and_grad_norm(X, Y)
        cert = Certificate(
            f"{type(self).__name__}(hidden_layer_sizes={self._hidden()}, epochs={self.n_iter_})"
        )
        cert.add(
            "loss_decrease",
            loss - self.initial_loss_,
            scaled_tolerance(abs(self.initial_loss_), dtype=self._dtype(), n=len(X)),
            "L(θ_T) − L(θ₀) ≤ 0: training lowered the loss (not convex: no global optimum claimed)",
        )
        cert.add(
            "stationarity",
            norm / max(self.initial_grad_norm_, 1e-300),
            float(self.tol),
            "‖∇L(θ_T)‖ / ‖∇L(θ₀)‖ ≤ tol: approximately stationary",
        )
        return cert


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """Multilayer perceptron classifier trained on the softmax cross entropy.

    ℓᵢ = log Σₖ exp(zᵢₖ) − zᵢ,yᵢ, averaged over each mini-batch; K logits for K classes.

    Parameters
    ----------
    hidden_layer_sizes : int or tuple of int, default (100,)
    activation : {"relu", "tanh", "sigmoid", "identity"}, default "relu"
    init : "auto" or one of ``qed.nn.layers.INITS``, default "auto"
        "auto" is He for ReLU and Xavier otherwise, as the notes derive.
    batch_norm : bool, default False
        BatchNorm1d after every hidden Linear (before the activation).
    optimizer : {"adam", "sgd", "rmsprop", "adagrad"}, default "adam"
    learning_rate : float, default 1e-3
    schedule : None, {"constant", "cosine", "linear", "inverse_sqrt"} or a schedule
        A name builds the schedule from ``learning_rate`` over all steps of the first fit;
        a ``qed.optim.schedules`` object is used as the learning rate as is.
    alpha : float, default 0
        L2 penalty (the optimizer's weight decay).
    batch_size : int, default 200
    epochs : int, default 200
        Passes over the data per call of ``fit``.
    tol : float, default 1e-2
        Relative gradient norm the certificate accepts as stationary.
    random_state : None, int or Generator
    warm_start : bool, default False
        Continue training from the current state on ``fit``.
    verbose : bool, default False
        Show a progress bar with the loss of each epoch.

    Attributes
    ----------
    classes_, module_ (the ``qed.nn.Sequential``), optimizer_, loss_curve_ (per epoch),
    n_iter_ (epochs so far), n_features_in_.
    """

    def fit(self, X: Any, y: Any) -> MLPClassifier:
        """Train on X (n, d) and labels y (n,) of any type; returns self."""
        self._validate_params()
        continuing = self.warm_start and hasattr(self, "module_")
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
        self._fit(X, codes.astype(np.intp), len(self.classes_))
        return self

    @staticmethod
    def _loss(out: Tensor, Y: np.ndarray) -> Tensor:
        return cross_entropy(out, Y)

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


class MLPRegressor(RegressorMixin, _BaseMLP):
    """Multilayer perceptron regressor trained on the mean squared error (x − y)².

    Parameters as ``MLPClassifier``; y may be (n,) or (n, n_targets).
    Attributes: module_, optimizer_, loss_curve_, n_iter_, n_outputs_, n_features_in_.
    """

    def fit(self, X: Any, y: Any) -> MLPRegressor:
        """Train on X (n, d) and targets y (n,) or (n, k); returns self."""
        self._validate_params()
        continuing = self.warm_start and hasattr(self, "module_")
        X, y = check_X_y(X, y, estimator=self, multi_output=True, reset=not continuing)
        Y = y.reshape(len(y), -1).astype(X.dtype, copy=False)
        if continuing and Y.shape[1] != self.n_outputs_:
            raise ValueError(
                f"warm_start: y has {Y.shape[1]} targets but the first fit had {self.n_outputs_}."
            )
        self._y_1d = y.ndim == 1
        self.n_outputs_ = Y.shape[1]
        self._fit(X, Y, self.n_outputs_)
        return self

    @staticmethod
    def _loss(out: Tensor, Y: np.ndarray) -> Tensor:
        return mse_loss(out, Y)

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
