"""Classifiers of the notes: logistic/softmax regression by MLE, the SVM by its dual.

``LogisticRegression`` (Newton/IRLS, L-BFGS, GD, SGD) and ``SVC`` (SMO), each with a
``certificate()`` of its optimality conditions.
"""

from qed.classify.logistic import LogisticRegression, logistic_objective
from qed.classify.logistic_cv import LogisticRegressionCV
from qed.classify.svm import SVC

__all__ = ["LogisticRegression", "LogisticRegressionCV", "SVC", "logistic_objective"]
