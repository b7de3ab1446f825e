"""Dashboard users: stored lower-case with an argon2id hash, checked in constant work,
disabled, rehashed when the parameters change, and never seen by another tenant."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Literal

import pytest
from access_support import CHEAP, PASSWORD, audit_events, audit_text, rows
from argon2 import PasswordHasher, extract_parameters, profiles

from pastdue import services
from pastdue.bootstrap import App
from pastdue.core.access import Role
from pastdue.errors import NotFound, ProblemsFound
from pastdue.services.users import add_user, disable_user, list_users, password_hasher, verify_password

pytest_plugins = ["access_fixtures"]


class CountingHasher(PasswordHasher):
    """The cheap hasher, counting how many verifications it is asked for."""

    def __init__(self) -> None:
        params = profiles.CHEAPEST
        super().__init__(params.time_cost, params.memory_cost, params.parallelism, params.hash_len, params.salt_len)
        self.verifications = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.verifications += 1
        return super().verify(hash, password)


def test_a_user_is_stored_lower_case_with_an_argon2id_hash_and_never_the_password(access_app: App) -> None:
    user = add_user(access_app, "  Ann@Example.COM ", "Ann Example", "Admin", PASSWORD)

    assert (user.email, user.name, user.role, user.active) == ("ann@example.com", "Ann Example", Role.ADMIN, True)
    [row] = rows(access_app, "users")
    assert row["email"] == "ann@example.com"
    assert row["password_hash"].startswith("$argon2id$")
    assert all(PASSWORD not in str(value) for value in row.values())
    [event] = audit_events(access_app, "user")
    assert event == {
        "subject": user.id,
        "actor": "person",
        "action": "added",
        "email": "ann@example.com",
        "name": "Ann Example",
        "role": "admin",
    }
    assert PASSWORD not in audit_text(access_app)
    assert row["password_hash"] not in audit_text(access_app)
    assert services.verify_audit(access_app) == 1


def test_by_default_passwords_are_hashed_with_argon2id_and_the_recommended_parameters(access_app: App) -> None:
    default = dataclasses.replace(access_app, password_hasher=None)

    add_user(default, "ann@example.com", "", "viewer", PASSWORD)

    [row] = rows(default, "users")
    assert extract_parameters(row["password_hash"]) == profiles.RFC_9106_LOW_MEMORY
    assert row["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert password_hasher(default).check_needs_rehash(row["password_hash"]) is False
    assert verify_password(default, "ann@example.com", PASSWORD) is not None


def test_the_right_password_opens_and_a_wrong_one_does_not(access_app: App) -> None:
    added = add_user(access_app, "ann@example.com", "Ann", "collector", PASSWORD)

    assert verify_password(access_app, "ANN@example.com", PASSWORD) == added
    assert verify_password(access_app, "ann@example.com", PASSWORD.upper()) is None
    assert verify_password(access_app, "ann@example.com", "") is None
    assert verify_password(access_app, "ann@example.com", PASSWORD + "x" * 2000) is None


def test_an_unknown_address_or_a_disabled_user_costs_one_verification_like_a_known_one(access_app: App) -> None:
    counting = CountingHasher()
    app = dataclasses.replace(access_app, password_hasher=counting)
    add_user(app, "ann@example.com", "", "viewer", PASSWORD)
    add_user(app, "bob@example.com", "", "viewer", PASSWORD)
    disable_user(app, "bob@example.com")

    for email, password in [
        ("ann@example.com", "wrong password!"),
        ("nobody@example.com", PASSWORD),
        ("bob@example.com", PASSWORD),
        ("ann@example.com", PASSWORD),
    ]:
        before = counting.verifications
        verify_password(app, email, password)
        assert counting.verifications == before + 1, email


def test_a_disabled_user_cannot_log_in_and_stays_on_record(access_app: App) -> None:
    add_user(access_app, "ann@example.com", "Ann", "admin", PASSWORD)

    assert disable_user(access_app, "Ann@Example.com", actor="cli:root") is True
    assert disable_user(access_app, "ann@example.com") is False

    assert verify_password(access_app, "ann@example.com", PASSWORD) is None
    [user] = list_users(access_app)
    assert user.disabled_at == access_app.clock()
    assert [e["action"] for e in audit_events(access_app, "user")] == ["added", "disabled"]
    assert audit_events(access_app, "user")[1]["actor"] == "cli:root"
    with pytest.raises(NotFound, match=r"no user 'nobody@example\.com'"):
        disable_user(access_app, "nobody@example.com")


def test_bad_input_is_refused_with_every_problem_named_and_nothing_stored(access_app: App) -> None:
    with pytest.raises(ProblemsFound) as refused:
        add_user(access_app, "not an address", "Ann\x00", "boss", "short")

    assert [str(p) for p in refused.value.problems] == [
        "user: email: 'not an address' is not an e-mail address (name@domain)",
        "user: name: must not contain control characters",
        "user: role: unknown role 'boss' (known: admin, collector, viewer)",
        "user: password: must be at least 12 characters",
    ]
    assert rows(access_app, "users") == []
    assert services.verify_audit(access_app) == 0


@pytest.mark.parametrize(
    ("password", "accepted"),
    [("x" * 11, False), ("x" * 12, True), (" " * 12, False), ("é" * 12, True), ("x" * 1025, False)],
)
def test_a_password_needs_twelve_characters_and_at_most_1024(access_app: App, password: str, accepted: bool) -> None:
    if accepted:
        add_user(access_app, "ann@example.com", "", "viewer", password)
        assert verify_password(access_app, "ann@example.com", password) is not None
    else:
        with pytest.raises(ProblemsFound, match="password"):
            add_user(access_app, "ann@example.com", "", "viewer", password)


def test_an_address_is_taken_whatever_its_case(access_app: App) -> None:
    add_user(access_app, "ann@example.com", "", "viewer", PASSWORD)

    with pytest.raises(ProblemsFound) as refused:
        add_user(access_app, "ANN@EXAMPLE.COM", "", "admin", PASSWORD)

    [problem] = refused.value.problems
    assert (problem.field, problem.message) == ("email", "ann@example.com is already a user of this tenant")
    assert len(rows(access_app, "users")) == 1


def test_a_hash_made_under_older_parameters_is_upgraded_when_the_password_proves_right(access_app: App) -> None:
    add_user(access_app, "ann@example.com", "", "viewer", PASSWORD)
    [before] = rows(access_app, "users")
    stronger = PasswordHasher(time_cost=2, memory_cost=16, parallelism=1, hash_len=16, salt_len=8)
    upgraded = dataclasses.replace(access_app, password_hasher=stronger)

    assert verify_password(upgraded, "ann@example.com", "a wrong password") is None
    assert rows(access_app, "users")[0]["password_hash"] == before["password_hash"]

    assert verify_password(upgraded, "ann@example.com", PASSWORD) is not None
    [after] = rows(access_app, "users")
    assert after["password_hash"] != before["password_hash"]
    assert extract_parameters(after["password_hash"]).time_cost == 2
    assert verify_password(upgraded, "ann@example.com", PASSWORD) is not None
    assert rows(access_app, "users")[0]["password_hash"] == after["password_hash"]  # once only
    assert [e["action"] for e in audit_events(access_app, "user")] == ["added", "password rehashed"]
    assert after["password_hash"] not in audit_text(access_app)
    assert verify_password(access_app, "ann@example.com", PASSWORD) is not None  # CHEAP still verifies it


def test_a_user_of_one_tenant_does_not_exist_in_another(tenant_app: Callable[[str | None], App]) -> None:
    acme = tenant_app(None)
    other = tenant_app("other-" + acme.tenant)
    add_user(acme, "ann@example.com", "Ann", "admin", PASSWORD)

    assert verify_password(other, "ann@example.com", PASSWORD) is None
    assert list_users(other) == []
    with pytest.raises(NotFound):
        disable_user(other, "ann@example.com")
    # The same address is a different person there, with a password of its own.
    add_user(other, "ann@example.com", "Ann Other", "viewer", "another long password")
    assert verify_password(other, "ann@example.com", PASSWORD) is None
    assert verify_password(acme, "ann@example.com", "another long password") is None
    assert [u.role for u in list_users(acme)] == [Role.ADMIN]
    assert CHEAP is acme.password_hasher
