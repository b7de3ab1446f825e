"""check_overrides: every problem in a tenant's template folder, found before a customer sees it.

A folder is checked in two passes:

1. each file on its own: readable as UTF-8, a name that overrides or adds something (see the
   naming scheme in :mod:`pastdue.rendering.catalog`), valid Jinja syntax, only names that a
   template of its kind can use (found statically, so a branch the sample never takes is
   checked too), no ``_`` attributes, wording with every block, labels of constant text, and
   a new language with all its labels;
2. the whole set: every channel, at every level and in every language that the folder and
   the defaults define, rendered against :func:`~pastdue.rendering.sample_document` and
   against a variant with every optional value left empty, one layout at a time so that one
   failing template hides no other. This finds what only running can: sandbox refusals,
   unknown attributes, filters given the wrong kind of value.

A file "overrides nothing" when its name is not a default template, not a wording or labels
file (those may add levels and languages), and no template in effect includes, imports or
extends it.

Each problem names the file to fix (``source``, relative to the folder) and its line. When a
default template fails only because of an override (a layout asking a tenant's wording for a
block it lacks), the problem is laid at the override's door, with ``field`` naming the
template where it surfaced; it is left out when that file already has a problem of its own,
which is then the one to fix. A file and line is reported once, however many renderings
stumble on it.
"""

from __future__ import annotations

from pathlib import Path

from jinja2 import TemplateSyntaxError, meta, nodes

from pastdue.errors import ConfigurationError, Problem, TemplateError
from pastdue.rendering.catalog import DEFAULT_LANGUAGE, LABELS_NAME, WORDING_NAME, Catalog, labels_name
from pastdue.rendering.context import NOTICE_NAMES
from pastdue.rendering.renderer import CHANNEL_TEMPLATES, CHANNELS, WORDING_BLOCKS, Renderer
from pastdue.rendering.samples import minimal_document, sample_document

_STANDARD_LEVELS = (1, 2, 3, 4)


def check_overrides(folder: Path) -> list[Problem]:
    """Every problem of the override folder at once, sorted by file and line; empty when all is well."""
    try:
        renderer = Renderer(folder)
    except ConfigurationError as exc:
        return [Problem(str(folder), None, None, str(exc))]
    found = _Problems()
    catalog = renderer.catalog
    trees: dict[str, nodes.Template] = {}
    for name, source in catalog.overrides.items():
        if source.error is not None:
            found.add(name, None, source.error)
            continue
        try:
            trees[name] = renderer.environment.parse(source.text, name, source.filename)
        except TemplateSyntaxError as exc:
            found.add(name, exc.lineno, f"syntax error: {exc.message}")
    referenced = _referenced(renderer, catalog, trees)
    for name in catalog.overrides:
        if not _adds_or_replaces(catalog, name, referenced):
            found.add(name, None, "overrides no template, and no template includes, imports or extends it")
    for name, tree in trees.items():
        _check_tree(found, renderer, name, tree)
    _check_languages(found, renderer)
    _render_everything(found, renderer)
    return found.sorted()


class _Problems:
    """The problems found so far, at most one per file and line."""

    def __init__(self) -> None:
        self._found: dict[tuple[str, int | None, str], Problem] = {}

    def add(self, source: str, line: int | None, message: str, field: str | None = None) -> None:
        key = (source, line, "" if line is not None else f"{field}:{message}")
        if key not in self._found:
            self._found[key] = Problem(source, line, field, message)

    def has(self, source: str) -> bool:
        return any(key[0] == source for key in self._found)

    def sorted(self) -> list[Problem]:
        return sorted(self._found.values(), key=lambda p: (p.source, p.line or 0, p.field or "", p.message))


def _referenced(renderer: Renderer, catalog: Catalog, trees: dict[str, nodes.Template]) -> set[str]:
    """Names that some template in effect includes, imports or extends by a constant name."""
    names: set[str] = set()
    for name in catalog.names():
        tree = trees.get(name)
        if tree is None and name not in catalog.overrides:
            source = catalog.defaults[name]
            tree = renderer.environment.parse(source.text, name, source.filename)
        if tree is not None:
            names.update(ref for ref in meta.find_referenced_templates(tree) if ref is not None)
    return names


def _adds_or_replaces(catalog: Catalog, name: str, referenced: set[str]) -> bool:
    return bool(name in catalog.defaults or WORDING_NAME.match(name) or LABELS_NAME.match(name) or name in referenced)


def _allowed_names(name: str) -> frozenset[str] | None:
    """The names a template of this kind can use; None for labels, which must be constant."""
    if LABELS_NAME.match(name):
        return None
    if WORDING_NAME.match(name):
        return NOTICE_NAMES
    return NOTICE_NAMES | {"w", "subject"}


def _references(tree: nodes.Template) -> list[nodes.Extends | nodes.Include | nodes.Import | nodes.FromImport]:
    return [*tree.find_all((nodes.Extends, nodes.Include, nodes.Import, nodes.FromImport))]  # type: ignore[list-item]


def _check_tree(found: _Problems, renderer: Renderer, name: str, tree: nodes.Template) -> None:
    catalog = renderer.catalog
    for getattr_node in tree.find_all(nodes.Getattr):
        if getattr_node.attr.startswith("_"):
            message = f"not allowed in a template: attribute {getattr_node.attr!r} starts with '_'"
            found.add(name, getattr_node.lineno, message)
    for reference in _references(tree):
        target = reference.template
        if isinstance(target, nodes.Const) and isinstance(target.value, str) and catalog.get(target.value) is None:
            found.add(name, reference.lineno, f"no template named {target.value!r}")
    allowed = _allowed_names(name)
    known = set(renderer.environment.globals) | (allowed or set())
    unknown = meta.find_undeclared_variables(tree) - known
    for node in tree.find_all(nodes.Name):
        if node.ctx == "load" and node.name in unknown:
            unknown.discard(node.name)
            if allowed is None:
                found.add(name, node.lineno, f"labels are constant text: {node.name!r} is not available here")
            else:
                found.add(name, node.lineno, f"unknown value: {node.name!r} is not a name templates can use")
    if WORDING_NAME.match(name) and not any(True for _ in tree.find_all(nodes.Extends)):
        defined = {block.name for block in tree.find_all(nodes.Block)}
        missing = [block for block in WORDING_BLOCKS if block not in defined]
        if missing:
            found.add(name, None, f"the wording lacks the block(s) {', '.join(missing)}")


def _assigned(tree: nodes.Template) -> set[str]:
    return {node.target.name for node in tree.find_all(nodes.Assign) if isinstance(node.target, nodes.Name)}


def _check_languages(found: _Problems, renderer: Renderer) -> None:
    """A language the folder adds needs level-1 wording and a full set of labels."""
    catalog, env = renderer.catalog, renderer.environment
    english = _assigned(env.parse(catalog.defaults[labels_name(DEFAULT_LANGUAGE)].text))
    added = set(catalog.languages()) - _default_languages(catalog)
    for language in sorted(added):
        levels = catalog.levels(language)
        first = catalog.wording_for(language, levels[0])
        if levels[0] > 1:
            found.add(first, None, f"{language!r} has no level-1 wording; lower levels will use level {levels[0]}")
        labels = labels_name(language)
        source = catalog.overrides.get(labels)
        if source is None:
            found.add(first, None, f"{language!r} has no {labels}: its notices will show English labels")
        elif source.error is None:
            try:
                missing = sorted(english - _assigned(env.parse(source.text)))
            except TemplateSyntaxError:
                continue  # reported as a syntax error already
            if missing:
                found.add(labels, None, f"labels missing, shown in English: {', '.join(missing)}")


def _default_languages(catalog: Catalog) -> set[str]:
    return {match["lang"] for name in catalog.defaults if (match := WORDING_NAME.match(name))}


def _levels(catalog: Catalog) -> list[int]:
    levels = set(_STANDARD_LEVELS)
    for language in catalog.languages():
        levels.update(catalog.levels(language))
    return sorted(levels)


def _render_everything(found: _Problems, renderer: Renderer) -> None:
    catalog = renderer.catalog
    static = {name for name in catalog.overrides if found.has(name)}
    for language in catalog.languages():
        for level in _levels(catalog):
            spoken, wording = renderer.choose(language, level)
            suspects = [wording, labels_name(spoken)]
            for channel in CHANNELS:
                for doc in (sample_document(channel, level, language), minimal_document(channel, level, language)):
                    try:
                        context = renderer.context(doc)
                    except TemplateError as exc:
                        _blame(found, catalog, static, exc, suspects)
                        continue
                    for _field, name in CHANNEL_TEMPLATES[channel]:
                        try:
                            renderer.render_template(name, context)
                        except TemplateError as exc:
                            _blame(found, catalog, static, exc, suspects)


def _blame(found: _Problems, catalog: Catalog, static: set[str], error: TemplateError, suspects: list[str]) -> None:
    """Record a rendering failure against the override file that has to change."""
    message = _message(error)
    if any(name in static and name in message for name in suspects):
        return  # e.g. "wording/level-2.nl.txt has no block 'sms'": reported on that file already
    if error.name in catalog.overrides:
        found.add(error.name, error.line, message)
        return
    culprit = next((name for name in suspects if name in catalog.overrides), None)
    if culprit is None:
        found.add(error.name, error.line, message)  # a default failing on its own: a bug in pastdue
    elif culprit not in static:
        where = error.name if error.line is None else f"{error.name}:{error.line}"
        found.add(culprit, None, f"the default template {where} fails with it: {message}", field=error.name)


def _message(error: TemplateError) -> str:
    """The error's message without the ``name:line:`` prefix that the Problem carries separately."""
    prefix = error.name if error.line is None else f"{error.name}:{error.line}"
    return str(error).removeprefix(prefix + ": ")
