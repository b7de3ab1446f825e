"""Money in through the command line: ``import`` of bank statements, ``pay``, ``payments``
and ``matches``, judged by what a person or a script sees (output, ``--json``, exit codes).

The service-level stories are in ``tests/integration/test_money_in.py``; these tests cover
what only the CLI adds: argument parsing, the order of work in one ``import`` call, the
wording of results and refusals, and that a refused command leaves the database as it was.

The books, as of 2026-06-30 under the standard policy, all in EUR:

- acme owes INV-2026-00001 (100.00, due 2026-05-31), INV-2026-00002 (250.00, due 2026-06-09)
  and INV-2026-00003 (40.00, due 2026-07-20, not due yet);
- bolt owes INV-2026-00004 (100.00, due 2026-05-31).

The June statement pays INV-2026-00001 by its number in the remittance text and
INV-2026-00002 by its RF reference; 100.00 from Bolt without a word waits for a person
(the only open invoice of that amount left is bolt's), and 13.37 for "lunch" fits nothing.
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from cli_support import STANDARD_POLICY, Cli, write_files
from typer.testing import Result

from pastdue.core.matching import rf_reference
from pastdue.core.money import Money
from pastdue.importers.camt_write import Booking, camt053

pytest_plugins = ["cli_fixtures"]

AS_OF = "2026-06-30"
BOOKED = date(2026, 6, 30)
ACCOUNT = "DE89370400440532013000"
ACME_IBAN = "DE02120300000000202051"
BOLT_IBAN = "GB33BUKB20201555555555"
STRANGER_IBAN = "DE44500105175407324931"
RECEIPT_ID = re.compile(r"rc-[0-9a-f]{24}")

CUSTOMERS = """\
    id,name,email,phone,country,language,timezone
    acme,Acme GmbH,ap@acme.example,+4930123456,DE,de,Europe/Berlin
    bolt,Bolt Ltd,ap@bolt.example,+442012345678,GB,en,Europe/London
"""
INVOICES = """\
    id,customer_id,number,currency,amount,issued_on,due_on
    i1,acme,INV-2026-00001,EUR,100.00,2026-05-01,2026-05-31
    i2,acme,INV-2026-00002,EUR,250.00,2026-05-10,2026-06-09
    i3,acme,INV-2026-00003,EUR,40.00,2026-06-20,2026-07-20
    i4,bolt,INV-2026-00004,EUR,100.00,2026-05-01,2026-05-31
"""
LEDGER_LINES = [
    "customers: 2 new, 0 updated, 0 unchanged",
    "invoices: 4 new, 0 updated, 0 unchanged",
    "payments: 0 new, 0 updated, 0 unchanged",
]
JUNE_SUMMARY = (
    "june.xml (camt): 4 lines, 0 known before; 4 new credits: 2 matched (invoice_number 1, reference 1), "
    "1 ambiguous, 1 unmatched; 0 reversed; allocated 350.00 EUR; 0 queued notices cancelled"
)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def write_statement(folder: Path, name: str, bookings: list[Booking]) -> Path:
    """A camt.053 file as a bank would send it, so the import reads the real format."""
    path = folder / name
    path.write_bytes(camt053(bookings, account=ACCOUNT, statement_id=name))
    return path


def said(result: Result) -> str:
    """stderr with Click's error box and line wrapping taken out, so a long message is one string."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", result.stderr).split())


def open_amounts(cli: Cli) -> dict[str, str]:
    return {row["number"]: row["open_amount"] for row in cli.json("invoices", "--json")}


def database_state(cli: Cli) -> tuple[object, ...]:
    """Everything a refused command must leave alone, as the CLI shows it."""
    return (
        cli.json("payments", "list", "--json"),
        cli.json("matches", "list", "--rejected", "--json"),
        cli.json("invoices", "--json"),
        cli.json("holds", "--as-of", AS_OF, "--json"),
        cli("audit", "verify").stdout,
    )


@pytest.fixture
def books(tmp_path: Path) -> Path:
    """The ledger folder, written but not imported: the first tests import it with a statement."""
    return write_files(tmp_path / "ledger", {"customers.csv": CUSTOMERS, "invoices.csv": INVOICES})


@pytest.fixture
def ready(cli: Cli, tmp_path: Path) -> Cli:
    """Schema created and the standard policy applied; no ledger yet."""
    policy = write_files(tmp_path / "policies", {"standard.toml": STANDARD_POLICY}) / "standard.toml"
    cli("init")
    cli("policy", "apply", str(policy))
    return cli


@pytest.fixture
def booked(ready: Cli, books: Path) -> Cli:
    """The books imported; no money has come in."""
    ready("import", str(books))
    return ready


@pytest.fixture
def june(tmp_path: Path) -> Path:
    return write_statement(
        tmp_path,
        "june.xml",
        [
            Booking(eur("100.00"), BOOKED, "Rechnung inv 2026 1", "Acme GmbH", ACME_IBAN, "E2E-1"),
            Booking(eur("250.00"), BOOKED, "", "Acme GmbH", ACME_IBAN, "E2E-2", rf_reference("INV-2026-00002")),
            Booking(eur("100.00"), BOOKED, "thanks", "Bolt Ltd", BOLT_IBAN, "E2E-3"),
            Booking(eur("13.37"), BOOKED, "lunch", "Someone", STRANGER_IBAN, "E2E-4"),
        ],
    )


@pytest.fixture
def queued(ready: Cli, books: Path, june: Path) -> Cli:
    """Books and June statement imported in one call: two credits wait for a person."""
    ready("import", str(books), str(june))
    return ready


def waiting(cli: Cli) -> dict[str, dict[str, object]]:
    """The matching queue by remittance text."""
    return {row["remittance"]: row for row in cli.json("matches", "list", "--json")}


# --- pastdue import: ledger and statement together --------------------------------------------------


def test_one_import_call_takes_the_ledger_first_then_matches_the_statement(ready: Cli, books: Path, june: Path) -> None:
    # The statement is named first: the ledger is imported first all the same, or nothing would match.
    lines = ready("import", str(june), str(books)).stdout.splitlines()

    assert lines == [*LEDGER_LINES, JUNE_SUMMARY]
    assert open_amounts(ready) == {
        "INV-2026-00001": "0.00",
        "INV-2026-00002": "0.00",
        "INV-2026-00003": "40.00",
        "INV-2026-00004": "100.00",
    }


def test_import_json_prints_one_document_with_ledger_and_statement_counts(
    ready: Cli, books: Path, june: Path, tmp_path: Path
) -> None:
    # Statements are recognised by content, not by name.
    export = tmp_path / "bank-export.txt"
    export.write_bytes(june.read_bytes())

    result = ready("import", str(books), str(export), "--json")

    assert result.stderr == ""
    data = json.loads(result.stdout)
    assert data["ledger"]["inserted"] == {"customers": 2, "invoices": 4, "payments": 0}
    [statement] = data["statements"]
    assert statement == {
        "file": "bank-export.txt",
        "format": "camt",
        "lines": 4,
        "known": 0,
        "credits": 4,
        "matched": 2,
        "ambiguous": 1,
        "unmatched": 1,
        "reversed": 0,
        "debits_ignored": 0,
        "by_rule": {"invoice_number": 1, "reference": 1},
        "allocated": {"EUR": "350.00"},
        "unapplied": {},
        "cancelled_notices": 0,
    }
    ledger_alone = ready.json("import", str(books), "--json")
    assert set(ledger_alone) == {"ledger"}  # no statement, no "statements" key


def test_importing_the_same_statement_again_reports_it_all_known_and_changes_nothing(queued: Cli, june: Path) -> None:
    before = database_state(queued)

    again = queued("import", str(june)).stdout.strip()
    assert again == (
        "june.xml (camt): 4 lines, 4 known before; 0 new credits: 0 matched, 0 ambiguous, 0 unmatched; "
        "0 reversed; allocated nothing; 0 queued notices cancelled"
    )
    [as_json] = queued.json("import", str(june), "--json")["statements"]
    assert (as_json["lines"], as_json["known"], as_json["credits"], as_json["allocated"]) == (4, 4, 0, {})

    assert database_state(queued) == before


# --- the run after the statement -------------------------------------------------------------------


def test_a_run_after_the_statement_reminds_nobody_of_the_paid_invoices_and_says_why(queued: Cli) -> None:
    output = queued("run", "--as-of", AS_OF).stdout

    [skipped] = [line for line in output.splitlines() if line.startswith("skipped: ")]
    assert skipped == "skipped: not_due 1, paid 2"
    notices = queued.json("notices", "--json")
    assert [(n["customer_id"], n["invoices"]) for n in notices] == [("bolt", ["INV-2026-00004"])]
    table = queued("notices").stdout
    assert "INV-2026-00004" in table
    assert "INV-2026-00001" not in table and "INV-2026-00002" not in table


# --- pastdue matches ---------------------------------------------------------------------------------


def test_matches_list_shows_each_waiting_credit_with_its_candidates_and_reasons(queued: Cli) -> None:
    rows = queued.json("matches", "list", "--json")
    ids = {row["remittance"]: row["id"] for row in rows}
    lines = queued("matches", "list").stdout.splitlines()

    assert lines == [
        f"{ids['thanks']}  ambiguous  2026-06-30  100.00 EUR  Bolt Ltd {BOLT_IBAN}",
        "    remittance: thanks",
        "    why: no rule settles it; candidates listed",
        "    candidate: INV-2026-00004 (100.00 EUR) of bolt: "
        "same amount, but the payer is not known to pay for that customer",
        f"{ids['lunch']}  unmatched  2026-06-30  13.37 EUR  Someone {STRANGER_IBAN}",
        "    remittance: lunch",
        "    why: no reference, invoice number, known payer or amount fits",
        "2 credit(s) waiting",
    ]
    by_text = {row["remittance"]: row for row in rows}
    ambiguous, unmatched = by_text["thanks"], by_text["lunch"]
    assert (ambiguous["status"], ambiguous["amount"], ambiguous["currency"]) == ("ambiguous", "100.00", "EUR")
    assert (ambiguous["customer_id"], ambiguous["unapplied"]) == (None, "100.00")
    [candidate] = ambiguous["candidates"]
    assert (candidate["invoices"], candidate["customers"], candidate["rule"]) == (
        ["INV-2026-00004"],
        ["bolt"],
        "amount_and_payer",
    )
    assert (unmatched["status"], unmatched["candidates"], unmatched["payer_iban"]) == ("unmatched", [], STRANGER_IBAN)


def test_confirming_a_credit_with_one_candidate_applies_it_to_that_invoice(queued: Cli) -> None:
    credit = waiting(queued)["thanks"]["id"]

    lines = queued("matches", "confirm", str(credit)).stdout.splitlines()

    assert lines == ["INV-2026-00004: 100.00 EUR", f"credit {credit} applied for bolt; unapplied 0.00 EUR"]
    assert open_amounts(queued)["INV-2026-00004"] == "0.00"
    assert list(waiting(queued)) == ["lunch"]
    again = queued("matches", "confirm", str(credit), expect=1)
    assert f"{credit}: status: is applied, not waiting for a person" in again.stderr


def test_confirming_without_a_choice_among_several_candidates_is_refused_naming_them(
    booked: Cli, tmp_path: Path
) -> None:
    # Both 100.00 invoices are open, so neither credit says whose it is.
    statement = write_statement(
        tmp_path,
        "unsure.xml",
        [
            Booking(eur("100.00"), BOOKED, "thanks", "Bolt Ltd", BOLT_IBAN, "E2E-5"),
            Booking(eur("100.00"), BOOKED, "payment", "A. Person", STRANGER_IBAN, "E2E-6"),
        ],
    )
    booked("import", str(statement))
    queue = waiting(booked)
    from_bolt, from_someone = str(queue["thanks"]["id"]), str(queue["payment"]["id"])
    before = database_state(booked)

    refused = booked("matches", "confirm", from_bolt, expect=1)

    assert refused.stdout == ""
    assert f"{from_bolt}: invoice: name the invoices or the customer; candidates: INV-2026-00001, INV-2026-00004" in (
        refused.stderr
    )
    assert "nothing was changed" in refused.stderr
    assert database_state(booked) == before

    by_customer = booked("matches", "confirm", from_bolt, "--customer", "bolt").stdout.splitlines()
    assert by_customer == ["INV-2026-00004: 100.00 EUR", f"credit {from_bolt} applied for bolt; unapplied 0.00 EUR"]
    by_invoice = booked("matches", "confirm", from_someone, "--invoice", "INV-2026-00001").stdout.splitlines()
    assert by_invoice == [
        "INV-2026-00001: 100.00 EUR",
        f"credit {from_someone} applied for acme; unapplied 0.00 EUR",
    ]
    assert booked("matches", "list").stdout.strip() == "0 credit(s) waiting"


def test_rejecting_a_credit_takes_it_out_of_the_queue_with_the_reason(queued: Cli) -> None:
    credit = str(waiting(queued)["lunch"]["id"])
    missing_reason = queued("matches", "reject", credit, expect=2)
    assert "Missing option '--reason'" in said(missing_reason)

    assert queued("matches", "reject", credit, "--reason", "not ours: refunded").stdout.strip() == (
        f"credit {credit} rejected"
    )

    assert list(waiting(queued)) == ["thanks"]
    listed = queued("matches", "list", "--rejected").stdout
    assert "rejected  2026-06-30  13.37 EUR" in listed
    assert "    why: not ours: refunded" in listed
    twice = queued("matches", "reject", credit, "--reason", "again", expect=1)
    assert "is rejected, not waiting for a person" in twice.stderr


@pytest.mark.parametrize(
    "command", [["confirm", "st-nothing"], ["reject", "st-nothing", "--reason", "x"]], ids=lambda c: c[0]
)
def test_an_unknown_credit_is_an_error_naming_it(queued: Cli, command: list[str]) -> None:
    result = queued("matches", *command, expect=1)
    assert result.stderr.strip() == "error: no bank credit 'st-nothing' in tenant 'default'"
    assert result.stdout == ""


# --- pastdue pay ------------------------------------------------------------------------------------------


def test_pay_allocates_oldest_due_first_and_keeps_the_rest_as_unapplied_cash(booked: Cli) -> None:
    lines = booked("pay", "420.00", "EUR", "--customer", "acme", "--on", AS_OF).stdout.splitlines()

    assert lines[:3] == ["INV-2026-00001: 100.00 EUR", "INV-2026-00002: 250.00 EUR", "INV-2026-00003: 40.00 EUR"]
    receipt = RECEIPT_ID.search(lines[3])
    assert receipt is not None
    assert lines[3:] == [f"payment {receipt.group()} from acme: unapplied 30.00 EUR"]
    [credit] = booked.json("payments", "list", "--unapplied", "--json")
    assert (credit["id"], credit["customer_id"], credit["allocated"], credit["unapplied"]) == (
        receipt.group(),
        "acme",
        "390.00",
        "30.00",
    )
    assert (credit["source"], credit["received_on"]) == ("manual", AS_OF)


def test_paying_twice_with_the_same_id_changes_nothing_the_second_time(booked: Cli) -> None:
    args = ["pay", "100.00", "EUR", "--customer", "bolt", "--id", "pi_123", "--on", AS_OF]
    first = booked.json(*args, "--json")
    assert first["allocations"] == [{"invoice": "INV-2026-00004", "amount": "100.00", "currency": "EUR"}]
    assert (first["duplicate"], first["unapplied"]) == (False, "0.00")
    before = database_state(booked)

    again = booked(*args).stdout.splitlines()

    assert again[0] == f"payment {first['receipt']} was recorded before; nothing changed"
    assert booked.json(*args, "--json")["duplicate"] is True
    assert database_state(booked) == before
    assert open_amounts(booked)["INV-2026-00004"] == "0.00"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        # Click reads "-5" as an option; "--" lets it through to the amount check.
        (["-5", "EUR", "--customer", "acme"], 2, "No such option: -5"),
        (["--customer", "acme", "--", "-5", "EUR"], 1, "payment: amount: must be positive, not -5.00"),
        (["--customer", "acme", "--", "0", "EUR"], 1, "payment: amount: must be positive, not 0.00"),
        (["1.234", "EUR", "--customer", "acme"], 2, "'1.234' has 3 decimals; EUR allows 2"),
        (["10.5", "JPY", "--customer", "acme"], 2, "'10.5' has 1 decimals; JPY allows 0"),
        (["1e3", "EUR", "--customer", "acme"], 2, "not a decimal amount: '1e3'"),
        (["1,000.00", "EUR", "--customer", "acme"], 2, "not a decimal amount: '1,000.00'"),
        (["NaN", "EUR", "--customer", "acme"], 2, "not a decimal amount: 'NaN'"),
        (["10", "EURO", "--customer", "acme"], 2, "'EURO' is not an ISO 4217 currency code"),
        (["10.00", "EUR", "--invoice", "NOPE-1"], 1, "payment: invoice: no invoice numbered 'NOPE-1'"),
        (["10.00", "EUR", "--customer", "ghost"], 1, "payment: customer: no customer 'ghost'"),
        (["10.00", "EUR"], 1, "payment: customer: name the customer or at least one invoice"),
        (
            ["10.00", "EUR", "--customer", "acme", "--invoice", "INV-2026-00004"],
            1,
            "payment: invoice: named invoices belong to bolt, not acme",
        ),
        (["10.00", "EUR", "--customer", "acme", "--on", "30.06.2026"], 2, "'30.06.2026' is not a date (YYYY-MM-DD)"),
    ],
    ids=[
        "negative",
        "negative-after-dashes",
        "zero",
        "too-many-decimals",
        "decimals-in-yen",
        "exponent",
        "thousands-separator",
        "nan",
        "not-a-currency",
        "unknown-invoice",
        "unknown-customer",
        "nobody-named",
        "someone-elses-invoice",
        "bad-date",
    ],
)
def test_a_bad_payment_is_refused_with_a_clear_message_and_nothing_is_recorded(
    booked: Cli, args: list[str], code: int, message: str
) -> None:
    before = database_state(booked)

    result = booked("pay", *args, expect=code)

    assert message in said(result)
    assert result.stdout == ""
    if code == 1:
        assert result.stderr.splitlines()[-1] == "1 problem(s); nothing was changed."
    assert database_state(booked) == before


# --- pastdue payments --------------------------------------------------------------------------------------


def test_unapplied_cash_is_listed_and_applied_to_a_later_invoice(booked: Cli, tmp_path: Path) -> None:
    receipt = booked.json("pay", "150.00", "EUR", "--customer", "bolt", "--on", AS_OF, "--json")["receipt"]
    listed = booked("payments", "list", "--unapplied").stdout.splitlines()
    assert listed == [
        f"{receipt}  2026-06-30  bolt  150.00 EUR  allocated 100.00 EUR  unapplied 50.00 EUR  manual/customer",
        "1 payment(s)",
    ]
    more = write_files(
        tmp_path / "more",
        {"invoices.csv": "id,customer_id,number,currency,amount,issued_on,due_on\n"
                         "i5,bolt,INV-2026-00005,EUR,80.00,2026-06-25,2026-07-25\n"},
    )  # fmt: skip
    booked("import", str(more))
    refused = booked("payments", "apply", receipt, "--invoice", "INV-2026-00001", expect=1)
    assert "named invoices belong to acme, not bolt" in refused.stderr

    applied = booked("payments", "apply", receipt).stdout.splitlines()

    assert "INV-2026-00005: 50.00 EUR" in applied
    assert applied[-1] == f"payment {receipt}: unapplied 0.00 EUR"
    assert open_amounts(booked)["INV-2026-00005"] == "30.00"
    assert booked.json("payments", "list", "--unapplied", "--json") == []
    assert booked("payments", "list", "--unapplied").stdout.strip() == "0 payment(s)"
    unknown = booked("payments", "apply", "rc-nothing", expect=1)
    assert unknown.stderr.strip() == "error: no payment 'rc-nothing' in tenant 'default'"


def test_a_reversed_payment_opens_its_invoice_again_and_dunning_resumes(booked: Cli) -> None:
    paid = booked.json("pay", "100.00", "EUR", "--invoice", "INV-2026-00004", "--on", AS_OF, "--json")
    receipt = paid["receipt"]
    assert paid["customer_id"] == "bolt"
    assert open_amounts(booked)["INV-2026-00004"] == "0.00"
    assert "Missing option '--reason'" in said(booked("payments", "reverse", receipt, expect=2))

    lines = booked("payments", "reverse", receipt, "--reason", "MD06").stdout.splitlines()

    assert lines == ["INV-2026-00004: 100.00 EUR open again", f"payment {receipt} reversed"]
    assert open_amounts(booked)["INV-2026-00004"] == "100.00"
    assert booked.json("payments", "list", "--json") == []  # only payments that still stand
    twice = booked("payments", "reverse", receipt, "--reason", "MD06", expect=1)
    assert f"{receipt}: status: is reversed, not applied" in twice.stderr
    booked("run", "--as-of", AS_OF, "--json")
    assert "bolt" in {n["customer_id"] for n in booked.json("notices", "--json")}


def test_money_in_flight_holds_the_invoices_it_covers_until_the_last_day(booked: Cli) -> None:
    placed = booked(
        "payments", "in-flight", "acme", "100.00", "EUR", "--until", "2026-07-05", "--note", "SEPA debit pending"
    ).stdout.strip()

    match = re.fullmatch(r"1 invoice\(s\) on hold until 2026-07-05: (\S+)", placed)
    assert match is not None, placed
    [hold] = booked.json("holds", "--as-of", AS_OF, "--json")
    assert hold == {
        "id": match.group(1),
        "customer_id": "acme",
        "invoice_id": "i1",  # the oldest due: 100.00 covers it and nothing more
        "reason": "payment_in_flight",
        "note": "SEPA debit pending",
        "until": "2026-07-05",
    }
    assert f"{hold['id']}  invoice i1  payment_in_flight until 2026-07-05  SEPA debit pending" in (
        booked("holds", "--as-of", AS_OF).stdout
    )
    assert booked.json("run", "--as-of", AS_OF, "--json")["skipped"]["held"] == 1
    assert booked("holds", "--as-of", "2026-07-06").stdout.strip() == "0 hold(s)"


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["ghost", "100.00", "EUR", "--until", "2026-07-05"], 1, "payment: customer: no customer 'ghost'"),
        (["acme", "100.00", "EUR"], 2, "Missing option '--until'"),
        (["acme", "100.00", "EUR", "--until", "soon"], 2, "'soon' is not a date (YYYY-MM-DD)"),
        (["acme", "1.001", "EUR", "--until", "2026-07-05"], 2, "'1.001' has 3 decimals; EUR allows 2"),
    ],
    ids=["unknown-customer", "no-last-day", "bad-date", "bad-amount"],
)
def test_bad_money_in_flight_places_no_hold(booked: Cli, args: list[str], code: int, message: str) -> None:
    result = booked("payments", "in-flight", *args, expect=code)
    assert message in said(result)
    assert booked.json("holds", "--as-of", AS_OF, "--json") == []


# --- hostile statements ------------------------------------------------------------------------------------


def _hostile(kind: str) -> bytes:
    """A statement that would pay INV-2026-00004 if its entity were expanded."""
    good = camt053([Booking(eur("100.00"), BOOKED, "INV-2026-00004")], account=ACCOUNT, statement_id="h")
    if kind == "internal-entity":
        doctype = '<!DOCTYPE Document [<!ENTITY inv "INV-2026-00004">]>'
        text = "&inv;"
    elif kind == "external-entity":
        doctype = '<!DOCTYPE Document [<!ENTITY inv SYSTEM "file:///etc/passwd">]>'
        text = "&inv;"
    else:  # billion laughs: the DTD alone is longer than the head content detection reads
        laughs = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 30))
        doctype = f'<!DOCTYPE Document [<!ENTITY l0 "lol">{laughs}]>'
        text = "&l29;"
    hostile = good.replace(b"<Document", doctype.encode() + b"\n<Document", 1)
    return hostile.replace(b"<Ustrd>INV-2026-00004", b"<Ustrd>" + text.encode(), 1)


@pytest.mark.parametrize("kind", ["internal-entity", "external-entity", "billion-laughs"])
def test_a_hostile_statement_is_refused_naming_the_file_and_nothing_is_imported(
    booked: Cli, tmp_path: Path, kind: str
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_bytes(_hostile(kind))
    before = database_state(booked)

    result = booked("import", str(path), expect=1)

    assert result.stdout == ""
    assert result.stderr.startswith("hostile.xml")
    if kind != "billion-laughs":  # that one is not even recognised as a statement
        assert "hostile.xml: refused: DTDForbidden (DTDs and entities are not allowed)" in result.stderr
    assert result.stderr.splitlines()[-1] == "1 problem(s); nothing was changed."
    assert database_state(booked) == before
    assert open_amounts(booked)["INV-2026-00004"] == "100.00"


def test_a_statement_refused_after_the_ledger_says_the_ledger_was_imported(
    ready: Cli, books: Path, tmp_path: Path
) -> None:
    path = tmp_path / "hostile.xml"
    path.write_bytes(_hostile("internal-entity"))

    result = ready("import", str(books), str(path), expect=1)

    assert result.stdout.splitlines() == LEDGER_LINES
    assert result.stderr.splitlines() == [
        "hostile.xml: refused: DTDForbidden (DTDs and entities are not allowed)",
        "1 problem(s); hostile.xml was not imported, but the ledger already was.",
    ]
    assert len(ready.json("invoices", "--json")) == 4
    assert ready.json("payments", "list", "--json") == []
    assert ready.json("matches", "list", "--json") == []
