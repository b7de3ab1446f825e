"""The documents a customer downloads from the portal: a copy of one of their invoices, and
the notices we sent them, as letters.

Both are made when asked for, from what the store knows at that moment, so a copy never
tells a customer to pay what has been paid since. A notice is rendered the way the letter
channel renders it (:func:`~pastdue.services.notice_document.build_document` and the
``letter`` templates, the tenant's overrides included): same words, same layout, dated the
day it was sent.

Each function takes the customer id the portal token resolved to and raises
:class:`~pastdue.errors.NotFound` for anything that is not that customer's to see: another
customer's invoice or notice, a notice nobody sent (waiting, rejected, cancelled), and ids
that do not exist all look the same from outside.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection

from pastdue.bootstrap import App
from pastdue.core.delivery import Status
from pastdue.core.money import Money
from pastdue.core.notice import Party, Sender
from pastdue.errors import NotFound
from pastdue.links import tenant_secret
from pastdue.rendering import Renderer
from pastdue.services.notice_document import Links, build_document, customer_party, locale_for, sender_from_profile
from pastdue.store import outbox
from pastdue.store.outbox import Context
from pastdue.store.policies import policy_version

LETTERED_CHANNELS = frozenset({"email", "sms", "letter"})
"""Channels whose notices reached the customer in words: these can be had as a letter.
(Phone notices are the team's call tasks, webhooks are data for other systems.)"""


@dataclass(frozen=True, slots=True)
class InvoiceCopy:
    """What a copy of an invoice shows; amounts exact, formatting left to the layout."""

    invoice_id: str
    number: str
    issued_on: date
    due_on: date
    amount: Money
    open_amount: Money
    customer_id: str
    customer: Party
    seller: Sender
    language: str
    """The portal language of the customer (``en`` when theirs has no labels)."""
    locale: str
    made_on: date
    """The day the copy was made: the open amount is as of this day."""

    @property
    def settled(self) -> Money:
        """Paid or credited so far."""
        return self.amount - self.open_amount


def _refused(what: str) -> NotFound:
    # One message for every reason, so that nothing about other customers leaks into logs shown to them.
    return NotFound(f"no such {what} on this account")


def _context(connection: Connection, app: App, customer_id: str, today: date) -> Context:
    context = outbox.load_context(connection, app.tenant, [customer_id], today)
    if customer_id not in context.customers:
        raise _refused("customer")
    return context


def invoice_copy(app: App, customer_id: str, invoice_id: str) -> InvoiceCopy:
    """A copy of one of the customer's invoices, open or settled, with the seller's payment details."""
    today = app.clock().date()
    with app.engine.connect() as connection:
        context = _context(connection, app, customer_id, today)
        profile = outbox.profile(connection, app.tenant)
    found = next((i for i in context.invoices.get(customer_id, []) if i.id == invoice_id), None)
    if found is None:
        raise _refused("invoice")
    customer = context.customers[customer_id]
    language, locale = locale_for(customer.language, customer.country)
    return InvoiceCopy(
        invoice_id=found.id,
        number=found.number,
        issued_on=found.issued_on,
        due_on=found.due_on,
        amount=Money.of_minor(found.amount_minor, found.currency),
        open_amount=Money.of_minor(max(found.open_minor, 0), found.currency),
        customer_id=customer_id,
        customer=customer_party(customer),
        seller=sender_from_profile(profile, app.tenant),
        language=language,
        locale=locale,
        made_on=today,
    )


def notice_letter_html(app: App, customer_id: str, notice_id: str, renderer: Renderer) -> str:
    """One notice sent to the customer, as the HTML of a letter (for :func:`pastdue.pdf.render_pdf`).

    Only notices that were sent on a channel that speaks to the customer: a notice still
    waiting for approval, rejected or cancelled was never theirs to read.
    """
    today = app.clock().date()
    with app.engine.connect() as connection:
        queued = outbox.by_id(connection, app.tenant, notice_id)
        if (
            queued is None
            or queued.customer_id != customer_id
            or queued.status != Status.SENT
            or queued.channel not in LETTERED_CHANNELS
        ):
            raise _refused("notice")
        context = _context(connection, app, customer_id, today)
        profile = outbox.profile(connection, app.tenant)
        policy = policy_version(connection, app.tenant, queued.policy_name, queued.policy_version)
    links = Links(app.settings.base_url, tenant_secret(app.settings.secret_key, profile))
    sender = sender_from_profile(profile, app.tenant)
    document = build_document(queued, context, policy, sender, links, app.tenant, today, channel="letter")
    return renderer.render(document).html
