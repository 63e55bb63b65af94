"""`qed tour --lang ko --chapters …`: the notes' Korean edition of a subset, and `--open`."""

import re

import pytest
from typer.testing import CliRunner

from qed import tour
from qed.cli import app
from qed.tour.i18n import UI

HANGUL = re.compile("[\uac00-\ud7a3]")


@pytest.fixture(scope="module")
def korean(tmp_path_factory):
    out = tmp_path_factory.mktemp("tour-ko")
    result = CliRunner().invoke(
        app, ["tour", "--out", str(out), "--lang", "ko", "--chapters", "2,11"]
    )
    return result, (out / "index.html").read_text(encoding="utf-8")


def test_korean_edition_of_a_subset(korean):
    result, page = korean
    assert result.exit_code == 0, result.output
    assert '<html lang="ko">' in page
    ids = re.findall(r'<section class="chapter" id="([a-z_]+)"', page)
    assert ids == ["bayes", "schedules"]  # --chapters 2,11, in the notes' order
    for key in ids:
        mod = __import__(f"qed.tour.{key}", fromlist=["TITLE_KO"])
        assert mod.TITLE_KO in page and mod.TITLE not in page
    # the report's own words, the notes' terms and the interactive figures' words
    for word in (
        UI["ko"]["summary"],
        UI["ko"]["reference"],
        "동전 던지기",
        "산정결과 H 7 T 3",
        "닫힌 형태",  # "closed form" in the reference column
        "95% 신용구간",  # a quantity's name
    ):
        assert word in page, word
    for word in ("Summary", "reference from", "choose the prior", "warm-up and decay"):
        assert word not in page, word
    assert "prior를 골라 보기" in page and "warm-up과 decay" in page
    assert "2. " in result.stdout and "11. " in result.stdout and "3. " not in result.stdout


def test_every_chapter_has_its_korean_title_and_formula():
    for _, key, title, section in tour.chapter_titles("ko"):
        assert HANGUL.search(title + section), key
    english = [t for _, _, t, _ in tour.chapter_titles("en")]
    assert all(not HANGUL.search(t) for t in english)
    logistic = __import__("qed.tour.logistic", fromlist=["FORMULA_KO"])
    assert any("예측" in eq and "실제" in eq for eq in logistic.FORMULA_KO)
    assert UI["en"].keys() == UI["ko"].keys()


@pytest.mark.parametrize(
    "spec, keys",
    [
        ("1,7", ["least_squares", "svm"]),
        ("7,1,7", ["least_squares", "svm"]),
        ("2-4", ["bayes", "information", "overfitting"]),
        ("svm, 1", ["least_squares", "svm"]),
        ("14", ["optimizers"]),
        ("1-14", list(tour.CHAPTERS)),
    ],
)
def test_parse_chapters(spec, keys):
    assert tour.parse_chapters(spec) == keys


def test_open_hands_the_page_to_the_browser(tmp_path, monkeypatch):
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    result = CliRunner().invoke(app, ["tour", "--out", str(tmp_path), "--chapters", "8", "--open"])
    assert result.exit_code == 0, result.output
    assert opened == [(tmp_path / "index.html").resolve().as_uri()]


def test_open_without_a_browser_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    result = CliRunner().invoke(
        app, ["tour", "--out", str(tmp_path), "--chapters", "backprop", "--open"]
    )
    assert result.exit_code == 0 and "no browser could be opened" in result.stdout


def test_chapters_lists_korean_titles():
    result = CliRunner().invoke(app, ["chapters", "--lang", "ko"])
    assert result.exit_code == 0 and "서포트 벡터 머신" in result.stdout
