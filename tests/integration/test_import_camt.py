"""camt.053 and camt.054: real banks' files, our own per-case statements, and hostile, broken or large documents."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import SHARED
from pastdue.core.money import Money
from pastdue.core.references import references_in, rf_reference
from pastdue.importers import camt
from pastdue.importers.camt import StatementLine, looks_like_camt, parse_camt

FIXTURES = SHARED / "fixtures" / "bank-statements"
NS = "urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"


def fixture(name: str) -> bytes:
    path = FIXTURES / name / "statement.xml"
    if not path.is_file():
        pytest.skip(f"shared fixtures not found at {FIXTURES}")
    return path.read_bytes()


def document(entries: str, currency: str = "EUR") -> bytes:
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="{NS}"><BkToCstmrStmt><Stmt><Id>S1</Id>
<Acct><Id><IBAN>DE89370400440532013000</IBAN></Id><Ccy>{currency}</Ccy></Acct>
{entries}
</Stmt></BkToCstmrStmt></Document>""".encode()


ENTRY = """<Ntry><NtryRef>E1</NtryRef><Amt Ccy="EUR">{amount}</Amt><CdtDbtInd>CRDT</CdtDbtInd>
<BookgDt><Dt>2026-06-30</Dt></BookgDt><ValDt><Dt>2026-06-30</Dt></ValDt>
<NtryDtls><TxDtls><Refs><EndToEndId>E2E-1</EndToEndId></Refs>
<RltdPties><Dbtr><Nm>Acme GmbH</Nm></Dbtr><DbtrAcct><Id><IBAN>DE02120300000000202051</IBAN></Id></DbtrAcct></RltdPties>
<RmtInf><Ustrd>Rechnung INV-2026-00159</Ustrd></RmtInf></TxDtls></NtryDtls></Ntry>"""


def test_every_real_statement_parses_into_signed_lines_with_unique_keys() -> None:
    for name in ("camt053-oca-abnamro", "camt053-oca-creditsuisse-multicurrency", "camt053-genkgo-multi-statement"):
        lines, problems = parse_camt(fixture(name), name)
        assert problems == [] and lines
        assert len({line.key for line in lines}) == len(lines)


def test_a_batch_booking_gives_one_line_per_transaction() -> None:
    lines, problems = parse_camt(fixture("camt053-oca-postfinance-batch"), "postfinance")
    assert problems == []
    assert [str(line.amount.amount) for line in lines] == ["2187.00", "1296.00"]
    assert [line.remittance for line in lines] == ["302388292000011111111111111", "302388292000022222222222222"]
    assert {line.amount.currency for line in lines} == {"CHF"}


def test_a_credit_carries_payer_iban_remittance_and_end_to_end_id() -> None:
    data = document(ENTRY.format(amount="725.44"))
    assert looks_like_camt(data)
    [line], problems = parse_camt(data, "s.xml")
    assert problems == []
    assert line.amount.amount == Decimal("725.44") and line.amount.currency == "EUR"
    assert (line.payer_name, line.payer_iban) == ("Acme GmbH", "DE02120300000000202051")
    assert (line.remittance, line.end_to_end_id) == ("Rechnung INV-2026-00159", "E2E-1")
    assert line.key == "DE89370400440532013000|2026-06-30|E1|1"


def test_a_reversal_is_marked() -> None:
    lines, _ = parse_camt(fixture("camt053-oca-abnamro"), "abnamro")
    assert any(line.reversal for line in lines)


def test_entity_expansion_and_external_entities_are_refused() -> None:
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><d>&b;</d>'
    external = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file:///etc/passwd">]><d>&x;</d>'
    for data in (bomb, external):
        lines, [problem] = parse_camt(data, "evil.xml")
        assert lines == [] and problem.source == "evil.xml" and "refused" in problem.message


def test_broken_xml_names_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    _, [problem] = parse_camt(b"<Document>\n<Stmt>\n</Document>", "broken.xml")
    assert problem.line == 3 and "not well-formed" in problem.message
    monkeypatch.setattr(camt, "MAX_BYTES", 10)
    _, [problem] = parse_camt(document(""), "big.xml")
    assert "too large" in problem.message


def test_bad_amounts_and_currencies_are_reported_with_their_line() -> None:
    data = document(ENTRY.format(amount="12,50") + ENTRY.replace('Ccy="EUR"', 'Ccy="XXY"').format(amount="1.00"))
    lines, problems = parse_camt(data, "s.xml")
    assert lines == []
    assert [(p.field, p.message) for p in problems] == [
        ("Amt", "not an amount: '12,50'"),
        ("Amt", "unknown currency 'XXY'"),
    ]
    assert all(p.line is not None for p in problems)


def test_a_document_without_statements_says_so() -> None:
    _, [problem] = parse_camt(f'<Document xmlns="{NS}"/>'.encode(), "empty.xml")
    assert "no camt.053 statement" in problem.message


# --- our own statements, written from the ISO 20022 message definitions (tests/fixtures/statements)

OURS = Path(__file__).resolve().parents[1] / "fixtures" / "statements"
ACCOUNT = "DE25100200300123456789"


def ours(name: str) -> list[StatementLine]:
    data = (OURS / name).read_bytes()
    assert looks_like_camt(data)
    lines, problems = parse_camt(data, name)
    assert problems == []
    return lines


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.mark.parametrize("name", sorted(p.name for p in OURS.glob("camt*.xml")))
def test_keys_are_unique_and_a_second_reading_gives_the_same_lines(name: str) -> None:
    lines = ours(name)
    assert lines and len({line.key for line in lines}) == len(lines)
    assert ours(name) == lines


def test_a_credit_transfer_gives_payer_iban_text_end_to_end_id_and_both_dates() -> None:
    line = ours("camt053-v02-credits.xml")[0]
    assert line.key == f"{ACCOUNT}|2026-06-30|N-0001|1" and line.account == ACCOUNT
    assert line.amount == eur("1190.00") and not line.reversal
    assert (line.booked_on, line.value_on) == (date(2026, 6, 30), date(2026, 6, 29))
    assert (line.payer_name, line.payer_iban) == ("Hansen Bau KG", "DE12500105170648489890")
    assert (line.remittance, line.end_to_end_id) == ("Rechnung 2026-0042 vom 02.06.2026", "ACME-PAY-2026-118")
    assert (line.return_reason, line.charges) == ("", None)


def test_structured_references_and_invoice_numbers_are_part_of_the_remittance() -> None:
    lines = ours("camt053-v02-credits.xml")
    rf, document = lines[1], lines[3]
    assert rf.remittance == "RF6120260043" and references_in(rf.remittance) == [rf_reference("2026-0043")]
    assert rf.end_to_end_id == ""  # NOTPROVIDED is the standard's way of saying there is none
    assert rf.payer_name == "Gärtnerei Sonnenblume e.K."  # the debtor, not the ultimate debtor
    assert document.remittance == "2026-0045 Merci"  # RfrdDocInf/Nb, then the free text


def test_charges_deducted_from_a_credit_are_reported_beside_the_booked_amount() -> None:
    line = ours("camt053-v02-credits.xml")[2]
    assert (line.amount, line.charges) == (eur("97.50"), eur("2.50"))
    assert line.charges is not None and line.amount + line.charges == eur("100.00")


def test_a_bank_fee_without_details_and_a_refund_paid_out_are_debits() -> None:
    *_, fee, refund = ours("camt053-v02-credits.xml")
    assert fee.key == f"{ACCOUNT}|2026-06-30|FEE-2026-06|1"
    assert (fee.amount, fee.remittance, fee.payer_name) == (eur("-12.90"), "Kontofuehrung 06/2026", "")
    assert refund.amount == eur("-35.00")
    assert (refund.payer_name, refund.payer_iban) == ("Hansen Bau KG", "DE12500105170648489890")  # the payee


def test_versions_02_and_08_read_the_same_payments_the_same_way() -> None:
    v02, v08 = ours("camt053-v02-credits.xml"), ours("camt053-v08-credits.xml")
    assert v08[:4] == v02[:4]  # Sts/Cd, Pty/Nm, BookgDt/DtTm, TxDtls/Amt and Chrgs/Rcrd make no difference
    assert v08[2].charges == eur("2.50")  # the record with ChrgInclInd false was booked apart


def test_each_transaction_of_a_batch_booking_is_a_line_of_its_own() -> None:
    lines = ours("camt053-batch.xml")
    transfers, collections = lines[:3], lines[3:]
    assert [line.key for line in transfers] == [f"{ACCOUNT}|2026-07-01|B-0001|{n}" for n in (1, 2, 3)]
    assert [line.amount for line in transfers] == [eur("1000.00"), eur("560.20"), eur("300.00")]
    assert sum((line.amount for line in transfers), eur("0")) == eur("1860.20")
    assert [line.payer_name for line in transfers] == ["Hansen Bau KG", "Polder Logistiek B.V.", "Atelier Lumière SARL"]
    assert [line.payer_iban for line in transfers] == [
        "DE12500105170648489890",
        "NL60XBNK0417164300",
        "FR1420041010050500013M02606",
    ]
    assert [line.remittance for line in transfers] == [
        "Rechnung 2026-0050",
        "RF3920260051",
        "RF8720260060 acompte commande 118",
    ]
    assert [line.end_to_end_id for line in transfers] == ["HB-2026-0701-1", "", "AL-77902"]
    # Our direct debits collected: the customer is the debtor; we, the creditor, are never the payer.
    assert [(line.payer_name, line.amount, line.end_to_end_id) for line in collections] == [
        ("Gärtnerei Sonnenblume e.K.", eur("123.45"), "PD-2026-0101"),
        ("Hansen Bau KG", eur("722.05"), "PD-2026-0102"),
    ]


def test_a_batch_of_the_newer_versions_reads_each_transactions_own_amount() -> None:
    *_, first, second = ours("camt053-v08-credits.xml")
    assert [(line.key[-8:], line.amount) for line in (first, second)] == [
        ("N-0005|1", eur("400.00")),
        ("N-0005|2", eur("300.00")),
    ]
    assert references_in(second.remittance) == ["RF3920260051"]


def test_a_multi_currency_message_keeps_each_statements_account_and_currency() -> None:
    lines = ours("camt053-multi-currency.xml")
    assert [(line.account, line.amount) for line in lines] == [
        ("DE95100200300123456790", eur("1000.00")),
        ("CH630099900000CHF7701", Money(Decimal("1840.00"), "CHF")),
        ("CH630099900000CHF7701", Money(Decimal("942.30"), "CHF")),  # sent as EUR 1000.00, booked in CHF
        ("0123456790-USD", Money(Decimal("2500.00"), "USD")),  # an account without an IBAN
    ]
    assert len({line.key for line in lines}) == 4  # NtryRef 0001 in every statement
    assert lines[1].value_on == date(2026, 7, 1) and lines[1].booked_on == date(2026, 6, 30)
    assert (lines[3].payer_name, lines[3].payer_iban) == ("Lakeside Instruments Inc.", "")


def test_returns_and_reversals_undo_earlier_bookings_with_their_reason() -> None:
    credit, refund_back, reversal, returned = ours("camt053-returns.xml")
    assert not credit.reversal
    # The bank reverses an erroneous credit: a debit, same end-to-end id and payer as the credit.
    assert (reversal.amount, reversal.reversal, reversal.return_reason) == (eur("-300.00"), True, "")
    assert (reversal.end_to_end_id, reversal.payer_iban) == (credit.end_to_end_id, credit.payer_iban)
    assert (reversal.booked_on, reversal.value_on) == (date(2026, 7, 3), date(2026, 7, 2))
    # The customer has our direct debit refunded (MD06): the collection's amount plus the bank's fee.
    collected = ours("camt053-batch.xml")[3]
    assert (returned.reversal, returned.return_reason, returned.end_to_end_id) == (True, "MD06", "PD-2026-0101")
    assert returned.end_to_end_id == collected.end_to_end_id and returned.payer_iban == collected.payer_iban
    assert returned.amount == eur("-126.45") and returned.charges == eur("3.00")
    assert returned.charges is not None and returned.amount + returned.charges == -collected.amount
    # Our refund comes back (AC04): money in, and the other party is the payee of the refund.
    assert (refund_back.amount, refund_back.reversal, refund_back.return_reason) == (eur("35.00"), True, "AC04")
    assert (refund_back.payer_name, refund_back.end_to_end_id) == ("Hansen Bau KG", "REFUND-2026-0042")


def test_a_real_bank_return_names_the_customer_even_on_the_creditor_side() -> None:
    lines, _ = parse_camt(fixture("camt053-oca-abnamro"), "abnamro")
    returned = [line for line in lines if line.return_reason]
    assert {line.return_reason for line in returned} == {"AC06"} and all(line.reversal for line in returned)
    assert {(line.payer_name, line.payer_iban) for line in returned} == {("Test Customer", "NL46ABNA0499998748")}


def test_a_notification_gives_booked_entries_only() -> None:
    lines = ours("camt054-notification.xml")
    assert [line.key for line in lines] == [f"{ACCOUNT}|2026-07-01|NT-0001|1", f"{ACCOUNT}|2026-07-01|NT-0003|1"]
    credit, debit = lines
    assert credit.booked_on == date(2026, 7, 1)  # from BookgDt/DtTm
    assert references_in(credit.remittance) == [rf_reference("2026-0070")]
    assert (debit.amount, debit.payer_name) == (eur("-89.00"), "Fernmeldedienst Beispiel AG")


def test_a_swiss_isr_reference_in_a_real_batch_is_found_when_its_check_digit_holds() -> None:
    lines, _ = parse_camt(fixture("camt053-oca-postfinance-batch"), "postfinance")
    assert [references_in(line.remittance) for line in lines] == [[], ["QR:302388292000022222222222222"]]


# --- safety and size ------------------------------------------------------------------------


def test_the_size_limit_leaves_room_for_a_busy_days_statement() -> None:
    assert camt.MAX_BYTES == 200 * 1024 * 1024


@pytest.mark.parametrize(
    "data",
    [
        b'<?xml version="1.0"?><!DOCTYPE Document><Document/>',
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE d [<!ENTITY a "b">]><d>&a;</d>'.encode("utf-16"),
        b"<?xml version='1.0'?><!--" + b"x" * 200_000 + b'--><!DOCTYPE d [<!ENTITY a "b">]><d>&a;</d>',
        b'<?xml version="1.0"?><!DOCTYPE d SYSTEM "http://127.0.0.1:9/evil.dtd"><d/>',
    ],
    ids=["bare doctype", "utf-16", "after a long comment", "external dtd"],
)
def test_any_dtd_is_refused_whatever_its_shape(data: bytes) -> None:
    lines, [problem] = parse_camt(data, "evil.xml")
    assert lines == [] and problem.message.startswith("refused")


def test_lxml_refuses_a_dtd_even_if_the_first_check_missed_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(camt, "_prolog_problem", lambda data, source: None)
    bomb = b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><d>&b;</d>'
    external = document("").replace(
        b"<Document", b'<!DOCTYPE Document [<!ENTITY x SYSTEM "file:///etc/passwd">]><Document'
    )
    for data in (bomb, external):
        lines, [problem] = parse_camt(data, "evil.xml")
        assert lines == [] and problem.message.startswith("refused")


def test_a_batch_transaction_without_its_own_amount_is_a_problem_not_a_copy_of_the_total() -> None:
    without = "<TxDtls><RmtInf><Ustrd>one</Ustrd></RmtInf></TxDtls>"
    with_amount = '<TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">20.00</Amt></TxAmt></AmtDtls>'
    entry = ENTRY.format(amount="20.00").replace("<NtryDtls><TxDtls>", f"<NtryDtls>{without}{with_amount}")
    lines, [problem] = parse_camt(document(entry), "s.xml")
    assert problem.field == "TxAmt" and "without its own amount" in problem.message
    assert [line.amount for line in lines] == [eur("20.00")]


def test_many_entries_are_read_one_by_one(tmp_path: Path) -> None:
    entries = "".join(
        ENTRY.replace("<NtryRef>E1</NtryRef>", f"<NtryRef>E{n}</NtryRef>").format(amount=f"{n}.00")
        for n in range(1, 2001)
    )
    lines, problems = parse_camt(document(entries), "many.xml")
    assert problems == [] and len(lines) == 2000
    assert lines[-1].amount == eur("2000.00") and lines[-1].key.endswith("|E2000|1")
