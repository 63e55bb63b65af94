"""The chapters' equations: LaTeX in the source, MathML in the page (no network, no script).

Every chapter writes its ``FORMULA`` as a tuple of LaTeX display equations; the report turns
each into a ``<math display="block">`` element with ``latex2mathml`` (MIT licence), which
browsers render natively (Chromium since version 109, Firefox and Safari for much longer).
Nothing is fetched at view time, and no TeX source is left in the visible text.
"""

from __future__ import annotations

import functools
import re

__all__ = ["to_mathml", "inline_math"]

_INLINE = re.compile(r"\$([^$]+)\$")


@functools.lru_cache(maxsize=512)
def to_mathml(latex: str, *, display: bool = True) -> str:
    """One LaTeX equation as a MathML ``<math>`` element (a string of markup).

    Raises ValueError naming the equation when the converter cannot parse it, so that a
    typo in a chapter's formula fails the tour's tests rather than showing raw TeX.
    """
    if not isinstance(latex, str) or not latex.strip():
        raise ValueError("an equation must be a non-empty LaTeX string.")
    try:
        from latex2mathml.converter import convert
    except ImportError:
        raise ImportError(
            "the tour typesets its equations with latex2mathml, which is not installed: "
            "pip install latex2mathml (or qed[cli])."
        ) from None

    try:
        markup = convert(latex, display="block" if display else "inline")
    except Exception as exc:  # noqa: BLE001 - the converter raises many private types
        raise ValueError(f"cannot typeset {latex!r}: {type(exc).__name__}: {exc}") from exc
    # latex2mathml leaves alignment ampersands it does not understand as <mi>&</mi>: that
    # would show as a stray "&", so the chapters must not use them outside matrices.
    if "<mi>&</mi>" in markup or "<mi>&amp;</mi>" in markup:
        raise ValueError(f"alignment '&' outside a matrix or cases in {latex!r}.")
    # In an HTML page the parser puts <math> into the MathML namespace itself; dropping the
    # xmlns keeps the page free of URLs (it fetches nothing, and tests check it names none).
    return markup.replace(' xmlns="http://www.w3.org/1998/Math/MathML"', "", 1)


def inline_math(text: str) -> str:
    """``text`` (already HTML-escaped) with each ``$…$`` replaced by inline MathML."""
    return _INLINE.sub(lambda m: to_mathml(m.group(1), display=False), text)
