"""The sandboxed Jinja environment notices are rendered in, and its errors as TemplateError.

Tenants write templates, so templates are untrusted code: they run in Jinja's
:class:`~jinja2.sandbox.ImmutableSandboxedEnvironment`, which refuses attributes starting with
``_`` and other internals (``''.__class__``, ``cycler.__init__.__globals__``), checks what
``str.format`` may reach, and forbids changing lists and dicts handed in. ``StrictUndefined``
makes a misspelt value an error rather than an empty gap in a customer's letter.

Templates named ``*.html`` are autoescaped, all others are plain text: ``Smith & <Sons>``
shows as written in an SMS and as ``Smith &amp; &lt;Sons&gt;`` in HTML. A block tag alone on
its line leaves no line behind (``trim_blocks``, ``lstrip_blocks``), which keeps plain-text
layouts readable.

Whatever goes wrong in a template (syntax, sandbox, unknown value, a failing filter) surfaces
as :class:`~pastdue.errors.TemplateError` naming the template and line where it happened,
found from the traceback Jinja rewrites to point into template sources.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Mapping
from datetime import date
from types import SimpleNamespace
from typing import Any

from jinja2 import (
    BaseLoader,
    BytecodeCache,
    StrictUndefined,
    Template,
    TemplateNotFound,
    TemplateSyntaxError,
    UndefinedError,
    pass_context,
)
from jinja2.bccache import Bucket
from jinja2.exceptions import SecurityError
from jinja2.runtime import Context
from jinja2.sandbox import ImmutableSandboxedEnvironment

from pastdue.core.money import Money
from pastdue.core.notice import NoticeDocument, NoticeLine, Party, Sender
from pastdue.errors import TemplateError
from pastdue.rendering.catalog import Catalog, Source
from pastdue.rendering.context import Row, Wording
from pastdue.rendering.formatting import DateStyle, format_date, format_money

_DATE_STYLES: frozenset[str] = frozenset({"short", "medium", "long", "full"})

PLAIN_VALUE_TYPES: frozenset[type] = frozenset(
    {Row, Wording, SimpleNamespace, NoticeDocument, NoticeLine, Party, Sender, Money}
)
"""Types whose public attributes templates may read without the sandbox's inspection (see NoticeSandbox)."""


def is_html(name: str | None) -> bool:
    return name is not None and name.endswith(".html")


class _CatalogLoader(BaseLoader):
    """Loads templates by name from a :class:`Catalog`: overrides first, then defaults."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        source = self._catalog.get(template)
        if source is None:
            raise TemplateNotFound(template)
        if source.error is not None:
            raise TemplateError(template, source.error)
        return source.text, source.filename, _always_fresh

    def list_templates(self) -> list[str]:
        return self._catalog.names()


def _always_fresh() -> bool:
    return True


class _MemoryBytecodeCache(BytecodeCache):
    """Compiled templates shared by every Renderer of the process, keyed by source checksum.

    Compiling the defaults costs tens of milliseconds; a service that builds a renderer per
    tenant or per batch pays it once. A changed source has another checksum and recompiles.
    """

    def __init__(self) -> None:
        self._store: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        data = self._store.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: Bucket) -> None:
        self._store[bucket.key] = bucket.bytecode_to_string()


_BYTECODE = _MemoryBytecodeCache()


@pass_context
def _money_filter(context: Context, value: object) -> str:
    if not isinstance(value, Money):
        raise TypeError(f"the money filter formats amounts, not {type(value).__name__}")
    return format_money(value, str(context.get("locale", "en")))


@pass_context
def _date_filter(context: Context, value: object, style: str = "medium") -> str:
    if not isinstance(value, date):
        raise TypeError(f"the date filter formats dates, not {type(value).__name__}")
    if style not in _DATE_STYLES:
        raise ValueError(f"date style must be one of {', '.join(sorted(_DATE_STYLES))}, not {style!r}")
    chosen: DateStyle = style  # type: ignore[assignment]
    return format_date(value, str(context.get("locale", "en")), chosen)


def _css_string(value: object) -> str:
    """Text made safe inside a double-quoted CSS string (the letter's page footer)."""
    text = str(value)
    return "".join(ch if ch.isalnum() or ch in " .,:;-–/()'" else f"\\{ord(ch):x} " for ch in text)


class NoticeSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox, with a shortcut for pastdue's own plain value types.

    The sandbox inspects every attribute a template reads (is it internal? does it change a
    known mutable type? is it ``str.format``?), which made up most of a notice's rendering
    time. The values pastdue builds for templates are frozen records whose public attributes
    are plain fields (and harmless methods of Money), so a public attribute read on exactly
    these types skips the inspection; whatever it returns is inspected as usual on its own
    next access. Attributes starting with ``_`` and every other type take the full check.
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) in PLAIN_VALUE_TYPES and not attribute.startswith("_"):
            try:
                return getattr(obj, attribute)
            except AttributeError:
                pass
        return super().getattr(obj, attribute)


def build_environment(catalog: Catalog) -> ImmutableSandboxedEnvironment:
    """A sandbox over the catalog's templates; templates compile on first use and stay cached."""
    env = NoticeSandbox(
        loader=_CatalogLoader(catalog),
        undefined=StrictUndefined,
        autoescape=is_html,
        auto_reload=False,
        cache_size=-1,
        trim_blocks=True,
        lstrip_blocks=True,
        bytecode_cache=_BYTECODE,
    )
    env.filters["money"] = _money_filter
    env.filters["date"] = _date_filter
    env.filters["css"] = _css_string
    return env


def compile_source(env: ImmutableSandboxedEnvironment, name: str, source: Source) -> Template:
    """A template from a given source, even one that an override shadows under its name."""
    if source.error is not None:
        raise TemplateError(name, source.error)
    try:
        code = env.compile(source.text, name, source.filename)
    except TemplateSyntaxError as exc:
        raise as_template_error(exc, name, {}) from None
    return env.template_class.from_code(env, code, env.make_globals(None))


def as_template_error(exc: BaseException, name: str, names_by_filename: Mapping[str, str]) -> TemplateError:
    """The TemplateError for an exception raised while loading or rendering template ``name``.

    ``names_by_filename`` maps source file names to template names, so that an error inside an
    included template or a wording block is reported where it is, not where rendering began.
    """
    if isinstance(exc, TemplateError):
        return exc
    if isinstance(exc, TemplateSyntaxError):
        return TemplateError(exc.name or name, f"syntax error: {exc.message}", exc.lineno)
    where, line = name, None
    for frame, lineno in traceback.walk_tb(exc.__traceback__):
        found = names_by_filename.get(frame.f_code.co_filename)
        if found is not None:
            where, line = found, lineno
    if isinstance(exc, SecurityError):
        message = f"not allowed in a template: {exc}"
    elif isinstance(exc, UndefinedError):
        message = f"unknown value: {exc}"
    elif isinstance(exc, TemplateNotFound):
        message = f"no template named {exc.name!r}"
    elif isinstance(exc, RecursionError):
        message = "recursion too deep"
    else:
        message = f"{type(exc).__name__}: {exc}"
    return TemplateError(where, message, line)
