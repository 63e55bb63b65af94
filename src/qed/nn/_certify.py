"""The certificate of a trained network (non-convex): what training can prove, measured.

A multilayer network's loss L is not convex, so no bound on L(θ) − L* or on the distance to
a global minimiser exists; the certificate checks local properties of θ_T (loss decrease,
approximate stationarity, no significant negative curvature) on the loss weighted as in fit.
``MLPClassifier``/``MLPRegressor.certificate`` document the conditions.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from qed._validation import check_array, check_scalar
from qed.certificate import Certificate, scaled_tolerance
from qed.theory.curvature import extreme_eigenvalues
from qed.theory.network import hessian_vector_product

__all__ = ["hessian_extremes", "network_certificate"]


def hessian_extremes(
    est: Any, X: np.ndarray, Y: np.ndarray, W: np.ndarray | None, n_hvp: int, random_state: Any
) -> tuple[Any, int]:
    """Lanczos estimate of the extreme eigenvalues of ∇²L(θ_T), the Hessian of the
    full-data loss over all trainable parameters (evaluation mode), from ``n_hvp``
    Hessian-vector products ∇²L·v = ∇⟨∇L, v⟩ (a second reverse sweep)."""
    net = est.module_
    training = net.training
    net.eval()
    params = [p for p in net.parameters() if p.requires_grad]
    saved = [p.grad for p in params]
    try:
        _, _, hvp = hessian_vector_product(
            net, X.astype(est._dtype(), copy=False), Y, lambda z, t: est._loss(z, t, W)
        )
        dim = sum(p.data.size for p in params)
        estimate = extreme_eigenvalues(hvp, dim, n_products=n_hvp, random_state=random_state)
    finally:
        for p, g in zip(params, saved, strict=True):
            p.grad = g
        net.train(training)
    return estimate, dim


def network_certificate(
    est: Any,
    X: Any,
    y: Any,
    sample_weight: Any,
    *,
    gtol: float,
    htol: float,
    n_hvp: int,
    random_state: Any,
) -> Certificate:
    """The conditions of ``certificate`` for the fitted network ``est`` on (X, y)."""
    check_scalar(gtol, "gtol", min_val=0.0)
    check_scalar(htol, "htol", min_val=0.0)
    check_scalar(n_hvp, "n_hvp", target_type=numbers.Integral, min_val=1)
    est._check_fitted("module_")
    est._check_certificate_weights(X, sample_weight)
    X = check_array(X, estimator=est, reset=False)
    Y = est._targets_for_certificate(y, len(X))
    W = est._sample_weight(X, np.asarray(y), sample_weight)
    loss, norm = est._loss_and_grad_norm(X, Y, W)
    curvature, dim = hessian_extremes(est, X, Y, W, int(n_hvp), random_state)
    cert = Certificate(
        f"{type(est).__name__}(hidden_layer_sizes={est._hidden()}, epochs={est.n_iter_})"
    )
    cert.add(
        "loss_decrease",
        loss - est.initial_loss_,
        scaled_tolerance(abs(est.initial_loss_), dtype=est._dtype(), n=len(X)),
        "L(θ_T) − L(θ₀) ≤ 0: training lowered the loss (not convex: no global optimum claimed)",
    )
    cert.add(
        "stationarity",
        norm / max(est.initial_grad_norm_, 1e-300),
        float(gtol),
        "‖∇L(θ_T)‖ / ‖∇L(θ₀)‖ ≤ gtol: approximately stationary",
    )
    cert.add(
        "hessian_min_eigenvalue",
        -curvature.smallest,
        float(htol) * abs(curvature.largest),
        "−λ_min(∇²L) ≤ htol·|λ_max(∇²L)|: no direction of significant negative curvature "
        f"(second-order stationarity; Lanczos, {curvature.n_products} Hessian-vector "
        "products)",
    )
    exact = curvature.n_products >= dim
    cert.set_bounds(
        {},
        "L is not convex: no bound on L(θ) − L* or on the distance to a global minimiser "
        f"exists. Measured at θ_T: ‖∇L‖₂ = {norm:.3e}, λ_min(∇²L) ≈ "
        f"{curvature.smallest:.3e}, λ_max(∇²L) ≈ {curvature.largest:.3e} "
        + (
            f"(all {dim} parameters: the exact spectrum up to rounding)"
            if exact
            else f"(Lanczos on {curvature.n_products} of {dim} dimensions: an estimate, "
            "λ_min may be lower)"
        )
        + "; a local, second-order check only.",
    )
    return cert
