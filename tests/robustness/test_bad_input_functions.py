"""Issue 8's table for functions: qed.info, qed.kernels, qed.optim, schedules, qed.nn.init,
qed.theory and qed.bayes — each bad call raises a ValueError/TypeError naming the argument."""

from __future__ import annotations

import numpy as np
import pytest

from qed import bayes, info, kernels, theory
from qed.autograd import Tensor
from qed.nn import init
from qed.optim import SGD, AdaGrad, Adam, RMSProp, schedules

P = np.array([0.2, 0.3, 0.5])
PXY = np.array([[0.1, 0.2], [0.3, 0.4]])
X = np.random.default_rng(0).standard_normal((5, 3))


def _param():
    t = Tensor(np.zeros(3))
    t.grad = np.ones(3)
    return t


CASES = [
    # qed.info: probability vectors and tables
    (info.entropy, ([0.2, np.nan, 0.8],), {}, ValueError, "NaN|finite"),
    (info.entropy, ([0.2, -0.1, 0.9],), {}, ValueError, "negative"),
    (info.entropy, ([0.2, 0.3],), {}, ValueError, "sum"),
    (info.entropy, ([],), {}, ValueError, "empty"),
    (info.entropy, (["a", "b"],), {}, ValueError, "strings|number"),
    (info.entropy, (P,), {"base": -2}, ValueError, "base"),
    (info.entropy, (P,), {"base": 1}, ValueError, "base"),
    (info.entropy, (P,), {"axis": 3}, ValueError, "axis"),
    (info.entropy, ([0.0, 0.0],), {"normalize": True}, ValueError, "sum|zero|0"),
    (info.self_information, (-0.5,), {}, ValueError, "probab|\\[0, 1\\]|negative"),
    (info.self_information, (1.5,), {}, ValueError, "probab|\\[0, 1\\]|≤ 1"),
    (info.kl_divergence, (P, [0.5, 0.5]), {}, ValueError, "shape"),
    (info.kl_divergence, (P, [0.5, np.inf, 0.5]), {}, ValueError, "infin|finite"),
    (info.kl_divergence, (P, [0.2, 0.2, 0.2]), {}, ValueError, "sum"),
    (info.cross_entropy, (P, [-0.2, 0.7, 0.5]), {}, ValueError, "negative"),
    (info.joint_entropy, ([[0.5, np.nan], [0.25, 0.25]],), {}, ValueError, "NaN|finite"),
    (info.conditional_entropy, ([[0.5, 0.6], [0.0, 0.0]],), {}, ValueError, "sum"),
    (info.mutual_information, ([[-0.1, 0.6], [0.25, 0.25]],), {}, ValueError, "negative"),
    (info.contingency, ([1, 2, 3], [1, 2]), {}, ValueError, "length|same|inconsistent"),
    (info.contingency, ([], []), {}, ValueError, "empty|0 sample"),
    (
        info.gaussian_entropy,
        (np.array([[1.0, 2.0], [2.0, 1.0]]),),
        {},
        ValueError,
        "positive definite",
    ),
    (info.gaussian_entropy, (np.array([[1.0, 0.5], [0.0, 1.0]]),), {}, ValueError, "symmetric"),
    (info.gaussian_entropy, (np.ones((2, 3)),), {}, ValueError, "square"),
    (
        info.gaussian_kl,
        (np.zeros(2), np.eye(2), np.zeros(3), np.eye(3)),
        {},
        ValueError,
        "shape|dimension",
    ),
    (
        info.gaussian_kl,
        (np.zeros(2), np.eye(2), np.zeros(2), -np.eye(2)),
        {},
        ValueError,
        "positive definite",
    ),
    # qed.kernels
    (kernels.rbf_kernel, (X, X[:, :2]), {}, ValueError, "features"),
    (kernels.rbf_kernel, (X,), {"gamma": -1.0}, ValueError, "gamma"),
    (kernels.polynomial_kernel, (X,), {"degree": -1}, ValueError, "degree"),
    (kernels.linear_kernel, (np.where(X > 1, np.nan, X),), {}, ValueError, "NaN"),
    (kernels.linear_kernel, (X[0],), {}, ValueError, "2D"),
    (kernels.rbf_kernel, (X,), {"gamma": "wide"}, (TypeError, ValueError), "gamma"),
    # qed.optim shells
    (SGD, ([_param()],), {"lr": -0.1}, ValueError, "lr"),
    (SGD, ([_param()],), {"lr": 0.1, "momentum": 1.5}, ValueError, "momentum"),
    (SGD, ([_param()],), {"lr": 0.1, "momentum": -0.1}, ValueError, "momentum"),
    (SGD, ([_param()],), {"lr": 0.1, "nesterov": True}, ValueError, "nesterov"),
    (SGD, ([_param()],), {"lr": 0.1, "weight_decay": -1}, ValueError, "weight_decay"),
    (SGD, ([],), {"lr": 0.1}, ValueError, "empty|no param"),
    (SGD, ([np.zeros(3)],), {"lr": 0.1}, TypeError, "data|Tensor|param"),
    (Adam, ([_param()],), {"betas": (1.0, 0.999)}, ValueError, "beta"),
    (Adam, ([_param()],), {"betas": (0.9, -0.1)}, ValueError, "beta"),
    (Adam, ([_param()],), {"eps": -1e-8}, ValueError, "eps"),
    (Adam, ([_param()],), {"lr": "fast"}, TypeError, "lr"),
    (
        AdaGrad,
        ([_param()],),
        {"lr": 0.1, "initial_accumulator_value": -1},
        ValueError,
        "initial_accumulator_value",
    ),
    (RMSProp, ([_param()],), {"lr": 0.1, "alpha": 1.5}, ValueError, "alpha"),
    # schedules
    (schedules.constant, (-1.0,), {}, ValueError, "lr0"),
    (schedules.step_decay, (0.1, [-10, 5]), {}, ValueError, "milestones"),
    (schedules.step_decay, (0.1, [5]), {"gamma": -0.5}, ValueError, "gamma"),
    (schedules.cosine, (0.1, 0), {}, ValueError, "total_steps"),
    (schedules.cosine, (0.1, 10), {"lr_min": -1.0}, ValueError, "lr_min"),
    (schedules.linear, (0.1, -5), {}, ValueError, "total_steps"),
    (schedules.inverse_sqrt, (np.nan,), {}, ValueError, "lr0"),
    (schedules.warmup, (schedules.constant(0.1), -1), {}, ValueError, "warmup_steps"),
    (schedules.join, ([schedules.constant(0.1)], [5]), {}, ValueError, "boundaries"),
    # qed.nn.init
    (init.xavier_normal_, (Tensor(np.zeros(3)),), {}, ValueError, "2|dimension|fan"),
    (init.he_uniform_, (Tensor(np.zeros((3, 3))),), {"mode": "fan_sideways"}, ValueError, "mode"),
    (init.he_normal_, (Tensor(np.zeros((3, 3))),), {"gain": -1.0}, ValueError, "gain"),
    (init.xavier_uniform_, ("weights",), {}, TypeError, "Tensor|array"),
    # qed.theory
    (theory.smoothness_constant, (X,), {"loss": "hinge"}, ValueError, "loss"),
    (theory.smoothness_constant, (), {}, ValueError, "X|hvp"),
    (theory.smoothness_constant, (np.where(X > 1, np.nan, X),), {}, ValueError, "NaN"),
    (theory.init_variance, (), {"depth": 0}, ValueError, "depth"),
    (theory.init_variance, (), {"init": "orthogonal"}, ValueError, "init"),
    (theory.init_variance, (), {"activation": "gelu"}, ValueError, "activation"),
    (theory.overfitting_curve, (), {"degrees": [-1, 2]}, ValueError, "degree"),
    (theory.sgd_convergence, (), {"T_values": [0, 10]}, ValueError, "T"),
    (theory.descent_lemma_check, (X, np.ones(5)), {"lr": -1.0}, ValueError, "lr"),
    (theory.optimizer_race, (), {"problems": ("himmelblau",)}, ValueError, "problem"),
    # qed.bayes
    (bayes.bernoulli_mle, ([0, 1, 2],), {}, ValueError, "0|1|binary"),
    (bayes.bernoulli_mle, ([],), {}, ValueError, "empty"),
    (bayes.bernoulli_mle, ([0.0, np.nan],), {}, ValueError, "NaN"),
    (bayes.beta_mode, (0.0, 1.0), {}, ValueError, "a"),
]


def _id(case):
    fn, args, kwargs = case[:3]
    return f"{getattr(fn, '__name__', fn)}-{list(kwargs) or len(args)}"


@pytest.mark.parametrize("fn, args, kwargs, exc, match", CASES, ids=[_id(c) for c in CASES])
def test_function_rejects_bad_input(fn, args, kwargs, exc, match):
    with pytest.raises(exc, match=match):
        out = fn(*args, **kwargs)
        if callable(out) and isinstance(out, schedules.Schedule):
            out(0)


BETA_CASES = [
    ({"a": 0.0}, [1, 0], ValueError, "a"),
    ({"b": -1.0}, [1, 0], ValueError, "b"),
    ({"a": "one"}, [1, 0], TypeError, "a"),
    ({}, [1, 0, 2], ValueError, "0|1"),
    ({}, [1.0, np.nan], ValueError, "NaN"),
    ({}, [], ValueError, "empty"),
    ({}, ["h", "t"], (ValueError, TypeError), "0|1|number"),
]


@pytest.mark.parametrize("params, x, exc, match", BETA_CASES)
def test_beta_bernoulli_rejects_bad_input(params, x, exc, match):
    with pytest.raises(exc, match=match):
        bayes.BetaBernoulli(**params).fit(x)


def test_optimizer_step_never_produces_nan_silently():
    """A NaN gradient is the user's problem to see: clip_grad_norm can refuse it by name."""
    from qed.optim import clip_grad_norm

    p = _param()
    p.grad = np.array([np.nan, 1.0, 1.0])
    with pytest.raises((ValueError, RuntimeError), match="non-finite|nan|NaN"):
        clip_grad_norm([p], 1.0, error_if_nonfinite=True)
