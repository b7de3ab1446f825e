"""What one notice says, as plain values: the input of every template and channel.

The delivery service builds a :class:`NoticeDocument` from the store just before sending, so
that a notice always shows the balances of the moment it leaves, not of the run that queued
it. Formatting (locale, currency symbols, date styles) belongs to the templates; the values
here stay exact: :class:`Money` and :class:`date`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from pastdue.core.money import Money


@dataclass(frozen=True, slots=True)
class Party:
    """A postal and electronic identity: the customer who owes, or the company that is owed."""

    name: str
    address_lines: tuple[str, ...] = ()
    """Street, postal code and city, country: the lines of an address window, in order."""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True, slots=True)
class Sender:
    """The creditor as it presents itself on notices, and how it is paid."""

    party: Party
    iban: str = ""
    bic: str = ""
    payment_url: str = ""
    """A page where the customer can pay online; empty when there is none."""


@dataclass(frozen=True, slots=True)
class NoticeLine:
    """One invoice as a notice lists it."""

    invoice_id: str
    number: str
    issued_on: date
    due_on: date
    amount: Money
    open_amount: Money
    level: int
    days_overdue: int


@dataclass(frozen=True, slots=True)
class NoticeDocument:
    """Everything a template may show about one notice on one channel.

    ``items`` are the invoices the notice is about (those that reached a level in the run);
    ``other_overdue`` are the customer's other overdue invoices, listed so that a customer
    sees the whole picture. ``totals`` sums the open amounts of both, one entry per currency.
    """

    notice_id: str
    tenant: str
    channel: str
    level: int
    level_name: str
    level_count: int
    """How many levels the policy has: the tone firms up as ``level`` approaches it."""
    created_on: date
    deadline: date
    """The new payment deadline printed on the notice."""
    language: str
    """Two-letter language code of the template (``en``, ``de``, ``fr``, ``nl``, ``es``)."""
    locale: str
    """Babel locale for amounts and dates, e.g. ``de_DE`` or ``fr_BE``."""
    timezone: str
    customer_id: str
    customer: Party
    sender: Sender
    items: tuple[NoticeLine, ...]
    other_overdue: tuple[NoticeLine, ...] = ()
    totals: tuple[Money, ...] = ()
    portal_url: str = ""
    unsubscribe_url: str = ""
    message_id: str = ""
    reference: str = field(default="")
    """The notice's short reference, quoted in payment texts and replies."""
