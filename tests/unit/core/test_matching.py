"""Matching statement credits to open invoices: by reference, number, payer and amount."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.matching import (
    Credit,
    Open,
    OpenItem,
    Rule,
    is_valid_rf,
    match_credits,
    number_key,
    references_in,
    rf_reference,
)
from pastdue.core.money import Money


def eur(text: str) -> Money:
    return Money(Decimal(text), "EUR")


def item(iid: str, customer: str, amount: str, due: int = 1, number: str | None = None) -> OpenItem:
    return OpenItem(iid, customer, number or f"INV-2026-{int(iid):05d}", eur(amount), date(2026, 5, due))


def credit(cid: str, amount: str, remittance: str = "", iban: str = "") -> Credit:
    return Credit(cid, eur(amount), date(2026, 6, 30), remittance, "Payer", iban)


LEDGER = [
    item("1", "acme", "100.00", 1),
    item("2", "acme", "50.00", 5),
    item("3", "bolt", "100.00", 3),
    item("159", "cobb", "725.44", 2),
]


def test_iso_11649_references_are_made_and_checked() -> None:
    assert rf_reference("539007547034") == "RF18539007547034"  # the standard's own example
    assert is_valid_rf("RF18 5390 0754 7034")
    assert not is_valid_rf("RF19539007547034")
    assert references_in("Payment RF18 5390 0754 7034 thanks") == ["RF18539007547034"]


def test_a_structured_reference_matches_its_invoice() -> None:
    reference = rf_reference("INV-2026-00003")
    result = match_credits([credit("c1", "100.00", f"ref {reference}")], LEDGER)
    [match] = result.matched
    assert (match.rule, match.confidence, match.customer_id) == (Rule.REFERENCE, 100, "bolt")
    assert [(a.invoice_id, a.amount) for a in match.allocations] == [("3", eur("100.00"))]


def test_national_structured_references_match_their_invoice() -> None:
    from pastdue.core.references import belgian_reference, kid_reference, qr_reference

    texts = {
        "1": f"+++{belgian_reference('INV-2026-00001')[3:-3]}+++",  # type: ignore[index]
        "2": f"KID {kid_reference('INV-2026-00002')}",
        "3": f"QR {qr_reference('INV-2026-00003')}",
    }
    amounts = {"1": "100.00", "2": "50.00", "3": "100.00"}
    result = match_credits([credit(f"c{i}", amounts[i], text) for i, text in texts.items()], LEDGER)
    assert [(m.rule, [a.invoice_id for a in m.allocations]) for m in result.matched] == [
        (Rule.REFERENCE, ["1"]),
        (Rule.REFERENCE, ["2"]),
        (Rule.REFERENCE, ["3"]),
    ]


def test_an_invoice_number_is_found_despite_spaces_dashes_case_and_leading_zeros() -> None:
    assert number_key("inv 2026 / 159") == number_key("INV-2026-00159")
    [match] = match_credits([credit("c1", "725.44", "Rechnung inv 2026 159, danke")], LEDGER).matched
    assert (match.rule, match.customer_id, match.confidence) == (Rule.INVOICE_NUMBER, "cobb", 95)


def test_a_shorter_number_inside_a_longer_one_is_not_named() -> None:
    items = [item("1", "a", "10.00", number="INV-1"), item("2", "a", "20.00", number="INV-12")]
    [match] = match_credits([credit("c1", "20.00", "INV-12")], items).matched
    assert [a.invoice_id for a in match.allocations] == ["2"]


def test_several_named_invoices_are_paid_oldest_first_and_the_rest_stays_unapplied() -> None:
    [match] = match_credits([credit("c1", "170.00", "INV-2026-00001 INV-2026-00002")], LEDGER).matched
    assert [(a.invoice_id, a.amount) for a in match.allocations] == [("1", eur("100.00")), ("2", eur("50.00"))]
    assert match.unapplied == eur("20.00")
    assert match.confidence == 80  # the numbers do not add up to the amount


def test_numbers_of_two_customers_are_ambiguous() -> None:
    [open_] = match_credits([credit("c1", "200.00", "INV-2026-00001 and INV-2026-00003")], LEDGER).unresolved
    assert open_.status is Open.AMBIGUOUS
    assert open_.candidates[0].invoice_ids == ("1", "3")


def test_a_known_payer_and_an_exact_amount_match() -> None:
    [match] = match_credits(
        [credit("c1", "50.00", "", "DE89 3704 0044 0532 0130 00")], LEDGER, {"DE89370400440532013000": "acme"}
    ).matched
    assert (match.rule, [a.invoice_id for a in match.allocations]) == (Rule.AMOUNT_AND_PAYER, ["2"])


def test_a_known_payer_paying_the_sum_of_open_invoices_matches_them_all() -> None:
    [match] = match_credits([credit("c1", "150.00", "", "DE1")], LEDGER, {"DE1": "acme"}).matched
    assert match.rule is Rule.SUM_OF_INVOICES
    assert [a.invoice_id for a in match.allocations] == ["1", "2"]


def test_an_amount_alone_is_never_a_match() -> None:
    [open_] = match_credits([credit("c1", "100.00", "thanks")], LEDGER).unresolved
    assert open_.status is Open.AMBIGUOUS
    assert open_.candidates[0].invoice_ids == ("1", "3")


def test_nothing_that_fits_is_unmatched_with_a_reason() -> None:
    [open_] = match_credits([credit("c1", "1.23", "gift")], LEDGER).unresolved
    assert open_.status is Open.UNMATCHED and open_.reason


def test_two_credits_for_one_invoice_do_not_pay_it_twice() -> None:
    credits = [credit("c1", "100.00", "INV-2026-00003"), credit("c2", "100.00", "INV-2026-00003")]
    result = match_credits(credits, LEDGER)
    assert [m.credit_id for m in result.matched] == ["c1"]
    assert [u.credit_id for u in result.unresolved] == ["c2"]


amounts = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)
items_strategy = st.lists(
    st.tuples(st.sampled_from(["a", "b", "c"]), amounts, st.sampled_from(["EUR", "USD"]), st.integers(1, 28)),
    max_size=12,
)
credits_strategy = st.lists(
    st.tuples(amounts, st.sampled_from(["EUR", "USD"]), st.lists(st.integers(0, 11), max_size=3), st.booleans()),
    max_size=8,
)


@given(items_strategy, credits_strategy)
def test_matching_never_overpays_never_mixes_currencies_or_customers_and_is_deterministic(
    raw_items: list[tuple[str, Decimal, str, int]], raw_credits: list[tuple[Decimal, str, list[int], bool]]
) -> None:
    items = [
        OpenItem(str(n), customer, f"INV-{n:04d}", Money(amount, currency), date(2026, 5, day))
        for n, (customer, amount, currency, day) in enumerate(raw_items)
    ]
    credits = [
        Credit(
            f"k{n}",
            Money(amount, currency),
            date(2026, 6, 30),
            " ".join(f"INV-{i:04d}" for i in named),
            "",
            "IBAN-A" if known else "",
        )
        for n, (amount, currency, named, known) in enumerate(raw_credits)
    ]
    by_id = {i.invoice_id: i for i in items}
    result = match_credits(credits, items, {"IBAN-A": "a"})
    assert result == match_credits(credits, items, {"IBAN-A": "a"})
    assert len(result.matched) + len(result.unresolved) == len(credits)
    paid: dict[str, Money] = {}
    amounts_of = {c.id: c.amount for c in credits}
    for match in result.matched:
        total = sum((a.amount for a in match.allocations), Money.zero(amounts_of[match.credit_id].currency))
        assert total + match.unapplied == amounts_of[match.credit_id]
        assert match.unapplied.amount >= 0
        for allocation in match.allocations:
            invoice = by_id[allocation.invoice_id]
            assert invoice.open_amount.currency == allocation.amount.currency == amounts_of[match.credit_id].currency
            assert invoice.customer_id == match.customer_id
            assert allocation.amount.amount > 0
            paid[invoice.invoice_id] = (
                paid.get(invoice.invoice_id, Money.zero(invoice.open_amount.currency)) + allocation.amount
            )
    for invoice_id, total in paid.items():
        assert total <= by_id[invoice_id].open_amount
