"""The holidays adapter: country calendars are values the core can use without looking up."""

from __future__ import annotations

from datetime import date

import pytest

from pastdue.calendars import WEEKEND_ONLY_NAME, calendar_for, is_known_country
from pastdue.core.calendar import Calendar
from pastdue.errors import ConfigurationError

YEARS = range(2025, 2028)


def test_german_calendar_knows_christmas_and_unity_day() -> None:
    cal = calendar_for("DE", YEARS)
    assert date(2026, 12, 25) in cal.holidays
    assert date(2026, 10, 3) in cal.holidays
    assert not cal.is_business_day(date(2026, 12, 25))
    assert cal.is_business_day(date(2026, 12, 23))


def test_german_calendar_covers_every_requested_year() -> None:
    cal = calendar_for("DE", YEARS)
    assert {date(year, 1, 1) for year in YEARS} <= cal.holidays
    assert date(2028, 1, 1) not in cal.holidays


def test_business_days_skip_german_christmas_and_the_weekend() -> None:
    cal = calendar_for("DE", YEARS)
    # Thursday 24 December 2026 + 1 business day: 25th and 26th are holidays, 27th a Sunday.
    assert cal.add_business_days(date(2026, 12, 24), 1) == date(2026, 12, 28)


def test_country_codes_are_matched_case_insensitively() -> None:
    assert calendar_for("de", YEARS) == calendar_for("DE", YEARS)
    assert is_known_country("de")
    assert calendar_for("DE", YEARS).name == "DE"


def test_the_calendar_is_cached_per_country_and_years() -> None:
    assert calendar_for("DE", YEARS) is calendar_for("DE", YEARS)
    assert calendar_for("DE", range(2026, 2027)) is not calendar_for("DE", YEARS)


def test_weekend_comes_from_the_country() -> None:
    assert calendar_for("IL", YEARS).weekend == frozenset({4, 5})
    assert calendar_for("FR", YEARS).weekend == frozenset({5, 6})


def test_observed_holidays_are_days_off() -> None:
    # 4 July 2026 is a Saturday; the federal holiday is observed on Friday 3 July.
    assert date(2026, 7, 3) in calendar_for("US", YEARS).holidays


@pytest.mark.parametrize("code", ["DE", "AT", "FR", "NL", "BE", "ES", "GB", "IE", "US", "CH", "JP"])
def test_countries_of_the_demo_ledger_are_known(code: str) -> None:
    assert is_known_country(code)


@pytest.mark.parametrize("code", ["XX", "", "HolidayBase", "country_holidays", "D"])
def test_unknown_country_code_is_reported_false(code: str) -> None:
    assert not is_known_country(code)


def test_unknown_country_cannot_build_a_calendar() -> None:
    with pytest.raises(ConfigurationError, match="XX"):
        calendar_for("XX", YEARS)


def test_no_country_gives_a_weekend_only_calendar() -> None:
    cal = calendar_for(None, YEARS)
    assert cal == Calendar(holidays=frozenset(), weekend=frozenset({5, 6}), name=WEEKEND_ONLY_NAME)
    assert cal.is_business_day(date(2026, 12, 25))
    assert not cal.is_business_day(date(2026, 12, 26))
