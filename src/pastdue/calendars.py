"""Builds the core's :class:`~pastdue.core.calendar.Calendar` from the ``holidays`` package.

The core never looks holidays up (it must stay pure and testable with made-up holidays), so
this adapter is the one place that asks the ``holidays`` package. It is called by the
composition root and by services when a policy counts business days; the result is a plain
value that the engine receives.

Country codes are ISO 3166-1 alpha-2 and matched case-insensitively, because ledgers and
policy files write them both ways. Holidays are the national, public ones (no subdivision),
including "observed" days (e.g. the US Friday off when 4 July is a Saturday), since offices
are closed on those too. Weekend days come from the package as well: several countries
rest on Friday and Saturday. Working Saturdays that some countries decree in exchange for
bridge days cannot be expressed by the core calendar and are ignored.
"""

from __future__ import annotations

from functools import lru_cache

import holidays

from pastdue.core.calendar import Calendar
from pastdue.errors import ConfigurationError

WEEKEND_ONLY_NAME = "weekends only"

__all__ = ["WEEKEND_ONLY_NAME", "calendar_for", "is_known_country"]


def _normalise(code: str) -> str:
    return code.strip().upper()


@lru_cache(maxsize=1)
def _supported() -> frozenset[str]:
    """Codes the package knows, aliases included (``UK`` for ``GB``).

    Checked against this list rather than by attribute lookup on the module, which would
    also "find" names such as ``HolidayBase``.
    """
    return frozenset(holidays.list_supported_countries(include_aliases=True))


def is_known_country(code: str) -> bool:
    """Whether holidays can be looked up for ``code``; lets policy loaders report a Problem."""
    return _normalise(code) in _supported()


def calendar_for(country: str | None, years: range) -> Calendar:
    """The business-day calendar of ``country`` for ``years``; weekends only for ``None``.

    ``years`` should cover every date the caller will shift through (a run near New Year
    reaches into the next year). Raises :class:`~pastdue.errors.ConfigurationError` for a
    country the package does not know: user input is expected to have been checked with
    :func:`is_known_country` already, so reaching here with one is a failure of code.
    """
    if country is None:
        return Calendar(name=WEEKEND_ONLY_NAME)
    code = _normalise(country)
    if code not in _supported():
        raise ConfigurationError(f"no holiday calendar for country {country!r}")
    return _country_calendar(code, years)


@lru_cache(maxsize=64)
def _country_calendar(code: str, years: range) -> Calendar:
    """Cached per (country, years): building a country's holidays takes milliseconds and a
    run asks for the same few calendars for every customer."""
    found = holidays.country_holidays(code, years=list(years), observed=True)
    return Calendar(
        holidays=frozenset(found.keys()),
        weekend=frozenset(found.weekend),
        name=code,
    )
