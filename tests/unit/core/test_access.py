"""The rules for users and API keys, checked before anything touches a database."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pastdue.core.access import (
    Role,
    Scope,
    email_problems,
    name_problems,
    normalise_email,
    parse_role,
    parse_scopes,
    password_problems,
    scopes_from_text,
    scopes_to_text,
)


@pytest.mark.parametrize("email", ["ann@example.com", "Ann.Lee+ar@Mail.Example.CO.UK", "ops@localhost"])
def test_ordinary_addresses_are_accepted(email: str) -> None:
    assert email_problems(email) == []


@pytest.mark.parametrize(
    "email",
    [
        "",
        "ann",
        "@example.com",
        "ann@",
        "ann@@example.com",
        "a@b@example.com",
        "ann lee@example.com",
        "ann@example..com",
        "ann@.example.com",
        "ann@example.com.",
        "ann\x00@example.com",
        "a" * 250 + "@example.com",
    ],
)
def test_what_is_not_an_address_is_named_as_an_email_problem(email: str) -> None:
    [problem] = email_problems(email)
    assert (problem.source, problem.field) == ("user", "email")


def test_addresses_are_compared_without_case_or_surrounding_space() -> None:
    assert normalise_email("  Ann@Example.COM\n") == "ann@example.com"


@given(st.text(min_size=12, max_size=1024).filter(lambda p: p.strip()))
def test_any_password_of_twelve_to_1024_characters_that_is_not_blank_is_accepted(password: str) -> None:
    assert password_problems(password) == []


@pytest.mark.parametrize("password", ["", "elevenchars", " " * 20, "x" * 1025])
def test_short_blank_or_huge_passwords_are_refused(password: str) -> None:
    [problem] = password_problems(password)
    assert problem.field == "password"


def test_names_are_bounded_and_printable() -> None:
    assert name_problems("Ann Lee", "user", 200) == []
    assert [p.message for p in name_problems("x" * 201, "user", 200)] == ["longer than 200 characters"]
    assert [p.message for p in name_problems("Ann\nLee", "user", 200)] == ["must not contain control characters"]


def test_roles_are_read_without_case_and_unknown_ones_are_named() -> None:
    assert parse_role(" Collector ") == (Role.COLLECTOR, [])
    role, problems = parse_role("owner")
    assert role is None
    assert [str(p) for p in problems] == ["user: role: unknown role 'owner' (known: admin, collector, viewer)"]


def test_scopes_are_deduplicated_in_a_fixed_order_and_round_trip_through_text() -> None:
    scopes, problems = parse_scopes(["admin", "READ", "read"])
    assert (scopes, problems) == ((Scope.READ, Scope.ADMIN), [])
    assert scopes_to_text(scopes) == "read admin"
    assert scopes_from_text("read admin") == scopes


def test_no_scope_or_an_unknown_one_is_a_problem() -> None:
    assert [p.message for p in parse_scopes([])[1]] == ["name at least one scope (read, write, admin)"]
    scopes, problems = parse_scopes(["read", "root"])
    assert scopes == (Scope.READ,)
    assert [p.field for p in problems] == ["scopes"]
