"""``qed tour``: every chapter of the notes, computed on real data, as one HTML report.

Each chapter is a module of this package, in the notes' order (``CHAPTERS``), exposing
``TITLE`` and ``TITLE_KO``, ``SECTION`` and ``SECTION_KO`` (the notes' section it computes),
``FORMULA`` (the notes' equations, a tuple of LaTeX strings, typeset to MathML in the page)
and ``run(ctx)``, which fits qed's models on the bundled data sets and records into ``ctx``
(a :class:`qed.tour.report.ChapterContext`) the values it computed beside their
scikit-learn/PyTorch/SciPy references, the certificates of the fitted models, figures and
interactive figures whose frames it computed.

:func:`run_tour` runs them all, isolating failures (a chapter whose library module is missing
is marked ``pending``, one that raises is marked ``error``; the others still run) and writes
``DIR/index.html``.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from qed.tour.report import LANGUAGES, Chapter, ChapterContext, render_html

__all__ = [
    "CHAPTERS",
    "LANGUAGES",
    "TourResult",
    "run_chapter",
    "run_tour",
    "chapter_titles",
    "parse_chapters",
]

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


def _title(mod, lang: str) -> tuple[str, str]:
    if lang == "ko":
        return mod.TITLE_KO, mod.SECTION_KO
    return mod.TITLE, mod.SECTION


def chapter_titles(lang: str = "en") -> list[tuple[int, str, str, str]]:
    """(number, key, title, section of the notes) for every chapter, without running any."""
    _check_lang(lang)
    out = []
    for i, key in enumerate(CHAPTERS, start=1):
        out.append((i, key, *_title(_module(key), lang)))
    return out


def _blas_limit(threads: int | None):
    if threads is None:
        return contextlib.nullcontext()
    import scipy.linalg  # noqa: F401 - scipy bundles its own BLAS: load it so the cap reaches it
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=int(threads), user_api="blas")


def _check_lang(lang: str) -> None:
    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(LANGUAGES)}; got {lang!r}.")


def parse_chapters(spec: str) -> list[str]:
    """Chapter keys from a comma-separated list of numbers, ranges and keys, in the notes'
    order without repeats: ``"1,7"``, ``"2-4,svm"``. Raises ValueError naming a bad item."""
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError("--chapters needs a list such as 1,7 or 2-4 or bayes,svm.")
    picked: set[str] = set()
    n = len(CHAPTERS)
    for item in (p.strip() for p in spec.split(",")):
        if not item:
            raise ValueError(f"empty item in chapter list {spec!r}; write e.g. 1,7.")
        if item in CHAPTERS:
            picked.add(item)
            continue
        lo, sep, hi = item.partition("-")
        try:
            a, b = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ValueError(
                f"unknown chapter {item!r}: use numbers 1-{n} or keys ({', '.join(CHAPTERS)})."
            ) from None
        if not (1 <= a <= b <= n):
            raise ValueError(f"chapter {item!r} is out of range: the chapters are 1-{n}.")
        picked.update(CHAPTERS[a - 1 : b])
    return [k for k in CHAPTERS if k in picked]


def run_chapter(number: int, key: str, *, dpi: int = 80, lang: str = "en") -> Chapter:
    """Run one chapter, turning a missing library module into ``pending`` and any other
    exception into ``error`` (with its last line), never raising."""
    _check_lang(lang)
    mod = _module(key)
    formula = getattr(mod, "FORMULA_KO", mod.FORMULA) if lang == "ko" else mod.FORMULA
    chapter = Chapter(number, key, *_title(mod, lang), tuple(formula))
    start = time.perf_counter()
    try:
        mod.run(ChapterContext(chapter, dpi=dpi, lang=lang))
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
    lang: str = "en",
    blas_threads: int | None = 1,
) -> TourResult:
    """Run the chapters (all, in the notes' order, by default) and write ``out/index.html``.

    ``lang`` is "en" (default) or "ko" (the notes' Korean). ``on_start(number, title)`` and
    ``on_done(chapter)`` let a caller show progress. ``out=None`` runs without writing.
    ``blas_threads`` caps the BLAS threads while the chapters run (None: no cap): their
    matrices are small (at most 1797 × 64), where one thread is as fast as several, and on a
    shared machine BLAS threads spinning for a busy core made a 442 × 442 Cholesky 200 times
    slower (measured: 0.3 s against 1.5 ms).
    """
    _check_lang(lang)
    keys = list(CHAPTERS if chapters is None else chapters)
    unknown = [k for k in keys if k not in CHAPTERS]
    if unknown:
        raise ValueError(f"unknown chapter(s) {unknown}; the chapters are {list(CHAPTERS)}.")
    start = time.perf_counter()
    done = []
    with _blas_limit(blas_threads):
        for key in keys:
            number = CHAPTERS.index(key) + 1
            if on_start is not None:
                on_start(number, _title(_module(key), lang)[0])
            chapter = run_chapter(number, key, dpi=dpi, lang=lang)
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
        html = render_html(done, seconds=seconds, version=__version__, lang=lang)
        tmp = folder / ".index.html.tmp"
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    return TourResult(done, path, seconds)
