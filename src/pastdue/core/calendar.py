"""Business days as a value: which weekdays are weekend and which dates are holidays.

The core never looks holidays up; an adapter builds a :class:`Calendar` (from the
``holidays`` package) and passes it in, so tests can state their own holidays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class Calendar:
    """Weekend days (``date.weekday()`` numbers) and holidays.

    Shifts are memoised per calendar value because a run asks the same few hundred due
    dates over and over; the memo is invisible to equality and never changes a result.
    """

    holidays: frozenset[date] = frozenset()
    weekend: frozenset[int] = frozenset({5, 6})
    name: str = ""
    _memo: dict[tuple[date, int], date] = field(default_factory=dict, compare=False, hash=False, repr=False)
    _thresholds: dict[tuple[date, tuple[int, ...], bool], tuple[date, ...]] = field(
        default_factory=dict, compare=False, hash=False, repr=False
    )

    def is_business_day(self, day: date) -> bool:
        return day.weekday() not in self.weekend and day not in self.holidays

    def add_business_days(self, start: date, days: int) -> date:
        """The date ``days`` business days after ``start`` (before it when negative).

        Zero returns ``start`` itself, whatever day it is: "on the due date".
        """
        key = (start, days)
        hit = self._memo.get(key)
        if hit is not None:
            return hit
        if len(self.weekend) >= 7:
            raise ValueError("a calendar needs at least one working weekday")
        step = _ONE_DAY if days >= 0 else -_ONE_DAY
        day, left = start, abs(days)
        while left:
            day += step
            if self.is_business_day(day):
                left -= 1
        self._memo[key] = day
        return day

    def thresholds(self, start: date, offsets: tuple[int, ...], business: bool) -> tuple[date, ...]:
        """``start`` shifted by each offset; memoised, since a run asks the same few hundred."""
        key = (start, offsets, business)
        hit = self._thresholds.get(key)
        if hit is None:
            hit = self._thresholds[key] = tuple(self.shift(start, n, business) for n in offsets)
        return hit

    def shift(self, start: date, days: int, business: bool) -> date:
        """Calendar or business-day offset, as a policy's ``days`` setting asks."""
        if business:
            return self.add_business_days(start, days)
        return start + timedelta(days=days)


CALENDAR_DAYS = Calendar(name="calendar days")
