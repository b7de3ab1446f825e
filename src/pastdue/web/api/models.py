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
from pastdue.store.access import ApiKey as StoredKey
from pastdue.store.listings import ListedNotice, ListedPolicy
from pastdue.store.receipts import Receipt
from pastdue.store.runs import RunRow

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


class Notice(BaseModel):
    """One notice to one customer on one channel, with its delivery: where it went, how
    often it was tried, what the provider called it and the last error."""

    object: Literal["notice"] = "notice"
    id: str
    customer_id: str
    channel: str
    level: int
    status: str
    created_on: date
    policy: str = Field(description="The policy the notice was queued under.")
    policy_version: int
    payment_deadline: date | None = Field(description="The new payment deadline the notice prints.")
    invoices: list[str] = Field(description="Numbers of the invoices the notice is about.")
    contact: str | None = Field(description="The address or number it went (or goes) to.")
    attempts: int = Field(description="Sends tried.")
    resends: int = Field(description="Sends repeated after a crash left the first in doubt.")
    sent_at: str | None
    message_id: str | None
    provider_id: str | None = Field(description="The channel provider's id of the message, once it took it.")
    next_attempt_at: str | None = Field(description="When the queue may next try it, while it waits.")
    error: str | None = Field(description="The last failure, if any.")
    customer: Customer | None = Field(None, description="The customer, with `expand=customer`; else null.")
    events: list[AuditEvent] | None = Field(
        None, description="Its delivery attempts and decisions from the audit log, with `expand=events`; else null."
    )

    @classmethod
    def of(
        cls, listed: ListedNotice, customer: Customer | None = None, events: list[AuditEvent] | None = None
    ) -> Notice:
        row = listed.row
        data = row.as_json()
        data["created_on"] = row.created_on
        waiting = row.status in ("pending", "failed", "awaiting_approval")
        return cls(
            **data,
            policy=listed.policy_name,
            policy_version=listed.policy_version,
            payment_deadline=listed.deadline,
            provider_id=listed.provider_id,
            next_attempt_at=listed.due_at if waiting else None,
            customer=customer,
            events=events,
        )


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


class RunResult(BaseModel):
    """What a finished run did (the same figures as ``pastdue run --json``)."""

    reviewed: int
    decisions: int
    actions: int
    notices: int
    by_level: dict[str, int]
    skipped: dict[str, int]
    closed: dict[str, int]
    holds_lapsed: int
    elapsed_s: float


class Run(BaseModel):
    """A dunning run asked for through the API: queued, running, then succeeded (with its
    ``result``) or failed (with its ``error``)."""

    object: Literal["run"] = "run"
    id: str
    status: Literal["queued", "running", "succeeded", "failed"]
    as_of: date
    dry_run: bool
    requested_by: str
    created_at: str
    started_at: str | None
    finished_at: str | None
    result: RunResult | None
    error: str | None

    @classmethod
    def of(cls, row: RunRow) -> Run:
        result = None
        if row.summary is not None:
            keep = RunResult.model_fields
            result = RunResult(**{k: v for k, v in row.summary.items() if k in keep})
        return cls(
            id=row.id,
            status=row.status,  # type: ignore[arg-type]
            as_of=row.as_of,
            dry_run=row.dry_run,
            requested_by=row.requested_by,
            created_at=row.created_at,
            started_at=row.started_at,
            finished_at=row.finished_at,
            result=result,
            error=row.error,
        )


class Level(BaseModel):
    number: int
    name: str
    after_days: int = Field(description="Days after the due date (negative: before it).")
    channels: list[str]
    min_days_since_previous: int
    new_deadline_days: int
    requires_approval: bool


class Policy(BaseModel):
    """The newest version of a policy; ``digest`` fingerprints its rules."""

    object: Literal["policy"] = "policy"
    name: str
    version: int
    digest: str
    applied_at: str
    default: bool = Field(description="Customers without a policy of their own get this one.")
    escalation: str
    days: str
    calendar: str | None
    min_days_between_notices: int
    max_notices_per_7_days: int | None
    max_promise_days: int
    min_balance: dict[str, Money]
    levels: list[Level]

    @classmethod
    def of(cls, listed: ListedPolicy) -> Policy:
        policy = listed.policy
        return cls(
            name=policy.name,
            version=policy.version,
            digest=listed.digest,
            applied_at=listed.applied_at,
            default=listed.default,
            escalation=policy.escalation.value,
            days=policy.days.value,
            calendar=policy.calendar,
            min_days_between_notices=policy.min_days_between_notices,
            max_notices_per_7_days=policy.max_notices_per_7_days,
            max_promise_days=policy.max_promise_days,
            min_balance={currency: Money.of(amount) for currency, amount in sorted(policy.min_balance.items())},
            levels=[
                Level(
                    number=level.number,
                    name=level.name,
                    after_days=level.after_days,
                    channels=list(level.channels),
                    min_days_since_previous=level.min_days_since_previous,
                    new_deadline_days=level.new_deadline_days,
                    requires_approval=level.requires_approval,
                )
                for level in policy.levels
            ],
        )


class ApiKey(BaseModel):
    """An API key as it may be shown: never its secret (only ``ApiKeyCreated`` carries it, once)."""

    object: Literal["api_key"] = "api_key"
    id: str
    name: str
    scopes: list[Literal["read", "write", "admin"]]
    active: bool
    created_at: str
    last_used_at: str | None
    revoked_at: str | None

    @classmethod
    def of(cls, key: StoredKey) -> ApiKey:
        return cls(
            id=key.id,
            name=key.name,
            scopes=[scope.value for scope in key.scopes],
            active=key.active,
            created_at=key.created_at.isoformat(),
            last_used_at=key.last_used_at.isoformat() if key.last_used_at else None,
            revoked_at=key.revoked_at.isoformat() if key.revoked_at else None,
        )


class ApiKeyCreated(ApiKey):
    secret: str = Field(description="The whole key, to send as `Authorization: Bearer`; shown this once only.")


class AgingRow(BaseModel):
    currency: str
    buckets: dict[str, str] = Field(description="Open balance per bucket, as decimal strings.")
    total: str


class AgingReport(BaseModel):
    """Open balances per currency by days overdue (never converted between currencies)."""

    object: Literal["aging_report"] = "aging_report"
    as_of: date
    buckets: list[str]
    currencies: list[AgingRow]


class DsoRow(BaseModel):
    currency: str
    receivable: Money
    sales: Money = Field(description="Invoiced in the `days` days up to `as_of`.")
    dso: str | None = Field(description="Days sales outstanding, to one decimal; null when nothing was invoiced.")


class DsoReport(BaseModel):
    """Days sales outstanding per currency: receivable / sales of the period x days."""

    object: Literal["dso_report"] = "dso_report"
    as_of: date
    days: int
    currencies: list[DsoRow]


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
    dry_run: bool = Field(False, description="Decide everything, keep nothing.")


class PolicyApply(BaseModel):
    """A policy file's text (DESIGN.md section 6); applying an unchanged one changes nothing."""

    model_config = ConfigDict(extra="forbid")
    toml: Annotated[str, Field(min_length=1, max_length=100_000, pattern=r"^[^\x00]*$")]
    default: bool = Field(False, description="Make it the tenant's default (the first policy always is).")


class ApprovalDecision(BaseModel):
    """Why, for the audit log."""

    model_config = ConfigDict(extra="forbid")
    note: Text = ""


class ApiKeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
    scopes: Annotated[list[Literal["read", "write", "admin"]], Field(min_length=1, max_length=3)]


# --- parameters -------------------------------------------------------------------------------

PathId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
PathName = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[^\x00-\x1f\x7f]+$")]
QueryId = Annotated[str | None, Query(min_length=1, max_length=64, pattern=r"^[^\x00-\x1f\x7f]+$")]
