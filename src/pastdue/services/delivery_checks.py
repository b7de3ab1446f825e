"""What decides, just before sending, whether and where a notice may go: the facts handed
to :func:`pastdue.core.delivery.plan`, read from the store's context of the batch, and the
tenant's send windows."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pastdue import calendars
from pastdue.core.calendar import Calendar
from pastdue.core.delivery import CUSTOMER_FACING, NoticeFacts, Status, cap_frees
from pastdue.core.policy import Policy
from pastdue.core.send_window import ALWAYS, SendWindow, parse_window
from pastdue.services.notice_document import open_items
from pastdue.store import outbox
from pastdue.store.sql import unstamp

DEFAULT_WINDOWS: Mapping[str, SendWindow] = {
    "email": SendWindow(),
    "sms": SendWindow(),
    "letter": ALWAYS,  # printed and posted in office hours anyway
    "phone": ALWAYS,  # a task for a collector; the call window travels with the task
    "webhook": ALWAYS,
    "calls": SendWindow(time(9), time(18)),  # when collectors should call, printed on each phone task
}


def windows_from_profile(profile: Mapping[str, Any]) -> dict[str, SendWindow]:
    """The defaults, with the tenant's own windows (``pastdue profile set window.sms ...``) on top."""
    windows = dict(DEFAULT_WINDOWS)
    for channel, spec in dict(profile.get("windows", {})).items():
        window = parse_window(str(spec))
        if window is not None:
            windows[channel] = window
    return windows


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _country_calendar(country: str, year: int) -> Calendar:
    return calendars.calendar_for(country or None, range(year - 1, year + 2))


def notice_facts(
    queued: outbox.Queued,
    context: outbox.Context,
    policy: Policy | None,
    windows: Mapping[str, SendWindow],
    now: datetime,
) -> NoticeFacts:
    customer = context.customers[queued.customer_id]
    siblings = context.siblings.get(queued.customer_id, [])
    taken = frozenset(s.channel for s in siblings if s.created_on == queued.created_on and s.id != queued.id)
    if queued.channel == "email":
        contacts = outbox.split_contacts(customer.email)
    elif queued.channel in ("sms", "phone"):
        contacts = outbox.split_contacts(customer.phone)
    else:
        contacts = ()
    cap = policy.max_notices_per_7_days if policy else None
    frees = None
    if cap is not None and queued.channel in CUSTOMER_FACING:
        # One contact per run: a letter and an e-mail of the same run are one reminder.
        runs: dict[Any, datetime] = {}
        for s in siblings:
            earlier_run = s.created_on != queued.created_on
            if s.status == Status.SENT and s.sent_at and earlier_run and s.channel in CUSTOMER_FACING:
                sent = unstamp(s.sent_at)
                runs[s.created_on] = min(runs.get(s.created_on, sent), sent)
        frees = cap_frees(list(runs.values()), cap, now)
    window = windows.get(queued.channel, ALWAYS)
    zone = _zone(customer.timezone)
    opens = window.next_open(now, zone, _country_calendar(customer.country, now.year))
    return NoticeFacts(
        channel=queued.channel,
        level_channels=policy.level(queued.level).channels if policy else (queued.channel,),
        channels_taken=taken,
        contacts=contacts,
        flags={a: f for (ch, a), f in context.flags.items() if ch == queued.channel and a in contacts},
        has_postal_address=bool(customer.street and customer.city),
        consumer=customer.kind == "consumer",
        open_items=len(open_items(queued, context)),
        customer_held=queued.customer_id in context.held_customers,
        exempt=customer.exempt,
        window_opens=opens,
        cap_frees=frees,
    )
