"""Shared CSV files of the command-line tests: the bundled diabetes (regression) and breast
cancer (two named classes, four standardised columns) data, written once per module."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from qed.datasets import load_breast_cancer, load_diabetes


def _write_standard_csvs(d) -> pd.DataFrame:
    """Write ``reg.csv`` (target "progression") and ``clf.csv`` (target "diagnosis") into the
    folder ``d``; returns the regression frame for variants."""
    X, y = load_diabetes(return_X_y=True)
    reg = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    reg["progression"] = y
    reg.to_csv(d / "reg.csv", index=False)
    Xb, yb = load_breast_cancer(return_X_y=True)
    Xb = (Xb[:, :4] - Xb[:, :4].mean(0)) / Xb[:, :4].std(0)
    clf = pd.DataFrame(Xb, columns=["radius", "texture", "perimeter", "area"])
    clf["diagnosis"] = np.where(yb == 1, "benign", "malignant")
    clf.to_csv(d / "clf.csv", index=False)
    return reg


@pytest.fixture(scope="session")
def write_standard_csvs():
    """The writer above, as a fixture for the modules' own ``files`` fixtures."""
    return _write_standard_csvs
