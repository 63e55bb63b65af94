"""Neural networks on ``qed.autograd``: modules, layers, batch norm, initialisers, losses and
the scikit-learn estimators ``MLPClassifier`` / ``MLPRegressor``.

The names follow PyTorch (``Module``, ``Sequential``, ``Linear``, ``BatchNorm1d``, …) so that
weights copy across with ``load_state_dict``.
"""

from qed.nn import functional, init
from qed.nn.batchnorm import BatchNorm1d
from qed.nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from qed.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from qed.nn.mlp import MLPClassifier, MLPRegressor
from qed.nn.module import Module, Parameter, Sequential

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "Linear",
    "BatchNorm1d",
    "ReLU",
    "Tanh",
    "Sigmoid",
    "Identity",
    "MLPClassifier",
    "MLPRegressor",
    "CrossEntropyLoss",
    "BCEWithLogitsLoss",
    "MSELoss",
    "functional",
    "init",
]
