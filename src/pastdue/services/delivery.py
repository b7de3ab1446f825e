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

import os
import random
import socket
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from time import perf_counter
from typing import Any

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.channels.base import Attachment, Channel, Lookup, OutgoingMessage, Receipt
from pastdue.core.delivery import (
    ADDRESSED,
    ContactFlag,
    CrashRule,
    Status,
    Step,
    plan,
    retry_at,
)
from pastdue.core.notice import NoticeDocument
from pastdue.core.policy import Policy
from pastdue.errors import (
    ConfigurationError,
    DeliveryError,
    MessageRejected,
    PermanentFailure,
    TemplateError,
    TemporaryFailure,
)
from pastdue.links import tenant_secret
from pastdue.rendering import Renderer
from pastdue.services.delivery_checks import DEFAULT_WINDOWS, notice_facts, windows_from_profile
from pastdue.services.notice_document import (
    Links,
    build_document,
    idempotency_key,
    outgoing_message,
    sender_from_profile,
)
from pastdue.store import audit, outbox
from pastdue.store.audit import AuditEvent
from pastdue.store.database import UnitOfWork, transaction, unit_of_work
from pastdue.store.policies import policy_version
from pastdue.store.sql import stamp

CLAIM_BATCH = 50
LEASE = timedelta(minutes=5)


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
            windows = windows_from_profile(profile)
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
                facts = notice_facts(queued, context, policy, windows, now)
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
        extra = {"call_window": self._call_window} if item.channel == "phone" else {}
        return outgoing_message(document, item.channel, item.contact, rendered, attachments, extra)

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
            idempotency_key=idempotency_key(queued.id, queued.contact or ""),
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
        return tenant_secret(self.app.settings.secret_key, profile)
