"""scikit-learn's estimator contract for the SVC options of issue 14.

``parametrize_with_checks`` over SVC with Platt probabilities, class weights, a precomputed
kernel (scikit-learn passes Gram matrices to a ``pairwise`` estimator) and the sigmoid kernel.
The array-API check is left out as in test_classify_estimator_checks.py (numpy only).
``check_sample_weight_equivalence_on_dense_data`` (an integer weight = repeating the sample)
is left out for three of them, where it is not the mathematics: Platt's folds are drawn over
the rows, so repeated rows change the folds; "balanced" weights count rows, so repeating rows
changes them (scikit-learn's rule, which qed follows); the sigmoid kernel is not positive
semi-definite, so the dual is not convex and the two problems may stop at different
stationary points. scikit-learn marks this check as an expected failure for its own SVC. The
equivalence that does hold (a convex kernel, fixed weights) is tested in
test_classify_svc_features.py::test_integer_weight_equals_repeating_the_sample, and SVC() and
SVC(kernel="linear") pass this check in test_classify_estimator_checks.py.
"""

import pytest
from sklearn.utils.estimator_checks import (
    check_sample_weight_equivalence_on_dense_data,
    estimator_checks_generator,
)

from qed.classify import SVC

ESTIMATORS = [
    SVC(probability=True, random_state=0),
    SVC(class_weight="balanced"),
    SVC(kernel="precomputed"),
    SVC(kernel="sigmoid", gamma=0.1, coef0=0.0),
]
CHECKS = [
    pytest.param(est, check, id=f"{est!r}-{getattr(check, 'func', check).__name__}")
    for est in ESTIMATORS
    for est, check in estimator_checks_generator(est, legacy=True)
    if getattr(check, "func", check).__name__ != "check_array_api_input"
    and not (
        getattr(check, "func", check).__name__ == "check_sample_weight_equivalence_on_dense_data"
        and est.kernel != "precomputed"
    )
]


@pytest.mark.parametrize("estimator,check", CHECKS)
def test_sklearn_estimator_contract(estimator, check):
    check(estimator)


@pytest.mark.parametrize(
    "estimator",
    [
        SVC(kernel="linear", C=10.0, tol=1e-12),
        SVC(gamma=0.5, tol=1e-12),
        SVC(kernel="poly", gamma=0.2, tol=1e-12),
    ],
)
def test_integer_weights_equal_repeated_rows_at_a_tight_tol(estimator):
    """The check scikit-learn expects its own SVC to fail passes for qed's once the solver's
    tol is tight and gamma does not count rows (gamma="scale" is 1/(d·Var X) over the rows,
    as in scikit-learn, so repeating rows changes it)."""
    check_sample_weight_equivalence_on_dense_data("SVC", estimator)
