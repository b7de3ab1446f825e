"""The home page's figures are computed once, then served at once while fresher ones are
computed in the background: only the very first visit ever waits."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, date, datetime
from types import SimpleNamespace
from typing import Any

import pytest

from pastdue.web.dashboard.home import HomeCache

DAY = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)


class Figures:
    """Stands in for the figures: counts how many were computed, for which day."""

    def __init__(self) -> None:
        self.made: list[date] = []
        self.fail = False
        self.gate = threading.Event()
        self.gate.set()

    def __call__(self, _app: Any, today: date) -> str:
        self.gate.wait(5)
        if self.fail:
            raise RuntimeError("database gone")
        self.made.append(today)
        return f"figures #{len(self.made)} of {today}"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def cache(compute: Figures, clock: Clock) -> HomeCache:
    app: Any = SimpleNamespace(clock=lambda: NOW)
    return HomeCache(app, fresh_for=300, monotonic=clock, compute=compute)


def test_the_first_visit_computes_and_later_ones_reuse_it() -> None:
    compute, clock = Figures(), Clock()
    home = cache(compute, clock)
    assert home.figures(DAY) == ("figures #1 of 2026-06-30", NOW)
    clock.now = 299
    assert home.figures(DAY)[0] == "figures #1 of 2026-06-30"
    assert compute.made == [DAY]


def test_old_figures_are_served_at_once_while_new_ones_are_computed() -> None:
    compute, clock = Figures(), Clock()
    home = cache(compute, clock)
    home.figures(DAY)
    clock.now = 301
    compute.gate.clear()  # the background computation is slow

    assert home.figures(DAY)[0] == "figures #1 of 2026-06-30"  # no waiting
    assert home.figures(DAY)[0] == "figures #1 of 2026-06-30"  # and only one computation starts
    compute.gate.set()
    home.wait(5)
    assert home.figures(DAY)[0] == "figures #2 of 2026-06-30"
    assert compute.made == [DAY, DAY]


def test_an_action_makes_the_figures_stale() -> None:
    compute, clock = Figures(), Clock()
    home = cache(compute, clock)
    home.figures(DAY)
    home.forget()
    home.figures(DAY)
    home.wait(5)
    assert home.figures(DAY)[0] == "figures #2 of 2026-06-30"


def test_a_new_day_is_computed_while_the_last_days_figures_show() -> None:
    compute, clock = Figures(), Clock()
    home = cache(compute, clock)
    home.figures(DAY)
    tomorrow = date(2026, 7, 1)
    assert home.figures(tomorrow)[0] == "figures #1 of 2026-06-30"
    home.wait(5)
    assert home.figures(tomorrow)[0] == "figures #2 of 2026-07-01"


def test_a_failed_refresh_keeps_the_old_figures_and_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    compute, clock = Figures(), Clock()
    home = cache(compute, clock)
    home.figures(DAY)
    compute.fail = True
    clock.now = 400
    with caplog.at_level(logging.ERROR):
        home.figures(DAY)
        home.wait(5)
        assert home.figures(DAY)[0] == "figures #1 of 2026-06-30"
        home.wait(5)
    assert "home figures failed" in caplog.text


def test_a_failure_on_the_first_visit_is_the_visits_error() -> None:
    compute, clock = Figures(), Clock()
    compute.fail = True
    with pytest.raises(RuntimeError, match="database gone"):
        cache(compute, clock).figures(DAY)
