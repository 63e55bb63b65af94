"""``qed tour``, ``qed chapters`` and ``qed bench``."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import typer
from rich.table import Table

import qed
from qed.cli._app import CLIError, app, console, guard


@app.command()
@guard
def tour(
    out: Annotated[Path, typer.Option("--out", "-o", help="Folder for index.html.")] = Path(
        "qed-tour"
    ),
    chapters_: Annotated[
        str | None,
        typer.Option(
            "--chapters",
            help="Run only these chapters: numbers, ranges or keys, e.g. 1,7 or 2-4,svm "
            "(see `qed chapters`).",
        ),
    ] = None,
    chapter: Annotated[
        list[str] | None,
        typer.Option("--chapter", "-c", help="Run only this chapter key (repeatable)."),
    ] = None,
    lang: Annotated[
        str,
        typer.Option(
            "--lang", help="Language of the page: en (default) or ko (the notes' Korean)."
        ),
    ] = "en",
    open_: Annotated[
        bool, typer.Option("--open", help="Open the page in the default browser when done.")
    ] = False,
) -> None:
    """Run every chapter of the notes and write the HTML report DIR/index.html.

    Each chapter shows the notes' equations (typeset), qed's values beside
    scikit-learn/PyTorch/SciPy, the certificates of the fitted models, and figures, some of
    which the reader can move; everything is computed on bundled real data.
    """
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from qed.tour import CHAPTERS, LANGUAGES, parse_chapters, run_tour

    if lang not in LANGUAGES:
        raise CLIError(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    if importlib.util.find_spec("latex2mathml") is None:
        raise CLIError(
            "the tour typesets its equations with latex2mathml, which is not installed: "
            "pip install latex2mathml (or qed[cli])"
        )
    selected: list[str] = []
    if chapters_ is not None:
        try:
            selected = parse_chapters(chapters_)
        except ValueError as exc:
            raise CLIError(str(exc)) from None
    unknown = [c for c in chapter or [] if c not in CHAPTERS]
    if unknown:
        raise CLIError(f"unknown chapter(s) {', '.join(unknown)}; run `qed chapters` for the list")
    selected = [k for k in CHAPTERS if k in set(selected) | set(chapter or [])] or list(CHAPTERS)
    if out.exists() and not out.is_dir():
        raise CLIError(f"--out {out} is a file; give a folder for index.html")
    with Progress(
        TextColumn("{task.description:<40}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task_id = progress.add_task("starting", total=len(selected))
        result = run_tour(
            out,
            chapters=selected,
            lang=lang,
            on_start=lambda n, title: progress.update(task_id, description=f"{n}. {title}"),
            on_done=lambda ch: progress.advance(task_id),
        )
    table = Table(title=f"qed tour — {result.seconds:.1f} s", title_justify="left")
    for col in ("chapter", "status", "agree", "certificates", "figures", "s"):
        table.add_column(col, justify="left" if col in ("chapter", "status") else "right")
    for ch in result.chapters:
        status = "[green]ok[/]" if ch.status == "ok" else f"[red]{ch.status}[/]"
        certs = f"{sum(c.holds for c in ch.certificates)}/{len(ch.certificates)}"
        table.add_row(
            f"{ch.number}. {ch.title}",
            status,
            f"{ch.n_agree}/{ch.n_checked}",
            certs,
            f"{len(ch.figures)} + {len(ch.explorables)} interactive"
            if ch.explorables
            else str(len(ch.figures)),
            f"{ch.seconds:.2f}",
        )
    console.print(table)
    for ch in result.chapters:
        if ch.status != "ok":
            console.print(f"[red]{ch.number}. {ch.title}: {ch.status}: {ch.message}[/]")
    console.print(f"report: {result.path}")
    if open_:
        import webbrowser

        if not webbrowser.open(result.path.resolve().as_uri()):
            console.print("[yellow]no browser could be opened; open the file above by hand[/]")
    if not result.ok:
        raise typer.Exit(1)


@app.command()
@guard
def chapters(
    lang: Annotated[str, typer.Option("--lang", help="en (default) or ko.")] = "en",
) -> None:
    """List the chapters of the tour, in the notes' order."""
    from qed.tour import LANGUAGES, chapter_titles

    if lang not in LANGUAGES:
        raise CLIError(f"--lang must be one of {', '.join(LANGUAGES)}, got {lang!r}")
    table = Table(title="chapters of the notes", title_justify="left")
    for col in ("#", "key", "title", "section of the notes"):
        table.add_column(col)
    for number, key, title, section in chapter_titles(lang):
        table.add_row(str(number), key, title, section)
    console.print(table)


def _bench_dir(folder: Path | None) -> Path:
    candidates = (
        [folder]
        if folder
        else [Path.cwd() / "benchmarks", Path(qed.__file__).resolve().parents[2] / "benchmarks"]
    )
    for c in candidates:
        if c is not None and c.is_dir() and any(c.glob("bench_*.py")):
            return c
    where = folder or candidates[0]
    raise CLIError(
        f"no benchmarks (bench_*.py) in {where}; run from the qed checkout or pass --dir"
    )


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
@guard
def bench(
    quick: Annotated[bool, typer.Option("--quick", help="Small sizes, for a fast look.")] = False,
    folder: Annotated[
        Path | None, typer.Option("--dir", help="Folder of bench_*.py scripts.")
    ] = None,
    only: Annotated[
        list[str] | None, typer.Option("--only", help="Run only bench_NAME.py (repeatable).")
    ] = None,
) -> None:
    """Run the benchmarks against the installed peers and print the ratio table.

    ratio = peer time / qed time, so a ratio above 1 means qed is faster.
    """
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
    table = Table(
        title=f"qed bench{' --quick' if quick else ''} ({directory})", title_justify="left"
    )
    for col in ("file", "benchmark", "qed s", "peer s", "ratio", "target", ""):
        table.add_column(col, justify="left" if col in ("file", "benchmark", "") else "right")
    for stem, row in rows:
        ratio, target = row.get("ratio"), row.get("target")
        ok = ""
        if isinstance(ratio, (int, float)) and isinstance(target, (int, float)):
            ok = "[green]meets[/]" if ratio >= target else "[red]below[/]"
        table.add_row(
            stem,
            str(row.get("name", "?")),
            _num(row.get("qed_s")),
            _num(row.get("peer_s")),
            _num(ratio, "{:.2f}×"),
            _num(target, "{:g}×"),
            ok,
        )
    console.print(table)
    for msg in failures:
        console.print(f"[red]failed: {msg}[/]")
    if failures:
        raise typer.Exit(1)


def _num(value: Any, pattern: str = "{:.4g}") -> str:
    if isinstance(value, (int, float, np.floating)) and not isinstance(value, bool):
        return pattern.format(float(value))
    return "—" if value is None else str(value)
