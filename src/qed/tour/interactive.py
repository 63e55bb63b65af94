"""Figures the reader can move: every frame computed by qed in Python, drawn in the page.

An :class:`Explorable` has controls (sliders or drop-down lists, each over a fixed list of
values), panels (axes with titles, labels, limits and series that never change) and one
frame per combination of control values: the series that change. The chapter computes
every frame with qed (and checks them against their references) before the page is
written; the page's own small SVG script (``templates/explorable.js``) only draws the
frame the controls select, so the figure works offline, with no plotting library.

Series are plain dicts made by :func:`line`, :func:`points`, :func:`vline` and
:func:`hline`. Numbers are stored to five significant digits, and identical frames are
stored once, which keeps the page small.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Explorable", "line", "points", "vline", "hline", "PALETTE"]

# matplotlib's tab10, so that interactive and static figures share their colours
PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
)


def _color(c: int | str) -> str:
    return PALETTE[c % len(PALETTE)] if isinstance(c, int) else c


def _numbers(values: Any) -> list:
    arr = np.asarray(values, dtype=float).ravel()
    out = np.round(arr, 12)
    finite = np.isfinite(out)
    # five significant digits: enough for a 700-pixel plot, a third of the bytes of repr
    return [float(f"{v:.5g}") if ok else None for v, ok in zip(out.tolist(), finite.tolist())]


def line(
    x: Any,
    y: Any,
    *,
    color: int | str = 0,
    label: str = "",
    dash: bool = False,
    width: float = 2.0,
) -> dict[str, Any]:
    """A polyline through (x, y); non-finite points break it."""
    return {
        "type": "line",
        "x": _numbers(x),
        "y": _numbers(y),
        "color": _color(color),
        "label": label,
        "dash": bool(dash),
        "width": float(width),
    }


def points(
    x: Any,
    y: Any,
    *,
    color: int | str = 0,
    label: str = "",
    size: float = 3.0,
    hollow: bool = False,
) -> dict[str, Any]:
    """Markers at (x, y); ``hollow`` draws rings (e.g. around support vectors)."""
    return {
        "type": "points",
        "x": _numbers(x),
        "y": _numbers(y),
        "color": _color(color),
        "label": label,
        "size": float(size),
        "hollow": bool(hollow),
    }


def vline(x: float, *, color: int | str = 7, label: str = "", dash: bool = True) -> dict:
    """A vertical line across the panel at ``x``."""
    return {
        "type": "vline",
        "at": _numbers([x])[0],
        "color": _color(color),
        "label": label,
        "dash": bool(dash),
    }


def hline(y: float, *, color: int | str = 7, label: str = "", dash: bool = True) -> dict:
    """A horizontal line across the panel at ``y``."""
    return {
        "type": "hline",
        "at": _numbers([y])[0],
        "color": _color(color),
        "label": label,
        "dash": bool(dash),
    }


@dataclass
class Explorable:
    """One interactive figure: controls, panels, and a frame per combination of controls.

    Parameters
    ----------
    key : str
        An identifier unique in the page (letters, digits, '-').
    title, caption : str
        Shown under the figure, like a static figure's.
    """

    key: str
    title: str
    caption: str = ""
    controls: list[dict[str, Any]] = field(default_factory=list)
    panels: list[dict[str, Any]] = field(default_factory=list)
    frames: dict[tuple[int, ...], dict[str, Any]] = field(default_factory=dict)

    def control(
        self,
        label: str,
        values: Any,
        *,
        names: list[str] | None = None,
        initial: int = 0,
        kind: str = "slider",
    ) -> list:
        """Add a control over ``values`` (shown as ``names``); returns the values."""
        values = list(values)
        if not values:
            raise ValueError(f"control {label!r} needs at least one value.")
        if kind not in ("slider", "select"):
            raise ValueError(f"kind must be 'slider' or 'select', got {kind!r}.")
        names = [str(v) for v in values] if names is None else [str(n) for n in names]
        if len(names) != len(values):
            raise ValueError(f"control {label!r}: {len(names)} names for {len(values)} values.")
        if not 0 <= initial < len(values):
            raise ValueError(f"control {label!r}: initial index {initial} out of range.")
        self.controls.append({"label": label, "names": names, "initial": initial, "kind": kind})
        return values

    def panel(
        self,
        title: str = "",
        *,
        xlabel: str = "",
        ylabel: str = "",
        xlim: tuple[float, float] | None = None,
        ylim: tuple[float, float] | None = None,
        logx: bool = False,
        logy: bool = False,
        static: list[dict] | None = None,
        equal: bool = False,
    ) -> int:
        """Add axes; ``static`` series are drawn under every frame. Returns its index."""
        for name, lim in (("xlim", xlim), ("ylim", ylim)):
            if lim is not None and not (np.all(np.isfinite(lim)) and lim[0] < lim[1]):
                raise ValueError(f"{name} must be two finite increasing numbers, got {lim}.")
        self.panels.append(
            {
                "title": title,
                "xlabel": xlabel,
                "ylabel": ylabel,
                "xlim": None if xlim is None else _numbers(xlim),
                "ylim": None if ylim is None else _numbers(ylim),
                "logx": bool(logx),
                "logy": bool(logy),
                "equal": bool(equal),
                "static": list(static or []),
            }
        )
        return len(self.panels) - 1

    def indices(self) -> list[tuple[int, ...]]:
        """Every combination of control indices, the first control varying slowest."""
        return list(itertools.product(*(range(len(c["names"])) for c in self.controls)))

    def frame(
        self,
        index: tuple[int, ...],
        series: list[list[dict]],
        text: str = "",
        *,
        limits: list[dict | None] | None = None,
    ) -> None:
        """The series of each panel (one list per panel) for the controls at ``index``;
        ``limits`` (one dict or None per panel, keys ``xlim``/``ylim``) overrides the
        panels' limits in this frame."""
        index = tuple(int(i) for i in index)
        if len(index) != len(self.controls):
            raise ValueError(f"frame index {index} has not one entry per control.")
        if len(series) != len(self.panels):
            raise ValueError(f"frame {index}: {len(series)} series lists for {len(self.panels)}.")
        frame: dict[str, Any] = {"series": series, "text": text}
        if limits is not None:
            if len(limits) != len(self.panels):
                raise ValueError(f"frame {index}: limits needs one entry per panel.")
            frame["limits"] = [
                None if lim is None else {k: _numbers(v) for k, v in lim.items()} for lim in limits
            ]
        self.frames[index] = frame

    def to_json(self) -> str:
        """The figure as JSON for the page's script; every combination must have a frame.

        Identical frames are stored once (``table`` maps each combination to its frame), and
        so is every long coordinate array that recurs (``shared``; a series then holds its
        index there), e.g. the common x grid of a hundred curves.
        """
        missing = [i for i in self.indices() if i not in self.frames]
        if missing:
            raise ValueError(f"figure {self.key!r} lacks frames {missing[:3]} …")
        shared: dict[tuple, int] = {}

        def pack(series: dict) -> dict:
            out = dict(series)
            for axis in ("x", "y"):
                values = out.get(axis)
                if isinstance(values, list) and len(values) > 8:
                    out[axis] = shared.setdefault(tuple(values), len(shared))
            return out

        panels = [dict(p, static=[pack(s) for s in p["static"]]) for p in self.panels]
        unique: dict[str, int] = {}
        table: list[int] = []
        for index in self.indices():
            frame = self.frames[index]
            packed = dict(frame, series=[[pack(s) for s in panel] for panel in frame["series"]])
            text = json.dumps(packed, ensure_ascii=False, separators=(",", ":"))
            table.append(unique.setdefault(text, len(unique)))
        spec = {
            "key": self.key,
            "controls": self.controls,
            "panels": panels,
            "table": table,
            "shared": [list(v) for v in shared],
        }
        head = json.dumps(spec, ensure_ascii=False, separators=(",", ":"))
        body = ",".join(unique)  # dicts keep insertion order: frame i is the i-th key
        # "</" cannot appear inside the page's <script> element
        return (head[:-1] + ',"frames":[' + body + "]}").replace("</", "<\\/")

    @property
    def n_frames(self) -> int:
        return len(self.frames)
