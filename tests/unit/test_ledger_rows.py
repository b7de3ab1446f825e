"""The fast path for well-formed ledger rows accepts exactly what the full checker accepts."""

from __future__ import annotations

from dataclasses import dataclass, field

from hypothesis import given
from hypothesis import strategies as st

from pastdue.importers.ledger_format import REQUIRED, LedgerKind
from pastdue.importers.ledger_rows import _Dates, _fast_invoices, _fast_payments, row_checker


@dataclass
class Report:
    kind: LedgerKind
    problems: list[tuple[int | None, str | None, str]] = field(default_factory=list)

    def problem(self, line: int | None, column: str | None, message: str) -> None:
        self.problems.append((line, column, message))


amounts = st.one_of(
    st.sampled_from(["10", "10.5", "10.50", "10.505", ".5", "5.", "-1", "1e3", "0", "0.00", " 7 ", "1,000", "٣"]),
    st.from_regex(r"[0-9]{1,6}(\.[0-9]{0,4})?", fullmatch=True),
)
dates = st.sampled_from(["2026-06-30", "2026-02-30", "20260630", "2026-6-30", "", "2026-12-31"])
currencies = st.sampled_from(["EUR", "JPY", "KWD", "XXX", "eur", ""])
ids = st.sampled_from(["I1", "", "  I2 ", "x" * 65])


def checkers(kind: LedgerKind) -> tuple[Report, object, object]:
    header = list(REQUIRED[kind])
    report = Report(kind)
    full = row_checker(report, header, frozenset({"UTC"}))
    at = {name: i for i, name in enumerate(header)}
    fast = (_fast_invoices if kind is LedgerKind.INVOICES else _fast_payments)(at, _Dates(), full)
    return report, full, fast


@given(ids, ids, currencies, amounts, dates, dates)
def test_invoice_rows_get_the_same_verdict_on_both_paths(iid, cid, currency, amount, issued, due) -> None:
    record = [iid, cid, "INV-1", currency, amount, issued, due]
    _report, full, fast = checkers(LedgerKind.INVOICES)
    assert fast(record, 2) == full(record, 2)  # type: ignore[operator]


@given(ids, ids, currencies, amounts, dates)
def test_payment_rows_get_the_same_verdict_on_both_paths(pid, iid, currency, amount, paid) -> None:
    record = [pid, iid, amount, currency, paid]
    _report, full, fast = checkers(LedgerKind.PAYMENTS)
    assert fast(record, 2) == full(record, 2)  # type: ignore[operator]


def test_a_refused_row_is_reported_with_its_line_and_field() -> None:
    report, full, _fast = checkers(LedgerKind.INVOICES)
    assert full(["I1", "C1", "INV-1", "JPY", "10.5", "2026-06-01", "2026-06-30"], 7) is None  # type: ignore[operator]
    assert report.problems == [(7, "amount", "'10.5' has 1 decimals; JPY allows 0")]
