"""Dunning policies: ordered levels plus the rules that pace them.

:func:`policy_from_dict` checks a whole policy and returns every problem at once, each
naming its path (``levels[2].after_days: must be an integer``), so a person can fix a
policy file in one pass; it never raises on bad input.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pastdue.core.money import Money, is_currency, parse_amount
from pastdue.errors import Problem

CHANNELS = ("email", "sms", "letter", "phone", "webhook")
DEFAULT_DEADLINE_DAYS = 7
DEFAULT_MAX_PROMISE_DAYS = 30
MAX_PROMISE_DAYS_LIMIT = 365


class Escalation(StrEnum):
    STEP = "step"  # at most one level per run, never skipping one
    CATCH_UP = "catch-up"  # straight to the highest level whose threshold has passed


class DayCount(StrEnum):
    CALENDAR = "calendar"
    BUSINESS = "business"


@dataclass(frozen=True, slots=True)
class Level:
    """One step: due ``after_days`` after the due date (negative: before it)."""

    number: int
    name: str
    after_days: int
    channels: tuple[str, ...]
    min_days_since_previous: int = 0
    new_deadline_days: int = DEFAULT_DEADLINE_DAYS
    """Days from the notice to the new payment deadline it prints."""
    requires_approval: bool = False
    """Notices of this level wait in the approval queue until a person decides."""


@dataclass(frozen=True, slots=True)
class Policy:
    name: str
    levels: tuple[Level, ...]
    escalation: Escalation = Escalation.STEP
    days: DayCount = DayCount.CALENDAR
    calendar: str | None = None
    min_days_between_notices: int = 0
    min_balance: Mapping[str, Money] = field(default_factory=dict)
    max_notices_per_7_days: int | None = None
    """Contact cap: at most this many notices reach a customer in any rolling 7 days."""
    max_promise_days: int = DEFAULT_MAX_PROMISE_DAYS
    """How far ahead a customer may promise to pay (in the portal): a promise pauses
    dunning, so an unbounded one would be a way to stop it for good."""
    version: int = 1

    def level(self, number: int) -> Level:
        """Level by its 1-based number."""
        return self.levels[number - 1]

    offsets: tuple[int, ...] = field(init=False, repr=False, compare=False)
    """Each level's ``after_days``, in order; kept because every decision reads it."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "offsets", tuple(level.after_days for level in self.levels))


# Keys that belong to capabilities not built yet: named as unsupported, never ignored.
_LATER_POLICY_KEYS: dict[str, str] = {}
_LATER_LEVEL_KEYS = {
    "fee": "fees",
    "interest": "interest",
    "hand_over": "hand-over to an agency",
}
_POLICY_KEYS = {
    "name",
    "escalation",
    "days",
    "calendar",
    "min_days_between_notices",
    "min_balance",
    "max_notices_per_7_days",
    "max_promise_days",
    "levels",
}
_LEVEL_KEYS = {"name", "after_days", "channels", "min_days_since_previous", "new_deadline_days", "requires_approval"}


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def policy_from_dict(data: Mapping[str, Any], source: str = "policy") -> tuple[Policy | None, list[Problem]]:
    """Build a policy from parsed TOML/JSON, or return every problem found in it."""
    problems: list[Problem] = []

    def bad(path: str, message: str) -> None:
        problems.append(Problem(source, None, path, message))

    for key in data:
        if key in _LATER_POLICY_KEYS:
            bad(key, f"not supported yet ({_LATER_POLICY_KEYS[key]} are not available)")
        elif key not in _POLICY_KEYS:
            bad(key, "unknown setting")

    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        bad("name", "must be a non-empty string")
        name = ""

    escalation = data.get("escalation", Escalation.STEP.value)
    if not isinstance(escalation, str) or escalation not in {e.value for e in Escalation}:
        bad("escalation", 'must be "step" or "catch-up"')
        escalation = Escalation.STEP.value
    days = data.get("days", DayCount.CALENDAR.value)
    if not isinstance(days, str) or days not in {d.value for d in DayCount}:
        bad("days", 'must be "calendar" or "business"')
        days = DayCount.CALENDAR.value

    calendar = data.get("calendar")
    if calendar is not None and (not isinstance(calendar, str) or len(calendar) != 2 or not calendar.isalpha()):
        bad("calendar", 'must be a two-letter country code such as "DE"')
        calendar = None
    if days == DayCount.BUSINESS.value and calendar is None and "calendar" not in data:
        bad("calendar", 'is required when days = "business" (a country code such as "DE")')

    gap = data.get("min_days_between_notices", 0)
    if not _is_int(gap) or gap < 0:
        bad("min_days_between_notices", "must be an integer >= 0")
        gap = 0

    cap = data.get("max_notices_per_7_days")
    if cap is not None and (not _is_int(cap) or cap < 1):
        bad("max_notices_per_7_days", "must be an integer >= 1")
        cap = None

    promise_days = data.get("max_promise_days", DEFAULT_MAX_PROMISE_DAYS)
    if not _is_int(promise_days) or not 1 <= promise_days <= MAX_PROMISE_DAYS_LIMIT:
        bad("max_promise_days", f"must be an integer from 1 to {MAX_PROMISE_DAYS_LIMIT}")
        promise_days = DEFAULT_MAX_PROMISE_DAYS

    min_balance: dict[str, Money] = {}
    raw_min = data.get("min_balance", {})
    if not isinstance(raw_min, Mapping):
        bad("min_balance", 'must be a table such as { EUR = "5.00" }')
    else:
        for currency, value in raw_min.items():
            path = f"min_balance.{currency}"
            if not is_currency(currency):
                bad(path, "unknown ISO 4217 currency")
                continue
            if not isinstance(value, str | int) or isinstance(value, bool):
                bad(path, 'must be a decimal string such as "5.00"')
                continue
            try:
                amount = parse_amount(str(value), currency)
            except ValueError as exc:
                bad(path, str(exc))
                continue
            if amount.amount < 0:
                bad(path, "must not be negative")
            min_balance[currency] = amount

    levels: list[Level] = []
    raw_levels = data.get("levels")
    if not isinstance(raw_levels, list) or not raw_levels:
        bad("levels", "must list at least one level ([[levels]] tables)")
        raw_levels = []
    previous_after: int | None = None
    for i, raw in enumerate(raw_levels, start=1):
        at = f"levels[{i}]"
        if not isinstance(raw, Mapping):
            bad(at, "must be a table")
            continue
        for key in raw:
            if key in _LATER_LEVEL_KEYS:
                bad(f"{at}.{key}", f"not supported yet ({_LATER_LEVEL_KEYS[key]} are not available)")
            elif key not in _LEVEL_KEYS:
                bad(f"{at}.{key}", "unknown setting")
        level_name = raw.get("name")
        if not isinstance(level_name, str) or not level_name.strip():
            bad(f"{at}.name", "must be a non-empty string")
            level_name = f"level {i}"
        raw_after = raw.get("after_days")
        after: int | None = raw_after if _is_int(raw_after) else None
        if after is None:
            bad(f"{at}.after_days", "must be an integer")
        elif previous_after is not None and after <= previous_after:
            bad(f"{at}.after_days", f"must be greater than the previous level's ({previous_after})")
        if after is not None:
            previous_after = after
        channels = raw.get("channels")
        if not isinstance(channels, list) or not channels:
            bad(f"{at}.channels", f"must list at least one of {', '.join(CHANNELS)}")
            channels = []
        else:
            for channel in channels:
                if not isinstance(channel, str) or channel not in CHANNELS:
                    bad(
                        f"{at}.channels",
                        f"unknown channel {channel!r} (known: {', '.join(CHANNELS)})",
                    )
            named = [c for c in channels if isinstance(c, str)]
            if len(set(named)) != len(named):
                bad(f"{at}.channels", "lists a channel twice")
        since = raw.get("min_days_since_previous", 0)
        if not _is_int(since) or since < 0:
            bad(f"{at}.min_days_since_previous", "must be an integer >= 0")
            since = 0
        deadline = raw.get("new_deadline_days", DEFAULT_DEADLINE_DAYS)
        if not _is_int(deadline) or not 0 <= deadline <= 365:
            bad(f"{at}.new_deadline_days", "must be an integer from 0 to 365")
            deadline = DEFAULT_DEADLINE_DAYS
        approval = raw.get("requires_approval", False)
        if not isinstance(approval, bool):
            bad(f"{at}.requires_approval", "must be true or false")
            approval = False
        levels.append(
            Level(
                i,
                level_name,
                after if after is not None else 0,
                tuple(str(c) for c in channels),
                since,
                deadline,
                approval,
            )
        )

    if problems:
        return None, problems
    return (
        Policy(
            name=name,
            levels=tuple(levels),
            escalation=Escalation(escalation),
            days=DayCount(days),
            calendar=calendar.upper() if isinstance(calendar, str) else None,
            min_days_between_notices=gap,
            min_balance=min_balance,
            max_notices_per_7_days=cap,
            max_promise_days=promise_days,
        ),
        [],
    )


def policy_from_toml(text: str, source: str = "policy.toml") -> tuple[Policy | None, list[Problem]]:
    """Parse TOML text (already read by the caller) into a policy, or problems."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return None, [Problem(source, getattr(exc, "lineno", None), None, f"not valid TOML: {exc}")]
    return policy_from_dict(data, source)


def policy_to_dict(policy: Policy) -> dict[str, Any]:
    """The inverse of :func:`policy_from_dict`, for storing and showing policies."""
    out: dict[str, Any] = {
        "name": policy.name,
        "escalation": policy.escalation.value,
        "days": policy.days.value,
        "min_days_between_notices": policy.min_days_between_notices,
    }
    if policy.calendar:
        out["calendar"] = policy.calendar
    if policy.max_notices_per_7_days is not None:
        out["max_notices_per_7_days"] = policy.max_notices_per_7_days
    if policy.max_promise_days != DEFAULT_MAX_PROMISE_DAYS:  # left out at the default: digests stay as they were
        out["max_promise_days"] = policy.max_promise_days
    if policy.min_balance:
        out["min_balance"] = {c: str(m.amount) for c, m in sorted(policy.min_balance.items())}
    out["levels"] = [
        {
            "name": level.name,
            "after_days": level.after_days,
            "channels": list(level.channels),
            **({"min_days_since_previous": level.min_days_since_previous} if level.min_days_since_previous else {}),
            **(
                {"new_deadline_days": level.new_deadline_days}
                if level.new_deadline_days != DEFAULT_DEADLINE_DAYS
                else {}
            ),
            **({"requires_approval": True} if level.requires_approval else {}),
        }
        for level in policy.levels
    ]
    return out


def choose_policy(customer_policy: str | None, policies: Mapping[str, Policy], default: str | None) -> Policy | None:
    """The customer's own policy when named, else the tenant default; ``None`` if neither exists."""
    name = customer_policy or default
    return policies.get(name) if name else None


def below_minimum(policy: Policy, balance: Money) -> bool:
    """True when the open balance is under the policy's minimum for its currency."""
    floor = policy.min_balance.get(balance.currency)
    return floor is not None and balance.amount < floor.amount
