"""Dashboard sessions: signed cookies that cannot be forged, altered or kept past their end,
and a log-in that only ever sends people to this site's own pages."""

from __future__ import annotations

import pytest
from starlette.responses import Response

from pastdue.web.dashboard.sessions import MAX_AGE, Signer, new_session, safe_next, secure, set_cookie

NOW = 1_782_810_000.0


def test_a_session_reads_back_as_it_was_signed() -> None:
    signer = Signer("s3cret")
    session = new_session("u1", "ann@shop.example", NOW)
    assert signer.load(signer.dump(session), NOW + 60) == session
    assert session.expires == int(NOW) + MAX_AGE and len(session.csrf) >= 32


def test_an_altered_or_foreign_cookie_is_refused() -> None:
    signer = Signer("s3cret")
    value = signer.dump(new_session("u1", "ann@shop.example", NOW))
    body, _, mac = value.partition(".")
    assert signer.load(f"{body[:-2]}AA.{mac}", NOW) is None
    assert Signer("another secret").load(value, NOW) is None
    assert signer.load("not a cookie", NOW) is None
    assert signer.load("", NOW) is None


def test_a_session_ends_after_its_age() -> None:
    signer = Signer("s3cret")
    value = signer.dump(new_session("u1", "ann@shop.example", NOW))
    assert signer.load(value, NOW + MAX_AGE - 1) is not None
    assert signer.load(value, NOW + MAX_AGE) is None


def test_no_secret_no_sessions() -> None:
    with pytest.raises(ValueError):
        Signer("")


@pytest.mark.parametrize(
    ("asked", "goes_to"),
    [
        ("/worklist", "/worklist"),
        ("/customers/a?x=1", "/customers/a?x=1"),
        (None, "/"),
        ("", "/"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
    ],
)
def test_after_login_only_this_sites_pages(asked: str | None, goes_to: str) -> None:
    assert safe_next(asked) == goes_to


def test_the_cookie_is_secure_when_the_dashboard_is_served_over_https() -> None:
    response = Response()
    set_cookie(response, "pastdue_session", "v", MAX_AGE, secure("https://collect.example.com"))
    cookie = response.headers["set-cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert not secure("http://127.0.0.1:8000")
