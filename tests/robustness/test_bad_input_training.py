"""Issue 15's bad input for schedulers, optimizers and the MLP trainer → a clear error.

Each row names the call, the error type and a regex the message must match (the problem and,
where there is one, the fix). Nothing may crash inside numpy, return NaN, or train silently on
a wrong setting.
"""

from __future__ import annotations

import numpy as np
import pytest

from qed.autograd import Tensor
from qed.nn import MLPClassifier, MLPRegressor
from qed.optim import SGD, AdaGrad, Adam, NAdam, schedules
from qed.optim import lr_scheduler as L

RNG = np.random.default_rng(0)
X = RNG.standard_normal((40, 3))
Y = (X[:, 0] > 0).astype(int)


def _opt(**kw):
    return SGD([Tensor(np.zeros(3), requires_grad=True)], lr=0.1, **kw)


def _plateau_step_without_metric():
    L.ReduceLROnPlateau(_opt()).step()


def _plateau_step_with_nan():
    L.ReduceLROnPlateau(_opt()).step(float("nan"))


def _plateau_step_with_text():
    L.ReduceLROnPlateau(_opt()).step("low")


def _sequential_plateau_without_metric():
    o = _opt()
    s = L.SequentialLR(o, [L.ExponentialLR(o, 0.9), L.ReduceLROnPlateau(o)], [1])
    s.step(1.0)
    s.step()


def _unbound_step():
    L.ExponentialLR(gamma=0.5).step()


def _one_cycle_past_the_end():
    s = L.OneCycleLR(_opt(momentum=0.9), 0.1, total_steps=3)
    for _ in range(4):
        s.step()


def _one_cycle_without_momentum():
    L.OneCycleLR(AdaGrad([Tensor(np.zeros(3))], lr=0.1), 0.1, total_steps=10)


def _sequential_other_optimizer():
    L.SequentialLR(_opt(), [L.ExponentialLR(_opt(), 0.9), L.ExponentialLR(_opt(), 0.5)], [2])


def _partial_fit_first_call_without_classes():
    MLPClassifier((4,)).partial_fit(X, Y)


def _partial_fit_classes_change():
    m = MLPClassifier((4,)).partial_fit(X, Y, classes=[0, 1])
    m.partial_fit(X, Y, classes=[0, 1, 2])


def _partial_fit_unknown_label():
    m = MLPClassifier((4,)).partial_fit(X, Y, classes=[0, 1])
    m.partial_fit(X, Y + 1)


def _partial_fit_balanced():
    MLPClassifier((4,), class_weight="balanced").partial_fit(X, Y, classes=[0, 1])


def _partial_fit_early_stopping():
    MLPRegressor((4,), early_stopping=True).partial_fit(X, X[:, 0])


def _early_stopping_too_few_samples():
    MLPRegressor((4,), early_stopping=True, validation_fraction=0.1).fit(X[:10], X[:10, 0])


def _early_stopping_rare_class():
    y = np.zeros(40, dtype=int)
    y[0] = 1
    MLPClassifier((4,), early_stopping=True).fit(X, y)


def _bound_scheduler_as_schedule():
    MLPClassifier((4,), schedule=L.ExponentialLR(_opt(), 0.9)).fit(X, Y)


def _bad_validation_fraction():
    MLPClassifier((4,), early_stopping=True, validation_fraction=1.0).fit(X, Y)


def _bad_n_iter_no_change():
    MLPClassifier((4,), n_iter_no_change=0).fit(X, Y)


def _negative_sample_weight():
    MLPClassifier((4,), epochs=1).fit(X, Y, sample_weight=-np.ones(40))


def _zero_sample_weight():
    MLPClassifier((4,), epochs=1).fit(X, Y, sample_weight=np.zeros(40))


def _class_weight_unknown_label():
    MLPClassifier((4,), epochs=1, class_weight={5: 2.0}).fit(X, Y)


CASES = {
    "plateau step() without a metric": (_plateau_step_without_metric, ValueError, "metric"),
    "plateau step(NaN)": (_plateau_step_with_nan, ValueError, "NaN"),
    "plateau step('low')": (_plateau_step_with_text, TypeError, "number"),
    "SequentialLR plateau without metric": (
        _sequential_plateau_without_metric,
        ValueError,
        "metric",
    ),
    "unbound scheduler step()": (_unbound_step, ValueError, "bind"),
    "OneCycleLR past total_steps": (_one_cycle_past_the_end, ValueError, "total_steps"),
    "OneCycleLR cycle_momentum without momentum": (
        _one_cycle_without_momentum,
        ValueError,
        "cycle_momentum=False",
    ),
    "SequentialLR schedulers of another optimizer": (
        _sequential_other_optimizer,
        ValueError,
        "another optimizer",
    ),
    "ExponentialLR gamma=0": (lambda: L.ExponentialLR(_opt(), 0.0), ValueError, "gamma"),
    "ReduceLROnPlateau factor=1": (
        lambda: L.ReduceLROnPlateau(_opt(), factor=1.0),
        ValueError,
        "factor",
    ),
    "ReduceLROnPlateau mode='up'": (
        lambda: L.ReduceLROnPlateau(_opt(), mode="up"),
        ValueError,
        "mode",
    ),
    "ReduceLROnPlateau min_lr per group": (
        lambda: L.ReduceLROnPlateau(_opt(), min_lr=[0.0, 0.1]),
        ValueError,
        "min_lr",
    ),
    "CosineAnnealingWarmRestarts T_0=0": (
        lambda: L.CosineAnnealingWarmRestarts(_opt(), T_0=0),
        ValueError,
        "T_0",
    ),
    "OneCycleLR without total_steps": (
        lambda: L.OneCycleLR(_opt(), 0.1),
        ValueError,
        "total_steps",
    ),
    "OneCycleLR anneal 'exp'": (
        lambda: L.OneCycleLR(_opt(), 0.1, 10, anneal_strategy="exp"),
        ValueError,
        "anneal_strategy",
    ),
    "LRScheduler without a schedule": (lambda: L.LRScheduler(_opt(), 0.1), TypeError, "schedule"),
    "scheduler on a schedule lr": (
        lambda: L.ExponentialLR(SGD([Tensor(np.zeros(2))], lr=schedules.cosine(0.1, 9)), 0.9),
        TypeError,
        "already a schedule",
    ),
    "scheduler on a non-optimizer": (
        lambda: L.ExponentialLR(object(), 0.9),
        TypeError,
        "optimizer",
    ),
    "NAdam momentum_decay < 0": (
        lambda: NAdam([Tensor(np.zeros(2))], momentum_decay=-1.0),
        ValueError,
        "momentum_decay",
    ),
    "Adam unknown group key": (
        lambda: Adam([{"params": [Tensor(np.zeros(2))], "amsgrd": True}]),
        ValueError,
        "amsgrd",
    ),
    "partial_fit first call without classes": (
        _partial_fit_first_call_without_classes,
        ValueError,
        "classes must be passed",
    ),
    "partial_fit whose classes change": (_partial_fit_classes_change, ValueError, "cannot change"),
    "partial_fit label outside classes": (_partial_fit_unknown_label, ValueError, "not in classes"),
    "partial_fit with class_weight='balanced'": (_partial_fit_balanced, ValueError, "balanced"),
    "partial_fit with early_stopping": (_partial_fit_early_stopping, ValueError, "early_stopping"),
    "early stopping, too few samples": (
        _early_stopping_too_few_samples,
        ValueError,
        "validation_fraction",
    ),
    "early stopping, a class of one sample": (_early_stopping_rare_class, ValueError, "rarest"),
    "a bound scheduler as schedule": (_bound_scheduler_as_schedule, ValueError, "unbound"),
    "validation_fraction=1": (_bad_validation_fraction, ValueError, "validation_fraction"),
    "n_iter_no_change=0": (_bad_n_iter_no_change, ValueError, "n_iter_no_change"),
    "negative sample_weight": (_negative_sample_weight, ValueError, "sample_weight"),
    "all-zero sample_weight": (_zero_sample_weight, ValueError, "zero"),
    "class_weight of an unknown label": (_class_weight_unknown_label, ValueError, "5"),
    "dropout=1": (lambda: MLPClassifier((4,), dropout=1.0).fit(X, Y), ValueError, "dropout"),
    "batch_norm and layer_norm": (
        lambda: MLPClassifier((4,), batch_norm=True, layer_norm=True).fit(X, Y),
        ValueError,
        "choose one",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_a_clear_error(case):
    call, error, match = CASES[case]
    with pytest.raises(error, match=match):
        call()
