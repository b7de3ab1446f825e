"""The portal speaks every language it offers in full, and its pages escape what they show."""

from __future__ import annotations

import string

import pytest

from pastdue.web.portal import pages


@pytest.mark.parametrize("language", pages.LANGUAGES)
def test_every_language_names_every_label_with_the_same_fields(language: str) -> None:
    english = pages.labels("en")
    root = pages.resources.files("pastdue.web.portal").joinpath("labels", f"{language}.toml")
    own = pages.tomllib.loads(root.read_text(encoding="utf-8"))

    assert set(own) == set(english)
    for key, text in own.items():
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name}
        expected = {name for _, name, _, _ in string.Formatter().parse(english[key]) if name}
        assert fields == expected, f"{language}.{key}"


def test_a_language_the_portal_lacks_is_shown_in_english() -> None:
    assert pages.labels("it") == pages.labels("en")


def test_refusal_pages_escape_and_reveal_nothing() -> None:
    gone = pages.refusal(410)
    assert gone.status_code == 410 and b"This link has expired" in gone.body
    html = pages.environment().from_string("{{ value }}").render(value="<script>x</script>")
    assert html == "&lt;script&gt;x&lt;/script&gt;"
