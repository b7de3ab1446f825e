"""Aging buckets: how long open balances are overdue, per currency, to the cent."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.analytics import (
    AGING_BUCKETS,
    aging,
    aging_totals,
    bucket_for,
    days_overdue,
)
from pastdue.core.money import Money, parse_amount

AS_OF = date(2026, 6, 30)


def eur(text: str) -> Money:
    return parse_amount(text, "EUR")


def due(days_ago: int) -> date:
    return AS_OF - timedelta(days=days_ago)


def test_buckets_are_listed_in_reporting_order() -> None:
    assert AGING_BUCKETS == ("not_yet_due", "1-30", "31-60", "61-90", "over_90")


def test_days_overdue_counts_calendar_days() -> None:
    assert days_overdue(date(2026, 6, 1), AS_OF) == 29
    assert days_overdue(date(2026, 7, 5), AS_OF) == -5


def test_an_invoice_due_today_is_not_yet_due() -> None:
    assert bucket_for(AS_OF, AS_OF) == "not_yet_due"
    assert bucket_for(AS_OF + timedelta(days=14), AS_OF) == "not_yet_due"


def test_bucket_edges_are_inclusive_at_the_top() -> None:
    edges = {1: "1-30", 30: "1-30", 31: "31-60", 60: "31-60", 61: "61-90", 90: "61-90"}
    for days_ago, bucket in edges.items():
        assert bucket_for(due(days_ago), AS_OF) == bucket, days_ago
    assert bucket_for(due(91), AS_OF) == "over_90"
    assert bucket_for(due(400), AS_OF) == "over_90"


def test_aging_sums_open_balances_per_currency_and_bucket() -> None:
    table = aging(
        [
            (eur("100.00"), due(-3)),
            (eur("50.25"), due(10)),
            (eur("49.75"), due(30)),
            (eur("1000.00"), due(95)),
            (parse_amount("12000", "JPY"), due(45)),
        ],
        AS_OF,
    )
    assert table["EUR"] == {
        "not_yet_due": eur("100.00"),
        "1-30": eur("100.00"),
        "31-60": eur("0.00"),
        "61-90": eur("0.00"),
        "over_90": eur("1000.00"),
    }
    assert table["JPY"]["31-60"] == parse_amount("12000", "JPY")
    assert table["JPY"]["1-30"] == Money.zero("JPY")


def test_every_bucket_is_present_and_currencies_are_sorted() -> None:
    table = aging([(parse_amount("5", "USD"), due(2)), (eur("1.00"), due(2))], AS_OF)
    assert list(table) == ["EUR", "USD"]
    for row in table.values():
        assert tuple(row) == AGING_BUCKETS


def test_no_items_give_an_empty_table() -> None:
    assert aging([], AS_OF) == {}
    assert aging_totals({}) == {}


def test_currencies_are_never_mixed() -> None:
    table = aging([(eur("10.00"), due(5)), (parse_amount("10.00", "GBP"), due(5))], AS_OF)
    assert table["EUR"]["1-30"] == eur("10.00")
    assert table["GBP"]["1-30"] == parse_amount("10.00", "GBP")


def test_an_over_credited_balance_reduces_its_bucket() -> None:
    table = aging([(eur("100.00"), due(5)), (eur("-30.00"), due(6))], AS_OF)
    assert table["EUR"]["1-30"] == eur("70.00")


def test_items_may_be_a_one_shot_iterator() -> None:
    table = aging(iter([(eur("1.00"), due(1))]), AS_OF)
    assert table["EUR"]["1-30"] == eur("1.00")


CURRENCIES = ("EUR", "JPY", "GBP", "KWD")
items_strategy = st.lists(
    st.tuples(
        st.integers(min_value=-(10**6), max_value=10**9),
        st.sampled_from(CURRENCIES),
        st.integers(min_value=-60, max_value=400),
    ).map(lambda t: (Money.of_minor(t[0], t[1]), due(t[2]))),
    max_size=60,
)


@given(items_strategy)
def test_bucket_totals_sum_to_the_grand_total_per_currency(
    items: list[tuple[Money, date]],
) -> None:
    table = aging(items, AS_OF)
    expected: dict[str, Decimal] = {}
    for balance, _ in items:
        expected[balance.currency] = expected.get(balance.currency, Decimal(0)) + balance.amount
    assert sorted(expected) == list(table)
    totals = aging_totals(table)
    for currency, amount in expected.items():
        assert totals[currency] == Money(amount, currency)
        assert sum((m.amount for m in table[currency].values()), Decimal(0)) == amount
        assert all(m.currency == currency for m in table[currency].values())


@given(st.integers(min_value=-400, max_value=400), st.integers(min_value=0, max_value=400))
def test_a_later_date_never_moves_an_item_to_a_younger_bucket(days_ago: int, later: int) -> None:
    first = bucket_for(due(days_ago), AS_OF)
    second = bucket_for(due(days_ago), AS_OF + timedelta(days=later))
    assert AGING_BUCKETS.index(second) >= AGING_BUCKETS.index(first)
