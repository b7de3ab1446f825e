"""Send windows are wall-clock hours where the customer lives, across DST and holidays."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.calendar import Calendar
from pastdue.core.send_window import ALWAYS, SendWindow, parse_window

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
WEEKDAYS = Calendar()
WINDOW = SendWindow()  # 08:00-20:00 on business days


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_inside_the_window_sends_now() -> None:
    now = utc(2026, 6, 30, 9, 0)  # 11:00 in Berlin, a Tuesday
    assert WINDOW.next_open(now, BERLIN, WEEKDAYS) == now


def test_before_the_window_waits_for_eight_local() -> None:
    now = utc(2026, 6, 30, 4, 0)  # 06:00 in Berlin (CEST, UTC+2)
    assert WINDOW.next_open(now, BERLIN, WEEKDAYS) == utc(2026, 6, 30, 6, 0)


def test_after_the_window_waits_for_the_next_business_morning() -> None:
    now = utc(2026, 7, 3, 19, 0)  # Friday 21:00 in Berlin
    assert WINDOW.next_open(now, BERLIN, WEEKDAYS) == utc(2026, 7, 6, 6, 0)  # Monday 08:00


def test_the_same_utc_moment_is_open_in_one_zone_and_closed_in_another() -> None:
    now = utc(2026, 6, 30, 7, 0)  # 09:00 Berlin, 03:00 New York
    assert WINDOW.is_open(now, BERLIN, WEEKDAYS)
    assert WINDOW.next_open(now, NEW_YORK, WEEKDAYS) == utc(2026, 6, 30, 12, 0)  # 08:00 EDT


def test_eight_local_moves_in_utc_when_the_clocks_change_in_spring() -> None:
    # Europe springs forward on Sunday 2026-03-29: Friday 08:00 is 07:00 UTC, Monday 08:00 is 06:00 UTC.
    friday_evening = utc(2026, 3, 27, 20, 0)
    assert WINDOW.next_open(friday_evening, BERLIN, WEEKDAYS) == utc(2026, 3, 30, 6, 0)
    assert WINDOW.next_open(utc(2026, 3, 27, 6, 30), BERLIN, WEEKDAYS) == utc(2026, 3, 27, 7, 0)


def test_eight_local_moves_back_in_autumn() -> None:
    # Europe falls back on Sunday 2026-10-25: Monday 08:00 CET is 07:00 UTC.
    assert WINDOW.next_open(utc(2026, 10, 23, 19, 0), BERLIN, WEEKDAYS) == utc(2026, 10, 26, 7, 0)


def test_a_window_on_the_night_of_the_change_uses_local_wall_time() -> None:
    night = SendWindow(time(1, 0), time(4, 0), business_days_only=False)
    # On 2026-03-29 Berlin skips 02:00-03:00; the window still opens at 01:00 CET = 00:00 UTC.
    assert night.next_open(utc(2026, 3, 28, 23, 30), BERLIN, WEEKDAYS) == utc(2026, 3, 29, 0, 0)
    # It closes at 04:00 CEST = 02:00 UTC, so 02:30 UTC is already past it.
    assert night.next_open(utc(2026, 3, 29, 2, 30), BERLIN, WEEKDAYS) == utc(2026, 3, 29, 23, 0)


def test_holidays_close_the_window() -> None:
    christmas = Calendar(holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    now = utc(2026, 12, 23, 20, 0)  # Wednesday 21:00 in Berlin
    assert WINDOW.next_open(now, BERLIN, christmas) == utc(2026, 12, 28, 7, 0)


def test_every_day_windows_open_on_weekends() -> None:
    daily = SendWindow(business_days_only=False)
    saturday = utc(2026, 7, 4, 10, 0)
    assert daily.next_open(saturday, BERLIN, WEEKDAYS) == saturday


def test_always_is_always_open() -> None:
    now = utc(2026, 7, 4, 23, 59)
    assert ALWAYS.next_open(now, BERLIN, WEEKDAYS) == now


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        WINDOW.next_open(datetime(2026, 6, 30, 9), BERLIN, WEEKDAYS)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("08:00-20:00", SendWindow()),
        ("9:30-17:00", SendWindow(time(9, 30), time(17))),
        ("10:00-16:00 every", SendWindow(time(10), time(16), business_days_only=False)),
        ("always", ALWAYS),
        ("20:00-08:00", None),
        ("8-20", None),
        ("25:00-26:00", None),
    ],
)
def test_window_specs_parse_or_are_refused(spec: str, expected: SendWindow | None) -> None:
    assert parse_window(spec) == expected


ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Sydney", "America/Sao_Paulo", "UTC"]


@given(
    st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)),
    st.sampled_from(ZONES),
)
def test_the_window_found_is_never_in_the_past_and_is_open_then(now: datetime, zone_name: str) -> None:
    zone = ZoneInfo(zone_name)
    opens = WINDOW.next_open(now, zone, WEEKDAYS)
    assert opens >= now
    assert WINDOW.next_open(opens, zone, WEEKDAYS) == opens
    local = opens.astimezone(zone)
    assert local.weekday() < 5 and time(8) <= local.time() < time(20)
