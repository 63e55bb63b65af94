"""Certificate: conditions hold iff value ≤ tolerance; tolerances scale with the data."""

import numpy as np
import pytest

from qed.certificate import Certificate, Condition, scaled_tolerance


def test_holds_only_when_every_condition_holds():
    cert = Certificate("m")
    assert not cert.holds  # an empty certificate proves nothing
    cert.add("a", 1e-12, 1e-9)
    assert cert.holds and bool(cert)
    cert.add("b", 2.0, 1.0, "too big")
    assert not cert.holds
    assert [c.name for c in cert.failing()] == ["b"]
    assert cert["a"].holds and not cert["b"].holds
    with pytest.raises(KeyError, match="no condition named"):
        cert["zzz"]


def test_nan_never_holds():
    assert not Condition("x", float("nan"), 1.0).holds
    assert not Condition("x", float("inf"), float("inf")).holds


def test_repr_and_dict_show_every_condition():
    cert = Certificate("Ridge")
    cert.add("normal_equations", 3e-14, 1e-10)
    d = cert.to_dict()
    assert d["holds"] and d["conditions"][0]["name"] == "normal_equations"
    assert "normal_equations" in repr(cert) and "holds" in repr(cert)


def test_tolerance_scales_with_size_and_dtype():
    t64 = scaled_tolerance(1.0)
    assert scaled_tolerance(1e6) == pytest.approx(1e6 * t64)
    assert scaled_tolerance(1.0, dtype=np.float32) > 1e8 * t64 * 0.5
    assert scaled_tolerance(1.0, n=100) == pytest.approx(10 * t64)
    assert scaled_tolerance(0.0) > 0


@pytest.mark.parametrize("bad", ["‖∇f‖", "normal equations", "1st", "", "stationarity "])
def test_condition_names_are_ascii_identifiers(bad):
    with pytest.raises(ValueError, match="ASCII identifier"):
        Condition(bad, 0.0, 1.0)


def test_html_table_for_notebooks():
    """One row per condition with its mark, name, value, tolerance and (escaped) meaning."""
    from html.parser import HTMLParser

    cert = Certificate("Ridge")
    cert.add("normal_equations", 3e-14, 1e-10, "‖Xᵀ(y − Xβ)‖ < <tol>")
    cert.add("intercept", 2.0, 1.0)
    page = cert._repr_html_()

    class Cells(HTMLParser):
        rows: list = []

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.rows.append([])

        def handle_data(self, data):
            if self.rows:
                self.rows[-1].append(data)

    parser = Cells()
    parser.rows = []
    parser.feed(page)
    header, first, second = parser.rows
    assert header == ["condition", "measured", "tolerance", "meaning"]
    assert first == ["✓", "normal_equations", "3.000e-14", "1.000e-10", "‖Xᵀ(y − Xβ)‖ < <tol>"]
    assert second[:2] == ["✗", "intercept"]
    assert "FAILS" in page
