"""The dashboard's bar charts and timeline wording: pure, so checked without a server."""

from __future__ import annotations

from decimal import Decimal

from pastdue.web.dashboard.charts import BAR_AREA, bar_chart
from pastdue.web.dashboard.timeline import describe


def test_bars_are_as_tall_as_their_share_of_the_largest() -> None:
    chart = bar_chart("t", [("a", Decimal(50), "50", "calm"), ("b", Decimal(100), "100", "hot")])
    low, high = chart.bars
    assert high.height == BAR_AREA and low.height == BAR_AREA / 2
    assert low.y + low.height == high.y + high.height == chart.baseline  # both stand on the axis
    assert low.x + low.width < high.x  # side by side, not overlapping
    assert high.x + high.width <= chart.width


def test_a_missing_or_zero_value_keeps_its_place_without_a_bar() -> None:
    chart = bar_chart("t", [("a", None, "n/a", "calm"), ("b", Decimal(0), "0", "calm")])
    assert [bar.height for bar in chart.bars] == [0.0, 0.0]
    assert [bar.text for bar in chart.bars] == ["n/a", "0"]


def test_decisions_are_told_by_invoice_number() -> None:
    payload = {
        "as_of": "2026-06-30",
        "fields": ["invoice_id", "act", "reason", "detail", "level", "next_review_on"],
        "decisions": [["a1", "notice", "level_reached", "", 2, None], ["a2", "skip", "held", "", 1, None]],
    }
    text = describe("decision", payload, {"a1": "A-001", "a2": "A-002"})
    assert text == "run of 2026-06-30: A-001: level 2 (level_reached); A-002: skip held"


def test_an_unknown_kind_still_shows_its_fields_and_long_text_is_cut() -> None:
    assert describe("import", {"file": "x.csv", "rows": 3, "empty": ""}, {}) == "file: x.csv, rows: 3"
    assert len(describe("call", {"outcome": "reached", "note": "n" * 1000}, {})) == 300
