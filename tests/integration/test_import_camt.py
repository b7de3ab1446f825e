"""camt.053 statements: real banks' files, batch bookings, and hostile or broken documents."""

from __future__ import annotations

from decimal import Decimal

import pytest

from conftest import SHARED
from pastdue.importers import camt
from pastdue.importers.camt import looks_like_camt, parse_camt

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
