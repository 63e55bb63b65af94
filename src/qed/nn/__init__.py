"""Neural networks on ``qed.autograd``: modules, layers, batch norm, initialisers, losses and
the scikit-learn estimators ``MLPClassifier`` / ``MLPRegressor``.

The names follow PyTorch (``Module``, ``Sequential``, ``Linear``, ``BatchNorm1d``, …) so that
weights copy across with ``load_state_dict``.
"""

from qed.nn import functional, init
from qed.nn.activations import ELU, GELU, LeakyReLU, LogSoftmax, Softmax, Softplus
from qed.nn.batchnorm import BatchNorm1d
from qed.nn.container import ModuleList
from qed.nn.dropout import Dropout
from qed.nn.layers import Identity, Linear, ReLU, Sigmoid, Tanh
from qed.nn.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from qed.nn.mlp import MLPClassifier, MLPRegressor
from qed.nn.module import Module, Parameter, Sequential
from qed.nn.normalization import LayerNorm

__all__ = [
    "Module",
    "Parameter",
    "Sequential",
    "ModuleList",
    "Linear",
    "BatchNorm1d",
    "LayerNorm",
    "Dropout",
    "GELU",
    "LeakyReLU",
    "ELU",
    "Softplus",
    "Softmax",
    "LogSoftmax",
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
