"""Small builders shared by the core unit tests: the standard policy, invoices, one-call runs."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from pastdue.core.calendar import CALENDAR_DAYS, Calendar
from pastdue.core.engine import Decision, Outcome, decide
from pastdue.core.model import Customer, CustomerState, DunningState, Hold, Invoice, Reviewed
from pastdue.core.money import Money, parse_amount
from pastdue.core.policy import Policy, policy_from_toml
from pastdue.policies import standard_policy_toml

STANDARD_TOML = standard_policy_toml()

DUE = date(2026, 5, 5)  # a Tuesday


def standard(**changes: Any) -> Policy:
    """The standard policy of DESIGN.md section 6, with any field replaced."""
    policy, problems = policy_from_toml(STANDARD_TOML)
    assert policy is not None, problems
    return replace(policy, **changes)


def eur(text: str) -> Money:
    return parse_amount(text, "EUR")


def invoice(
    id: str = "INV-1",
    *,
    due_on: date = DUE,
    amount: str = "100.00",
    customer_id: str = "C1",
    issued_on: date | None = None,
    paid: str | None = None,
    credited: str | None = None,
    holds: tuple[Hold, ...] = (),
) -> Invoice:
    return Invoice(
        id=id,
        customer_id=customer_id,
        number=id,
        amount=eur(amount),
        issued_on=issued_on or date(2026, 4, 5),
        due_on=due_on,
        paid=eur(paid) if paid is not None else None,
        credited=eur(credited) if credited is not None else None,
        holds=holds,
    )


def customer(id: str = "C1", **changes: Any) -> Customer:
    return Customer(id=id, name=f"Customer {id}", email=f"{id.lower()}@example.com", **changes)


def run(
    policy: Policy,
    items: list[tuple[Invoice, DunningState]],
    today: date,
    *,
    who: Customer | None = None,
    customer_state: CustomerState | None = None,
    calendar: Calendar = CALENDAR_DAYS,
) -> Outcome:
    """One call of ``decide`` for one customer's invoices."""
    reviewed = [Reviewed(inv, st) for inv, st in items]
    return decide(policy, who or customer(), customer_state or CustomerState(), reviewed, today, calendar)


def one(
    policy: Policy,
    inv: Invoice,
    today: date,
    state: DunningState | None = None,
    **kwargs: Any,
) -> Decision:
    """The single decision on one invoice."""
    (decision,) = run(policy, [(inv, state or DunningState())], today, **kwargs).decisions
    return decision


def daily(
    policy: Policy,
    inv: Invoice,
    first: date,
    last: date,
    *,
    calendar: Calendar = CALENDAR_DAYS,
) -> dict[date, int]:
    """Run every day from ``first`` to ``last``; the days a level was reached, and which."""
    state, cstate = DunningState(), CustomerState()
    reached: dict[date, int] = {}
    day = first
    while day <= last:
        outcome = run(policy, [(inv, state)], day, customer_state=cstate, calendar=calendar)
        (decision,) = outcome.decisions
        if decision.level != state.level:
            reached[day] = decision.level
        state, cstate = decision.state, outcome.customer_state
        day = date.fromordinal(day.toordinal() + 1)
    return reached
