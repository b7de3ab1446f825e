"""Properties of the engine over random small ledgers, policies and run dates.

The central one: the daily run only reviews invoices whose ``next_review_on`` has come (and
those the ledger changed), and that must decide exactly what reviewing every invoice on
every run would decide. If it did not, some reminder would go out late or never.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from itertools import pairwise

from hypothesis import given, settings
from hypothesis import strategies as st

from pastdue.core.calendar import Calendar
from pastdue.core.engine import decide, level_dates
from pastdue.core.model import (
    Customer,
    CustomerState,
    DunningState,
    Hold,
    HoldReason,
    Invoice,
    Reviewed,
)
from pastdue.core.money import Money
from pastdue.core.policy import CHANNELS, DayCount, Escalation, Level, Policy

START = date(2026, 5, 1)
HORIZON = 100  # days simulated after START

Notice = tuple[str, str, date, str, int]  # customer, channel, date, invoice, level


@st.composite
def policies(draw: st.DrawFn, escalation: Escalation | None = None) -> Policy:
    count = draw(st.integers(1, 4))
    offsets = sorted(draw(st.lists(st.integers(-5, 40), min_size=count, max_size=count, unique=True)))
    levels = tuple(
        Level(
            number,
            f"level {number}",
            offset,
            tuple(draw(st.lists(st.sampled_from(CHANNELS), min_size=1, max_size=2, unique=True))),
            draw(st.sampled_from([0, 0, 3, 10, 20])),
        )
        for number, offset in enumerate(offsets, start=1)
    )
    days = draw(st.sampled_from(list(DayCount)))
    return Policy(
        name="random",
        levels=levels,
        escalation=escalation or draw(st.sampled_from(list(Escalation))),
        days=days,
        calendar="DE" if days is DayCount.BUSINESS else None,
        min_days_between_notices=draw(st.sampled_from([0, 1, 3, 7, 10])),
        min_balance=draw(st.sampled_from([{}, {"EUR": Money.of_minor(500, "EUR")}])),
    )


DAYS = st.integers(0, HORIZON)


@st.composite
def calendars(draw: st.DrawFn) -> Calendar:
    offsets = draw(st.frozensets(DAYS, max_size=10))
    return Calendar(holidays=frozenset(START + timedelta(days=n) for n in offsets), name="DE")


@dataclass(frozen=True)
class Change:
    """One change to the ledger, made before the run (if any) on its day."""

    day: int
    kind: str  # pay_all, pay_half, pay_leaving_3, unpay, hold, lift, hold_customer, ...
    target: int  # index of the invoice or customer
    hold_days: int | None  # for holds: how long, None for open-ended


CHANGE_KINDS = [
    "pay_all",
    "pay_half",
    "pay_leaving_3",
    "unpay",
    "hold",
    "lift",
    "hold_customer",
    "lift_customer",
    "toggle_exempt",
]


@dataclass
class Ledger:
    customers: dict[str, Customer]
    invoices: dict[str, Invoice]
    run_days: list[int]
    changes: list[Change]


@st.composite
def ledgers(draw: st.DrawFn) -> Ledger:
    customers = {f"C{n}": Customer(f"C{n}", f"Customer {n}") for n in range(draw(st.integers(1, 3)))}
    invoices: dict[str, Invoice] = {}
    for n in range(draw(st.integers(1, 5))):
        due = START + timedelta(days=draw(st.integers(-30, 50)))
        invoices[f"INV-{n}"] = Invoice(
            id=f"INV-{n}",
            customer_id=draw(st.sampled_from(sorted(customers))),
            number=f"INV-{n}",
            amount=Money.of_minor(draw(st.integers(100, 50_000)), "EUR"),
            issued_on=due - timedelta(days=draw(st.integers(0, 30))),
            due_on=due,
        )
    if draw(st.booleans()):  # a scheduler that runs every few days ...
        every, first = draw(st.sampled_from([1, 1, 2, 3, 7])), draw(st.integers(0, 10))
        run_days = list(range(first, HORIZON + 1, every))
    else:  # ... or one that often misses
        run_days = sorted(draw(st.sets(DAYS, min_size=1, max_size=30)))
    changes = draw(
        st.lists(
            st.builds(
                Change,
                DAYS,
                st.sampled_from(CHANGE_KINDS),
                st.integers(0, 4),
                st.none() | st.integers(0, 25),
            ),
            max_size=8,
        )
    )
    return Ledger(customers, invoices, run_days, sorted(changes, key=lambda c: c.day))


def apply(ledger: Ledger, change: Change, today: date) -> list[str]:
    """Make the change; return the ids of the invoices it touched (to review again)."""
    invoices, customers = ledger.invoices, ledger.customers
    if change.kind.endswith("_customer") or change.kind == "toggle_exempt":
        who = customers[sorted(customers)[change.target % len(customers)]]
        if change.kind == "hold_customer":
            who = replace(who, holds=(*who.holds, _hold(change, today)))
        elif change.kind == "lift_customer":
            who = replace(who, holds=())
        else:
            who = replace(who, exempt=not who.exempt)
        customers[who.id] = who
        return [inv.id for inv in invoices.values() if inv.customer_id == who.id]
    inv = invoices[sorted(invoices)[change.target % len(invoices)]]
    open_minor = inv.open_balance.minor
    paid_minor = inv.paid.minor if inv.paid else 0
    if change.kind == "pay_all":
        paid_minor += open_minor
    elif change.kind == "pay_half":
        paid_minor += open_minor // 2
    elif change.kind == "pay_leaving_3":
        paid_minor += max(open_minor - 300, 0)
    elif change.kind == "unpay":
        paid_minor = 0
    if change.kind == "hold":
        inv = replace(inv, holds=(*inv.holds, _hold(change, today)))
    elif change.kind == "lift":
        inv = replace(inv, holds=())
    else:
        inv = replace(inv, paid=Money.of_minor(paid_minor, "EUR") if paid_minor else None)
    invoices[inv.id] = inv
    return [inv.id]


def _hold(change: Change, today: date) -> Hold:
    until = None if change.hold_days is None else today + timedelta(days=change.hold_days)
    return Hold(HoldReason.DISPUTE, until=until)


@dataclass
class World:
    """One store's view: dunning states, customer states, the notices sent."""

    incremental: bool
    states: dict[str, DunningState] = field(default_factory=dict)
    customer_states: dict[str, CustomerState] = field(default_factory=dict)
    reviewed: set[str] = field(default_factory=set)
    notices: set[Notice] = field(default_factory=set)

    def up_for_review(self, invoice_id: str, today: date) -> bool:
        if not self.incremental or invoice_id not in self.reviewed:
            return True
        when = self.states[invoice_id].next_review_on
        return when is not None and when <= today

    def touched(self, invoice_id: str, today: date) -> None:
        """The store's rule: a changed invoice is reviewed on the date of the change."""
        state = self.states.get(invoice_id, DunningState())
        self.states[invoice_id] = replace(state, next_review_on=today)

    def run(self, policy: Policy, ledger: Ledger, today: date, calendar: Calendar) -> None:
        for customer in ledger.customers.values():
            due = [
                Reviewed(inv, self.states.get(inv.id, DunningState()))
                for inv in ledger.invoices.values()
                if inv.customer_id == customer.id and self.up_for_review(inv.id, today)
            ]
            if not due:
                continue
            before = self.customer_states.get(customer.id, CustomerState())
            outcome = decide(policy, customer, before, due, today, calendar)
            self.customer_states[customer.id] = outcome.customer_state
            for decision in outcome.decisions:
                self.states[decision.invoice_id] = decision.state
                self.reviewed.add(decision.invoice_id)
            for channel, decisions in outcome.notices(policy).items():
                for d in decisions:
                    self.notices.add((customer.id, channel, today, d.invoice_id, d.level))

    def standing(self) -> dict[str, tuple[int, date | None, date | None]]:
        return {i: (s.level, s.reached_on, s.closed_on) for i, s in sorted(self.states.items())}


def simulate(policy: Policy, ledger: Ledger, calendar: Calendar, *worlds: World) -> list[dict[str, int]]:
    """Walk day by day; return the levels of the first world after each run."""
    history: list[dict[str, int]] = []
    changes = list(ledger.changes)
    for offset in range(HORIZON + 1):
        today = START + timedelta(days=offset)
        while changes and changes[0].day == offset:
            for invoice_id in apply(ledger, changes.pop(0), today):
                for world in worlds:
                    world.touched(invoice_id, today)
        if offset in ledger.run_days:
            for world in worlds:
                world.run(policy, ledger, today, calendar)
            full, *others = worlds
            for other in others:
                assert other.standing() == full.standing(), f"states differ after the run on {today}"
                assert other.notices == full.notices, f"notices differ after the run on {today}"
            history.append({i: s.level for i, s in full.states.items()})
    return history


@settings(max_examples=300, deadline=None)
@given(policies(), ledgers(), calendars())
def test_incremental_review_equals_full_review(policy: Policy, ledger: Ledger, calendar: Calendar) -> None:
    simulate(policy, ledger, calendar, World(incremental=False), World(incremental=True))


@settings(max_examples=200, deadline=None)
@given(policies(escalation=Escalation.STEP), ledgers(), calendars())
def test_step_mode_rises_at_most_one_level_per_run(policy: Policy, ledger: Ledger, calendar: Calendar) -> None:
    history = simulate(policy, ledger, calendar, World(incremental=True))
    for before, after in zip([{}, *history], history, strict=False):
        for invoice_id, level in after.items():
            assert 0 <= level - before.get(invoice_id, 0) <= 1


@settings(max_examples=200, deadline=None)
@given(policies(), ledgers(), calendars())
def test_notices_respect_thresholds_and_spacing(policy: Policy, ledger: Ledger, calendar: Calendar) -> None:
    world = World(incremental=True)
    simulate(policy, ledger, calendar, world)
    days_by_customer: dict[str, set[date]] = {}
    for customer_id, channel, day, invoice_id, level in world.notices:
        due_on = ledger.invoices[invoice_id].due_on
        assert level_dates(policy, due_on, calendar)[level - 1] <= day
        assert channel in policy.level(level).channels
        days_by_customer.setdefault(customer_id, set()).add(day)
    for days in days_by_customer.values():
        ordered = sorted(days)
        for earlier, later in pairwise(ordered):
            assert (later - earlier).days >= policy.min_days_between_notices
