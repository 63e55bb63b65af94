"""Bundled real data sets and synthetic generators.

Real data (``data/LICENSE.txt`` names their sources and licences): ``load_iris``,
``load_breast_cancer``, ``load_diabetes``, ``load_digits``. Generators: ``make_regression``,
``make_polynomial_data`` (the notes' overfitting demo), ``make_separable`` (linearly
separable classes with a known margin, for the hard-margin SVM), ``make_classification``.
"""

from qed.datasets.generators import (
    make_classification,
    make_polynomial_data,
    make_regression,
    make_separable,
)
from qed.datasets.loaders import (
    Bunch,
    load_breast_cancer,
    load_diabetes,
    load_digits,
    load_iris,
)
from qed.datasets.stream import iter_csv

__all__ = [
    "Bunch",
    "load_iris",
    "load_breast_cancer",
    "load_diabetes",
    "load_digits",
    "make_regression",
    "make_polynomial_data",
    "make_separable",
    "make_classification",
    "iter_csv",
]
