"""Reading through the REST API: every listing and object, filters, expansion and pages."""

from __future__ import annotations

from api_support import AS_OF, World, queue_credit

from pastdue import services
from pastdue.channels.recording import RecordingChannel
from pastdue.rendering import Renderer
from pastdue.services.delivery import Deliverer
from pastdue.services.dunning_run import run_dunning

pytest_plugins = ["api_fixtures"]


def test_customers_are_listed_and_shown(world: World) -> None:
    listed = world.get("/customers").json()
    assert (listed["object"], listed["has_more"], listed["next_cursor"]) == ("list", False, None)
    assert [c["id"] for c in listed["data"]] == ["acme", "beta"]
    acme = world.get("/customers/acme").json()
    assert acme == listed["data"][0]
    assert (acme["object"], acme["name"], acme["country"], acme["kind"]) == ("customer", "Acme GmbH", "DE", "business")
    assert set(acme["address"]) == {"street", "postal_code", "city"}


def test_invoices_show_money_as_decimal_strings_with_their_currency(world: World) -> None:
    invoice = world.get("/invoices/i2").json()
    assert invoice["object"] == "invoice" and invoice["number"] == "INV-2"
    assert invoice["amount"] == {"amount": "50.00", "currency": "EUR"}
    assert invoice["open_amount"] == {"amount": "0.00", "currency": "EUR"}
    assert (invoice["status"], invoice["due_on"], invoice["customer"]) == ("paid", "2026-06-04", None)


def test_invoices_filter_by_status_customer_and_due_dates(world: World) -> None:
    def ids(**params: str) -> list[str]:
        response = world.get("/invoices", **params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["data"]]

    assert ids() == ["i1", "i2", "i3"]
    assert ids(status="open") == ["i1", "i3"]
    assert ids(status="paid") == ["i2"]
    assert ids(customer_id="acme") == ["i1", "i2"]
    assert ids(due_before="2026-06-04") == ["i1"]
    assert ids(due_after="2026-06-04") == ["i3"]
    assert ids(status="open", customer_id="acme", due_after="2026-05-01") == ["i1"]


def test_an_invoice_expands_its_customer(world: World) -> None:
    plain = world.get("/invoices/i3").json()
    expanded = world.get("/invoices/i3", expand="customer").json()
    assert plain["customer"] is None and plain["customer_id"] == "beta"
    assert expanded["customer"] == world.get("/customers/beta").json()
    listed = world.get("/invoices", expand="customer").json()["data"]
    assert [i["customer"]["name"] for i in listed] == ["Acme GmbH", "Acme GmbH", "Beta Ltd"]


def test_pages_walk_every_object_once_with_an_opaque_cursor(world: World) -> None:
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": "2"} | ({"starting_after": cursor} if cursor else {})
        body = world.get("/invoices", **params).json()
        seen += [i["id"] for i in body["data"]]
        pages += 1
        if not body["has_more"]:
            assert body["next_cursor"] is None
            break
        cursor = body["next_cursor"]
        assert isinstance(cursor, str) and cursor not in seen  # a token, not the id itself
    assert (seen, pages) == (["i1", "i2", "i3"], 2)
    refused = world.get("/invoices", starting_after="not-a-cursor")
    assert refused.status_code == 400 and refused.json()["code"] == "invalid_cursor"
    assert refused.json()["errors"] == [{"field": "starting_after", "message": "unknown cursor"}]
    over = world.get("/invoices", limit=101)
    assert over.status_code == 422 and over.json()["errors"][0]["field"] == "limit"


def test_payments_show_what_they_pay(world: World) -> None:
    recorded = world.post(
        "/payments",
        {"amount": {"amount": "120.00", "currency": "EUR"}, "received_on": "2026-06-30", "customer_id": "acme"},
    ).json()
    listed = world.get("/payments").json()["data"]
    assert [p["id"] for p in listed] == [recorded["id"]]  # ledger rows are not money in
    payment = world.get(f"/payments/{recorded['id']}").json()
    assert payment == listed[0] == recorded
    assert payment["allocations"] == [
        {"invoice_id": "i1", "invoice_number": "INV-1", "amount": {"amount": "100.00", "currency": "EUR"}}
    ]
    assert payment["unapplied"] == {"amount": "20.00", "currency": "EUR"}
    assert world.get("/payments", customer_id="beta").json()["data"] == []
    assert world.get("/payments", status="reversed").json()["data"] == []


def test_notices_are_listed_with_their_delivery_state(world: World) -> None:
    assert world.get("/notices").json()["data"] == []
    run_dunning(world.a, AS_OF)
    [notice] = world.get("/notices").json()["data"]
    assert (notice["object"], notice["customer_id"], notice["channel"], notice["level"]) == (
        "notice",
        "acme",
        "email",
        1,
    )
    assert (notice["status"], notice["invoices"], notice["created_on"]) == ("pending", ["INV-1"], "2026-06-30")
    assert world.get(f"/notices/{notice['id']}").json() == notice
    assert world.get("/notices", status="sent").json()["data"] == []
    assert world.get("/notices", status="pending", customer_id="acme").json()["data"] == [notice]


def test_holds_are_listed_running_and_ended(world: World) -> None:
    hold_id = services.place_hold(world.a, reason=services.holds.HoldReason.PROMISE, customer_id="beta")
    hold = world.get(f"/holds/{hold_id}").json()
    assert (hold["object"], hold["customer_id"], hold["invoice_id"], hold["reason"]) == (
        "hold",
        "beta",
        None,
        "promise",
    )
    assert (hold["active"], hold["ended"], hold["ended_at"]) == (True, None, None)
    services.release_hold(world.a, hold_id)
    assert world.get("/holds", active="true").json()["data"] == []
    [ended] = world.get("/holds", active="false", customer_id="beta").json()["data"]
    assert (ended["id"], ended["active"], ended["ended"]) == (hold_id, False, "released")


def test_matches_show_the_bank_credits_waiting_for_a_person(world: World) -> None:
    queue_credit(world.a, "credit-1", "30.00", remittance="INV 3?")
    [match] = world.get("/matches").json()["data"]
    assert (match["object"], match["id"], match["status"]) == ("match", "credit-1", "unmatched")
    assert (match["amount"], match["remittance"]) == ({"amount": "30.00", "currency": "EUR"}, "INV 3?")
    assert world.get("/matches/credit-1").json() == match
    assert world.get("/matches", status="rejected").json()["data"] == []


def test_audit_events_page_through_the_chain_in_order(world: World) -> None:
    first = world.get("/audit-events", limit=2).json()
    assert [e["seq"] for e in first["data"]] == [1, 2] and first["has_more"]
    rest = world.get("/audit-events", limit=100, starting_after=first["next_cursor"]).json()
    assert rest["data"][0]["seq"] == 3 and not rest["has_more"]
    kinds = {e["kind"] for e in first["data"] + rest["data"]}
    assert "api key" in kinds
    keyed = world.get("/audit-events", kind="api key", subject=world.key_ids["a"]).json()["data"]
    assert [(e["actor"], e["payload"]["action"]) for e in keyed] == [("person", "created")]
    # A cursor of another listing's kind is refused, not misread.
    invoices_cursor = world.get("/invoices", limit=1).json()["next_cursor"]
    assert world.get("/audit-events", starting_after=invoices_cursor).status_code == 400


def test_a_notice_shows_its_delivery_and_expands_its_customer_and_history(world: World) -> None:
    run_dunning(world.a, AS_OF)
    channels = {name: RecordingChannel(name) for name in ("email", "sms", "letter", "phone")}
    Deliverer(world.a, channels, Renderer(), email_domain="billing.example").deliver()  # type: ignore[arg-type]
    [listed] = world.get("/notices").json()["data"]
    notice = world.get(f"/notices/{listed['id']}").json()
    assert notice == listed
    assert (notice["status"], notice["attempts"], notice["resends"], notice["error"]) == ("sent", 1, 0, None)
    assert notice["contact"] and notice["sent_at"] and notice["provider_id"]
    assert (notice["policy"], notice["policy_version"], notice["next_attempt_at"]) == ("standard", 1, None)
    assert (notice["customer"], notice["events"]) == (None, None)
    expanded = world.get(f"/notices/{listed['id']}", expand=["customer", "events"]).json()
    assert expanded["customer"] == world.get("/customers/acme").json()
    assert [(e["kind"], e["payload"]["outcome"]) for e in expanded["events"]] == [("delivery", "sent")]
    [in_list] = world.get("/notices", expand="customer").json()["data"]
    assert in_list["customer"]["id"] == "acme" and in_list["events"] is None


def test_notices_payments_and_audit_events_filter_by_date(world: World) -> None:
    run_dunning(world.a, AS_OF)
    assert len(world.get("/notices", created_after="2026-06-29").json()["data"]) == 1
    assert world.get("/notices", created_after="2026-06-30").json()["data"] == []
    assert world.get("/notices", created_before="2026-06-30").json()["data"] == []
    for day in ("2026-06-01", "2026-06-15"):
        world.post("/payments", {"amount": {"amount": "1.00", "currency": "EUR"}, "received_on": day,
                                 "customer_id": "acme"})  # fmt: skip

    def received(**params: str) -> list[str]:
        return [p["received_on"] for p in world.get("/payments", **params).json()["data"]]

    assert sorted(received()) == ["2026-06-01", "2026-06-15"]
    assert received(received_after="2026-06-01") == ["2026-06-15"]
    assert received(received_before="2026-06-15") == ["2026-06-01"]
    assert received(received_after="2026-06-01", received_before="2026-06-15") == []
    events = world.get("/audit-events", limit=100).json()["data"]
    assert {e["at"] for e in events} == {"2026-06-30T09:00:00+00:00"}  # the tests' fixed clock
    assert len(world.get("/audit-events", limit=100, after="2026-06-30T08:59:59Z").json()["data"]) == len(events)
    assert world.get("/audit-events", after="2026-06-30T09:00:00Z").json()["data"] == []
    assert world.get("/audit-events", before="2026-06-30T11:00:00+02:00").json()["data"] == []  # 09:00 UTC
    assert len(world.get("/audit-events", limit=100, before="2026-06-30T09:00:01").json()["data"]) == len(events)
    assert world.get("/payments", received_after="June").status_code == 422


def test_reports_age_open_balances_and_measure_dso_per_currency(world: World) -> None:
    aging = world.get("/reports/aging", as_of="2026-06-30").json()
    assert (aging["object"], aging["as_of"], aging["buckets"][0]) == ("aging_report", "2026-06-30", "not_yet_due")
    [eur] = aging["currencies"]
    assert eur == {
        "currency": "EUR",
        "buckets": {"not_yet_due": "30.00", "1-30": "100.00", "31-60": "0.00", "61-90": "0.00", "over_90": "0.00"},
        "total": "130.00",
    }
    later = world.get("/reports/aging", as_of="2026-09-01").json()["currencies"][0]["buckets"]
    assert (later["61-90"], later["over_90"]) == ("30.00", "100.00")  # 62 and 93 days overdue
    assert world.get("/reports/aging").json()["as_of"] == AS_OF.isoformat()  # today, by the server's clock
    dso = world.get("/reports/dso", as_of="2026-06-30", days=90).json()
    assert (dso["object"], dso["days"]) == ("dso_report", 90)
    [row] = dso["currencies"]
    # Invoiced 180.00 in the 90 days, 50.00 paid: 130 / 180 * 90 = 65.0 days.
    assert (row["receivable"], row["sales"], row["dso"]) == (
        {"amount": "130.00", "currency": "EUR"},
        {"amount": "180.00", "currency": "EUR"},
        "65.0",
    )
    assert world.get("/reports/dso", as_of="2026-06-30", days=1).json()["currencies"][0]["dso"] is None
    assert world.get("/reports/dso", as_of="0001-01-01").json()["currencies"][0]["dso"] is None
    assert world.get("/reports/dso", days=0).status_code == 422
    assert world.get("/reports/aging", key="a_write").status_code == 403
    assert (
        world.get("/reports/aging", key="b").json()["currencies"][0]["total"] == "85.00"
    )  # B's own: 90.00 less 5.00 paid
