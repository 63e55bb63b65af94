"""Optimizers and learning-rate schedules of the notes (GD, momentum, Nesterov, AdaGrad,
RMSProp, Adam; the learning-rate decays).

- :mod:`qed.optim.rules` — pure ``(init, update)`` rules written as the notes write them;
- ``SGD``, ``AdaGrad``, ``RMSProp``, ``Adam``, ``AdamW``, ``NAdam`` — PyTorch-style stateful
  shells;
- :mod:`qed.optim.schedules` — ``step -> lr`` schedules, usable as any optimizer's ``lr``;
- :mod:`qed.optim.lr_scheduler` — scheduler objects with ``step()`` (``ReduceLROnPlateau``,
  ``OneCycleLR``, ``SequentialLR``, …), torch's API;
- ``clip_grad_norm`` — clip gradients by their global norm.
"""

from qed.optim import lr_scheduler, rules, schedules
from qed.optim.clip import clip_grad_norm, clip_grad_norm_
from qed.optim.optimizers import (
    SGD,
    AdaGrad,
    Adagrad,
    Adam,
    AdamW,
    NAdam,
    Optimizer,
    RMSProp,
    RMSprop,
)
from qed.optim.schedules import (
    constant,
    cosine,
    inverse_sqrt,
    join,
    linear,
    plot_schedules,
    step_decay,
    warmup,
)

# Name -> class, for estimators whose ``optimizer`` hyperparameter is a string.
OPTIMIZERS = {
    "sgd": SGD,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
    "adamw": AdamW,
    "nadam": NAdam,
}

__all__ = [
    "OPTIMIZERS",
    "Optimizer",
    "SGD",
    "AdaGrad",
    "Adagrad",
    "RMSProp",
    "RMSprop",
    "Adam",
    "AdamW",
    "NAdam",
    "clip_grad_norm",
    "clip_grad_norm_",
    "rules",
    "schedules",
    "lr_scheduler",
    "constant",
    "step_decay",
    "cosine",
    "linear",
    "inverse_sqrt",
    "warmup",
    "join",
    "plot_schedules",
]
