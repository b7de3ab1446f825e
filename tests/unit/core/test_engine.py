"""The dunning decision, one behaviour per test, walking through fixed dates."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from helpers import DUE, customer, daily, eur, invoice, one, run, standard

from pastdue.core.calendar import CALENDAR_DAYS, Calendar
from pastdue.core.engine import (
    Act,
    Reason,
    level_dates,
    next_review_date,
    reached_level,
)
from pastdue.core.model import CustomerState, DunningState, Hold, HoldReason
from pastdue.core.policy import DayCount, Escalation, Level

D = date  # short for the many fixed dates below


def at(level: int, on: date, review: date | None = None) -> DunningState:
    return DunningState(level=level, reached_on=on, next_review_on=review)


def test_standard_policy_walks_through_every_level_on_its_day() -> None:
    reached = daily(standard(), invoice(), D(2026, 5, 1), D(2026, 7, 1))
    assert reached == {D(2026, 5, 6): 1, D(2026, 5, 13): 2, D(2026, 5, 20): 3, D(2026, 6, 5): 4}


def test_invoice_not_yet_overdue_waits_for_its_first_level() -> None:
    decision = one(standard(), invoice(), DUE)
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.NOT_DUE)
    assert decision.detail == "reminder due on 2026-05-06"
    assert decision.state == DunningState(next_review_on=D(2026, 5, 6))


def test_first_reminder_goes_out_the_day_after_due() -> None:
    decision = one(standard(), invoice(), D(2026, 5, 6))
    assert (decision.act, decision.reason) == (Act.NOTICE, Reason.LEVEL_REACHED)
    assert decision.detail == "level 1 (reminder) reached 1 days after due; via email"
    # level 2 is due on day 8 after due; the customer may hear from us again in 7 days
    assert decision.state == DunningState(1, D(2026, 5, 6), D(2026, 5, 13))


def test_invoice_not_issued_yet_is_looked_at_on_its_issue_date() -> None:
    decision = one(standard(), invoice(issued_on=D(2026, 5, 10)), D(2026, 5, 6))
    assert decision.reason is Reason.NOT_ISSUED
    assert decision.state.next_review_on == D(2026, 5, 10)


def test_paid_invoice_closes_its_dunning() -> None:
    decision = one(standard(), invoice(paid="100.00"), D(2026, 5, 14), at(2, D(2026, 5, 13)))
    assert (decision.act, decision.reason) == (Act.CLOSE, Reason.PAID)
    assert decision.state == DunningState(2, D(2026, 5, 13), None, closed_on=D(2026, 5, 14))
    again = one(standard(), invoice(paid="100.00"), D(2026, 6, 30), decision.state)
    assert (again.act, again.reason) == (Act.SKIP, Reason.CLOSED)
    assert again.state == decision.state


def test_invoice_paid_before_any_reminder_has_nothing_to_close() -> None:
    decision = one(standard(), invoice(paid="100.00"), D(2026, 5, 6))
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.PAID)
    assert decision.detail == "open balance 0.00 EUR; never dunned, nothing to close"
    assert decision.state == DunningState()


def test_paid_invoice_is_never_reminded() -> None:
    reached = daily(standard(), invoice(paid="100.00"), D(2026, 5, 1), D(2026, 7, 1))
    assert reached == {}


def test_credit_note_closes_with_its_own_reason() -> None:
    assert one(standard(), invoice(credited="100.00"), D(2026, 5, 6)).reason is Reason.CREDITED
    mixed = invoice(paid="60.00", credited="40.00")
    assert one(standard(), mixed, D(2026, 5, 6)).reason is Reason.PAID


def test_partial_payment_keeps_dunning_on_the_rest() -> None:
    decision = one(standard(), invoice(paid="99.99"), D(2026, 5, 6))
    assert decision.act is Act.NOTICE


def test_reversed_payment_reopens_where_dunning_left_off() -> None:
    closed = DunningState(2, D(2026, 5, 13), None, closed_on=D(2026, 5, 14))
    decision = one(standard(), invoice(), D(2026, 5, 20), closed)
    assert (decision.act, decision.reason) == (Act.REOPEN, Reason.REOPENED)
    assert decision.state == DunningState(2, D(2026, 5, 13), D(2026, 5, 21), None)
    resumed = one(standard(), invoice(), D(2026, 5, 21), decision.state)
    assert (resumed.act, resumed.level) == (Act.NOTICE, 3)


def test_exempt_customer_is_never_dunned() -> None:
    exempt = customer(exempt=True)
    for day in (D(2026, 5, 6), D(2026, 6, 30)):
        decision = one(standard(), invoice(), day, who=exempt)
        assert (decision.act, decision.reason) == (Act.SKIP, Reason.EXEMPT)
        assert decision.state.next_review_on is None  # only a change to the customer matters


def test_exempt_customer_still_has_paid_invoices_closed() -> None:
    paid = invoice(paid="100.00")
    decision = one(standard(), paid, D(2026, 5, 6), at(1, D(2026, 5, 2)), who=customer(exempt=True))
    assert decision.act is Act.CLOSE


def test_hold_pauses_until_expiry() -> None:
    dispute = Hold(HoldReason.DISPUTE, "wrong quantity", until=D(2026, 5, 20))
    held = invoice(holds=(dispute,))
    decision = one(standard(), held, D(2026, 5, 6))
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.HELD)
    assert decision.detail == "on hold: dispute: wrong quantity (until 2026-05-20)"
    assert decision.state.next_review_on == D(2026, 5, 21)
    assert one(standard(), held, D(2026, 5, 20)).reason is Reason.HELD  # the end is inclusive
    assert daily(standard(), held, D(2026, 5, 1), D(2026, 5, 31)) == {
        D(2026, 5, 21): 1,
        D(2026, 5, 28): 2,
    }


def test_open_ended_hold_waits_for_a_change_in_the_ledger() -> None:
    manual = Hold(HoldReason.MANUAL)
    decision = one(standard(), invoice(holds=(manual,)), D(2026, 5, 6))
    assert decision.reason is Reason.HELD
    assert decision.state.next_review_on is None


def test_open_ended_hold_outranks_a_dated_one() -> None:
    holds = (Hold(HoldReason.PROMISE, until=D(2026, 5, 30)), Hold(HoldReason.DISPUTE))
    decision = one(standard(), invoice(holds=holds), D(2026, 5, 6))
    assert decision.detail == "on hold: dispute"
    assert decision.state.next_review_on is None


def test_expired_hold_no_longer_pauses() -> None:
    old = Hold(HoldReason.PROMISE, until=D(2026, 5, 1))
    assert one(standard(), invoice(holds=(old,)), D(2026, 5, 6)).act is Act.NOTICE


def test_customer_hold_pauses_every_invoice_of_the_customer() -> None:
    plan = customer(holds=(Hold(HoldReason.PAYMENT_PLAN, until=D(2026, 6, 1)),))
    outcome = run(
        standard(),
        [(invoice("A"), DunningState()), (invoice("B"), DunningState())],
        D(2026, 5, 6),
        who=plan,
    )
    assert [(d.reason, d.state.next_review_on) for d in outcome.decisions] == [
        (Reason.CUSTOMER_HELD, D(2026, 6, 2)),
        (Reason.CUSTOMER_HELD, D(2026, 6, 2)),
    ]


def test_pre_due_nudge_with_negative_after_days() -> None:
    nudge = Level(1, "friendly nudge", -3, ("email",))
    policy = standard(levels=(nudge, *(replace(lv, number=lv.number + 1) for lv in standard().levels)))
    reached = daily(policy, invoice(), D(2026, 4, 25), D(2026, 5, 31))
    assert reached == {D(2026, 5, 2): 1, D(2026, 5, 9): 2, D(2026, 5, 16): 3, D(2026, 5, 23): 4}
    decision = one(policy, invoice(), D(2026, 5, 2))
    assert decision.detail == "level 1 (friendly nudge) reached 3 days before due; via email"


def test_catch_up_jumps_to_highest_level_reached() -> None:
    policy = standard(escalation=Escalation.CATCH_UP)
    decision = one(policy, invoice(), D(2026, 5, 25))  # 20 days late, first look
    assert (decision.act, decision.level) == (Act.NOTICE, 3)
    assert decision.detail == "level 3 (phone call) reached 20 days after due; via phone"
    assert decision.state.next_review_on == D(2026, 6, 5)


def test_step_never_skips_a_level() -> None:
    policy = standard(min_days_between_notices=0)
    state, levels = DunningState(), []
    for day in (D(2026, 7, 1), D(2026, 7, 2), D(2026, 7, 3), D(2026, 7, 4), D(2026, 7, 5)):
        decision = one(policy, invoice(), day, state)
        state = decision.state
        levels.append(decision.level)
    assert levels == [1, 2, 3, 4, 4]
    assert decision.reason is Reason.FINAL_LEVEL and state.next_review_on is None


def test_step_mode_behind_schedule_reviews_again_after_the_spacing() -> None:
    decision = one(standard(), invoice(), D(2026, 7, 1))
    assert decision.level == 1
    assert decision.state.next_review_on == D(2026, 7, 8)


def test_final_level_is_never_sent_twice() -> None:
    decision = one(standard(), invoice(), D(2026, 9, 1), at(4, D(2026, 6, 5)))
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.FINAL_LEVEL)
    assert decision.detail == "at the final level (final notice)"
    assert decision.state.next_review_on is None


def test_min_balance_skips_with_reason() -> None:
    policy = standard(min_balance={"EUR": eur("5.00")})
    small = invoice(amount="100.00", paid="95.01")
    decision = one(policy, small, D(2026, 5, 6))
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.BELOW_MINIMUM)
    assert decision.detail == "open balance 4.99 EUR is below 5.00 EUR"
    assert decision.state.next_review_on is None  # until a payment or credit changes it
    assert one(policy, invoice(amount="5.00"), D(2026, 5, 6)).act is Act.NOTICE


def test_min_days_between_notices_spaces_notices() -> None:
    # INV-2 reaches its first level on 05-09, but the customer heard from us on 05-06.
    last = CustomerState(last_notice_on=D(2026, 5, 6))
    inv2 = invoice("INV-2", due_on=D(2026, 5, 8))
    decision = one(standard(), inv2, D(2026, 5, 9), customer_state=last)
    assert (decision.act, decision.reason) == (Act.SKIP, Reason.TOO_SOON)
    assert decision.detail == "reminder waits until 2026-05-13 (spacing between notices)"
    assert decision.state.next_review_on == D(2026, 5, 13)
    assert one(standard(), inv2, D(2026, 5, 13), customer_state=last).act is Act.NOTICE


def test_min_days_since_previous_delays_a_level() -> None:
    policy = standard(min_days_between_notices=0)
    slow = replace(policy.levels[1], min_days_since_previous=10)
    policy = replace(policy, levels=(policy.levels[0], slow, *policy.levels[2:]))
    reached = daily(policy, invoice(), D(2026, 5, 1), D(2026, 5, 31))
    assert reached == {D(2026, 5, 6): 1, D(2026, 5, 16): 2, D(2026, 5, 20): 3}
    waiting = one(policy, invoice(), D(2026, 5, 13), at(1, D(2026, 5, 6)))
    assert waiting.reason is Reason.TOO_SOON
    assert waiting.state.next_review_on == D(2026, 5, 16)


def test_catch_up_is_not_held_back_by_the_gap_of_a_level_it_jumps_over() -> None:
    # Level 2 wants 20 days after level 1, level 3 wants none: once level 3 is reached
    # (05-20), catch-up goes there at once, so no review date may wait for level 2's gap.
    policy = standard(escalation=Escalation.CATCH_UP, min_days_between_notices=0)
    first, second, *rest = policy.levels
    policy = replace(policy, levels=(first, replace(second, min_days_since_previous=20), *rest))
    assert daily(policy, invoice(), D(2026, 5, 1), D(2026, 6, 30)) == {
        D(2026, 5, 6): 1,
        D(2026, 5, 20): 3,
        D(2026, 6, 5): 4,
    }
    level_1 = at(1, D(2026, 5, 6))
    before = one(policy, invoice(), D(2026, 5, 7), level_1)
    assert before.reason is Reason.NOT_DUE
    assert before.state.next_review_on == D(2026, 5, 13)
    waiting = one(policy, invoice(), D(2026, 5, 13), level_1)
    assert waiting.reason is Reason.TOO_SOON
    assert waiting.state.next_review_on == D(2026, 5, 20)


def test_invoices_reaching_levels_in_one_run_share_one_notice_per_channel() -> None:
    items = [
        (invoice("A", due_on=D(2026, 5, 5)), DunningState()),
        (invoice("B", due_on=D(2026, 4, 20)), at(1, D(2026, 4, 21))),  # to level 2
        (invoice("C", due_on=D(2026, 4, 14)), at(2, D(2026, 4, 22))),  # to level 3: phone
        (invoice("D", due_on=D(2026, 5, 20)), DunningState()),  # not due
    ]
    outcome = run(standard(), items, D(2026, 5, 6), customer_state=CustomerState(D(2026, 4, 22)))
    notices = outcome.notices(standard())
    assert {channel: [d.invoice_id for d in ds] for channel, ds in notices.items()} == {
        "email": ["A", "B"],
        "phone": ["C"],
    }
    assert outcome.customer_state == CustomerState(last_notice_on=D(2026, 5, 6))


def test_customer_state_is_kept_when_nothing_is_sent() -> None:
    before = CustomerState(D(2026, 5, 1))
    outcome = run(standard(), [(invoice(), DunningState())], D(2026, 5, 5), customer_state=before)
    assert outcome.customer_state is before
    assert outcome.notices(standard()) == {}


GERMAN_MAY = Calendar(holidays=frozenset({D(2026, 5, 14), D(2026, 5, 25)}), name="DE")


def test_business_days_skip_weekends_and_holidays() -> None:
    policy = standard(days=DayCount.BUSINESS, calendar="DE")
    due = D(2026, 5, 13)  # Wednesday before Ascension Day
    assert level_dates(policy, due, GERMAN_MAY) == (
        D(2026, 5, 15),
        D(2026, 5, 27),
        D(2026, 6, 5),
        D(2026, 6, 29),
    )
    reached = daily(policy, invoice(due_on=due), D(2026, 5, 1), D(2026, 7, 1), calendar=GERMAN_MAY)
    assert reached == {D(2026, 5, 15): 1, D(2026, 5, 27): 2, D(2026, 6, 5): 3, D(2026, 6, 29): 4}


def test_business_day_policy_reviews_on_the_shifted_date() -> None:
    policy = standard(days=DayCount.BUSINESS, calendar="DE")
    decision = one(policy, invoice(due_on=D(2026, 5, 22)), D(2026, 5, 23), calendar=GERMAN_MAY)
    assert decision.reason is Reason.NOT_DUE
    assert decision.state.next_review_on == D(2026, 5, 26)  # Whit Monday and the weekend skipped


def test_reached_level_is_total() -> None:
    policy = standard()
    assert reached_level(policy, DUE, D(2000, 1, 1), CALENDAR_DAYS) == 0
    assert reached_level(policy, DUE, D(2026, 5, 13), CALENDAR_DAYS) == 2
    assert reached_level(policy, DUE, D(2099, 1, 1), CALENDAR_DAYS) == 4


NOBODY, NEVER = customer(), CustomerState()
SKIPS = {
    "not issued": (
        Reason.NOT_ISSUED,
        invoice(issued_on=D(2026, 6, 10), due_on=D(2026, 7, 10)),
        DunningState(),
        NOBODY,
        NEVER,
    ),
    "paid, never dunned": (Reason.PAID, invoice(paid="100.00"), DunningState(), NOBODY, NEVER),
    "credited, never dunned": (
        Reason.CREDITED,
        invoice(credited="100.00"),
        DunningState(),
        NOBODY,
        NEVER,
    ),
    "closed": (
        Reason.CLOSED,
        invoice(paid="100.00"),
        DunningState(1, D(2026, 5, 6), closed_on=D(2026, 5, 9)),
        NOBODY,
        NEVER,
    ),
    "exempt": (Reason.EXEMPT, invoice(), DunningState(), customer(exempt=True), NEVER),
    "customer held": (
        Reason.CUSTOMER_HELD,
        invoice(),
        DunningState(),
        customer(holds=(Hold(HoldReason.MANUAL),)),
        NEVER,
    ),
    "held": (
        Reason.HELD,
        invoice(holds=(Hold(HoldReason.PAYMENT_IN_FLIGHT),)),
        DunningState(),
        NOBODY,
        NEVER,
    ),
    "below minimum": (Reason.BELOW_MINIMUM, invoice(amount="4.99"), DunningState(), NOBODY, NEVER),
    "not due": (Reason.NOT_DUE, invoice(due_on=D(2026, 6, 10)), DunningState(), NOBODY, NEVER),
    "too soon": (Reason.TOO_SOON, invoice(), DunningState(), NOBODY, CustomerState(D(2026, 6, 1))),
    "final level": (Reason.FINAL_LEVEL, invoice(), at(4, D(2026, 6, 5)), NOBODY, NEVER),
}


@pytest.mark.parametrize("situation", SKIPS)
def test_every_skip_carries_its_reason(situation: str) -> None:
    reason, inv, state, who, cstate = SKIPS[situation]
    policy, today = standard(min_balance={"EUR": eur("5.00")}), D(2026, 6, 5)
    outcome = run(policy, [(inv, state)], today, who=who, customer_state=cstate)
    (decision,) = outcome.decisions
    assert (decision.act, decision.reason) == (Act.SKIP, reason)
    assert decision.detail.strip()
    # a skip changes nothing but the review date, which is never today or earlier
    assert replace(decision.state, next_review_on=None) == replace(state, next_review_on=None)
    assert decision.state.next_review_on is None or decision.state.next_review_on > today
    expected = next_review_date(policy, who, cstate, inv, state, today, CALENDAR_DAYS)
    assert decision.state.next_review_on == expected
    assert outcome.customer_state is cstate


def test_decide_is_pure_and_repeatable() -> None:
    items = [
        (invoice("A"), DunningState()),
        (invoice("B", due_on=D(2026, 5, 1)), at(1, D(2026, 5, 2))),
    ]
    first = run(standard(), items, D(2026, 5, 10))
    assert run(standard(), items, D(2026, 5, 10)) == first
    assert items[0][1] == DunningState()  # nothing handed in was changed


def test_a_day_later_never_lowers_the_reached_level() -> None:
    day = D(2026, 4, 1)
    previous = 0
    while day < D(2026, 8, 1):
        now = reached_level(standard(), DUE, day, CALENDAR_DAYS)
        assert previous <= now
        previous, day = now, day + timedelta(days=1)
