"""`qed tour`: every chapter of the notes, in order, into one self-contained, valid HTML page,
with typeset equations and interactive figures whose frames qed computed."""

import html.parser
import importlib
import json
import math
import re

import pytest
from typer.testing import CliRunner

from qed import tour
from qed.cli import app

VOID = {"meta", "img", "br", "hr", "link", "input", "source", "col", "wbr", "area", "base"}


class StrictParser(html.parser.HTMLParser):
    """Checks that every non-void element is closed, in order, and collects images and ids."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack, self.errors, self.images, self.ids = [], [], [], []
        self.text, self.frames, self.html_lang = [], [], None
        self._script = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "html":
            self.html_lang = attrs.get("lang")
        if tag == "script":
            self._script = attrs.get("class", "code")
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if "id" in attrs:
            self.ids.append(attrs["id"])
        if tag not in VOID:
            self.stack.append((tag, self.getpos()))

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1][0] != tag:
            self.errors.append(f"unexpected </{tag}> at {self.getpos()}, open: {self.stack[-3:]}")
        else:
            self.stack.pop()
        if tag == "script":
            self._script = None

    def handle_data(self, data):
        if self._script == "frames":
            self.frames.append(data)
        elif self._script is None and not any(t in ("style", "math") for t, _ in self.stack):
            self.text.append(data)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour")
    result = CliRunner().invoke(app, ["tour", "--out", str(out)])
    page = (out / "index.html").read_text(encoding="utf-8")
    parser = StrictParser()
    parser.feed(page)
    parser.close()
    return result, page, parser, out


def test_tour_report(report):
    """One run of the tour (it is the slow part), checked from every side; the browser's
    view of the page is tests/cli/test_tour_browser.py."""
    check_summary(report)
    check_well_formed(report)
    check_chapters(report)
    check_figures(report)
    check_agreement(report)
    check_mathematics(report)
    check_interactive(report)
    check_size(report)


def check_mathematics(report):
    """Every chapter's equations are MathML; no TeX is left in the text a reader sees."""
    _, page, parser, _ = report
    assert parser.html_lang == "en"
    for key in tour.CHAPTERS:
        section = page.split(f'id="{key}"', 1)[1].split('<section class="chapter"', 1)[0]
        formula = section.split('class="formula"', 1)[1].split("</div>", 1)[0]
        n_eq = len(importlib.import_module(f"qed.tour.{key}").FORMULA)
        assert formula.count('<math display="block">') == n_eq, key
    text = "".join(parser.text)
    for raw in ("\\frac", "\\begin", "\\text", "\\sum", "\\alpha", "$$", "^{", "_{"):
        assert raw not in text, raw


def check_interactive(report):
    """At least the eight figures of the issue, each with a frame for every combination of
    its controls, and the page's own drawing script (no library, no network)."""
    _, page, parser, _ = report
    specs = [json.loads(data) for data in parser.frames]
    keys = {s["key"] for s in specs}
    assert {
        "overfitting",
        "bayes-prior",
        "kernel-ridge",
        "svm-c",
        "descent-lemma",
        "optimizer-race",
        "schedules",
        "init-depth",
        "ridge-path",
    } <= keys
    for spec in specs:
        sizes = [len(c["names"]) for c in spec["controls"]]
        assert len(spec["table"]) == math.prod(sizes), spec["key"]
        assert max(spec["table"]) == len(spec["frames"]) - 1, spec["key"]
        for frame in spec["frames"]:
            assert len(frame["series"]) == len(spec["panels"]), spec["key"]
            for panel in frame["series"]:
                for s in panel:
                    for axis in ("x", "y"):
                        ref = s.get(axis)
                        assert not isinstance(ref, int) or 0 <= ref < len(spec["shared"])
    varying = [s for s in specs if len(s["frames"]) > 1]
    assert len(varying) >= 8
    assert "<script>" in page and 'document.querySelectorAll("div.explorable")' in page


def check_size(report):
    out = report[3]
    assert (out / "index.html").stat().st_size < 8 * 1024 * 1024


def check_summary(report):
    result, _, _, _ = report
    assert result.exit_code == 0, result.output
    assert "qed tour" in result.stdout and "report:" in result.stdout
    for number in range(1, len(tour.CHAPTERS) + 1):
        assert f"{number}. " in result.stdout


def check_well_formed(report):
    _, page, parser, _ = report
    assert page.lstrip().startswith("<!DOCTYPE html>")
    assert parser.errors == [] and parser.stack == []


def check_chapters(report):
    _, page, parser, _ = report
    chapter_ids = [i for i in parser.ids if i in tour.CHAPTERS]
    assert chapter_ids == list(tour.CHAPTERS)
    assert len(tour.CHAPTERS) == 14
    for key in tour.CHAPTERS:
        section = page.split(f'id="{key}"', 1)[1].split('<section class="chapter"', 1)[0]
        assert 'class="formula"' in section, key
        assert "status pending" not in section and "status error" not in section, key


def check_figures(report):
    _, page, parser, _ = report
    assert len(parser.images) >= 6
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    # self-contained: nothing is loaded from anywhere (the SVG namespace name in the
    # script is an identifier, not a resource)
    for fetch in ('src="http', "src='http", 'href="http', "url(http", "@import", "fetch("):
        assert fetch not in page, fetch
    for title in (
        "overfitting curve",
        "Ridge path",
        "Kernel ridge fit",
        "Beta prior",
        "KL divergence",
        "Logistic decision boundary",
        "SVM margin",
        "Activations and their derivatives",
        "Xavier vs He",
        "Batch-norm running",
        "Learning-rate schedules",
        "Optimizer race",
        "convergence rate",
    ):
        assert re.search(re.escape(title), page, re.IGNORECASE), title


def check_agreement(report):
    _, page, _, _ = report
    assert page.count('class="bad"') == 0
    assert page.count('<h4 class="cert-title">Certificate') >= 10


def test_a_failing_chapter_does_not_stop_the_others(monkeypatch):
    def missing(ctx):
        raise ImportError("qed.linear is not written yet")

    def broken(ctx):
        raise ValueError("boom")

    monkeypatch.setattr("qed.tour.bayes.run", missing)
    monkeypatch.setattr("qed.tour.backprop.run", broken)
    result = tour.run_tour(None, chapters=["bayes", "backprop", "schedules"])
    assert [c.status for c in result.chapters] == ["pending", "error", "ok"]
    assert "not written yet" in result.chapters[0].message
    assert "boom" in result.chapters[1].message and not result.ok
    with pytest.raises(ValueError, match="unknown chapter"):
        tour.run_tour(None, chapters=["astrology"])
