"""Bar charts as geometry for an inline SVG: computed here, drawn by a template.

Server-side and script-free, so a chart shows on any browser, in a printout and under a
strict Content-Security-Policy. Every bar is labelled with its value: a person reads the
figure, and the bar lengths only make the comparison quick.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

WIDTH = 560
BAR_AREA = 150
TOP = 24  # room for the value printed above the tallest bar
BOTTOM = 34  # room for the labels below the bars
GAP = 14


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    text: str
    x: float
    y: float
    cx: float
    """The bar's centre, where its value and label are printed."""
    width: float
    height: float
    tone: str


@dataclass(frozen=True, slots=True)
class BarChart:
    title: str
    width: int
    height: int
    baseline: float
    bars: tuple[Bar, ...]


def bar_chart(title: str, points: Sequence[tuple[str, Decimal | None, str, str]]) -> BarChart:
    """A chart of (label, value, printed value, tone) bars; a ``None`` value draws no bar
    but keeps its label and printed value, so gaps stay visible. Negative values draw as
    empty bars: these charts show amounts and days, which are not below zero in practice."""
    count = max(len(points), 1)
    width = (WIDTH - GAP * (count + 1)) / count
    top = max((value for _l, value, _t, _c in points if value is not None), default=Decimal(0))
    bars = []
    for index, (label, value, text, tone) in enumerate(points):
        share = float(value / top) if value is not None and top > 0 and value > 0 else 0.0
        height = round(BAR_AREA * share, 1)
        x = round(GAP + index * (width + GAP), 1)
        top_y = round(TOP + BAR_AREA - height, 1)
        bars.append(Bar(label, text, x, top_y, round(x + width / 2, 1), round(width, 1), height, tone))
    return BarChart(title, WIDTH, TOP + BAR_AREA + BOTTOM, TOP + BAR_AREA, tuple(bars))
