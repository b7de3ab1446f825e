"""API keys: shown once, stored as a SHA-256 only, checked per request, revoked, and bound
to their tenant."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable
from datetime import timedelta

import pytest
from access_support import MovingClock, audit_events, audit_text, rows

from pastdue import services
from pastdue.bootstrap import App
from pastdue.core.access import Scope
from pastdue.errors import NotFound, ProblemsFound
from pastdue.services.api_keys import authenticate_key, create_api_key, list_api_keys, revoke_api_key

pytest_plugins = ["access_fixtures"]


def _other_character(key: str, index: int) -> str:
    swapped = "B" if key[index] == "A" else "A"
    return key[:index] + swapped + key[index + 1 :]


def test_a_key_is_shown_once_and_only_its_sha256_is_stored(access_app: App) -> None:
    key_id, key = create_api_key(access_app, " Zapier ", ["write", "read", "read"])

    assert key_id.startswith("pd_live_") and len(key_id) == 16
    prefix, tenant, secret = key.split(".")
    assert (prefix, tenant, len(secret)) == (key_id, access_app.tenant, 43)
    [row] = rows(access_app, "api_keys")
    assert row["id"] == key_id
    assert (row["name"], row["scopes"]) == ("Zapier", "read write")
    assert row["secret_hash"] == hashlib.sha256(key.encode()).hexdigest()
    assert all(secret not in str(value) for value in row.values())
    assert audit_events(access_app, "api key") == [
        {"subject": key_id, "actor": "person", "action": "created", "name": "Zapier", "scopes": ["read", "write"]}
    ]
    logged = audit_text(access_app)
    assert secret not in logged and row["secret_hash"] not in logged
    listed = list_api_keys(access_app)
    assert [k.id for k in listed] == [key_id]
    assert {f.name for f in dataclasses.fields(listed[0])} == {
        "tenant",
        "id",
        "name",
        "scopes",
        "created_at",
        "last_used_at",
        "revoked_at",
    }


def test_a_key_authenticates_as_its_tenant_with_its_scopes(access_app: App) -> None:
    key_id, key = create_api_key(access_app, "reports", ["read"])

    found = authenticate_key(access_app, key)
    assert found is not None
    assert (found.tenant, found.id, found.scopes, found.active) == (access_app.tenant, key_id, (Scope.READ,), True)
    # A front door for many tenants learns the tenant from the key alone.
    by_engine = authenticate_key(access_app.engine, f"  {key}\n", now=access_app.clock() + timedelta(hours=1))
    assert by_engine is not None and by_engine.tenant == access_app.tenant


@pytest.mark.parametrize(
    "mangle",
    [
        lambda key: _other_character(key, len(key) - 1),  # the secret
        lambda key: _other_character(key, 10),  # the id
        lambda key: key[:-1],
        lambda key: key + "A",
        lambda key: key.replace("pd_live_", "pd_test_"),
        lambda key: key.split(".", 1)[1],
        lambda key: "",
        lambda key: "Bearer " + key,
        lambda key: key * 3,
    ],
)
def test_a_changed_or_malformed_key_is_refused(access_app: App, mangle: Callable[[str], str]) -> None:
    _key_id, key = create_api_key(access_app, "", ["read"])

    assert authenticate_key(access_app, mangle(key)) is None
    assert authenticate_key(access_app.engine, mangle(key)) is None
    assert rows(access_app, "api_keys")[0]["last_used_at"] is None


def test_a_revoked_key_stops_working_at_once(access_app: App, moving_clock: MovingClock) -> None:
    key_id, key = create_api_key(access_app, "old integration", ["read", "write"])
    assert authenticate_key(access_app, key) is not None
    moving_clock.advance(hours=1)

    assert revoke_api_key(access_app, key_id, actor="cli:root") is True
    assert revoke_api_key(access_app, key_id) is False

    assert authenticate_key(access_app, key) is None
    assert authenticate_key(access_app.engine, key) is None
    [listed] = list_api_keys(access_app)
    assert listed.revoked_at == moving_clock.now and not listed.active
    assert [(e["action"], e["actor"]) for e in audit_events(access_app, "api key")] == [
        ("created", "person"),
        ("revoked", "cli:root"),
    ]
    with pytest.raises(NotFound, match="no API key"):
        revoke_api_key(access_app, "pd_live_00000000")


def test_last_use_is_written_at_most_once_a_minute(access_app: App, moving_clock: MovingClock) -> None:
    _key_id, key = create_api_key(access_app, "", ["read"])
    first = moving_clock.now

    found = authenticate_key(access_app, key)
    assert found is not None and found.last_used_at == first
    moving_clock.advance(seconds=59)
    again = authenticate_key(access_app, key)
    assert again is not None and again.last_used_at == first
    assert list_api_keys(access_app)[0].last_used_at == first

    moving_clock.advance(seconds=2)
    later = authenticate_key(access_app, key)
    assert later is not None and later.last_used_at == first + timedelta(seconds=61)
    assert list_api_keys(access_app)[0].last_used_at == first + timedelta(seconds=61)
    assert services.verify_audit(access_app) == 1  # uses are not changes: only the creation is audited


def test_a_key_of_one_tenant_never_authenticates_in_another(tenant_app: Callable[[str | None], App]) -> None:
    acme = tenant_app(None)
    other = tenant_app("other-" + acme.tenant)
    acme_id, acme_key = create_api_key(acme, "", ["admin"])
    other_id, other_key = create_api_key(other, "", ["read"])
    acme_secret = acme_key.rsplit(".", 1)[1]

    assert authenticate_key(other, acme_key) is None
    assert authenticate_key(acme, other_key) is None
    # Naming the other tenant in the key does not move the key there.
    for forged in (f"{acme_id}.{other.tenant}.{acme_secret}", f"{other_id}.{other.tenant}.{acme_secret}"):
        assert authenticate_key(other, forged) is None
        assert authenticate_key(other.engine, forged) is None
    found = authenticate_key(other.engine, other_key)
    assert found is not None and found.tenant == other.tenant
    assert [k.id for k in list_api_keys(other)] == [other_id]
    with pytest.raises(NotFound):
        revoke_api_key(other, acme_id)
    assert authenticate_key(acme, acme_key) is not None


def test_bad_input_is_refused_with_every_problem_named_and_nothing_stored(access_app: App) -> None:
    with pytest.raises(ProblemsFound) as refused:
        create_api_key(access_app, "x" * 101, ["read", "delete", "everything"])

    assert [str(p) for p in refused.value.problems] == [
        "api key: name: longer than 100 characters",
        "api key: scopes: unknown scope 'delete' (known: read, write, admin)",
        "api key: scopes: unknown scope 'everything' (known: read, write, admin)",
    ]
    with pytest.raises(ProblemsFound, match="name at least one scope"):
        create_api_key(access_app, "no scopes", [])
    assert rows(access_app, "api_keys") == []
    assert services.verify_audit(access_app) == 0
