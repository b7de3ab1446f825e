"""The home page's figures, kept and refreshed in the background, and the charts drawn
from them.

Aging and DSO read the whole ledger (seconds on a million invoices) and the run preview
decides every invoice due for review, then rolls back. They change slowly during a day, so
one computation serves every visit for :data:`FRESH_FOR` seconds and the next one is made
while visits go on being served; the page says when its figures were computed.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from pastdue.bootstrap import App
from pastdue.core.analytics import AGING_BUCKETS, NOT_YET_DUE, OVER_90
from pastdue.services.dashboard import DsoPoint, HomeFigures, home_figures
from pastdue.web.dashboard.charts import BarChart, bar_chart
from pastdue.web.dashboard.pages import money

FRESH_FOR = 300.0

log = logging.getLogger(__name__)

BUCKET_LABELS = {NOT_YET_DUE: "not yet due", "1-30": "1–30", "31-60": "31–60", "61-90": "61–90", OVER_90: "> 90"}
BUCKET_TONES = {NOT_YET_DUE: "calm", "1-30": "mild", "31-60": "warm", "61-90": "hot", OVER_90: "hot"}


@dataclass(frozen=True)
class _Kept:
    day: date
    at: float
    computed_at: datetime
    figures: HomeFigures


class HomeCache:
    """The latest figures, served at once; recomputed in the background once they are older
    than ``fresh_for``, of another day, or :meth:`forget`-ten.

    Only the very first visit waits for the computation. After that a visit never does: it
    gets the kept figures (the page shows when they were computed) while one background
    thread computes the next ones. A failed computation keeps the old figures and is logged;
    the next visit tries again.
    """

    def __init__(
        self,
        app: App,
        fresh_for: float = FRESH_FOR,
        monotonic: Callable[[], float] = time.monotonic,
        compute: Callable[[App, date], HomeFigures] = home_figures,
    ) -> None:
        self._app = app
        self._fresh_for = fresh_for
        self._monotonic = monotonic
        self._compute = compute
        self._lock = threading.Lock()
        self._first = threading.Lock()
        self._kept: _Kept | None = None
        self._generation = 0
        self._kept_generation = 0
        self._worker: threading.Thread | None = None

    def figures(self, today: date) -> tuple[HomeFigures, datetime]:
        """The figures to show and when they were computed (for ``today`` unless a refresh
        for it is still running, in which case the day before's, which say their own day)."""
        with self._lock:
            kept = self._kept
            if kept is not None:
                if not self._fresh(kept, today):
                    self._start(today)
                return kept.figures, kept.computed_at
        with self._first:  # two first visitors compute once
            if self._kept is None:
                self._refresh(today, self._generation, quiet=False)
            kept = self._kept
            assert kept is not None
            return kept.figures, kept.computed_at

    def forget(self) -> None:
        """Mark the figures stale: a person's action may have changed what a run would do."""
        with self._lock:
            self._generation += 1

    def wait(self, timeout: float | None = None) -> None:
        """Wait for a background computation in progress, if any, to end."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def _fresh(self, kept: _Kept, today: date) -> bool:
        young = self._monotonic() - kept.at < self._fresh_for
        return kept.day == today and young and self._kept_generation == self._generation

    def _start(self, today: date) -> None:
        if self._worker is not None and self._worker.is_alive():
            return
        self._worker = threading.Thread(
            target=self._refresh, args=(today, self._generation, True), name="pastdue-home-figures", daemon=True
        )
        self._worker.start()

    def _refresh(self, today: date, generation: int, quiet: bool) -> None:
        try:
            figures = self._compute(self._app, today)
        except Exception:
            if not quiet:
                raise
            log.exception("computing the dashboard's home figures failed; the previous ones stay")
            return
        with self._lock:
            self._kept = _Kept(today, self._monotonic(), self._app.clock(), figures)
            self._kept_generation = generation


def aging_charts(figures: HomeFigures) -> list[BarChart]:
    """One chart per currency: the open balance in each aging bucket."""
    return [
        bar_chart(
            f"Open balance by days overdue, {currency}",
            [
                (BUCKET_LABELS[bucket], row[bucket].amount, money(row[bucket]), BUCKET_TONES[bucket])
                for bucket in AGING_BUCKETS
            ],
        )
        for currency, row in figures.aging.items()
    ]


def dso_chart(currency: str, points: list[DsoPoint]) -> BarChart:
    """DSO on each day of the trend, oldest first; a day without invoicing shows "n/a"."""
    return bar_chart(
        f"DSO, {currency} (days)",
        [(point.day.isoformat(), point.value, _days(point.value), "calm") for point in points],
    )


def _days(value: Decimal | None) -> str:
    return "n/a" if value is None else f"{value}"
