"""Dated stories: a policy in TOML, a ledger as a text table, then what happens day by day.

``play(policy, ledger, story)`` runs the engine once a day, from the story's first date to
its last, the way the store does (only invoices whose review date has come, or that the
ledger changed), and checks that every day's actions are exactly the ones the story tells.

Story lines are ``YYYY-MM-DD: sentence``. Sentences that change the world, applied before
that day's run::

    INV-1 is paid 40.00                     a payment on the invoice, in its currency
    INV-1 is disputed until 2026-05-24      a hold (inclusive end); without "until": open-ended
    INV-1 dispute is resolved               every hold on the invoice is lifted
    holiday (Ascension Day)                 the date is not a business day
    nothing happens                         no action on that day (days not told have none either)

Sentences the engine must say, in the same words::

    INV-1 reaches level 1 (reminder) by email          (several channels: "by letter and email")
    INV-1 is closed (paid)
    INV-1 is reopened
    INV-1 is skipped (held)                 checked only on the days the story says so
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import replace
from datetime import date, timedelta
from textwrap import dedent

from pastdue.core.calendar import Calendar
from pastdue.core.engine import Act, Decision, decide
from pastdue.core.model import (
    Customer,
    CustomerState,
    DunningState,
    Hold,
    HoldReason,
    Invoice,
    Reviewed,
)
from pastdue.core.money import parse_amount
from pastdue.core.policy import Policy, policy_from_toml

# The standard policy of DESIGN.md section 6; stories change it with str.replace.
STANDARD = """
    name = "standard"
    escalation = "step"
    days = "calendar"
    min_days_between_notices = 7

    [[levels]]
    name = "reminder"
    after_days = 1
    channels = ["email"]

    [[levels]]
    name = "second reminder"
    after_days = 8
    channels = ["email"]

    [[levels]]
    name = "phone call"
    after_days = 15
    channels = ["phone"]

    [[levels]]
    name = "final notice"
    after_days = 31
    channels = ["letter"]
"""

PAID = re.compile(r"(?P<invoice>\S+) is paid (?P<amount>\S+)")
DISPUTED = re.compile(r"(?P<invoice>\S+) is disputed(?: until (?P<until>\d{4}-\d\d-\d\d))?")
RESOLVED = re.compile(r"(?P<invoice>\S+) dispute is resolved")
SKIPPED = re.compile(r"(?P<invoice>\S+) is skipped \(.+\)")
TOLD = re.compile(r"\S+ (reaches level \d+ \(.+\) by .+|is closed \(.+\)|is reopened)")


def play(policy: str, ledger: str, story: str) -> None:
    parsed, problems = policy_from_toml(dedent(policy))
    assert parsed is not None, [str(p) for p in problems]
    invoices = read_ledger(ledger)
    lines = read_story(story)
    holidays = frozenset(day for day, text in lines if text.startswith("holiday"))
    calendar = Calendar(holidays=holidays, name=parsed.calendar or "")
    customers = {inv.customer_id: Customer(inv.customer_id, inv.customer_id) for inv in invoices.values()}
    first, last = lines[0][0], lines[-1][0]
    states = {i: DunningState(next_review_on=first) for i in invoices}  # never reviewed: due
    customer_states = {c: CustomerState() for c in customers}
    expected: dict[str, list[str]] = defaultdict(list)
    observed: dict[str, list[str]] = defaultdict(list)

    day = first
    while day <= last:
        told = [text for when, text in lines if when == day]
        for text in told:
            changed = change(text, invoices)
            if changed:
                states[changed] = replace(states[changed], next_review_on=day)
            elif SKIPPED.fullmatch(text) or TOLD.fullmatch(text):
                expected[day.isoformat()].append(text)
            else:
                assert text == "nothing happens" or text.startswith("holiday"), f"{day}: {text}?"
        before = (dict(states), dict(customer_states))
        decisions: dict[str, Decision] = {}
        for customer in customers.values():
            due = [
                Reviewed(inv, states[inv.id])
                for inv in invoices.values()
                if inv.customer_id == customer.id and _is_due(states[inv.id], day)
            ]
            if due:
                outcome = decide(parsed, customer, customer_states[customer.id], due, day, calendar)
                customer_states[customer.id] = outcome.customer_state
                for decision in outcome.decisions:
                    states[decision.invoice_id] = decision.state
                    decisions[decision.invoice_id] = decision
        said = observed[day.isoformat()]
        said.extend(say(d, parsed) for d in decisions.values() if d.is_action)
        for text in told:
            if match := SKIPPED.fullmatch(text):
                inv = invoices[match["invoice"]]
                decision = decisions.get(inv.id) or _ask(parsed, customers[inv.customer_id], inv, before, day, calendar)
                said.append(say(decision, parsed))
        day += timedelta(days=1)

    tidy = {day: sorted(texts) for day, texts in observed.items() if texts}
    assert tidy == {day: sorted(texts) for day, texts in expected.items()}


def say(decision: Decision, policy: Policy) -> str:
    """The decision in the story's words."""
    reason = decision.reason.value.replace("_", " ")
    if decision.act is Act.NOTICE:
        level = policy.level(decision.level)
        channels = " and ".join(level.channels)
        return f"{decision.invoice_id} reaches level {level.number} ({level.name}) by {channels}"
    if decision.act is Act.CLOSE:
        return f"{decision.invoice_id} is closed ({reason})"
    if decision.act is Act.REOPEN:
        return f"{decision.invoice_id} is reopened"
    return f"{decision.invoice_id} is skipped ({reason})"


def change(text: str, invoices: dict[str, Invoice]) -> str | None:
    """Apply a sentence that changes the ledger; the id of the invoice changed, if any."""
    if match := PAID.fullmatch(text):
        inv = invoices[match["invoice"]]
        amount = parse_amount(match["amount"], inv.currency)
        invoices[inv.id] = replace(inv, paid=amount if inv.paid is None else inv.paid + amount)
    elif match := DISPUTED.fullmatch(text):
        inv = invoices[match["invoice"]]
        until = date.fromisoformat(match["until"]) if match["until"] else None
        invoices[inv.id] = replace(inv, holds=(*inv.holds, Hold(HoldReason.DISPUTE, until=until)))
    elif match := RESOLVED.fullmatch(text):
        invoices[match["invoice"]] = replace(invoices[match["invoice"]], holds=())
    else:
        return None
    return str(match["invoice"])


def read_ledger(table: str) -> dict[str, Invoice]:
    """A whitespace-separated table with a header row; columns in any order."""
    header, *rows = [line.split() for line in dedent(table).strip().splitlines()]
    invoices: dict[str, Invoice] = {}
    for row in rows:
        cell = dict(zip(header, row, strict=True))
        invoices[cell["invoice"]] = Invoice(
            id=cell["invoice"],
            customer_id=cell["customer"],
            number=cell["invoice"],
            amount=parse_amount(cell["amount"], cell["currency"]),
            issued_on=date.fromisoformat(cell["issued_on"]),
            due_on=date.fromisoformat(cell["due_on"]),
        )
    return invoices


def read_story(text: str) -> list[tuple[date, str]]:
    lines = []
    for line in dedent(text).strip().splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            when, _, sentence = line.strip().partition(": ")
            lines.append((date.fromisoformat(when), sentence.strip()))
    assert lines == sorted(lines, key=lambda item: item[0]), "tell the story in date order"
    return lines


def _is_due(state: DunningState, day: date) -> bool:
    return state.next_review_on is not None and state.next_review_on <= day


def _ask(
    policy: Policy,
    customer: Customer,
    inv: Invoice,
    before: tuple[dict[str, DunningState], dict[str, CustomerState]],
    day: date,
    calendar: Calendar,
) -> Decision:
    """What the engine would say of an invoice the run did not review (``pastdue explain``)."""
    states, customer_states = before
    reviewed = [Reviewed(inv, states[inv.id])]
    return decide(policy, customer, customer_states[customer.id], reviewed, day, calendar).decisions[0]
