"""Business days: weekends and holidays are skipped, both forwards and backwards."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.calendar import CALENDAR_DAYS, Calendar

# May 2026: Thursday 14 is Ascension Day, Monday 25 Whit Monday (Germany).
DE_MAY_2026 = Calendar(holidays=frozenset({date(2026, 5, 14), date(2026, 5, 25)}), name="DE")
WEEKENDS_ONLY = Calendar()


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 5, 4), 1, date(2026, 5, 5)),  # Mon -> Tue
        (date(2026, 5, 8), 1, date(2026, 5, 11)),  # Fri -> Mon, over the weekend
        (date(2026, 5, 9), 1, date(2026, 5, 11)),  # Sat -> Mon
        (date(2026, 5, 4), 5, date(2026, 5, 11)),  # a working week
        (date(2026, 5, 13), 1, date(2026, 5, 14)),  # no holidays: Thursday counts
    ],
)
def test_weekends_are_skipped(start: date, days: int, expected: date) -> None:
    assert WEEKENDS_ONLY.add_business_days(start, days) == expected


@pytest.mark.parametrize(
    ("start", "days", "expected"),
    [
        (date(2026, 5, 13), 1, date(2026, 5, 15)),  # Wed -> Fri over Ascension Day
        (date(2026, 5, 22), 1, date(2026, 5, 26)),  # Fri -> Tue over weekend + Whit Monday
        (date(2026, 5, 13), 8, date(2026, 5, 27)),  # over both holidays
        (date(2026, 5, 26), -1, date(2026, 5, 22)),  # backwards over both
        (date(2026, 5, 15), -2, date(2026, 5, 12)),  # backwards over Ascension Day
    ],
)
def test_holidays_are_skipped(start: date, days: int, expected: date) -> None:
    assert DE_MAY_2026.add_business_days(start, days) == expected


def test_negative_shift_counts_back_over_the_weekend() -> None:
    monday = date(2026, 5, 11)
    assert WEEKENDS_ONLY.add_business_days(monday, -1) == date(2026, 5, 8)
    assert WEEKENDS_ONLY.add_business_days(monday, -3) == date(2026, 5, 6)
    assert WEEKENDS_ONLY.shift(monday, -3, business=False) == date(2026, 5, 8)


@pytest.mark.parametrize("start", [date(2026, 5, 9), date(2026, 5, 14), date(2026, 5, 12)])
def test_zero_shift_is_the_start_itself_even_on_a_holiday_or_weekend(start: date) -> None:
    assert DE_MAY_2026.add_business_days(start, 0) == start
    assert DE_MAY_2026.shift(start, 0, business=True) == start
    assert DE_MAY_2026.shift(start, 0, business=False) == start


def test_calendar_days_ignore_weekends_and_holidays() -> None:
    assert DE_MAY_2026.shift(date(2026, 5, 13), 1, business=False) == date(2026, 5, 14)
    assert CALENDAR_DAYS.shift(date(2026, 5, 29), 5, business=False) == date(2026, 6, 3)


def test_is_business_day() -> None:
    assert DE_MAY_2026.is_business_day(date(2026, 5, 13))
    assert not DE_MAY_2026.is_business_day(date(2026, 5, 14))
    assert not DE_MAY_2026.is_business_day(date(2026, 5, 16))


def test_a_different_weekend_is_honoured() -> None:
    friday_saturday = Calendar(weekend=frozenset({4, 5}))
    assert friday_saturday.add_business_days(date(2026, 5, 7), 1) == date(2026, 5, 10)  # Thu -> Sun


def test_a_calendar_without_working_days_is_refused() -> None:
    with pytest.raises(ValueError, match="working weekday"):
        Calendar(weekend=frozenset(range(7))).add_business_days(date(2026, 5, 4), 1)


def test_memo_is_invisible_to_equality() -> None:
    used = Calendar(holidays=frozenset({date(2026, 5, 14)}))
    fresh = Calendar(holidays=frozenset({date(2026, 5, 14)}))
    used.add_business_days(date(2026, 5, 13), 3)
    assert used == fresh and hash(used) == hash(fresh)


DAYS = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31))


@given(DAYS, st.integers(-40, 40), st.frozensets(DAYS, max_size=30))
def test_shift_lands_on_a_business_day_after_counting_exactly(
    start: date, days: int, holidays: frozenset[date]
) -> None:
    calendar = Calendar(holidays=holidays)
    end = calendar.add_business_days(start, days)
    if days == 0:
        assert end == start
        return
    assert calendar.is_business_day(end)
    assert (end > start) == (days > 0)
    low, high = sorted((start, end))
    between = [low + timedelta(n) for n in range(1, (high - low).days + 1)]
    if days < 0:  # counting backwards, the start is excluded and the end included
        between = [low + timedelta(n) for n in range((high - low).days)]
    assert sum(calendar.is_business_day(d) for d in between) == abs(days)


@given(DAYS, st.integers(-40, 39), st.frozensets(DAYS, max_size=30))
def test_one_more_business_day_is_always_later(start: date, days: int, holidays: frozenset[date]) -> None:
    calendar = Calendar(holidays=holidays)
    assert calendar.add_business_days(start, days) < calendar.add_business_days(start, days + 1)
