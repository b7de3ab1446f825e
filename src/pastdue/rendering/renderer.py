"""Renderer: a NoticeDocument in, the words of the notice for its channel out.

One render builds the formatted context once (:mod:`pastdue.rendering.context`), renders the
wording blocks of the chosen level and language once, and then the channel's layouts: an
email's subject, text and HTML share all of it. Templates compile on first use and stay
compiled for the life of the Renderer, so keep one Renderer per tenant and reuse it; it is
safe to share between threads (its caches only ever gain equal entries).

What each channel yields:

======= ======================================= =========================================
channel templates                               Rendered fields
======= ======================================= =========================================
email   email/subject.txt, body.txt, body.html  subject, text, html
sms     sms/body.txt                            text
letter  letter/subject.txt, letter/body.html    subject (for the print manifest), html (a
                                                complete A4 document for WeasyPrint)
phone   phone/title.txt, phone/body.txt         subject (the task title), text (the task)
======= ======================================= =========================================

Webhook notices carry data, not words, and are not rendered here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from jinja2 import Template, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pastdue.core.notice import NoticeDocument
from pastdue.errors import NotFound, TemplateError
from pastdue.rendering.catalog import WORDING_NAME, Catalog
from pastdue.rendering.context import BlockFunction, Wording, notice_context
from pastdue.rendering.environment import as_template_error, build_environment, compile_source

CHANNEL_TEMPLATES: dict[str, tuple[tuple[str, str], ...]] = {
    "email": (("subject", "email/subject.txt"), ("text", "email/body.txt"), ("html", "email/body.html")),
    "sms": (("text", "sms/body.txt"),),
    "letter": (("subject", "letter/subject.txt"), ("html", "letter/body.html")),
    "phone": (("subject", "phone/title.txt"), ("text", "phone/body.txt")),
}
"""Which layout renders which field of :class:`Rendered`, per channel; subjects come first."""

CHANNELS: tuple[str, ...] = tuple(CHANNEL_TEMPLATES)

SUBJECT_TEMPLATES: frozenset[str] = frozenset(
    name for parts in CHANNEL_TEMPLATES.values() for field, name in parts if field == "subject"
)

WORDING_BLOCKS: tuple[str, ...] = ("subject", "greeting", "opening", "request", "closing", "sms", "call")
"""The blocks every wording template defines; the default layouts use all of them."""

_MAX_INHERITANCE = 8


@dataclass(frozen=True, slots=True)
class Rendered:
    """The words of one notice; fields a channel does not use are empty (see the module docstring)."""

    subject: str = ""
    text: str = ""
    html: str = ""


@dataclass(frozen=True, slots=True)
class TemplateInfo:
    """One template name; ``overridden`` when the tenant's folder supplies it (replacing or adding)."""

    name: str
    overridden: bool


class Renderer:
    """Renders notices with pastdue's default templates, overridden by name from ``override_dir``.

    Construction only reads the folder; a broken override shows up as
    :class:`~pastdue.errors.TemplateError` when a notice needs it, so check a folder with
    :func:`~pastdue.rendering.check_overrides` before putting it to use.
    """

    def __init__(self, override_dir: Path | None = None) -> None:
        self._catalog = Catalog.load(override_dir)
        self._env = build_environment(self._catalog)
        self._names_by_file = {
            source.filename: name
            for sources in (self._catalog.defaults, self._catalog.overrides)
            for name, source in sources.items()
        }
        self._templates: dict[str, Template] = {}
        self._labels: dict[str, SimpleNamespace] = {}
        self._wording: dict[str, tuple[Template, dict[str, list[BlockFunction]]]] = {}
        self._choice: dict[tuple[str, int], tuple[str, str]] = {}

    @property
    def catalog(self) -> Catalog:
        return self._catalog

    @property
    def environment(self) -> ImmutableSandboxedEnvironment:
        return self._env

    def templates(self) -> list[TemplateInfo]:
        """Every template name, default or override, sorted by name."""
        overrides = self._catalog.overrides
        return [TemplateInfo(name, name in overrides) for name in self._catalog.names()]

    def source(self, name: str) -> str:
        """The text a notice would be rendered with: the override if there is one, else the default."""
        found = self._catalog.get(name)
        if found is None:
            raise NotFound(f"no template named {name!r}")
        if found.error is not None:
            raise TemplateError(name, found.error)
        return found.text

    def choose(self, language: str, level: int) -> tuple[str, str]:
        """The language the notice will speak and its wording template, by the fallback rules."""
        key = (language, level)
        choice = self._choice.get(key)
        if choice is None:
            spoken = self._catalog.language_for(language)
            choice = (spoken, self._catalog.wording_for(spoken, level))
            self._choice[key] = choice
        return choice

    def render(self, doc: NoticeDocument) -> Rendered:
        """The notice's words for ``doc.channel``; TemplateError when a template fails.

        Raises ValueError for a channel that has no templates (``webhook``) or is unknown.
        """
        parts = CHANNEL_TEMPLATES.get(doc.channel)
        if parts is None:
            raise ValueError(f"{doc.channel!r} notices are not rendered from templates")
        context = self.context(doc)
        fields: dict[str, str] = {}
        for field, name in parts:
            fields[field] = self.render_template(name, context)
        return Rendered(**fields)

    def context(self, doc: NoticeDocument) -> dict[str, Any]:
        """What the layouts of a notice see: its values, labels ``t`` and wording ``w``.

        The dict includes the environment's globals, so that each template can use it as its
        context as it is, without a copy per template.
        """
        language, wording = self.choose(doc.language, doc.level)
        context = dict(self._env.globals)
        context.update(notice_context(doc, language))
        context["t"] = self.labels(language)
        template, blocks = self._wording_blocks(wording)
        words = Wording(wording, template.new_context(context, shared=True), blocks)
        context["w"] = words
        try:
            subject = str(words.subject) if "subject" in blocks else ""
        except Exception:
            raise self._error(wording) from None
        context["subject"] = " ".join(subject.split())
        return context

    def render_template(self, name: str, context: dict[str, Any]) -> str:
        """One layout rendered, without surrounding white space.

        A subject template's result is folded onto one line, because it becomes a mail header,
        and becomes ``subject`` in the context for the templates that follow.
        """
        template = self.template(name)
        try:
            text = "".join(template.root_render_func(template.new_context(context, shared=True)))
        except Exception:
            raise self._error(name) from None
        if name in SUBJECT_TEMPLATES:
            text = " ".join(text.split())
            context["subject"] = text
            return text
        return text.strip()

    def labels(self, language: str) -> SimpleNamespace:
        """The labels of a language, English defaults overlaid by the language's own."""
        found = self._labels.get(language)
        if found is None:
            values: dict[str, Any] = {}
            for name, source in self._catalog.label_layers(language):
                template = compile_source(self._env, name, source)
                try:
                    module = template.module
                except Exception:
                    raise self._error(name) from None
                values.update((key, value) for key, value in vars(module).items() if not key.startswith("_"))
            found = SimpleNamespace(**values)
            self._labels[language] = found
        return found

    def template(self, name: str) -> Template:
        """The compiled template of a name; TemplateError when it cannot be loaded."""
        template = self._templates.get(name)
        if template is None:
            try:
                template = self._env.get_template(name)
            except Exception:
                raise self._error(name) from None
            self._templates[name] = template
        return template

    def _wording_blocks(self, name: str) -> tuple[Template, dict[str, list[BlockFunction]]]:
        """A wording template and its blocks, with those it inherits through ``{% extends %}``."""
        found = self._wording.get(name)
        if found is None:
            template = self.template(name)
            blocks: dict[str, list[BlockFunction]] = {key: [fn] for key, fn in template.blocks.items()}
            current = name
            for _ in range(_MAX_INHERITANCE):
                parent = self._parent_of(current)
                if parent is None:
                    break
                for key, fn in self.template(parent).blocks.items():
                    blocks.setdefault(key, []).append(fn)
                current = parent
            else:
                raise TemplateError(name, f"more than {_MAX_INHERITANCE} levels of {{% extends %}}")
            found = (template, blocks)
            self._wording[name] = found
        return found

    def _parent_of(self, name: str) -> str | None:
        """The template a wording template extends, which must be named by a constant."""
        tree = self._env.parse(self.source(name), name)
        for node in tree.find_all(nodes.Extends):
            if isinstance(node.template, nodes.Const) and isinstance(node.template.value, str):
                parent = node.template.value
                if not WORDING_NAME.match(parent):
                    raise TemplateError(name, "wording may only extend other wording", node.lineno)
                if self._catalog.get(parent) is None:
                    raise TemplateError(name, f"extends {parent!r}, which does not exist", node.lineno)
                return parent
            raise TemplateError(name, "wording must name the template it extends as a constant", node.lineno)
        return None

    def _error(self, name: str) -> TemplateError:
        """The TemplateError for the exception being handled, located in its template source."""
        try:
            self._env.handle_exception()  # re-raises it with a traceback through template sources
        except Exception as exc:
            error = as_template_error(exc, name, self._names_by_file)
            error.__cause__ = exc
            return error
