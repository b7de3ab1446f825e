"""The portal token format: what it says in the clear, and what its signature binds."""

from __future__ import annotations

from datetime import UTC, datetime

from pastdue.links import portal_token, portal_token_signed, portal_token_url, read_portal_token

EXPIRES = datetime(2026, 7, 30, 9, 0, tzinfo=UTC)


def test_a_token_names_its_tenant_row_and_expiry_and_verifies_under_its_secret() -> None:
    token = portal_token("s3cret", "acme", "row1234567", EXPIRES)

    claims = read_portal_token(token)
    assert claims is not None
    assert (claims.tenant, claims.token_id, claims.expires) == ("acme", "row1234567", EXPIRES)
    assert portal_token_signed("s3cret", "acme", claims)
    assert not portal_token_signed("another secret", "acme", claims)
    assert not portal_token_signed("s3cret", "other", claims)


def test_the_same_row_signed_for_another_tenant_gives_another_signature() -> None:
    ours = portal_token("shared", "acme", "row1234567", EXPIRES)
    theirs = portal_token("shared", "bolt", "row1234567", EXPIRES)

    assert ours.rsplit(".", 1)[1] != theirs.rsplit(".", 1)[1]


def test_anything_not_shaped_like_a_token_reads_as_none() -> None:
    token = portal_token("s3cret", "acme", "row1234567", EXPIRES)
    for text in ("", token + ".", token[:-1], "ACME" + token[4:], token.replace(".", "/"), "a.b.c.d"):
        assert read_portal_token(text) is None, text


def test_the_url_carries_the_token_under_the_portal() -> None:
    assert portal_token_url("https://pay.example/", "acme.r.1.s") == "https://pay.example/portal/access/acme.r.1.s"
