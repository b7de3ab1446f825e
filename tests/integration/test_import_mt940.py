"""MT940 statements through the mt-940 package, normalised to pastdue's statement lines."""

from __future__ import annotations

import pytest

from conftest import SHARED
from pastdue.importers.mt940 import looks_like_mt940, parse_mt940

FIXTURES = SHARED / "fixtures" / "bank-statements"


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


def test_a_dialect_the_reader_does_not_know_is_a_clear_problem_not_a_crash() -> None:
    lines, [problem] = parse_mt940(fixture("mt940-asn"), "asn.sta")
    assert lines == [] and problem.source == "asn.sta"
    assert problem.message.startswith("not a readable MT940 statement")


def test_other_text_is_not_taken_for_mt940() -> None:
    assert not looks_like_mt940(b"id,name\n1,Acme\n")
    _, [problem] = parse_mt940(b"hello", "x.sta")
    assert "MT940" in problem.message
