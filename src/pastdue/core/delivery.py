"""What to do with a queued notice just before it is sent, and after a send fails.

Pure rules, so that every branch of the delivery queue can be walked in a unit test:
:func:`plan` looks at the notice as it stands at the moment of sending (are its invoices
still open, may this customer be contacted now, on which address) and says send, wait,
cancel, suppress or switch channel; :func:`retry_at` spaces retries out.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum


class Status(StrEnum):
    """A notice's place in the delivery queue; the last six are final."""

    AWAITING_APPROVAL = "awaiting_approval"
    PENDING = "pending"
    CLAIMED = "claimed"  # leased by a worker, not yet being sent
    SENDING = "sending"  # handed to the channel; a crash here leaves the outcome in doubt
    UNKNOWN = "unknown"  # a crash in the send window that nobody could resolve: a person decides
    SENT = "sent"
    FAILED = "failed"
    CANCELLED = "cancelled"
    SUPPRESSED = "suppressed"
    REJECTED = "rejected"


FINAL = frozenset({Status.SENT, Status.FAILED, Status.CANCELLED, Status.SUPPRESSED, Status.REJECTED})


class CrashRule(StrEnum):
    """What a notice left in ``sending`` by a dead worker becomes, per channel.

    ``resend``: at-least-once; the same Message-ID or idempotency key makes any duplicate
    recognisable (e-mail, webhooks). ``ask``: the channel can say whether the message
    exists (a gateway lookup, a letter file); only if it cannot is the notice ``unknown``.
    ``unknown``: never resent blindly; a person decides (SMS without a lookup).
    """

    RESEND = "resend"
    ASK = "ask"
    UNKNOWN = "unknown"


class ContactFlag(StrEnum):
    CONSENT = "consent"
    OPTED_OUT = "opted_out"
    BAD = "bad"


# Channels that speak to the customer, and so count towards contact caps.
CUSTOMER_FACING = frozenset({"email", "sms", "letter", "phone"})
# Channels that need recorded consent before a consumer may be contacted on them.
CONSENT_REQUIRED_FOR_CONSUMERS = frozenset({"sms"})
# Channels reaching one specific address that can bounce or be opted out of.
ADDRESSED = frozenset({"email", "sms", "phone"})


@dataclass(frozen=True, slots=True)
class NoticeFacts:
    """What :func:`plan` needs to know about one queued notice, read just before sending."""

    channel: str
    level_channels: tuple[str, ...]
    """The channels of the notice's level, in policy order: where a notice may move."""
    channels_taken: frozenset[str]
    """Channels on which this customer already has a notice from the same run."""
    contacts: tuple[str, ...]
    """Addresses on this channel, in the customer's order of preference."""
    flags: dict[str, ContactFlag]
    """Flags of those addresses (absent: nothing known)."""
    has_postal_address: bool
    consumer: bool
    open_items: int
    """Invoices of the notice still open and not on hold."""
    customer_held: bool
    exempt: bool
    window_opens: datetime
    """When the send window is next open (``now`` when open now)."""
    cap_frees: datetime | None
    """When the contact cap next allows a notice; ``None`` when it allows one now."""


class Step(StrEnum):
    SEND = "send"
    WAIT = "wait"
    CANCEL = "cancel"
    SUPPRESS = "suppress"
    SWITCH = "switch"


@dataclass(frozen=True, slots=True)
class Plan:
    step: Step
    reason: str = ""
    contact: str = ""
    until: datetime | None = None
    channel: str = ""


def usable_contacts(facts: NoticeFacts) -> tuple[str, ...]:
    """Addresses that may be used: not bad, not opted out, consented where consent is needed."""
    needs_consent = facts.consumer and facts.channel in CONSENT_REQUIRED_FOR_CONSUMERS
    return tuple(
        address
        for address in facts.contacts
        if (flag := facts.flags.get(address)) not in (ContactFlag.BAD, ContactFlag.OPTED_OUT)
        and (not needs_consent or flag is ContactFlag.CONSENT)
    )


def plan(facts: NoticeFacts, now: datetime) -> Plan:
    """Send now, wait, or end the notice without sending; checked again before every attempt."""
    if facts.exempt:
        return Plan(Step.CANCEL, "the customer is exempt from dunning")
    if facts.customer_held:
        return Plan(Step.CANCEL, "the customer is on hold")
    if facts.open_items == 0:
        return Plan(Step.CANCEL, "every invoice of the notice is paid, credited or on hold")
    contact = ""
    if facts.channel in ADDRESSED:
        usable = usable_contacts(facts)
        if not usable:
            reason = _no_contact_reason(facts)
            fallback = next_channel(facts)
            if fallback:
                return Plan(Step.SWITCH, reason, channel=fallback)
            return Plan(Step.SUPPRESS, reason)
        contact = usable[0]
    elif facts.channel == "letter" and not facts.has_postal_address:
        fallback = next_channel(facts)
        if fallback:
            return Plan(Step.SWITCH, "no postal address", channel=fallback)
        return Plan(Step.SUPPRESS, "no postal address")
    if facts.cap_frees is not None and facts.cap_frees > now:
        return Plan(Step.WAIT, "contact cap reached", contact, until=facts.cap_frees)
    if facts.window_opens > now:
        return Plan(Step.WAIT, "outside the send window", contact, until=facts.window_opens)
    return Plan(Step.SEND, contact=contact)


def next_channel(facts: NoticeFacts) -> str:
    """The next channel of the level after this one that the customer has no notice on yet."""
    channels = facts.level_channels
    start = channels.index(facts.channel) + 1 if facts.channel in channels else len(channels)
    for channel in channels[start:]:
        if channel not in facts.channels_taken:
            return channel
    return ""


def _no_contact_reason(facts: NoticeFacts) -> str:
    if not facts.contacts:
        return f"no {facts.channel} contact"
    flags = {facts.flags.get(a) for a in facts.contacts}
    if ContactFlag.OPTED_OUT in flags and ContactFlag.BAD not in flags:
        return f"opted out of {facts.channel}"
    if ContactFlag.BAD in flags and ContactFlag.OPTED_OUT not in flags:
        return f"every {facts.channel} contact is bad"
    if facts.consumer and facts.channel in CONSENT_REQUIRED_FOR_CONSUMERS and not flags - {None}:
        return f"no consent for {facts.channel}"
    return f"no usable {facts.channel} contact"


MAX_ATTEMPTS = 8
_BASE = timedelta(minutes=1)
_CAP = timedelta(hours=6)


def retry_at(now: datetime, attempts: int, retry_after: float | None, rng: random.Random) -> datetime | None:
    """When to try again after ``attempts`` failed attempts, or ``None``: give up.

    Exponential backoff (1, 2, 4 ... minutes, at most 6 hours) with full jitter in its upper
    half, so that workers that failed together do not retry together; a provider's
    ``Retry-After`` is a floor.
    """
    if attempts >= MAX_ATTEMPTS:
        return None
    delay: timedelta = min(_BASE * (2 ** (attempts - 1)), _CAP)
    delay = delay / 2 + delay / 2 * rng.random()
    if retry_after is not None:
        delay = max(delay, timedelta(seconds=retry_after))
    return now + delay


def cap_frees(sent_at: Sequence[datetime], cap: int | None, now: datetime) -> datetime | None:
    """When a capped customer may be contacted again, given when earlier notices went out.

    ``sent_at`` holds one time per earlier contact in the last 7 days; ``None`` means the cap
    (if any) allows a notice now.
    """
    if cap is None:
        return None
    window = timedelta(days=7)
    recent = sorted(t for t in sent_at if t > now - window)
    if len(recent) < cap:
        return None
    return recent[len(recent) - cap] + window
