"""The per-array arithmetic of the torch-style rules of :mod:`qed.optim.rules`, pure: each
function takes one parameter's arrays and returns new ones (the rules map them over the
parameter list). The fused numba twins in ``_fused.py`` do the same arithmetic in place, in
the same order, so that both give the same bits (tests/optim/test_optim_fused.py).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "sgd_array",
    "adagrad_array",
    "rmsprop_array",
    "adam_array",
    "adam_amsgrad_array",
    "nadam_coefficients",
    "nadam_array",
]


# ---------------------------------------------------------------- per-array kernels (pure)
# Each returns new arrays. The fused numba twins in _fused.py do the same arithmetic in place,
# in the same order, so that both give the same bits (tested).


def sgd_array(x, g, buf, first, lr, momentum, dampening, nesterov, weight_decay):
    if weight_decay != 0:
        g = g + weight_decay * x
    if momentum != 0:
        buf = g.copy() if first else momentum * buf + (1 - dampening) * g
        g = g + momentum * buf if nesterov else buf
    return x - lr * g, buf


def adagrad_array(x, g, acc, t, lr, lr_decay, weight_decay, eps):
    if weight_decay != 0:
        g = g + weight_decay * x
    clr = lr / (1 + (t - 1) * lr_decay)
    acc = acc + g * g
    return x - clr * (g / (np.sqrt(acc) + eps)), acc


def rmsprop_array(x, g, sq, buf, gavg, lr, alpha, eps, weight_decay, momentum, centered):
    if weight_decay != 0:
        g = g + weight_decay * x
    sq = alpha * sq + (1 - alpha) * g * g
    if centered:
        gavg = alpha * gavg + (1 - alpha) * g
        denom = np.sqrt(sq - gavg * gavg) + eps
    else:
        denom = np.sqrt(sq) + eps
    if momentum > 0:
        buf = momentum * buf + g / denom
        return x - lr * buf, sq, buf, gavg
    return x - lr * (g / denom), sq, buf, gavg


def adam_array(x, g, m, v, t, lr, beta1, beta2, eps, weight_decay, decoupled):
    if weight_decay != 0:
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    step_size = lr / (1 - beta1**t)  # α/(1 − β₁ᵗ): the bias correction of m
    bc2_sqrt = (1 - beta2**t) ** 0.5  # √(1 − β₂ᵗ): the bias correction of v, under the root
    return x - step_size * (m / (np.sqrt(v) / bc2_sqrt + eps)), m, v


def adam_amsgrad_array(x, g, m, v, vmax, t, lr, beta1, beta2, eps, weight_decay, decoupled):
    """Adam with AMSGrad: the denominator uses v_max ← max(v_max, vₜ), never shrinking."""
    if weight_decay != 0:
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    vmax = np.maximum(vmax, v)
    step_size = lr / (1 - beta1**t)
    bc2_sqrt = (1 - beta2**t) ** 0.5
    return x - step_size * (m / (np.sqrt(vmax) / bc2_sqrt + eps)), m, v, vmax


def nadam_coefficients(t, mu_product, lr, beta1, momentum_decay):
    """NAdam's scalars at step t ≥ 1: μₜ = β₁(1 − ½·0.96^(tψ)), the products Πμ, and the
    coefficients c₁ = −α(1 − μₜ)/(1 − Πᵗμ) of g and c₂ = −αμₜ₊₁/(1 − Πᵗ⁺¹μ) of m."""
    mu = beta1 * (1.0 - 0.5 * 0.96 ** (t * momentum_decay))
    mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((t + 1) * momentum_decay))
    mu_product = mu_product * mu
    c1 = -lr * (1.0 - mu) / (1.0 - mu_product)
    c2 = -lr * mu_next / (1.0 - mu_product * mu_next)
    return c1, c2, mu_product


def nadam_array(
    x, g, m, v, t, mu_product, lr, beta1, beta2, eps, weight_decay, momentum_decay, decoupled
):
    """One NAdam step (Dozat 2016, torch.optim.NAdam); returns (x, m, v, mu_product)."""
    if weight_decay != 0:
        if decoupled:
            x = x * (1 - lr * weight_decay)
        else:
            g = g + weight_decay * x
    c1, c2, mu_product = nadam_coefficients(t, mu_product, lr, beta1, momentum_decay)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g * g
    denom = np.sqrt(v / (1 - beta2**t)) + eps
    x = x + c1 * (g / denom)
    return x + c2 * (m / denom), m, v, mu_product
