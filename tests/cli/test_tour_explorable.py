"""The tour's building blocks: interactive figures (frames, sharing, validation) and the
LaTeX → MathML typesetting of every chapter's equations."""

import importlib
import json

import numpy as np
import pytest

from qed import tour
from qed.tour.interactive import Explorable, hline, line, points, vline
from qed.tour.mathml import inline_math, to_mathml


def make() -> Explorable:
    fig = Explorable("demo", "Demo", "caption")
    a = fig.control("a", [1, 2, 3])
    b = fig.control("b", ["x", "y"], kind="select", initial=1)
    grid = np.linspace(0, 1, 50)
    fig.panel("p", xlabel="x", ylabel="y", static=[hline(0.5)])
    for i, ai in enumerate(a):
        for j, _ in enumerate(b):
            # the frame depends on a only: b's two values give identical frames
            fig.frame(
                (i, j), [[line(grid, ai * grid), vline(0.3), points([0.1], [0.2])]], f"a={ai}"
            )
    return fig


def test_frames_are_deduplicated_and_arrays_shared():
    spec = json.loads(make().to_json())
    assert spec["table"] == [0, 0, 1, 1, 2, 2]  # first control slowest, as in the script
    assert len(spec["frames"]) == 3
    # the x grid recurs in every frame: stored once; so is y = 1·x, the same array
    xs = {f["series"][0][0]["x"] for f in spec["frames"]}
    ys = [f["series"][0][0]["y"] for f in spec["frames"]]
    assert len(xs) == 1 and ys[0] == next(iter(xs)) and len(spec["shared"]) == 3
    assert spec["shared"][xs.pop()] == pytest.approx(np.linspace(0, 1, 50).tolist(), rel=1e-4)
    assert spec["controls"][1] == {
        "label": "b",
        "names": ["x", "y"],
        "initial": 1,
        "kind": "select",
    }


def test_numbers_keep_five_digits_and_nonfinite_become_null():
    s = line([0.0, 1.0, 2.0], [np.pi, np.inf, np.nan])
    assert s["y"] == [3.1416, None, None]


def test_script_end_tag_cannot_close_the_script():
    fig = Explorable("k", "t")
    fig.panel("</script><b>")
    fig.frame((), [[]], "</script>")
    assert "</" not in fig.to_json()


@pytest.mark.parametrize("key", tour.CHAPTERS)
def test_every_equation_typesets(key):
    mod = importlib.import_module(f"qed.tour.{key}")
    for eq in (*mod.FORMULA, *getattr(mod, "FORMULA_KO", ())):
        markup = to_mathml(eq)
        assert markup.startswith('<math display="block">') and markup.endswith("</math>")
        assert "\\" not in markup  # every command was understood


def test_inline_math():
    out = inline_math("so $\\frac{1}{2}$ of it")
    assert out.startswith("so <math") and "<mfrac>" in out and out.endswith(" of it")
