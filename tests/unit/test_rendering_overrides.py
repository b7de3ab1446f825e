"""Tenants override templates by name from a folder, and check_overrides finds every problem in it at once."""

from __future__ import annotations

from pathlib import Path

import pytest

from pastdue.errors import NotFound, Problem
from pastdue.rendering import Renderer, TemplateInfo, check_overrides, sample_document

DEFAULTS = Path(__file__).parents[2] / "src/pastdue/templates"


def write(folder: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def where(problems: list[Problem]) -> set[tuple[str, int | None]]:
    return {(problem.source, problem.line) for problem in problems}


def test_an_override_replaces_the_default_of_the_same_name(tmp_path: Path) -> None:
    write(tmp_path, {"email/subject.txt": "Kontoauszug {{ reference }}"})
    rendered = Renderer(tmp_path).render(sample_document("email", 1, "de"))
    assert rendered.subject == "Kontoauszug RF18 0426 0457 0042"
    assert rendered.text.startswith("Sehr geehrte Damen und Herren,")  # the rest stays default


def test_overriding_wording_changes_one_level_in_one_language(tmp_path: Path) -> None:
    wording = (DEFAULTS / "wording/level-2.de.txt").read_text(encoding="utf-8")
    write(tmp_path, {"wording/level-2.de.txt": wording.replace("Zweite Zahlungserinnerung", "2. Mahnung")})
    renderer = Renderer(tmp_path)
    assert renderer.render(sample_document("letter", 2, "de")).subject.startswith("2. Mahnung")
    assert renderer.render(sample_document("letter", 1, "de")).subject.startswith("Zahlungserinnerung")
    assert renderer.render(sample_document("letter", 2, "en")).subject.startswith("Second reminder")


def test_a_single_label_can_be_overridden_and_the_others_stay(tmp_path: Path) -> None:
    write(tmp_path, {"labels/de.txt": '{% set regards = "Beste Grüße" %}\n'})
    text = Renderer(tmp_path).render(sample_document("email", 1, "de")).text
    assert "Beste Grüße" in text and "Mit freundlichen Grüßen" not in text
    assert "Offener Gesamtbetrag" in text


def test_a_tenant_can_add_a_level_that_extends_existing_wording(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"wording/level-6.en.txt": '{% extends "wording/level-4.en.txt" %}\n'
         "{% block subject %}Handed to our collection agency – {{ total }}{% endblock %}\n"},
    )  # fmt: skip
    renderer = Renderer(tmp_path)
    sixth = renderer.render(sample_document("email", 7, "en"))
    assert sixth.subject == "Handed to our collection agency – £1,944.46"
    assert "final notice" in sixth.text  # the other blocks come from level 4
    assert renderer.render(sample_document("email", 5, "en")).subject.startswith("Final notice")
    assert check_overrides(tmp_path) == []


def test_a_tenant_can_add_a_language(tmp_path: Path) -> None:
    labels = (DEFAULTS / "labels/en.txt").read_text(encoding="utf-8").replace('"Kind regards"', '"Cordiali saluti"')
    wording = (DEFAULTS / "wording/level-1.en.txt").read_text(encoding="utf-8")
    write(tmp_path, {"labels/it.txt": labels, "wording/level-1.it.txt": wording.replace("Dear", "Gentile")})
    renderer = Renderer(tmp_path)
    text = renderer.render(sample_document("email", 3, "it")).text
    assert text.startswith("Gentile Smith & Sons Ltd,") and "Cordiali saluti" in text
    assert check_overrides(tmp_path) == []


def test_templates_lists_defaults_and_flags_what_the_folder_supplies(tmp_path: Path) -> None:
    write(tmp_path, {"email/body.html": "<p>{{ w.opening }}</p>", "email/footer.txt": "--"})
    infos = Renderer(tmp_path).templates()
    assert [info.name for info in infos] == sorted(info.name for info in infos)
    assert TemplateInfo("email/body.html", True) in infos
    assert TemplateInfo("email/footer.txt", True) in infos  # only in the folder
    assert TemplateInfo("email/body.txt", False) in infos


def test_source_shows_the_text_in_effect(tmp_path: Path) -> None:
    write(tmp_path, {"sms/body.txt": "{{ w.sms }}"})
    renderer = Renderer(tmp_path)
    assert renderer.source("sms/body.txt") == "{{ w.sms }}"
    assert renderer.source("email/subject.txt") == (DEFAULTS / "email/subject.txt").read_text(encoding="utf-8")
    with pytest.raises(NotFound):
        renderer.source("email/nothing.txt")


def test_hidden_files_in_the_folder_are_ignored(tmp_path: Path) -> None:
    write(tmp_path, {".DS_Store": "junk", ".git/config": "junk"})
    assert not any(info.overridden for info in Renderer(tmp_path).templates())
    assert check_overrides(tmp_path) == []


def test_a_folder_of_good_overrides_has_no_problems(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "email/body.txt": '{{ w.greeting }}\n\n{{ w.opening }}\n{% include "email/footer.txt" %}\n',
            "email/footer.txt": "{{ sender.name }}{% if portal_url %} {{ portal_url }}{% endif %}",
            "letter/style.css": '@page { size: A4; @bottom-center { content: "{{ t.page|css }}" counter(page) } }',
            "labels/en.txt": '{% set regards = "Best wishes" %}',
        },
    )
    assert check_overrides(tmp_path) == []


def test_check_reports_every_problem_at_once_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "email/subject.txt": "Reminder {% if %}\n",
            "email/body.txt": "Hello,\n{{ nickname }}\n{% if level > 3 %}{{ ''.__class__ }}{% endif %}\n",
            "email/body.html": "<p>{{ w.opening }}</p>\n<p>{{ '{0.__class__}'.format(customer) }}</p>\n",
            "sms/body.txt": "{{ w.sms }}\n{{ customer.nickname }}\n",
            "letter/body.html": "<p>{{ doc.created_on|money }}</p>",
            "email/signature.txt": "not used by anything",
            "labels/de.txt": '{% set regards = customer.name %}\n',
            "wording/level-2.nl.txt": "{% block subject %}Herinnering{% endblock %}\n",
        },
    )  # fmt: skip
    problems = check_overrides(tmp_path)
    assert where(problems) == {
        ("email/subject.txt", 1),  # syntax
        ("email/body.txt", 2),  # unknown name, found without rendering
        ("email/body.txt", 3),  # sandbox, in a branch the static pass sees
        ("email/body.html", 2),  # str.format escape, found by rendering
        ("sms/body.txt", 2),  # unknown attribute, found by rendering
        ("letter/body.html", 1),  # a filter given the wrong kind of value
        ("email/signature.txt", None),  # overrides nothing
        ("labels/de.txt", 1),  # labels are constant
        ("wording/level-2.nl.txt", None),  # wording lacks blocks
    }
    by_place = {(problem.source, problem.line): problem.message for problem in problems}
    assert "syntax error" in by_place[("email/subject.txt", 1)]
    assert "nickname" in by_place[("email/body.txt", 2)]
    assert "__class__" in by_place[("email/body.txt", 3)]
    assert "unsafe" in by_place[("email/body.html", 2)]
    assert "nickname" in by_place[("sms/body.txt", 2)]
    assert "money" in by_place[("letter/body.html", 1)]
    assert "overrides no template" in by_place[("email/signature.txt", None)]
    assert "opening" in by_place[("wording/level-2.nl.txt", None)]
    assert str(next(p for p in problems if p.source == "email/body.txt")).startswith("email/body.txt:2: ")


def test_check_reports_a_wording_without_blocks_once_not_in_every_layout_that_asks_for_them(tmp_path: Path) -> None:
    write(
        tmp_path,
        {"wording/level-2.nl.txt": "{% block subject %}Herinnering{% endblock %}\n", "sms/body.txt": "{{ w.sms }}"},
    )
    problems = check_overrides(tmp_path)
    assert [(p.source, p.line) for p in problems] == [("wording/level-2.nl.txt", None)]
    assert "request, closing, sms" in problems[0].message


def test_check_finds_references_to_templates_that_do_not_exist(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "email/body.txt": '{{ w.opening }}\n{% include "email/footr.txt" %}',
            "wording/level-5.en.txt": '{% extends "wording/level-9.en.txt" %}',
        },
    )
    problems = check_overrides(tmp_path)
    assert where(problems) == {("email/body.txt", 2), ("wording/level-5.en.txt", 1)}
    assert all("level-9" in p.message or "footr" in p.message for p in problems)


def test_check_of_a_missing_folder_is_one_problem(tmp_path: Path) -> None:
    problems = check_overrides(tmp_path / "absent")
    assert len(problems) == 1 and "does not exist" in problems[0].message
