"""Delivering queued notices: claim, check, render, send outside any transaction, record.

One pass of :meth:`Deliverer.deliver` drains what is due now. Each notice goes through
three short transactions: claimed with a batch (and checked: paid since the run? inside the
send window? under the contact cap?), marked ``sending`` just before the channel is called,
and settled with the channel's answer and an audit event. Because a notice is marked
``sending`` alone and settled before the next one starts, a worker that dies leaves at most
one notice whose outcome is in doubt; :meth:`Deliverer.recover` resolves it per channel
(see :class:`~pastdue.core.delivery.CrashRule`).
"""

from __future__ import annotations

import hashlib
import os
import random
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from time import perf_counter
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from pastdue import calendars
from pastdue.bootstrap import App
from pastdue.channels.base import Attachment, Channel, Lookup, OutgoingMessage, Receipt
from pastdue.core.calendar import Calendar
from pastdue.core.delivery import (
    ADDRESSED,
    CUSTOMER_FACING,
    ContactFlag,
    CrashRule,
    NoticeFacts,
    Status,
    Step,
    cap_frees,
    plan,
    retry_at,
)
from pastdue.core.notice import NoticeDocument
from pastdue.core.policy import Policy
from pastdue.core.send_window import ALWAYS, SendWindow, parse_window
from pastdue.errors import (
    ConfigurationError,
    DeliveryError,
    MessageRejected,
    PermanentFailure,
    TemplateError,
    TemporaryFailure,
)
from pastdue.rendering import Renderer
from pastdue.services.notice_document import Links, build_document, open_items, sender_from_profile
from pastdue.store import audit, outbox
from pastdue.store.audit import AuditEvent
from pastdue.store.database import UnitOfWork, transaction, unit_of_work
from pastdue.store.policies import policy_version
from pastdue.store.sql import stamp, unstamp

CLAIM_BATCH = 50
LEASE = timedelta(minutes=5)
DEFAULT_WINDOWS: Mapping[str, SendWindow] = {
    "email": SendWindow(),
    "sms": SendWindow(),
    "letter": ALWAYS,  # printed and posted in office hours anyway
    "phone": ALWAYS,  # a task for a collector; the call window travels with the task
    "webhook": ALWAYS,
    "calls": SendWindow(time(9), time(18)),  # when collectors should call, printed on each phone task
}


@dataclass
class DeliverySummary:
    """What one pass did; ``outcomes`` counts final and intermediate steps by name."""

    outcomes: Counter[str] = field(default_factory=Counter)
    sent: Counter[str] = field(default_factory=Counter)
    elapsed_s: float = 0.0
    letter_days: set[date] = field(default_factory=set)
    """Days whose letter folders received letters: their print batches are due."""
    print_batches: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": sum(self.sent.values()),
            "sent_by_channel": dict(sorted(self.sent.items())),
            "outcomes": dict(sorted(self.outcomes.items())),
            "print_batches": self.print_batches,
            "elapsed_s": round(self.elapsed_s, 3),
        }


@dataclass(slots=True)
class _Settlement:
    """What to record about one notice after its channel answered."""

    item: _Ready
    status: Status
    values: dict[str, Any]
    event: dict[str, Any] | None
    outcome: str = ""
    due_at: datetime | None = None
    bad_contact: bool = False
    stop: Exception | None = None
    """Raised after recording: the pass cannot go on (the settings are wrong)."""


@dataclass(slots=True)
class _Ready:
    queued: outbox.Queued
    channel: str
    contact: str
    document: NoticeDocument
    attach_letter: NoticeDocument | None


class _DryRun(UnitOfWork):
    def commit(self) -> None:
        self.committed = True


def crash_rule(channel: Channel) -> CrashRule:
    if isinstance(channel, Lookup):
        return CrashRule.ASK
    if channel.name in ("email", "webhook"):
        return CrashRule.RESEND
    return CrashRule.UNKNOWN


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


@lru_cache(maxsize=256)
def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _country_calendar(country: str, year: int) -> Calendar:
    return calendars.calendar_for(country or None, range(year - 1, year + 2))


class Deliverer:
    """Sends due notices through the channels it is given; one per worker process."""

    def __init__(
        self,
        app: App,
        channels: Mapping[str, Channel],
        renderer: Renderer,
        *,
        email_domain: str = "localhost",
        owner: str | None = None,
        batch: int = CLAIM_BATCH,
        lease: timedelta = LEASE,
        rng: random.Random | None = None,
        dry_run: bool = False,
    ) -> None:
        """``dry_run``: do everything in one transaction that is rolled back at the end; give
        it recording channels to see what would have been sent."""
        self.app = app
        self.dry_run = dry_run
        self.channels = channels
        self.renderer = renderer
        self.email_domain = email_domain
        self.owner = owner or worker_id()
        self.batch = batch
        self.lease = lease
        self.rng = rng or random.Random()
        self._policies: dict[tuple[str, int], Policy | None] = {}
        self._connection: Connection | None = None
        self._call_window = DEFAULT_WINDOWS["calls"].describe()
        self._crash_rules: dict[str, CrashRule] = {}

    # --- the pass --------------------------------------------------------------------

    def deliver(self, now: Callable[[], datetime] | None = None, limit: int | None = None) -> DeliverySummary:
        """Send everything due at ``now()``; returns when nothing due is left (or ``limit`` sent)."""
        clock = now or self.app.clock
        started = perf_counter()
        summary = DeliverySummary()
        with self.app.engine.connect() as connection:
            self._connection = connection
            outbox.relax_commits(connection, True)
            try:
                if self.dry_run:
                    connection.begin()
                self._pass(clock, limit, summary)
            finally:
                self._connection = None
                if connection.in_transaction():
                    connection.rollback()  # a dry run, or a pass that failed half-way
                outbox.relax_commits(connection, False)
        summary.elapsed_s = perf_counter() - started
        return summary

    def _pass(self, clock: Callable[[], datetime], limit: int | None, summary: DeliverySummary) -> None:
        self.recover(clock(), summary)
        handled = 0
        while limit is None or handled < limit:
            ready = self._claim(clock(), summary)
            if ready is None:
                break
            self._send_all(ready, clock, summary)
            handled += len(ready)

    @contextmanager
    def _transaction(self) -> Iterator[UnitOfWork]:
        if self.dry_run and self._connection is not None:
            yield _DryRun(self._connection)  # the pass's one transaction, rolled back at its end
        elif self._connection is not None:
            with transaction(self._connection) as uow:
                yield uow
        else:
            with unit_of_work(self.app.engine) as uow:
                yield uow

    # --- claiming and checking -------------------------------------------------------

    def _claim(self, now: datetime, summary: DeliverySummary) -> list[_Ready] | None:
        """Claim a batch and check each notice; ``None`` when nothing is due."""
        tenant = self.app.tenant
        with self._transaction() as uow:
            connection = uow.connection
            claimed = outbox.claim(connection, tenant, now, self.owner, self.batch, now + self.lease)
            if not claimed:
                return None
            context = outbox.load_context(connection, tenant, (q.customer_id for q in claimed), now.date())
            profile = outbox.profile(connection, tenant)
            sender = sender_from_profile(profile, tenant)
            links = Links(self.app.settings.base_url, self._link_secret(profile))
            windows = _windows(profile)
            self._call_window = windows["calls"].describe()
            events: list[AuditEvent] = []
            ready: list[_Ready] = []
            for queued in claimed:
                if queued.channel not in self.channels:
                    reason = f"the {queued.channel} channel is not configured"
                    outbox.move(connection, tenant, queued.id, Status.FAILED, owner=self.owner, error=reason)
                    events.append(self._event(queued, Status.FAILED.value, reason=reason))
                    summary.outcomes[Status.FAILED.value] += 1
                    continue
                policy = self._policy(connection, queued)
                facts = self._facts(queued, context, policy, windows, now)
                step = plan(facts, now)
                if step.step is Step.SEND:
                    document = build_document(
                        queued,
                        context,
                        policy,
                        sender,
                        links,
                        tenant,
                        now.date(),
                        contact=step.contact,
                        message_id=self._message_id(queued),
                    )
                    letter = None
                    if queued.channel == "email" and policy and "letter" in policy.level(queued.level).channels:
                        letter = build_document(
                            queued, context, policy, sender, links, tenant, now.date(), channel="letter"
                        )
                    ready.append(_Ready(queued, queued.channel, step.contact, document, letter))
                    continue
                if step.step is Step.WAIT:
                    outbox.move(connection, tenant, queued.id, Status.PENDING, owner=self.owner, due_at=step.until)
                    summary.outcomes["waiting"] += 1
                    continue
                if step.step is Step.SWITCH:
                    outbox.move(
                        connection,
                        tenant,
                        queued.id,
                        Status.PENDING,
                        owner=self.owner,
                        due_at=now,
                        channel=step.channel,
                    )
                    events.append(self._event(queued, "switched", reason=step.reason, to_channel=step.channel))
                    summary.outcomes["switched"] += 1
                    continue
                status = Status.CANCELLED if step.step is Step.CANCEL else Status.SUPPRESSED
                outbox.move(connection, tenant, queued.id, status, owner=self.owner, error=step.reason)
                events.append(self._event(queued, status.value, reason=step.reason))
                summary.outcomes[status.value] += 1
            audit.append(connection, tenant, events, now)
            uow.commit()
        return ready

    def _facts(
        self,
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

    # --- sending -----------------------------------------------------------------------

    def _send_all(self, ready: list[_Ready], clock: Callable[[], datetime], summary: DeliverySummary) -> None:
        """Send a claimed batch one notice at a time.

        The outcome of one notice is committed in the same transaction that marks the next
        one ``sending``, so there is one commit per notice and never more than one notice
        whose outcome is not on record.
        """
        # Rendered first, so that the time a sent message waits for its outcome to be recorded
        # (the window in which a crash makes a duplicate) is the send itself and no more.
        messages: list[tuple[_Ready, OutgoingMessage]] = []
        failed: list[_Settlement | None] = []
        for item in ready:
            try:
                messages.append((item, self._message(item)))
            except TemplateError as exc:
                failed.append(_Settlement(item, Status.FAILED, {"error": str(exc)[:500]}, {"reason": str(exc)}))
        if failed:
            self._commit(clock(), summary, failed)
        unsettled: _Settlement | None = None
        for item, message in messages:
            held = self._commit(clock(), summary, [unsettled], sending=(item, message))
            unsettled = None
            if not held:
                summary.outcomes["lease_lost"] += 1
                continue
            unsettled = self._send(item, message, clock())
            if unsettled.stop is not None:
                self._commit(clock(), summary, [unsettled])
                self._release(ready, clock())
                raise unsettled.stop
        if unsettled is not None:
            self._commit(clock(), summary, [unsettled])

    def _release(self, ready: list[_Ready], now: datetime) -> None:
        """Give back what this worker still holds, for the next pass to take."""
        with self._transaction() as uow:
            for item in ready:
                outbox.release(uow.connection, self.app.tenant, item.queued.id, self.owner, now)
            uow.commit()

    def _send(self, item: _Ready, message: OutgoingMessage, now: datetime) -> _Settlement:
        """Hand one message to its channel, outside any transaction; say what to record."""
        attempts = item.queued.attempts + 1
        try:
            receipt = self.channels[item.channel].send(message)
        except ConfigurationError as exc:
            # Nothing can be sent until someone fixes the settings: put the notice back
            # untouched and stop the pass with the error.
            return _Settlement(
                item, Status.PENDING, {"error": str(exc)[:500]}, None, outcome="not_sent", due_at=now, stop=exc
            )
        except MessageRejected as exc:
            return _Settlement(item, Status.FAILED, {"error": str(exc)[:500]}, {"reason": str(exc)})
        except PermanentFailure as exc:
            if item.contact and item.channel in ADDRESSED:
                # The next check picks another contact, or another channel of the level.
                return _Settlement(
                    item,
                    Status.PENDING,
                    {"error": str(exc)[:500]},
                    {"contact": item.contact, "reason": str(exc)},
                    outcome="bounced",
                    due_at=now,
                    bad_contact=True,
                )
            return _Settlement(item, Status.FAILED, {"error": str(exc)[:500]}, {"reason": str(exc)})
        except (TemporaryFailure, DeliveryError, OSError) as exc:
            error = str(exc) if isinstance(exc, TemporaryFailure) else f"{type(exc).__name__}: {exc}"
            again = retry_at(now, attempts, getattr(exc, "retry_after", None), self.rng)
            if again is None:
                return _Settlement(item, Status.FAILED, {"error": error[:500]}, {"reason": error, "attempts": attempts})
            return _Settlement(item, Status.PENDING, {"error": error[:500]}, None, outcome="retry", due_at=again)
        return _Settlement(
            item,
            Status.SENT,
            {"sent_at": stamp(now), "provider_id": receipt.provider_id[:300], "error": None},
            {"contact": item.contact, "provider_id": receipt.provider_id, "attempt": attempts},
        )

    def _commit(
        self,
        now: datetime,
        summary: DeliverySummary,
        settlements: list[_Settlement | None],
        sending: tuple[_Ready, OutgoingMessage] | None = None,
    ) -> bool:
        """Record outcomes and, if given, mark the next notice ``sending``; ``False`` if its lease was lost."""
        tenant = self.app.tenant
        held = True
        with self._transaction() as uow:
            connection = uow.connection
            if sending is not None and self._crash_rule(sending[0].channel) is CrashRule.UNKNOWN:
                # The pass's connection acknowledges commits before they reach the disk: only a
                # database crash could lose one, and then the notice is sent again, which e-mail
                # (same Message-ID), webhooks and gateways (same idempotency key) and files (same
                # name) make harmless. A mark before a channel that can neither deduplicate nor
                # be asked is flushed to disk all the same.
                outbox.durable_commit(connection)
            events: list[AuditEvent] = []
            for settlement in settlements:
                if settlement is not None:
                    self._apply(connection, settlement, now, summary, events)
            if sending is not None:
                item, message = sending
                held = outbox.move(
                    connection,
                    tenant,
                    item.queued.id,
                    Status.SENDING,
                    owner=self.owner,
                    due_at=now + self.lease,
                    attempts=item.queued.attempts + 1,
                    contact=item.contact or None,
                    message_id=message.message_id,
                )
            audit.append(connection, tenant, events, now)
            uow.commit()
        return held

    def _apply(
        self,
        connection: Any,
        settlement: _Settlement,
        now: datetime,
        summary: DeliverySummary,
        events: list[AuditEvent],
    ) -> None:
        item = settlement.item
        queued = item.queued
        if settlement.bad_contact:
            reason = str(settlement.values.get("error", ""))
            outbox.set_flag(connection, self.app.tenant, item.channel, item.contact, ContactFlag.BAD, reason, now)
        moved = outbox.move(
            connection,
            self.app.tenant,
            queued.id,
            settlement.status,
            owner=self.owner,
            due_at=settlement.due_at,
            **settlement.values,
        )
        if not moved:
            summary.outcomes["lease_lost"] += 1
            return
        outcome = settlement.outcome or settlement.status.value
        summary.outcomes[outcome] += 1
        if settlement.event is not None:
            events.append(self._event(queued, outcome, **settlement.event))
        if settlement.status is Status.SENT:
            summary.sent[item.channel] += 1
            if item.channel == "letter":
                summary.letter_days.add(queued.created_on)

    def _message(self, item: _Ready) -> OutgoingMessage:
        document = item.document
        rendered = self.renderer.render(document) if item.channel != "webhook" else None
        attachments: tuple[Attachment, ...] = ()
        if item.attach_letter is not None:
            from pastdue.pdf import render_pdf  # WeasyPrint loads only where letters are made

            letter = self.renderer.render(item.attach_letter)
            attachments = (Attachment(f"notice-{document.reference}.pdf", "application/pdf", render_pdf(letter.html)),)
        customer = document.customer
        metadata = {
            "tenant": document.tenant,
            "level": str(document.level),
            "level_name": document.level_name,
            "created_on": document.created_on.isoformat(),
            "deadline": document.deadline.isoformat(),
            "timezone": document.timezone,
            "language": document.language,
            "totals": ", ".join(f"{m.amount} {m.currency}" for m in document.totals),
            "invoices": ", ".join(line.number for line in document.items),
        }
        if item.channel == "phone":
            metadata["call_window"] = self._call_window
        return OutgoingMessage(
            notice_id=document.notice_id,
            channel=item.channel,
            customer_id=document.customer_id,
            to=item.contact,
            recipient_name=customer.name,
            subject=rendered.subject if rendered else f"Dunning level {document.level}: {document.level_name}",
            text=rendered.text if rendered else "",
            html=rendered.html if rendered else "",
            postal_address=customer.address_lines,
            attachments=attachments,
            message_id=document.message_id,
            idempotency_key=f"{document.notice_id}-{hashlib.sha256(item.contact.encode()).hexdigest()[:8]}",
            unsubscribe_url=document.unsubscribe_url,
            metadata=metadata,
        )

    def _message_id(self, queued: outbox.Queued) -> str:
        return f"<{queued.id}@{self.email_domain}>"

    def _event(self, queued: outbox.Queued, outcome: str, **details: Any) -> AuditEvent:
        return AuditEvent(
            "delivery",
            queued.id,
            {
                "notice": queued.id,
                "customer_id": queued.customer_id,
                "channel": queued.channel,
                "level": queued.level,
                "outcome": outcome,
                "message_id": self._message_id(queued) if queued.channel == "email" else None,
                **details,
            },
            actor=f"worker {self.owner}",
        )

    # --- crash recovery ----------------------------------------------------------------

    def recover(self, now: datetime, summary: DeliverySummary | None = None) -> None:
        """Settle notices whose worker's lease ran out, per channel's :class:`CrashRule`."""
        summary = summary or DeliverySummary()
        to_ask: list[outbox.Queued] = []
        with self._transaction() as uow:
            connection = uow.connection
            events: list[AuditEvent] = []
            for queued in outbox.expired(connection, self.app.tenant, now, 1000):
                if queued.status == Status.CLAIMED:
                    outbox.move(connection, self.app.tenant, queued.id, Status.PENDING, owner=None, due_at=now)
                    summary.outcomes["lease_expired"] += 1
                    continue
                channel = self.channels.get(queued.channel)
                rule = self._crash_rule(queued.channel) if channel is not None else CrashRule.UNKNOWN
                if rule is CrashRule.RESEND:
                    outbox.move(
                        connection,
                        self.app.tenant,
                        queued.id,
                        Status.PENDING,
                        owner=None,
                        due_at=now,
                        resends=queued.resends + 1,
                    )
                    events.append(self._event(queued, "resend_after_crash", possible_duplicate=True))
                    summary.outcomes["resend_after_crash"] += 1
                else:
                    # Unknown until the provider says otherwise; stays unknown if asking fails.
                    outbox.move(
                        connection,
                        self.app.tenant,
                        queued.id,
                        Status.UNKNOWN,
                        owner=None,
                        error="the worker stopped while sending; the outcome is not known",
                    )
                    events.append(self._event(queued, "unknown"))
                    if rule is CrashRule.ASK:
                        to_ask.append(queued)
                    else:
                        summary.outcomes["unknown"] += 1
            audit.append(connection, self.app.tenant, events, now)
            uow.commit()
        for queued in to_ask:
            self._ask(queued, now, summary)

    def _ask(self, queued: outbox.Queued, now: datetime, summary: DeliverySummary) -> None:
        channel = self.channels[queued.channel]
        assert isinstance(channel, Lookup)
        probe = OutgoingMessage(
            notice_id=queued.id,
            channel=queued.channel,
            customer_id=queued.customer_id,
            to=queued.contact or "",
            recipient_name="",
            message_id=queued.message_id or "",
            idempotency_key=f"{queued.id}-{hashlib.sha256((queued.contact or '').encode()).hexdigest()[:8]}",
            metadata={"created_on": queued.created_on.isoformat()},
        )
        try:
            found: Receipt | None = channel.lookup(probe)
        except (DeliveryError, OSError):
            summary.outcomes["unknown"] += 1
            return
        with self._transaction() as uow:
            current = outbox.by_id(uow.connection, self.app.tenant, queued.id, lock=True)
            if current is None or current.status != Status.UNKNOWN:
                return
            if found is not None:
                outbox.move(
                    uow.connection,
                    self.app.tenant,
                    queued.id,
                    Status.SENT,
                    owner=None,
                    sent_at=stamp(now),
                    provider_id=found.provider_id[:300],
                    error=None,
                )
                outcome = "sent_per_provider"
            else:
                outbox.move(
                    uow.connection, self.app.tenant, queued.id, Status.PENDING, owner=None, due_at=now, error=None
                )
                outcome = "not_sent_per_provider"
            audit.append(uow.connection, self.app.tenant, [self._event(queued, outcome)], now)
            uow.commit()
        summary.outcomes[outcome] += 1

    # --- small lookups -------------------------------------------------------------------

    def _policy(self, connection: Any, queued: outbox.Queued) -> Policy | None:
        key = (queued.policy_name, queued.policy_version)
        if key not in self._policies:
            self._policies[key] = policy_version(connection, self.app.tenant, *key)
        return self._policies[key]

    def _crash_rule(self, channel: str) -> CrashRule:
        rule = self._crash_rules.get(channel)
        if rule is None:  # isinstance on a runtime Protocol is slow: once per channel
            rule = self._crash_rules[channel] = crash_rule(self.channels[channel])
        return rule

    def _link_secret(self, profile: Mapping[str, Any]) -> str:
        # Every tenant is created with a random secret in its profile; the setting overrides it.
        return self.app.settings.secret_key or str(profile.get("link_secret") or "")


def _windows(profile: Mapping[str, Any]) -> dict[str, SendWindow]:
    windows = dict(DEFAULT_WINDOWS)
    for channel, spec in dict(profile.get("windows", {})).items():
        window = parse_window(str(spec))
        if window is not None:
            windows[channel] = window
    return windows
