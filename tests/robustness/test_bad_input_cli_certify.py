"""Bad input to `qed certify --json/--against`: one `error:` line naming the problem and the fix.

Each row is the command line, and the phrases the one-line error must contain. Nothing may
print a traceback, half a JSON document, or exit 0.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import qed
from qed.cli import app
from qed.linear import Ridge

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad_certify")
    rng = np.random.default_rng(0)
    X = rng.standard_normal((40, 3))
    reg = pd.DataFrame(X, columns=["a", "b", "c"])
    reg["y"] = X @ np.array([1.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(40)
    reg.to_csv(d / "reg.csv", index=False)
    reg.drop(columns="c").to_csv(d / "two.csv", index=False)  # one feature fewer
    reg.assign(d=rng.standard_normal(40)).to_csv(d / "four.csv", index=False)  # one more
    reg.rename(columns={"y": "target"}).to_csv(d / "renamed.csv", index=False)
    clf = reg.assign(y=np.where(reg["y"] > 0, "up", "down"))
    clf.to_csv(d / "clf.csv", index=False)

    def fit(model, data, *settings):
        out = d / f"{model}.qed"
        args = ["fit", model, str(d / data), "-t", "y", "-o", str(out)]
        for s in settings:
            args += ["--set", s]
        assert runner.invoke(app, args).exit_code == 0
        return out

    fit("ridge", "reg.csv")
    fit("mlp", "clf.csv", "hidden_layer_sizes=(3,)", "epochs=2", "random_state=0")
    fit("kernel-ridge", "reg.csv", "solver=falkon", "n_centers=10")
    qed.save(Ridge().fit(X, reg["y"]), d / "python.qed")  # no feature names recorded
    qed.save({"not": "a model"}, d / "dict.qed")
    (d / "text.qed").write_text("hello")
    return d


CASES = [
    # (arguments, phrases the error must name)
    (["{ridge}", "{reg}", "--against", "xgboost"], ["unknown peer", "'xgboost'", "sklearn", "torch"]),
    (["{ridge}", "{reg}", "--json", "--against", "torch"], ["--against torch", "mlp", "'ridge'",
                                                           "--against sklearn"]),
    (["{mlp}", "{clf}", "--against", "sklearn"], ["--against sklearn", "'mlp'",
                                                  "--against torch"]),
    (["{ridge}", "{reg}", "--target", "nope", "--json"], ["target column 'nope'", "'a'"]),
    (["{ridge}", "{renamed}"], ["target column 'y'", "'target'"]),
    (["{ridge}", "{two}", "--against", "sklearn"], ["2 feature columns", "fitted on 3", "'c'"]),
    (["{python}", "{four}", "-t", "y", "--json"], ["4 feature columns", "fitted on 3"]),
    (["{python}", "{two}", "-t", "y", "--against", "sklearn"], ["2 feature columns",
                                                               "fitted on 3"]),
    (["{reg}", "{reg}", "--json"], ["not a qed file"]),
    (["{text}", "{reg}", "--against", "sklearn"], ["not a qed file"]),
    (["{dict}", "{reg}", "--json"], ["holds a dict", "not a fitted qed model"]),
    (["{missing}", "{reg}", "--json"], ["no such file"]),
    (["{ridge}", "{reg}", "--peer-set", "tol=1e-9"], ["--peer-set needs --against sklearn"]),
    (["{ridge}", "{reg}", "--against", "sklearn", "--peer-set", "tol"], ["--peer-set 'tol'",
                                                                         "key=value"]),
    (["{ridge}", "{reg}", "--against", "sklearn", "--peer-set", "lam=1"], ["'lam'", "Ridge",
                                                                           "alpha"]),
    (["{mlp}", "{clf}", "--against", "torch", "--peer-set", "tol=1"], ["--peer-set",
                                                                      "torch"]),
    (["{kernel-ridge}", "{reg}", "--against", "sklearn"], ["FALKON", "solver=cholesky"]),
]  # fmt: skip


@pytest.mark.parametrize("args, needles", CASES, ids=[" ".join(c[0]) for c in CASES])
def test_bad_input_is_one_clear_line(files, args, needles):
    names = {
        "ridge": files / "ridge.qed",
        "mlp": files / "mlp.qed",
        "kernel-ridge": files / "kernel-ridge.qed",
        "python": files / "python.qed",
        "dict": files / "dict.qed",
        "text": files / "text.qed",
        "missing": files / "missing.qed",
        **{k: files / f"{k}.csv" for k in ("reg", "two", "four", "renamed", "clf")},
    }
    result = runner.invoke(app, ["certify", *[a.format(**names) for a in args]])
    assert result.exit_code == 1, result.output
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "Traceback" not in result.output and result.stdout == ""  # no half-printed JSON
    for needle in needles:
        assert needle in err, (needle, err)
