"""Tenant templates are untrusted: escapes from the sandbox, unknown values and bad syntax are TemplateErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pastdue.errors import TemplateError
from pastdue.rendering import Renderer, sample_document


def render_with(tmp_path: Path, name: str, text: str, channel: str = "email", level: int = 1) -> None:
    """Render a notice with one template overridden by ``text``."""
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    Renderer(tmp_path).render(sample_document(channel, level, "en"))


@pytest.mark.parametrize(
    "expression",
    [
        "''.__class__",
        "''.__class__.__mro__",
        "().__class__.__mro__[1].__subclasses__()",
        "cycler.__init__.__globals__",
        "joiner.__init__.__globals__",
        "lipsum.__globals__",
        "range.__self__",
        "customer.__class__",
        "doc.__slots__",
        "items[0].__class__",
        "t.__dict__",
        "w._blocks",
        "w._context.environment",
        "customer|attr('__class__')",
        "'{0.__class__}'.format(customer)",
        "'{0.__class__.__mro__}'.format(1)",
        "'{x.__init__.__globals__}'.format(x=cycler)",
        "customer.name.format.__self__",
    ],
)
def test_reaching_for_python_internals_is_a_template_error(tmp_path: Path, expression: str) -> None:
    with pytest.raises(TemplateError) as caught:
        render_with(tmp_path, "email/body.txt", f"Hello\n{{{{ {expression} }}}}\n")
    assert caught.value.name == "email/body.txt"
    assert caught.value.line == 2


def test_changing_a_list_handed_in_or_made_in_the_template_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match=r"not allowed|unsafe"):
        render_with(tmp_path, "email/body.txt", "{% set xs = [1] %}{{ xs.append(2) }}")


def test_an_unknown_value_names_the_template_and_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError) as caught:
        render_with(tmp_path, "email/body.html", "<p>{{ customer.name }}</p>\n\n<p>{{ nickname }}</p>\n")
    error = caught.value
    assert (error.name, error.line) == ("email/body.html", 3)
    assert "nickname" in str(error)
    assert str(error).startswith("email/body.html:3: ")


def test_an_unknown_attribute_of_a_known_value_is_an_error_too(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="nickname") as caught:
        render_with(tmp_path, "sms/body.txt", "{{ customer.nickname }}", channel="sms")
    assert (caught.value.name, caught.value.line) == ("sms/body.txt", 1)


def test_an_error_in_wording_is_located_in_the_wording_file(tmp_path: Path) -> None:
    wording = (Path(__file__).parents[2] / "src/pastdue/templates/wording/level-2.en.txt").read_text()
    broken = wording.replace("{% block closing %}\n", "{% block closing %}\n{{ customer.shoe_size }}\n")
    lines = broken.splitlines()
    with pytest.raises(TemplateError) as caught:
        render_with(tmp_path, "wording/level-2.en.txt", broken, level=2)
    assert caught.value.name == "wording/level-2.en.txt"
    assert caught.value.line is not None and "shoe_size" in lines[caught.value.line - 1]


def test_a_syntax_error_names_the_template_and_line(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="syntax error") as caught:
        render_with(tmp_path, "email/body.txt", "Hello\n\n{% if %}\n{% endif %}\n")
    assert (caught.value.name, caught.value.line) == ("email/body.txt", 3)


def test_a_syntax_error_in_an_included_partial_names_the_partial(tmp_path: Path) -> None:
    (tmp_path / "email").mkdir()
    (tmp_path / "email/footer.txt").write_text("ok\n{{ broken( }}\n")
    with pytest.raises(TemplateError) as caught:
        render_with(tmp_path, "email/body.txt", '{% include "email/footer.txt" %}')
    assert (caught.value.name, caught.value.line) == ("email/footer.txt", 2)


def test_a_file_that_is_not_utf8_is_a_template_error(tmp_path: Path) -> None:
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms/body.txt").write_bytes(b"Caf\xe9 {{ total }}")
    with pytest.raises(TemplateError, match="UTF-8") as caught:
        Renderer(tmp_path).render(sample_document("sms", 1, "en"))
    assert caught.value.name == "sms/body.txt"


def test_endless_recursion_is_a_template_error(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="recursion"):
        render_with(tmp_path, "email/subject.txt", "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}")


def test_str_format_on_plain_values_still_works(tmp_path: Path) -> None:
    """The sandbox checks what format may reach; ordinary formatting is allowed."""
    (tmp_path / "sms").mkdir()
    (tmp_path / "sms/body.txt").write_text("{{ '{} owes {}'.format(customer.name, total) }}")
    text = Renderer(tmp_path).render(sample_document("sms", 1, "en")).text
    assert text == "Smith & Sons Ltd owes £1,944.46"
