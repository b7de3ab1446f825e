"""Money in, told as stories: payments, statements, the matching queue, reversals, money in flight.

Every story runs on SQLite and on PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import text
from store_support import apply_policy, audit_count, customer_row, write_ledger

from pastdue import services
from pastdue.bootstrap import App
from pastdue.channels.recording import RecordingChannel
from pastdue.core.matching import rf_reference
from pastdue.core.money import Money
from pastdue.errors import NotFound, ProblemsFound
from pastdue.importers.camt_write import Booking, camt053
from pastdue.rendering import Renderer
from pastdue.services import payments, statements
from pastdue.services.delivery import Deliverer

AS_OF = date(2026, 6, 30)
ACCOUNT = "DE89370400440532013000"
ACME_IBAN = "DE02120300000000202051"
BOLT_IBAN = "GB33BUKB20201555555555"


def eur(text_: str) -> Money:
    return Money(Decimal(text_), "EUR")


def clock_on(day: date) -> Callable[[], datetime]:
    return lambda: datetime(day.year, day.month, day.day, 9, 0, tzinfo=UTC)


@pytest.fixture
def app_on(make_app: Callable[..., App]) -> Iterator[App]:
    """An App whose clock reads 30 June 2026, 09:00 UTC, disposed of afterwards."""
    built = make_app(clock=clock_on(AS_OF))
    yield built
    built.engine.dispose()


@pytest.fixture
def ledger_app(app: App, tmp_path: Path) -> App:
    """acme owes three invoices (two overdue), bolt one; the standard policy applies."""
    folder = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row("acme", "Acme GmbH"), customer_row("bolt", "Bolt Ltd")],
        invoices=[
            ["i1", "acme", "INV-2026-00001", "EUR", "100.00", "2026-05-01", "2026-05-31"],
            ["i2", "acme", "INV-2026-00002", "EUR", "250.00", "2026-05-10", "2026-06-09"],
            ["i3", "acme", "INV-2026-00003", "EUR", "40.00", "2026-06-20", "2026-07-20"],
            ["i4", "bolt", "INV-2026-00004", "EUR", "100.00", "2026-05-01", "2026-05-31"],
        ],
    )
    services.import_ledger(app, [folder])
    apply_policy(app, tmp_path)
    return app


def open_amounts(app: App) -> dict[str, Decimal]:
    return {row.number: row.open_amount.amount for row in services.invoices(app)}


def write_statement(tmp_path: Path, name: str, bookings: list[Booking]) -> Path:
    path = tmp_path / name
    path.write_bytes(camt053(bookings, account=ACCOUNT, statement_id=name))
    return path


# --- recording payments -------------------------------------------------------------------------


def test_a_payment_without_invoices_goes_oldest_due_first_and_the_rest_is_customer_credit(ledger_app: App) -> None:
    result = payments.record_payment(ledger_app, amount=eur("420.00"), received_on=AS_OF, customer_id="acme")
    assert result.allocations == [
        ("INV-2026-00001", eur("100.00")),
        ("INV-2026-00002", eur("250.00")),
        ("INV-2026-00003", eur("40.00")),
    ]
    assert result.unapplied == eur("30.00")
    assert open_amounts(ledger_app)["INV-2026-00003"] == 0
    [credit] = payments.list_payments(ledger_app, unapplied_only=True)
    assert (credit.customer_id, credit.unapplied) == ("acme", eur("30.00"))
    assert audit_count(ledger_app, "allocation") == 3


def test_a_partial_payment_of_a_named_invoice_reduces_only_that_invoice(ledger_app: App) -> None:
    result = payments.record_payment(
        ledger_app, amount=eur("60.00"), received_on=AS_OF, invoice_numbers=["INV-2026-00002"]
    )
    assert result.customer_id == "acme"
    assert open_amounts(ledger_app) == {
        "INV-2026-00001": Decimal("100.00"),
        "INV-2026-00002": Decimal("190.00"),
        "INV-2026-00003": Decimal("40.00"),
        "INV-2026-00004": Decimal("100.00"),
    }


def test_the_allocation_order_is_the_tenants_choice(ledger_app: App) -> None:
    with ledger_app.engine.begin() as connection:
        connection.execute(
            text("UPDATE tenants SET profile = :p WHERE tenant_id = :t"),
            {"p": '{"allocation_order": "newest_due"}', "t": ledger_app.tenant},
        )
    result = payments.record_payment(ledger_app, amount=eur("45.00"), received_on=AS_OF, customer_id="acme")
    assert result.allocations == [("INV-2026-00003", eur("40.00")), ("INV-2026-00002", eur("5.00"))]


def test_recording_the_same_external_payment_twice_changes_nothing(ledger_app: App) -> None:
    first = payments.record_payment(
        ledger_app, amount=eur("100.00"), received_on=AS_OF, customer_id="bolt", source_key="pi_123"
    )
    again = payments.record_payment(
        ledger_app, amount=eur("100.00"), received_on=AS_OF, customer_id="bolt", source_key="pi_123"
    )
    assert again.duplicate and again.receipt_id == first.receipt_id
    assert open_amounts(ledger_app)["INV-2026-00004"] == 0


def test_bad_payments_are_refused_with_every_problem_and_change_nothing(ledger_app: App) -> None:
    with pytest.raises(ProblemsFound) as refused:
        payments.record_payment(
            ledger_app,
            amount=eur("-5.00"),
            received_on=AS_OF,
            customer_id="acme",
            invoice_numbers=["INV-2026-00004", "NOPE-1"],
        )
    messages = [str(p) for p in refused.value.problems]
    assert any("amount: must be positive" in m for m in messages)
    assert any("no invoice numbered 'NOPE-1'" in m for m in messages)
    with pytest.raises(ProblemsFound, match="no customer 'ghost'"):
        payments.record_payment(ledger_app, amount=eur("5.00"), received_on=AS_OF, customer_id="ghost")
    assert payments.list_payments(ledger_app) == []


def test_unapplied_cash_is_applied_later_to_a_new_invoice(ledger_app: App, tmp_path: Path) -> None:
    payments.record_payment(ledger_app, amount=eur("150.00"), received_on=AS_OF, customer_id="bolt")
    [credit] = payments.list_payments(ledger_app, unapplied_only=True)
    assert credit.unapplied == eur("50.00")
    services.import_ledger(
        ledger_app,
        [
            write_ledger(
                tmp_path / "more",
                invoices=[["i5", "bolt", "INV-2026-00005", "EUR", "80.00", "2026-06-25", "2026-07-25"]],
            )
        ],
    )
    result = payments.apply_unapplied(ledger_app, credit.id)
    assert result.allocations == [("INV-2026-00005", eur("50.00"))]  # only what this call applied
    assert result.unapplied == eur("0.00")


# --- reversals ------------------------------------------------------------------------------------


def test_a_reversal_reopens_the_invoice_and_dunning_resumes_where_it_left_off(app_on: App, tmp_path: Path) -> None:
    app = app_on
    folder = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row("acme")],
        invoices=[["i1", "acme", "INV-2026-00001", "EUR", "100.00", "2026-05-01", "2026-06-01"]],
    )
    services.import_ledger(app, [folder])
    apply_policy(app, tmp_path)
    services.run_dunning(app, date(2026, 6, 2))  # reminder
    services.run_dunning(app, date(2026, 6, 9))  # second reminder
    paid = payments.record_payment(app, amount=eur("100.00"), received_on=date(2026, 6, 10), customer_id="acme")
    closing = services.run_dunning(app, date(2026, 6, 11))
    assert closing.actions == 1  # closed: paid
    [invoice] = services.invoices(app)
    assert invoice.level == 2

    reversal = payments.reverse_payment(app, paid.receipt_id, reason="direct debit returned (MD06)")
    assert reversal.reopened == [("INV-2026-00001", eur("100.00"))]
    assert open_amounts(app)["INV-2026-00001"] == Decimal("100.00")
    reopening = services.run_dunning(app, date(2026, 6, 12))
    assert reopening.actions == 1
    services.run_dunning(app, date(2026, 6, 16))  # the phone call level (after_days 15)
    [invoice] = services.invoices(app)
    assert invoice.level == 3
    with pytest.raises(ProblemsFound, match="is reversed"):
        payments.reverse_payment(app, paid.receipt_id, reason="again")


# --- statements -------------------------------------------------------------------------------------


def test_credits_imported_before_the_run_mean_no_reminder_and_the_run_says_why(ledger_app: App, tmp_path: Path) -> None:
    statement = write_statement(
        tmp_path,
        "june.xml",
        [
            Booking(eur("100.00"), AS_OF, "Rechnung inv 2026 1", "Acme GmbH", ACME_IBAN, "E2E-1"),
            Booking(eur("250.00"), AS_OF, "", "Acme GmbH", ACME_IBAN, "E2E-2", rf_reference("INV-2026-00002")),
        ],
    )
    summary = statements.import_statement(ledger_app, statement)
    assert (summary.credits, summary.matched, summary.by_rule) == (2, 2, {"invoice_number": 1, "reference": 1})
    run = services.run_dunning(ledger_app, AS_OF)
    assert run.skipped["paid"] == 2
    assert {n.invoices for n in services.notices(ledger_app)} == {("INV-2026-00004",)}

    again = statements.import_statement(ledger_app, statement)
    assert (again.known, again.credits, again.matched) == (2, 0, 0)
    assert len(payments.list_payments(ledger_app)) == 2


def test_unresolved_credits_wait_with_candidates_and_a_confirmation_teaches_the_payer(
    ledger_app: App, tmp_path: Path
) -> None:
    statement = write_statement(
        tmp_path,
        "s1.xml",
        [
            Booking(eur("100.00"), AS_OF, "thanks", "Bolt Ltd", BOLT_IBAN, "E2E-3"),  # acme's i1 or bolt's i4
            Booking(eur("13.37"), AS_OF, "lunch", "Someone", "DE44500105175407324931", "E2E-4"),
        ],
    )
    summary = statements.import_statement(ledger_app, statement)
    assert (summary.matched, summary.ambiguous, summary.unmatched) == (0, 1, 1)
    waiting = {r.remittance: r for r in statements.list_matches(ledger_app)}
    ambiguous = waiting["thanks"]
    assert ambiguous.status == "ambiguous"
    [candidate] = ambiguous.candidates
    assert candidate["invoices"] == ["INV-2026-00001", "INV-2026-00004"]
    assert candidate["customers"] == ["acme", "bolt"]
    assert "payer is not known" in candidate["reason"]
    assert waiting["lunch"].status == "unmatched" and waiting["lunch"].reason

    with pytest.raises(ProblemsFound, match="name the invoices or the customer"):
        statements.confirm_match(ledger_app, ambiguous.id)
    confirmed = statements.confirm_match(ledger_app, ambiguous.id, customer_id="bolt")
    assert confirmed.allocations == [("INV-2026-00004", eur("100.00"))]
    statements.reject_match(ledger_app, waiting["lunch"].id, reason="not ours: refunded")
    assert statements.list_matches(ledger_app) == []

    services.import_ledger(
        ledger_app,
        [
            write_ledger(
                tmp_path / "more",
                invoices=[["i5", "bolt", "INV-2026-00005", "EUR", "77.00", "2026-06-01", "2026-06-15"]],
            )
        ],
    )
    later = statements.import_statement(
        ledger_app,
        write_statement(tmp_path, "s2.xml", [Booking(eur("77.00"), AS_OF, "", "Bolt Ltd", BOLT_IBAN, "E2E-5")]),
    )
    assert later.by_rule == {"amount_and_payer": 1}


def test_a_returned_credit_on_a_later_statement_reverses_its_payment(ledger_app: App, tmp_path: Path) -> None:
    statements.import_statement(
        ledger_app,
        write_statement(
            tmp_path, "s1.xml", [Booking(eur("100.00"), AS_OF, "INV-2026-00004", "Bolt", BOLT_IBAN, "DD-77")]
        ),
    )
    assert open_amounts(ledger_app)["INV-2026-00004"] == 0
    returned = statements.import_statement(
        ledger_app,
        write_statement(
            tmp_path,
            "s2.xml",
            [
                Booking(
                    eur("-100.00"), AS_OF + timedelta(days=3), "RETURN MD06", "Bolt", BOLT_IBAN, "DD-77", reversal=True
                ),
                Booking(eur("-12.00"), AS_OF + timedelta(days=3), "bank fees"),
            ],
        ),
    )
    assert (returned.reversed, returned.debits_ignored) == (1, 1)
    assert open_amounts(ledger_app)["INV-2026-00004"] == Decimal("100.00")
    assert audit_count(ledger_app, "reversal") == 1


def test_a_match_cancels_queued_notices_it_makes_pointless(ledger_app: App, tmp_path: Path) -> None:
    services.run_dunning(ledger_app, AS_OF)
    before = {n.invoices: n.status for n in services.notices(ledger_app)}
    assert before[("INV-2026-00004",)] == "pending"
    summary = statements.import_statement(
        ledger_app, write_statement(tmp_path, "s.xml", [Booking(eur("100.00"), AS_OF, "INV-2026-00004", "Bolt")])
    )
    assert summary.cancelled_notices == 1
    after = {n.invoices: n.status for n in services.notices(ledger_app)}
    assert after[("INV-2026-00004",)] == "cancelled"
    assert after[("INV-2026-00001", "INV-2026-00002")] == "pending"
    email = RecordingChannel("email")
    Deliverer(ledger_app, {"email": email}, Renderer()).deliver(lambda: datetime(2026, 6, 30, 10, tzinfo=UTC))
    assert [m.metadata["level"] for m in email.sent] == ["1"]


def test_a_broken_statement_changes_nothing(ledger_app: App, tmp_path: Path) -> None:
    path = tmp_path / "broken.xml"
    good = camt053([Booking(eur("100.00"), AS_OF, "INV-2026-00004")], account=ACCOUNT, statement_id="b")
    path.write_bytes(good.replace(b'Ccy="EUR">100.00', b'Ccy="XXY">100.00'))
    with pytest.raises(ProblemsFound, match="unknown currency 'XXY'"):
        statements.import_statement(ledger_app, path)
    assert payments.list_payments(ledger_app) == [] and statements.list_matches(ledger_app) == []


# --- money in flight -----------------------------------------------------------------------------------


def test_money_in_flight_holds_dunning_until_it_lapses_visibly(app_on: App, tmp_path: Path) -> None:
    app = app_on
    folder = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row("acme")],
        invoices=[
            ["i1", "acme", "INV-2026-00001", "EUR", "100.00", "2026-05-01", "2026-06-01"],
            ["i2", "acme", "INV-2026-00002", "EUR", "100.00", "2026-05-01", "2026-06-02"],
        ],
    )
    services.import_ledger(app, [folder])
    apply_policy(app, tmp_path)
    held = payments.hold_money_in_flight(
        app, customer_id="acme", amount=eur("100.00"), until=date(2026, 7, 3), note="SEPA direct debit pending"
    )
    assert len(held) == 1  # covers the oldest invoice only
    run = services.run_dunning(app, AS_OF)
    assert run.skipped["held"] == 1
    assert {n.invoices for n in services.notices(app)} == {("INV-2026-00002",)}

    later = services.run_dunning(app, date(2026, 7, 4))
    assert later.holds_lapsed == 1
    assert audit_count(app, "hold") == 2  # placed, lapsed
    services.run_dunning(app, date(2026, 7, 7))  # a week after the last notice: spacing allows one
    assert any("INV-2026-00001" in n.invoices for n in services.notices(app))


def test_money_in_flight_that_arrives_ends_its_holds(ledger_app: App) -> None:
    payments.hold_money_in_flight(
        ledger_app, customer_id="bolt", amount=eur("100.00"), until=date(2026, 7, 30), receipt_id="pp-x"
    )
    assert len(services.active_holds(ledger_app, AS_OF)) == 1
    with ledger_app.engine.begin() as connection:
        ended = payments.end_money_in_flight(connection, ledger_app.tenant, "pp-x", "settled", clock_on(AS_OF)())
    assert [e.payload["action"] for e in ended] == ["settled"]
    assert services.active_holds(ledger_app, AS_OF) == []


def test_unknown_receipts_are_not_found(ledger_app: App) -> None:
    with pytest.raises(NotFound):
        payments.reverse_payment(ledger_app, "rc-nothing", reason="x")
    with pytest.raises(NotFound):
        statements.confirm_match(ledger_app, "st-nothing")


# --- the bank fixtures of tests/fixtures/statements, imported whole ---------------------------------

STATEMENTS = Path(__file__).resolve().parents[1] / "fixtures" / "statements"


def test_a_banks_month_of_statements_pays_returns_and_reverses(app: App, tmp_path: Path) -> None:
    """Nordlicht's June and July: credits by number, RF reference and direct debit, a credit
    with the bank's charges deducted, a reversal, a returned direct debit with a fee."""
    invoices = [
        ("2026-0042", "1190.00"),
        ("2026-0043", "250.00"),
        ("2026-0044", "100.00"),
        ("2026-0045", "330.00"),
        ("2026-0050", "1000.00"),
        ("2026-0051", "560.20"),
        ("2026-0061", "123.45"),
        ("2026-0070", "722.05"),
        ("2026-0071", "300.00"),
    ]
    # One customer per invoice, so that what is learned of one payer never pays for another.
    folder = write_ledger(
        tmp_path / "ledger",
        customers=[customer_row(f"c{n}", f"Kunde {n}") for n in range(len(invoices))],
        invoices=[
            [f"i{n}", f"c{n}", number, "EUR", amount, "2026-05-01", "2026-05-31"]
            for n, (number, amount) in enumerate(invoices)
        ],
    )
    services.import_ledger(app, [folder])

    credits = statements.import_statement(app, STATEMENTS / "camt053-v02-credits.xml")
    assert (credits.matched, credits.debits_ignored) == (4, 2)  # a fee and a refund paid out are not money in
    batch = statements.import_statement(app, STATEMENTS / "camt053-batch.xml")
    assert batch.matched == 4 and batch.by_rule["reference"] == 1
    returns = statements.import_statement(app, STATEMENTS / "camt053-returns.xml")
    assert returns.reversed == 2  # the reversed credit, and the MD06 return net of its 3.00 fee

    left = open_amounts(app)
    paid = {"2026-0042", "2026-0043", "2026-0044", "2026-0045", "2026-0050", "2026-0051", "2026-0070"}
    assert {n for n, amount in left.items() if amount == 0} == paid  # 0044: 97.50 + 2.50 charges
    assert left["2026-0061"] == Decimal("123.45")  # the direct debit came back
    assert left["2026-0071"] == Decimal("300.00")  # credited, then reversed
    waiting = {r.reason for r in statements.list_matches(app)}
    assert any("AC04" in reason and "money of ours came back" in reason for reason in waiting)
    assert (
        any(r.source_key.endswith("|1") and r.amount.amount == Decimal("300.00") for r in statements.list_matches(app))
        is False
    )
    assert services.verify_audit(app) > 0


def test_a_large_statement_is_read_in_a_child_process_with_the_same_result(ledger_app: App, tmp_path: Path) -> None:
    """The parallel path (a child parses while the ledger is indexed) gives what the plain one does."""
    bookings = [
        Booking(eur("100.00"), AS_OF, "Rechnung INV-2026-00001", "Acme GmbH", ACME_IBAN, "E2E-1"),
        Booking(eur("13.37"), AS_OF, "lunch", "Someone"),
        Booking(eur("-2.00"), AS_OF, "fees"),
    ]
    summary = statements.import_statement(ledger_app, write_statement(tmp_path, "big.xml", bookings), parallel_from=0)
    assert (summary.lines, summary.matched, summary.unmatched, summary.debits_ignored) == (3, 1, 1, 1)
    assert open_amounts(ledger_app)["INV-2026-00001"] == 0
    broken = tmp_path / "broken.xml"
    broken.write_bytes(b"<?xml version='1.0'?><Document><unclosed></Document>")
    with pytest.raises(ProblemsFound, match=r"broken\.xml"):
        statements.import_statement(ledger_app, broken, parallel_from=0)
