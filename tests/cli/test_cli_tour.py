"""`qed tour`: every chapter of the notes, in order, into one self-contained, valid HTML page."""

import html.parser
import re
import shutil
import subprocess

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

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
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
    """One run of the tour (it is the slow part), checked from every side."""
    check_summary(report)
    check_well_formed(report)
    check_chapters(report)
    check_figures(report)
    check_agreement(report)
    if shutil.which("chromium"):  # an extra where Debian's chromium is installed
        check_chromium_renders(report)


def check_chromium_renders(report):
    """Headless Chromium loads the page, builds every chapter and paints a screenshot."""
    out = report[3]
    url = (out / "index.html").resolve().as_uri()
    flags = ["--headless", "--no-sandbox", "--disable-gpu"]
    dom = subprocess.run(
        ["chromium", *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120
    )
    for key in tour.CHAPTERS:
        assert f'id="{key}"' in dom.stdout, key
    shot = out / "tour.png"
    subprocess.run(
        ["chromium", *flags, f"--screenshot={shot}", "--window-size=1280,2000", url],
        capture_output=True,
        timeout=120,
    )
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


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
    assert len(parser.images) >= 12
    assert all(src.startswith("data:image/png;base64,") for src in parser.images)
    assert "http://" not in page and "https://" not in page  # self-contained
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
    assert page.count("<h4>Certificate") >= 10


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
