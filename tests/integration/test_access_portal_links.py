"""Portal links a person hands out: signed, expiring, revocable, and bound to their tenant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest
from access_support import MovingClock, add_customers, audit_events, audit_text, rows

from pastdue import services
from pastdue.bootstrap import App
from pastdue.errors import AccessDenied, ProblemsFound
from pastdue.links import portal_token, tenant_secret
from pastdue.services.portal_links import create_portal_link, resolve_portal_token, revoke_portal_links
from pastdue.store import outbox

pytest_plugins = ["access_fixtures"]


@pytest.fixture
def shop(access_app: App, tmp_path: Path) -> App:
    add_customers(access_app, tmp_path / "ledger", "C1", "C2")
    return access_app


def _token(url: str) -> str:
    return url.rsplit("/", 1)[1]


def _refusal(app: App, token: str) -> str:
    with pytest.raises(AccessDenied) as refused:
        resolve_portal_token(app, token)
    return refused.value.reason


def _link_secret(app: App) -> str:
    with app.engine.connect() as connection:
        return tenant_secret(app.settings.secret_key, outbox.profile(connection, app.tenant))


def test_a_link_opens_the_portal_of_its_customer_for_thirty_days(shop: App, moving_clock: MovingClock) -> None:
    url = create_portal_link(shop, "C1")

    assert url.startswith("http://127.0.0.1:8000/portal/access/")
    assert resolve_portal_token(shop, _token(url)) == "C1"
    [row] = rows(shop, "portal_tokens")
    assert row["customer_id"] == "C1"
    assert row["expires_at"] == (moving_clock.now + timedelta(days=30)).isoformat(timespec="microseconds")
    assert _token(url).split(".")[:2] == [shop.tenant, row["id"]]
    [event] = audit_events(shop, "portal link")
    assert event == {
        "subject": "C1",
        "actor": "person",
        "action": "created",
        "token": row["id"],
        "expires_at": (moving_clock.now + timedelta(days=30)).isoformat(),
    }
    assert _token(url).rsplit(".", 1)[1] not in audit_text(shop)  # the signature is never logged
    before = services.verify_audit(shop)
    resolve_portal_token(shop, _token(url))
    assert services.verify_audit(shop) == before  # opening a link changes nothing


def test_the_link_uses_the_public_base_url(shop: App) -> None:
    public = dataclasses.replace(
        shop, settings=dataclasses.replace(shop.settings, base_url="https://pay.acme.example/")
    )

    url = create_portal_link(public, "C2", days_valid=7)

    assert url.startswith("https://pay.acme.example/portal/access/")
    assert resolve_portal_token(public, _token(url)) == "C2"


def test_a_link_expires_when_its_days_are_up(shop: App, moving_clock: MovingClock) -> None:
    token = _token(create_portal_link(shop, "C1", days_valid=2))

    moving_clock.advance(days=2, seconds=-1)
    assert resolve_portal_token(shop, token) == "C1"
    moving_clock.advance(seconds=1)
    assert _refusal(shop, token) == "expired"
    moving_clock.advance(days=400)
    assert _refusal(shop, token) == "expired"


def test_revoking_withdraws_every_link_of_the_customer_and_only_those(shop: App) -> None:
    first, second = (_token(create_portal_link(shop, "C1")) for _ in range(2))
    other = _token(create_portal_link(shop, "C2"))

    assert revoke_portal_links(shop, "C1", actor="cli:root") == 2
    assert revoke_portal_links(shop, "C1") == 0

    assert _refusal(shop, first) == _refusal(shop, second) == "revoked"
    assert resolve_portal_token(shop, other) == "C2"
    revoked = [e for e in audit_events(shop, "portal link") if e["action"] == "revoked"]
    assert len(revoked) == 1
    assert (revoked[0]["subject"], revoked[0]["actor"], len(revoked[0]["tokens"])) == ("C1", "cli:root", 2)
    # A new link after the revocation works: revoking is about the links handed out so far.
    assert resolve_portal_token(shop, _token(create_portal_link(shop, "C1"))) == "C1"


def _tamper(token: str, part: int, change: Callable[[str], str]) -> str:
    parts = token.split(".")
    parts[part] = change(parts[part])
    return ".".join(parts)


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (lambda t: _tamper(t, 1, lambda p: p[:-1] + ("A" if p[-1] != "A" else "B")), "bad signature"),  # the row
        (lambda t: _tamper(t, 2, lambda p: str(int(p) + 86400 * 365)), "bad signature"),  # a later expiry
        (lambda t: _tamper(t, 3, lambda p: p[:-1] + ("A" if p[-1] != "A" else "B")), "bad signature"),
        (lambda t: _tamper(t, 0, lambda p: p + "x"), "bad signature"),  # another tenant's name
        (lambda t: t[:-1], "malformed"),
        (lambda t: t + ".x", "malformed"),
        (lambda t: "", "malformed"),
        (lambda t: t.replace(".", "/"), "malformed"),
    ],
)
def test_a_tampered_token_is_refused(shop: App, tamper: Callable[[str], str], reason: str) -> None:
    token = _token(create_portal_link(shop, "C1"))

    assert _refusal(shop, tamper(token)) == reason


def test_a_validly_signed_token_for_no_row_is_refused(shop: App, moving_clock: MovingClock) -> None:
    made_up = portal_token(_link_secret(shop), shop.tenant, "nosuchrow123", moving_clock.now + timedelta(days=1))

    assert _refusal(shop, made_up) == "unknown link"


def test_a_link_to_a_customer_no_longer_on_file_is_refused(shop: App) -> None:
    token = _token(create_portal_link(shop, "C2"))
    _remove_customer_behind_the_keys_back(shop, "C2")

    assert _refusal(shop, token) == "unknown customer"


def _remove_customer_behind_the_keys_back(app: App, customer_id: str) -> None:
    """What a restore of an old backup could leave: a link whose customer is gone. The
    foreign key forbids it, so it is switched off for this one connection, which is then
    thrown away rather than returned to the pool."""
    raw = app.engine.raw_connection()
    try:
        cursor = raw.cursor()
        if app.engine.dialect.name == "sqlite":
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("DELETE FROM customers WHERE tenant_id = ? AND id = ?", (app.tenant, customer_id))
        else:
            cursor.execute("SET session_replication_role = replica")
            cursor.execute("DELETE FROM customers WHERE tenant_id = %s AND id = %s", (app.tenant, customer_id))
        raw.commit()
    finally:
        raw.invalidate()


def test_a_link_of_one_tenant_never_opens_another_even_with_a_shared_secret(
    tenant_app: Callable[[str | None], App], tmp_path: Path
) -> None:
    acme = tenant_app(None)
    other = tenant_app("other-" + acme.tenant)
    for app in (acme, other):
        add_customers(app, tmp_path / app.tenant, "C1")
    token = _token(create_portal_link(acme, "C1"))

    assert _refusal(other, token) == "bad signature"
    assert _refusal(other, token.replace(acme.tenant, other.tenant, 1)) == "bad signature"
    # Tenants that share PASTDUE_SECRET_KEY still sign their own tenant into each token.
    shared = [dataclasses.replace(a, settings=dataclasses.replace(a.settings, secret_key="one")) for a in (acme, other)]
    shared_token = _token(create_portal_link(shared[0], "C1"))
    assert resolve_portal_token(shared[0], shared_token) == "C1"
    assert _refusal(shared[1], shared_token) == "bad signature"
    assert _refusal(shared[1], shared_token.replace(acme.tenant, other.tenant, 1)) == "bad signature"
    assert revoke_portal_links(other, "C1") == 0
    assert resolve_portal_token(acme, token) == "C1"


def test_bad_input_is_refused_with_every_problem_named_and_nothing_stored(shop: App) -> None:
    with pytest.raises(ProblemsFound) as refused:
        create_portal_link(shop, "nobody", days_valid=0)

    assert [str(p) for p in refused.value.problems] == [
        "portal link: days: must be between 1 and 366",
        "portal link: customer_id: no customer 'nobody' in this tenant",
    ]
    with pytest.raises(ProblemsFound, match="days"):
        create_portal_link(shop, "C1", days_valid=367)
    with pytest.raises(ProblemsFound, match="customer_id"):
        revoke_portal_links(shop, "nobody")
    assert rows(shop, "portal_tokens") == []
    assert audit_events(shop, "portal link") == []
