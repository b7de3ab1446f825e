"""When a customer may be contacted: a daily window in the customer's own time zone.

The window is wall-clock time where the customer lives, so "08:00-20:00" stays 08:00-20:00
across daylight-saving changes; the time zone and the holidays are passed in as values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from pastdue.core.calendar import Calendar

_SPEC = re.compile(r"\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*(?:\s(business|every))?\s*\Z")
_SEARCH_DAYS = 40  # enough to cross any run of holidays and weekends


@dataclass(frozen=True, slots=True)
class SendWindow:
    """Open from ``start`` to ``end`` local time; on business days only unless told otherwise.

    ``always`` windows never close: used for channels that do not interrupt anybody
    (a letter in a print batch, a webhook to another system).
    """

    start: time = time(8)
    end: time = time(20)
    business_days_only: bool = True
    always: bool = False

    def next_open(self, now: datetime, zone: tzinfo, calendar: Calendar) -> datetime:
        """``now`` when the window is open, else the moment it next opens (UTC)."""
        if now.tzinfo is None:
            raise ValueError("now must be timezone-aware")
        now = now.astimezone(UTC)
        if self.always:
            return now
        day = now.astimezone(zone).date() - timedelta(days=1)  # the local day may lag UTC
        for _ in range(_SEARCH_DAYS):
            if self._open_on(day, calendar):
                opens = _utc(day, self.start, zone)
                closes = _utc(day, self.end, zone)
                if now < opens:
                    return opens
                if now < closes:
                    return now
            day += timedelta(days=1)
        raise ValueError("the send window never opens in the next 40 days")

    def is_open(self, now: datetime, zone: tzinfo, calendar: Calendar) -> bool:
        return self.next_open(now, zone, calendar) <= now.astimezone(UTC)

    def _open_on(self, day: date, calendar: Calendar) -> bool:
        return calendar.is_business_day(day) if self.business_days_only else True

    def describe(self) -> str:
        if self.always:
            return "always"
        days = "business days" if self.business_days_only else "every day"
        return f"{self.start:%H:%M}-{self.end:%H:%M} {days}"


ALWAYS = SendWindow(always=True)


def _utc(day: date, at: time, zone: tzinfo) -> datetime:
    # fold=0: a wall time that occurs twice (autumn) means its first occurrence; one that
    # never occurs (spring gap) is read with the offset before the change, i.e. one hour later.
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC)


def parse_window(spec: str) -> SendWindow | None:
    """``"08:00-20:00"``, ``"09:00-18:00 every"`` (weekends too) or ``"always"``; ``None`` if malformed."""
    if spec.strip() == "always":
        return ALWAYS
    match = _SPEC.match(spec)
    if not match:
        return None
    h1, m1, h2, m2 = (int(g) for g in match.groups()[:4])
    if h1 > 23 or h2 > 24 or m1 > 59 or m2 > 59 or (h2 == 24 and m2):
        return None
    start = time(h1, m1)
    end = time(23, 59, 59) if h2 == 24 else time(h2, m2)
    if end <= start:
        return None
    return SendWindow(start, end, business_days_only=match.group(5) != "every")
