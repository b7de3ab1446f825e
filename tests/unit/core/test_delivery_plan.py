"""The check before every send: cancel, suppress, switch channel, wait or send."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.delivery import MAX_ATTEMPTS, ContactFlag, NoticeFacts, Step, cap_frees, plan, retry_at

NOW = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)
EMAIL = NoticeFacts(
    channel="email",
    level_channels=("email",),
    channels_taken=frozenset(),
    contacts=("ap@acme.example", "boss@acme.example"),
    flags={},
    has_postal_address=True,
    consumer=False,
    open_items=2,
    customer_held=False,
    exempt=False,
    window_opens=NOW,
    cap_frees=None,
)


def test_a_deliverable_notice_goes_to_the_first_contact() -> None:
    assert plan(EMAIL, NOW) == replace(plan(EMAIL, NOW), step=Step.SEND, contact="ap@acme.example")


def test_a_notice_whose_invoices_were_paid_since_the_run_is_cancelled() -> None:
    decided = plan(replace(EMAIL, open_items=0), NOW)
    assert decided.step is Step.CANCEL
    assert "paid" in decided.reason


def test_held_and_exempt_customers_are_not_contacted() -> None:
    assert plan(replace(EMAIL, customer_held=True), NOW).step is Step.CANCEL
    assert plan(replace(EMAIL, exempt=True), NOW).step is Step.CANCEL


def test_a_bad_contact_is_skipped_for_the_next_one() -> None:
    facts = replace(EMAIL, flags={"ap@acme.example": ContactFlag.BAD})
    assert plan(facts, NOW).contact == "boss@acme.example"


def test_with_every_contact_bad_the_notice_moves_to_the_next_channel_of_its_level() -> None:
    facts = replace(
        EMAIL,
        level_channels=("email", "letter"),
        flags=dict.fromkeys(EMAIL.contacts, ContactFlag.BAD),
    )
    decided = plan(facts, NOW)
    assert (decided.step, decided.channel) == (Step.SWITCH, "letter")


def test_a_channel_already_covered_in_the_same_run_is_not_a_fallback() -> None:
    facts = replace(
        EMAIL,
        level_channels=("email", "letter"),
        channels_taken=frozenset({"letter"}),
        flags=dict.fromkeys(EMAIL.contacts, ContactFlag.BAD),
    )
    decided = plan(facts, NOW)
    assert decided.step is Step.SUPPRESS
    assert decided.reason == "every email contact is bad"


def test_opted_out_and_missing_contacts_are_suppressed_with_their_reason() -> None:
    opted = replace(EMAIL, flags=dict.fromkeys(EMAIL.contacts, ContactFlag.OPTED_OUT))
    assert plan(opted, NOW).reason == "opted out of email"
    assert plan(replace(EMAIL, contacts=()), NOW).reason == "no email contact"


def test_consumers_get_text_messages_only_with_consent() -> None:
    sms = replace(EMAIL, channel="sms", level_channels=("sms",), contacts=("+4915112345678",), consumer=True)
    assert (plan(sms, NOW).step, plan(sms, NOW).reason) == (Step.SUPPRESS, "no consent for sms")
    consented = replace(sms, flags={"+4915112345678": ContactFlag.CONSENT})
    assert plan(consented, NOW).step is Step.SEND
    assert plan(replace(sms, consumer=False), NOW).step is Step.SEND


def test_a_letter_needs_a_postal_address() -> None:
    letter = replace(EMAIL, channel="letter", level_channels=("letter",), contacts=(), has_postal_address=False)
    assert (plan(letter, NOW).step, plan(letter, NOW).reason) == (Step.SUPPRESS, "no postal address")


def test_outside_the_window_the_notice_waits_for_it() -> None:
    later = NOW + timedelta(hours=3)
    decided = plan(replace(EMAIL, window_opens=later), NOW)
    assert (decided.step, decided.until) == (Step.WAIT, later)


def test_a_capped_customer_waits_until_the_oldest_contact_leaves_the_seven_days() -> None:
    sent = [NOW - timedelta(days=6), NOW - timedelta(days=2)]
    frees = cap_frees(sent, 2, NOW)
    assert frees == NOW + timedelta(days=1)
    decided = plan(replace(EMAIL, cap_frees=frees), NOW)
    assert (decided.step, decided.reason) == (Step.WAIT, "contact cap reached")
    assert cap_frees(sent, 3, NOW) is None
    assert cap_frees(sent, None, NOW) is None
    assert cap_frees([NOW - timedelta(days=8), NOW - timedelta(days=1)], 2, NOW) is None


def test_retries_back_off_and_give_up() -> None:
    rng = random.Random(1)
    first = retry_at(NOW, 1, None, rng)
    fifth = retry_at(NOW, 5, None, rng)
    assert first is not None and fifth is not None
    assert timedelta(seconds=30) <= first - NOW <= timedelta(minutes=1)
    assert timedelta(minutes=8) <= fifth - NOW <= timedelta(minutes=16)
    assert retry_at(NOW, MAX_ATTEMPTS, None, rng) is None


def test_a_providers_retry_after_is_a_floor() -> None:
    again = retry_at(NOW, 1, 600, random.Random(1))
    assert again is not None and again - NOW >= timedelta(minutes=10)


@given(st.integers(min_value=1, max_value=MAX_ATTEMPTS - 1), st.integers(min_value=0, max_value=2**32))
def test_backoff_never_exceeds_six_hours_and_never_retries_at_once(attempts: int, seed: int) -> None:
    again = retry_at(NOW, attempts, None, random.Random(seed))
    assert again is not None
    assert timedelta(seconds=30) <= again - NOW <= timedelta(hours=6)
