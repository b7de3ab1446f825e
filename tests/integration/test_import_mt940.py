"""MT940 statements through the mt-940 package, normalised to pastdue's statement lines."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SHARED
from pastdue.core.money import Money
from pastdue.core.references import references_in
from pastdue.importers.camt import StatementLine
from pastdue.importers.mt940 import looks_like_mt940, parse_mt940

FIXTURES = SHARED / "fixtures" / "bank-statements"
OURS = Path(__file__).resolve().parents[1] / "fixtures" / "statements"


def fixture(name: str) -> bytes:
    path = FIXTURES / name / "statement.sta"
    if not path.is_file():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return path.read_bytes()


def test_a_german_sepa_statement_gives_every_transaction_once() -> None:
    data = fixture("mt940-betterplace-sepa")
    assert looks_like_mt940(data)
    lines, problems = parse_mt940(data, "sepa.sta")
    assert problems == [] and len(lines) == 97
    assert len({line.key for line in lines}) == 97
    assert {line.amount.currency for line in lines} == {"EUR"}


def test_a_polish_statement_with_a_start_of_message_byte_keeps_its_remittance_text() -> None:
    lines, problems = parse_mt940(fixture("mt940-mbank"), "mbank.sta")
    assert problems == [] and len(lines) == 3
    assert {line.amount.currency for line in lines} == {"PLN"}
    assert all("TRANSAKCJA" in line.remittance for line in lines)


def test_asn_banks_dialect_is_read_with_payer_iban_name_and_text() -> None:
    data = fixture("mt940-asn")
    assert looks_like_mt940(data)
    lines, problems = parse_mt940(data, "asn.sta")
    assert problems == [] and len(lines) == 8 and len({line.key for line in lines}) == 8
    first, _, card, *_ = lines
    assert first.key == "NL81ASNB9999999999|2020-01-01|0000000000|1"
    assert (first.amount, first.booked_on, first.value_on) == (eur("-65.00"), date(2020, 1, 1), date(2020, 1, 1))
    # The IBAN sits in the :61: customer reference, the name in its second line; the :86: repeats both.
    assert (first.payer_iban, first.payer_name, first.remittance) == (
        "NL47INGB9999999999",
        "hr gjlm paulissen",
        "Betaling sieraden",
    )
    # The :86: is cut every 65 columns, mid-word ("I" / "CS"): the text is whole again.
    assert "Betaling aan ICS 99999999999 ICS Referentie: 2020-01-05 19:47" in card.remittance
    assert sum((line.amount for line in lines), eur("0")) == eur("56.94")  # 444.29 -> 501.23 in January
    assert parse_mt940(data, "asn.sta")[0] == lines


def test_a_statement_the_reader_cannot_parse_is_a_clear_problem_not_a_crash() -> None:
    data = b":20:X\n:25:NL81ASNB9999999999\n:28C:1/1\n:60F:C200101EUR1,00\n:61:not a statement line\n-"
    lines, [problem] = parse_mt940(data, "bad.sta")
    assert lines == [] and (problem.source, problem.line, problem.field) == ("bad.sta", 5, ":61:")
    assert problem.message == "not a readable MT940 statement: 'not a statement line' does not fit"


def test_the_sepa_sub_fields_give_the_payers_iban_apart_from_the_name() -> None:
    lines, _ = parse_mt940(fixture("mt940-betterplace-sepa"), "sepa.sta")
    [richter] = [line for line in lines if line.end_to_end_id == "EndToEndIdTFNR2000400001"]
    assert richter.payer_iban == "DE42100100100043921105"
    assert richter.payer_name == "Richter Renate 70 Zeichen Beginn Fuellzeichen xxxxxxxx"
    assert len({line.account for line in lines}) > 1  # one file, statements of several accounts
    reversals = [line for line in lines if line.reversal]
    assert len(reversals) == 2 and all(line.amount == eur("-204.88") for line in reversals)  # RC: money back out


def test_other_text_is_not_taken_for_mt940() -> None:
    assert not looks_like_mt940(b"id,name\n1,Acme\n")
    _, [problem] = parse_mt940(b"hello", "x.sta")
    assert "MT940" in problem.message


# --- our own statement, written from the SWIFT MT940 and German DK (DFÜ Anlage 3) layouts ---


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def sepa_lines() -> list[StatementLine]:
    data = (OURS / "mt940-sepa-de.sta").read_bytes()
    assert looks_like_mt940(data) and b"\r\n" in data
    lines, problems = parse_mt940(data, "sepa-de.sta")
    assert problems == []
    return lines


def test_german_sepa_sub_fields_give_name_iban_end_to_end_id_and_purpose() -> None:
    first, rf, collection, *_ = sepa_lines()
    assert first.key == "10020030/0123456789|2026-06-30|2026063000001|1"
    assert (first.amount, first.booked_on, first.value_on) == (eur("1190.00"), date(2026, 6, 30), date(2026, 6, 29))
    assert (first.payer_name, first.payer_iban) == ("Hansen Bau KG", "DE12500105170648489890")
    assert (first.end_to_end_id, first.remittance) == ("ACME-PAY-2026-118", "Rechnung 2026-0042 vom 02.06.2026")
    # ?32 and ?33 hold one name cut at 27 characters; EREF+NOTPROVIDED says there is no id.
    assert (rf.payer_name, rf.end_to_end_id) == ("Gaertnerei Sonnenblume Inh. M. Beispiel e.K.", "")
    assert references_in(rf.remittance) == ["RF6120260043"]
    # Our direct debit collected: MREF+ and CRED+ are not part of the purpose.
    assert (collection.end_to_end_id, collection.remittance) == ("PD-2026-0101", "Rechnung 2026-0061 Lastschrift")


def test_reversal_marks_are_signed_as_the_money_moves() -> None:
    lines = sepa_lines()
    credit, storno, fee_back, transfer = lines[3:7]
    assert (credit.amount, credit.reversal) == (eur("300.00"), False)
    assert (storno.amount, storno.reversal) == (eur("-300.00"), True)  # RC: reversal of a credit
    assert (storno.end_to_end_id, storno.payer_iban) == (credit.end_to_end_id, credit.payer_iban)
    assert (fee_back.amount, fee_back.reversal, fee_back.remittance) == (
        eur("12.90"),
        True,
        "Storno Kontofuehrung 06/2026",
    )
    assert (transfer.amount, transfer.reversal, transfer.payer_name) == (eur("-35.00"), False, "Hansen Bau KG")
    assert sum((line.amount for line in lines[:7]), eur("12500.00")) == eur("14041.35")  # :60F: to :62F:


def test_each_statement_of_a_file_keeps_its_account_and_currency() -> None:
    lines = sepa_lines()
    assert {line.account for line in lines[:7]} == {"10020030/0123456789"}
    dollars = lines[7]
    assert dollars.account == "10020030/0123456790"
    assert dollars.amount == Money(Decimal("2500.00"), "USD")
    assert (dollars.payer_name, dollars.payer_iban) == ("Lakeside Instruments Inc.", "")
    assert dollars.remittance == "INVOICE 2026-0083 PO 88120"


def test_keys_are_unique_and_a_second_reading_gives_the_same_lines() -> None:
    lines = sepa_lines()
    assert len({line.key for line in lines}) == len(lines) == 8
    assert sepa_lines() == lines
