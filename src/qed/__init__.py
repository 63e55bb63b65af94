"""qed: the machine-learning fundamentals of the lecture notes, exact, fast and certified.

Subpackages mirror the chapters of the notes: ``qed.linear``, ``qed.bayes``, ``qed.info``,
``qed.classify``, ``qed.autograd``, ``qed.nn``, ``qed.optim``, ``qed.theory``.
"""

from qed.certificate import Certificate
from qed.persist import load, save

__version__ = "0.1.0"

__all__ = ["__version__", "save", "load", "Certificate"]
