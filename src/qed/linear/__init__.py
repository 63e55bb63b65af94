"""Linear models of the notes: least squares, ridge, polynomial features, kernel ridge.

``LinearRegression`` (the normal equations XᵀXβ = Xᵀy, OLS as the Gaussian MLE),
``Ridge`` ((XᵀX + λI)β = Xᵀy, primal and dual), ``PolynomialFeatures`` (the overfitting
design [1 x … x^m]) and ``KernelRidge`` (α = (K + λI)⁻¹y, f(x) = K(x, X)α); ``RidgeCV`` and
``KernelRidgeCV`` choose λ by exact leave-one-out from one factorisation.
"""

from qed.linear._checks import IllConditionedWarning, RankDeficiencyWarning
from qed.linear.kernel_ridge import KernelRidge
from qed.linear.kernel_ridge_cv import KernelRidgeCV
from qed.linear.ordinary import LinearRegression
from qed.linear.polynomial import PolynomialFeatures
from qed.linear.ridge import Ridge
from qed.linear.ridge_cv import RidgeCV

__all__ = [
    "LinearRegression",
    "Ridge",
    "RidgeCV",
    "PolynomialFeatures",
    "KernelRidge",
    "KernelRidgeCV",
    "RankDeficiencyWarning",
    "IllConditionedWarning",
]
