"""The stored dunning state equals the state recomputed from scratch by the pure engine.

Random sequences of imports (new payments, a customer made exempt or not), holds placed and
released, and runs on increasing dates go through the real services on SQLite. Beside
them, a reference reviews *every* invoice on every run with the core engine alone. The
store only reviews what its review dates and its change tracking say is due; if either
missed something, a level, a closing date or a notice would differ.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from store_support import customer_row, write_ledger

from conftest import fixed_clock
from pastdue import services
from pastdue.bootstrap import build
from pastdue.core.calendar import CALENDAR_DAYS
from pastdue.core.engine import decide
from pastdue.core.model import Customer, CustomerState, DunningState, Hold, HoldReason, Invoice, Reviewed
from pastdue.core.money import Money
from pastdue.core.policy import policy_from_toml
from pastdue.policies import standard_policy_toml
from pastdue.settings import Settings

START = date(2026, 6, 1)
CUSTOMERS = ("C1", "C2")
INVOICES = {  # id: (customer, amount in cents, due offset from START)
    "I1": ("C1", 10_000, -20),
    "I2": ("C1", 2_500, -3),
    "I3": ("C2", 7_000, 5),
    "I4": ("C2", 1_000, 12),
}

operations = st.lists(
    st.one_of(
        st.tuples(st.just("run"), st.integers(1, 9)),
        st.tuples(st.just("pay"), st.sampled_from(sorted(INVOICES)), st.sampled_from([Decimal("0.5"), Decimal(1)])),
        st.tuples(st.just("hold"), st.sampled_from(sorted(INVOICES)), st.sampled_from([None, 3, 10])),
        st.tuples(st.just("release")),
        st.tuples(st.just("exempt"), st.sampled_from(CUSTOMERS)),
    ),
    min_size=3,
    max_size=14,
)


@dataclass
class Reference:
    """The ledger as plain values, decided in full on every run."""

    invoices: dict[str, Invoice]
    states: dict[str, DunningState]
    customers: dict[str, Customer]
    customer_states: dict[str, CustomerState]


def _reference() -> Reference:
    invoices = {
        iid: Invoice(
            iid, cid, f"N-{iid}", Money.of_minor(cents, "EUR"), START - timedelta(days=40), START + timedelta(days=due)
        )
        for iid, (cid, cents, due) in INVOICES.items()
    }
    return Reference(
        invoices,
        {iid: DunningState() for iid in invoices},
        {cid: Customer(cid, f"Customer {cid}") for cid in CUSTOMERS},
        {cid: CustomerState() for cid in CUSTOMERS},
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations, st.sampled_from(["step", "catch-up"]))
# The interactions a store is likeliest to get wrong, always tried besides the random ones:
@example([("exempt", "C1"), ("run", 3), ("exempt", "C1"), ("run", 3)], "step")
@example([("hold", "I1", None), ("run", 3), ("release",), ("run", 9)], "step")
@example([("run", 2), ("pay", "I1", Decimal(1)), ("run", 2), ("pay", "I2", Decimal("0.5")), ("run", 9)], "catch-up")
def test_stored_state_equals_a_full_recomputation(ops: list[tuple], escalation: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        _check(Path(folder), ops, escalation)


def _check(folder: Path, ops: list[tuple], escalation: str) -> None:
    app = build(Settings(database_url=f"sqlite:///{folder / 'p.db'}", tenant="t"), fixed_clock)
    try:
        services.init(app)
        policy_file = folder / "policy.toml"
        policy_file.write_text(standard_policy_toml(escalation), encoding="utf-8")
        services.apply_policy(app, policy_file)
        policy, _ = policy_from_toml(standard_policy_toml(escalation))
        assert policy is not None
        ref = _reference()
        payments: list[list[str]] = []
        exempt: set[str] = set()
        holds: list[tuple[str, str, date | None]] = []  # (hold id, invoice, until)
        today = START

        def reimport() -> None:
            customers = [[*customer_row(c), "true" if c in exempt else "false"] for c in CUSTOMERS]
            invoices = [
                [
                    iid,
                    cid,
                    f"N-{iid}",
                    "EUR",
                    f"{Decimal(cents).scaleb(-2)}",
                    (START - timedelta(days=40)).isoformat(),
                    (START + timedelta(days=due)).isoformat(),
                ]
                for iid, (cid, cents, due) in INVOICES.items()
            ]
            header = ["id", "name", "email", "phone", "country", "language", "timezone", "exempt"]
            services.import_ledger(
                app,
                [
                    write_ledger(
                        folder / f"ledger{len(payments)}-{len(exempt)}",
                        customers=customers,
                        customers_header=header,
                        invoices=invoices,
                        payments=payments,
                    )
                ],
            )

        reimport()
        for op in ops:
            if op[0] == "run":
                today += timedelta(days=op[1])
                _reference_run(ref, policy, today)
                services.run_dunning(app, today)
                stored = {row.id: (row.level, row.closed_on) for row in services.invoices(app)}
                expected = {iid: (s.level, s.closed_on) for iid, s in ref.states.items()}
                assert stored == expected, (today, ops)
            elif op[0] == "pay":
                invoice = ref.invoices[op[1]]
                cents = min(int(invoice.open_balance.minor * op[2]), invoice.open_balance.minor)
                if cents > 0:
                    payments.append(
                        [f"P{len(payments)}", op[1], f"{Decimal(cents).scaleb(-2)}", "EUR", today.isoformat()]
                    )
                    paid = (invoice.paid or Money.zero("EUR")) + Money.of_minor(cents, "EUR")
                    ref.invoices[op[1]] = replace(invoice, paid=paid)
                    reimport()
            elif op[0] == "hold":
                until = today + timedelta(days=op[2]) if op[2] is not None else None
                hold_id = services.place_hold(app, reason=HoldReason.DISPUTE, invoice_number=f"N-{op[1]}", until=until)
                holds.append((hold_id, op[1], until))
                _set_holds(ref, holds)
            elif op[0] == "release" and holds:
                hold_id, _iid, until = holds.pop(0)
                if until is None or until >= today:
                    services.release_hold(app, hold_id)
                _set_holds(ref, holds)
            elif op[0] == "exempt":
                exempt ^= {op[1]}
                ref.customers[op[1]] = replace(ref.customers[op[1]], exempt=op[1] in exempt)
                reimport()
    finally:
        app.engine.dispose()


def _set_holds(ref: Reference, holds: list[tuple[str, str, date | None]]) -> None:
    for iid, invoice in ref.invoices.items():
        mine = tuple(Hold(HoldReason.DISPUTE, "", until) for _id, held, until in holds if held == iid)
        ref.invoices[iid] = replace(invoice, holds=mine)


def _reference_run(ref: Reference, policy: object, today: date) -> None:
    for cid, customer in ref.customers.items():
        items = [Reviewed(inv, ref.states[iid]) for iid, inv in sorted(ref.invoices.items()) if inv.customer_id == cid]
        outcome = decide(policy, customer, ref.customer_states[cid], items, today, CALENDAR_DAYS)  # type: ignore[arg-type]
        for decision in outcome.decisions:
            ref.states[decision.invoice_id] = decision.state
        ref.customer_states[cid] = outcome.customer_state
