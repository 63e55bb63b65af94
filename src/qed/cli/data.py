"""Reading CSV files, building models from names and ``key=value`` settings, certificates."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

import qed
from qed.cli._app import CLIError, console

__all__ = [
    "MODELS",
    "FILE_FORMAT",
    "read_csv",
    "feature_matrix",
    "target_column",
    "guess_task",
    "parse_settings",
    "make_model",
    "certificate",
    "apply_settings",
    "print_certificate",
    "load_bundle",
    "print_metrics",
]

# MODEL name -> (module, class for classification or None, class for regression or None)
MODELS: dict[str, tuple[str, str | None, str | None]] = {
    "linear": ("qed.linear", None, "LinearRegression"),
    "ridge": ("qed.linear", None, "Ridge"),
    "kernel-ridge": ("qed.linear", None, "KernelRidge"),
    "logistic": ("qed.classify", "LogisticRegression", None),
    "svc": ("qed.classify", "SVC", None),
    "mlp": ("qed.nn", "MLPClassifier", "MLPRegressor"),
}
FILE_FORMAT = "qed-cli-model"


def read_csv(path: Path) -> Any:
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


def feature_matrix(frame: Any, columns: list[str], path: Path) -> np.ndarray:
    """The named columns as a float matrix, refusing text and missing values clearly."""
    import pandas as pd

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CLIError(
            f"column(s) {', '.join(map(repr, missing))} not in {path}; "
            f"it has {', '.join(map(repr, frame.columns))}"
        )
    if not columns:
        raise CLIError(f"{path} has no feature columns besides the target")
    bad = [
        c
        for c in columns
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])
    ]
    if bad:
        c = bad[0]
        failing = frame[c][pd.to_numeric(frame[c], errors="coerce").isna() & frame[c].notna()]
        first = failing.iloc[0] if len(failing) else frame[c].iloc[0]
        raise CLIError(
            f"non-numeric feature column(s) {', '.join(map(repr, bad))} in {path} "
            f"(e.g. {first!r} in {c!r}); qed fits numbers only: encode or drop them"
        )
    X = frame[columns].to_numpy(dtype=np.float64)
    if not np.all(np.isfinite(X)):
        cols = [c for c in columns if not np.all(np.isfinite(frame[c].to_numpy(dtype=float)))]
        raise CLIError(
            f"missing or infinite values in column(s) {', '.join(map(repr, cols))} "
            f"of {path}; drop or impute those rows first"
        )
    return X


def target_column(frame: Any, target: str, path: Path, task: str) -> np.ndarray:
    import pandas as pd

    if target not in frame.columns:
        raise CLIError(
            f"target column {target!r} not in {path}; it has {', '.join(map(repr, frame.columns))}"
        )
    col = frame[target]
    if col.isna().any():
        raise CLIError(f"target column {target!r} of {path} has missing values")
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
            raise CLIError(
                f"target column {target!r} of {path} is not numeric; "
                "a regression model needs numbers (or use a classifier)"
            )
        return col.to_numpy(dtype=np.float64)
    if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col):
        values = col.to_numpy()
        if np.issubdtype(values.dtype, np.floating) and np.all(values == np.round(values)):
            values = values.astype(np.int64)
        return values
    return col.astype(str).to_numpy(dtype=str)  # a fixed-width str array: saveable, no pickle


def guess_task(frame: Any, target: str) -> str:
    import pandas as pd

    col = frame[target]
    if not pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col):
        return "classification"
    values = col.to_numpy(dtype=float)
    if np.all(values == np.round(values)) and np.unique(values).size <= max(
        2, min(20, len(col) // 5)
    ):
        return "classification"
    return "regression"


def parse_value(text: str) -> Any:
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


def parse_settings(settings: list[str], option: str = "--set") -> dict[str, Any]:
    out = {}
    for item in settings:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            example = "tol=1e-12" if option == "--peer-set" else "alpha=0.5"
            raise CLIError(f"{option} {item!r} is not key=value (e.g. {option} {example})")
        out[key.strip()] = parse_value(value.strip())
    return out


def make_model(name: str, task: str, settings: dict[str, Any]) -> Any:
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
    return apply_settings(cls(), settings, "parameter(s)")


def apply_settings(estimator: Any, settings: dict[str, Any], what: str) -> Any:
    """``estimator.set_params(**settings)``, refusing names it does not take by a CLIError
    that lists the ones it does (``what`` names the option, e.g. "--peer-set parameter(s)")."""
    valid = estimator.get_params(deep=False)
    unknown = [k for k in settings if k not in valid]
    if unknown:
        raise CLIError(
            f"unknown {what} {', '.join(map(repr, unknown))} for {type(estimator).__name__}; "
            f"it takes {', '.join(sorted(valid))}"
        )
    return estimator.set_params(**settings)


def certificate(model: Any, X: np.ndarray, y: np.ndarray) -> tuple[Any, bool]:
    """``model.certificate(X, y)`` when it takes data, else ``model.certificate()``;
    returns (certificate, whether it was measured on the given data)."""
    method = getattr(model, "certificate", None)
    if method is None:
        raise CLIError(f"{type(model).__name__} has no certificate() method")
    params = [
        p
        for p in inspect.signature(method).parameters.values()
        if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
    ]
    if len(params) >= 2:
        return method(X, y), True
    return method(), False


def print_certificate(cert: Any, title: str | None = None) -> None:
    """The conditions (✓/✗, measured, tolerance, meaning), the error bounds and their note."""
    table = Table(title=title or f"certificate: {cert.model}", title_justify="left")
    for col in ("", "condition", "measured", "tolerance", "meaning"):
        table.add_column(col)
    for c in cert.conditions:
        mark = "[green]✓[/]" if c.holds else "[red]✗[/]"
        table.add_row(mark, c.name, f"{c.value:.3e}", f"{c.tolerance:.3e}", c.description)
    if cert.bounds and table.rows:
        table.rows[-1].end_section = True  # a rule between the conditions and the bounds
    for key, bound in cert.bounds.items():
        table.add_row("", key, f"≤ {bound:.3e}", "", "error bound (see below)")
    console.print(table)
    if cert.bounds_note:
        console.print(f"[dim]bounds: {cert.bounds_note}[/]")
    verdict = "[bold green]holds[/]" if cert.holds else "[bold red]FAILS[/]"
    console.print(f"certificate {verdict}")


def load_bundle(path: Path) -> dict[str, Any]:
    if not path.exists():
        raise CLIError(f"no such file: {path}")
    obj = qed.load(path)
    if isinstance(obj, dict) and obj.get("format") == FILE_FORMAT:
        return obj
    if hasattr(obj, "predict"):  # a model saved from Python with qed.save
        names = getattr(obj, "feature_names_in_", None)
        return {
            "model": obj,
            "features": None if names is None else [str(n) for n in names],
            "target": None,
            "task": "classification" if hasattr(obj, "classes_") else "regression",
        }
    raise CLIError(f"{path} holds a {type(obj).__name__}, not a fitted qed model")


def print_metrics(model: Any, X: np.ndarray, y: np.ndarray, task: str) -> None:
    table = Table(title="training metrics", title_justify="left")
    table.add_column("metric")
    table.add_column("value", justify="right")
    pred = model.predict(X)
    if task == "regression":
        resid = np.asarray(y, dtype=float) - np.asarray(pred, dtype=float)
        ss_tot = float(np.sum((y - np.mean(y)) ** 2))
        table.add_row("R²", f"{1 - float(resid @ resid) / ss_tot:.6f}" if ss_tot else "—")
        table.add_row("RMSE", f"{np.sqrt(np.mean(resid**2)):.6g}")
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
