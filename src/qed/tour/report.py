"""The tour's building blocks: what a chapter records, and the self-contained HTML report.

A chapter module fills a :class:`ChapterContext` — notes, computed values beside their
reference values (scikit-learn, PyTorch, SciPy, or a closed form), certificates and matplotlib
figures — and :func:`render_html` turns the chapters into one HTML page through the jinja2
template ``templates/report.html.j2``, figures embedded as base64 PNG so that the file
stands alone.
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
]


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


@dataclass
class Chapter:
    """The record of one chapter of the notes, as the report shows it."""

    number: int
    key: str
    title: str
    section: str
    formula: str
    notes: list[str] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    certificates: list[CertificateItem] = field(default_factory=list)
    figures: list[FigureItem] = field(default_factory=list)
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

    def __init__(self, chapter: Chapter, *, dpi: int = 80) -> None:
        self.chapter = chapter
        self.dpi = dpi

    def note(self, text: str) -> None:
        """A sentence of what qed computed, shown as a bullet."""
        self.chapter.notes.append(text)

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
            CertificateItem(label, d["model"], bool(d["holds"]), d["conditions"])
        )

    def figure(self, fig: Any, title: str, caption: str = "") -> None:
        """Embed a matplotlib figure as a base64 PNG, then release it."""
        buf = io.BytesIO()
        fig.savefig(buf, format="png", dpi=self.dpi)
        try:  # figures made through pyplot must be closed, or they accumulate
            import matplotlib.pyplot as plt

            plt.close(fig)
        except Exception:  # noqa: BLE001 - a pyplot-free Figure needs no closing
            pass
        data = base64.b64encode(buf.getvalue()).decode("ascii")
        self.chapter.figures.append(FigureItem(title, caption, data))


def render_html(chapters: list[Chapter], *, seconds: float, version: str) -> str:
    """The report page for ``chapters`` (jinja2 template ``templates/report.html.j2``)."""
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("qed.tour", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
    )
    template = env.get_template("report.html.j2")
    return template.render(
        chapters=chapters,
        seconds=seconds,
        version=version,
        generated=_dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        python=platform.python_version(),
        machine=platform.machine(),
        n_figures=sum(len(c.figures) for c in chapters),
        n_certificates=sum(len(c.certificates) for c in chapters),
        n_hold=sum(1 for c in chapters for cert in c.certificates if cert.holds),
        n_agree=sum(c.n_agree for c in chapters),
        n_checked=sum(c.n_checked for c in chapters),
        fmt=fmt,
    )
