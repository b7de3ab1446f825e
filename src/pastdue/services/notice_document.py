"""Turning a queued notice and what the store knows now into the document its templates show.

Built at sending time, not at run time: a notice shows the open amounts of the moment it
leaves, and leaves out an invoice paid since the run.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from babel import Locale, UnknownLocaleError

from pastdue.channels.base import Attachment, OutgoingMessage
from pastdue.core.money import Money
from pastdue.core.notice import NoticeDocument, NoticeLine, Party, Sender
from pastdue.core.policy import Policy
from pastdue.links import portal_url, unsubscribe_url
from pastdue.store.outbox import Context, CustomerRow, InvoiceRow, Queued

if TYPE_CHECKING:
    from pastdue.rendering import Rendered

LANGUAGES = ("en", "de", "fr", "nl", "es")
PORTAL_LINK_DAYS = 60


@dataclass(frozen=True, slots=True)
class Links:
    base_url: str
    secret: str


@lru_cache(maxsize=512)
def locale_for(language: str, country: str) -> tuple[str, str]:
    """(template language, Babel locale) for a customer: ``("de", "de_AT")``; English when unknown."""
    lang = (language or "en").replace("-", "_").split("_")[0].lower()
    for candidate in (f"{lang}_{country.upper()}" if country else "", lang):
        if not candidate:
            continue
        try:
            Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
        return (lang if lang in LANGUAGES else "en"), candidate
    return "en", "en"


def customer_party(customer: CustomerRow) -> Party:
    city = " ".join(part for part in (customer.postal_code, customer.city) if part)
    lines = tuple(line for line in (customer.street, city, _country_name(customer.country)) if line)
    return Party(customer.name, lines, customer.email.split(";")[0].strip(), customer.phone.split(";")[0].strip())


def _country_name(code: str) -> str:
    return code.upper() if code else ""


def sender_from_profile(profile: dict[str, object], tenant: str) -> Sender:
    address = str(profile.get("address", ""))
    party = Party(
        str(profile.get("name") or tenant),
        tuple(line.strip() for line in address.split("\n") if line.strip()),
        str(profile.get("email", "")),
        str(profile.get("phone", "")),
    )
    return Sender(
        party,
        iban=str(profile.get("iban", "")),
        bic=str(profile.get("bic", "")),
        payment_url=str(profile.get("payment_url", "")),
    )


def open_items(queued: Queued, context: Context) -> list[InvoiceRow]:
    """The notice's invoices that are still open and not on hold, in the notice's order."""
    invoices = {i.id: i for i in context.invoices.get(queued.customer_id, [])}
    found = []
    for invoice_id, _number, _level in queued.items:
        invoice = invoices.get(invoice_id)
        if invoice is not None and invoice.open_minor > 0 and invoice_id not in context.held_invoices:
            found.append(invoice)
    return found


def _line(invoice: InvoiceRow, today: date) -> NoticeLine:
    return NoticeLine(
        invoice_id=invoice.id,
        number=invoice.number,
        issued_on=invoice.issued_on,
        due_on=invoice.due_on,
        amount=Money.of_minor(invoice.amount_minor, invoice.currency),
        open_amount=Money.of_minor(invoice.open_minor, invoice.currency),
        level=invoice.level,
        days_overdue=max(0, (today - invoice.due_on).days),
    )


def build_document(
    queued: Queued,
    context: Context,
    policy: Policy | None,
    sender: Sender,
    links: Links,
    tenant: str,
    today: date,
    *,
    channel: str | None = None,
    contact: str = "",
    message_id: str = "",
) -> NoticeDocument:
    customer = context.customers[queued.customer_id]
    items = open_items(queued, context)
    about = {i.id for i in items}
    other = sorted(
        (
            i
            for i in context.invoices.get(queued.customer_id, [])
            if i.id not in about and i.open_minor > 0 and i.due_on < today
        ),
        key=lambda i: (i.due_on, i.number),
    )
    totals: dict[str, int] = {}
    for invoice in (*items, *other):
        totals[invoice.currency] = totals.get(invoice.currency, 0) + invoice.open_minor
    language, locale = locale_for(customer.language, customer.country)
    level_name = policy.level(queued.level).name if policy and queued.level <= len(policy.levels) else ""
    channel = channel or queued.channel
    return NoticeDocument(
        notice_id=queued.id,
        tenant=tenant,
        channel=channel,
        level=queued.level,
        level_name=level_name,
        level_count=len(policy.levels) if policy else queued.level,
        created_on=queued.created_on,
        deadline=queued.deadline or queued.created_on + timedelta(days=7),
        language=language,
        locale=locale,
        timezone=customer.timezone or "UTC",
        customer_id=customer.id,
        customer=customer_party(customer),
        sender=sender,
        items=tuple(_line(i, today) for i in items),
        other_overdue=tuple(_line(i, today) for i in other),
        totals=tuple(Money.of_minor(minor, currency) for currency, minor in sorted(totals.items())),
        portal_url=portal_url(
            links.base_url, links.secret, tenant, customer.id, today + timedelta(days=PORTAL_LINK_DAYS)
        ),
        unsubscribe_url=unsubscribe_url(links.base_url, links.secret, tenant, channel, contact) if contact else "",
        message_id=message_id,
        reference=queued.id[:12].upper(),
    )


def idempotency_key(notice_id: str, contact: str) -> str:
    """Ours for a provider to deduplicate on: one per notice and address (a new address is a new message)."""
    return f"{notice_id}-{hashlib.sha256(contact.encode()).hexdigest()[:8]}"


def outgoing_message(
    document: NoticeDocument,
    channel: str,
    contact: str,
    rendered: Rendered | None,
    attachments: tuple[Attachment, ...] = (),
    extra: Mapping[str, str] | None = None,
) -> OutgoingMessage:
    """The rendered notice as a channel receives it; ``rendered`` is ``None`` for machine channels."""
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
        **(extra or {}),
    }
    return OutgoingMessage(
        notice_id=document.notice_id,
        channel=channel,
        customer_id=document.customer_id,
        to=contact,
        recipient_name=customer.name,
        subject=rendered.subject if rendered else f"Dunning level {document.level}: {document.level_name}",
        text=rendered.text if rendered else "",
        html=rendered.html if rendered else "",
        postal_address=customer.address_lines,
        attachments=attachments,
        message_id=document.message_id,
        idempotency_key=idempotency_key(document.notice_id, contact),
        unsubscribe_url=document.unsubscribe_url,
        metadata=metadata,
    )
