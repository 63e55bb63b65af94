"""The tour page in a real browser: headless Chromium renders the MathML, a slider moved with
the mouse redraws its figure, and a screenshot is saved.

Chromium is driven through the DevTools protocol over a pipe (``--remote-debugging-pipe``:
JSON messages on file descriptors 3 and 4, each ended by a NUL byte), so the test needs
nothing beyond the Python standard library and Debian's ``chromium`` package. Where no
Chromium can be found the test is skipped, saying so.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import time

import pytest

from qed import tour

BROWSER = next(
    (shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
    None,
)
pytestmark = pytest.mark.skipif(
    BROWSER is None,
    reason="no Chromium on this machine (Debian: apt-get install chromium); the browser "
    "check of the tour page cannot run",
)


class DevTools:
    """A minimal client of the Chrome DevTools protocol over --remote-debugging-pipe."""

    def __init__(self, browser: str) -> None:
        flags = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--remote-debugging-pipe",
            "--window-size=1280,900",
        ]
        # fd 3 is the browser's command input, fd 4 its reply output: the shell wires them to
        # our stdin/stdout pipes before becoming the browser.
        cmd = " ".join([browser, *flags, "about:blank"])
        self.proc = subprocess.Popen(
            ["sh", "-c", f"exec {cmd} 3<&0 4>&1 0</dev/null 1>/dev/null 2>/dev/null"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        self.next_id = 0
        self.buffer = b""

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self.next_id += 1
        msg = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.proc.stdin.write(json.dumps(msg).encode() + b"\0")
        self.proc.stdin.flush()
        deadline = time.monotonic() + 120
        while True:
            while b"\0" not in self.buffer:
                left = deadline - time.monotonic()
                ready, _, _ = select.select([self.proc.stdout], [], [], max(left, 0))
                if not ready:
                    raise TimeoutError(f"no reply to {method} within 120 s")
                chunk = os.read(self.proc.stdout.fileno(), 1 << 20)
                if not chunk:
                    raise RuntimeError(f"the browser closed the pipe during {method}")
                self.buffer += chunk
            raw, self.buffer = self.buffer.split(b"\0", 1)
            reply = json.loads(raw)
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def evaluate(self, session: str, expression: str):
        result = self.send(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            session,
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression[:60]}…: {result['exceptionDetails']}")
        return result["result"].get("value")

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except Exception:  # noqa: BLE001 - the browser may already be gone
            pass
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """Chapters 2 (Bayes) and 4 (overfitting) of the tour, loaded in headless Chromium."""
    out = tmp_path_factory.mktemp("tour-browser")
    result = tour.run_tour(out, chapters=["bayes", "overfitting"])
    assert result.ok, [(c.key, c.message) for c in result.chapters]
    browser = DevTools(BROWSER)
    try:
        target = browser.send("Target.createTarget", {"url": result.path.resolve().as_uri()})
        session = browser.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
        )["sessionId"]
        for _ in range(600):  # the page's script marks <html> once every figure is drawn
            if browser.evaluate(
                session,
                "document.readyState === 'complete' && document.documentElement"
                " && document.documentElement.getAttribute('data-explorables')",
            ):
                break
            time.sleep(0.1)
        else:
            pytest.fail("the page's figures were not drawn within 60 s")
        yield browser, session, out
    finally:
        browser.close()


def test_mathematics_is_typeset_as_mathml(page):
    browser, session, _ = page
    report = browser.evaluate(
        session,
        """(() => {
          const maths = [...document.querySelectorAll('.formula math')];
          const fracs = [...document.querySelectorAll('.formula mfrac')];
          return {
            n: maths.length,
            display: maths.map(m => getComputedStyle(m).display),
            heights: fracs.map(f => f.getBoundingClientRect().height),
            text: document.body.innerText,
          };
        })()""",
    )
    assert report["n"] >= 8  # five equations of chapter 2, three of chapter 4
    # Chromium lays MathML out itself: <math display="block"> computes to "block math"
    assert set(report["display"]) == {"block math"}, report["display"]
    # a typeset fraction stacks numerator over denominator: taller than one line of text
    assert report["heights"] and min(report["heights"]) > 20, report["heights"]
    for raw in ("\\frac", "\\begin", "\\theta", "\\sum", "$$"):
        assert raw not in report["text"], raw


def test_moving_a_slider_redraws_its_figure(page):
    browser, session, out = page
    before = browser.evaluate(
        session,
        """(() => {
          const fig = document.getElementById('fig-overfitting');
          const slider = fig.querySelector('input[type=range]');
          slider.scrollIntoView({block: 'center'});
          const r = slider.getBoundingClientRect();
          return {frame: fig.getAttribute('data-frame'), svg: fig.querySelector('svg').innerHTML,
                  value: slider.value, x: r.left, y: r.top + r.height / 2, w: r.width,
                  text: fig.querySelector('.frame-text').textContent};
        })()""",
    )
    assert before["frame"] is not None and before["svg"].count("<path") > 3
    # a real mouse click near the right end of the "degree m" slider
    x, y = before["x"] + 0.92 * before["w"], before["y"]
    for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
        browser.send(
            "Input.dispatchMouseEvent",
            {"type": kind, "x": x, "y": y, "button": "left", "clickCount": 1},
            session,
        )
    after = browser.evaluate(
        session,
        """(() => {
          const fig = document.getElementById('fig-overfitting');
          return {frame: fig.getAttribute('data-frame'), svg: fig.querySelector('svg').innerHTML,
                  value: fig.querySelector('input[type=range]').value,
                  text: fig.querySelector('.frame-text').textContent};
        })()""",
    )
    assert int(after["value"]) > int(before["value"])
    assert after["frame"] != before["frame"]
    assert after["svg"] != before["svg"] and after["text"] != before["text"]

    shot = browser.send("Page.captureScreenshot", {"format": "png"}, session)
    png = base64.b64decode(shot["data"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
    (out / "tour-slider.png").write_bytes(png)
    keep = os.environ.get("QED_TOUR_SCREENSHOT")  # a path to keep the picture for a person
    if keep:
        with open(keep, "wb") as f:
            f.write(png)
