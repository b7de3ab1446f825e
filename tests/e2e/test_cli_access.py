"""Access through the CLI: users with hidden passwords, API keys shown once, portal links."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from cli_support import Cli

from pastdue.bootstrap import App, build
from pastdue.errors import AccessDenied
from pastdue.services.api_keys import authenticate_key
from pastdue.services.portal_links import resolve_portal_token
from pastdue.services.users import verify_password
from pastdue.settings import Settings

pytest_plugins = ["cli_fixtures"]

PASSWORD = "correct horse battery staple"


@pytest.fixture
def library(cli: Cli) -> Iterator[App]:
    """The same database through the library, to check what the CLI stored."""
    app = build(Settings(database_url=cli.url))
    yield app
    app.engine.dispose()


def test_a_user_added_with_the_password_on_stdin_can_log_in(cli: Cli, library: App) -> None:
    cli("init")

    added = cli(
        "users", "add", "Ann@Example.com", "--name", "Ann Lee", "--role", "admin", "--password-stdin", input=PASSWORD
    )

    assert added.stdout.strip() == "user ann@example.com added as admin"
    user = verify_password(library, "ann@example.com", PASSWORD)
    assert user is not None and user.name == "Ann Lee"
    [listed] = cli.json("users", "list", "--json")
    assert {k: listed[k] for k in ("email", "name", "role", "disabled_at")} == {
        "email": "ann@example.com",
        "name": "Ann Lee",
        "role": "admin",
        "disabled_at": None,
    }
    assert set(listed) == {"id", "email", "name", "role", "created_at", "disabled_at"}
    assert cli("users", "list").stdout.splitlines() == ["ann@example.com  admin  active  Ann Lee", "1 user(s)"]


def test_without_stdin_the_password_is_asked_twice_and_never_echoed(cli: Cli, library: App) -> None:
    cli("init")

    added = cli("users", "add", "bob@example.com", "--role", "viewer", input=f"{PASSWORD}\n{PASSWORD}\n")

    assert PASSWORD not in added.stdout + added.stderr
    assert "user bob@example.com added as viewer" in added.stdout
    assert verify_password(library, "bob@example.com", PASSWORD) is not None


def test_a_password_is_never_taken_as_an_argument(cli: Cli) -> None:
    cli("init")

    refused = cli("users", "add", "ann@example.com", "--role", "admin", "--password", PASSWORD, expect=2)

    assert "No such option" in refused.stderr
    assert cli.json("users", "list", "--json") == []


def test_bad_user_details_are_refused_with_every_problem_and_exit_1(cli: Cli) -> None:
    cli("init")

    refused = cli("users", "add", "ann", "--role", "owner", "--password-stdin", input="short\n", expect=1)

    assert refused.stderr.splitlines() == [
        "user: email: 'ann' is not an e-mail address (name@domain)",
        "user: role: unknown role 'owner' (known: admin, collector, viewer)",
        "user: password: must be at least 12 characters",
        "3 problem(s); nothing was changed.",
    ]
    cli("users", "add", "ann@example.com", "--role", "admin", "--password-stdin", input=PASSWORD)
    taken = cli("users", "add", "ANN@example.com", "--role", "viewer", "--password-stdin", input=PASSWORD, expect=1)
    assert taken.stderr.splitlines()[0] == "user: email: ann@example.com is already a user of this tenant"


def test_a_disabled_user_can_no_longer_log_in(cli: Cli, library: App) -> None:
    cli("init")
    cli("users", "add", "ann@example.com", "--role", "collector", "--password-stdin", input=PASSWORD)

    assert cli("users", "disable", "Ann@example.com").stdout.strip() == "user ann@example.com disabled"
    assert cli("users", "disable", "ann@example.com").stdout.strip() == "user ann@example.com was already disabled"

    assert verify_password(library, "ann@example.com", PASSWORD) is None
    assert cli.json("users", "list", "--json")[0]["disabled_at"] is not None
    assert "error: no user 'nobody@example.com'" in cli("users", "disable", "nobody@example.com", expect=1).stderr


def test_an_api_key_is_printed_once_alone_on_stdout_and_never_listed(cli: Cli, library: App) -> None:
    cli("init")

    created = cli("apikeys", "create", "--scope", "read", "--scope", "write", "--name", "zapier")

    key = created.stdout.strip()
    key_id = key.split(".")[0]
    assert created.stdout == key + "\n"
    assert f"API key {key_id} created" in created.stderr and "shown only this once" in created.stderr
    found = authenticate_key(library, key)
    assert found is not None and [s.value for s in found.scopes] == ["read", "write"]
    listing = cli("apikeys", "list", "--json").stdout
    secret = key.rsplit(".", 1)[1]
    assert secret not in listing
    [listed] = json.loads(listing)
    assert {k: listed[k] for k in ("id", "name", "scopes", "revoked_at")} == {
        "id": key_id,
        "name": "zapier",
        "scopes": ["read", "write"],
        "revoked_at": None,
    }
    assert listed["last_used_at"] is not None  # the check above counted as a use
    assert secret not in cli("apikeys", "list").stdout


def test_a_revoked_api_key_no_longer_authenticates(cli: Cli, library: App) -> None:
    cli("init")
    key = cli("apikeys", "create", "--scope", "admin").stdout.strip()
    key_id = key.split(".")[0]

    assert cli("apikeys", "revoke", key_id).stdout.strip() == f"API key {key_id} revoked"
    assert cli("apikeys", "revoke", key_id).stdout.strip() == f"API key {key_id} was already revoked"

    assert authenticate_key(library, key) is None
    assert cli.json("apikeys", "list", "--json")[0]["revoked_at"] is not None
    assert "error: no API key 'pd_live_nosuchid'" in cli("apikeys", "revoke", "pd_live_nosuchid", expect=1).stderr


def test_an_api_key_needs_known_scopes(cli: Cli) -> None:
    cli("init")

    unknown = cli("apikeys", "create", "--scope", "read", "--scope", "root", expect=1)
    assert unknown.stderr.splitlines()[0] == "api key: scopes: unknown scope 'root' (known: read, write, admin)"
    none = cli("apikeys", "create", "--name", "nothing", expect=1)
    assert none.stderr.splitlines()[0] == "api key: scopes: name at least one scope (read, write, admin)"
    assert unknown.stdout == none.stdout == ""
    assert cli.json("apikeys", "list", "--json") == []


def test_a_portal_link_opens_its_customer_until_revoked(loaded: Cli, library: App) -> None:
    url = loaded("portal-link", "C1", "--days", "7").stdout.strip()

    assert url.startswith("http://127.0.0.1:8000/portal/access/default.")
    token = url.rsplit("/", 1)[1]
    assert resolve_portal_token(library, token) == "C1"
    other = loaded("portal-link", "C1").stdout.strip().rsplit("/", 1)[1]

    revoked = loaded("portal-link", "--revoke", "C1")

    assert revoked.stdout.strip() == "2 portal link(s) of customer C1 revoked"
    for each in (token, other):
        with pytest.raises(AccessDenied, match="revoked"):
            resolve_portal_token(library, each)
    assert loaded("audit", "verify").stdout.startswith("audit chain intact")


def test_a_portal_link_needs_a_known_customer_and_sensible_days(loaded: Cli) -> None:
    unknown = loaded("portal-link", "C9", expect=1)
    assert unknown.stderr.splitlines()[0] == "portal link: customer_id: no customer 'C9' in this tenant"
    assert unknown.stdout == ""
    days = loaded("portal-link", "C1", "--days", "0", expect=1)
    assert days.stderr.splitlines()[0] == "portal link: days: must be between 1 and 366"
    assert "--days does not go with --revoke" in loaded("portal-link", "--revoke", "C1", "--days", "3", expect=2).stderr


def test_every_access_change_is_in_the_audit_chain(loaded: Cli) -> None:
    before = int(loaded("audit", "verify").stdout.split()[-2])
    loaded("users", "add", "ann@example.com", "--role", "admin", "--password-stdin", "--by", "ops", input=PASSWORD)
    loaded("users", "disable", "ann@example.com")
    key_id = loaded("apikeys", "create", "--scope", "read").stdout.split(".")[0]
    loaded("apikeys", "revoke", key_id)
    loaded("portal-link", "C2")
    loaded("portal-link", "--revoke", "C2")

    assert loaded("audit", "verify").stdout.strip() == f"audit chain intact: {before + 6} events"
