"""The dashboard over HTTP, against a real server: log-in and sessions, the form secret,
what each role may do, every page on a small ledger, and each action's effect on the data.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from dashboard_support import PASSWORD, TODAY, USERS, form_secret, log_in, shop_app
from sqlalchemy import text

from local_servers import serving
from pastdue import services
from pastdue.bootstrap import App
from pastdue.core.model import HoldReason
from pastdue.services import approvals, reads
from pastdue.services.statements import list_matches
from pastdue.services.users import disable_user
from pastdue.web import create_app
from pastdue.web.dashboard import sessions


@pytest.fixture
def shop(tmp_path: Path) -> Iterator[App]:
    app = shop_app(tmp_path)
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


def running_holds(app: App) -> list[dict[str, object]]:
    return services.active_holds(app, TODAY)


def notice_status(app: App, customer_id: str, channel: str) -> str:
    (found,) = [n for n in reads.notices(app) if n.customer_id == customer_id and n.channel == channel]
    return found.status


# --- log-in, sessions, form secrets ---------------------------------------------------------


def test_every_page_sends_a_visitor_without_a_session_to_the_login(http: httpx.Client) -> None:
    for path in ("/", "/worklist", "/customers/alice", "/approvals", "/matches", "/policy"):
        answer = http.get(path)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/login?next=")


def test_logging_in_returns_to_the_page_asked_for_and_sets_a_guarded_cookie(http: httpx.Client) -> None:
    page = http.get("/login?next=/worklist")
    sent = {"csrf": form_secret(page.text), "email": "Carl@Shop.example", "password": PASSWORD, "next": "/worklist"}
    answer = http.post("/login", data=sent)

    assert answer.status_code == 303 and answer.headers["location"] == "/worklist"
    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith(sessions.SESSION_COOKIE))
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # served over http here
    assert USERS["collector"] in http.get("/worklist").text


def test_a_wrong_password_and_an_unknown_address_get_the_same_answer(http: httpx.Client) -> None:
    answers = []
    for email in (USERS["admin"], "nobody@shop.example"):
        page = http.get("/login")
        answers.append(http.post("/login", data={"csrf": form_secret(page.text), "email": email, "password": "x" * 20}))

    assert [a.status_code for a in answers] == [401, 401]
    assert all("Wrong e-mail address or password." in a.text for a in answers)
    assert not any(sessions.SESSION_COOKIE in c for a in answers for c in a.headers.get_list("set-cookie"))
    assert http.get("/").status_code == 303


def test_a_login_without_the_form_secret_is_refused(http: httpx.Client) -> None:
    http.get("/login")
    answer = http.post("/login", data={"email": USERS["admin"], "password": PASSWORD})
    assert answer.status_code == 403
    assert http.get("/").status_code == 303


def test_login_never_sends_anyone_to_another_site(http: httpx.Client) -> None:
    page = http.get("/login")
    sent = {"csrf": form_secret(page.text), "email": USERS["viewer"], "password": PASSWORD, "next": "//evil.example/"}
    assert http.post("/login", data=sent).headers["location"] == "/"


def test_logging_out_ends_the_session(http: httpx.Client) -> None:
    csrf = log_in(http, "viewer")
    answer = http.post("/logout", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/login"
    assert http.get("/").status_code == 303


def test_an_altered_session_cookie_counts_for_nothing(http: httpx.Client) -> None:
    log_in(http, "viewer")
    value = http.cookies[sessions.SESSION_COOKIE]
    body, _, mac = value.partition(".")
    http.cookies.set(sessions.SESSION_COOKIE, f"{body}x.{mac}", domain="127.0.0.1")
    assert http.get("/").status_code == 303


def test_a_disabled_user_is_out_at_the_next_request(shop: App, http: httpx.Client) -> None:
    log_in(http, "collector")
    disable_user(shop, USERS["collector"])
    assert http.get("/worklist").status_code == 303


def test_a_form_without_the_session_secret_or_from_another_site_changes_nothing(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    missing = http.post("/customers/alice/holds", data={"reason": "manual"})
    wrong = http.post("/customers/alice/holds", data={"reason": "manual", "csrf": "forged"})
    foreign = http.post(
        "/customers/alice/holds", data={"reason": "manual", "csrf": csrf}, headers={"Origin": "https://evil.example"}
    )
    assert [a.status_code for a in (missing, wrong, foreign)] == [403, 403, 403]
    assert running_holds(shop) == []


# --- roles ----------------------------------------------------------------------------------


def test_a_viewer_reads_every_page_but_sees_no_action_and_may_do_none(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "viewer")
    customer = http.get("/customers/alice").text
    assert "Place hold" not in customer and "Record call" not in customer
    assert "Approve</button>" not in http.get("/approvals").text

    refused = [
        http.post("/customers/alice/holds", data={"reason": "manual", "csrf": csrf}),
        http.post("/customers/alice/calls", data={"outcome": "reached", "csrf": csrf}),
    ]
    assert [a.status_code for a in refused] == [403, 403]
    assert running_holds(shop) == [] and audit(shop, "call") == []


def test_only_an_admin_decides_the_approval_queue(shop: App, http: httpx.Client) -> None:
    (waiting,) = approvals.waiting(shop)
    csrf = log_in(http, "collector")
    assert http.post(f"/approvals/{waiting['id']}/approve", data={"csrf": csrf}).status_code == 403
    assert notice_status(shop, "bob", "email") == "awaiting_approval"


# --- pages ----------------------------------------------------------------------------------


def test_home_shows_overdue_totals_aging_charts_dso_and_todays_run(http: httpx.Client) -> None:
    log_in(http, "viewer")
    page = http.get("/")

    assert page.status_code == 200
    assert "default-src 'none'" in page.headers["content-security-policy"]
    html = page.text
    assert "1,139.99 EUR" in html and "of 1,149.99 EUR open" in html  # overdue EUR; Carol's is not due yet
    assert html.count("<svg") == 4  # aging and DSO, for EUR and USD
    assert 'aria-label="Open balance by days overdue, EUR"' in html
    assert '<strong class="dso">89.2</strong>' in html  # 1149.99 / 1160.49 x 90
    assert "<td>3</td><td>phone</td>" in html  # queued today
    assert "awaiting_approval" in html


def test_home_previews_a_run_without_keeping_anything(tmp_path: Path) -> None:
    app = shop_app(tmp_path, run=False)
    with serving(create_app(app)) as http:
        log_in(http, "viewer")
        html = http.get("/").text
    assert '<p id="preview-notices">3 new notices to send; 5 invoices reviewed.</p>' in html
    assert "<td>not due</td>" in html
    assert reads.notices(app) == []
    app.engine.dispose()


def test_the_worklist_puts_the_highest_level_first_with_what_is_owed(http: httpx.Client) -> None:
    log_in(http, "viewer")
    html = http.get("/worklist").text
    alice, bob = html.index("Alice &amp; Söhne &lt;GmbH&gt;"), html.index("Bob Ltd")
    assert alice < bob
    assert "Carol" not in html  # nothing of hers is overdue
    assert "140.00 EUR<br>20.00 USD" in html
    assert "level 3 by phone" in html


def test_the_customer_page_shows_the_whole_case(http: httpx.Client) -> None:
    log_in(http, "viewer")
    html = http.get("/customers/alice").text
    for expected in ("A-001", "A-002", "A-003", "40.00 EUR", "10.50 EUR", "A-001, A-002", "phone"):
        assert expected in html
    assert "run of 2026-06-30: A-001: level 3" in html
    assert "<script" not in html and "Söhne &lt;GmbH&gt;" in html


def test_an_unknown_customer_is_a_404(http: httpx.Client) -> None:
    log_in(http, "viewer")
    assert http.get("/customers/nobody").status_code == 404


def test_the_policy_page_lists_levels_and_the_preview(http: httpx.Client) -> None:
    log_in(http, "viewer")
    html = http.get("/policy").text
    for expected in ("desk", "catch-up", "phone call", "required", "What a run today would do"):
        assert expected in html


def test_the_matches_page_lists_the_credits_nobody_matched(http: httpx.Client) -> None:
    log_in(http, "viewer")
    html = http.get("/matches").text
    assert "13.37 EUR" in html and "42.00 EUR" in html


# --- actions --------------------------------------------------------------------------------


def test_a_collector_places_and_releases_a_hold_on_one_invoice(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    sent = {"csrf": csrf, "reason": "dispute", "invoice": "A-002", "until": "2026-07-31", "note": "wrong amount"}
    answer = http.post("/customers/alice/holds", data=sent)
    assert answer.status_code == 303 and answer.headers["location"] == "/customers/alice?done=hold"

    (hold,) = running_holds(shop)
    expected = ("dispute", "a2", "2026-07-31", "wrong amount")
    assert (hold["reason"], hold["invoice_id"], hold["until"], hold["note"]) == expected
    assert audit(shop, "hold")[-1]["actor"] == USERS["collector"]
    page = http.get("/customers/alice?done=hold").text
    assert "Hold placed" in page and "dispute on A-002 until 2026-07-31" in page

    released = http.post(f"/customers/alice/holds/{hold['id']}/release", data={"csrf": csrf})
    assert released.status_code == 303
    assert running_holds(shop) == []
    assert audit(shop, "hold")[-1]["action"] == "released"


def test_a_hold_on_another_customers_invoice_is_refused(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    answer = http.post("/customers/alice/holds", data={"csrf": csrf, "reason": "manual", "invoice": "B-001"})
    assert answer.status_code == 422 and "B-001 is not an invoice of this customer" in answer.text
    assert running_holds(shop) == []


def test_releasing_a_hold_of_another_customer_is_a_404(shop: App, http: httpx.Client) -> None:
    hold_id = services.place_hold(shop, reason=HoldReason.MANUAL, customer_id="bob")
    csrf = log_in(http, "collector")
    assert http.post(f"/customers/alice/holds/{hold_id}/release", data={"csrf": csrf}).status_code == 404
    assert len(running_holds(shop)) == 1


def test_a_call_with_a_promise_is_recorded_and_holds_the_customer(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    sent = {"csrf": csrf, "outcome": "promise to pay", "promise_until": "2026-07-10", "note": "pays Friday"}
    assert http.post("/customers/alice/calls", data=sent).status_code == 303

    (call,) = audit(shop, "call")
    assert (call["subject"], call["actor"], call["outcome"], call["promise_until"]) == (
        "alice", USERS["collector"], "promise to pay", "2026-07-10",
    )  # fmt: skip
    (hold,) = running_holds(shop)
    assert (hold["customer_id"], hold["invoice_id"], hold["reason"], hold["until"]) == (
        "alice", None, "promise", "2026-07-10",
    )  # fmt: skip
    assert "call: promise to pay, pays by 2026-07-10 — pays Friday" in http.get("/customers/alice").text
    assert "promise to pay" in http.get("/worklist").text


def test_a_promise_without_a_date_is_refused_with_the_reason(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    answer = http.post("/customers/alice/calls", data={"csrf": csrf, "outcome": "promise to pay"})
    assert answer.status_code == 422
    assert "promise_until: a promise needs the day the customer will pay by" in answer.text
    assert audit(shop, "call") == [] and running_holds(shop) == []


def test_an_admin_approves_a_notice_and_it_is_queued(shop: App, http: httpx.Client) -> None:
    (waiting,) = approvals.waiting(shop)
    csrf = log_in(http, "admin")
    answer = http.post(f"/approvals/{waiting['id']}/approve", data={"csrf": csrf})
    assert answer.status_code == 303 and answer.headers["location"] == "/approvals?done=approved"
    assert notice_status(shop, "bob", "email") == "pending"
    assert audit(shop, "approval")[-1]["actor"] == USERS["admin"]
    assert "No notice is waiting for approval." in http.get("/approvals?done=approved").text


def test_an_admin_rejects_a_notice_with_a_note(shop: App, http: httpx.Client) -> None:
    (waiting,) = approvals.waiting(shop)
    csrf = log_in(http, "admin")
    http.post(f"/approvals/{waiting['id']}/reject", data={"csrf": csrf, "note": "paying today"})
    assert notice_status(shop, "bob", "email") == "rejected"
    assert audit(shop, "approval")[-1]["note"] == "paying today"


def test_approving_twice_says_why_not(shop: App, http: httpx.Client) -> None:
    (waiting,) = approvals.waiting(shop)
    csrf = log_in(http, "admin")
    http.post(f"/approvals/{waiting['id']}/approve", data={"csrf": csrf})
    again = http.post(f"/approvals/{waiting['id']}/approve", data={"csrf": csrf})
    assert again.status_code == 422 and "is pending, not awaiting_approval" in again.text


def test_a_collector_confirms_one_credit_and_rejects_another(shop: App, http: httpx.Client) -> None:
    lunch, refund = sorted(list_matches(shop), key=lambda r: r.amount.amount)
    csrf = log_in(http, "collector")

    confirmed = http.post(f"/matches/{lunch.id}/confirm", data={"csrf": csrf, "invoices": "C-001"})
    rejected = http.post(f"/matches/{refund.id}/reject", data={"csrf": csrf, "reason": "refund to make"})

    assert [confirmed.status_code, rejected.status_code] == [303, 303]
    assert list_matches(shop) == []
    (carol,) = [i for i in reads.invoices(shop) if i.number == "C-001"]
    assert carol.open_amount.amount == 0
    assert "No bank credit is waiting for a person." in http.get("/matches").text


def test_rejecting_a_credit_needs_a_reason(shop: App, http: httpx.Client) -> None:
    csrf = log_in(http, "collector")
    receipt = list_matches(shop)[0]
    answer = http.post(f"/matches/{receipt.id}/reject", data={"csrf": csrf, "reason": " "})
    assert answer.status_code == 422
    assert len(list_matches(shop)) == 2
