"""What customers raise in the portal reaches the team: disputes and payment-plan requests
on the home page and the customer page, a plan request answered; and a failed notice sent
again from the customer page. Over HTTP, against a real server."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from dashboard_support import log_in, shop_app
from portal_support import MovingClock
from sqlalchemy import text

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App
from pastdue.channels.recording import RecordingChannel
from pastdue.core.model import HoldReason
from pastdue.rendering import Renderer
from pastdue.services import dashboard, portal, reads
from pastdue.services.delivery import Deliverer
from pastdue.store.queries import NoticeRow
from pastdue.web import create_app

LATER = datetime(2026, 6, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def clock() -> MovingClock:
    return MovingClock()


@pytest.fixture
def shop(tmp_path: Path, clock: MovingClock) -> Iterator[App]:
    app = shop_app(tmp_path, clock=clock)
    yield app
    app.engine.dispose()


@pytest.fixture
def http(shop: App) -> Iterator[httpx.Client]:
    with serving(create_app(shop)) as client:
        yield client


def audit(app: App, kind: str) -> list[dict[str, object]]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT subject, actor, payload FROM audit_events WHERE tenant_id = :t AND kind = :k ORDER BY seq"),
            {"t": app.tenant, "k": kind},
        )
        return [{"subject": r.subject, "actor": r.actor, **json.loads(r.payload)} for r in rows]


def section(page: str, section_id: str) -> str:
    found = re.search(rf'<section id="{section_id}">(.*?)</section>', page, re.S)
    assert found is not None, f"no section {section_id}"
    return found.group(1)


def plan_request_statuses(app: App) -> dict[str, str]:
    with app.engine.connect() as connection:
        rows = connection.execute(
            text("SELECT id, status FROM payment_plan_requests WHERE tenant_id = :t"), {"t": app.tenant}
        )
        return {r.id: r.status for r in rows}


def notices_of(app: App, customer_id: str) -> dict[str, NoticeRow]:
    return {n.channel: n for n in reads.notices(app) if n.customer_id == customer_id}


# --- needs attention ----------------------------------------------------------------------------


def test_the_home_page_lists_portal_disputes_and_open_plan_requests_newest_first(
    shop: App, clock: MovingClock, http: httpx.Client
) -> None:
    portal.dispute_invoice(shop, "alice", "A-001", "We never received the goods")
    clock.now += timedelta(minutes=5)
    portal.dispute_invoice(shop, "carol", "C-001", "Wrong price <b>")
    portal.request_payment_plan(shop, "bob", 6, "Cash flow is tight")
    # A dispute a collector placed is already known to the team: not listed.
    services.place_hold(shop, reason=HoldReason.DISPUTE, invoice_number="A-002", note="by phone", actor="carl")
    log_in(http, "viewer")

    attention = section(http.get("/").text, "attention")

    disputes = re.findall(r'<tr class="dispute">(.*?)</tr>', attention, re.S)
    assert len(disputes) == 2
    assert "C-001" in disputes[0] and "Wrong price &lt;b&gt;" in disputes[0]  # newest first, escaped
    assert "A-001" in disputes[1] and 'href="/customers/alice"' in disputes[1]
    assert "by phone" not in attention
    (plan,) = re.findall(r'<tr class="plan-request">(.*?)</tr>', attention, re.S)
    assert 'href="/customers/bob"' in plan and ">6<" in plan and "Cash flow is tight" in plan


def test_a_released_dispute_and_a_decided_request_leave_the_list(shop: App, http: httpx.Client) -> None:
    hold = portal.dispute_invoice(shop, "alice", "A-001", "Never received")
    request = portal.request_payment_plan(shop, "bob", 3, "")
    services.release_hold(shop, hold, actor="carl")
    dashboard.decide_plan_request(shop, "bob", request, "declined", "balance too small", "carl")
    log_in(http, "viewer")
    assert "Nothing customers raised in the portal is waiting." in section(http.get("/").text, "attention")


# --- payment-plan requests on the customer page ------------------------------------------------------


def test_a_collector_accepts_a_plan_request_with_a_note_on_record(shop: App, http: httpx.Client) -> None:
    request = portal.request_payment_plan(shop, "bob", 6, "Cash flow is tight")
    csrf = log_in(http, "collector")
    page = http.get("/customers/bob").text
    assert "6 instalments — Cash flow is tight" in section(page, "plan-requests")
    assert f'action="/customers/bob/plan-requests/{request}"' in page

    answer = http.post(
        f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "accepted", "note": "6 x 166.67"}
    )

    assert answer.status_code == 303 and answer.headers["location"] == "/customers/bob?done=plan-accepted"
    assert plan_request_statuses(shop) == {request: "accepted"}
    (event,) = audit(shop, "plan request")
    assert event["subject"] == "bob" and event["actor"] == "carl@shop.example"
    assert (event["request"], event["decision"], event["note"]) == (request, "accepted", "6 x 166.67")
    page = http.get("/customers/bob?done=plan-accepted").text
    assert "place a payment-plan hold" in page and "payment-plan request accepted — 6 x 166.67" in page
    assert f'action="/customers/bob/plan-requests/{request}"' not in page  # decided: no more buttons


def test_deciding_a_plan_request_is_checked(shop: App, http: httpx.Client) -> None:
    request = portal.request_payment_plan(shop, "bob", 6, "")
    csrf = log_in(http, "collector")

    no_reason = http.post(f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "declined"})
    made_up = http.post(f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "maybe"})
    elsewhere = http.post(
        f"/customers/alice/plan-requests/{request}", data={"csrf": csrf, "decision": "accepted", "note": ""}
    )

    assert [no_reason.status_code, made_up.status_code, elsewhere.status_code] == [422, 422, 404]
    assert "say why" in no_reason.text
    assert plan_request_statuses(shop) == {request: "open"}
    assert (
        http.post(
            f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "declined", "note": "no"}
        ).status_code
        == 303
    )
    again = http.post(f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "accepted"})
    assert again.status_code == 404  # decided once
    assert [e["decision"] for e in audit(shop, "plan request")] == ["declined"]


def test_a_viewer_sees_plan_requests_but_cannot_decide_them(shop: App, http: httpx.Client) -> None:
    request = portal.request_payment_plan(shop, "bob", 6, "")
    csrf = log_in(http, "viewer")
    assert "6 instalments" in http.get("/customers/bob").text
    assert "plan-requests/" not in http.get("/customers/bob").text
    refused = http.post(f"/customers/bob/plan-requests/{request}", data={"csrf": csrf, "decision": "accepted"})
    assert refused.status_code == 403 and plan_request_statuses(shop) == {request: "open"}


# --- sending a notice again --------------------------------------------------------------------------


def failed_phone_notice(shop: App) -> str:
    """Deliver with e-mail only: Alice's e-mail goes out, her phone notice fails for good."""
    Deliverer(shop, {"email": RecordingChannel()}, Renderer()).deliver(lambda: LATER)
    found = notices_of(shop, "alice")
    assert (found["email"].status, found["phone"].status) == ("sent", "failed")
    return found["phone"].id


def test_a_collector_sends_a_failed_notice_again_and_it_goes_out(shop: App, http: httpx.Client) -> None:
    failed = failed_phone_notice(shop)
    csrf = log_in(http, "collector")
    page = http.get("/customers/alice").text
    assert page.count("Send again") == 1 and f"/customers/alice/notices/{failed}/resend" in page

    answer = http.post(f"/customers/alice/notices/{failed}/resend", data={"csrf": csrf, "note": "phone set up"})

    assert answer.status_code == 303 and answer.headers["location"] == "/customers/alice?done=resent"
    notice = notices_of(shop, "alice")["phone"]
    assert (notice.status, notice.attempts, notice.error) == ("pending", 0, None)
    event = audit(shop, "delivery")[-1]
    assert event["subject"] == failed and event["actor"] == "carl@shop.example"
    assert (event["outcome"], event["from"], event["reason"]) == ("resend requested", "failed", "phone set up")
    assert "phone notice (level 3): resend requested" in http.get("/customers/alice").text

    phone = RecordingChannel("phone")
    Deliverer(shop, {"email": RecordingChannel(), "phone": phone}, Renderer()).deliver(lambda: LATER)
    assert [m.notice_id for m in phone.sent] == [failed]
    assert notices_of(shop, "alice")["phone"].status == "sent"


def test_only_failed_or_suppressed_notices_of_that_customer_can_be_sent_again(shop: App, http: httpx.Client) -> None:
    failed_phone_notice(shop)
    sent = notices_of(shop, "alice")["email"].id
    waiting = notices_of(shop, "bob")["email"].id  # awaiting approval
    failed = notices_of(shop, "alice")["phone"].id
    csrf = log_in(http, "collector")

    again = http.post(f"/customers/alice/notices/{sent}/resend", data={"csrf": csrf})
    approval = http.post(f"/customers/bob/notices/{waiting}/resend", data={"csrf": csrf})
    elsewhere = http.post(f"/customers/bob/notices/{failed}/resend", data={"csrf": csrf})

    assert [again.status_code, approval.status_code, elsewhere.status_code] == [422, 422, 404]
    assert "is sent, not failed or suppressed" in again.text
    statuses = {n.id: n.status for n in reads.notices(shop)}
    assert (statuses[sent], statuses[waiting], statuses[failed]) == ("sent", "awaiting_approval", "failed")
    assert not [e for e in audit(shop, "delivery") if e["outcome"] == "resend requested"]


def test_a_viewer_cannot_send_a_notice_again(shop: App, http: httpx.Client) -> None:
    failed = failed_phone_notice(shop)
    csrf = log_in(http, "viewer")
    assert "Send again" not in http.get("/customers/alice").text
    assert http.post(f"/customers/alice/notices/{failed}/resend", data={"csrf": csrf}).status_code == 403
    assert notices_of(shop, "alice")["phone"].status == "failed"
