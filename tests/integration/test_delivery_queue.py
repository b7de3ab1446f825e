"""The delivery queue on SQLite and PostgreSQL: what is sent, when, to whom, and what is not.

Channels here are recording channels (the real ones are tested against real servers in
the channel tests); templates, the store and the queue are real.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader
from store_support import CUSTOMERS_HEADER, customer_row, write_ledger

from pastdue import services
from pastdue.bootstrap import App
from pastdue.channels.base import OutgoingMessage, Receipt
from pastdue.channels.letter import LetterChannel
from pastdue.channels.phone import PhoneTaskChannel
from pastdue.channels.recording import RecordingChannel
from pastdue.core.delivery import ContactFlag
from pastdue.core.model import HoldReason
from pastdue.errors import ConfigurationError, MessageRejected, PermanentFailure, ProblemsFound, TemporaryFailure
from pastdue.pdf import check_pdf_support
from pastdue.policies import standard_policy_toml
from pastdue.rendering import Renderer
from pastdue.services import approvals, contacts
from pastdue.services.delivery import Deliverer, DeliverySummary

RUN_DAY = date(2026, 6, 30)  # a Tuesday
MORNING = datetime(2026, 6, 30, 9, 0, tzinfo=UTC)  # 11:00 in Berlin


class Crash(BaseException):
    """Stands for the process dying inside the channel's send call."""


class CrashingChannel(RecordingChannel):
    def send(self, message: OutgoingMessage) -> Receipt:
        super().send(message)
        raise Crash


@pytest.fixture
def channels() -> dict[str, RecordingChannel]:
    return {name: RecordingChannel(name) for name in ("email", "sms", "letter", "phone")}


def deliverer(app: App, channels: dict[str, RecordingChannel], **options: object) -> Deliverer:
    return Deliverer(app, channels, Renderer(), email_domain="billing.example", rng=random.Random(1), **options)  # type: ignore[arg-type]


def at(moment: datetime) -> Callable[[], datetime]:
    return lambda: moment


def ledger(
    app: App,
    folder: Path,
    customers: list[list[object]],
    invoices: list[list[object]],
    policy: str | None = None,
) -> None:
    write_ledger(folder, customers=customers, invoices=invoices)
    services.import_ledger(app, [folder])
    path = folder / "policy.toml"
    path.write_text(policy or standard_policy_toml(), encoding="utf-8")
    services.apply_policy(app, path, make_default=True)


def first_level(settings: str) -> str:
    """The standard policy with its first level's channels and options replaced."""
    return standard_policy_toml().replace('after_days = 1\nchannels = ["email"]', "after_days = 1\n" + settings)


def invoice(iid: str, cid: str, due: date, amount: str = "100.00") -> list[object]:
    return [iid, cid, f"INV-{iid}", "EUR", amount, (due - timedelta(days=30)).isoformat(), due.isoformat()]


def statuses(app: App) -> dict[str, str]:
    return {n.customer_id + "/" + n.channel: n.status for n in services.notices(app)}


def test_each_customer_gets_one_email_and_a_second_pass_sends_nothing(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    due = RUN_DAY - timedelta(days=1)
    ledger(
        app,
        tmp_path,
        [customer_row("c1"), customer_row("c2", "Bäckerei Müller & Söhne")],
        [invoice("1", "c1", due), invoice("2", "c1", due, "50.00"), invoice("3", "c2", due)],
    )
    services.run_dunning(app, RUN_DAY)
    first = deliverer(app, channels).deliver(at(MORNING))
    again = deliverer(app, channels).deliver(at(MORNING + timedelta(hours=1)))

    sent = channels["email"].sent
    assert first.sent == {"email": 2}
    assert again.sent == {}
    assert sorted(m.to for m in sent) == ["ar-c1@example.com", "ar-c2@example.com"]
    c1 = next(m for m in sent if m.customer_id == "c1")
    assert "INV-1" in c1.text and "INV-2" in c1.text
    assert c1.message_id == f"<{c1.notice_id}@billing.example>"
    assert c1.unsubscribe_url.startswith("http://127.0.0.1:8000/portal/unsubscribe?")
    assert "150,00" in c1.text  # German customer, German amounts
    assert statuses(app) == {"c1/email": "sent", "c2/email": "sent"}
    listed = {n.customer_id: n for n in services.notices(app)}
    assert listed["c1"].message_id == c1.message_id and listed["c1"].sent_at is not None
    assert services.verify_audit(app) > 0


def test_a_notice_paid_or_held_after_the_run_is_cancelled_not_sent(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    due = RUN_DAY - timedelta(days=1)
    ledger(app, tmp_path, [customer_row("c1"), customer_row("c2")], [invoice("1", "c1", due), invoice("2", "c2", due)])
    services.run_dunning(app, RUN_DAY)
    services.place_hold(app, reason=HoldReason.DISPUTE, invoice_number="INV-1")

    summary = deliverer(app, channels).deliver(at(MORNING))

    assert [m.customer_id for m in channels["email"].sent] == ["c2"]
    assert summary.outcomes["cancelled"] == 1
    assert statuses(app)["c1/email"] == "cancelled"


def test_a_temporary_failure_is_retried_later_and_then_sent(app: App, tmp_path: Path) -> None:
    due = RUN_DAY - timedelta(days=1)
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", due)])
    services.run_dunning(app, RUN_DAY)
    email = RecordingChannel("email", fail_with=[TemporaryFailure("451 try later", retry_after=120)])

    first = deliverer(app, {"email": email}).deliver(at(MORNING))
    too_early = deliverer(app, {"email": email}).deliver(at(MORNING + timedelta(seconds=60)))
    later = deliverer(app, {"email": email}).deliver(at(MORNING + timedelta(minutes=5)))

    assert first.outcomes["retry"] == 1 and first.sent == {}
    assert too_early.sent == {}
    assert later.sent == {"email": 1}
    [notice] = services.notices(app)
    assert (notice.status, notice.attempts) == ("sent", 2)


def test_a_bounce_marks_the_address_bad_and_the_next_address_is_used(app: App, tmp_path: Path) -> None:
    due = RUN_DAY - timedelta(days=1)
    customer = customer_row("c1")
    customer[2] = "old@acme.example; new@acme.example"
    ledger(app, tmp_path, [customer], [invoice("1", "c1", due)])
    services.run_dunning(app, RUN_DAY)
    email = RecordingChannel("email", fail_with=[PermanentFailure("550 no such user")])

    summary = deliverer(app, {"email": email}).deliver(at(MORNING))

    assert [m.to for m in email.sent] == ["new@acme.example"]  # the recording keeps deliveries only
    assert summary.outcomes["bounced"] == 1 and summary.sent == {"email": 1}
    flags = contacts.contact_flags(app)
    assert [(f["address"], f["flag"]) for f in flags] == [("old@acme.example", "bad")]


def test_levels_that_need_approval_wait_for_a_person(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    due = RUN_DAY - timedelta(days=1)
    policy = first_level('channels = ["email"]\nrequires_approval = true')
    ledger(
        app,
        tmp_path,
        [customer_row("c1"), customer_row("c2")],
        [invoice("1", "c1", due), invoice("2", "c2", due)],
        policy,
    )
    services.run_dunning(app, RUN_DAY)

    assert deliverer(app, channels).deliver(at(MORNING)).sent == {}
    waiting = approvals.waiting(app)
    assert sorted(w["customer_id"] for w in waiting) == ["c1", "c2"]
    by_customer = {w["customer_id"]: w["id"] for w in waiting}
    approvals.approve(app, by_customer["c1"], "alice")
    approvals.reject(app, by_customer["c2"], "alice", "customer called, paying today")

    summary = deliverer(app, channels).deliver(at(MORNING))

    assert summary.sent == {"email": 1}
    assert statuses(app) == {"c1/email": "sent", "c2/email": "rejected"}
    with pytest.raises(ProblemsFound):
        approvals.approve(app, by_customer["c2"], "bob")


def test_notices_wait_for_the_send_window_in_the_customers_time_zone(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    due = RUN_DAY - timedelta(days=1)
    new_york = ["c1", "Acme Inc", "ap@acme.example", "+12125550100", "US", "en", "America/New_York"]
    ledger(app, tmp_path, [new_york], [invoice("1", "c1", due)])
    services.run_dunning(app, RUN_DAY)

    early = deliverer(app, channels).deliver(at(MORNING))  # 05:00 in New York
    later = deliverer(app, channels).deliver(at(datetime(2026, 6, 30, 12, 5, tzinfo=UTC)))  # 08:05

    assert early.outcomes["waiting"] == 1 and early.sent == {}
    assert later.sent == {"email": 1}


def test_the_contact_cap_holds_a_notice_until_the_seven_days_have_passed(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    policy = "max_notices_per_7_days = 1\n" + standard_policy_toml().replace(
        "min_days_between_notices = 7", "min_days_between_notices = 0"
    )
    ledger(
        app,
        tmp_path,
        [customer_row("c1")],
        [invoice("1", "c1", RUN_DAY - timedelta(days=1)), invoice("2", "c1", RUN_DAY + timedelta(days=2))],
        policy,
    )
    services.run_dunning(app, RUN_DAY)
    assert deliverer(app, channels).deliver(at(MORNING)).sent == {"email": 1}
    three_days_later = RUN_DAY + timedelta(days=3)
    services.run_dunning(app, three_days_later)

    held = deliverer(app, channels).deliver(at(MORNING + timedelta(days=3)))
    freed = deliverer(app, channels).deliver(at(MORNING + timedelta(days=7, minutes=1)))

    assert held.outcomes["waiting"] == 1 and held.sent == {}
    assert freed.sent == {"email": 1}


def test_a_crash_while_sending_an_email_resends_it_with_the_same_message_id(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", RUN_DAY - timedelta(days=1))])
    services.run_dunning(app, RUN_DAY)
    crashing = CrashingChannel("email")
    with pytest.raises(Crash):
        deliverer(app, {"email": crashing}).deliver(at(MORNING))
    assert statuses(app) == {"c1/email": "sending"}

    before_expiry = deliverer(app, channels).deliver(at(MORNING + timedelta(minutes=1)))
    after_expiry = deliverer(app, channels).deliver(at(MORNING + timedelta(minutes=6)))

    assert before_expiry.sent == {}
    assert after_expiry.outcomes["resend_after_crash"] == 1 and after_expiry.sent == {"email": 1}
    assert crashing.sent[0].message_id == channels["email"].sent[0].message_id
    assert statuses(app) == {"c1/email": "sent"}


def test_a_crash_while_sending_a_text_leaves_a_visible_unknown_for_a_person(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    policy = first_level('channels = ["sms"]')
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", RUN_DAY - timedelta(days=1))], policy)
    services.run_dunning(app, RUN_DAY)
    with pytest.raises(Crash):
        deliverer(app, {"sms": CrashingChannel("sms")}).deliver(at(MORNING))

    later = deliverer(app, channels).deliver(at(MORNING + timedelta(minutes=6)))
    assert later.outcomes["unknown"] == 1 and later.sent == {}
    assert statuses(app) == {"c1/sms": "unknown"}
    [unknown] = services.notices(app, status="unknown")

    approvals.resolve_unknown(app, unknown.id, "resend", "alice")
    assert deliverer(app, channels).deliver(at(MORNING + timedelta(minutes=7))).sent == {"sms": 1}


def test_a_level_on_an_unconfigured_channel_fails_visibly(app: App, tmp_path: Path) -> None:
    policy = first_level('channels = ["webhook"]')
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", RUN_DAY - timedelta(days=1))], policy)
    services.run_dunning(app, RUN_DAY)
    summary: DeliverySummary = deliverer(app, {}).deliver(at(MORNING))
    assert summary.outcomes["failed"] == 1
    [failed] = services.notices(app, status="failed")
    assert failed.channel == "webhook"


def test_an_opted_out_address_is_suppressed(app: App, tmp_path: Path, channels: dict[str, RecordingChannel]) -> None:
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", RUN_DAY - timedelta(days=1))])
    contacts.flag_contact(app, "email", "ar-c1@example.com", ContactFlag.OPTED_OUT, "portal")
    services.run_dunning(app, RUN_DAY)
    summary = deliverer(app, channels).deliver(at(MORNING))
    assert summary.outcomes["suppressed"] == 1
    assert statuses(app) == {"c1/email": "suppressed"}


def test_a_text_that_can_never_be_sent_fails_without_blaming_the_number(app: App, tmp_path: Path) -> None:
    policy = first_level('channels = ["sms"]')
    ledger(app, tmp_path, [customer_row("c1")], [invoice("1", "c1", RUN_DAY - timedelta(days=1))], policy)
    services.run_dunning(app, RUN_DAY)
    sms = RecordingChannel("sms", fail_with=[MessageRejected("7 segments, 6 allowed")])

    summary = deliverer(app, {"sms": sms}).deliver(at(MORNING))

    assert summary.outcomes["failed"] == 1
    assert statuses(app) == {"c1/sms": "failed"}
    assert contacts.contact_flags(app) == []


def test_wrong_settings_stop_the_pass_and_leave_every_notice_to_the_next(
    app: App, tmp_path: Path, channels: dict[str, RecordingChannel]
) -> None:
    due = RUN_DAY - timedelta(days=1)
    ledger(app, tmp_path, [customer_row("c1"), customer_row("c2")], [invoice("1", "c1", due), invoice("2", "c2", due)])
    services.run_dunning(app, RUN_DAY)
    broken = RecordingChannel("email", fail_with=[ConfigurationError("PASTDUE_EMAIL_URL: login refused")])

    with pytest.raises(ConfigurationError):
        deliverer(app, {"email": broken}).deliver(at(MORNING))

    assert statuses(app) == {"c1/email": "pending", "c2/email": "pending"}
    assert deliverer(app, channels).deliver(at(MORNING)).sent == {"email": 2}


class CrashAfterWriting(PhoneTaskChannel):
    def send(self, message: OutgoingMessage) -> Receipt:
        super().send(message)
        raise Crash


def test_a_crash_after_a_phone_task_was_written_is_settled_by_looking_for_it(app: App, tmp_path: Path) -> None:
    ledger(
        app,
        tmp_path,
        [customer_row("c1")],
        [invoice("1", "c1", RUN_DAY - timedelta(days=1))],
        first_level('channels = ["phone"]'),
    )
    services.run_dunning(app, RUN_DAY)
    with pytest.raises(Crash):
        deliverer(app, {"phone": CrashAfterWriting(tmp_path / "tasks")}).deliver(at(MORNING))

    later = deliverer(app, {"phone": PhoneTaskChannel(tmp_path / "tasks")}).deliver(at(MORNING + timedelta(minutes=6)))

    assert later.outcomes["sent_per_provider"] == 1 and later.sent == {}
    assert statuses(app) == {"c1/phone": "sent"}
    assert len(list((tmp_path / "tasks").glob("*.json"))) == 1


def test_a_level_with_a_letter_and_an_email_sends_both_and_attaches_the_letter(app: App, tmp_path: Path) -> None:
    try:
        check_pdf_support()
    except ConfigurationError as missing:
        pytest.skip(str(missing))
    customer = [*customer_row("c1"), "Hauptstraße 5", "10115", "Berlin"]
    write_ledger(
        tmp_path / "ledger",
        customers=[customer],
        invoices=[invoice("1", "c1", RUN_DAY - timedelta(days=1))],
        customers_header=[*CUSTOMERS_HEADER, "street", "postal_code", "city"],
    )
    services.import_ledger(app, [tmp_path / "ledger"])
    (tmp_path / "policy.toml").write_text(first_level('channels = ["letter", "email"]'), encoding="utf-8")
    services.apply_policy(app, tmp_path / "policy.toml", make_default=True)
    services.run_dunning(app, RUN_DAY)
    email = RecordingChannel("email")
    letters = LetterChannel(tmp_path / "letters")

    summary = deliverer(app, {"email": email, "letter": letters}).deliver(at(MORNING))

    assert summary.sent == {"email": 1, "letter": 1}
    [message] = email.sent
    [attachment] = message.attachments
    assert attachment.content_type == "application/pdf" and attachment.data.startswith(b"%PDF")
    [pdf] = (tmp_path / "letters" / RUN_DAY.isoformat()).glob("*.pdf")
    text = "".join(page.extract_text() for page in PdfReader(pdf).pages)
    assert "Hauptstraße 5" in text and "INV-1" in text and "100,00" in text
