"""``qed tour``: every chapter of the notes, computed on real data, as one HTML report.

Each chapter is a module of this package, in the notes' order (``CHAPTERS``), exposing
``TITLE``, ``SECTION`` (the notes' section it computes), ``FORMULA`` (the notes' formula, in
Unicode) and ``run(ctx)``, which fits qed's models on the bundled data sets and records into
``ctx`` (a :class:`qed.tour.report.ChapterContext`) the values it computed beside their
scikit-learn/PyTorch/SciPy references, the certificates of the fitted models and figures.

:func:`run_tour` runs them all, isolating failures (a chapter whose library module is missing
is marked ``pending``, one that raises is marked ``error``; the others still run) and writes
``DIR/index.html``.
"""

from __future__ import annotations

import importlib
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qed.tour.report import Chapter, ChapterContext, render_html

__all__ = ["CHAPTERS", "TourResult", "run_chapter", "run_tour", "chapter_titles"]

# The notes' order (see ../shared/notes/GLOSSARY.md, "section by section").
CHAPTERS = (
    "least_squares",
    "bayes",
    "information",
    "overfitting",
    "kernel_ridge",
    "logistic",
    "svm",
    "backprop",
    "training",
    "initialization",
    "schedules",
    "batchnorm",
    "smoothness",
    "optimizers",
)


@dataclass
class TourResult:
    chapters: list[Chapter]
    path: Path | None
    seconds: float

    @property
    def ok(self) -> bool:
        return all(c.status == "ok" for c in self.chapters)


def _module(key: str):
    return importlib.import_module(f"qed.tour.{key}")


def chapter_titles() -> list[tuple[int, str, str, str]]:
    """(number, key, title, section of the notes) for every chapter, without running any."""
    out = []
    for i, key in enumerate(CHAPTERS, start=1):
        mod = _module(key)
        out.append((i, key, mod.TITLE, mod.SECTION))
    return out


def run_chapter(number: int, key: str, *, dpi: int = 80) -> Chapter:
    """Run one chapter, turning a missing library module into ``pending`` and any other
    exception into ``error`` (with its last line), never raising."""
    mod = _module(key)
    chapter = Chapter(number, key, mod.TITLE, mod.SECTION, mod.FORMULA)
    start = time.perf_counter()
    try:
        mod.run(ChapterContext(chapter, dpi=dpi))
    except ImportError as exc:
        chapter.status, chapter.message = "pending", f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # noqa: BLE001 - one chapter's failure must not stop the tour
        where = traceback.extract_tb(exc.__traceback__)[-1]
        chapter.status = "error"
        chapter.message = (
            f"{type(exc).__name__}: {exc} ({os.path.basename(where.filename)}:{where.lineno})"
        )
    chapter.seconds = time.perf_counter() - start
    return chapter


def run_tour(
    out: str | os.PathLike | None = "qed-tour",
    *,
    chapters: tuple[str, ...] | list[str] | None = None,
    on_start: Callable[[int, str], None] | None = None,
    on_done: Callable[[Chapter], None] | None = None,
    dpi: int = 80,
) -> TourResult:
    """Run the chapters (all, in the notes' order, by default) and write ``out/index.html``.

    ``on_start(number, title)`` and ``on_done(chapter)`` let a caller show progress.
    ``out=None`` runs without writing.
    """
    keys = list(CHAPTERS if chapters is None else chapters)
    unknown = [k for k in keys if k not in CHAPTERS]
    if unknown:
        raise ValueError(f"unknown chapter(s) {unknown}; the chapters are {list(CHAPTERS)}.")
    start = time.perf_counter()
    done = []
    for key in keys:
        number = CHAPTERS.index(key) + 1
        if on_start is not None:
            on_start(number, _module(key).TITLE)
        chapter = run_chapter(number, key, dpi=dpi)
        done.append(chapter)
        if on_done is not None:
            on_done(chapter)
    seconds = time.perf_counter() - start
    path = None
    if out is not None:
        from qed import __version__

        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "index.html"
        html = render_html(done, seconds=seconds, version=__version__)
        tmp = folder / ".index.html.tmp"
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    return TourResult(done, path, seconds)
