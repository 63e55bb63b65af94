"""Bad input to the tour (its Python API and `qed tour`): one clear error naming the problem
and the fix, never a traceback from deep inside."""

import pytest
from typer.testing import CliRunner

from qed import tour
from qed.cli import app
from qed.tour.interactive import Explorable
from qed.tour.mathml import to_mathml

API_ROWS = [
    (lambda: tour.run_tour(None, chapters=["bayes"], lang="fr"), ValueError, "lang must be"),
    (lambda: tour.run_tour(None, chapters=["astrology"]), ValueError, "unknown chapter"),
    (lambda: tour.chapter_titles("de"), ValueError, "lang must be"),
    (lambda: tour.parse_chapters(""), ValueError, "such as 1,7"),
    (lambda: tour.parse_chapters("1,,7"), ValueError, "empty item"),
    (lambda: tour.parse_chapters("0"), ValueError, "out of range"),
    (lambda: tour.parse_chapters("15"), ValueError, "out of range"),
    (lambda: tour.parse_chapters("5-2"), ValueError, "out of range"),
    (lambda: tour.parse_chapters("one"), ValueError, "unknown chapter 'one'"),
    (lambda: tour.parse_chapters(7), ValueError, "such as 1,7"),
    (lambda: to_mathml(""), ValueError, "non-empty LaTeX"),
    (lambda: to_mathml(r"\frac{1}{"), ValueError, "cannot typeset"),
    (lambda: to_mathml(r"a &= b"), ValueError, "alignment"),
    (lambda: Explorable("k", "t").control("a", []), ValueError, "at least one value"),
    (lambda: Explorable("k", "t").control("a", [1], kind="knob"), ValueError, "slider"),
    (lambda: Explorable("k", "t").control("a", [1, 2], names=["x"]), ValueError, "names"),
    (lambda: Explorable("k", "t").control("a", [1], initial=3), ValueError, "initial"),
    (lambda: Explorable("k", "t").panel(xlim=(1, 0)), ValueError, "xlim"),
    (lambda: Explorable("k", "t").panel(ylim=(0, float("nan"))), ValueError, "ylim"),
    (lambda: Explorable("k", "t").frame((0,), [[]]), ValueError, "one entry per control"),
    (lambda: _missing_frame().to_json(), ValueError, "lacks frames"),
]


def _missing_frame():
    fig = Explorable("k", "t")
    fig.control("a", [1, 2])
    fig.panel()
    fig.frame((0,), [[]])
    return fig


@pytest.mark.parametrize("call, error, words", API_ROWS)
def test_bad_api_input(call, error, words):
    with pytest.raises(error, match=words):
        call()


CLI_ROWS = [
    (["--lang", "xx"], "--lang must be one of en, ko"),
    (["--chapters", "99"], "out of range"),
    (["--chapters", "1,,2"], "empty item"),
    (["--chapters", "bayes,astrology"], "unknown chapter 'astrology'"),
    (["--chapter", "astrology"], "unknown chapter(s) astrology"),
]


@pytest.mark.parametrize("args, words", CLI_ROWS)
def test_bad_cli_input(tmp_path, args, words):
    result = CliRunner().invoke(app, ["tour", "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 1
    assert "error:" in result.output and words in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "o").exists()  # nothing ran


def test_out_is_a_file(tmp_path):
    target = tmp_path / "file.html"
    target.write_text("x")
    result = CliRunner().invoke(app, ["tour", "--out", str(target), "--chapters", "8"])
    assert result.exit_code == 1 and "is a file" in result.output


def test_chapters_bad_lang():
    result = CliRunner().invoke(app, ["chapters", "--lang", "xx"])
    assert result.exit_code == 1 and "--lang must be one of" in result.output


def test_missing_typesetter_is_named(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *a: None if name == "latex2mathml" else real(name, *a),
    )
    result = CliRunner().invoke(app, ["tour", "--out", str(tmp_path / "o"), "--chapters", "8"])
    assert result.exit_code == 1 and "pip install latex2mathml" in result.output
    monkeypatch.setitem(__import__("sys").modules, "latex2mathml.converter", None)
    to_mathml.cache_clear()
    with pytest.raises(ImportError, match="pip install latex2mathml"):
        to_mathml("x^2")
    to_mathml.cache_clear()
