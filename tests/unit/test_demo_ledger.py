"""The demo's sample ledger: deterministic, in the CSV format of DESIGN.md §4, and realistic."""

from __future__ import annotations

import csv
import re
import zoneinfo
from collections import Counter, defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from pastdue.core.money import Money, exponent, parse_amount
from pastdue.demo_ledger import (
    CUSTOMER_COLUMNS,
    INVOICE_COLUMNS,
    PAYMENT_COLUMNS,
    write_sample_ledger,
)

AS_OF = date(2026, 6, 30)
FILES = ("customers.csv", "invoices.csv", "payments.csv")
E164 = re.compile(r"\+[1-9]\d{6,14}")
EMAIL = re.compile(r"[a-z0-9.+-]+@[a-z0-9-]+(\.[a-z0-9-]+)+")
CURRENCY_OF = {"DE": "EUR", "AT": "EUR", "FR": "EUR", "NL": "EUR", "BE": "EUR", "ES": "EUR",
               "IE": "EUR", "GB": "GBP", "US": "USD", "CH": "CHF", "JP": "JPY"}  # fmt: skip

Row = dict[str, str]


def read(folder: Path, name: str) -> tuple[list[str], list[Row]]:
    with (folder / name).open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        return list(reader.fieldnames or []), list(reader)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    folder = tmp_path_factory.mktemp("ledger")
    return folder, write_sample_ledger(folder, as_of=AS_OF)


@pytest.fixture(scope="module")
def rows(ledger: tuple[Path, dict[str, int]]) -> dict[str, list[Row]]:
    return {name: read(ledger[0], name)[1] for name in FILES}


def money(row: Row) -> Money:
    return parse_amount(row["amount"], row["currency"])


def test_same_seed_writes_byte_identical_files(tmp_path: Path) -> None:
    write_sample_ledger(tmp_path / "a", as_of=AS_OF, invoices=400, seed=7)
    write_sample_ledger(tmp_path / "b", as_of=AS_OF, invoices=400, seed=7)
    for name in FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_another_seed_writes_another_ledger(tmp_path: Path) -> None:
    write_sample_ledger(tmp_path / "a", as_of=AS_OF, invoices=400, seed=7)
    write_sample_ledger(tmp_path / "b", as_of=AS_OF, invoices=400, seed=8)
    assert (tmp_path / "a" / "invoices.csv").read_bytes() != (tmp_path / "b" / "invoices.csv").read_bytes()


def test_dates_follow_as_of_not_the_clock(tmp_path: Path) -> None:
    later = AS_OF + timedelta(days=365)
    write_sample_ledger(tmp_path / "a", as_of=AS_OF, invoices=50)
    write_sample_ledger(tmp_path / "b", as_of=later, invoices=50)
    first = read(tmp_path / "a", "invoices.csv")[1]
    second = read(tmp_path / "b", "invoices.csv")[1]
    assert [date.fromisoformat(r["issued_on"]) + timedelta(days=365) for r in first] == [
        date.fromisoformat(r["issued_on"]) for r in second
    ]


def test_headers_are_the_documented_columns(ledger: tuple[Path, dict[str, int]]) -> None:
    folder, _ = ledger
    assert read(folder, "customers.csv")[0] == list(CUSTOMER_COLUMNS)
    assert read(folder, "invoices.csv")[0] == list(INVOICE_COLUMNS)
    assert read(folder, "payments.csv")[0] == list(PAYMENT_COLUMNS)
    assert CUSTOMER_COLUMNS[:7] == ("id", "name", "email", "phone", "country", "language",
                                    "timezone")  # fmt: skip
    assert PAYMENT_COLUMNS[:5] == ("id", "invoice_id", "amount", "currency", "paid_on")


def test_counts_returned_match_the_rows_written(
    ledger: tuple[Path, dict[str, int]], rows: dict[str, list[Row]]
) -> None:
    _, counts = ledger
    assert counts == {name: len(rows[name]) for name in FILES}
    assert counts["invoices.csv"] == 3000
    assert 200 <= counts["customers.csv"] <= 1000
    folder = ledger[0]
    assert (folder / "invoices.csv").read_bytes().count(b"\n") == 3001


def test_customers_are_complete_and_plausible(rows: dict[str, list[Row]]) -> None:
    customers = rows["customers.csv"]
    assert len({c["id"] for c in customers}) == len(customers)
    assert len({c["email"] for c in customers}) == len(customers)
    for c in customers:
        assert c["name"] and c["street"] and c["postal_code"] and c["city"], c
        assert E164.fullmatch(c["phone"]), c["phone"]
        assert EMAIL.fullmatch(c["email"]), c["email"]
        assert c["language"] in {"en", "de", "fr", "nl", "es"}
        zoneinfo.ZoneInfo(c["timezone"])
        assert c["kind"] in {"business", "consumer", "public"}
        assert c["exempt"] in {"true", "false"}
    assert set(CURRENCY_OF) <= {c["country"] for c in customers}
    assert {c["language"] for c in customers} == {"en", "de", "fr", "nl", "es"}
    assert {c["kind"] for c in customers} == {"business", "consumer", "public"}
    assert len({c["timezone"] for c in customers}) >= 10
    exempt = sum(c["exempt"] == "true" for c in customers)
    assert 1 <= exempt <= len(customers) // 10


def test_invoices_parse_and_match_their_customer(rows: dict[str, list[Row]]) -> None:
    customers = {c["id"]: c for c in rows["customers.csv"]}
    invoices = rows["invoices.csv"]
    assert len({i["id"] for i in invoices}) == len(invoices)
    assert len({i["number"] for i in invoices}) == len(invoices)
    terms = set()
    for inv in invoices:
        customer = customers[inv["customer_id"]]
        assert inv["currency"] == CURRENCY_OF[customer["country"]]
        assert money(inv).amount > 0
        issued, due = date.fromisoformat(inv["issued_on"]), date.fromisoformat(inv["due_on"])
        assert AS_OF - timedelta(days=200) <= issued <= AS_OF
        terms.add((due - issued).days)
    assert terms == {14, 30, 60}
    assert {i["currency"] for i in invoices} == {"EUR", "GBP", "USD", "CHF", "JPY"}


def test_amounts_have_exactly_the_currency_decimals(rows: dict[str, list[Row]]) -> None:
    for row in rows["invoices.csv"] + rows["payments.csv"]:
        decimals = len(row["amount"].partition(".")[2])
        assert decimals == exponent(row["currency"]), row
    assert all("." not in r["amount"] for r in rows["invoices.csv"] if r["currency"] == "JPY")


def test_payments_reference_existing_invoices_in_their_currency(
    rows: dict[str, list[Row]],
) -> None:
    customers = {c["id"] for c in rows["customers.csv"]}
    invoices = {i["id"]: i for i in rows["invoices.csv"]}
    payments = rows["payments.csv"]
    assert len({p["id"] for p in payments}) == len(payments)
    for pay in payments:
        assert pay["kind"] in {"payment", "credit"}
        assert money(pay).amount > 0
        paid_on = date.fromisoformat(pay["paid_on"])
        assert paid_on <= AS_OF
        assert pay["customer_id"] in customers
        if pay["invoice_id"]:
            inv = invoices[pay["invoice_id"]]
            assert pay["currency"] == inv["currency"]
            assert pay["customer_id"] == inv["customer_id"]
            assert paid_on >= date.fromisoformat(inv["issued_on"])
        else:
            assert pay["kind"] == "payment" and pay["reference"]


def test_no_invoice_is_paid_beyond_its_amount(rows: dict[str, list[Row]]) -> None:
    invoices = {i["id"]: i for i in rows["invoices.csv"]}
    by_number = {i["number"]: i["id"] for i in rows["invoices.csv"]}
    covered: dict[str, Decimal] = defaultdict(Decimal)
    for pay in rows["payments.csv"]:
        target = pay["invoice_id"] or by_number.get(pay["reference"].rsplit(" ", 1)[-1], "")
        if target:
            covered[target] += money(pay).amount
    for invoice_id, amount in covered.items():
        assert amount <= money(invoices[invoice_id]).amount, invoice_id


def status_counts(rows: dict[str, list[Row]]) -> Counter[str]:
    payments: dict[str, list[Row]] = defaultdict(list)
    for pay in rows["payments.csv"]:
        payments[pay["invoice_id"]].append(pay)
    statuses: Counter[str] = Counter()
    for inv in rows["invoices.csv"]:
        amount, due = money(inv), date.fromisoformat(inv["due_on"])
        paid = [p for p in payments[inv["id"]] if p["kind"] == "payment"]
        covered = sum((money(p).amount for p in payments[inv["id"]]), Decimal(0))
        last = max((date.fromisoformat(p["paid_on"]) for p in paid), default=None)
        if any(p["kind"] == "credit" for p in payments[inv["id"]]):
            statuses["credited"] += 1
        if covered == amount.amount:
            statuses["paid late" if last and last > due else "settled on time"] += 1
        elif covered:
            statuses["partially paid"] += 1
        else:
            statuses["unpaid, overdue" if due < AS_OF else "unpaid, not yet due"] += 1
    statuses["unapplied"] = len(payments[""])
    return statuses


def test_the_ledger_holds_a_mix_of_statuses(rows: dict[str, list[Row]]) -> None:
    statuses = status_counts(rows)
    for status in ("settled on time", "paid late", "partially paid", "unpaid, overdue",
                   "unpaid, not yet due", "credited"):  # fmt: skip
        assert statuses[status] >= 30, statuses
    assert 3 <= statuses["unapplied"] <= 50
    assert statuses["settled on time"] > statuses["unpaid, overdue"]


def test_a_small_ledger_goes_into_a_new_folder(tmp_path: Path) -> None:
    folder = tmp_path / "new" / "ledger"
    counts = write_sample_ledger(folder, as_of=AS_OF, invoices=10)
    assert counts["invoices.csv"] == 10
    assert counts["customers.csv"] >= 1
    assert sorted(p.name for p in folder.iterdir()) == sorted(FILES)
