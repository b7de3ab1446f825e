"""The dunning decision: for one customer on one date, what happens to each invoice, and why.

:func:`decide` is pure. It looks at a customer's invoices that are due for review, the
policy, the date and the calendar, and returns one :class:`Decision` per invoice (an action
or a skip, always with its reason) plus the customer's new state. Every decision also
carries the invoice's next review date: the first day on which the answer could change, so
that the daily run only ever looks at invoices whose date has come.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from pastdue.core.calendar import Calendar
from pastdue.core.model import Customer, CustomerState, DunningState, Hold, Invoice, Reviewed
from pastdue.core.policy import DayCount, Escalation, Policy, below_minimum


class Act(StrEnum):
    """What a decision does. ``SKIP`` changes nothing but the review date."""

    NOTICE = "notice"  # a new level is reached: notify on the level's channels
    CLOSE = "close"  # the invoice is settled: its dunning ends
    REOPEN = "reopen"  # a settled invoice is open again (reversal): dunning resumes
    SKIP = "skip"


class Reason(StrEnum):
    """Stable, machine-readable reasons; the decision's ``detail`` says it for people."""

    LEVEL_REACHED = "level_reached"
    PAID = "paid"
    CREDITED = "credited"
    REOPENED = "reopened"
    NOT_ISSUED = "not_issued"
    EXEMPT = "exempt"
    CUSTOMER_HELD = "customer_held"
    HELD = "held"
    BELOW_MINIMUM = "below_minimum"
    NOT_DUE = "not_due"
    TOO_SOON = "too_soon"
    FINAL_LEVEL = "final_level"
    CLOSED = "closed"
    NO_POLICY = "no_policy"


@dataclass(frozen=True, slots=True)
class Decision:
    invoice_id: str
    act: Act
    reason: Reason
    detail: str
    state: DunningState  # the invoice's state after this decision

    @property
    def level(self) -> int:
        return self.state.level

    @property
    def is_action(self) -> bool:
        return self.act is not Act.SKIP


@dataclass(frozen=True, slots=True)
class Outcome:
    decisions: tuple[Decision, ...]
    customer_state: CustomerState

    def notices(self, policy: Policy) -> dict[str, list[Decision]]:
        """Decisions that reached a level, grouped by channel: one notice per channel."""
        by_channel: dict[str, list[Decision]] = {}
        for decision in self.decisions:
            if decision.act is Act.NOTICE:
                for channel in policy.level(decision.level).channels:
                    by_channel.setdefault(channel, []).append(decision)
        return by_channel


_DAY = timedelta(days=1)


def level_dates(policy: Policy, due_on: date, calendar: Calendar) -> tuple[date, ...]:
    """The date each level's threshold is reached for an invoice due on ``due_on``."""
    return calendar.thresholds(due_on, policy.offsets, policy.days is DayCount.BUSINESS)


def _reached(dates: tuple[date, ...], today: date) -> int:
    reached = 0
    for threshold in dates:
        if threshold > today:
            break
        reached += 1
    return reached


def reached_level(policy: Policy, due_on: date, today: date, calendar: Calendar) -> int:
    """Highest level whose threshold has passed on ``today`` (0 when none). Total, never None."""
    return _reached(level_dates(policy, due_on, calendar), today)


def _active_hold(holds: tuple[Hold, ...], today: date) -> Hold | None:
    if not holds:
        return None
    active = [h for h in holds if h.active_on(today)]
    if not active:
        return None
    # An open-ended hold outranks any dated one; among dated ones the latest end wins.
    return max(active, key=lambda h: h.until or date.max)


def _after_hold(hold: Hold) -> date | None:
    return hold.until + _DAY if hold.until else None


def _earliest_notice(policy: Policy, customer_state: CustomerState) -> date | None:
    if customer_state.last_notice_on is None or policy.min_days_between_notices == 0:
        return None
    return customer_state.last_notice_on + timedelta(days=policy.min_days_between_notices)


def decide(
    policy: Policy,
    customer: Customer,
    state: CustomerState,
    invoices: Sequence[Reviewed],
    today: date,
    calendar: Calendar,
) -> Outcome:
    """Decide every invoice of one customer that is up for review on ``today``."""
    decisions = tuple(
        _decide_one(policy, customer, state, item.invoice, item.state, today, calendar) for item in invoices
    )
    noticed = any(d.act is Act.NOTICE for d in decisions)
    return Outcome(decisions, CustomerState(today) if noticed else state)


def _decide_one(
    policy: Policy,
    customer: Customer,
    customer_state: CustomerState,
    invoice: Invoice,
    state: DunningState,
    today: date,
    calendar: Calendar,
) -> Decision:
    def skip(reason: Reason, detail: str, next_review: date | None) -> Decision:
        new = DunningState(state.level, state.reached_on, next_review, state.closed_on)
        return Decision(invoice.id, Act.SKIP, reason, detail, new)

    if today < invoice.issued_on:
        return skip(Reason.NOT_ISSUED, f"issued on {invoice.issued_on.isoformat()}", invoice.issued_on)

    balance = invoice.open_balance
    if balance.amount <= 0:
        if state.closed_on is not None:
            return skip(Reason.CLOSED, f"settled on {state.closed_on.isoformat()}", None)
        credited = invoice.credited is not None and not invoice.credited.is_zero()
        paid = invoice.paid is not None and not invoice.paid.is_zero()
        reason = Reason.CREDITED if credited and not paid else Reason.PAID
        if state.level == 0:
            return skip(reason, f"open balance {balance}; never dunned, nothing to close", None)
        closed = DunningState(state.level, state.reached_on, None, today)
        return Decision(invoice.id, Act.CLOSE, reason, f"open balance {balance}; dunning closed", closed)

    if state.closed_on is not None:
        # Money came back (a reversal): resume where it left off, on the next review.
        reopened = DunningState(state.level, state.reached_on, today + _DAY, None)
        return Decision(invoice.id, Act.REOPEN, Reason.REOPENED, f"open balance {balance} again", reopened)

    if customer.exempt:
        return skip(Reason.EXEMPT, "customer is exempt from dunning", None)
    hold = _active_hold(customer.holds, today)
    if hold is not None:
        return skip(Reason.CUSTOMER_HELD, f"customer on hold: {hold.describe()}", _after_hold(hold))
    hold = _active_hold(invoice.holds, today)
    if hold is not None:
        return skip(Reason.HELD, f"on hold: {hold.describe()}", _after_hold(hold))
    if below_minimum(policy, balance):
        floor = policy.min_balance[balance.currency]
        return skip(Reason.BELOW_MINIMUM, f"open balance {balance} is below {floor}", None)

    dates = level_dates(policy, invoice.due_on, calendar)
    reached = _reached(dates, today)
    last = len(policy.levels)
    if reached <= state.level:
        if state.level >= last:
            return skip(Reason.FINAL_LEVEL, f"at the final level ({policy.level(last).name})", None)
        following = policy.level(state.level + 1)
        nxt = dates[state.level]
        if policy.escalation is Escalation.STEP:
            # Only in step mode is the next target sure to be ``following``; in catch-up a
            # later level with a shorter gap may be the target by the time the gap ends.
            nxt = max(nxt, _gap_end(policy, state, following.number) or nxt)
        return skip(Reason.NOT_DUE, f"{following.name} due on {dates[state.level].isoformat()}", nxt)

    target = state.level + 1 if policy.escalation is Escalation.STEP else reached
    blockers = [d for d in (_earliest_notice(policy, customer_state), _gap_end(policy, state, target)) if d]
    wait_until = max(blockers) if blockers else None
    if wait_until is not None and today < wait_until:
        review = wait_until
        if policy.escalation is Escalation.CATCH_UP and reached < last:
            review = min(review, dates[reached])  # the target, and so its gap, changes then
        return skip(
            Reason.TOO_SOON,
            f"{policy.level(target).name} waits until {wait_until.isoformat()} (spacing between notices)",
            review,
        )

    new_level = policy.level(target)
    next_review: date | None = None
    if target < last:
        spacing = max(policy.min_days_between_notices, 1)
        next_review = max(dates[target], today + timedelta(days=spacing))
    reached_state = DunningState(target, today, next_review, None)
    overdue = (today - invoice.due_on).days
    when = f"{overdue} days after due" if overdue >= 0 else f"{-overdue} days before due"
    return Decision(
        invoice.id,
        Act.NOTICE,
        Reason.LEVEL_REACHED,
        f"level {target} ({new_level.name}) reached {when}; via {', '.join(new_level.channels)}",
        reached_state,
    )


def _gap_end(policy: Policy, state: DunningState, target: int) -> date | None:
    """First day a level may follow the current one under its ``min_days_since_previous``."""
    if state.reached_on is None or target > len(policy.levels):
        return None
    gap = policy.level(target).min_days_since_previous
    return state.reached_on + timedelta(days=gap) if gap else None


def next_review_date(
    policy: Policy,
    customer: Customer,
    state: CustomerState,
    invoice: Invoice,
    invoice_state: DunningState,
    today: date,
    calendar: Calendar,
) -> date | None:
    """When the invoice must next be looked at, as decided on ``today``."""
    return _decide_one(policy, customer, state, invoice, invoice_state, today, calendar).state.next_review_on
