"""``qed fit``, ``qed predict`` and ``qed certify``: models on CSV files."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

import qed
from qed.cli._app import CLIError, app, console, guard
from qed.cli.against import check_peer, compare, model_name, print_comparison, to_json
from qed.cli.data import (
    FILE_FORMAT,
    MODELS,
    certificate,
    feature_matrix,
    guess_task,
    load_bundle,
    make_model,
    parse_settings,
    print_certificate,
    print_metrics,
    read_csv,
    target_column,
)


@app.command()
@guard
def fit(
    model: Annotated[str, typer.Argument(help=f"One of: {', '.join(MODELS)}.")],
    data: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Name of the target column.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to save the model (.qed).")],
    set_: Annotated[
        list[str] | None,
        typer.Option(
            "--set", "-s", help="A model parameter, key=value (repeatable), e.g. alpha=0.5."
        ),
    ] = None,
    task: Annotated[
        str, typer.Option(help="classification, regression, or auto (from the model and target).")
    ] = "auto",
) -> None:
    """Fit MODEL on DATA.csv, print its metrics and certificate, save it.

    All columns but --target are the features. The file written is a qed.save archive.
    """
    if model not in MODELS:
        raise CLIError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if task not in ("auto", "classification", "regression"):
        raise CLIError(f"--task {task!r} is not classification, regression or auto")
    settings = parse_settings(set_ or [])
    frame = read_csv(data)
    if target not in frame.columns:
        raise CLIError(
            f"target column {target!r} not in {data}; it has {', '.join(map(repr, frame.columns))}"
        )
    _, classifier, regressor = MODELS[model]
    if task == "auto":
        task = (
            "classification"
            if regressor is None
            else "regression"
            if classifier is None
            else guess_task(frame, target)
        )
    features = [c for c in frame.columns if c != target]
    X = feature_matrix(frame, features, data)
    y = target_column(frame, target, data, task)
    estimator = make_model(model, task, settings)
    with console.status(f"fitting {type(estimator).__name__} on {X.shape[0]} × {X.shape[1]}"):
        estimator.fit(X, y)
    console.print(
        f"[bold]{estimator!r}[/] fitted on {data} "
        f"({X.shape[0]} samples, {X.shape[1]} features, target {target!r}, {task})"
    )
    print_metrics(estimator, X, y, task)
    cert, _ = certificate(estimator, X, y)
    print_certificate(cert)
    qed.save(
        {
            "format": FILE_FORMAT,
            "model": estimator,
            "features": features,
            "target": target,
            "task": task,
            "model_name": model,
        },
        out,
    )
    console.print(f"saved to {out}")


@app.command()
@guard
def predict(
    model_file: Annotated[Path, typer.Argument(help="A model saved by `qed fit` (or qed.save).")],
    data: Annotated[Path, typer.Argument(help="CSV with the model's feature columns.")],
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Write here (default: stdout).")
    ] = None,
    target: Annotated[
        str | None,
        typer.Option(
            "--target", "-t", help="A column to ignore (default: the target used by `qed fit`)."
        ),
    ] = None,
) -> None:
    """Predict every row of DATA.csv with a saved model.

    Writes a `prediction` column, and one probability column per class for classifiers.
    The target column is ignored if present.
    """
    bundle = load_bundle(model_file)
    model = bundle["model"]
    frame = read_csv(data)
    features = bundle["features"]
    if features is None:  # a model saved from Python on a plain array: all columns but target
        ignore = target or bundle.get("target")
        features = [c for c in frame.columns if c != ignore]
        n_in = getattr(model, "n_features_in_", len(features))
        if len(features) != n_in:
            raise CLIError(
                f"{data} has {len(features)} feature columns but the model expects "
                f"{n_in}; pass --target COL to name a column to ignore"
            )
    X = feature_matrix(frame, list(features), data)
    import pandas as pd

    result = pd.DataFrame({"prediction": model.predict(X)})
    if bundle.get("task") == "classification" and hasattr(model, "predict_proba"):
        proba = model.predict_proba(X)
        for k, cls in enumerate(model.classes_):
            result[f"proba_{cls}"] = proba[:, k]
    if out is None:
        sys.stdout.write(result.to_csv(index=False))
    else:
        result.to_csv(out, index=False)
        console.print(f"wrote {len(result)} predictions to {out}")


def _paragraphs(text: str) -> str:
    """Help text with each paragraph on one line (typer keeps a docstring's line breaks)."""
    return "\n\n".join(" ".join(p.split()) for p in text.strip().split("\n\n"))


CERTIFY_HELP = _paragraphs(
    """
    Check a saved model's optimality conditions on DATA.csv (exit 0 iff they hold).

    Nothing is refitted: the certificate (conditions and error bounds) is evaluated on the
    given data; on failure the failing conditions are listed and the exit status is 1.

    --against sklearn fits scikit-learn's estimator on the same data with the model's
    hyperparameters (scikit-learn's defaults otherwise; change them with --peer-set) and
    shows both objectives, qed's certificate applied to scikit-learn's solution, and the
    differences of objective, coefficients and predictions. --against torch rebuilds an
    MLP in PyTorch (float64) with the same weights and compares loss and gradient norm.
    The exit status is that of qed's own certificate.
    """
)


@app.command(help=CERTIFY_HELP)
@guard
def certify(
    model_file: Annotated[Path, typer.Argument(help="A model saved by `qed fit` (or qed.save).")],
    data: Annotated[Path, typer.Argument(help="CSV with the features and the target.")],
    target: Annotated[
        str | None,
        typer.Option("--target", "-t", help="Target column (default: the one used by `qed fit`)."),
    ] = None,
    json_: Annotated[
        bool,
        typer.Option(
            "--json",
            help='Print JSON on stdout instead of tables (non-finite numbers as "inf", '
            '"-inf", "nan").',
        ),
    ] = False,
    against: Annotated[
        str | None,
        typer.Option(
            "--against",
            help="Compare with a peer: sklearn (linear, ridge, kernel-ridge, logistic, svc) or "
            "torch (mlp).",
        ),
    ] = None,
    peer_set: Annotated[
        list[str] | None,
        typer.Option(
            "--peer-set",
            help="A parameter of scikit-learn's peer, key=value (repeatable), e.g. tol=1e-12.",
        ),
    ] = None,
) -> None:
    """Check a saved model's optimality conditions on DATA.csv; see ``CERTIFY_HELP``."""
    settings = parse_settings(peer_set or [], option="--peer-set")
    if settings and against is None:
        raise CLIError("--peer-set needs --against sklearn")
    bundle = load_bundle(model_file)
    model = bundle["model"]
    name = model_name(model, bundle)
    if against is not None:
        check_peer(against, name, model)
    target = target or bundle.get("target")
    if target is None:
        raise CLIError("pass --target: the file does not record the target column")
    frame = read_csv(data)
    y = target_column(frame, target, data, bundle.get("task", "regression"))
    X = feature_matrix(frame, model_features(bundle, frame, target, data), data)
    if against is not None:
        result, cert, peer_cert = compare(against, name, model, X, y, settings)
        if json_:
            sys.stdout.write(to_json(result) + "\n")
        else:
            print_comparison(result, cert, peer_cert)
    else:
        cert, on_data = certificate(model, X, y)
        if not on_data:
            typer.echo(
                f"note: {type(model).__name__}.certificate() takes no data; "
                "showing the conditions measured at fit time",
                err=json_,
            )
        if json_:
            sys.stdout.write(to_json(cert.to_dict()) + "\n")
        else:
            print_certificate(cert)
    if not cert.holds:
        names = ", ".join(c.name for c in cert.failing())
        typer.echo(f"certificate fails on {data}: {names}", err=True)
        raise typer.Exit(1)


def model_features(bundle: dict, frame: Any, target: str, data: Path) -> list[str]:
    """The model's feature columns in ``frame``, or a clear error naming both counts."""
    n_in = getattr(bundle["model"], "n_features_in_", None)
    features = bundle["features"]
    columns = [c for c in frame.columns if c != target]
    if features is None:  # saved from Python on a plain array: all columns but the target
        if n_in is not None and len(columns) != n_in:
            raise CLIError(
                f"{data} has {len(columns)} feature columns besides the target {target!r}, but "
                f"the model was fitted on {n_in} features"
            )
        return columns
    missing = [c for c in features if c not in frame.columns]
    if missing:
        raise CLIError(
            f"{data} has {len(columns)} feature columns besides the target {target!r}, but the "
            f"model was fitted on {len(features)}; missing: {', '.join(map(repr, missing))}"
        )
    return list(features)
