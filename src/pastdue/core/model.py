"""The ledger as the core sees it: customers, invoices, payments, holds and dunning states.

All values are frozen: the engine never mutates what it is given, it returns new states.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from pastdue.core.money import Money


class HoldReason(StrEnum):
    """Why dunning is paused; each later capability adds its own kind of hold."""

    DISPUTE = "dispute"
    PROMISE = "promise"
    PAYMENT_PLAN = "payment_plan"
    PAYMENT_IN_FLIGHT = "payment_in_flight"
    MANUAL = "manual"


@dataclass(frozen=True, slots=True)
class Hold:
    """A pause on an invoice or a whole customer; ``until`` is the last paused day, inclusive."""

    reason: HoldReason
    note: str = ""
    until: date | None = None

    def active_on(self, day: date) -> bool:
        return self.until is None or day <= self.until

    def describe(self) -> str:
        text = self.reason.value + (f": {self.note}" if self.note else "")
        return text + (f" (until {self.until.isoformat()})" if self.until else "")


class CustomerKind(StrEnum):
    BUSINESS = "business"
    CONSUMER = "consumer"
    PUBLIC = "public"


@dataclass(frozen=True, slots=True)
class Customer:
    """Who owes money. ``policy`` names a policy; ``None`` means the tenant's default."""

    id: str
    name: str
    email: str = ""
    phone: str = ""
    country: str = ""
    language: str = "en"
    timezone: str = "UTC"
    kind: CustomerKind = CustomerKind.BUSINESS
    policy: str | None = None
    exempt: bool = False
    holds: tuple[Hold, ...] = ()


@dataclass(frozen=True, slots=True)
class Invoice:
    """A receivable. The open balance is derived: amount less what payments and credits cover."""

    id: str
    customer_id: str
    number: str
    amount: Money
    issued_on: date
    due_on: date
    paid: Money | None = None
    credited: Money | None = None
    holds: tuple[Hold, ...] = ()

    @property
    def currency(self) -> str:
        return self.amount.currency

    @property
    def open_balance(self) -> Money:
        balance = self.amount
        if self.paid is not None:
            balance = balance - self.paid
        if self.credited is not None:
            balance = balance - self.credited
        return balance


class PaymentKind(StrEnum):
    PAYMENT = "payment"
    CREDIT = "credit"


@dataclass(frozen=True, slots=True)
class Payment:
    """Money received (or a credit note); without an invoice it is unapplied cash."""

    id: str
    amount: Money
    paid_on: date
    invoice_id: str | None = None
    customer_id: str | None = None
    reference: str = ""
    kind: PaymentKind = PaymentKind.PAYMENT


@dataclass(frozen=True, slots=True)
class DunningState:
    """Where one invoice stands. Derived by the engine; nothing else writes it.

    ``level`` 0 means no level reached yet. ``next_review_on`` is the first date on which a
    decision could differ from today's; ``None`` means only a change in the ledger (a
    payment, a hold, a policy change) can bring the invoice back into review.
    """

    level: int = 0
    reached_on: date | None = None
    next_review_on: date | None = None
    closed_on: date | None = None


@dataclass(frozen=True, slots=True)
class CustomerState:
    """Per-customer dunning memory: when the last notice went out, for contact spacing."""

    last_notice_on: date | None = None


@dataclass(frozen=True, slots=True)
class Reviewed:
    """An invoice handed to the engine together with its current state."""

    invoice: Invoice
    state: DunningState = field(default_factory=DunningState)
