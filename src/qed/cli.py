"""The ``qed`` command line: the tour, fitting and certifying models on CSV files, benchmarks.

    qed tour [--out DIR]                                   every chapter of the notes → HTML
    qed fit MODEL DATA.csv --target COL [--set k=v] --out FILE.qed
    qed predict FILE.qed DATA.csv [--out PRED.csv]
    qed certify FILE.qed DATA.csv --target COL            exit 0 iff the certificate holds
    qed bench [--quick]                                    qed vs its peers, ratio table
    qed chapters | qed --version

Every failure the user can cause (a missing file, an unknown column, model or parameter,
non-numeric data) prints one line ``error: …`` naming the problem, and exits with status 1.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import os
import sys
from pathlib import Path
from typing import Annotated, Any

os.environ.setdefault("MPLBACKEND", "Agg")  # the CLI only ever writes figures to files

import numpy as np  # noqa: E402
import typer  # noqa: E402
from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

import qed  # noqa: E402

__all__ = ["app", "main", "MODELS"]

app = typer.Typer(
    name="qed",
    help="qed: the machine-learning fundamentals of the lecture notes — exact, fast, certified.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
console = Console(highlight=False)

# MODEL name -> (module, class for classification or None, class for regression or None)
MODELS: dict[str, tuple[str, str | None, str | None]] = {
    "linear": ("qed.linear", None, "LinearRegression"),
    "ridge": ("qed.linear", None, "Ridge"),
    "kernel-ridge": ("qed.linear", None, "KernelRidge"),
    "logistic": ("qed.classify", "LogisticRegression", None),
    "svc": ("qed.classify", "SVC", None),
    "mlp": ("qed.nn", "MLPClassifier", "MLPRegressor"),
}
_FILE_FORMAT = "qed-cli-model"


class CLIError(Exception):
    """A problem the user can fix; shown as one line, no traceback."""


def _fail(message: str) -> None:
    typer.echo("error: " + " ".join(str(message).split()), err=True)
    raise typer.Exit(1)


def _guard(func):
    """Run a command, turning the user's errors into one clear line and exit status 1."""
    import functools

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CLIError as exc:
            _fail(str(exc))
        except FileNotFoundError as exc:
            _fail(f"no such file: {exc.filename or exc}")
        except (ValueError, TypeError, KeyError, OSError) as exc:
            _fail(f"{exc}" if not isinstance(exc, KeyError) else f"missing key {exc}")
        except KeyboardInterrupt:
            _fail("interrupted")

    return wrapper


def _version_callback(value: bool) -> None:
    if value:
        typer.echo(f"qed {qed.__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[bool, typer.Option(
        "--version", callback=_version_callback, is_eager=True, help="Print the version.")] = False,
) -> None:
    """qed: the machine-learning fundamentals of the lecture notes — exact, fast, certified."""


# --------------------------------------------------------------------------- data helpers
def _read_csv(path: Path) -> Any:
    import pandas as pd

    if not path.exists():
        raise CLIError(f"no such file: {path}")
    if path.is_dir():
        raise CLIError(f"{path} is a folder, not a CSV file")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise CLIError(f"cannot read {path} as CSV: {str(exc).strip()}") from exc
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise CLIError(f"{path} has no data rows")
    frame.columns = [str(c) for c in frame.columns]
    return frame


def _features(frame: Any, columns: list[str], path: Path) -> np.ndarray:
    """The named columns as a float matrix, refusing text and missing values clearly."""
    import pandas as pd

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CLIError(f"column(s) {', '.join(map(repr, missing))} not in {path}; "
                       f"it has {', '.join(map(repr, frame.columns))}")
    if not columns:
        raise CLIError(f"{path} has no feature columns besides the target")
    bad = [c for c in columns if not pd.api.types.is_numeric_dtype(frame[c])
           or pd.api.types.is_bool_dtype(frame[c])]
    if bad:
        c = bad[0]
        failing = frame[c][pd.to_numeric(frame[c], errors="coerce").isna() & frame[c].notna()]
        first = failing.iloc[0] if len(failing) else frame[c].iloc[0]
        raise CLIError(f"non-numeric feature column(s) {', '.join(map(repr, bad))} in {path} "
                       f"(e.g. {first!r} in {c!r}); qed fits numbers only: encode or drop them")
    X = frame[columns].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(X)):
        cols = [c for c in columns if not np.all(np.isfinite(frame[c].to_numpy(dtype=float)))]
        raise CLIError(f"missing or infinite values in column(s) {', '.join(map(repr, cols))} "
                       f"of {path}; drop or impute those rows first")
    return X


def _target(frame: Any, target: str, path: Path, task: str) -> np.ndarray:
    import pandas as pd

    if target not in frame.columns:
        raise CLIError(f"target column {target!r} not in {path}; "
                       f"it has {', '.join(map(repr, frame.columns))}")
    col = frame[target]
    if col.isna().any():
        raise CLIError(f"target column {target!r} of {path} has missing values")
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise CLIError(f"target column {target!r} of {path} is not numeric; "
                           "a regression model needs numbers (or use a classifier)")
        return col.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy()
        if np.issubdtype(values.dtype, np.floating) and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        return values
    return col.astype(str).to_numpy(dtype=str)  # a fixed-width str array: saveable, no pickle


def _guess_task(frame: Any, target: str) -> str:
    import pandas as pd

    col = frame[target]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return "classification"
    values = col.to_numpy(dtype=float)
    if np.all(values == np.round(values)) and np.unique(values).size <= max(2, min(20, len(col) // 5)):
        return "classification"
    return "regression"


def _parse_value(text: str) -> Any:
    low = text.strip().lower()
    if low in ("inf", "+inf", "infinity"):
        return float("inf")
    if low == "nan":
        return float("nan")
    if low in ("true", "false", "none"):
        return {"true": True, "false": False, "none": None}[low]
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text  # a bare word: a string option such as kernel=rbf


def _parse_settings(settings: list[str]) -> dict[str, Any]:
    out = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise CLIError(f"--set {item!r} is not key=value (e.g. --set alpha=0.5)")
        out[key.strip()] = _parse_value(value.strip())
    return out


def _make_model(name: str, task: str, settings: dict[str, Any]) -> Any:
    if name not in MODELS:
        raise CLIError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    module, classifier, regressor = MODELS[name]
    cls_name = classifier if task == "classification" else regressor
    if cls_name is None:
        kind = "classifier" if classifier else "regressor"
        raise CLIError(f"model {name!r} is a {kind}; it cannot do {task}")
    try:
        cls = getattr(importlib.import_module(module), cls_name)
    except (ImportError, AttributeError) as exc:
        raise CLIError(f"model {name!r} ({module}.{cls_name}) is not available: {exc}") from exc
    model = cls()
    valid = model.get_params(deep=False)
    unknown = [k for k in settings if k not in valid]
    if unknown:
        raise CLIError(f"unknown parameter(s) {', '.join(map(repr, unknown))} for {cls_name}; "
                       f"it takes {', '.join(sorted(valid))}")
    return model.set_params(**settings)


def _certificate(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, bool]:
    """``model.certificate(X, y)`` when it takes data, else ``model.certificate()``;
    returns (certificate, whether it was measured on the given data)."""
    method = getattr(model, "certificate", None)
    if method is None:
        raise CLIError(f"{type(model).__name__} has no certificate() method")
    params = [p for p in inspect.signature(method).parameters.values()
              if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    if len(params) >= 2:
        return method(X, y), True
    return method(), False


def _print_certificate(cert: Any) -> None:
    table = Table(title=f"certificate: {cert.model}", title_justify="left")
    for col in ("", "condition", "measured", "tolerance", "meaning"):
        table.add_column(col)
    for c in cert.conditions:
        mark = "[green]✓[/]" if c.holds else "[red]✗[/]"
        table.add_row(mark, c.name, f"{c.value:.3e}", f"{c.tolerance:.3e}", c.description)
    console.print(table)
    verdict = "[bold green]holds[/]" if cert.holds else "[bold red]FAILS[/]"
    console.print(f"certificate {verdict}")


def _load_bundle(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CLIError(f"no such file: {path}")
    obj = qed.load(path)
    if isinstance(obj, dict) and obj.get("format") == _FILE_FORMAT:
        return obj
    if hasattr(obj, "predict"):  # a model saved from Python with qed.save
        names = getattr(obj, "feature_names_in_", None)
        return {"model": obj, "features": None if names is None else [str(n) for n in names],
                "target": None, "task": "classification" if hasattr(obj, "classes_")
                else "regression"}
    raise CLIError(f"{path} holds a {type(obj).__name__}, not a fitted qed model")


# --------------------------------------------------------------------------- commands
@app.command()
@_guard
def fit(
    model: Annotated[str, typer.Argument(help=f"One of: {', '.join(MODELS)}.")],
    data: Annotated[Path, typer.Argument(help="CSV file with a header row.")],
    target: Annotated[str, typer.Option("--target", "-t", help="Name of the target column.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to save the model (.qed).")],
    set_: Annotated[list[str] | None, typer.Option(
        "--set", "-s", help="A model parameter, key=value (repeatable), e.g. alpha=0.5.")] = None,
    task: Annotated[str, typer.Option(
        help="classification, regression, or auto (from the model and target).")] = "auto",
) -> None:
    """Fit MODEL on DATA.csv (all columns but --target are features), print the fit, its
    metrics and its certificate, and save it with qed.save."""
    if model not in MODELS:
        raise CLIError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if task not in ("auto", "classification", "regression"):
        raise CLIError(f"--task {task!r} is not classification, regression or auto")
    settings = _parse_settings(set_ or [])
    frame = _read_csv(data)
    if target not in frame.columns:
        raise CLIError(f"target column {target!r} not in {data}; "
                       f"it has {', '.join(map(repr, frame.columns))}")
    _, classifier, regressor = MODELS[model]
    if task == "auto":
        task = ("classification" if regressor is None else "regression" if classifier is None
                else _guess_task(frame, target))
    features = [c for c in frame.columns if c != target]
    X = _features(frame, features, data)
    y = _target(frame, target, data, task)
    estimator = _make_model(model, task, settings)
    with console.status(f"fitting {type(estimator).__name__} on {X.shape[0]} × {X.shape[1]}"):
        estimator.fit(X, y)
    console.print(f"[bold]{estimator!r}[/] fitted on {data} "
                  f"({X.shape[0]} samples, {X.shape[1]} features, target {target!r}, {task})")
    _print_metrics(estimator, X, y, task)
    cert, _ = _certificate(estimator, X, y)
    _print_certificate(cert)
    qed.save({"format": _FILE_FORMAT, "model": estimator, "features": features,
              "target": target, "task": task, "model_name": model}, out)
    console.print(f"saved to {out}")


def _print_metrics(model: Any, X: np.ndarray, y: np.ndarray, task: str) -> None:
    table = Table(title="training metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    pred = model.predict(X)
    if task == "regression":
        resid = np.asarray(y, dtype=float) - np.asarray(pred, dtype=float)
        ss_tot = float(np.sum((y - np.mean(y)) ** 2))
        table.add_row("R²", f"{1 - float(resid @ resid) / ss_tot:.6f}" if ss_tot else "—")
        table.add_row("RMSE", f"{np.sqrt(np.mean(resid ** 2)):.6g}")
        table.add_row("MAE", f"{np.mean(np.abs(resid)):.6g}")
    else:
        table.add_row("accuracy", f"{np.mean(np.asarray(pred) == np.asarray(y)):.6f}")
        if hasattr(model, "predict_proba"):
            proba = model.predict_proba(X)
            idx = np.searchsorted(model.classes_, y)
            p = np.clip(proba[np.arange(len(y)), idx], np.finfo(float).tiny, 1.0)
            table.add_row("log-loss", f"{-np.mean(np.log(p)):.6g}")
        table.add_row("classes", ", ".join(map(str, model.classes_)))
    console.print(table)


@app.command()
@_guard
def predict(
    model_file: Annotated[Path, typer.Argument(help="A model saved by `qed fit` (or qed.save).")],
    data: Annotated[Path, typer.Argument(help="CSV with the model's feature columns.")],
    out: Annotated[Path | None, typer.Option(
        "--out", "-o", help="Write here (default: stdout).")] = None,
    target: Annotated[str | None, typer.Option(
        "--target", "-t", help="A column to ignore (default: the target used by `qed fit`).")
    ] = None,
) -> None:
    """Predict for every row of DATA.csv: a `prediction` column (and one probability column
    per class for classifiers). The target column is ignored if present."""
    bundle = _load_bundle(model_file)
    model = bundle["model"]
    frame = _read_csv(data)
    features = bundle["features"]
    if features is None:  # a model saved from Python on a plain array: all columns but target
        ignore = target or bundle.get("target")
        features = [c for c in frame.columns if c != ignore]
        n_in = getattr(model, "n_features_in_", len(features))
        if len(features) != n_in:
            raise CLIError(f"{data} has {len(features)} feature columns but the model expects "
                           f"{n_in}; pass --target COL to name a column to ignore")
    X = _features(frame, list(features), data)
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


@app.command()
@_guard
def certify(
    model_file: Annotated[Path, typer.Argument(help="A model saved by `qed fit` (or qed.save).")],
    data: Annotated[Path, typer.Argument(help="CSV with the features and the target.")],
    target: Annotated[str | None, typer.Option(
        "--target", "-t", help="Target column (default: the one used by `qed fit`).")] = None,
) -> None:
    """Re-check the saved model's optimality conditions on DATA.csv, without refitting:
    exit 0 if its certificate holds there, 1 (listing the failing conditions) if not."""
    bundle = _load_bundle(model_file)
    model = bundle["model"]
    target = target or bundle.get("target")
    if target is None:
        raise CLIError("pass --target: the file does not record the target column")
    frame = _read_csv(data)
    features = bundle["features"] or [c for c in frame.columns if c != target]
    y = _target(frame, target, data, bundle.get("task", "regression"))
    X = _features(frame, list(features), data)
    cert, on_data = _certificate(model, X, y)
    if not on_data:
        console.print(f"[yellow]note: {type(model).__name__}.certificate() takes no data; "
                      "showing the conditions measured at fit time[/]")
    _print_certificate(cert)
    if not cert.holds:
        names = ", ".join(c.name for c in cert.failing())
        typer.echo(f"certificate fails on {data}: {names}", err=True)
        raise typer.Exit(1)


@app.command()
@_guard
def tour(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for index.html.")] = Path(
        "qed-tour"),
    chapter: Annotated[list[str] | None, typer.Option(
        "--chapter", "-c", help="Run only this chapter (repeatable; see `qed chapters`).")] = None,
) -> None:
    """Run every chapter of the notes on bundled real data and write DIR/index.html:
    formulas, qed's values beside scikit-learn/PyTorch/SciPy, certificates and figures."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from qed.tour import CHAPTERS, run_tour

    selected = list(chapter or []) or list(CHAPTERS)
    unknown = [c for c in selected if c not in CHAPTERS]
    if unknown:
        raise CLIError(f"unknown chapter(s) {', '.join(unknown)}; run `qed chapters` for the list")
    with Progress(TextColumn("{task.description:<40}"), BarColumn(),
                  TextColumn("{task.completed}/{task.total}"), TimeElapsedColumn(),
                  console=console, transient=True) as progress:
        task_id = progress.add_task("starting", total=len(selected))
        result = run_tour(
            out, chapters=selected,
            on_start=lambda n, title: progress.update(task_id, description=f"{n}. {title}"),
            on_done=lambda ch: progress.advance(task_id),
        )
    table = Table(title=f"qed tour — {result.seconds:.1f} s", title_justify="left")
    for col in ("chapter", "status", "agree", "certificates", "figures", "s"):
        table.add_column(col, justify="left" if col in ("chapter", "status") else "right")
    for ch in result.chapters:
        status = "[green]ok[/]" if ch.status == "ok" else f"[red]{ch.status}[/]"
        certs = f"{sum(c.holds for c in ch.certificates)}/{len(ch.certificates)}"
        table.add_row(f"{ch.number}. {ch.title}", status, f"{ch.n_agree}/{ch.n_checked}",
                      certs, str(len(ch.figures)), f"{ch.seconds:.2f}")
    console.print(table)
    for ch in result.chapters:
        if ch.status != "ok":
            console.print(f"[red]{ch.number}. {ch.title}: {ch.status}: {ch.message}[/]")
    console.print(f"report: {result.path}")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
def chapters() -> None:
    """List the chapters of the tour, in the notes' order."""
    from qed.tour import chapter_titles

    table = Table(title="chapters of the notes", title_justify="left")
    for col in ("#", "key", "title", "section of the notes"):
        table.add_column(col)
    for number, key, title, section in chapter_titles():
        table.add_row(str(number), key, title, section)
    console.print(table)


def _bench_dir(folder: Path | None) -> Path:
    candidates = [folder] if folder else [Path.cwd() / "benchmarks",
                                          Path(qed.__file__).resolve().parents[2] / "benchmarks"]
    for c in candidates:
        if c is not None and c.is_dir() and any(c.glob("bench_*.py")):
            return c
    where = folder or candidates[0]
    raise CLIError(f"no benchmarks (bench_*.py) in {where}; run from the qed checkout or "
                   "pass --dir")


def _load_bench(path: Path) -> Any:
    spec = importlib.util.spec_from_file_location(f"qed_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))  # benchmarks may share helpers beside them
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    if not callable(getattr(module, "run", None)):
        raise CLIError(f"{path.name} has no run(quick) function")
    return module


@app.command()
@_guard
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes, for a fast look.")] = False,
    folder: Annotated[Path | None, typer.Option(
        "--dir", help="Folder of bench_*.py scripts.")] = None,
    only: Annotated[list[str] | None, typer.Option(
        "--only", help="Run only bench_NAME.py (repeatable).")] = None,
) -> None:
    """Run the benchmarks (qed and its peers on the same data) and print the ratio table;
    ratio = peer time / qed time, so > 1 means qed is faster."""
    from rich.progress import Progress

    directory = _bench_dir(folder)
    files = sorted(directory.glob("bench_*.py"))
    only = only or []
    if only:
        files = [f for f in files if f.stem.removeprefix("bench_") in only or f.stem in only]
        if not files:
            raise CLIError(f"no benchmark named {', '.join(only)} in {directory}")
    rows, failures = [], []
    with Progress(console=console, transient=True) as progress:
        task_id = progress.add_task("benchmarks", total=len(files))
        for f in files:
            progress.update(task_id, description=f.stem)
            try:
                for row in _load_bench(f).run(quick=quick):
                    rows.append((f.stem.removeprefix("bench_"), row))
            except Exception as exc:  # noqa: BLE001 - report it and run the others
                failures.append(f"{f.name}: {type(exc).__name__}: {exc}")
            progress.advance(task_id)
    table = Table(title=f"qed bench{' --quick' if quick else ''} ({directory})",
                  title_justify="left")
    for col in ("file", "benchmark", "qed s", "peer s", "ratio", "target", ""):
        table.add_column(col, justify="left" if col in ("file", "benchmark", "") else "right")
    for stem, row in rows:
        ratio, target = row.get("ratio"), row.get("target")
        ok = ""
        if isinstance(ratio, (int, float)) and isinstance(target, (int, float)):
            ok = "[green]meets[/]" if ratio >= target else "[red]below[/]"
        table.add_row(stem, str(row.get("name", "?")), _num(row.get("qed_s")),
                      _num(row.get("peer_s")), _num(ratio, "{:.2f}×"), _num(target, "{:g}×"), ok)
    console.print(table)
    for msg in failures:
        console.print(f"[red]failed: {msg}[/]")
    if failures:
        raise typer.Exit(1)


def _num(value: Any, pattern: str = "{:.4g}") -> str:
    if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
        return pattern.format(float(value))
    return "—" if value is None else str(value)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``qed`` console script.

    Runs the typer app outside click's standalone mode so that a usage mistake (an unknown
    option, a missing argument) is also one ``error:`` line rather than a framed panel.
    """
    try:  # recent typer vendors its own click; older ones use click itself
        from typer._click import exceptions as cx
    except ImportError:  # pragma: no cover - depends on the installed typer
        from click import exceptions as cx

    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="qed", standalone_mode=False)
    except cx.NoArgsIsHelpError as exc:  # plain `qed`: the help
        typer.echo(exc.ctx.get_help() if exc.ctx else str(exc))
        sys.exit(0)
    except cx.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx else ""
        typer.echo("error: " + " ".join(exc.format_message().split()) + hint, err=True)
        sys.exit(2)
    except (getattr(cx, "Abort", KeyboardInterrupt), KeyboardInterrupt):
        typer.echo("error: aborted", err=True)
        sys.exit(1)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
