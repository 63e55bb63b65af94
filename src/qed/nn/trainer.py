"""``BaseMLP``: the fitting logic shared by ``MLPClassifier`` and ``MLPRegressor``.

It validates the hyperparameters, builds the network and the optimizer (and binds a scheduler
object), holds out a validation split for early stopping, runs the epochs with scikit-learn's
stopping counter, steps the scheduler once per epoch, restores the best weights, and measures
the certificate. The subclasses (:mod:`qed.nn.mlp`) define the targets, the loss
(``_loss(out, Y, W)``) and the held-out score (``_score_outputs``).
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from qed._validation import (
    check_array,
    check_random_state,
    check_sample_weight,
    check_scalar,
)
from qed.autograd.tensor import Tensor, no_grad
from qed.base import BaseEstimator
from qed.certificate import Certificate
from qed.nn.layers import INITS
from qed.nn.training import (
    ACTIVATIONS,
    HE_ACTIVATIONS,
    batches,
    build_mlp,
    check_finite_loss,
    progress,
    train_epoch,
    update_no_improvement,
    validation_split,
)
from qed.optim import OPTIMIZERS
from qed.optim.lr_scheduler import LRScheduler, ReduceLROnPlateau, SequentialLR

__all__ = ["BaseMLP"]

_SCHEDULES = ("constant", "cosine", "linear", "inverse_sqrt")


class BaseMLP(BaseEstimator):
    """Shared fitting logic; subclasses define the targets, output size and loss."""

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
        random_state: Any = None,
        warm_start: bool = False,
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.init = init
        self.batch_norm = batch_norm
        self.layer_norm = layer_norm
        self.dropout = dropout
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.schedule = schedule
        self.alpha = alpha
        self.batch_size = batch_size
        self.epochs = epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.restore_best_weights = restore_best_weights
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
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"optimizer={self.optimizer!r} is unknown; use one of {sorted(OPTIMIZERS)}."
            )
        check_scalar(self.learning_rate, "learning_rate", min_val=0.0, include_min=False)
        check_scalar(self.alpha, "alpha", min_val=0.0)
        check_scalar(self.dropout, "dropout", min_val=0.0, max_val=1.0, include_max=False)
        if self.batch_norm and self.layer_norm:
            raise ValueError(
                "batch_norm=True and layer_norm=True both normalise every hidden layer; "
                "choose one of them."
            )
        check_scalar(self.tol, "tol", min_val=0.0)
        check_scalar(self.batch_size, "batch_size", target_type=numbers.Integral, min_val=1)
        check_scalar(self.epochs, "epochs", target_type=numbers.Integral, min_val=0)
        check_scalar(
            self.n_iter_no_change, "n_iter_no_change", target_type=numbers.Integral, min_val=1
        )
        check_scalar(
            self.validation_fraction,
            "validation_fraction",
            min_val=0.0,
            max_val=1.0,
            include_min=False,
            include_max=False,
        )
        s = self.schedule
        if isinstance(s, LRScheduler):
            if s.bound:
                raise ValueError(
                    f"schedule={s!r} is already bound to an optimizer; pass an unbound "
                    f"scheduler, e.g. {type(s).__name__}(patience=5) without the optimizer: "
                    "fit builds the optimizer and binds it."
                )
        elif not (isinstance(s, str) and s in _SCHEDULES or s is None or callable(s)):
            raise ValueError(
                f"schedule={s!r} must be None, one of {_SCHEDULES}, a "
                "qed.optim.schedules schedule (a callable step -> lr) or an unbound "
                "qed.optim.lr_scheduler scheduler."
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
        if isinstance(s, LRScheduler):
            return lr  # the scheduler object sets the lr from this base
        return s  # a schedule object: step -> lr

    def _make_optimizer(self, params: list, lr: Any) -> Any:
        return OPTIMIZERS[self.optimizer](params, lr=lr, weight_decay=float(self.alpha))

    # --- fitting ------------------------------------------------------------------------
    def _note_weights(self, sample_weight: Any, continuing: bool) -> None:
        """Remember whether any fit of this model was weighted (``certificate`` then needs the
        weights); class weights are the model's own and need no remembering."""
        before = continuing and getattr(self, "_fit_weighted", False)
        self._record_sample_weight(sample_weight)
        self._fit_weighted = self._fit_weighted or before

    def _initialize(
        self, X: np.ndarray, Y: np.ndarray, n_out: int, W: np.ndarray | None = None
    ) -> None:
        rng = check_random_state(self.random_state)
        he = self.activation in HE_ACTIVATIONS
        init = self.init if self.init != "auto" else ("he" if he else "xavier")
        self.module_ = build_mlp(
            X.shape[1],
            self._hidden(),
            n_out,
            activation=self.activation,
            init=init,
            batch_norm=bool(self.batch_norm),
            layer_norm=bool(self.layer_norm),
            dropout=float(self.dropout),
            rng=rng,
            dtype=X.dtype,
        )
        n_train = len(X) - (
            int(np.ceil(self.validation_fraction * len(X))) if self.early_stopping else 0
        )
        n_batches = len(
            batches(max(n_train, 1), min(self.batch_size, max(n_train, 1)), bool(self.batch_norm))
        )
        params = list(self.module_.parameters())
        self.optimizer_ = self._make_optimizer(params, self._lr(n_batches * int(self.epochs)))
        s = self.schedule
        self.scheduler_ = s.bind(self.optimizer_) if isinstance(s, LRScheduler) else None
        self._rng = rng
        self.loss_curve_, self.n_iter_ = [], 0
        self._no_improvement_count = 0
        if self.early_stopping:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = (
                [],
                -np.inf,
                None,
            )
        else:
            self.validation_scores_, self.best_validation_score_, self.best_loss_ = (
                None,
                None,
                np.inf,
            )
        self.validation_loss_curve_ = [] if self.early_stopping else None
        self._best_state = None
        self.module_.eval()
        self.initial_loss_, self.initial_grad_norm_ = self._loss_and_grad_norm(X, Y, W)

    def _fit(
        self,
        X: np.ndarray,
        Y: np.ndarray,
        n_out: int,
        W: np.ndarray | None,
        *,
        incremental: bool = False,
        stratify: np.ndarray | None = None,
    ) -> None:
        if incremental and self.early_stopping:
            raise ValueError(
                "partial_fit does not support early_stopping=True (there is no held-out set "
                "across calls); set early_stopping=False or use fit."
            )
        if not (hasattr(self, "module_") and (self.warm_start or incremental)):
            self._initialize(X, Y, n_out, W)
        else:
            X = X.astype(self._dtype(), copy=False)
            Y = Y.astype(self._dtype(), copy=False) if Y.dtype.kind == "f" else Y
        W = None if W is None else W.astype(X.dtype, copy=False)
        Xv = None
        if self.early_stopping:
            seed = int(self._rng.integers(0, 2**31 - 1))
            (X, Y, W), (Xv, Yv, Wv) = validation_split(
                [X, Y, W], float(self.validation_fraction), seed, stratify
            )
        epochs = 1 if incremental else int(self.epochs)
        with progress(epochs, bool(self.verbose), type(self).__name__) as update:
            for epoch in range(epochs):
                loss = train_epoch(
                    self.module_,
                    self.optimizer_,
                    self._loss,
                    X,
                    Y,
                    W,
                    batch_size=int(self.batch_size),
                    rng=self._rng,
                    avoid_singleton=bool(self.batch_norm),
                )
                check_finite_loss(loss, self.n_iter_ + 1)
                self.loss_curve_.append(loss)
                self.n_iter_ += 1
                score = None
                if Xv is None:
                    self._no_improvement_count, self.best_loss_, _ = update_no_improvement(
                        self._no_improvement_count, self.best_loss_, loss, float(self.tol)
                    )
                    metric = loss
                else:
                    metric, score = self._evaluate(Xv, Yv, Wv)
                    self.validation_scores_.append(score)
                    self.validation_loss_curve_.append(metric)
                    count, neg_best, improved = update_no_improvement(
                        self._no_improvement_count,
                        -self.best_validation_score_,
                        -score,
                        float(self.tol),
                    )
                    self._no_improvement_count, self.best_validation_score_ = count, -neg_best
                    if improved:
                        self._best_state = self.module_.state_dict()
                self._step_scheduler(metric)
                update(epoch, loss, score)
                if self._no_improvement_count > self.n_iter_no_change and not incremental:
                    break
        if Xv is not None and self.restore_best_weights and self._best_state is not None:
            self.module_.load_state_dict(self._best_state)

    def _step_scheduler(self, metric: float) -> None:
        s = self.scheduler_
        if s is None:
            return
        if isinstance(s, (ReduceLROnPlateau, SequentialLR)):
            s.step(metric)
        else:
            s.step()

    def _evaluate(self, X: np.ndarray, Y: np.ndarray, W: np.ndarray | None) -> tuple[float, float]:
        """(loss, score) on held-out data in evaluation mode: the score is scikit-learn's
        (accuracy for a classifier, R² for a regressor), weighted by W."""
        with no_grad():
            out = self.module_(Tensor(X))
            loss = float(self._loss(out, Y, W).data)
        return loss, float(self._score_outputs(out.data, Y, W))

    def _sample_weight(self, X: np.ndarray, y: Any, sample_weight: Any) -> np.ndarray | None:
        """Per-sample weights (sample_weight × class weights), or None when they are all equal
        (a constant weight changes no weighted mean)."""
        w = None
        if sample_weight is not None:
            w = check_sample_weight(sample_weight, X, only_positive=True)
        class_weight = getattr(self, "class_weight", None)
        if class_weight is not None:
            from sklearn.utils.class_weight import compute_sample_weight

            if isinstance(class_weight, dict):
                # scikit-learn's rule: a class missing from the dict weighs 1
                unknown = [c for c in class_weight if c not in set(self.classes_.tolist())]
                if unknown:
                    raise ValueError(
                        f"class_weight has weights for labels {unknown} that are not classes "
                        f"of y ({self.classes_.tolist()}); key class_weight by y's labels."
                    )
                per_class = np.array([class_weight.get(c, 1.0) for c in self.classes_.tolist()])
                cw = per_class[np.searchsorted(self.classes_, y)].astype(X.dtype)
            else:
                cw = compute_sample_weight(class_weight, y).astype(X.dtype)
            w = cw if w is None else w * cw
        if w is not None and np.all(w == w[0]):
            return None
        return w

    def _dtype(self) -> np.dtype:
        return next(self.module_.parameters()).data.dtype

    def _forward(self, X: Any) -> np.ndarray:
        self._check_fitted("module_")
        X = check_array(X, estimator=self, reset=False)
        self.module_.eval()
        with no_grad():
            return self.module_(Tensor(X.astype(self._dtype(), copy=False))).data

    def _loss_and_grad_norm(
        self, X: np.ndarray, Y: np.ndarray, W: np.ndarray | None = None
    ) -> tuple[float, float]:
        """Full-data loss (weighted by W) and ‖∇θ L‖₂ of the network as it predicts
        (evaluation mode)."""
        net = self.module_
        training = net.training
        net.eval()
        params = list(net.parameters())
        saved = [p.grad for p in params]
        for p in params:
            p.grad = None
        if W is not None:
            W = W.astype(self._dtype(), copy=False)
        loss = self._loss(net(Tensor(X.astype(self._dtype(), copy=False))), Y, W)
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

    def certificate(
        self,
        X: Any,
        y: Any,
        sample_weight: Any = None,
        *,
        gtol: float = 1e-2,
        htol: float = 1e-2,
        n_hvp: int = 40,
        random_state: Any = 0,
    ) -> Certificate:
        """What training can prove about a network, measured on (X, y) (the training data).

        A multilayer network has no global optimality certificate: its loss L is not convex,
        so a stationary point need not be a minimum, and nothing bounds L(θ) − L* or the
        distance to a global minimiser (``bounds`` stays empty and ``bounds_note`` says so).
        This certificate checks three honest, local properties of the network as it
        predicts (evaluation mode), L being the mean training loss weighted as in ``fit``
        (``sample_weight`` and ``class_weight``; without the ``alpha`` penalty):

        1. ``loss_decrease``: L(θ_T) − L(θ₀) ≤ rounding, θ₀ the initial weights;
        2. ``stationarity``: ‖∇L(θ_T)‖ / ‖∇L(θ₀)‖ ≤ ``gtol`` (the absolute ‖∇L(θ_T)‖₂ is
           stated in ``bounds_note``);
        3. ``hessian_min_eigenvalue``: −λ_min(∇²L(θ_T)) ≤ ``htol``·|λ_max(∇²L(θ_T))|, no
           direction of significant negative curvature (second-order stationarity: at a
           saddle point the gradient vanishes but λ_min < 0). λ_min and λ_max are Lanczos
           estimates from ``n_hvp`` Hessian-vector products
           (:func:`qed.theory.curvature.extreme_eigenvalues`); the smallest Ritz value is
           ≥ λ_min, so with fewer products than parameters it may miss negative curvature.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features); y : the targets, as in ``fit``.
        sample_weight : array-like of shape (n_samples,), optional
            The weights of the fit; required when the model was fitted with them.
        gtol : float, default 1e-2
            Tolerance of the relative gradient norm.
        htol : float, default 1e-2
            Tolerance of −λ_min relative to the curvature scale |λ_max|.
        n_hvp : int, default 40
            Hessian-vector products spent on the Lanczos estimate (each costs about two
            backward passes over X); with n_hvp ≥ the number of parameters the estimate is
            the exact spectrum up to rounding.
        random_state : int, Generator or None, default 0
            The Lanczos start vector (fixed by default, so the certificate is reproducible).
        """
        from qed.nn._certify import network_certificate

        return network_certificate(
            self, X, y, sample_weight, gtol=gtol, htol=htol, n_hvp=n_hvp, random_state=random_state
        )
