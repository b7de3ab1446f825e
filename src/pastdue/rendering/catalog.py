"""Which templates exist, what they are called, and which one a notice uses.

Naming scheme
=============

A template's name is its path below the template folder, with forward slashes. The defaults
ship in ``pastdue/templates/``; a tenant's override folder holds files at the same relative
paths, and a file there replaces the default of the same name, one for one::

    email/subject.txt  email/body.txt  email/body.html    layouts: how a channel arranges a notice,
    sms/body.txt                                           shared by every language and level
    letter/subject.txt  letter/body.html  letter/style.css
    phone/title.txt  phone/body.txt

    labels/<lang>.txt               the fixed words of a language ("Due date", "IBAN", "Page", the
                                    sign-off), as ``{% set name = "..." %}`` lines; constant text
    wording/level-<N>.<lang>.txt    what level N says in a language, as blocks: subject, greeting,
                                    opening, request, closing, sms (the whole short message) and
                                    call (what a collector says on the phone)

Names ending in ``.html`` are HTML and escape every value they show; every other template is
plain text and escapes nothing. Wording is plain text even inside HTML (the layout escapes it),
so a block is one paragraph of words without markup; a layout is the place for markup.

Choosing the wording for a notice in language L at level N:

* L is the notice's language when some ``wording/level-*.L.txt`` exists (a default or an
  override), otherwise English;
* the level is the highest level defined for L that is not above N, so a policy of six levels
  speaks with the level-4 wording at levels 4, 5 and 6; a level below the lowest defined one
  (a pre-due nudge numbered 0, say) uses the lowest.

Labels for L are the English defaults, overlaid by the default labels of L, overlaid by the
override of ``labels/L.txt``: an override may change single labels, and a new language shows
English for any label it does not define.

Besides replacing defaults, an override folder may add levels (``wording/level-5.de.txt``),
languages (``labels/it.txt`` with ``wording/level-1.it.txt`` ...), and partial templates that
an overriding template includes or imports (``email/footer.txt``). Any other file overrides
nothing, and :func:`~pastdue.rendering.check_overrides` says so. Files and folders whose names
start with a dot are ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from pastdue.errors import ConfigurationError

DEFAULT_LANGUAGE = "en"

WORDING_NAME = re.compile(r"^wording/level-(?P<level>[0-9]{1,3})\.(?P<lang>[a-z]{2,3})\.txt$")
LABELS_NAME = re.compile(r"^labels/(?P<lang>[a-z]{2,3})\.txt$")


def wording_name(level: int, language: str) -> str:
    return f"wording/level-{level}.{language}.txt"


def labels_name(language: str) -> str:
    return f"labels/{language}.txt"


@dataclass(frozen=True, slots=True)
class Source:
    """One template file as read: its text, or why it could not be read."""

    text: str
    filename: str
    """Where it came from, shown in tracebacks and used to find the template of an error."""
    error: str | None = None


def _decode(data: bytes, filename: str) -> Source:
    try:
        return Source(data.decode("utf-8-sig"), filename)
    except UnicodeDecodeError as exc:
        return Source("", filename, f"not UTF-8 text ({exc.reason} at byte {exc.start})")


def _walk(folder: Traversable, prefix: str = "") -> Iterator[tuple[str, Traversable]]:
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.startswith(".") or entry.name in {"__pycache__", "__init__.py"}:
            continue
        if entry.is_dir():
            yield from _walk(entry, f"{prefix}{entry.name}/")
        elif entry.is_file():
            yield f"{prefix}{entry.name}", entry


@lru_cache(maxsize=1)
def default_sources() -> Mapping[str, Source]:
    """The templates shipped with pastdue, read once per process."""
    root = resources.files("pastdue").joinpath("templates")
    return {name: _decode(entry.read_bytes(), f"pastdue/templates/{name}") for name, entry in _walk(root)}


def read_folder(folder: Path) -> dict[str, Source]:
    """Every file of an override folder by template name; unreadable files carry their error."""
    if not folder.is_dir():
        raise ConfigurationError(f"template folder {folder} does not exist or is not a folder")
    found: dict[str, Source] = {}
    for name, entry in _walk(folder):
        path = folder / name
        try:
            found[name] = _decode(entry.read_bytes(), str(path))
        except OSError as exc:
            found[name] = Source("", str(path), f"cannot be read: {exc.strerror or exc}")
    return found


class Catalog:
    """The defaults and one tenant's overrides, and the choice of wording for a notice."""

    def __init__(self, overrides: Mapping[str, Source] | None = None) -> None:
        self.defaults: Mapping[str, Source] = default_sources()
        self.overrides: Mapping[str, Source] = dict(overrides or {})
        self._levels: dict[str, list[int]] = {}
        for name in (*self.defaults, *self.overrides):
            match = WORDING_NAME.match(name)
            if match:
                self._levels.setdefault(match["lang"], []).append(int(match["level"]))
        for levels in self._levels.values():
            levels[:] = sorted(set(levels))

    @classmethod
    def load(cls, override_dir: Path | None) -> Catalog:
        return cls(read_folder(override_dir) if override_dir is not None else None)

    def get(self, name: str) -> Source | None:
        """The effective source of a name: the override if there is one, else the default."""
        return self.overrides.get(name) or self.defaults.get(name)

    def names(self) -> list[str]:
        return sorted({*self.defaults, *self.overrides})

    def languages(self) -> list[str]:
        """Languages that have wording, default or override."""
        return sorted(self._levels)

    def levels(self, language: str) -> list[int]:
        return list(self._levels.get(language, ()))

    def language_for(self, language: str) -> str:
        """The notice's language if it has wording, else English (see the module docstring)."""
        code = language.strip().lower().replace("-", "_").split("_")[0]
        return code if code in self._levels else DEFAULT_LANGUAGE

    def wording_for(self, language: str, level: int) -> str:
        """The wording template for a language that has wording: highest level not above ``level``."""
        levels = self._levels[language]
        chosen = levels[0]
        for defined in levels:
            if defined > level:
                break
            chosen = defined
        return wording_name(chosen, language)

    def label_layers(self, language: str) -> list[tuple[str, Source]]:
        """The label sources overlaid for a language, in order: later layers win."""
        layers = [(labels_name(DEFAULT_LANGUAGE), self.defaults[labels_name(DEFAULT_LANGUAGE)])]
        name = labels_name(language)
        if language != DEFAULT_LANGUAGE and name in self.defaults:
            layers.append((name, self.defaults[name]))
        if name in self.overrides:
            layers.append((name, self.overrides[name]))
        return layers
