"""Classifiers of the notes: logistic/softmax regression by MLE, the SVM by its dual.

``LogisticRegression`` (Newton/IRLS, L-BFGS, GD, SGD), ``SVC`` (SMO) and ``LinearSVC`` (dual
coordinate descent), each with a ``certificate()`` of its optimality conditions.
"""

from qed.classify.linear_svc import LinearSVC, linear_svc_objective
from qed.classify.logistic import LogisticRegression, logistic_objective
from qed.classify.logistic_cv import LogisticRegressionCV
from qed.classify.svm import SVC

__all__ = [
    "LinearSVC",
    "LogisticRegression",
    "LogisticRegressionCV",
    "SVC",
    "linear_svc_objective",
    "logistic_objective",
]
