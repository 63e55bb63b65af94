"""The `qed` command line, end to end: fit, predict, certify, bench, chapters, errors."""

import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

import qed
from qed.cli import MODELS, app

runner = CliRunner()


@pytest.fixture(scope="module")
def files(tmp_path_factory, write_standard_csvs):
    d = tmp_path_factory.mktemp("cli")
    reg = write_standard_csvs(d)
    bad = reg.copy()
    bad["x3"] = bad["x3"].astype(object)
    bad.loc[5, "x3"] = "high"
    bad.to_csv(d / "text.csv", index=False)
    gap = reg.copy()
    gap.loc[7, "x1"] = np.nan
    gap.to_csv(d / "gap.csv", index=False)
    return d


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def one_line_error(result, *needles):
    """The error contract: exit ≠ 0, one `error:` line naming the problem, no traceback."""
    assert result.exit_code != 0
    err = result.stderr.strip()
    assert err.startswith("error: ") and "\n" not in err, err
    assert "Traceback" not in result.output + result.stderr
    for needle in needles:
        assert needle in err, (needle, err)


def test_fit_linear_saves_a_model_equal_to_scikit_learn(files, tmp_path):
    from sklearn.linear_model import LinearRegression

    out = tmp_path / "lin.qed"
    result = invoke("fit", "linear", files / "reg.csv", "--target", "progression", "--out", out)
    assert result.exit_code == 0, result.output
    assert "R²" in result.stdout and "certificate holds" in result.stdout
    bundle = qed.load(out)
    df = pd.read_csv(files / "reg.csv")
    X, y = df.drop(columns="progression").to_numpy(), df["progression"].to_numpy()
    np.testing.assert_allclose(
        bundle["model"].predict(X), LinearRegression().fit(X, y).predict(X), rtol=1e-10
    )
    assert bundle["target"] == "progression" and bundle["features"] == list(df.columns[:-1])


@pytest.mark.parametrize(
    "model, extra",
    [
        ("ridge", ["--set", "alpha=0.5"]),
        ("kernel-ridge", ["--set", "kernel=rbf", "--set", "alpha=0.1", "--set", "gamma=0.5"]),
        (
            "mlp",
            ["--set", "hidden_layer_sizes=(8,)", "--set", "epochs=3", "--set", "random_state=0"],
        ),
    ],
)
def test_fit_every_regressor(files, tmp_path, model, extra):
    out = tmp_path / f"{model}.qed"
    result = invoke("fit", model, files / "reg.csv", "-t", "progression", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    assert out.exists() and "certificate" in result.stdout
    if model == "ridge":
        assert qed.load(out)["model"].alpha == 0.5


@pytest.mark.parametrize(
    "model, extra",
    [
        ("logistic", []),
        ("svc", ["--set", "C=1.0"]),
        (
            "mlp",
            [
                "--set",
                "hidden_layer_sizes=(8,)",
                "--set",
                "epochs=30",
                "--set",
                "learning_rate=0.01",
                "--set",
                "random_state=0",
            ],
        ),
    ],
)
def test_fit_every_classifier_and_predict(files, tmp_path, model, extra):
    out = tmp_path / f"{model}.qed"
    result = invoke("fit", model, files / "clf.csv", "-t", "diagnosis", "-o", out, *extra)
    assert result.exit_code == 0, result.output
    assert "accuracy" in result.stdout
    pred_file = tmp_path / f"{model}.csv"
    result = invoke("predict", out, files / "clf.csv", "--out", pred_file)
    assert result.exit_code == 0, result.output
    pred = pd.read_csv(pred_file)
    assert len(pred) == 569 and set(pred["prediction"]) <= {"benign", "malignant"}
    if model != "svc":  # probabilities for classifiers that have them
        np.testing.assert_allclose(pred[["proba_benign", "proba_malignant"]].sum(axis=1), 1.0)
    truth = pd.read_csv(files / "clf.csv")["diagnosis"]
    assert (pred["prediction"] == truth).mean() > 0.8


def test_logistic_through_the_cli_matches_scikit_learn(files, tmp_path):
    from sklearn.linear_model import LogisticRegression

    out = tmp_path / "log.qed"
    assert (
        invoke(
            "fit", "logistic", files / "clf.csv", "-t", "diagnosis", "-o", out, "--set", "tol=1e-10"
        ).exit_code
        == 0
    )
    result = invoke("predict", out, files / "clf.csv")  # to stdout
    assert result.exit_code == 0
    from io import StringIO

    pred = pd.read_csv(StringIO(result.stdout))
    df = pd.read_csv(files / "clf.csv")
    sk = LogisticRegression(solver="newton-cholesky", tol=1e-12).fit(
        df.drop(columns="diagnosis"), df["diagnosis"]
    )
    np.testing.assert_allclose(
        pred["proba_malignant"],
        sk.predict_proba(df.drop(columns="diagnosis"))[:, 1],
        rtol=1e-6,
        atol=1e-9,
    )


def test_predict_ignores_the_target_and_needs_the_features(files, tmp_path):
    out = tmp_path / "lin.qed"
    invoke("fit", "linear", files / "reg.csv", "-t", "progression", "-o", out)
    df = pd.read_csv(files / "reg.csv")
    no_target = tmp_path / "no_target.csv"
    df.drop(columns="progression").to_csv(no_target, index=False)
    a = invoke("predict", out, files / "reg.csv")
    b = invoke("predict", out, no_target)
    assert a.exit_code == b.exit_code == 0 and a.stdout == b.stdout
    assert a.stdout.splitlines()[0] == "prediction"
    missing = tmp_path / "missing.csv"
    df.drop(columns=["x4"]).to_csv(missing, index=False)
    one_line_error(invoke("predict", out, missing), "'x4'")


def test_certify_holds_on_training_data_and_fails_elsewhere(files, tmp_path):
    out = tmp_path / "ridge.qed"
    invoke("fit", "ridge", files / "reg.csv", "-t", "progression", "-o", out)
    ok = invoke("certify", out, files / "reg.csv", "--target", "progression")
    assert ok.exit_code == 0 and "holds" in ok.stdout
    df = pd.read_csv(files / "reg.csv")
    df["progression"] = np.random.default_rng(0).permutation(df["progression"].to_numpy())
    other = tmp_path / "shuffled.csv"
    df.to_csv(other, index=False)
    bad = invoke("certify", out, other, "--target", "progression")
    assert bad.exit_code == 1
    assert "FAILS" in bad.stdout and "certificate fails" in bad.stderr
    # the target recorded at fit time is the default
    assert invoke("certify", out, files / "reg.csv").exit_code == 0


def test_certify_a_classifier(files, tmp_path):
    out = tmp_path / "log.qed"
    invoke("fit", "logistic", files / "clf.csv", "-t", "diagnosis", "-o", out)
    assert invoke("certify", out, files / "clf.csv", "-t", "diagnosis").exit_code == 0


def test_a_model_saved_from_python_can_be_used(files, tmp_path):
    from qed.linear import LinearRegression

    df = pd.read_csv(files / "reg.csv")
    X, y = df.drop(columns="progression").to_numpy(), df["progression"].to_numpy()
    path = tmp_path / "py.qed"
    qed.save(LinearRegression().fit(X, y), path)
    assert invoke("predict", path, files / "reg.csv", "--target", "progression").exit_code == 0
    one_line_error(invoke("predict", path, files / "reg.csv"), "--target")
    assert invoke("certify", path, files / "reg.csv", "-t", "progression").exit_code == 0


@pytest.mark.parametrize(
    "args, needles",
    [
        (["fit", "linear", "nope.csv", "-t", "y", "-o", "m.qed"], ["no such file", "nope.csv"]),
        (["fit", "linear", "{reg}", "-t", "nope", "-o", "m.qed"], ["'nope'", "x0"]),
        (["fit", "forest", "{reg}", "-t", "progression", "-o", "m.qed"], ["'forest'", "ridge"]),
        (
            ["fit", "ridge", "{reg}", "-t", "progression", "-o", "m.qed", "--set", "lam=1"],
            ["'lam'", "alpha"],
        ),
        (
            ["fit", "ridge", "{reg}", "-t", "progression", "-o", "m.qed", "--set", "alpha"],
            ["key=value"],
        ),
        (
            ["fit", "linear", "{text}", "-t", "progression", "-o", "m.qed"],
            ["non-numeric", "'x3'", "'high'"],
        ),
        (["fit", "linear", "{gap}", "-t", "progression", "-o", "m.qed"], ["missing", "'x1'"]),
        (
            [
                "fit",
                "logistic",
                "{reg}",
                "-t",
                "progression",
                "-o",
                "m.qed",
                "--task",
                "regression",
            ],
            ["classifier"],
        ),
        (
            ["fit", "ridge", "{reg}", "-t", "progression", "-o", "m.qed", "--set", "alpha=-1"],
            ["alpha"],
        ),
        (["predict", "missing.qed", "{reg}"], ["no such file"]),
        (["predict", "{reg}", "{reg}"], ["not a qed file"]),
        (["certify", "missing.qed", "{reg}", "-t", "progression"], ["no such file"]),
        (["tour", "--chapter", "astrology"], ["astrology"]),
    ],
)
def test_errors_are_one_clear_line(files, tmp_path, monkeypatch, args, needles):
    monkeypatch.chdir(tmp_path)
    names = {"reg": files / "reg.csv", "text": files / "text.csv", "gap": files / "gap.csv"}
    result = invoke(*[a.format(**names) for a in args])
    one_line_error(result, *needles)


def test_every_command_has_help():
    for command in ([], ["fit"], ["predict"], ["certify"], ["tour"], ["bench"], ["chapters"]):
        result = invoke(*command, "--help")
        assert result.exit_code == 0 and "Usage" in result.stdout, command
    assert set(MODELS) == {"linear", "ridge", "kernel-ridge", "logistic", "svc", "mlp"}


def test_version_and_chapters():
    result = invoke("--version")
    assert result.exit_code == 0 and result.stdout.strip() == f"qed {qed.__version__}"
    result = invoke("chapters")
    assert result.exit_code == 0
    for key in ("least_squares", "svm", "optimizers"):
        assert key in result.stdout


def test_bench_collects_rows_and_reports_failures(tmp_path):
    (tmp_path / "bench_fast.py").write_text(
        textwrap.dedent("""
        def run(quick=False):
            return [{"name": "toy", "qed_s": 0.001, "peer_s": 0.004, "ratio": 4.0,
                     "target": 2.0, "quick": quick}]
    """)
    )
    ok = invoke("bench", "--quick", "--dir", tmp_path)
    assert ok.exit_code == 0, ok.output
    assert "toy" in ok.stdout and "4.00×" in ok.stdout and "meets" in ok.stdout
    (tmp_path / "bench_broken.py").write_text(
        "def run(quick=False):\n    raise RuntimeError('x')\n"
    )
    bad = invoke("bench", "--dir", tmp_path)
    assert bad.exit_code == 1 and "toy" in bad.stdout and "bench_broken.py" in bad.stdout
    only = invoke("bench", "--dir", tmp_path, "--only", "fast")
    assert only.exit_code == 0
    one_line_error(invoke("bench", "--dir", tmp_path / "none"), "no benchmarks")


def _run(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "qed.cli", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_as_a_subprocess(files, tmp_path):
    """`python -m qed.cli` (what the `qed` script runs) in a fresh process: fit, then certify
    (loading the file in another process), and an error: exit status 1, no traceback."""
    out = tmp_path / "m.qed"
    fit = _run("fit", "ridge", files / "reg.csv", "-t", "progression", "-o", out, cwd=tmp_path)
    assert fit.returncode == 0, fit.stderr
    cert = _run("certify", out, files / "reg.csv", "-t", "progression", cwd=tmp_path)
    assert cert.returncode == 0 and "holds" in cert.stdout
    err = _run("fit", "ridge", tmp_path / "absent.csv", "-t", "y", "-o", out, cwd=tmp_path)
    assert err.returncode == 1 and err.stderr.startswith("error: no such file")
    assert "Traceback" not in err.stderr
    usage = _run("fit", "ridge", files / "reg.csv", "-o", out, cwd=tmp_path)  # no --target
    assert usage.returncode == 2 and "Traceback" not in usage.stderr
    assert usage.stderr.strip().splitlines() == [
        "error: Missing option '--target' / '-t'. (see `qed fit --help`)"
    ]
