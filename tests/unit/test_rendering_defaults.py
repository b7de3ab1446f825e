"""The default templates: every channel, level and language says what a notice must say."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from pastdue.core.notice import NoticeDocument, Party
from pastdue.rendering import Rendered, Renderer, sample_document
from pastdue.rendering.samples import minimal_document

CHANNELS = ["email", "sms", "letter", "phone"]
LEVELS = [1, 2, 3, 4]
LANGUAGES = ["en", "de", "fr", "nl", "es"]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer()


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def words(rendered: Rendered) -> str:
    """Everything a reader sees, as one text with plain spaces."""
    return plain(" ".join((rendered.subject, rendered.text, rendered.html)))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("level", LEVELS)
@pytest.mark.parametrize("channel", CHANNELS)
def test_every_channel_level_and_language_renders_the_facts(
    renderer: Renderer, channel: str, level: int, language: str
) -> None:
    doc = sample_document(channel, level, language)
    rendered = renderer.render(doc)
    shown = words(rendered)
    for item in doc.items:
        assert item.number in shown or channel == "sms"  # an SMS counts the invoices instead
    assert "1,944.46" in shown or "1.944,46" in shown or "1 944,46" in shown
    assert doc.reference in shown
    assert "{{" not in shown and "{%" not in shown
    if channel == "email":
        assert rendered.subject and rendered.text and rendered.html.startswith("<!DOCTYPE html>")
        assert doc.sender.iban in rendered.text and doc.sender.iban in rendered.html
        assert doc.portal_url in rendered.text and doc.unsubscribe_url in rendered.html
        assert doc.other_overdue[0].number in rendered.text
    elif channel == "sms":
        assert rendered.text and not rendered.subject and not rendered.html
        assert doc.unsubscribe_url in rendered.text
    elif channel == "letter":
        assert rendered.subject and rendered.html.startswith("<!DOCTYPE html>") and not rendered.text
        assert all(line in rendered.html for line in doc.customer.address_lines)
    else:
        assert rendered.subject and rendered.text and not rendered.html
        assert doc.customer.phone in rendered.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_tone_changes_from_level_to_level(renderer: Renderer, language: str) -> None:
    subjects = {renderer.render(sample_document("email", level, language)).subject for level in LEVELS}
    bodies = {renderer.render(sample_document("email", level, language)).text for level in LEVELS}
    assert len(subjects) == len(bodies) == len(LEVELS)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_notice_without_optional_values_leaves_their_lines_out(renderer: Renderer, channel: str) -> None:
    doc = minimal_document(channel, 2, "en")
    rendered = renderer.render(doc)
    shown = words(rendered)
    assert "http" not in shown  # no portal, payment or opt-out link
    assert "IBAN" not in shown and "BIC" not in shown
    assert doc.notice_id in shown  # the notice id stands in for a missing reference
    if channel == "sms":
        assert "Reply STOP to opt out." in rendered.text


def test_customer_names_are_escaped_in_html_and_literal_in_text(renderer: Renderer) -> None:
    base = sample_document("email", 1, "en")
    doc = replace(base, customer=Party("Smith & <Sons>", ("1 <Main> Street",)))
    rendered = renderer.render(doc)
    assert "Dear Smith & <Sons>," in rendered.text
    assert "Smith &amp; &lt;Sons&gt;" in rendered.html
    assert "<Sons>" not in rendered.html
    phone = renderer.render(replace(doc, channel="phone"))
    assert "Smith & <Sons>" in phone.subject and "Smith & <Sons>" in phone.text
    letter = renderer.render(replace(doc, channel="letter")).html
    assert "1 &lt;Main&gt; Street" in letter and "<Main>" not in letter


def test_a_subject_is_always_one_line(renderer: Renderer) -> None:
    doc = replace(sample_document("phone", 1, "en"), customer=Party("Evil\r\nBcc: someone@example.com"))
    assert "\n" not in renderer.render(doc).subject


def test_amounts_and_dates_follow_the_customer_locale_not_the_language(renderer: Renderer) -> None:
    doc = replace(sample_document("email", 1, "en"), locale="en_US")
    text = renderer.render(doc).text
    assert "£1,944.46" in text and "July 14, 2026" in text and "(due May 20, 2026)" in text


def test_levels_beyond_the_defaults_speak_with_the_highest_level_not_above_them(renderer: Renderer) -> None:
    final = renderer.render(sample_document("email", 4, "de"))
    fifth = renderer.render(sample_document("email", 5, "de"))
    assert fifth.subject == final.subject
    assert fifth.subject.startswith("Letzte Mahnung")
    assert renderer.choose("de", 5) == ("de", "wording/level-4.de.txt")


def test_a_level_below_the_first_uses_the_first(renderer: Renderer) -> None:
    assert renderer.choose("fr", 0) == ("fr", "wording/level-1.fr.txt")


def test_an_unknown_language_speaks_english_with_its_own_number_format(renderer: Renderer) -> None:
    doc = sample_document("email", 2, "it")
    rendered = renderer.render(doc)
    assert rendered.subject.startswith("Second reminder")
    assert "Dear Smith & Sons Ltd," in rendered.text
    assert plain("1.944,46 £") in plain(rendered.text)  # locale "it": Italian amounts
    assert 'lang="en"' in rendered.html
    assert renderer.choose("it", 2) == ("en", "wording/level-2.en.txt")


@pytest.mark.parametrize("language", ["de-AT", "DE", "de_CH"])
def test_a_regional_language_tag_finds_its_language(renderer: Renderer, language: str) -> None:
    assert renderer.choose(language, 1) == ("de", "wording/level-1.de.txt")


def test_the_letter_is_an_a4_document_with_a_din_address_window_and_page_numbers(renderer: Renderer) -> None:
    doc = sample_document("letter", 4, "de")
    html = renderer.render(doc).html
    assert "size: A4" in html
    assert 'content: "Seite " counter(page) " / " counter(pages)' in html
    # In flow: a 25 mm sender block, then the window, 5 mm out into the 25 mm left margin.
    assert re.search(r"\.sender \{ height: 25mm;", html)
    assert html.index('<div class="sender">') < html.index('<div class="window">')
    assert re.search(r"\.window \{ margin-left: -5mm; width: 85mm; height: 45mm;", html)
    assert "margin: 20mm 20mm 20mm 25mm" in html  # so the window sits 45 mm down, 20 mm in
    window = html[html.index('<div class="window">') : html.index('<div class="info">')]
    assert "Müller &amp; Söhne KG" in window and "80331 München" in window
    assert "Nordwind Handel GmbH · Hafenstraße 12" in window  # the return address above the recipient
    assert "url(" not in html and "@import" not in html and "<img" not in html
    assert '"DejaVu Sans", sans-serif' in html


@pytest.mark.parametrize("channel", ["webhook", "fax"])
def test_channels_without_templates_are_refused(renderer: Renderer, channel: str) -> None:
    with pytest.raises(ValueError, match=channel):
        renderer.render(replace(sample_document("email", 1, "en"), channel=channel))


def test_totals_are_summed_per_currency_when_the_document_has_none(renderer: Renderer) -> None:
    doc: NoticeDocument = replace(sample_document("email", 1, "en"), totals=())
    assert "Total due: £1,944.46" in renderer.render(doc).text


def test_renderers_list_every_default_template_unflagged() -> None:
    infos = Renderer().templates()
    names = [info.name for info in infos]
    assert names == sorted(names)
    assert not any(info.overridden for info in infos)
    assert {"email/subject.txt", "email/body.txt", "email/body.html", "sms/body.txt", "letter/body.html"} <= set(names)
    assert {f"wording/level-{level}.{lang}.txt" for level in LEVELS for lang in LANGUAGES} <= set(names)


def test_the_package_exports_exactly_its_public_api() -> None:
    import dataclasses

    import pastdue.rendering as rendering

    assert sorted(rendering.__all__) == ["Rendered", "Renderer", "TemplateInfo", "check_overrides", "sample_document"]
    rendered = Rendered(subject="s")
    with pytest.raises(dataclasses.FrozenInstanceError):
        rendered.subject = "t"  # type: ignore[misc]
