"""The tour's building blocks: what a chapter records, and the self-contained HTML report.

A chapter module fills a :class:`ChapterContext` — notes, computed values beside their
reference values (scikit-learn, PyTorch, SciPy, or a closed form), certificates, matplotlib
figures and interactive figures (:class:`qed.tour.interactive.Explorable`) — and
:func:`render_html` turns the chapters into one HTML page through the jinja2 template
``templates/report.html.j2``: equations as MathML, static figures as base64 PNG, interactive
figures as JSON frames drawn by the page's own script, so that the file stands alone.
The page is written in English (``lang="en"``) or in the notes' Korean (``lang="ko"``).
"""

from __future__ import annotations

import base64
import datetime as _dt
import io
import platform
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "Comparison",
    "FigureItem",
    "CertificateItem",
    "Chapter",
    "ChapterContext",
    "render_html",
    "fmt",
    "LANGUAGES",
]

LANGUAGES = ("en", "ko")


def fmt(value: Any) -> str:
    """A short human-readable rendering of a number, array or string."""
    if isinstance(value, str):
        return value
    if value is None:
        return "—"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    arr = np.asarray(value)
    if arr.ndim == 0:
        x = arr.item()
        if isinstance(x, (int, np.integer)):
            return str(x)
        if isinstance(x, float):
            return f"{x:.6g}" if np.isfinite(x) else str(x)
        return str(x)
    flat = arr.ravel()
    body = ", ".join(fmt(v) for v in flat[:4])
    more = f", … ({arr.size} values)" if arr.size > 4 else ""
    return f"[{body}{more}]"


@dataclass
class Comparison:
    """One quantity as qed computed it, beside an independent reference value."""

    quantity: str
    qed: str
    reference: str
    peer: str
    difference: float | None
    agree: bool | None


@dataclass
class FigureItem:
    title: str
    caption: str
    png_base64: str


@dataclass
class CertificateItem:
    label: str
    model: str
    holds: bool
    conditions: list[dict[str, Any]]
    bounds: dict[str, float] = field(default_factory=dict)
    bounds_note: str = ""


@dataclass
class Chapter:
    """The record of one chapter of the notes, as the report shows it."""

    number: int
    key: str
    title: str
    section: str
    formula: tuple[str, ...]  # LaTeX display equations
    notes: list[str] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    certificates: list[CertificateItem] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)
    explorables: list[Any] = field(default_factory=list)
    status: str = "ok"  # "ok", "pending" (a module has not landed), "error"
    message: str = ""
    seconds: float = 0.0

    @property
    def n_agree(self) -> int:
        return sum(1 for c in self.comparisons if c.agree)

    @property
    def n_checked(self) -> int:
        return sum(1 for c in self.comparisons if c.agree is not None)

    @property
    def certificates_hold(self) -> bool:
        return all(c.holds for c in self.certificates)


class ChapterContext:
    """What a chapter module's ``run(ctx)`` writes into."""

    def __init__(self, chapter: Chapter, *, dpi: int = 80, lang: str = "en") -> None:
        if lang not in LANGUAGES:
            raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}.")
        self.chapter = chapter
        self.dpi = dpi
        self.lang = lang

    def t(self, en: str, ko: str) -> str:
        """The text in the page's language: ``en``, or the notes' Korean ``ko``."""
        return ko if self.lang == "ko" else en

    def note(self, text: str, ko: str | None = None) -> None:
        """A sentence of what qed computed, shown as a bullet (``ko``: its Korean)."""
        self.chapter.notes.append(ko if (self.lang == "ko" and ko) else text)

    def explorable(self, figure: Any) -> None:
        """Embed an interactive figure (:class:`qed.tour.interactive.Explorable`)."""
        figure.to_json()  # fail here, in the chapter, if a frame is missing
        self.chapter.explorables.append(figure)

    def compare(
        self,
        quantity: str,
        value: Any,
        reference: Any | Callable[[], Any] = None,
        peer: str = "closed form",
        *,
        rtol: float = 1e-6,
        atol: float = 1e-10,
    ) -> Comparison:
        """Record ``value`` beside ``reference`` (a value, or a function computing it with the
        peer library; when that library is not installed the row says so)."""
        if self.lang == "ko":
            from qed.tour.i18n import peer_ko, quantity_ko

            peer, quantity = peer_ko(peer), quantity_ko(quantity)
        ref_value: Any = None
        if callable(reference):
            try:
                ref_value = reference()
            except ImportError:
                ref_value = f"({peer} not installed)"
        else:
            ref_value = reference
        diff, agree = None, None
        if ref_value is not None and not isinstance(ref_value, str):
            a = np.asarray(value, dtype=float)
            b = np.asarray(ref_value, dtype=float)
            if a.shape == b.shape:
                scale = max(float(np.max(np.abs(b))) if b.size else 0.0, 1.0)
                diff = float(np.max(np.abs(a - b))) / scale if a.size else 0.0
                agree = bool(np.allclose(a, b, rtol=rtol, atol=atol))
            else:
                agree = False
        row = Comparison(quantity, fmt(value), fmt(ref_value), peer, diff, agree)
        self.chapter.comparisons.append(row)
        return row

    def certificate(self, label: str, cert: Any) -> None:
        """Record a fitted model's ``Certificate``."""
        d = cert.to_dict()
        self.chapter.certificates.append(
            CertificateItem(
                label,
                d["model"],
                bool(d["holds"]),
                d["conditions"],
                d.get("bounds", {}),
                d.get("bounds_note", ""),
            )
        )

    def figure(self, fig: Any, title: str, caption: str = "") -> None:
        """Embed a matplotlib figure as a base64 PNG, then release it (``title`` and
        ``caption`` already in the page's language, e.g. through :meth:`t`)."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        try:  # figures made through pyplot must be closed, or they accumulate
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001 - a pyplot-free Figure needs no closing
            pass
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.chapter.figures.append(FigureItem(title, caption, data))


def render_html(chapters: list[Chapter], *, seconds: float, version: str, lang: str = "en") -> str:
    """The report page for ``chapters`` (jinja2 template ``templates/report.html.j2``) in
    ``lang`` ("en" or "ko"): equations typeset to MathML, interactive figures inlined."""
    import jinja2
    from markupsafe import Markup

    from qed.tour.i18n import ui_strings
    from qed.tour.mathml import to_mathml

    if lang not in LANGUAGES:
        raise ValueError(f"lang must be one of {LANGUAGES}, got {lang!r}.")
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("qed.tour", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    equations = {ch.key: [Markup(to_mathml(tex)) for tex in ch.formula] for ch in chapters}
    figures = {id(fig): Markup(fig.to_json()) for ch in chapters for fig in ch.explorables}
    return template.render(
        lang=lang,
        ui=ui_strings(lang),
        chapters=chapters,
        equations=equations,
        figure_json=figures,
        seconds=seconds,
        version=version,
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        python=platform.python_version(),
        machine=platform.machine(),
        n_figures=sum(len(c.figures) for c in chapters),
        n_explorables=sum(len(c.explorables) for c in chapters),
        n_certificates=sum(len(c.certificates) for c in chapters),
        n_hold=sum(1 for c in chapters for cert in c.certificates if cert.holds),
        n_agree=sum(c.n_agree for c in chapters),
        n_checked=sum(c.n_checked for c in chapters),
        fmt=fmt,
        id=id,
    )
