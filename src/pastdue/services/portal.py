"""What a customer does in the portal: look at what is open, promise to pay, dispute an
invoice, ask for a payment plan, start a payment.

Each use case takes the customer id the portal token resolved to (never one from the form),
refuses bad input with every :class:`~pastdue.errors.Problem` at once (``field`` names the
form field, so the page can say what to fix), and records what it did as audit events of
kind ``portal`` with the customer as actor, beside the ``hold`` events a hold always has:
the team sees portal actions in the audit log and on the dashboard.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.core.money import Money
from pastdue.core.policy import DEFAULT_MAX_PROMISE_DAYS, choose_policy
from pastdue.errors import NotFound, Problem, ProblemsFound
from pastdue.payment_providers import CheckoutRequest, PaymentProvider
from pastdue.services.portal_documents import LETTERED_CHANNELS
from pastdue.store import audit, holds, policies, portal, queries
from pastdue.store.audit import AuditEvent
from pastdue.store.database import reading, unit_of_work
from pastdue.store.portal import ActiveHold, PortalCustomer

ACTOR = "customer"
SOURCE = "portal"
MAX_REASON = 500  # a hold's note holds the reason, and notes hold 500 characters
MAX_NOTE = 1000
MIN_INSTALMENTS = 2
MAX_INSTALMENTS = 24
MAX_ATTACHMENT = 5 * 1024 * 1024
NOTICES_SHOWN = 20

ATTACHMENT_TYPES: dict[str, tuple[str, tuple[bytes, ...]]] = {
    "application/pdf": ("pdf", (b"%PDF-",)),
    "image/png": ("png", (b"\x89PNG\r\n\x1a\n",)),
    "image/jpeg": ("jpg", (b"\xff\xd8\xff",)),
    "text/plain": ("txt", ()),
}
"""Content types a dispute may carry, with the file extension they are stored under and
the bytes such a file starts with: the declared type is checked against the content, so
that an executable called ``receipt.pdf`` is refused."""


@dataclass(frozen=True, slots=True)
class PortalInvoice:
    id: str
    number: str
    issued_on: date
    due_on: date
    amount: Money
    open_amount: Money
    days_overdue: int
    hold: HoldReason | None
    hold_until: date | None


@dataclass(frozen=True, slots=True)
class PortalView:
    """One customer's page: nothing in it belongs to anyone else."""

    customer: PortalCustomer
    today: date
    invoices: tuple[PortalInvoice, ...]
    totals: tuple[Money, ...]
    promised_until: date | None
    max_promise_on: date
    open_plan_requests: int
    notices: tuple[portal.SentNotice, ...] = ()
    """Notices sent to the customer that can be downloaded, newest first."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file as the customer's browser sent it; ``filename`` is only ever shown, never used."""

    filename: str
    content_type: str
    data: bytes


def _today(app: App) -> date:
    return app.clock().date()


def _customer(connection: Connection, app: App, customer_id: str) -> PortalCustomer:
    found = portal.customer(connection, app.tenant, customer_id)
    if found is None:
        raise NotFound(f"no customer {customer_id!r} in tenant {app.tenant!r}")
    return found


def _max_promise_days(connection: Connection, app: App, customer: PortalCustomer) -> int:
    known, default = policies.latest_policies(connection, app.tenant)
    policy = choose_policy(customer.policy, known, default)
    return policy.max_promise_days if policy is not None else DEFAULT_MAX_PROMISE_DAYS


def _open_invoices(connection: Connection, app: App, customer_id: str) -> list[queries.InvoiceRow]:
    return list(queries.list_invoices(connection, app.tenant, open_only=True, customer_id=customer_id))


def _strongest(found: list[ActiveHold]) -> ActiveHold | None:
    """The hold to show: an open-ended one, else the one that runs longest (as the engine)."""
    if not found:
        return None
    return max(found, key=lambda h: (h.until is None, h.until or date.min))


def portal_view(app: App, customer_id: str) -> PortalView:
    today = _today(app)
    with reading(app.engine) as connection:
        customer = _customer(connection, app, customer_id)
        rows = _open_invoices(connection, app, customer_id)
        running = portal.active_holds(connection, app.tenant, customer_id, today)
        max_days = _max_promise_days(connection, app, customer)
        plans = portal.open_plan_requests(connection, app.tenant, customer_id)
        sent = portal.sent_notices(connection, app.tenant, customer_id, sorted(LETTERED_CHANNELS), NOTICES_SHOWN)
    on_customer = [h for h in running if h.invoice_id is None]
    invoices = []
    totals: dict[str, Money] = {}
    for row in rows:
        hold = _strongest([h for h in running if h.invoice_id == row.id] + on_customer)
        invoices.append(
            PortalInvoice(
                row.id,
                row.number,
                row.issued_on,
                row.due_on,
                row.amount,
                row.open_amount,
                max((today - row.due_on).days, 0),
                HoldReason(hold.reason) if hold is not None else None,
                hold.until if hold is not None else None,
            )
        )
        previous = totals.get(row.open_amount.currency)
        totals[row.open_amount.currency] = row.open_amount if previous is None else previous + row.open_amount
    promises = [h.until for h in running if h.reason == HoldReason.PROMISE.value and h.until is not None]
    return PortalView(
        customer,
        today,
        tuple(invoices),
        tuple(totals[currency] for currency in sorted(totals)),
        max(promises) if promises else None,
        today + timedelta(days=max_days),
        plans,
        tuple(sent),
    )


def _problem(field: str, message: str) -> Problem:
    return Problem(SOURCE, None, field, message)


def _place_holds(
    connection: Connection,
    app: App,
    customer_id: str,
    invoices: list[tuple[str, str]],
    reason: HoldReason,
    until: date | None,
    note: str,
    now: datetime,
) -> list[AuditEvent]:
    """Holds on the given (invoice id, number) pairs, with the ``hold`` events
    :func:`pastdue.services.holds.place_hold` writes, all in the caller's transaction."""
    events = []
    for invoice_id, _number in invoices:
        hold_id = holds.place(
            connection,
            app.tenant,
            customer_id=customer_id,
            invoice_id=invoice_id,
            reason=reason,
            note=note,
            until=until,
            now=now,
        )
        payload = {
            "hold": hold_id,
            "action": "placed",
            "customer_id": customer_id,
            "invoice_id": invoice_id,
            "reason": reason.value,
            "note": note,
            "until": until.isoformat() if until else None,
        }
        events.append(AuditEvent("hold", invoice_id, payload, ACTOR))
    return events


def promise_to_pay(app: App, customer_id: str, until: date | None) -> list[str]:
    """Pause dunning of every open invoice of the customer until ``until`` (inclusive),
    which must come after today and no later than the policy's ``max_promise_days``.
    One promise at a time: a new one while another runs would postpone dunning for ever.
    Returns the numbers of the invoices promised."""
    now = app.clock()
    today = now.date()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        customer = _customer(connection, app, customer_id)
        last = today + timedelta(days=_max_promise_days(connection, app, customer))
        problems = []
        if until is None:
            problems.append(_problem("until", "a date is required"))
        elif not today < until <= last:
            problems.append(
                _problem("until", f"must be after {today.isoformat()} and no later than {last.isoformat()}")
            )
        running = [
            h
            for h in portal.active_holds(connection, app.tenant, customer_id, today)
            if h.reason == HoldReason.PROMISE.value
        ]
        if running:
            problems.append(_problem("promise", "a promise to pay is running already"))
        rows = _open_invoices(connection, app, customer_id)
        if not rows:
            problems.append(_problem("promise", "nothing is open"))
        if problems:
            raise ProblemsFound(problems)
        assert until is not None
        invoices = [(row.id, row.number) for row in rows]
        events = _place_holds(
            connection, app, customer_id, invoices, HoldReason.PROMISE, until, "promised in the portal", now
        )
        events.append(
            AuditEvent(
                "portal",
                customer_id,
                {"action": "promise", "until": until.isoformat(), "invoices": [n for _i, n in invoices]},
                ACTOR,
            )
        )
        audit.append(connection, app.tenant, events, now)
        uow.commit()
    return [number for _id, number in invoices]


def attachment_problems(attachment: Attachment) -> list[Problem]:
    """Size, declared type and content must agree; every problem of the file at once."""
    problems = []
    if len(attachment.data) > MAX_ATTACHMENT:
        problems.append(_problem("attachment", f"larger than {MAX_ATTACHMENT // (1024 * 1024)} MiB"))
    if not attachment.data:
        problems.append(_problem("attachment", "the file is empty"))
    kind = ATTACHMENT_TYPES.get(attachment.content_type.split(";")[0].strip().lower())
    if kind is None:
        problems.append(
            _problem("attachment", f"type {attachment.content_type!r} is not accepted (PDF, PNG, JPEG, text)")
        )
    elif attachment.data and len(attachment.data) <= MAX_ATTACHMENT:
        _ext, signatures = kind
        if signatures and not attachment.data.startswith(signatures):
            problems.append(_problem("attachment", f"the content is not {attachment.content_type}"))
        if not signatures and (b"\x00" in attachment.data or not _utf8(attachment.data)):
            problems.append(_problem("attachment", "the content is not UTF-8 text"))
    return problems


def _utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _store_attachment(app: App, attachment: Attachment) -> dict[str, object]:
    """Write the file under a generated name in the tenant's folder; returns what the
    audit event records about it (never the customer's own file name as a path)."""
    extension, _signatures = ATTACHMENT_TYPES[attachment.content_type.split(";")[0].strip().lower()]
    folder = Path(app.settings.portal_upload_dir) / app.tenant
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.{extension}"
    path = folder / name
    with path.open("xb") as out:  # "x": a generated name never overwrites anything
        out.write(attachment.data)
    return {
        "file": name,
        "content_type": attachment.content_type.split(";")[0].strip().lower(),
        "size": len(attachment.data),
        "sha256": hashlib.sha256(attachment.data).hexdigest(),
        "original_name": attachment.filename[:200],
    }


def dispute_invoice(
    app: App, customer_id: str, invoice_number: str, reason: str, attachment: Attachment | None = None
) -> str:
    """Pause dunning of one of the customer's invoices until the team has looked at the
    dispute (a hold without end), keeping the reason and the file. Returns the hold id."""
    reason = reason.strip()
    problems = []
    if not reason:
        problems.append(_problem("reason", "a reason is required"))
    elif len(reason) > MAX_REASON or not all(ch.isprintable() or ch in "\r\n\t" for ch in reason):
        problems.append(_problem("reason", f"at most {MAX_REASON} characters of text"))
    if attachment is not None:
        problems += attachment_problems(attachment)
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        _customer(connection, app, customer_id)
        invoice_id = portal.invoice_of_customer(connection, app.tenant, customer_id, invoice_number)
        if invoice_id is None:
            problems.append(_problem("invoice", "no such invoice on this account"))
        if problems:
            raise ProblemsFound(problems)
        assert invoice_id is not None
        stored = _store_attachment(app, attachment) if attachment is not None else None
        try:
            events = _place_holds(
                connection, app, customer_id, [(invoice_id, invoice_number)], HoldReason.DISPUTE, None, reason, now
            )
            hold_id = str(events[0].payload["hold"])
            payload = {"action": "dispute", "invoice": invoice_number, "reason": reason, "attachment": stored}
            events.append(AuditEvent("portal", customer_id, payload, ACTOR))
            audit.append(connection, app.tenant, events, now)
            uow.commit()
        except BaseException:
            if stored is not None:  # the dispute is not on record, so neither is its file
                (Path(app.settings.portal_upload_dir) / app.tenant / str(stored["file"])).unlink(missing_ok=True)
            raise
    return hold_id


def request_payment_plan(app: App, customer_id: str, instalments: int | None, note: str) -> str:
    """Record the customer's wish for a plan for the team to decide; it pauses nothing
    until a plan is agreed. Returns the request's id."""
    note = note.strip()
    problems = []
    if instalments is None or not MIN_INSTALMENTS <= instalments <= MAX_INSTALMENTS:
        problems.append(_problem("instalments", f"must be from {MIN_INSTALMENTS} to {MAX_INSTALMENTS}"))
    if len(note) > MAX_NOTE:
        problems.append(_problem("note", f"at most {MAX_NOTE} characters"))
    if problems:
        raise ProblemsFound(problems)
    assert instalments is not None
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        connection = uow.connection
        _customer(connection, app, customer_id)
        open_total = {
            currency: str(sum((r.open_amount.amount for r in rows), start=Money.zero(currency).amount))
            for currency, rows in _by_currency(_open_invoices(connection, app, customer_id)).items()
        }
        request_id = portal.add_plan_request(
            connection, app.tenant, customer_id=customer_id, instalments=instalments, note=note, now=now
        )
        payload = {
            "action": "payment plan requested",
            "request": request_id,
            "instalments": instalments,
            "note": note,
            "open": open_total,
        }
        audit.append(connection, app.tenant, [AuditEvent("portal", customer_id, payload, ACTOR)], now)
        uow.commit()
    return request_id


def _by_currency(rows: list[queries.InvoiceRow]) -> dict[str, list[queries.InvoiceRow]]:
    grouped: dict[str, list[queries.InvoiceRow]] = {}
    for row in rows:
        grouped.setdefault(row.open_amount.currency, []).append(row)
    return grouped


def start_checkout(app: App, customer_id: str, currency: str, provider: PaymentProvider, return_url: str) -> str:
    """A checkout URL at the provider for everything the customer has open in ``currency``;
    the payment itself arrives later as a provider event."""
    with app.engine.connect() as connection:
        _customer(connection, app, customer_id)
        rows = _by_currency(_open_invoices(connection, app, customer_id)).get(currency, [])
    if not rows:
        raise ProblemsFound([_problem("currency", f"nothing open in {currency!r}")])
    total = rows[0].open_amount
    for row in rows[1:]:
        total = total + row.open_amount
    numbers = tuple(row.number for row in rows)
    url = provider.checkout(CheckoutRequest(customer_id, total, numbers, " ".join(numbers)[:140], return_url))
    now = app.clock()
    with unit_of_work(app.engine) as uow:
        payload = {"action": "checkout", "amount": str(total.amount), "currency": currency, "invoices": list(numbers)}
        audit.append(uow.connection, app.tenant, [AuditEvent("portal", customer_id, payload, ACTOR)], now)
        uow.commit()
    return url


def portal_events(app: App, customer_id: str) -> list[dict[str, object]]:
    """The customer's portal audit events, oldest first, for the team's view of a case."""
    with reading(app.engine) as connection:
        return portal.portal_events(connection, app.tenant, customer_id)
