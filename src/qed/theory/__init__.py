"""The theory lab: the notes' derivations as experiments that return data.

- :func:`smoothness_constant` — β of the mean squared (2·λ_max(XᵀX)/n) or logistic
  (λ_max(XᵀX)/(4n)) loss, or of any Hessian-vector product;
  and of a network's loss (``smoothness_constant(model, X, y, loss=...)``, power iteration on
  Hessian-vector products);
- :func:`descent_lemma_check` — f(x_{t+1}) ≤ f(x_t) − (η − βη²/2)‖∇f(x_t)‖² along a GD run
  (of a matrix problem or of a network);
- :func:`extreme_eigenvalues` — λ_min and λ_max of a Hessian by Lanczos on a fixed budget of
  Hessian-vector products (the second-order check of a network's certificate);
- :func:`sharpness_along_training` — λ_max(∇²f) along full-batch GD of a network against 2/η;
- :func:`sgd_convergence` / :func:`gd_convergence` — min E‖∇f‖² = O(1/√T) for SGD with
  η = 1/√T, O(1/T) for GD;
- :func:`init_variance` — E[h²] through depth under Xavier and He (½·D_in·σ²·S per ReLU);
- :func:`overfitting_curve` — train vs test error of polynomial fits, with and without ridge;
- :func:`optimizer_race` — GD, momentum, Nesterov, AdaGrad, RMSProp, Adam (± schedules) on an
  ill-conditioned quadratic and Rosenbrock.

Each returns numbers and arrays; ``plot=True`` (or :mod:`qed.theory.plotting`) adds a
matplotlib figure.
"""

from qed.theory.convergence import (
    gd_convergence,
    least_squares_problem,
    loglog_slope,
    sgd_convergence,
)
from qed.theory.curvature import LanczosEstimate, extreme_eigenvalues
from qed.theory.experiments import (
    init_std,
    init_variance,
    overfitting_curve,
    polynomial_design,
    predicted_variance,
)
from qed.theory.race import optimizer_race, race_problem
from qed.theory.sharpness import sharpness_along_training, top_eigenvalue
from qed.theory.smoothness import (
    descent_lemma_check,
    largest_eigenvalue,
    loss_and_gradient,
    smoothness_constant,
)

__all__ = [
    "smoothness_constant",
    "largest_eigenvalue",
    "loss_and_gradient",
    "descent_lemma_check",
    "extreme_eigenvalues",
    "LanczosEstimate",
    "sharpness_along_training",
    "top_eigenvalue",
    "sgd_convergence",
    "gd_convergence",
    "least_squares_problem",
    "loglog_slope",
    "init_std",
    "init_variance",
    "predicted_variance",
    "overfitting_curve",
    "polynomial_design",
    "optimizer_race",
    "race_problem",
]
