"""The objects the REST API shows and accepts, and how records become them.

Money is always ``{"amount": "12.50", "currency": "EUR"}``: the amount a decimal string
with the currency's own number of decimals, never a JSON number, so no client parses it
into a float. Dates are ISO 8601. Each object says what it is in ``object``.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

from pastdue.core import money as core_money
from pastdue.errors import CurrencyError, Problem, ProblemsFound
from pastdue.services.dunning_run import RunSummary
from pastdue.store.queries import NoticeRow
from pastdue.store.receipts import Receipt

# Identifiers as the ledger gives them: printable, without control characters (which no
# database column would hold), at most as long as the columns.
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
Text = Annotated[str, Field(max_length=500, pattern=r"^[^\x00]*$")]
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2999, 12, 31))]
"""Dates the ledger can hold: a run or a payment outside these years is a typo."""


class Money(BaseModel):
    amount: str = Field(pattern=r"^-?[0-9]+(\.[0-9]+)?$", examples=["12.50"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])

    @classmethod
    def of(cls, value: core_money.Money) -> Money:
        return cls(amount=str(value.amount), currency=value.currency)


class MoneyIn(BaseModel):
    """An amount sent to the API; checked against the currency's decimals."""

    model_config = ConfigDict(extra="forbid")
    amount: str = Field(pattern=r"^[0-9]{1,15}(\.[0-9]{1,4})?$", examples=["12.50"])
    currency: str = Field(pattern=r"^[A-Z]{3}$", examples=["EUR"])

    def parsed(self, field: str) -> core_money.Money:
        try:
            return core_money.parse_amount(self.amount, self.currency)
        except CurrencyError as exc:
            raise ProblemsFound([Problem("request", None, f"{field}.currency", str(exc))]) from None
        except ValueError as exc:
            raise ProblemsFound([Problem("request", None, f"{field}.amount", str(exc))]) from None


class Address(BaseModel):
    street: str
    postal_code: str
    city: str


class Customer(BaseModel):
    object: Literal["customer"] = "customer"
    id: str
    name: str
    email: str
    phone: str
    country: str
    language: str
    timezone: str
    address: Address
    kind: str
    policy: str | None
    exempt: bool

    @classmethod
    def of(cls, row: dict[str, Any]) -> Customer:
        address = Address(street=row["street"], postal_code=row["postal_code"], city=row["city"])
        keep = ("id", "name", "email", "phone", "country", "language", "timezone", "kind", "policy", "exempt")
        return cls(address=address, **{k: row[k] for k in keep})


class Invoice(BaseModel):
    object: Literal["invoice"] = "invoice"
    id: str
    number: str
    customer_id: str
    status: Literal["open", "paid"]
    amount: Money
    open_amount: Money
    issued_on: date
    due_on: date
    level: int
    level_reached_on: date | None
    next_review_on: date | None
    closed_on: date | None
    customer: Customer | None = Field(None, description="The customer, with `expand=customer`; else null.")

    @classmethod
    def of(cls, row: dict[str, Any], customer: Customer | None = None) -> Invoice:
        return cls(
            id=row["id"],
            number=row["number"],
            customer_id=row["customer_id"],
            status="open" if row["open_amount"].amount > 0 else "paid",
            amount=Money.of(row["amount"]),
            open_amount=Money.of(row["open_amount"]),
            issued_on=row["issued_on"],
            due_on=row["due_on"],
            level=row["level"],
            level_reached_on=row["reached_on"],
            next_review_on=row["next_review_on"],
            closed_on=row["closed_on"],
            customer=customer,
        )


class Allocation(BaseModel):
    invoice_id: str
    invoice_number: str
    amount: Money


class Payment(BaseModel):
    """Money in: recorded by hand or through the API, from a statement, a provider or a sync."""

    object: Literal["payment"] = "payment"
    id: str
    source: str
    status: str
    customer_id: str | None
    amount: Money
    unapplied: Money
    received_on: date
    reference: str
    allocations: list[Allocation]

    @classmethod
    def of(cls, receipt: Receipt, allocations: list[tuple[str, str, core_money.Money]]) -> Payment:
        return cls(
            id=receipt.id,
            source=receipt.source,
            status=receipt.status,
            customer_id=receipt.customer_id,
            amount=Money.of(receipt.amount),
            unapplied=Money.of(receipt.unapplied),
            received_on=receipt.received_on,
            reference=receipt.reference,
            allocations=[Allocation(invoice_id=i, invoice_number=n, amount=Money.of(a)) for i, n, a in allocations],
        )


class Notice(BaseModel):
    """One notice to one customer on one channel, with its delivery's state."""

    object: Literal["notice"] = "notice"
    id: str
    customer_id: str
    channel: str
    level: int
    status: str
    created_on: date
    sent_at: str | None
    message_id: str | None
    invoices: list[str] = Field(description="Numbers of the invoices the notice is about.")
    contact: str | None
    attempts: int
    resends: int
    error: str | None

    @classmethod
    def of(cls, row: NoticeRow) -> Notice:
        data = row.as_json()
        data["created_on"] = row.created_on
        return cls(**data)


class Hold(BaseModel):
    object: Literal["hold"] = "hold"
    id: str
    customer_id: str
    invoice_id: str | None = Field(description="Null when the hold covers the whole customer.")
    reason: str
    note: str
    until: date | None
    active: bool
    ended: str | None = Field(description="How it ended: released, lapsed, settled or failed; null while it runs.")
    created_at: str
    ended_at: str | None
    payment_id: str | None

    @classmethod
    def of(cls, row: dict[str, Any]) -> Hold:
        return cls(
            id=row["id"],
            customer_id=row["customer_id"],
            invoice_id=row["invoice_id"],
            reason=row["reason"],
            note=row["note"],
            until=row["until"],
            active=row["released_at"] is None,
            ended=row["ended"],
            created_at=row["created_at"],
            ended_at=row["released_at"],
            payment_id=row["receipt_id"],
        )


class Candidate(BaseModel):
    invoice_ids: list[str]
    invoices: list[str]
    customers: list[str]
    rule: str
    reason: str


class Match(BaseModel):
    """A bank credit matching could not settle alone, waiting for a person (or decided)."""

    object: Literal["match"] = "match"
    id: str
    status: str
    amount: Money
    received_on: date
    payer_name: str
    payer_iban: str
    remittance: str
    reference: str
    reason: str
    customer_id: str | None
    candidates: list[Candidate]

    @classmethod
    def of(cls, receipt: Receipt) -> Match:
        return cls(
            id=receipt.id,
            status=receipt.status,
            amount=Money.of(receipt.amount),
            received_on=receipt.received_on,
            payer_name=receipt.payer_name,
            payer_iban=receipt.payer_iban,
            remittance=receipt.remittance,
            reference=receipt.reference,
            reason=receipt.reason,
            customer_id=receipt.customer_id,
            candidates=[
                Candidate(
                    invoice_ids=list(c.get("invoice_ids", [])),
                    invoices=list(c.get("invoices", [])),
                    customers=list(c.get("customers", [])),
                    rule=str(c.get("rule", "")),
                    reason=str(c.get("reason", "")),
                )
                for c in receipt.candidates
            ],
        )


class AuditEvent(BaseModel):
    object: Literal["audit_event"] = "audit_event"
    seq: int = Field(description="Position in the tenant's hash chain, from 1.")
    at: str
    kind: str
    actor: str
    subject: str | None
    payload: dict[str, Any]
    hash: str

    @classmethod
    def of(cls, row: dict[str, Any]) -> AuditEvent:
        return cls(**row)


class Run(BaseModel):
    """What one dunning run did (the same figures as ``pastdue run --json``)."""

    object: Literal["run"] = "run"
    as_of: date
    dry_run: bool
    reviewed: int
    decisions: int
    actions: int
    notices: int
    by_level: dict[str, int]
    skipped: dict[str, int]
    closed: dict[str, int]
    holds_lapsed: int
    elapsed_s: float

    @classmethod
    def of(cls, summary: RunSummary) -> Run:
        data = summary.as_json()
        data["dry_run"] = summary.dry_run
        return cls(**data)


# --- requests -------------------------------------------------------------------------------


class PaymentCreate(BaseModel):
    """Money received. Named invoices are paid first; without them, the customer's open
    invoices in the tenant's allocation order; what is left stays unapplied."""

    model_config = ConfigDict(extra="forbid")
    amount: MoneyIn
    received_on: Day
    customer_id: Id | None = None
    invoice_ids: list[Id] = Field(default_factory=list, max_length=100)
    reference: Annotated[str, Field(max_length=200, pattern=r"^[^\x00]*$")] = ""


class HoldCreate(BaseModel):
    """Pause dunning of one invoice (``invoice_id``) or a whole customer (``customer_id``)."""

    model_config = ConfigDict(extra="forbid")
    reason: Literal["dispute", "promise", "payment_plan", "manual"]
    customer_id: Id | None = None
    invoice_id: Id | None = None
    until: Day | None = Field(None, description="The last paused day; none: until released.")
    note: Text = ""


class MatchConfirm(BaseModel):
    """Who paid: the invoices, or the customer; neither takes the only candidate."""

    model_config = ConfigDict(extra="forbid")
    invoice_ids: list[Id] = Field(default_factory=list, max_length=100)
    customer_id: Id | None = None


class MatchReject(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(min_length=1, max_length=500, pattern=r"^[^\x00]*$")]


class RunCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    as_of: Day
    dry_run: bool = False


# --- parameters -------------------------------------------------------------------------------

PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
QueryId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
